// DocsDock puts the shared documents on a screen: the Notes and Code
// buttons (control-bar toggles in the call, plain buttons on the pre-join
// and "You left" pages) and the side panel of the one that is open. A
// panel is built the first time it is opened (that also starts the
// documents' connection) and kept, hidden, when closed or switched, so the
// editor keeps its place. The panel's code (CodeMirror, the Markdown
// renderer) is loaded then too, not with the page.
import { h } from "../ui/dom";
import { icon } from "../ui/icons";
import type { NotesClient } from "./client";
import type { DocPanel } from "./panel";

type Kind = "notes" | "code";

export interface DocsDockOptions {
  client: NotesClient;
  mode: "call" | "page";
  // Runs after a panel opened or closed (the call re-lays its tiles).
  onToggle?: () => void;
}

export class DocsDock {
  readonly buttons: Record<Kind, HTMLButtonElement>;
  readonly el: HTMLElement; // where the panels go
  private readonly panels = new Map<Kind, DocPanel>();
  private open: Kind | null = null;
  private loading: HTMLElement | null = null;
  private destroyed = false;

  constructor(private readonly opts: DocsDockOptions) {
    this.el = h("div", { class: `docs-dock docs-dock-${opts.mode}`, attrs: { hidden: true } });
    const button = (kind: Kind, label: string) =>
      opts.mode === "call"
        ? h("button", { class: "ctl doc-toggle", attrs: { type: "button", "aria-label": label, title: label, "aria-pressed": "false" }, on: { click: () => this.toggle(kind) } }, icon(kind))
        : h("button", { class: "btn btn-outline doc-toggle", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => this.toggle(kind) } }, icon(kind, 18), h("span", {}, label));
    this.buttons = { notes: button("notes", "Notes"), code: button("code", "Code") };
  }

  isOpen(): boolean {
    return this.open !== null;
  }

  toggle(kind: Kind): void {
    this.setOpen(this.open === kind ? null : kind);
  }

  setOpen(kind: Kind | null): void {
    const was = this.open;
    this.open = kind;
    if (kind && !this.panels.has(kind)) {
      this.opts.client.start();
      if (!this.loading) {
        this.loading = h("div", { class: "doc-panel doc-loading" }, h("p", { class: "doc-empty" }, "Loading…"));
        this.el.append(this.loading);
      }
      void import("./panel").then(
        ({ DocPanel }) => {
          if (this.destroyed || this.panels.has(kind)) return;
          const panel = new DocPanel({ client: this.opts.client, kind, mode: this.opts.mode, onClose: () => this.close() });
          this.panels.set(kind, panel);
          this.el.append(panel.el);
          if (this.open === kind) this.setOpen(kind);
          else panel.el.hidden = true;
        },
        (e: unknown) => console.warn("huddle: notes panel", e),
      );
    }
    if (this.loading) this.loading.hidden = !kind || this.panels.has(kind);
    for (const [k, p] of this.panels) p.el.hidden = k !== kind;
    this.el.hidden = kind === null;
    for (const k of ["notes", "code"] as const) {
      this.buttons[k].setAttribute("aria-pressed", String(k === kind));
      this.buttons[k].classList.toggle("ctl-active", k === kind && this.opts.mode === "call");
      if (this.panels.has(k)) this.buttons[k].setAttribute("aria-controls", this.panels.get(k)!.id);
    }
    if (kind) this.panels.get(kind)?.focus();
    if (was !== kind) this.opts.onToggle?.();
  }

  destroy(): void {
    this.destroyed = true;
    for (const p of this.panels.values()) p.destroy();
    this.panels.clear();
  }

  private close(): void {
    const was = this.open;
    this.setOpen(null);
    if (was) this.buttons[was].focus();
  }
}
