// The Filters control: a round button (accessible name "Filters") that opens
// a menu of the filters as radio items, named as in catalog.ts, the chosen
// one checked. Used over the pre-join preview and in the call's control bar.
// Keyboard: arrows, Home/End move; Enter/Space choose; Escape and Tab close.
import "./filters.css";
import type { LocalMedia } from "../call/media";
import { h } from "../ui/dom";
import { icon } from "../ui/icons";
import { toast } from "../ui/toast";
import { FILTERS, type FilterId, filterName } from "./catalog";

export interface FiltersControl {
  el: HTMLElement;
  destroy(): void;
}

let nextId = 0;

export function filtersControl(media: LocalMedia): FiltersControl {
  const menuId = `filters-menu-${nextId++}`;
  const button = h(
    "button",
    {
      class: "ctl filters-button",
      attrs: { type: "button", "aria-label": "Filters", "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": menuId },
    },
    icon("filter"),
  );
  const items = FILTERS.map((f) =>
    h(
      "button",
      { class: "filters-item", attrs: { type: "button", role: "menuitemradio", "aria-checked": "false", tabindex: "-1", "data-filter": f.id } },
      h("span", { class: `filters-swatch filters-swatch-${f.id}`, attrs: { "aria-hidden": "true" } }),
      h("span", { class: "filters-item-name" }, f.name),
      // The check mark and the loading spinner stay out of the accessible name.
      h("span", { class: "filters-item-mark", attrs: { "aria-hidden": "true" } }),
    ),
  );
  const status = h("p", { class: "filters-status", attrs: { role: "status" } });
  const menu = h(
    "div",
    { class: "filters-menu", attrs: { id: menuId, role: "menu", "aria-label": "Filters", hidden: true } },
    ...items,
    status,
  );
  const el = h("div", { class: "filters-control" }, button, menu);

  const isOpen = () => !menu.hidden;
  const focusItem = (i: number) => items[(i + items.length) % items.length].focus();

  function open(): void {
    if (isOpen()) return;
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    place();
    focusItem(Math.max(0, FILTERS.findIndex((f) => f.id === media.filter.choice)));
    document.addEventListener("pointerdown", onOutside, true);
    addEventListener("resize", place);
  }

  function close(refocus: boolean): void {
    if (!isOpen()) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside, true);
    removeEventListener("resize", place);
    if (refocus) button.focus();
  }

  // The menu is fixed to the viewport above the button (or below it when
  // there is no room), so no parent's overflow clips it.
  function place(): void {
    menu.style.maxHeight = "";
    const r = button.getBoundingClientRect();
    const m = menu.getBoundingClientRect();
    const left = Math.min(Math.max(8, r.left + r.width / 2 - m.width / 2), innerWidth - m.width - 8);
    const roomAbove = r.top - 16, roomBelow = innerHeight - r.bottom - 16;
    const up = m.height <= roomAbove || roomAbove >= roomBelow;
    const height = Math.min(m.height, up ? roomAbove : roomBelow);
    menu.style.maxHeight = `${Math.max(0, Math.floor(height))}px`;
    menu.style.left = `${Math.round(left)}px`;
    menu.style.top = `${Math.round(up ? r.top - 8 - height : r.bottom + 8)}px`;
  }

  function onOutside(ev: PointerEvent): void {
    if (!el.contains(ev.target as Node)) close(false);
  }

  function choose(id: FilterId): void {
    media.setFilter(id);
    close(true);
  }

  button.addEventListener("click", () => (isOpen() ? close(true) : open()));
  button.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      open();
    }
  });
  items.forEach((item, i) => {
    const id = FILTERS[i].id;
    item.addEventListener("click", () => choose(id));
    item.addEventListener("keydown", (ev) => {
      const keys: Record<string, () => void> = {
        ArrowDown: () => focusItem(i + 1),
        ArrowUp: () => focusItem(i - 1),
        ArrowRight: () => focusItem(i + 1),
        ArrowLeft: () => focusItem(i - 1),
        Home: () => focusItem(0),
        End: () => focusItem(items.length - 1),
        Escape: () => close(true),
      };
      if (ev.key === "Tab") close(false);
      const k = keys[ev.key];
      if (k) {
        ev.preventDefault();
        k();
      }
    });
  });

  let lastError: string | null = null;
  function refresh(): void {
    const f = media.filter;
    for (const [i, item] of items.entries()) {
      const on = FILTERS[i].id === f.choice;
      item.setAttribute("aria-checked", String(on));
      item.classList.toggle("loading", FILTERS[i].id === "background-blur" && f.segmenterState === "loading");
    }
    const on = f.choice !== "none";
    button.classList.toggle("ctl-active", on);
    button.title = on ? `Filters: ${filterName(f.choice)}` : "Filters";
    button.disabled = !media.camera;
    status.textContent =
      f.error ?? (f.choice === "background-blur" && f.segmenterState === "loading" ? "Starting background blur…" : "");
    if (f.error && f.error !== lastError) toast(f.error, 5000);
    lastError = f.error;
  }

  const unsubscribe = [media.onChange(refresh), media.filter.onChange(refresh)];
  refresh();
  return {
    el,
    destroy() {
      close(false);
      for (const u of unsubscribe) u();
    },
  };
}
