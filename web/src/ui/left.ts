import type { ChatClient } from "../chat/client";
import type { NotesClient } from "../notes/client";
import { DocsDock } from "../notes/dock";
import { RecordingsPanel, recordingsButton } from "../recording/panel";
import type { Uploader } from "../recording/uploader";
import { ChatPanel } from "./chat";
import { h } from "./dom";
import { brand } from "./brand";

export interface LeftView {
  destroy(): void;
}

// renderLeft is the screen after Leave: Rejoin or go Home, and beside them
// the meeting's chat (read and write, as on the pre-join page) when the page
// has one, the Notes and Code buttons for the shared documents, and the
// Recordings button (the meeting's recordings; one just made goes on
// uploading here). name is the name the user had in the call; posts and
// edits go out under it.
export function renderLeft(
  root: HTMLElement,
  onRejoin: () => void,
  onHome: () => void,
  chat?: ChatClient | null,
  name = "",
  notes?: NotesClient | null,
  uploader?: Uploader | null,
  meetingId = "",
): LeftView {
  const chatPanel = chat ? new ChatPanel({ chat, mode: "page", getName: () => name }) : null;
  notes?.setName(name);
  const docs = notes ? new DocsDock({ client: notes, mode: "page" }) : null;
  const recordings = uploader && meetingId ? new RecordingsPanel({ meetingId, uploader, mode: "page", onClose: () => recordingsOpen?.sync() }) : null;
  const recordingsOpen = recordings ? recordingsButton(recordings, "page") : null;
  root.replaceChildren(
    h(
      "div",
      { class: "page message-page left-page" },
      h("header", { class: "topbar" }, brand()),
      h(
        "div",
        { class: "page-body" },
        h(
          "main",
          { class: "message" },
          h("h1", {}, "You left the meeting"),
          h("div", { class: "message-actions" },
            h("button", { class: "btn btn-outline", attrs: { type: "button" }, on: { click: onRejoin } }, "Rejoin"),
            h("button", { class: "btn btn-primary", attrs: { type: "button" }, on: { click: onHome } }, "Home"),
          ),
          docs ? h("div", { class: "doc-buttons", attrs: { role: "group", "aria-label": "Shared documents" } }, docs.buttons.notes, docs.buttons.code) : null,
          recordingsOpen ? h("div", { class: "rec-open-row" }, recordingsOpen.el) : null,
        ),
        chatPanel?.el,
        docs?.el,
      ),
      recordings?.el,
    ),
  );
  return {
    destroy() {
      chatPanel?.destroy();
      docs?.destroy();
      recordings?.destroy();
    },
  };
}
