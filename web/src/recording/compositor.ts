// Compositor draws video tiles onto a canvas whose capture() is the video
// of a recording: the whole meeting (every participant in a grid, a
// screen share large with the others in a column beside it, names on every
// tile, initials where a camera is off) or one's own camera alone. It reads
// the tiles afresh on every frame, so joins, leaves, mutes, device switches
// and screen shares show up without restarting the recording.
//
// Each track is played by a muted <video> of the compositor's own, kept in
// a hidden box, so the call's layout (spotlight, chat open) does not matter.
// Frames are drawn on the ticks of a worker (ticker.worker.ts): they keep
// coming while the tab is in the background, as far as the browser lets
// media play there.
import { avatarColor, initials } from "../ui/dom";

export interface CompositorTile {
  key: string; // stable per tile
  name: string;
  colorKey: string; // avatar colour seed
  track: MediaStreamTrack | null; // null or ended: the avatar is drawn
  screen: boolean; // a screen share: shown large, letterboxed, not cropped
}

const BG = "#202124";
const TILE_BG = "#3c4043";
const GAP = 8;
const STRIP_RATIO = 0.22; // share of the width the column beside a screen takes

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class Compositor {
  readonly canvas = document.createElement("canvas");
  private stream: MediaStream | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly box = document.createElement("div");
  private readonly videos = new Map<MediaStreamTrack, HTMLVideoElement>();
  private readonly ticker: Worker | null = null;
  private fallback?: ReturnType<typeof setInterval>;

  constructor(
    private readonly tiles: () => CompositorTile[],
    width = 1280,
    height = 720,
    private readonly fps = 25,
  ) {
    this.canvas.width = width;
    this.canvas.height = height;
    const ctx = this.canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("no 2D canvas");
    this.ctx = ctx;
    this.box.className = "rec-sources";
    this.box.setAttribute("aria-hidden", "true");
    document.body.append(this.box);
    this.draw();
    try {
      this.ticker = new Worker(new URL("./ticker.worker.ts", import.meta.url), { type: "module" });
      const ticker = this.ticker;
      ticker.onmessage = () => {
        try {
          this.draw();
        } finally {
          ticker.postMessage(-1); // drawn: the worker may send the next tick
        }
      };
      this.ticker.postMessage(Math.round(1000 / fps));
    } catch (e) {
      console.warn("huddle: recording ticker worker unavailable, drawing on page timers", e);
      this.fallback = setInterval(() => this.draw(), Math.round(1000 / fps));
    }
  }

  // capture starts the canvas's video track (after ready(): its first frame
  // is the first frame a recording shows).
  capture(): MediaStreamTrack {
    this.stream ??= this.canvas.captureStream(this.fps);
    return this.stream.getVideoTracks()[0];
  }

  stop(): void {
    this.ticker?.terminate();
    clearInterval(this.fallback);
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    for (const v of this.videos.values()) v.srcObject = null;
    this.videos.clear();
    this.box.remove();
  }

  private draw(): void {
    const tiles = this.tiles();
    this.syncVideos(tiles);
    const { width: W, height: H } = this.canvas;
    const c = this.ctx;
    c.fillStyle = BG;
    c.fillRect(0, 0, W, H);
    const presenter = tiles.find((t) => t.screen && live(t.track));
    if (presenter && tiles.length > 1) {
      const stripW = Math.round(W * STRIP_RATIO);
      this.drawTile(presenter, { x: GAP, y: GAP, w: W - stripW - GAP * 3, h: H - GAP * 2 });
      const others = tiles.filter((t) => t !== presenter);
      const rects = column(others.length, { x: W - stripW - GAP, y: GAP, w: stripW, h: H - GAP * 2 });
      others.forEach((t, i) => this.drawTile(t, rects[i]));
    } else {
      const rects = grid(tiles.length, { x: GAP, y: GAP, w: W - GAP * 2, h: H - GAP * 2 });
      tiles.forEach((t, i) => this.drawTile(t, rects[i]));
    }
  }

  private drawTile(t: CompositorTile, r: Rect): void {
    const c = this.ctx;
    c.save();
    roundRect(c, r, Math.min(12, r.w / 16));
    c.clip();
    c.fillStyle = TILE_BG;
    c.fillRect(r.x, r.y, r.w, r.h);
    const v = t.track ? this.videos.get(t.track) : undefined;
    if (v && live(t.track) && t.track!.enabled && v.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && v.videoWidth > 0) {
      // Cameras fill the tile (cropped); a screen is shown whole.
      const fit = t.screen ? Math.min : Math.max;
      const s = fit(r.w / v.videoWidth, r.h / v.videoHeight);
      const w = v.videoWidth * s;
      const h = v.videoHeight * s;
      if (t.screen) {
        c.fillStyle = "#000";
        c.fillRect(r.x, r.y, r.w, r.h);
      }
      c.drawImage(v, r.x + (r.w - w) / 2, r.y + (r.h - h) / 2, w, h);
    } else {
      const rad = Math.min(r.w, r.h) * 0.2;
      c.fillStyle = avatarColor(t.colorKey);
      c.beginPath();
      c.arc(r.x + r.w / 2, r.y + r.h / 2, rad, 0, Math.PI * 2);
      c.fill();
      c.fillStyle = "#fff";
      c.font = `500 ${Math.round(rad * 0.8)}px system-ui, sans-serif`;
      c.textAlign = "center";
      c.textBaseline = "middle";
      c.fillText(initials(t.name), r.x + r.w / 2, r.y + r.h / 2);
    }
    // The name, bottom left, on a dark band so it reads on any picture.
    const size = Math.max(12, Math.min(22, Math.round(r.h / 14)));
    c.font = `500 ${size}px system-ui, sans-serif`;
    c.textAlign = "left";
    c.textBaseline = "middle";
    const label = t.screen ? `${t.name} (presenting)` : t.name;
    const pad = Math.round(size * 0.5);
    const tw = Math.min(c.measureText(label).width, r.w - pad * 4);
    const bh = size + pad * 2;
    c.fillStyle = "rgba(0, 0, 0, 0.55)";
    roundRect(c, { x: r.x + pad, y: r.y + r.h - bh - pad, w: tw + pad * 2, h: bh }, 6);
    c.fill();
    c.fillStyle = "#fff";
    c.fillText(label, r.x + pad * 2, r.y + r.h - pad - bh / 2, r.w - pad * 4);
    c.restore();
  }

  // ready resolves once every tile's video has a frame to draw (or after
  // timeoutMs), so a recording does not open on initials while they load.
  async ready(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      this.syncVideos(this.tiles());
      if ([...this.videos.values()].every((v) => v.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && v.videoWidth > 0)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    this.draw();
  }

  // syncVideos keeps one playing <video> per track in use.
  private syncVideos(tiles: CompositorTile[]): void {
    const used = new Set(tiles.map((t) => t.track).filter((t): t is MediaStreamTrack => live(t)));
    for (const [track, v] of this.videos) {
      if (!used.has(track)) {
        v.srcObject = null;
        v.remove();
        this.videos.delete(track);
      }
    }
    for (const track of used) {
      if (this.videos.has(track)) continue;
      const v = document.createElement("video");
      v.muted = true;
      v.playsInline = true;
      v.autoplay = true;
      v.srcObject = new MediaStream([track]);
      this.box.append(v);
      void v.play().catch(() => {});
      this.videos.set(track, v);
    }
  }
}

function live(t: MediaStreamTrack | null | undefined): t is MediaStreamTrack {
  return !!t && t.readyState === "live";
}

// grid places n 16:9 tiles as large as they fit in r, rows centred.
function grid(n: number, r: Rect): Rect[] {
  if (n === 0) return [];
  let best = { cols: 1, w: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((r.w - GAP * (cols - 1)) / cols, ((r.h - GAP * (rows - 1)) / rows) * (16 / 9));
    if (w > best.w) best = { cols, w };
  }
  const w = Math.floor(best.w);
  const h = Math.floor((w * 9) / 16);
  const rows = Math.ceil(n / best.cols);
  const y0 = r.y + (r.h - (rows * h + (rows - 1) * GAP)) / 2;
  const out: Rect[] = [];
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i / best.cols);
    const inRow = Math.min(best.cols, n - row * best.cols);
    const x0 = r.x + (r.w - (inRow * w + (inRow - 1) * GAP)) / 2;
    out.push({ x: x0 + (i % best.cols) * (w + GAP), y: y0 + row * (h + GAP), w, h });
  }
  return out;
}

// column stacks n 16:9 tiles in r (smaller when they would not fit).
function column(n: number, r: Rect): Rect[] {
  if (n === 0) return [];
  const h = Math.min((r.w * 9) / 16, (r.h - GAP * (n - 1)) / n);
  const w = (h * 16) / 9;
  const y0 = r.y + (r.h - (n * h + (n - 1) * GAP)) / 2;
  return Array.from({ length: n }, (_, i) => ({ x: r.x + (r.w - w) / 2, y: y0 + i * (h + GAP), w, h }));
}

function roundRect(c: CanvasRenderingContext2D, r: Rect, radius: number): void {
  c.beginPath();
  c.roundRect(r.x, r.y, r.w, r.h, radius);
}
