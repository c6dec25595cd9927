// The shared player's two engines behind one interface: a <video> element
// for video files (and HLS where the browser plays it natively), and
// YouTube's IFrame API for YouTube links. WatchSync (sync.ts) drives them
// and listens to what the user does with their controls.
import { h } from "../ui/dom";

// PlayerEvent is something that happened in the player: the user's (or our
// own) play, pause, seek or rate change, and the player's life.
export type PlayerEvent = "ready" | "play" | "pause" | "seeked" | "ratechange" | "ended" | "error";

export interface WatchPlayer {
  readonly el: HTMLElement;
  readonly ready: boolean;
  // canNudge: small playbackRate changes work (YouTube knows only a few rates).
  readonly canNudge: boolean;
  position(): number; // seconds
  paused(): boolean;
  rate(): number;
  duration(): number; // seconds; NaN or Infinity while unknown
  seeking(): boolean;
  play(): Promise<void>;
  pause(): void;
  seek(seconds: number): void;
  setRate(rate: number): void;
  setMuted(muted: boolean): void;
  on(fn: (ev: PlayerEvent, detail?: string) => void): void;
  destroy(): void;
}

// ---- video files ----

const MEDIA_ERRORS: Record<number, string> = {
  1: "loading was aborted",
  2: "a network error stopped the download",
  3: "the video could not be decoded",
  4: "the link is not a video this browser can play (or cannot be reached)",
};

export class FilePlayer implements WatchPlayer {
  readonly el: HTMLVideoElement;
  readonly canNudge = true;
  ready = false;
  private listeners = new Set<(ev: PlayerEvent, detail?: string) => void>();

  constructor(url: string) {
    // No crossorigin attribute: any server may host the video (no CORS needed).
    this.el = h("video", {
      class: "watch-video",
      attrs: { controls: true, playsinline: true, preload: "auto", "aria-label": "Shared video" },
    });
    const fire = (ev: PlayerEvent, detail?: string) => {
      for (const fn of this.listeners) fn(ev, detail);
    };
    this.el.addEventListener("loadedmetadata", () => {
      this.ready = true;
      fire("ready");
    });
    for (const ev of ["play", "pause", "seeked", "ratechange", "ended"] as const) this.el.addEventListener(ev, () => fire(ev));
    this.el.addEventListener("error", () => {
      const code = this.el.error?.code ?? 0;
      fire("error", MEDIA_ERRORS[code] ?? "the video could not be played");
    });
    this.el.src = url;
  }

  position(): number {
    return this.el.currentTime;
  }
  paused(): boolean {
    return this.el.paused;
  }
  rate(): number {
    return this.el.playbackRate;
  }
  duration(): number {
    return this.el.duration;
  }
  seeking(): boolean {
    return this.el.seeking;
  }
  play(): Promise<void> {
    return this.el.play();
  }
  pause(): void {
    this.el.pause();
  }
  seek(seconds: number): void {
    this.el.currentTime = seconds;
  }
  setRate(rate: number): void {
    this.el.playbackRate = rate;
  }
  setMuted(muted: boolean): void {
    this.el.muted = muted;
  }
  on(fn: (ev: PlayerEvent, detail?: string) => void): void {
    this.listeners.add(fn);
  }
  destroy(): void {
    this.listeners.clear();
    this.el.pause();
    this.el.removeAttribute("src");
    this.el.load(); // stops the download
    this.el.remove();
  }
}

// canPlayHls: whether this browser plays HLS in a <video> by itself.
export function canPlayHls(): boolean {
  return document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "";
}

// ---- YouTube ----

export const YOUTUBE_API_URL = "https://www.youtube.com/iframe_api";
export const YOUTUBE_EMBED_ORIGIN = "https://www.youtube-nocookie.com";
export const YOUTUBE_API_TIMEOUT_MS = 10_000;
// How far the YouTube position may jump between two polls beyond what
// playing explains before we take it for the user's seek (the API has no
// seek event).
const YOUTUBE_SEEK_JUMP_S = 1.5;
const YOUTUBE_POLL_MS = 250;
// A pause this soon after we asked to play is the browser's autoplay policy
// (the API reports no error): it is retried muted, not taken for the user's.
const YOUTUBE_AUTOPLAY_GRACE_MS = 1500;

// The parts of YouTube's IFrame API (https://developers.google.com/youtube/iframe_api_reference) we use.
interface YtPlayer {
  playVideo(): void;
  pauseVideo(): void;
  seekTo(seconds: number, allowSeekAhead: boolean): void;
  setPlaybackRate(rate: number): void;
  getPlaybackRate(): number;
  getCurrentTime(): number;
  getDuration(): number;
  getPlayerState(): number;
  mute(): void;
  unMute(): void;
  destroy(): void;
}
interface YtNamespace {
  Player: new (el: HTMLElement, opts: { events: Record<string, (e: { data: number }) => void> }) => YtPlayer;
  PlayerState: { ENDED: number; PLAYING: number; PAUSED: number; BUFFERING: number };
}
declare global {
  interface Window {
    YT?: YtNamespace;
    onYouTubeIframeAPIReady?: () => void;
  }
}

let apiPromise: Promise<YtNamespace> | null = null;

// loadYouTubeApi loads the IFrame API once; rejects when YouTube cannot be
// reached within YOUTUBE_API_TIMEOUT_MS (offline, blocked network).
function loadYouTubeApi(): Promise<YtNamespace> {
  if (window.YT?.Player) return Promise.resolve(window.YT);
  if (apiPromise) return apiPromise;
  apiPromise = new Promise<YtNamespace>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error("timed out")), YOUTUBE_API_TIMEOUT_MS);
    const script = h("script", { attrs: { src: YOUTUBE_API_URL, async: true } });
    const fail = (e: Error) => {
      clearTimeout(timer);
      script.remove();
      apiPromise = null; // try again next time
      reject(e);
    };
    const prev = window.onYouTubeIframeAPIReady;
    window.onYouTubeIframeAPIReady = () => {
      prev?.();
      clearTimeout(timer);
      if (window.YT?.Player) resolve(window.YT);
      else fail(new Error("no player in the API"));
    };
    script.addEventListener("error", () => fail(new Error("not reachable")));
    document.head.appendChild(script);
  });
  return apiPromise;
}

export class YouTubePlayer implements WatchPlayer {
  readonly el: HTMLElement;
  readonly canNudge = false;
  ready = false;
  private player: YtPlayer | null = null;
  private yt: YtNamespace | null = null;
  private listeners = new Set<(ev: PlayerEvent, detail?: string) => void>();
  private lastState = -1;
  private lastRate = 1;
  private lastPos = 0;
  private lastPollAt = 0;
  private poll?: ReturnType<typeof setInterval>;
  private seekingUntil = 0;
  private playAskedAt = Number.NEGATIVE_INFINITY;
  private retriedMuted = false;
  private destroyed = false;

  constructor(videoId: string) {
    // Our own iframe, so that it carries a referrer policy from the first
    // request: YouTube refuses embeds without a referrer, and the page's
    // policy is no-referrer (websec.c explains why this one is safe).
    const src = new URL(`${YOUTUBE_EMBED_ORIGIN}/embed/${encodeURIComponent(videoId)}`);
    src.searchParams.set("enablejsapi", "1");
    src.searchParams.set("origin", location.origin);
    src.searchParams.set("playsinline", "1");
    src.searchParams.set("rel", "0");
    const iframe = h("iframe", {
      class: "watch-youtube",
      attrs: {
        src: src.href,
        title: "Shared YouTube video",
        allow: "autoplay; encrypted-media; picture-in-picture",
        allowfullscreen: true,
        referrerpolicy: "strict-origin-when-cross-origin",
      },
    });
    this.el = iframe;
    loadYouTubeApi().then(
      (yt) => {
        if (this.destroyed) return;
        this.yt = yt;
        this.player = new yt.Player(iframe, {
          events: {
            onReady: () => {
              this.ready = true;
              this.lastRate = this.player?.getPlaybackRate() ?? 1;
              this.fire("ready");
            },
            onStateChange: (e) => this.onState(e.data),
            onPlaybackRateChange: () => {
              this.lastRate = this.player?.getPlaybackRate() ?? this.lastRate;
              this.fire("ratechange");
            },
            onError: (e) => this.fire("error", `YouTube cannot play this video (error ${e.data})`),
          },
        });
        this.poll = setInterval(() => this.checkSeek(), YOUTUBE_POLL_MS);
      },
      () => {
        if (!this.destroyed)
          this.fire("error", "YouTube cannot be reached from this browser (a link to an MP4 or WebM file works without YouTube)");
      },
    );
  }

  private fire(ev: PlayerEvent, detail?: string): void {
    for (const fn of this.listeners) fn(ev, detail);
  }

  private onState(s: number): void {
    const S = this.yt!.PlayerState;
    if (s === S.PAUSED && !this.retriedMuted && performance.now() - this.playAskedAt < YOUTUBE_AUTOPLAY_GRACE_MS) {
      this.retriedMuted = true;
      this.player?.mute();
      this.player?.playVideo();
      return;
    }
    this.lastState = s;
    if (s === S.PLAYING) this.fire("play");
    else if (s === S.PAUSED) this.fire("pause");
    else if (s === S.ENDED) this.fire("ended");
  }

  // checkSeek turns a jump of the position into a "seeked" event.
  private checkSeek(): void {
    if (!this.player || !this.ready) return;
    const now = performance.now();
    const pos = this.player.getCurrentTime();
    const playing = this.lastState === this.yt!.PlayerState.PLAYING;
    const expected = this.lastPos + (playing ? ((now - this.lastPollAt) / 1000) * this.lastRate : 0);
    const jumped = this.lastPollAt > 0 && Math.abs(pos - expected) > YOUTUBE_SEEK_JUMP_S;
    this.lastPos = pos;
    this.lastPollAt = now;
    if (jumped && now > this.seekingUntil) this.fire("seeked");
  }

  position(): number {
    return this.player?.getCurrentTime() ?? 0;
  }
  paused(): boolean {
    if (!this.yt) return true;
    const S = this.yt.PlayerState;
    return this.lastState !== S.PLAYING && this.lastState !== S.BUFFERING;
  }
  rate(): number {
    return this.lastRate;
  }
  duration(): number {
    return this.player?.getDuration() || Number.NaN;
  }
  seeking(): boolean {
    return performance.now() < this.seekingUntil;
  }
  play(): Promise<void> {
    this.playAskedAt = performance.now();
    this.player?.playVideo();
    if (this.yt) this.lastState = this.yt.PlayerState.BUFFERING; // playing is on its way
    return Promise.resolve();
  }
  pause(): void {
    this.player?.pauseVideo();
    if (this.yt) this.lastState = this.yt.PlayerState.PAUSED;
  }
  seek(seconds: number): void {
    // Our own jump: the poll must not report it as the user's.
    this.seekingUntil = performance.now() + 2 * YOUTUBE_POLL_MS;
    this.lastPos = seconds;
    this.lastPollAt = performance.now();
    this.player?.seekTo(seconds, true);
  }
  setRate(rate: number): void {
    this.lastRate = rate;
    this.player?.setPlaybackRate(rate);
  }
  setMuted(muted: boolean): void {
    if (muted) this.player?.mute();
    else this.player?.unMute();
  }
  on(fn: (ev: PlayerEvent, detail?: string) => void): void {
    this.listeners.add(fn);
  }
  destroy(): void {
    this.destroyed = true;
    clearInterval(this.poll);
    this.listeners.clear();
    try {
      this.player?.destroy();
    } catch {
      /* already gone */
    }
    this.el.remove();
  }
}
