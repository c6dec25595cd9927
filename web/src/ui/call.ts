// The call view: a grid of tiles that fills the stage (self included), the
// control bar, the "Reconnecting…" banner, the Copy link toast, and the chat
// panel beside the stage (toggled from the control bar, which shows an unread
// count while it is closed; on narrow screens it covers the stage), the
// shared documents' panel (Notes, Code) beside it, the Record button and
// the "Recording" indicator, and the Recordings panel (toggled like the chat).
// Hosts and access (issue 11): Raise hand and the Raised hands list,
// Reactions floating over tiles, moderation notices as toasts, and for hosts
// the Waiting room panel, Meeting settings and each tile's options menu.
import type { CallSession } from "../call/session";
import type { ChatClient } from "../chat/client";
import type { NotesClient } from "../notes/client";
import { DocsDock } from "../notes/dock";
import { recordControl, recordingIndicator } from "../recording/controls";
import { RecordingsPanel, recordingsButton } from "../recording/panel";
import type { Recorder } from "../recording/recorder";
import type { Uploader } from "../recording/uploader";
import { ChatPanel } from "./chat";
import { h, setText } from "./dom";
import { icon } from "./icons";
import { TileView, type TileInfo } from "./tile";
import { micButton, cameraButton, shareButton, actionButton } from "./controls";
import { toast } from "./toast";
import { devicePickers } from "./devices";
import { filtersControl } from "../filters/control";
import { WatchView } from "../watch/view";
import { FileTransfers } from "../files/manager";
import { renderFiles } from "../files/view";
import { Role } from "../proto";
import {
  WaitingRoomPanel,
  RaisedHands,
  beep,
  closeTileMenu,
  handButton,
  meetingSettingsDialog,
  moderationText,
  openTileMenu,
  reactionsControl,
  waitingButton,
  type HandEntry,
} from "./host";

const GAP = 12;
const STRIP_W = 224;
const SPOTLIGHT_MIN_WIDTH = 800;
const SPEAKING_LEVEL = 0.02; // RTCRtpSynchronizationSource.audioLevel, 0..1
const ASPECT = 16 / 9;

export interface CallView {
  destroy(): void;
}

export interface CallRecording {
  recorder: Recorder;
  uploader: Uploader;
}

export function renderCall(
  root: HTMLElement,
  session: CallSession,
  onLeave: () => void,
  chat?: ChatClient | null,
  notes?: NotesClient | null,
  recording?: CallRecording | null,
): CallView {
  const stage = h("div", { class: "stage" });
  const grid = h("div", { class: "grid", attrs: { "aria-label": "Participants" } });
  // While someone presents, their tile takes the stage and the others go in this strip.
  const strip = h("div", { class: "strip", attrs: { "aria-label": "Other participants" } });
  stage.append(grid, strip);
  const banner = h(
    "div",
    { class: "banner", attrs: { role: "alert", hidden: true } },
    icon("wifiOff", 18),
    h("span", {}, "Reconnecting…"),
  );

  // The session tells the others about every local media change itself.
  const mic = micButton(() => session.media.setAudioMuted(!session.media.audioMuted));
  const cam = cameraButton(() => session.media.setVideoMuted(!session.media.videoMuted));
  const share = shareButton(() => {
    share.el.disabled = true;
    session
      .toggleScreenShare()
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === "NotAllowedError")) toast("Could not share the screen");
        console.warn("huddle: screen share", e);
      })
      .finally(() => {
        share.el.disabled = false;
        refresh();
      });
  });
  if (!navigator.mediaDevices || !("getDisplayMedia" in navigator.mediaDevices)) share.el.hidden = true;
  const filters = filtersControl(session.media);
  // Watch together: the shared player takes the stage, the tiles go beside it.
  const watch = new WatchView(session, () => refresh());
  stage.prepend(watch.el);
  // File transfers: the Send file button, drops on the stage, the list.
  const files = renderFiles(session, new FileTransfers(session, chat ?? null));
  files.attachDrop(stage);
  const copy = actionButton("Copy link", "link", () => void copyLink(session.meetingId));
  const leave = actionButton("Leave", "callEnd", onLeave, "ctl-leave");
  const chatButton = chat ? chatToggle(() => chatPanel?.setOpen(!chatPanel.isOpen())) : null;
  const chatPanel = chat
    ? new ChatPanel({
        chat,
        mode: "call",
        getName: () => session.displayName,
        onClose: () => {
          chatPanel?.setOpen(false);
          syncChatButton();
          chatButton?.el.focus();
        },
        onUnread: () => syncChatButton(),
      })
    : null;
  function syncChatButton(): void {
    if (chatButton && chatPanel) chatButton.set(chatPanel.isOpen(), chatPanel.unread);
  }
  if (chatButton && chatPanel) {
    chatButton.el.setAttribute("aria-controls", chatPanel.id);
    chatButton.el.addEventListener("click", () => syncChatButton());
  }
  // The shared documents' panel goes beside the stage, after the chat.
  const docs = notes ? new DocsDock({ client: notes, mode: "call", onToggle: () => refresh() }) : null;
  const record = recording ? recordControl(recording.recorder, (msg) => toast(msg, 5000)) : null;
  const indicator = recordingIndicator(session);
  const recordings = recording
    ? new RecordingsPanel({
        meetingId: session.meetingId,
        uploader: recording.uploader,
        mode: "call",
        onClose: () => {
          recordingsToggle?.sync();
          recordingsToggle?.el.focus();
        },
      })
    : null;
  const recordingsToggle = recordings ? recordingsButton(recordings, "call") : null;
  const settings = settingsDialog(session);
  const settingsButton = actionButton("Settings", "settings", () => settings.open());
  const hand = handButton(session);
  const reactions = reactionsControl(session);
  const hands = new RaisedHands();
  const waitingPanel = new WaitingRoomPanel(session, () => {
    waitingPanel.setOpen(false);
    refresh();
    waitingToggle.el.focus();
  });
  const waitingToggle = waitingButton(() => {
    waitingPanel.setOpen(!waitingPanel.isOpen());
    refresh();
  });
  const meetingSettings = meetingSettingsDialog(session);
  const meetingSettingsButton = actionButton("Meeting settings", "shield", () => meetingSettings.open(), "ctl-host");
  // The host panel opens by itself when it has people to show.
  if (session.isHost && session.waiting.length > 0) waitingPanel.setOpen(true);

  const clock = h("span", { class: "clock" });
  const code = h("span", { class: "meeting-code" }, session.meetingTitle || session.meetingId);
  const count = h("span", { class: "count-text" });
  const bar = h(
    "footer",
    { class: "controlbar" },
    h("div", { class: "bar-left" }, clock, h("span", { class: "bar-sep", attrs: { "aria-hidden": "true" } }, "|"), code),
    h(
      "div",
      { class: "bar-center", attrs: { role: "toolbar", "aria-label": "Call controls" } },
      mic.el,
      cam.el,
      filters.el,
      share.el,
      watch.button,
      files.button,
      hand.el,
      reactions.el,
      record?.el,
      copy,
      settingsButton,
      chatButton?.el,
      docs?.buttons.notes,
      docs?.buttons.code,
      recordingsToggle?.el,
      leave,
    ),
    h(
      "div",
      { class: "bar-right" },
      waitingToggle.el,
      meetingSettingsButton,
      h("span", { class: "count", attrs: { title: "Participants" } }, icon("people", 20), count),
    ),
  );

  const main = h("div", { class: "call-main" }, indicator.el, hands.el, stage, waitingPanel.el, chatPanel?.el, docs?.el, recordings?.el);
  root.replaceChildren(h("div", { class: "page call-page" }, banner, main, bar, settings.el, meetingSettings.el, watch.dialog, files.el));
  syncChatButton();

  const tiles = new Map<string, TileView>();
  let lastWaiting = session.waiting.length;
  let spotlight = false;
  const selfKey = "__self__";

  let screenStream: MediaStream | null = null;
  function selfStream(): MediaStream {
    const screen = session.media.screen;
    if (!screen) return session.media.stream;
    if (!screenStream || screenStream.getVideoTracks()[0] !== screen) screenStream = new MediaStream([screen]);
    return screenStream;
  }

  function refresh(): void {
    const state = session.localMediaState();
    mic.set(state.audioMuted);
    cam.set(session.media.videoMuted || !session.media.camera);
    share.set(state.screenSharing);
    mic.el.disabled = !session.media.audio;
    cam.el.disabled = !session.media.camera;
    banner.hidden = session.state !== "reconnecting";
    indicator.refresh();
    setText(code, session.meetingTitle || session.meetingId);
    const host = session.isHost;
    waitingToggle.el.hidden = !host;
    meetingSettingsButton.hidden = !host;
    if (!host) {
      waitingPanel.setOpen(false);
      if (meetingSettings.el.open) meetingSettings.el.close();
      closeTileMenu();
    }
    // The panel closes by itself once the last person waiting is let in (or not).
    if (lastWaiting > 0 && session.waiting.length === 0) waitingPanel.setOpen(false);
    lastWaiting = session.waiting.length;
    waitingPanel.refresh();
    waitingToggle.set(waitingPanel.isOpen(), session.waiting.length);
    meetingSettings.refresh();
    hand.refresh();
    const raised: HandEntry[] = [];
    if (session.handRaisedAtMs > 0) raised.push({ id: session.participantId, name: `${session.displayName} (You)`, at: session.handRaisedAtMs });
    for (const p of session.participants.values()) {
      if (p.handRaisedAtMs > 0) raised.push({ id: p.id, name: p.displayName || "Someone", at: p.handRaisedAtMs });
    }
    hands.update(raised);

    const infos: TileInfo[] = [
      {
        id: selfKey,
        colorKey: session.participantId,
        name: session.displayName,
        self: true,
        stream: selfStream(),
        audioMuted: state.audioMuted,
        videoMuted: state.videoMuted,
        screenSharing: state.screenSharing,
        connecting: false,
        handRaised: session.handRaisedAtMs > 0,
        host: session.role === Role.HOST,
        onMenu: null,
      },
    ];
    const remotes = [...session.participants.values()].sort((a, b) => a.joinedAtMs - b.joinedAtMs || a.id.localeCompare(b.id));
    for (const p of remotes) {
      infos.push({
        id: p.id,
        name: p.displayName,
        self: false,
        stream: p.stream,
        audioMuted: p.media.audioMuted,
        videoMuted: p.media.videoMuted,
        screenSharing: p.media.screenSharing,
        sinkId: session.media.prefs.audioOutput ?? "",
        connecting: p.connection !== "connected",
        handRaised: p.handRaisedAtMs > 0,
        host: p.role === Role.HOST,
        onMenu: host ? (anchor: HTMLElement) => openTileMenu(anchor, session, p.id) : null,
      });
    }
    const keep = new Set(infos.map((i) => i.id));
    for (const [id, tile] of tiles) {
      if (!keep.has(id)) {
        tile.destroy();
        tiles.delete(id);
      }
    }
    // Spotlight the presenter (a remote one first, else ourselves).
    const presenter = infos.find((i) => !i.self && i.screenSharing) ?? infos.find((i) => i.screenSharing);
    spotlight = presenter !== undefined && infos.length > 1 && stage.clientWidth >= SPOTLIGHT_MIN_WIDTH;
    // The shared player is the presentation while it is open: every tile goes beside it.
    const watching = watch.active;
    if (watching) spotlight = true;
    stage.classList.toggle("spotlight", spotlight);
    stage.classList.toggle("watching", watching);
    const placed = { grid: 0, strip: 0 };
    for (const info of infos) {
      let tile = tiles.get(info.id);
      if (!tile) {
        const id = info.id;
        tile = new TileView(
          id,
          info.self,
          info.self ? undefined : () => session.noteFirstFrame(id),
          info.self ? undefined : (size) => session.setRemoteView(id, size),
        );
        tiles.set(id, tile);
      }
      tile.update(info);
      const where = spotlight && (watching || info !== presenter) ? "strip" : "grid";
      const box = where === "strip" ? strip : grid;
      const index = placed[where]++;
      if (box.children[index] !== tile.el) box.insertBefore(tile.el, box.children[index] ?? null);
    }
    setText(count, String(infos.length));
    layout();
  }

  // layout picks the column count that gives the largest 16:9 tiles.
  function layout(): void {
    const n = Math.max(1, grid.children.length);
    const W = stage.clientWidth - GAP * 2 - (spotlight ? STRIP_W + GAP : 0);
    const H = stage.clientHeight - GAP * 2;
    if (W <= 0 || H <= 0) return;
    let best = { cols: 1, w: 0 };
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const w = Math.min((W - GAP * (cols - 1)) / cols, ((H - GAP * (rows - 1)) / rows) * ASPECT);
      if (w > best.w) best = { cols, w };
    }
    // Flex-wrap rows of fixed-size tiles: a last row with fewer tiles stays centred.
    const w = Math.floor(best.w);
    grid.style.width = `${best.cols * w + (best.cols - 1) * GAP}px`;
    grid.style.setProperty("--tile-w", `${w}px`);
    grid.style.setProperty("--tile-h", `${Math.floor(w / ASPECT)}px`);
  }

  // Speaking indicator: the audio level of each remote participant's receiver.
  const speakingTimer = setInterval(() => {
    for (const [id, link] of session.peers) {
      const receiver = link.pc.getReceivers().find((r) => r.track.kind === "audio");
      const level = receiver?.getSynchronizationSources()[0]?.audioLevel ?? 0;
      const muted = session.participants.get(id)?.media.audioMuted ?? true;
      tiles.get(id)?.setSpeaking(!muted && level > SPEAKING_LEVEL);
    }
  }, 300);

  const tick = () => setText(clock, new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  tick();
  const clockTimer = setInterval(tick, 10_000);
  // Size changes can switch spotlight on or off (narrow screens use the grid).
  const ro = new ResizeObserver(() => refresh());
  ro.observe(stage);
  const unsubscribe = session.onChange(refresh);
  const unsubscribeNotice = session.onNotice((n) => {
    if (n.kind === "reaction") {
      tiles.get(n.participantId === session.participantId ? selfKey : n.participantId)?.showReaction(n.emoji);
    } else if (n.kind === "moderated") {
      const text = moderationText(n.action);
      if (text) toast(text, 5000);
    } else if (n.kind === "arrived") {
      beep();
      waitingPanel.setOpen(true);
      const names = n.waiting.map((w) => w.displayName || "Someone");
      toast(names.length === 1 ? `${names[0]} is waiting to join` : `${names.length} people are waiting to join`, 4000);
      refresh();
    }
  });
  const unsubscribeMedia = session.media.onChange(refresh);
  refresh();

  return {
    destroy() {
      clearInterval(clockTimer);
      clearInterval(speakingTimer);
      ro.disconnect();
      unsubscribe();
      unsubscribeNotice();
      unsubscribeMedia();
      settings.destroy();
      meetingSettings.destroy();
      reactions.destroy();
      watch.destroy();
      closeTileMenu();
      filters.destroy();
      files.destroy();
      files.manager.destroy();
      chatPanel?.destroy();
      docs?.destroy();
      record?.destroy();
      recordings?.destroy();
      for (const t of tiles.values()) t.destroy();
      tiles.clear();
    },
  };
}

async function copyLink(meetingId: string): Promise<void> {
  const url = `${location.origin}/m/${meetingId}`;
  try {
    await navigator.clipboard.writeText(url);
  } catch {
    // Clipboard API refused (permissions, insecure origin): use a textarea.
    const ta = h("textarea", { value: url, attrs: { readonly: true, "aria-hidden": "true" } });
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    if (!ok) {
      toast(`Copy this link: ${url}`, 6000);
      return;
    }
  }
  toast("Link copied");
}

// settingsDialog: a modal <dialog> with the device pickers, usable mid-call
// (a new microphone or camera replaces the track on every sender).
function settingsDialog(session: CallSession): { el: HTMLDialogElement; open(): void; destroy(): void } {
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const pickers = devicePickers(session.media, (msg) => (error.textContent = msg));
  const title = h("h2", { class: "dialog-title", attrs: { id: "settings-title" } }, "Settings");
  const done = h("button", { class: "btn btn-primary", attrs: { type: "submit" } }, "Done");
  const el = h(
    "dialog",
    { class: "dialog", attrs: { "aria-labelledby": "settings-title" } },
    h("form", { attrs: { method: "dialog" } }, title, pickers.el, error, h("div", { class: "dialog-actions" }, done)),
  );
  return {
    el,
    open() {
      error.textContent = "";
      pickers.refresh();
      el.showModal();
    },
    destroy() {
      pickers.destroy();
      if (el.open) el.close();
    },
  };
}

// chatToggle is the control bar's chat button: pressed while the panel is
// open, with a badge counting the messages that arrived while it was closed.
function chatToggle(onClick: () => void): { el: HTMLButtonElement; set(open: boolean, unread: number): void } {
  const badge = h("span", { class: "ctl-badge", attrs: { "aria-hidden": "true", hidden: true } });
  const el = h("button", { class: "ctl chat-toggle", attrs: { type: "button" }, on: { click: onClick } }, icon("chat"), badge);
  const set = (open: boolean, unread: number) => {
    const label = open ? "Hide chat" : unread > 0 ? `Show chat (${unread} unread)` : "Show chat";
    el.setAttribute("aria-label", label);
    el.title = label;
    el.setAttribute("aria-pressed", String(open));
    el.classList.toggle("ctl-active", open);
    badge.hidden = open || unread === 0;
    setText(badge, unread > 99 ? "99+" : String(unread));
  };
  set(false, 0);
  return { el, set };
}
