import { h } from "./dom";

// toast shows a short message at the bottom of the screen (role=status, so
// screen readers announce it).
let region: HTMLElement | null = null;

export function toast(message: string, ms = 3000): void {
  if (!region || !region.isConnected) {
    region = h("div", { class: "toast-region", attrs: { role: "status", "aria-live": "polite" } });
    document.body.appendChild(region);
  }
  const el = h("div", { class: "toast" }, message);
  region.appendChild(el);
  setTimeout(() => {
    el.classList.add("toast-out");
    setTimeout(() => el.remove(), 300);
  }, ms);
}
