// TileView is one participant's tile in the call grid: video (or avatar with
// initials when the camera is off), name, muted-mic indicator, and a badge
// while they share their screen, a raised hand, reactions floating up, and
// (for hosts) the "More options for <name>" menu button.
import { h, initials, avatarColor, setText } from "./dom";
import { icon } from "./icons";

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
}

const REACTION_SHOW_MS = 4000;

// TileViewSize: how big the tile is (CSS pixels) and whether any of it is on
// screen; given to the constructor's onView (CallSession.setRemoteView).
export interface TileViewSize {
  width: number;
  height: number;
  visible: boolean;
}

export class TileView {
  readonly el: HTMLElement;
  private readonly video: HTMLVideoElement;
  private readonly avatar: HTMLElement;
  private readonly nameEl: HTMLElement;
  private readonly micEl: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly status: HTMLElement;
  private readonly hand: HTMLElement;
  private readonly hostTag: HTMLElement;
  private readonly more: HTMLButtonElement;
  private onMenu: ((anchor: HTMLElement) => void) | null = null;
  private sinkId = "";
  private frameWatch = false;
  private resizeObserver?: ResizeObserver;
  private intersectionObserver?: IntersectionObserver;

  // onView: called with the tile's size and visibility whenever either
  // changes (remote tiles: the sender adapts what it sends to it).
  constructor(
    readonly id: string,
    self: boolean,
    private readonly onFirstFrame?: () => void,
    onView?: (size: TileViewSize) => void,
  ) {
    this.video = h("video", { class: "tile-video", attrs: { autoplay: true, playsinline: true } });
    if (self) this.video.muted = true; // never play our own microphone back
    this.avatar = h("div", { class: "avatar" });
    this.nameEl = h("span", { class: "tile-name-text" });
    this.micEl = h("span", { class: "tile-mic", attrs: { role: "img", "aria-label": "Microphone muted", title: "Microphone muted" } }, icon("micOff", 18));
    this.badge = h("span", { class: "tile-badge" }, icon("screenShare", 16), h("span", {}, "Presenting"));
    this.status = h("span", { class: "tile-status" });
    this.hand = h("span", { class: "tile-hand", attrs: { role: "img", "aria-label": "Hand raised", title: "Hand raised", hidden: true } }, icon("hand", 18));
    this.hostTag = h("span", { class: "tile-host", attrs: { hidden: true } }, "Host");
    this.more = h(
      "button",
      { class: "tile-more", attrs: { type: "button", "aria-haspopup": "menu", "aria-expanded": "false", hidden: true } },
      icon("moreVert", 20),
    );
    this.more.addEventListener("click", () => this.onMenu?.(this.more));
    this.el = h(
      "div",
      { class: `tile${self ? " tile-self" : ""}`, attrs: { "data-participant-id": id, role: "group" } },
      this.video,
      h("div", { class: "tile-avatar" }, this.avatar),
      this.badge,
      this.micEl,
      this.status,
      this.hand,
      this.more,
      h("div", { class: "tile-name" }, this.nameEl, this.hostTag),
    );
    if (onView) this.observeView(onView);
  }

  // observeView reports the tile's size (ResizeObserver) and whether it
  // intersects the viewport (IntersectionObserver); a tile not in the
  // document reports invisible.
  private observeView(onView: (size: TileViewSize) => void): void {
    let size = { width: 0, height: 0 };
    let onScreen = false;
    const report = () => onView({ ...size, visible: onScreen && this.el.isConnected && size.width > 0 && size.height > 0 });
    this.resizeObserver = new ResizeObserver((entries) => {
      const box = entries[entries.length - 1].contentRect;
      size = { width: box.width, height: box.height };
      report();
    });
    this.intersectionObserver = new IntersectionObserver((entries) => {
      onScreen = entries[entries.length - 1].isIntersecting;
      report();
    });
    this.resizeObserver.observe(this.el);
    this.intersectionObserver.observe(this.el);
  }

  update(t: TileInfo): void {
    const label = t.self ? `${t.name} (You)` : t.name || "Joining…";
    setText(this.nameEl, label);
    setText(this.avatar, initials(t.name || "?"));
    this.avatar.style.background = avatarColor(t.colorKey || t.id);
    this.el.setAttribute("aria-label", label);
    if (this.video.srcObject !== t.stream) {
      this.video.srcObject = t.stream;
      if (t.stream && !t.self) this.watchFirstFrame();
    }
    const videoOff = t.videoMuted && !t.screenSharing;
    this.el.classList.toggle("video-off", videoOff || !t.stream || t.stream.getVideoTracks().length === 0);
    this.el.classList.toggle("audio-muted", t.audioMuted);
    this.el.classList.toggle("sharing", t.screenSharing);
    this.el.classList.toggle("mirror", t.self && !t.screenSharing);
    this.el.dataset.audioMuted = String(t.audioMuted);
    this.el.dataset.videoMuted = String(t.videoMuted);
    this.el.dataset.screenSharing = String(t.screenSharing);
    setText(this.status, t.connecting ? "Connecting…" : "");
    this.hand.hidden = !t.handRaised;
    this.el.classList.toggle("hand-raised", !!t.handRaised);
    this.hostTag.hidden = !t.host;
    this.onMenu = t.onMenu ?? null;
    this.more.hidden = !this.onMenu;
    const moreLabel = `More options for ${t.name || "this participant"}`;
    if (this.more.getAttribute("aria-label") !== moreLabel) {
      this.more.setAttribute("aria-label", moreLabel);
      this.more.title = moreLabel;
    }
    if (!t.self && t.sinkId !== undefined && t.sinkId !== this.sinkId) {
      this.sinkId = t.sinkId;
      const v = this.video as HTMLVideoElement & { setSinkId?: (id: string) => Promise<void> };
      v.setSinkId?.(t.sinkId).catch((e) => console.warn("huddle: setSinkId", e));
    }
  }

  // showReaction floats an emoji up over the tile for a few seconds.
  showReaction(emoji: string): void {
    const el = h("span", { class: "reaction", attrs: { role: "img", "aria-label": `Reaction ${emoji}` } }, emoji);
    el.style.left = `${20 + Math.random() * 60}%`;
    this.el.appendChild(el);
    setTimeout(() => el.remove(), REACTION_SHOW_MS);
  }

  setSpeaking(on: boolean): void {
    this.el.classList.toggle("speaking", on);
  }

  // watchFirstFrame reports the first decoded frame painted in this tile.
  private watchFirstFrame(): void {
    if (this.frameWatch || !this.onFirstFrame) return;
    this.frameWatch = true;
    const v = this.video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => this.onFirstFrame?.());
    else v.addEventListener("loadeddata", () => this.onFirstFrame?.(), { once: true });
  }

  destroy(): void {
    this.resizeObserver?.disconnect();
    this.intersectionObserver?.disconnect();
    this.video.srcObject = null;
    this.el.remove();
  }
}
