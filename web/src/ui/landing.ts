// The landing page: start a new meeting, or open one by code or link.
import { createMeeting } from "../api";
import { h } from "./dom";
import { icon } from "./icons";
import { brand } from "./brand";

export function renderLanding(root: HTMLElement, navigate: (path: string) => void): void {
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const newButton = h(
    "button",
    {
      class: "btn btn-primary btn-large",
      attrs: { type: "button" },
      on: {
        click: async () => {
          newButton.disabled = true;
          error.textContent = "";
          try {
            const m = await createMeeting();
            navigate(`/m/${m.id}`);
          } catch (e) {
            error.textContent = `Could not create a meeting: ${e instanceof Error ? e.message : String(e)}`;
            newButton.disabled = false;
          }
        },
      },
    },
    icon("videoCall"),
    "New meeting",
  );
  const codeInput = h("input", {
    class: "text-input",
    attrs: { type: "text", placeholder: "Enter a code or link", "aria-label": "Meeting code or link", autocomplete: "off" },
  });
  const joinButton = h("button", { class: "btn btn-text", attrs: { type: "submit", disabled: true } }, "Join");
  codeInput.addEventListener("input", () => (joinButton.disabled = codeInput.value.trim() === ""));
  const form = h(
    "form",
    {
      class: "code-form",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          const id = meetingIdFromInput(codeInput.value);
          if (id) navigate(`/m/${id}`);
        },
      },
    },
    h("span", { class: "input-icon" }, icon("keyboard")),
    codeInput,
    joinButton,
  );

  root.replaceChildren(
    h(
      "div",
      { class: "page landing" },
      h("header", { class: "topbar" }, brand()),
      h(
        "main",
        { class: "landing-main" },
        h(
          "section",
          { class: "landing-copy" },
          h("h1", {}, "Video meetings on your own server"),
          h("p", { class: "lede" }, "Open a link, see and hear everyone, share your screen. No account, no app to install."),
          h("div", { class: "landing-actions" }, newButton, form),
          error,
        ),
        h("section", { class: "landing-art", attrs: { "aria-hidden": "true" } }, landingArt()),
      ),
    ),
  );
}

// meetingIdFromInput accepts a bare id or any URL containing /m/<id>.
export function meetingIdFromInput(text: string): string {
  const t = text.trim();
  const m = /\/m\/([A-Za-z0-9_-]+)/.exec(t);
  if (m) return m[1];
  return /^[A-Za-z0-9_-]+$/.test(t) ? t : "";
}

function landingArt(): HTMLElement {
  // A small illustration of a call grid, drawn with plain elements.
  const names = ["AL", "JO", "MK", "SR"];
  return h(
    "div",
    { class: "art-grid" },
    ...names.map((n, i) => h("div", { class: `art-tile art-tile-${i}` }, h("span", { class: "art-avatar" }, n))),
  );
}
