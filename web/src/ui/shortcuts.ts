// Keyboard shortcuts of the call, as in Google Meet: Ctrl+D (⌘+D on a Mac)
// turns the microphone on or off, Ctrl+E (⌘+E) the camera — the browser's
// own meaning of those keys (bookmark, search bar) is prevented — and `?`
// opens the "Keyboard shortcuts" dialog listing them. Nothing happens while
// the focus is in a text field or an editor (chat, notes, code), so typing
// there is never taken for a shortcut.
import { h } from "./dom";

export interface ShortcutActions {
  toggleMic(): void;
  toggleCamera(): void;
  showHelp(): void;
}

const isMac = (): boolean => /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

// shortcutList: what the dialog lists (keys as shown on this platform).
export function shortcutList(): Array<{ keys: string[]; what: string }> {
  const mod = isMac() ? "⌘" : "Ctrl";
  return [
    { keys: [mod, "D"], what: "Turn microphone on or off" },
    { keys: [mod, "E"], what: "Turn camera on or off" },
    { keys: ["?"], what: "Show keyboard shortcuts" },
  ];
}

// typing: whether a key pressed at target belongs to text entry.
export function typing(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='textbox'], .cm-editor")) {
    // Buttons-like inputs (checkbox, radio, range) are not typing.
    if (target instanceof HTMLInputElement) return !["checkbox", "radio", "range", "button", "submit", "reset", "color", "file"].includes(target.type);
    return true;
  }
  return (target as HTMLElement).isContentEditable === true;
}

// installShortcuts listens on document; returns the function that stops it.
export function installShortcuts(actions: ShortcutActions): () => void {
  const onKey = (ev: KeyboardEvent) => {
    if (ev.defaultPrevented || ev.isComposing || typing(ev.target)) return;
    const mod = ev.ctrlKey || ev.metaKey;
    const key = ev.key.toLowerCase();
    if (mod && !ev.altKey && !ev.shiftKey && (key === "d" || key === "e")) {
      ev.preventDefault(); // Ctrl+D bookmarks, Ctrl+E focuses the search bar
      if (ev.repeat) return;
      if (key === "d") actions.toggleMic();
      else actions.toggleCamera();
    } else if (ev.key === "?" && !mod && !ev.altKey) {
      ev.preventDefault();
      actions.showHelp();
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}

// shortcutsDialog: the modal "Keyboard shortcuts" dialog.
export function shortcutsDialog(): { el: HTMLDialogElement; open(): void; destroy(): void } {
  const title = h("h2", { class: "dialog-title", attrs: { id: "shortcuts-title" } }, "Keyboard shortcuts");
  const list = h(
    "dl",
    { class: "shortcut-list" },
    ...shortcutList().flatMap((s) => [
      h("dt", {}, ...s.keys.flatMap((k, i) => [i > 0 ? " + " : "", h("kbd", {}, k)])),
      h("dd", {}, s.what),
    ]),
  );
  const note = h("p", { class: "dialog-note" }, "Shortcuts do nothing while you type in the chat, notes or code.");
  const done = h("button", { class: "btn btn-primary", attrs: { type: "submit" } }, "Close");
  const el = h(
    "dialog",
    { class: "dialog shortcuts-dialog", attrs: { "aria-labelledby": "shortcuts-title" } },
    h("form", { attrs: { method: "dialog" } }, title, list, note, h("div", { class: "dialog-actions" }, done)),
  );
  return {
    el,
    open() {
      if (!el.open) el.showModal();
    },
    destroy() {
      if (el.open) el.close();
    },
  };
}
