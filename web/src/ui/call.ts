// The call view: a grid of tiles that fills the stage (self included), the
// control bar, the "Reconnecting…" banner, the Copy link toast, and the chat
// panel beside the stage (toggled from the control bar, which shows an unread
// count while it is closed; on narrow screens it covers the stage), the
// shared documents' panel (Notes, Code) beside it, the Record button and
// the "Recording" indicator, and the Recordings panel (toggled like the chat).
// Hosts and access (issue 11): Raise hand and the Raised hands list,
// Reactions floating over tiles, moderation notices as toasts, and for hosts
// the Waiting room panel, Meeting settings and each tile's options menu.
// The call screen (issue 12): a shared screen as its own large tile beside
// the cameras, the active speaker's ring, Pin, the Grid / Speaker layouts
// (ui/layout.ts), connection quality on each tile with its details and the
// poor-uplink warning (ui/quality.ts), picture-in-picture, keyboard
// shortcuts (ui/shortcuts.ts). Tiles update incrementally: a tile is made
// when its participant (or screen) arrives and removed when it goes, updates
// touch only what changed, and the layout runs only when the tiles' places
// or the stage's size change (window.huddle.callScreen counts both).
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
import { TileView, tileStats, type TileInfo, type TileKind, type TileViewSize } from "./tile";
import { GAP, stageLayout, type LayoutMode } from "./layout";
import { QualityMonitor, QualityPopover } from "./quality";
import { installShortcuts, shortcutsDialog } from "./shortcuts";
import { micButton, cameraButton, shareButton, actionButton } from "./controls";
import { toast } from "./toast";
import { devicePickers } from "./devices";
import { filtersControl } from "../filters/control";
import { WatchView } from "../watch/view";
import { FileTransfers } from "../files/manager";
import { renderFiles } from "../files/view";
import { MediaMode, Role } from "../proto";
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

// The layout chosen last (Grid / Speaker), remembered in this browser.
const LAYOUT_KEY = "huddle.layout";

// callScreenStats: the call screen's counters and state for the debug hook.
export const callScreenStats = { layouts: 0, arrangement: "", layout: "grid" as LayoutMode, pinned: "", featured: "" };

// callScreenDebug is window.huddle.callScreen: tiles made, tile updates that
// changed something, layout runs, and what the stage shows.
export function callScreenDebug(): {
  tileCreates: number;
  tileRenders: number;
  layouts: number;
  arrangement: string;
  layout: LayoutMode;
  pinned: string;
  featured: string;
} {
  return { tileCreates: tileStats.creates, tileRenders: tileStats.renders, ...callScreenStats };
}

function loadLayout(): LayoutMode {
  try {
    return localStorage.getItem(LAYOUT_KEY) === "speaker" ? "speaker" : "grid";
  } catch {
    return "grid";
  }
}

function saveLayout(m: LayoutMode): void {
  try {
    localStorage.setItem(LAYOUT_KEY, m);
  } catch {
    /* storage may be unavailable (private mode) */
  }
}

export interface CallView {
  destroy(): void;
}

export interface CallRecording {
  recorder: Recorder;
  uploader: Uploader;
}

// WATCH_KEY: the featured "tile" while the shared player is open.
const WATCH_KEY = "watch";

export function renderCall(
  root: HTMLElement,
  session: CallSession,
  onLeave: () => void,
  chat?: ChatClient | null,
  notes?: NotesClient | null,
  recording?: CallRecording | null,
): CallView {
  const stage = h("div", { class: "stage", attrs: { "data-arrangement": "grid" } });
  // The featured tile (pinned, a shared screen, the speaker in the Speaker
  // layout) goes here; the grid then becomes the column / row of the others.
  const featuredBox = h("div", { class: "featured" });
  const grid = h("div", { class: "grid", attrs: { "aria-label": "Participants" } });
  stage.append(featuredBox, grid);
  let layoutMode = loadLayout();
  const layoutButton = (label: string, name: "gridView" | "speakerView", mode: LayoutMode) =>
    h(
      "button",
      { class: "view-btn", attrs: { type: "button", "aria-label": label, title: `${label} layout` }, on: { click: () => setLayout(mode) } },
      icon(name, 20),
      h("span", { class: "view-btn-text" }, label),
    );
  const gridButton = layoutButton("Grid", "gridView", "grid");
  const speakerButton = layoutButton("Speaker", "speakerView", "speaker");
  const pipButton = h(
    "button",
    { class: "view-btn", attrs: { type: "button", "aria-label": "Picture in picture", title: "Picture in picture", "aria-pressed": "false" }, on: { click: () => void togglePip() } },
    icon("pip", 20),
  );
  pipButton.hidden = !("pictureInPictureEnabled" in document && document.pictureInPictureEnabled);
  const shortcuts = shortcutsDialog();
  const helpButton = h(
    "button",
    { class: "view-btn", attrs: { type: "button", "aria-label": "Keyboard shortcuts", title: "Keyboard shortcuts (?)", "aria-haspopup": "dialog" }, on: { click: () => shortcuts.open() } },
    icon("keyboard", 20),
  );
  const uplink = h(
    "div",
    { class: "uplink-warning", attrs: { role: "status", hidden: true } },
    icon("warning", 18),
    h("span", {}, "Your connection is poor: others may not see or hear you well"),
  );
  const viewBar = h(
    "div",
    { class: "view-bar" },
    uplink,
    h("div", { class: "layout-switch", attrs: { role: "group", "aria-label": "Layout" } }, gridButton, speakerButton),
    pipButton,
    helpButton,
  );
  const stageCol = h("div", { class: "stage-col" }, viewBar, stage);
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
  // Watch together: while it is open the shared player is the featured
  // view (arrange), every tile beside or under it.
  const watch = new WatchView(session, () => refresh());
  featuredBox.append(watch.el);
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

  const main = h("div", { class: "call-main" }, indicator.el, hands.el, stageCol, waitingPanel.el, chatPanel?.el, docs?.el, recordings?.el);
  // The call root; data-media-mode ("mesh" or "sfu") is a debug attribute
  // until the browser has an SFU path (README, "SFU (Janus VideoRoom)").
  const callPage = h("div", { class: "page call-page", attrs: { "data-media-mode": "mesh" } }, banner, main, bar, settings.el, meetingSettings.el, watch.dialog, files.el, shortcuts.el);
  root.replaceChildren(callPage);
  syncChatButton();

  const tiles = new Map<string, TileView>();
  let lastWaiting = session.waiting.length;
  const selfKey = "__self__";
  const screenKey = (id: string) => `screen:${id}`;
  let pinned = ""; // tile key
  let lastRemoteSpeaker = ""; // the Speaker layout keeps the last one who spoke
  let lastArrange = "";
  const popover = new QualityPopover();
  const quality = new QualityMonitor(() => session.peerConnections, () => showQuality());
  // CallSession.setRemoteView (tile size -> the sender's adaptation) where the session has it.
  const setRemoteView = (session as unknown as { setRemoteView?: (id: string, v: TileViewSize) => void }).setRemoteView;

  function makeTile(key: string, kind: TileKind, info: TileInfo): TileView {
    const id = info.id;
    const remoteCamera = kind === "camera" && !info.self;
    return new TileView(id, info.self, undefined, {
      kind,
      onFirstFrame: remoteCamera ? () => session.noteFirstFrame(id) : undefined,
      onPin: () => togglePin(key),
      onDetails: remoteCamera ? (anchor) => openDetails(anchor, id) : undefined,
      onViewChange: remoteCamera && setRemoteView ? (v) => setRemoteView.call(session, id, v) : undefined,
    });
  }

  function togglePin(key: string): void {
    pinned = pinned === key ? "" : key;
    callScreenStats.pinned = pinned;
    refresh();
  }

  function setLayout(mode: LayoutMode): void {
    layoutMode = mode;
    callScreenStats.layout = mode;
    saveLayout(mode);
    syncLayoutButtons();
    arrange();
  }

  function syncLayoutButtons(): void {
    gridButton.setAttribute("aria-pressed", String(layoutMode === "grid"));
    speakerButton.setAttribute("aria-pressed", String(layoutMode === "speaker"));
  }
  callScreenStats.layout = layoutMode;
  callScreenStats.pinned = "";
  syncLayoutButtons();

  function refresh(): void {
    const state = session.localMediaState();
    mic.set(state.audioMuted);
    cam.set(session.media.videoMuted || !session.media.camera);
    share.set(state.screenSharing);
    mic.el.disabled = !session.media.audio;
    cam.el.disabled = !session.media.camera;
    banner.hidden = session.state !== "reconnecting";
    callPage.dataset.mediaMode = session.mediaMode === MediaMode.SFU ? "sfu" : "mesh";
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

    // Tiles: our camera, every remote camera, and a tile per shared screen.
    const want: Array<{ key: string; kind: TileKind; info: TileInfo }> = [];
    want.push({
      key: selfKey,
      kind: "camera",
      info: {
        id: selfKey,
        colorKey: session.participantId,
        name: session.displayName,
        self: true,
        stream: session.media.stream,
        audioMuted: state.audioMuted,
        videoMuted: state.videoMuted,
        screenSharing: state.screenSharing,
        connecting: false,
        handRaised: session.handRaisedAtMs > 0,
        host: session.role === Role.HOST,
        onMenu: null,
        pinned: pinned === selfKey,
      },
    });
    if (session.media.screen) {
      const key = screenKey(selfKey);
      want.push({
        key,
        kind: "screen",
        info: {
          id: selfKey,
          colorKey: session.participantId,
          name: session.displayName,
          self: true,
          stream: session.media.screenStream,
          audioMuted: true,
          videoMuted: false,
          screenSharing: true,
          connecting: false,
          pinned: pinned === key,
        },
      });
    }
    const remotes = [...session.participants.values()].sort((a, b) => a.joinedAtMs - b.joinedAtMs || a.id.localeCompare(b.id));
    for (const p of remotes) {
      const connecting = p.connection !== "connected";
      want.push({
        key: p.id,
        kind: "camera",
        info: {
          id: p.id,
          name: p.displayName,
          self: false,
          stream: p.stream,
          audioMuted: p.media.audioMuted,
          videoMuted: p.media.videoMuted,
          screenSharing: p.media.screenSharing,
          sinkId: session.media.prefs.audioOutput ?? "",
          connecting,
          handRaised: p.handRaisedAtMs > 0,
          host: p.role === Role.HOST,
          onMenu: host ? (anchor: HTMLElement) => openTileMenu(anchor, session, p.id) : null,
          pinned: pinned === p.id,
        },
      });
      if (p.media.screenSharing && p.screenStream) {
        const key = screenKey(p.id);
        want.push({
          key,
          kind: "screen",
          info: {
            id: p.id,
            name: p.displayName,
            self: false,
            stream: p.screenStream,
            audioMuted: true,
            videoMuted: false,
            screenSharing: true,
            connecting,
            pinned: pinned === key,
          },
        });
      }
    }
    const keep = new Set(want.map((w) => w.key));
    for (const [key, tile] of tiles) {
      if (!keep.has(key)) {
        tile.destroy();
        tiles.delete(key);
      }
    }
    if (pinned && !keep.has(pinned)) {
      pinned = "";
      callScreenStats.pinned = "";
      for (const w of want) w.info.pinned = false;
    }
    let added = false;
    for (const w of want) {
      let tile = tiles.get(w.key);
      if (!tile) {
        tile = makeTile(w.key, w.kind, w.info);
        tiles.set(w.key, tile);
        added = true;
      }
      tile.update(w.info);
    }
    if (added) {
      showSpeaking();
      showQuality();
    }
    setText(count, String(1 + remotes.length));
    arrange();
  }

  // pickFeatured: the tile shown large, or "" for the plain grid.
  function pickFeatured(keys: string[]): string {
    if (pinned && tiles.has(pinned)) return pinned;
    const screens = keys.filter((k) => k.startsWith("screen:"));
    if (screens.length > 0) return screens.find((k) => k !== screenKey(selfKey)) ?? screens[0];
    if (layoutMode !== "speaker") return "";
    const remotes = keys.filter((k) => k !== selfKey && !k.startsWith("screen:"));
    if (remotes.length === 0) return "";
    const active = session.activeSpeakerId;
    if (active && tiles.has(active) && active !== selfKey) lastRemoteSpeaker = active;
    if (!tiles.has(lastRemoteSpeaker)) lastRemoteSpeaker = remotes[0];
    return lastRemoteSpeaker;
  }

  // arrange puts each tile in its place and sizes them, only when the places
  // or the stage's size changed since the last time.
  function arrange(): void {
    const keys = [...tiles.keys()]; // insertion order: ours, then the others by join time
    const ordered = [selfKey, screenKey(selfKey), ...keys.filter((k) => k !== selfKey && k !== screenKey(selfKey))].filter((k) => tiles.has(k));
    const watching = watch.active;
    stage.classList.toggle("watching", watching);
    const featured = watching ? WATCH_KEY : pickFeatured(ordered);
    let others = ordered.filter((k) => k !== featured);
    if (featured.startsWith("screen:")) {
      // The presenter's camera first, beside their screen.
      const cam = featured.slice("screen:".length);
      others = [cam, ...others.filter((k) => k !== cam)].filter((k) => tiles.has(k));
    }
    const W = stage.clientWidth - GAP * 2;
    const H = stage.clientHeight - GAP * 2;
    const sig = JSON.stringify([featured, others, W, H]);
    if (sig === lastArrange) return;
    lastArrange = sig;
    callScreenStats.layouts++;
    callScreenStats.featured = featured;
    place(featuredBox, watching ? [watch.el] : featured ? [tiles.get(featured)!.el] : []);
    place(grid, others.map((k) => tiles.get(k)!.el));
    for (const [key, tile] of tiles) tile.el.classList.toggle("featured-tile", key === featured);
    if (W <= 0 || H <= 0) return;
    const L = stageLayout(W, H, others.length, featured !== "", watching || featured.startsWith("screen:"));
    stage.dataset.arrangement = L.arrangement;
    callScreenStats.arrangement = L.arrangement;
    featuredBox.style.setProperty("--tile-w", `${L.featured.w}px`);
    featuredBox.style.setProperty("--tile-h", `${L.featured.h}px`);
    grid.style.setProperty("--tile-w", `${L.tile.w}px`);
    grid.style.setProperty("--tile-h", `${L.tile.h}px`);
    grid.style.width = L.arrangement === "grid" ? `${L.gridWidth}px` : "";
  }

  // place makes els the first children of box, in order (moving only what is out of place).
  function place(box: HTMLElement, els: HTMLElement[]): void {
    els.forEach((el, i) => {
      if (box.children[i] !== el) box.insertBefore(el, box.children[i] ?? null);
    });
  }

  // Active speaker: the ring on whoever speaks; the Speaker layout follows.
  function showSpeaking(): void {
    const speaking = session.speakingIds;
    for (const [key, tile] of tiles) {
      if (tile.kind !== "camera") continue;
      tile.setSpeaking(speaking.has(key === selfKey ? session.participantId : key));
    }
  }
  const unsubscribeSpeaker = session.onSpeaker(() => {
    showSpeaking();
    if (layoutMode === "speaker") arrange();
    followPip();
  });

  // Connection quality on each remote tile, its details, the uplink warning.
  function showQuality(): void {
    for (const [key, tile] of tiles) {
      if (tile.kind === "camera" && key !== selfKey) tile.setQuality(quality.qualities.get(key)?.grade ?? "");
    }
    uplink.hidden = !quality.uplinkPoor;
    if (popover.isOpen) popover.show(quality.qualities.get(popover.participantId));
  }

  function openDetails(anchor: HTMLElement, id: string): void {
    if (popover.isOpen && popover.participantId === id) {
      popover.close();
      return;
    }
    popover.open(anchor, id, session.participants.get(id)?.displayName || "this participant", quality.qualities.get(id));
  }

  // Picture-in-picture of the speaker: the featured remote, else the active
  // (or last) remote speaker, else the first remote showing video.
  function pipTarget(): TileView | null {
    const candidates = [callScreenStats.featured, session.activeSpeakerId, lastRemoteSpeaker, ...tiles.keys()];
    for (const key of candidates) {
      const t = key ? tiles.get(key) : undefined;
      if (t && !t.self && t.showsVideo) return t;
    }
    return null;
  }

  async function togglePip(): Promise<void> {
    try {
      if (document.pictureInPictureElement) {
        await document.exitPictureInPicture();
        return;
      }
      const t = pipTarget();
      if (!t) {
        toast("Nobody's video to show in picture-in-picture yet");
        return;
      }
      await t.videoElement.requestPictureInPicture();
    } catch (e) {
      console.warn("huddle: picture in picture", e);
      toast("Picture-in-picture is not available");
    }
  }

  // followPip moves an open picture-in-picture window to the new speaker.
  function followPip(): void {
    const cur = document.pictureInPictureElement;
    if (!cur) return;
    const t = pipTarget();
    if (t && t.videoElement !== cur && [...tiles.values()].some((x) => x.videoElement === cur)) {
      t.videoElement.requestPictureInPicture().catch(() => {});
    }
  }

  const syncPip = () => {
    const on = !!document.pictureInPictureElement;
    pipButton.setAttribute("aria-pressed", String(on));
    pipButton.classList.toggle("view-btn-on", on);
  };
  root.addEventListener("enterpictureinpicture", syncPip, true);
  root.addEventListener("leavepictureinpicture", syncPip, true);

  // Keyboard shortcuts (Ctrl/⌘+D, Ctrl/⌘+E, ?).
  const removeShortcuts = installShortcuts({
    toggleMic: () => {
      if (!mic.el.disabled) session.media.setAudioMuted(!session.media.audioMuted);
    },
    toggleCamera: () => {
      if (!cam.el.disabled) session.media.setVideoMuted(!session.media.videoMuted);
    },
    showHelp: () => shortcuts.open(),
  });

  const tick = () => setText(clock, new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  tick();
  const clockTimer = setInterval(tick, 10_000);
  // Size changes lay the tiles out again (nothing else changes).
  const ro = new ResizeObserver(() => arrange());
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
      quality.stop();
      popover.close();
      unsubscribeSpeaker();
      removeShortcuts();
      shortcuts.destroy();
      root.removeEventListener("enterpictureinpicture", syncPip, true);
      root.removeEventListener("leavepictureinpicture", syncPip, true);
      if (document.pictureInPictureElement) void document.exitPictureInPicture().catch(() => {});
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
