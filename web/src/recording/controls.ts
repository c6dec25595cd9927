// The call's recording controls: the Record button with its menu of kinds
// (My camera, My screen, Whole meeting), which reads "Stop recording" while
// we record, and the "Recording" indicator everyone sees with the names of
// whoever records (MediaState.recording of each participant, ours included).
import type { CallSession } from "../call/session";
import { RecordingKind } from "../proto";
import { h, setText } from "../ui/dom";
import { icon, setIcon, type IconName } from "../ui/icons";
import { recordingSupported, type Recorder } from "./recorder";

const KINDS: Array<{ kind: RecordingKind; label: string; icon: IconName }> = [
  { kind: RecordingKind.CAMERA, label: "My camera", icon: "videocam" },
  { kind: RecordingKind.SCREEN, label: "My screen", icon: "screenShare" },
  { kind: RecordingKind.MEETING, label: "Whole meeting", icon: "gridView" },
];

export interface RecordControl {
  el: HTMLElement;
  destroy(): void;
}

// recordControl: onError shows why a recording could not start.
export function recordControl(recorder: Recorder, onError: (message: string) => void): RecordControl {
  const button = h("button", { class: "ctl rec-button", attrs: { type: "button", "aria-haspopup": "menu", "aria-expanded": "false" } }, icon("record"));
  const items = KINDS.map(({ kind, label, icon: name }) =>
    h(
      "button",
      {
        class: "rec-menu-item",
        attrs: { type: "button", role: "menuitem", tabindex: -1 },
        on: {
          click: () => {
            close(false);
            recorder.start(kind).catch((e: unknown) => onError(e instanceof Error ? e.message : String(e)));
          },
        },
      },
      icon(name, 20),
      h("span", {}, label),
    ),
  );
  if (!navigator.mediaDevices || !("getDisplayMedia" in navigator.mediaDevices)) items[1].hidden = true;
  const menu = h("div", { class: "rec-menu", attrs: { role: "menu", "aria-label": "Record", hidden: true } }, ...items);
  const el = h("div", { class: "rec-control" }, button, menu);

  const visible = () => items.filter((i) => !i.hidden);
  function open(): void {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    visible()[0]?.focus();
    document.addEventListener("pointerdown", onOutside, true);
  }
  function close(focusButton: boolean): void {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside, true);
    if (focusButton) button.focus();
  }
  function onOutside(ev: Event): void {
    if (!el.contains(ev.target as Node)) close(false);
  }
  menu.addEventListener("keydown", (ev) => {
    const list = visible();
    const i = list.indexOf(document.activeElement as HTMLButtonElement);
    if (ev.key === "Escape") close(true);
    else if (ev.key === "ArrowDown") list[(i + 1) % list.length]?.focus();
    else if (ev.key === "ArrowUp") list[(i - 1 + list.length) % list.length]?.focus();
    else if (ev.key === "Home") list[0]?.focus();
    else if (ev.key === "End") list[list.length - 1]?.focus();
    else if (ev.key === "Tab") close(false);
    else return;
    ev.preventDefault();
  });
  button.addEventListener("click", () => {
    if (recorder.state === "recording") void recorder.stop();
    else if (menu.hidden) open();
    else close(false);
  });

  const supported = recordingSupported();
  const sync = () => {
    const on = recorder.state === "recording" || recorder.state === "stopping";
    const label = on ? "Stop recording" : supported ? "Record" : "Record (not supported by this browser)";
    button.setAttribute("aria-label", label);
    button.title = label;
    button.classList.toggle("ctl-danger", on);
    button.toggleAttribute("aria-haspopup", !on);
    button.disabled = !supported || recorder.state === "starting" || recorder.state === "stopping";
    setIcon(button, on ? "stop" : "record");
    if (on && !menu.hidden) close(false);
  };
  const unsubscribe = recorder.onChange(sync);
  sync();
  return {
    el,
    destroy() {
      unsubscribe();
      document.removeEventListener("pointerdown", onOutside, true);
    },
  };
}

export interface RecordingIndicator {
  el: HTMLElement;
  refresh(): void;
}

// recordingIndicator: "Recording · Ada, Bob" while anyone in the call records.
export function recordingIndicator(session: CallSession): RecordingIndicator {
  const names = h("span", { class: "rec-indicator-names" });
  const el = h(
    "div",
    { class: "rec-indicator", attrs: { role: "status", hidden: true } },
    h("span", { class: "rec-dot", attrs: { "aria-hidden": "true" } }),
    h("strong", {}, "Recording"),
    names,
  );
  const refresh = () => {
    const who = [...session.participants.values()]
      .filter((p) => p.media.recording)
      .map((p) => p.displayName || "Guest")
      .sort((a, b) => a.localeCompare(b));
    if (session.recording) who.unshift(`${session.displayName} (you)`);
    el.hidden = who.length === 0;
    setText(names, who.length ? ` · ${who.join(", ")}` : "");
    el.title = who.length ? `Recording: ${who.join(", ")}` : "";
  };
  refresh();
  return { el, refresh };
}
