import { h } from "./dom";
import { brand } from "./brand";

// renderLeft is the screen after Leave: Rejoin or go Home.
export function renderLeft(root: HTMLElement, onRejoin: () => void, onHome: () => void): void {
  root.replaceChildren(
    h(
      "div",
      { class: "page message-page" },
      h("header", { class: "topbar" }, brand()),
      h(
        "main",
        { class: "message" },
        h("h1", {}, "You left the meeting"),
        h("div", { class: "message-actions" },
          h("button", { class: "btn btn-outline", attrs: { type: "button" }, on: { click: onRejoin } }, "Rejoin"),
          h("button", { class: "btn btn-primary", attrs: { type: "button" }, on: { click: onHome } }, "Home"),
        ),
      ),
    ),
  );
}
