// Hosts and everyone in the call (issue 11): the Waiting room panel (hosts;
// opens by itself with a short sound when someone arrives), the Raised hands
// list, Raise hand / Lower hand, the Reactions menu, the Meeting settings
// dialog (hosts) and the host's menu on each tile. Every action is checked by
// the server; these only ask.
import { AccessMode, ModerationAction, Role, type WaitingParticipant } from "../proto";
import { REACTION_EMOJI, type CallSession } from "../call/session";
import { RequestError } from "../signaling/client";
import { h, initials, avatarColor, setText } from "./dom";
import { icon, setIcon } from "./icons";
import { toast } from "./toast";

const BEEP_HZ = [880, 1175];
const BEEP_NOTE_S = 0.12;
const BEEP_GAIN = 0.12;

// beep plays two short notes (WebAudio, no sound file): someone is waiting.
let audio: AudioContext | null = null;
export function beep(): void {
  try {
    audio ??= new AudioContext();
    if (audio.state === "suspended") void audio.resume();
    const t0 = audio.currentTime + 0.01;
    BEEP_HZ.forEach((hz, i) => {
      const ctx = audio!;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      const start = t0 + i * BEEP_NOTE_S;
      osc.type = "sine";
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(BEEP_GAIN, start + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + BEEP_NOTE_S);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + BEEP_NOTE_S + 0.02);
    });
  } catch (e) {
    console.warn("huddle: beep", e);
  }
}

// failed tells the user that a host action was refused.
export function failed(what: string, e: unknown): void {
  const why = e instanceof RequestError ? e.message.replace(/^[A-Z_]+: /, "") : e instanceof Error ? e.message : String(e);
  toast(`Could not ${what}: ${why}`, 5000);
}

export function sinceText(ms: number, now = Date.now()): string {
  const min = Math.floor((now - ms) / 60_000);
  if (!ms || min < 1) return "Just now";
  if (min < 60) return `Waiting ${min} min`;
  return `Waiting ${Math.floor(min / 60)} h ${min % 60} min`;
}

// WaitingRoomPanel: the people waiting, with Admit / Deny each and Admit all.
export class WaitingRoomPanel {
  readonly el: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly admitAll: HTMLButtonElement;
  private readonly count: HTMLElement;

  constructor(
    private readonly session: CallSession,
    private readonly onClose: () => void,
  ) {
    this.list = h("ul", { class: "wr-list", attrs: { "aria-label": "People waiting" } });
    this.empty = h("p", { class: "wr-empty" }, "Nobody is waiting");
    this.count = h("span", { class: "wr-count" });
    this.admitAll = h(
      "button",
      {
        class: "btn btn-primary btn-small",
        attrs: { type: "button" },
        on: { click: () => void this.session.admit("all").catch((e) => failed("admit everyone", e)) },
      },
      "Admit all",
    );
    this.el = h(
      "section",
      { class: "side-panel wr-panel", attrs: { "aria-labelledby": "wr-title", hidden: true } },
      h(
        "div",
        { class: "side-head" },
        h("h2", { class: "side-title", attrs: { id: "wr-title" } }, "Waiting room"),
        h(
          "button",
          { class: "icon-btn", attrs: { type: "button", "aria-label": "Close waiting room", title: "Close" }, on: { click: () => this.onClose() } },
          icon("close", 20),
        ),
      ),
      h("p", { class: "side-note" }, icon("hourglass", 16), h("span", {}, "These people asked to join. Only hosts see this list.")),
      h("div", { class: "wr-bar" }, this.count, this.admitAll),
      h("div", { class: "side-scroll" }, this.list, this.empty),
    );
  }

  isOpen(): boolean {
    return !this.el.hidden;
  }

  setOpen(open: boolean): void {
    this.el.hidden = !open;
  }

  refresh(): void {
    const waiting = this.session.waiting;
    // Rebuilt only when the list changes: a row under the pointer stays put.
    const key = waiting.map((w) => `${w.id}:${w.displayName}`).join("|");
    if (this.list.dataset.key !== key) {
      this.list.dataset.key = key;
      this.list.replaceChildren(...waiting.map((w) => this.row(w)));
    }
    this.empty.hidden = waiting.length > 0;
    this.admitAll.hidden = waiting.length < 1;
    setText(this.count, waiting.length === 1 ? "1 person waiting" : `${waiting.length} people waiting`);
  }

  private row(w: WaitingParticipant): HTMLElement {
    const name = w.displayName || "Guest";
    const act = (deny: boolean) => (ev: Event) => {
      (ev.currentTarget as HTMLButtonElement).disabled = true;
      void this.session.admit([w.id], deny).catch((e) => failed(deny ? `deny ${name}` : `admit ${name}`, e));
    };
    const avatar = h("span", { class: "avatar avatar-small" }, initials(name));
    avatar.style.background = avatarColor(w.id);
    return h(
      "li",
      { class: "wr-item", attrs: { "aria-label": name, "data-participant-id": w.id } },
      avatar,
      h("span", { class: "wr-who" }, h("span", { class: "wr-name" }, name), h("span", { class: "wr-since" }, sinceText(Number(w.waitingSinceMs)))),
      h("button", { class: "btn btn-text btn-small", attrs: { type: "button" }, on: { click: act(true) } }, "Deny"),
      h("button", { class: "btn btn-outline btn-small", attrs: { type: "button" }, on: { click: act(false) } }, "Admit"),
    );
  }
}

// waitingButton: the control bar's button that shows the waiting room (hosts),
// with the number of people waiting.
export function waitingButton(onClick: () => void): { el: HTMLButtonElement; set(open: boolean, n: number): void } {
  const badge = h("span", { class: "ctl-badge", attrs: { "aria-hidden": "true", hidden: true } });
  const el = h("button", { class: "ctl", attrs: { type: "button" }, on: { click: onClick } }, icon("personAdd"), badge);
  const set = (open: boolean, n: number) => {
    const label = open ? "Hide waiting room" : n > 0 ? `Show waiting room (${n} waiting)` : "Show waiting room";
    el.setAttribute("aria-label", label);
    el.title = label;
    el.setAttribute("aria-pressed", String(open));
    el.classList.toggle("ctl-active", open);
    badge.hidden = n === 0;
    setText(badge, String(n));
  };
  set(false, 0);
  return { el, set };
}

export interface HandEntry {
  id: string;
  name: string;
  at: number;
}

// RaisedHands: who has a hand up, the first raised on top.
export class RaisedHands {
  readonly el: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly title: HTMLElement;

  constructor() {
    this.list = h("ol", { class: "hands-list", attrs: { "aria-label": "Raised hands" } });
    this.title = h("h2", { class: "hands-title" });
    this.el = h("section", { class: "hands", attrs: { "aria-label": "Raised hands", hidden: true } }, h("div", { class: "hands-head" }, icon("hand", 16), this.title), this.list);
  }

  update(entries: HandEntry[]): void {
    const sorted = [...entries].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    this.el.hidden = sorted.length === 0;
    setText(this.title, `Raised hands (${sorted.length})`);
    const key = sorted.map((e) => `${e.id}:${e.name}`).join("|");
    if (this.list.dataset.key === key) return;
    this.list.dataset.key = key;
    this.list.replaceChildren(
      ...sorted.map((e, i) => h("li", { class: "hands-item", attrs: { "data-participant-id": e.id } }, h("span", { class: "hands-pos", attrs: { "aria-hidden": "true" } }, String(i + 1)), e.name)),
    );
  }
}

// handButton: Raise hand / Lower hand.
export function handButton(session: CallSession): { el: HTMLButtonElement; refresh(): void } {
  const el = h("button", {
    class: "ctl",
    attrs: { type: "button" },
    on: {
      click: () => {
        const raise = session.handRaisedAtMs === 0;
        session.setHand(raise).catch((e) => {
          failed(raise ? "raise your hand" : "lower your hand", e);
        });
        refresh();
      },
    },
  });
  const refresh = () => {
    const up = session.handRaisedAtMs > 0;
    const label = up ? "Lower hand" : "Raise hand";
    el.setAttribute("aria-label", label);
    el.title = label;
    el.setAttribute("aria-pressed", String(up));
    el.classList.toggle("ctl-active", up);
    setIcon(el, "hand");
  };
  refresh();
  return { el, refresh };
}

const EMOJI_NAMES: Record<string, string> = { "👍": "Thumbs up", "👏": "Clapping", "😂": "Laughing", "❤️": "Heart", "🎉": "Party", "😮": "Surprised" };

// reactionsControl: the Reactions button and its row of emoji buttons.
export function reactionsControl(session: CallSession): { el: HTMLElement; destroy(): void } {
  const button = h("button", {
    class: "ctl",
    attrs: { type: "button", "aria-label": "Reactions", title: "Reactions", "aria-haspopup": "true", "aria-expanded": "false" },
  }, icon("mood"));
  const menu = h(
    "div",
    { class: "reaction-menu", attrs: { role: "group", "aria-label": "Send a reaction", hidden: true } },
    ...REACTION_EMOJI.map((emoji) =>
      h(
        "button",
        {
          class: "reaction-pick",
          attrs: { type: "button", "aria-label": `React with ${emoji}`, title: EMOJI_NAMES[emoji] ?? emoji },
          on: {
            click: () => {
              session.react(emoji).catch((e) => failed("send the reaction", e));
            },
          },
        },
        emoji,
      ),
    ),
  );
  const setOpen = (open: boolean) => {
    menu.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.classList.toggle("ctl-active", open);
  };
  button.addEventListener("click", () => setOpen(menu.hidden));
  const el = h("div", { class: "reaction-control" }, menu, button);
  const outside = (ev: Event) => {
    if (!el.contains(ev.target as Node)) setOpen(false);
  };
  const esc = (ev: KeyboardEvent) => {
    if (ev.key === "Escape" && !menu.hidden) {
      setOpen(false);
      button.focus();
    }
  };
  document.addEventListener("pointerdown", outside);
  document.addEventListener("keydown", esc);
  return {
    el,
    destroy() {
      document.removeEventListener("pointerdown", outside);
      document.removeEventListener("keydown", esc);
    },
  };
}

// meetingSettingsDialog (hosts): Waiting room, Lock meeting, End meeting for all.
export function meetingSettingsDialog(session: CallSession): { el: HTMLDialogElement; open(): void; refresh(): void; destroy(): void } {
  const waitingBox = h("input", { class: "switch", attrs: { type: "checkbox", role: "switch", id: "ms-waiting", "aria-describedby": "ms-waiting-help" } });
  const lockBox = h("input", { class: "switch", attrs: { type: "checkbox", role: "switch", id: "ms-lock", "aria-describedby": "ms-lock-help" } });
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const note = h("p", { class: "ms-note" });
  // The mode to go back to when the meeting is unlocked.
  let unlockedMode = AccessMode.OPEN;
  const apply = async (mode: AccessMode) => {
    error.textContent = "";
    waitingBox.disabled = lockBox.disabled = true;
    try {
      await session.setAccess(mode);
    } catch (e) {
      error.textContent = `Could not change the meeting: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      waitingBox.disabled = lockBox.disabled = false;
      refresh();
    }
  };
  waitingBox.addEventListener("change", () => {
    unlockedMode = waitingBox.checked ? AccessMode.WAITING_ROOM : AccessMode.OPEN;
    if (session.accessMode === AccessMode.LOCKED) refresh();
    else void apply(unlockedMode);
  });
  lockBox.addEventListener("change", () => void apply(lockBox.checked ? AccessMode.LOCKED : unlockedMode));
  const row = (box: HTMLInputElement, label: string, help: string, helpId: string) =>
    h(
      "div",
      { class: "ms-row" },
      h("div", { class: "ms-text" }, h("label", { class: "ms-label", attrs: { for: box.id } }, label), h("p", { class: "ms-help", attrs: { id: helpId } }, help)),
      box,
    );
  const endButton = h("button", { class: "btn btn-danger", attrs: { type: "button" } }, "End meeting for all");
  const confirmRow = h(
    "div",
    { class: "ms-confirm", attrs: { hidden: true, role: "group", "aria-label": "Confirm ending the meeting" } },
    h("p", {}, "End the call for everyone? Everyone in the call and in the waiting room leaves it. The link, chat and notes stay."),
    h(
      "div",
      { class: "dialog-actions" },
      h("button", { class: "btn btn-text", attrs: { type: "button" }, on: { click: () => (confirmRow.hidden = true) } }, "Cancel"),
      h(
        "button",
        {
          class: "btn btn-danger",
          attrs: { type: "button" },
          on: {
            click: (ev) => {
              (ev.currentTarget as HTMLButtonElement).disabled = true;
              session.endMeeting().catch((e) => {
                (ev.currentTarget as HTMLButtonElement).disabled = false;
                failed("end the meeting", e);
              });
            },
          },
        },
        "End for everyone",
      ),
    ),
  );
  endButton.addEventListener("click", () => (confirmRow.hidden = false));
  const el = h(
    "dialog",
    { class: "dialog ms-dialog", attrs: { "aria-labelledby": "ms-title" } },
    h(
      "form",
      { attrs: { method: "dialog" } },
      h("h2", { class: "dialog-title", attrs: { id: "ms-title" } }, "Meeting settings"),
      h("p", { class: "ms-sub" }, "Host controls. Changes apply to everyone at once."),
      h("h3", { class: "ms-section" }, "Meeting access"),
      row(waitingBox, "Waiting room", "Guests wait until a host lets them in. Hosts join directly.", "ms-waiting-help"),
      row(lockBox, "Lock meeting", "Nobody new can join, except hosts.", "ms-lock-help"),
      note,
      error,
      h("h3", { class: "ms-section" }, "End the call"),
      h("div", { class: "ms-end" }, endButton),
      confirmRow,
      h("div", { class: "dialog-actions" }, h("button", { class: "btn btn-primary", attrs: { type: "submit" } }, "Done")),
    ),
  );
  const refresh = () => {
    const mode = session.accessMode;
    if (mode !== AccessMode.LOCKED) unlockedMode = mode === AccessMode.WAITING_ROOM ? AccessMode.WAITING_ROOM : AccessMode.OPEN;
    waitingBox.checked = mode === AccessMode.LOCKED ? unlockedMode === AccessMode.WAITING_ROOM : mode === AccessMode.WAITING_ROOM;
    lockBox.checked = mode === AccessMode.LOCKED;
    note.textContent = mode === AccessMode.TOKEN_ONLY ? "Only people with a signed join link can join this meeting." : "";
  };
  return {
    el,
    open() {
      error.textContent = "";
      confirmRow.hidden = true;
      refresh();
      el.showModal();
    },
    refresh,
    destroy() {
      if (el.open) el.close();
    },
  };
}

// openTileMenu shows the host's menu for one participant next to its button.
let openMenu: { close(): void } | null = null;
export function openTileMenu(anchor: HTMLElement, session: CallSession, participantId: string): void {
  openMenu?.close();
  const p = session.participants.get(participantId);
  if (!p) return;
  const name = p.displayName || "this participant";
  const item = (label: string, action: ModerationAction, what: string, danger = false) =>
    h(
      "button",
      {
        class: `menu-item${danger ? " menu-danger" : ""}`,
        attrs: { type: "button", role: "menuitem" },
        on: {
          click: () => {
            close();
            session.moderate(participantId, action).catch((e) => failed(what, e));
          },
        },
      },
      label,
    );
  const menu = h(
    "div",
    { class: "menu tile-menu", attrs: { role: "menu", "aria-label": `Options for ${name}` } },
    item("Mute", ModerationAction.MUTE, `mute ${name}`),
    item("Ask to turn off camera", ModerationAction.CAMERA_OFF, `ask ${name} to turn off the camera`),
    p.handRaisedAtMs > 0 ? item("Lower hand", ModerationAction.LOWER_HAND, `lower ${name}'s hand`) : null,
    p.role === Role.HOST ? null : item("Make host", ModerationAction.MAKE_HOST, `make ${name} a host`),
    h("div", { class: "menu-sep", attrs: { role: "separator" } }),
    item("Remove", ModerationAction.REMOVE, `remove ${name}`, true),
    item("Remove and block", ModerationAction.BLOCK, `block ${name}`, true),
  );
  const r = anchor.getBoundingClientRect();
  menu.style.top = `${Math.round(r.bottom + 4)}px`;
  menu.style.left = `${Math.round(Math.max(8, r.right - 240))}px`;
  document.body.appendChild(menu);
  // Keep it on screen (a tile at the bottom opens its menu upwards).
  const mr = menu.getBoundingClientRect();
  if (mr.bottom > innerHeight - 8) menu.style.top = `${Math.round(Math.max(8, r.top - mr.height - 4))}px`;
  anchor.setAttribute("aria-expanded", "true");
  const outside = (ev: Event) => {
    if (!menu.contains(ev.target as Node) && ev.target !== anchor && !anchor.contains(ev.target as Node)) close();
  };
  const key = (ev: KeyboardEvent) => {
    const items = [...menu.querySelectorAll<HTMLButtonElement>(".menu-item")];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    if (ev.key === "Escape") {
      close();
      anchor.focus();
    } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const next = items[(i + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length];
      next?.focus();
    }
  };
  function close(): void {
    menu.remove();
    anchor.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside, true);
    document.removeEventListener("keydown", key);
    if (openMenu === handle) openMenu = null;
  }
  const handle = { close };
  openMenu = handle;
  document.addEventListener("pointerdown", outside, true);
  document.addEventListener("keydown", key);
  menu.querySelector<HTMLButtonElement>(".menu-item")?.focus();
}

export function closeTileMenu(): void {
  openMenu?.close();
}

// moderationText: the toast for what a host did to us.
export function moderationText(action: ModerationAction): string {
  switch (action) {
    case ModerationAction.MUTE:
      return "A host muted you";
    case ModerationAction.CAMERA_OFF:
      return "A host asked you to turn off your camera";
    case ModerationAction.MAKE_HOST:
      return "You are now a host";
    case ModerationAction.LOWER_HAND:
      return "A host lowered your hand";
    default:
      return "";
  }
}
