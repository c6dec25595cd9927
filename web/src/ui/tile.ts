// TileView is one tile of the call: a participant's camera (video, or the
// avatar with initials when the camera is off; name, muted-mic indicator, a
// "Presenting" badge while they share, a raised hand, reactions floating up,
// the connection quality of a remote participant with its details button,
// Pin, and for hosts the "More options for <name>" menu button) or a shared
// screen (its own tile: Pin and Full screen).
//
// Tiles update incrementally: update() compares what it is given with what
// the tile shows and touches the DOM only for what changed (tileStats counts
// the updates that changed something, for window.huddle.callScreen).
import { h, initials, avatarColor, setText } from "./dom";
import { icon, setIcon } from "./icons";
import type { QualityGrade } from "./quality";

export type TileKind = "camera" | "screen";

export interface TileInfo {
  id: string;
  colorKey?: string; // avatar colour seed (defaults to id)
  name: string;
  self: boolean;
  stream: MediaStream | null;
  audioMuted: boolean;
  videoMuted: boolean;
  screenSharing: boolean;
  sinkId?: string;
  connecting: boolean;
  handRaised?: boolean;
  host?: boolean; // the participant is a host (a small label)
  onMenu?: ((anchor: HTMLElement) => void) | null; // hosts' menu for this participant
  pinned?: boolean;
}

// TileViewSize: how large a tile shows its video, in CSS pixels, and
// whether it is on screen (for the sender's adaptation, CallSession.setRemoteView).
export interface TileViewSize {
  width: number;
  height: number;
  visible: boolean;
}

export interface TileOptions {
  kind?: TileKind; // default camera
  onFirstFrame?: () => void;
  onPin?: () => void; // Pin / Unpin clicked
  onDetails?: (anchor: HTMLElement) => void; // "Connection details for <name>" clicked (remote cameras)
  // The tile's size or visibility changed (camera tiles of remote participants).
  onViewChange?: (view: TileViewSize) => void;
}

// Counters for the debug hook: tiles made and updates that changed the DOM.
export const tileStats = { creates: 0, renders: 0 };

const REACTION_SHOW_MS = 4000;
// Size changes smaller than this (CSS px) do not call onViewChange again.
const VIEW_CHANGE_MIN_PX = 8;

export class TileView {
  readonly el: HTMLElement;
  readonly kind: TileKind;
  private readonly video: HTMLVideoElement;
  private readonly avatar: HTMLElement;
  private readonly nameEl: HTMLElement;
  private readonly micEl: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly status: HTMLElement;
  private readonly hand: HTMLElement;
  private readonly hostTag: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly pin: HTMLButtonElement;
  private readonly quality: HTMLButtonElement | null = null;
  private readonly full: HTMLButtonElement | null = null;
  private onMenu: ((anchor: HTMLElement) => void) | null = null;
  private readonly onFirstFrame?: () => void;
  private sinkId = "";
  private frameWatch = false;
  private shown = ""; // what update() last showed (see key())
  private label = "";
  private grade: QualityGrade | "" = "";
  private observers: Array<{ disconnect(): void }> = [];
  private onFullscreen = (): void => this.syncFullscreen();

  constructor(
    readonly id: string,
    readonly self: boolean,
    onFirstFrame?: () => void,
    opts: TileOptions = {},
  ) {
    tileStats.creates++;
    this.kind = opts.kind ?? "camera";
    const onFrame = onFirstFrame ?? opts.onFirstFrame;
    this.onFirstFrame = onFrame;
    const screen = this.kind === "screen";
    this.video = h("video", { class: "tile-video", attrs: { autoplay: true, playsinline: true } });
    // Never play our own microphone back; a screen carries no sound.
    if (self || screen) this.video.muted = true;
    this.avatar = h("div", { class: "avatar" });
    this.nameEl = h("span", { class: "tile-name-text" });
    this.micEl = h("span", { class: "tile-mic", attrs: { role: "img", "aria-label": "Microphone muted", title: "Microphone muted" } }, icon("micOff", 18));
    this.badge = h("span", { class: "tile-badge" }, icon("screenShare", 16), h("span", {}, screen ? (self ? "You are presenting" : "Presentation") : "Presenting"));
    this.status = h("span", { class: "tile-status" });
    this.hand = h("span", { class: "tile-hand", attrs: { role: "img", "aria-label": "Hand raised", title: "Hand raised", hidden: true } }, icon("hand", 18));
    this.hostTag = h("span", { class: "tile-host", attrs: { hidden: true } }, "Host");
    this.more = h(
      "button",
      { class: "tile-more tile-btn", attrs: { type: "button", "aria-haspopup": "menu", "aria-expanded": "false", hidden: true } },
      icon("moreVert", 20),
    );
    this.more.addEventListener("click", () => this.onMenu?.(this.more));
    this.pin = h("button", { class: "tile-pin tile-btn", attrs: { type: "button", "aria-pressed": "false" } }, icon("pin", 20));
    this.pin.addEventListener("click", () => opts.onPin?.());
    this.pin.hidden = !opts.onPin;
    if (opts.onDetails) {
      this.quality = h(
        "button",
        { class: "tile-quality tile-btn", attrs: { type: "button", "aria-haspopup": "dialog", "data-quality": "unknown" } },
        h("span", { class: "bars", attrs: { "aria-hidden": "true" } }, h("i"), h("i"), h("i")),
      );
      const q = this.quality;
      q.addEventListener("click", () => opts.onDetails?.(q));
    }
    if (screen) {
      this.full = h("button", { class: "tile-full tile-btn", attrs: { type: "button" } }, icon("fullscreen", 20));
      this.full.addEventListener("click", () => void this.toggleFullscreen());
      document.addEventListener("fullscreenchange", this.onFullscreen);
    }
    this.el = h(
      "div",
      {
        class: `tile${self ? " tile-self" : ""}${screen ? " tile-screen" : ""}`,
        attrs: screen ? { "data-screen-of": id, role: "group" } : { "data-participant-id": id, role: "group", "data-speaking": "false" },
      },
      this.video,
      h("div", { class: "tile-avatar" }, this.avatar),
      this.badge,
      h("div", { class: "tile-actions" }, this.quality, this.full, this.pin, this.more, this.micEl),
      this.status,
      this.hand,
      h("div", { class: "tile-name" }, this.nameEl, this.hostTag),
    );
    this.syncFullscreen();
    if (opts.onViewChange) this.observeView(opts.onViewChange);
  }

  // videoElement: the tile's <video> (picture-in-picture).
  get videoElement(): HTMLVideoElement {
    return this.video;
  }

  // shows: whether the tile shows live video now (not the avatar).
  get showsVideo(): boolean {
    return !this.el.classList.contains("video-off") && this.video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA;
  }

  // update shows t; returns whether anything on the tile changed.
  update(t: TileInfo): boolean {
    this.onMenu = t.onMenu ?? null; // a new closure each time; not a visible change
    const key = this.key(t);
    if (key === this.shown && this.video.srcObject === t.stream) return false;
    this.shown = key;
    tileStats.renders++;
    const screen = this.kind === "screen";
    const label = screen ? (t.self ? "Your screen" : `${t.name || "Someone"}'s screen`) : t.self ? `${t.name} (You)` : t.name || "Joining…";
    this.label = label;
    setText(this.nameEl, label);
    setText(this.avatar, initials(t.name || "?"));
    this.avatar.style.background = avatarColor(t.colorKey || t.id);
    this.el.setAttribute("aria-label", label);
    if (this.video.srcObject !== t.stream) {
      this.video.srcObject = t.stream;
      if (t.stream && !t.self) this.watchFirstFrame();
    }
    const hasVideo = !!t.stream && t.stream.getVideoTracks().length > 0;
    this.el.classList.toggle("video-off", (!screen && t.videoMuted) || !hasVideo);
    this.el.classList.toggle("audio-muted", !screen && t.audioMuted);
    this.el.classList.toggle("sharing", t.screenSharing);
    this.el.classList.toggle("mirror", t.self && !screen);
    if (!screen) {
      this.el.dataset.audioMuted = String(t.audioMuted);
      this.el.dataset.videoMuted = String(t.videoMuted);
      this.el.dataset.screenSharing = String(t.screenSharing);
    }
    setText(this.status, t.connecting ? "Connecting…" : "");
    this.hand.hidden = screen || !t.handRaised;
    this.el.classList.toggle("hand-raised", !screen && !!t.handRaised);
    this.hostTag.hidden = screen || !t.host;
    this.more.hidden = screen || !this.onMenu;
    const moreLabel = `More options for ${t.name || "this participant"}`;
    if (this.more.getAttribute("aria-label") !== moreLabel) {
      this.more.setAttribute("aria-label", moreLabel);
      this.more.title = moreLabel;
    }
    const pinned = !!t.pinned;
    const pinName = t.self ? (screen ? "your screen" : "yourself") : screen ? `${t.name || "Someone"}'s screen` : t.name || "this participant";
    const pinLabel = `${pinned ? "Unpin" : "Pin"} ${pinName}`;
    this.pin.setAttribute("aria-label", pinLabel);
    this.pin.title = pinLabel;
    this.pin.setAttribute("aria-pressed", String(pinned));
    this.el.classList.toggle("pinned", pinned);
    this.el.dataset.pinned = String(pinned);
    if (this.quality) {
      const qLabel = `Connection details for ${t.name || "this participant"}`;
      this.quality.setAttribute("aria-label", qLabel);
      this.quality.title = this.grade ? `${qLabel}: ${this.grade}` : qLabel;
    }
    if (!t.self && !screen && t.sinkId !== undefined && t.sinkId !== this.sinkId) {
      this.sinkId = t.sinkId;
      const v = this.video as HTMLVideoElement & { setSinkId?: (id: string) => Promise<void> };
      v.setSinkId?.(t.sinkId).catch((e) => console.warn("huddle: setSinkId", e));
    }
    return true;
  }

  // key: everything update() shows, as one comparable string.
  private key(t: TileInfo): string {
    const hasVideo = !!t.stream && t.stream.getVideoTracks().length > 0;
    return JSON.stringify([
      t.name,
      t.colorKey ?? "",
      t.audioMuted,
      t.videoMuted,
      t.screenSharing,
      t.sinkId ?? "",
      t.connecting,
      !!t.handRaised,
      !!t.host,
      !!t.onMenu,
      !!t.pinned,
      hasVideo,
    ]);
  }

  // setSpeaking: the ring and data-speaking while the participant speaks.
  setSpeaking(on: boolean): void {
    if (this.kind === "screen" || this.el.classList.contains("speaking") === on) return;
    this.el.classList.toggle("speaking", on);
    this.el.dataset.speaking = String(on);
  }

  // setQuality shows the connection quality of a remote participant.
  setQuality(grade: QualityGrade | ""): void {
    if (!this.quality || grade === this.grade) return;
    this.grade = grade;
    this.quality.dataset.quality = grade || "unknown";
    const qLabel = this.quality.getAttribute("aria-label") ?? "";
    this.quality.title = grade ? `${qLabel}: ${grade}` : qLabel;
  }

  // showReaction floats an emoji up over the tile for a few seconds.
  showReaction(emoji: string): void {
    const el = h("span", { class: "reaction", attrs: { role: "img", "aria-label": `Reaction ${emoji}` } }, emoji);
    el.style.left = `${20 + Math.random() * 60}%`;
    this.el.appendChild(el);
    setTimeout(() => el.remove(), REACTION_SHOW_MS);
  }

  private async toggleFullscreen(): Promise<void> {
    try {
      if (document.fullscreenElement === this.el) await document.exitFullscreen();
      else await this.el.requestFullscreen();
    } catch (e) {
      console.warn("huddle: full screen", e);
    }
  }

  private syncFullscreen(): void {
    if (!this.full) return;
    const on = document.fullscreenElement === this.el;
    const label = on ? "Exit full screen" : "Full screen";
    if (this.full.getAttribute("aria-label") === label) return;
    this.full.setAttribute("aria-label", label);
    this.full.title = label;
    setIcon(this.full, on ? "fullscreenExit" : "fullscreen", 20);
    this.el.classList.toggle("fullscreen", on);
  }

  // observeView reports the tile's size and whether it is on screen.
  private observeView(fn: (v: TileViewSize) => void): void {
    let last: TileViewSize = { width: -1, height: -1, visible: false };
    let visible = true;
    const report = () => {
      const width = Math.round(this.el.clientWidth);
      const height = Math.round(this.el.clientHeight);
      const v = { width, height, visible: visible && width > 0 && height > 0 };
      const moved = Math.abs(v.width - last.width) >= VIEW_CHANGE_MIN_PX || Math.abs(v.height - last.height) >= VIEW_CHANGE_MIN_PX;
      if (!moved && v.visible === last.visible) return;
      last = v;
      fn(v);
    };
    const ro = new ResizeObserver(report);
    ro.observe(this.el);
    const io = new IntersectionObserver((entries) => {
      visible = entries[entries.length - 1]?.isIntersecting ?? visible;
      report();
    });
    io.observe(this.el);
    this.observers.push(ro, io);
  }

  // watchFirstFrame reports the first decoded frame painted in this tile.
  private watchFirstFrame(): void {
    if (this.frameWatch || !this.onFirstFrame) return;
    this.frameWatch = true;
    const v = this.video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => this.onFirstFrame?.());
    else v.addEventListener("loadeddata", () => this.onFirstFrame?.(), { once: true });
  }

  get name(): string {
    return this.label;
  }

  destroy(): void {
    for (const o of this.observers) o.disconnect();
    this.observers = [];
    document.removeEventListener("fullscreenchange", this.onFullscreen);
    if (document.fullscreenElement === this.el) void document.exitFullscreen().catch(() => {});
    if (document.pictureInPictureElement === this.video) void document.exitPictureInPicture().catch(() => {});
    this.video.srcObject = null;
    this.el.remove();
  }
}
