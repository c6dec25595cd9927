import { h } from "./dom";
import { brand } from "./brand";

// renderMessage is a full-page message (unknown meeting, errors) with a link home.
export function renderMessage(root: HTMLElement, title: string, detail: string): void {
  root.replaceChildren(
    h(
      "div",
      { class: "page message-page" },
      h("header", { class: "topbar" }, brand()),
      h(
        "main",
        { class: "message" },
        h("h1", {}, title),
        h("p", {}, detail),
        h("a", { class: "btn btn-primary", attrs: { href: "/" } }, "Go to the home page"),
      ),
    ),
  );
}
