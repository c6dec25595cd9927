// TileView is one participant's tile in the call grid: video (or avatar with
// initials when the camera is off), name, muted-mic indicator, and a badge
// while they share their screen.
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
}

export class TileView {
  readonly el: HTMLElement;
  private readonly video: HTMLVideoElement;
  private readonly avatar: HTMLElement;
  private readonly nameEl: HTMLElement;
  private readonly micEl: HTMLElement;
  private readonly badge: HTMLElement;
  private readonly status: HTMLElement;
  private sinkId = "";
  private frameWatch = false;

  constructor(
    readonly id: string,
    self: boolean,
    private readonly onFirstFrame?: () => void,
  ) {
    this.video = h("video", { class: "tile-video", attrs: { autoplay: true, playsinline: true } });
    if (self) this.video.muted = true; // never play our own microphone back
    this.avatar = h("div", { class: "avatar" });
    this.nameEl = h("span", { class: "tile-name-text" });
    this.micEl = h("span", { class: "tile-mic", attrs: { role: "img", "aria-label": "Microphone muted", title: "Microphone muted" } }, icon("micOff", 18));
    this.badge = h("span", { class: "tile-badge" }, icon("screenShare", 16), h("span", {}, "Presenting"));
    this.status = h("span", { class: "tile-status" });
    this.el = h(
      "div",
      { class: `tile${self ? " tile-self" : ""}`, attrs: { "data-participant-id": id, role: "group" } },
      this.video,
      h("div", { class: "tile-avatar" }, this.avatar),
      this.badge,
      this.micEl,
      this.status,
      h("div", { class: "tile-name" }, this.nameEl),
    );
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
    if (!t.self && t.sinkId !== undefined && t.sinkId !== this.sinkId) {
      this.sinkId = t.sinkId;
      const v = this.video as HTMLVideoElement & { setSinkId?: (id: string) => Promise<void> };
      v.setSinkId?.(t.sinkId).catch((e) => console.warn("huddle: setSinkId", e));
    }
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
    this.video.srcObject = null;
    this.el.remove();
  }
}
