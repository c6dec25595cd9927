import { h } from "./dom";
import { brand } from "./brand";

export interface MessageAction {
  label: string;
  onClick: () => void;
  primary?: boolean;
}

// renderMessage is a full-page message (unknown meeting, errors) with a link
// home, or with the given actions instead.
export function renderMessage(root: HTMLElement, title: string, detail: string, actions?: MessageAction[], iconEl?: Element): void {
  const buttons = actions?.length
    ? h(
        "div",
        { class: "message-actions" },
        ...actions.map((a) => h("button", { class: `btn ${a.primary ? "btn-primary" : "btn-outline"}`, attrs: { type: "button" }, on: { click: a.onClick } }, a.label)),
      )
    : h("a", { class: "btn btn-primary", attrs: { href: "/" } }, "Go to the home page");
  root.replaceChildren(
    h(
      "div",
      { class: "page message-page" },
      h("header", { class: "topbar" }, brand()),
      h(
        "main",
        { class: "message" },
        iconEl ? h("div", { class: "message-icon", attrs: { "aria-hidden": "true" } }, iconEl) : null,
        h("h1", {}, title),
        detail ? h("p", {}, detail) : null,
        buttons,
      ),
    ),
  );
}
