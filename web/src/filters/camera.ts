// CameraFilter puts the chosen filter on the camera track. While a filter is
// chosen, `output` is a track to send in the camera's place (LocalMedia puts
// it on every sender with replaceTrack: no renegotiation); with None it is
// null and the camera itself is sent, at no cost. Switching between filters
// keeps the same output track, so only None <-> a filter changes what the
// senders hold.
//
// Frames go through a FilterRenderer (WebGL2) on the main thread:
// - Chromium: MediaStreamTrackProcessor -> VideoFrame -> renderer ->
//   new VideoFrame(canvas) -> MediaStreamTrackGenerator (not throttled in a
//   background tab);
// - elsewhere: a <video> of the camera drawn on each requestVideoFrameCallback,
//   the canvas's captureStream() as the output.
// Background blur segments a recent frame and blurs every frame with the
// latest mask. The model runs on the main thread too, so a segmentation
// starts only after a pause as long as the previous one took (at most half
// the time goes to the model, whatever the machine) and at most
// SEGMENT_FPS times a second: frames keep flowing however slow the model is.
// Until the model has loaded (or if it cannot), the whole frame is blurred
// rather than the background shown.
import { type FilterId, loadFilterChoice, saveFilterChoice } from "./catalog";
import { FilterRenderer } from "./renderer";
import { Segmenter } from "./segmenter";

export type SegmenterState = "off" | "loading" | "ready" | "failed";

// The mask is computed on a copy this wide (the model's input is 256×144).
const SEGMENT_WIDTH = 256;
const SEGMENT_FPS = 15;
// Smoothing of the per-frame cost averages (exponential, per frame).
const EMA = 0.05;

// Chromium's "breakout box" (mediacapture-transform), not in lib.dom.
declare class MediaStreamTrackProcessor {
  constructor(init: { track: MediaStreamTrack; maxBufferSize?: number });
  readonly readable: ReadableStream<VideoFrame>;
}
declare class MediaStreamTrackGenerator extends MediaStreamTrack {
  constructor(init: { kind: "video" });
  readonly writable: WritableStream<VideoFrame>;
}

// Draws one frame through the filter onto renderer.canvas.
type DrawFrame = (renderer: FilterRenderer, source: TexImageSource & CanvasImageSource, w: number, h: number) => void;

interface Pipe {
  readonly input: MediaStreamTrack;
  readonly output: MediaStreamTrack;
  stop(): void;
}

export interface CameraFilterDebug {
  choice: FilterId;
  // The output track is live (a filter is on the camera).
  active: boolean;
  path: "breakout" | "canvas" | "";
  frames: number;
  frameMs: number;
  segmenter: SegmenterState;
  masks: number;
  segmentMs: number;
  error: string | null;
}

export class CameraFilter {
  choice: FilterId;
  error: string | null = null;
  segmenterState: SegmenterState = "off";
  private input: MediaStreamTrack | null = null;
  private pipe: Pipe | null = null;
  private segmenter: Segmenter | null = null;
  private segmenting = false;
  private nextSegmentAt = 0; // performance.now() before which none starts
  private stopped = false;
  private segmentCanvas: HTMLCanvasElement | null = null;
  private readonly stats = { frames: 0, frameMs: 0, masks: 0, segmentMs: 0 };
  private listeners = new Set<() => void>();

  constructor(choice: FilterId = loadFilterChoice()) {
    this.choice = choice;
  }

  // The track to send instead of the camera, or null to send the camera.
  get output(): MediaStreamTrack | null {
    return this.pipe?.output ?? null;
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  // setInput follows the camera track (a new device, or none). The old
  // output, if any, keeps running until stopOld() so the caller can put the
  // new one on the senders first; it returns that stop.
  setInput(track: MediaStreamTrack | null): () => void {
    this.input = track;
    return this.rebuild();
  }

  // choose switches the filter (remembered in this browser). Returns the
  // stop of an output that is no longer needed, for after the senders moved.
  choose(id: FilterId): () => void {
    if (id === this.choice) return () => {};
    this.choice = id;
    saveFilterChoice(id);
    this.error = null;
    if (id === "background-blur") void this.loadSegmenter();
    const stopOld = this.rebuild();
    this.emit();
    return stopOld;
  }

  stop(): void {
    this.stopped = true;
    this.input = null;
    this.rebuild()();
    this.segmenter?.close();
    this.segmenter = null;
    if (this.segmenterState === "ready") this.segmenterState = "off";
  }

  debug(): CameraFilterDebug {
    return {
      choice: this.choice,
      active: this.pipe !== null && this.pipe.output.readyState === "live",
      path: this.pipe instanceof BreakoutPipe ? "breakout" : this.pipe ? "canvas" : "",
      frames: this.stats.frames,
      frameMs: Math.round(this.stats.frameMs * 100) / 100,
      segmenter: this.segmenterState,
      masks: this.stats.masks,
      segmentMs: Math.round(this.stats.segmentMs * 10) / 10,
      error: this.error,
    };
  }

  private rebuild(): () => void {
    const want = this.choice !== "none" && this.input !== null && this.input.readyState === "live";
    const old = this.pipe;
    if (want && old && old.input === this.input) return () => {};
    this.pipe = null;
    if (want && this.input) {
      if (this.choice === "background-blur" && this.segmenterState === "off") void this.loadSegmenter();
      try {
        this.pipe = openPipe(this.input, this.draw);
      } catch (e) {
        console.warn("huddle: video filter", e);
        this.error = "Video filters are not available in this browser.";
      }
    }
    return () => old?.stop();
  }

  private readonly draw: DrawFrame = (renderer, source, w, h) => {
    const t0 = performance.now();
    const filter = this.choice;
    if (filter === "background-blur") this.segment(renderer, source, w, h);
    renderer.render(source, w, h, filter, t0);
    const s = this.stats;
    s.frameMs = s.frames === 0 ? performance.now() - t0 : s.frameMs + (performance.now() - t0 - s.frameMs) * EMA;
    s.frames++;
  };

  // segment starts a segmentation of this frame unless one is under way.
  private segment(renderer: FilterRenderer, source: CanvasImageSource, w: number, h: number): void {
    const seg = this.segmenter;
    if (!seg || this.segmenting || w === 0 || h === 0 || performance.now() < this.nextSegmentAt) return;
    const canvas = (this.segmentCanvas ??= document.createElement("canvas"));
    const sh = Math.max(1, Math.round((SEGMENT_WIDTH * h) / w));
    if (canvas.width !== SEGMENT_WIDTH || canvas.height !== sh) {
      canvas.width = SEGMENT_WIDTH;
      canvas.height = sh;
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.drawImage(source, 0, 0, SEGMENT_WIDTH, sh);
    this.segmenting = true;
    const t0 = performance.now();
    seg
      .segment(canvas, (mask) => renderer.setMask(mask))
      .then(() => {
        const s = this.stats;
        s.segmentMs = s.masks === 0 ? performance.now() - t0 : s.segmentMs + (performance.now() - t0 - s.segmentMs) * EMA;
        s.masks++;
      })
      .catch((e: unknown) => console.warn("huddle: segmentation", e))
      .finally(() => {
        const end = performance.now();
        this.nextSegmentAt = end + Math.max(end - t0, 1000 / SEGMENT_FPS - (end - t0));
        this.segmenting = false;
      });
  }

  private async loadSegmenter(): Promise<void> {
    if (this.segmenterState === "loading" || this.segmenterState === "ready") return;
    this.segmenterState = "loading";
    this.emit();
    try {
      const seg = await Segmenter.load();
      if (this.stopped) {
        seg.close();
        return;
      }
      this.segmenter = seg;
      this.segmenterState = "ready";
    } catch (e) {
      console.warn("huddle: background blur", e);
      this.segmenterState = "failed";
      if (this.choice === "background-blur") this.error = "Background blur could not start; the whole picture is blurred instead.";
    }
    this.emit();
  }
}

function openPipe(input: MediaStreamTrack, draw: DrawFrame): Pipe {
  const renderer = new FilterRenderer();
  try {
    return typeof MediaStreamTrackProcessor === "function" && typeof MediaStreamTrackGenerator === "function"
      ? new BreakoutPipe(input, renderer, draw)
      : new CanvasPipe(input, renderer, draw);
  } catch (e) {
    renderer.dispose();
    throw e;
  }
}

// BreakoutPipe: camera frames as VideoFrames in, rendered VideoFrames out.
// It reads a clone of the camera track, so ending it never ends the camera.
class BreakoutPipe implements Pipe {
  readonly output: MediaStreamTrackGenerator;
  private readonly source: MediaStreamTrack;
  private readonly abort = new AbortController();

  constructor(
    readonly input: MediaStreamTrack,
    private readonly renderer: FilterRenderer,
    draw: DrawFrame,
  ) {
    this.source = input.clone();
    this.source.enabled = true;
    const processor = new MediaStreamTrackProcessor({ track: this.source, maxBufferSize: 1 });
    this.output = new MediaStreamTrackGenerator({ kind: "video" });
    const out = this.output;
    const transform = new TransformStream<VideoFrame, VideoFrame>({
      transform(frame, ctl) {
        // A disabled output sends black anyway: pass frames through unfiltered.
        if (!out.enabled) {
          ctl.enqueue(frame);
          return;
        }
        try {
          draw(renderer, frame, frame.displayWidth, frame.displayHeight);
          ctl.enqueue(new VideoFrame(renderer.canvas, { timestamp: frame.timestamp, alpha: "discard" }));
        } catch (e) {
          console.warn("huddle: video filter frame", e); // dropped, never sent unfiltered
        } finally {
          frame.close();
        }
      },
    });
    const signal = this.abort.signal;
    processor.readable
      .pipeThrough(transform, { signal })
      .pipeTo(out.writable, { signal })
      .catch((e: unknown) => {
        if (!signal.aborted) console.warn("huddle: video filter stopped", e);
      });
  }

  stop(): void {
    this.abort.abort();
    this.output.stop();
    this.source.stop();
    this.renderer.dispose();
  }
}

// CanvasPipe: the camera in a <video>, drawn on each new frame; the output
// is the canvas's own stream.
class CanvasPipe implements Pipe {
  readonly output: MediaStreamTrack;
  private readonly video = document.createElement("video");
  private stopped = false;

  constructor(
    readonly input: MediaStreamTrack,
    private readonly renderer: FilterRenderer,
    private readonly draw: DrawFrame,
  ) {
    const track = renderer.canvas.captureStream().getVideoTracks()[0];
    if (!track) throw new Error("canvas.captureStream gave no track");
    this.output = track;
    const v = this.video;
    v.muted = true;
    v.playsInline = true;
    v.srcObject = new MediaStream([input]);
    v.play().catch((e: unknown) => console.warn("huddle: video filter source", e));
    this.next();
  }

  private next(): void {
    if (this.stopped) return;
    if ("requestVideoFrameCallback" in this.video) this.video.requestVideoFrameCallback(() => this.tick());
    else setTimeout(() => this.tick(), 33);
  }

  private tick(): void {
    if (this.stopped) return;
    const v = this.video;
    if (v.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && v.videoWidth > 0 && this.output.enabled) {
      try {
        this.draw(this.renderer, v, v.videoWidth, v.videoHeight);
      } catch (e) {
        console.warn("huddle: video filter frame", e);
      }
    }
    this.next();
  }

  stop(): void {
    this.stopped = true;
    this.video.srcObject = null;
    this.output.stop();
    this.renderer.dispose();
  }
}
