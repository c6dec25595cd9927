// The filter benchmark page (run.mjs builds it with the web app's Vite config
// and drives it in headless Chromium): the web client's own FilterRenderer
// and Segmenter on 640×480 frames of Chromium's fake camera, read as
// VideoFrames as the call's pipeline reads them. Per filter: upload, draw,
// wrap the canvas in a new VideoFrame (what the pipeline sends), and wait
// until the GPU is done (readPixels of one pixel), timed per frame. Background
// blur also times a segmentation (frame copied to the model's 256-wide input,
// inference, mask uploaded). Results in window.benchResult.
import { FILTERS, type FilterId } from "../../../web/src/filters/catalog";
import { FilterRenderer } from "../../../web/src/filters/renderer";
import { Segmenter } from "../../../web/src/filters/segmenter";

declare class MediaStreamTrackProcessor {
  constructor(init: { track: MediaStreamTrack; maxBufferSize?: number });
  readonly readable: ReadableStream<VideoFrame>;
}

const WIDTH = 640;
const HEIGHT = 480;
const params = new URLSearchParams(location.search);
const FRAMES = Number(params.get("frames") ?? 150);
const WARMUP = 10;
const MASKS = Number(params.get("masks") ?? 40);

interface Row {
  filter: string;
  frames: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  // main thread only: until the drawing is issued and the VideoFrame made
  issueMeanMs?: number;
}

const log = document.getElementById("log")!;
const say = (s: string) => (log.textContent += `\n${s}`);

function summary(name: string, ms: number[]): Row {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const r = (x: number) => Math.round(x * 100) / 100;
  return { filter: name, frames: s.length, meanMs: r(s.reduce((a, b) => a + b, 0) / s.length), p50Ms: r(at(0.5)), p95Ms: r(at(0.95)) };
}

async function run() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { exact: WIDTH }, height: { exact: HEIGHT } } });
  const track = stream.getVideoTracks()[0];
  const reader = new MediaStreamTrackProcessor({ track, maxBufferSize: 1 }).readable.getReader();
  const nextFrame = async (): Promise<VideoFrame> => {
    const { value, done } = await reader.read();
    if (done || !value) throw new Error("camera ended");
    return value;
  };
  const renderer = new FilterRenderer();
  // The renderer's own context (getContext returns the one it made): reading
  // a pixel back waits until the GPU has drawn the frame.
  const gl = renderer.canvas.getContext("webgl2")!;
  const pixel = new Uint8Array(4);
  const finish = () => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
  const rows: Row[] = [];
  let issued: number[] = [];
  const time = async (filter: FilterId, count: number): Promise<number[]> => {
    const ms: number[] = [];
    issued = [];
    for (let i = 0; i < count + WARMUP; i++) {
      const frame = await nextFrame();
      const t0 = performance.now();
      renderer.render(frame, frame.displayWidth, frame.displayHeight, filter, t0);
      const out = new VideoFrame(renderer.canvas, { timestamp: frame.timestamp, alpha: "discard" });
      const tIssued = performance.now();
      finish();
      const t1 = performance.now();
      out.close();
      frame.close();
      if (i >= WARMUP) {
        ms.push(t1 - t0);
        issued.push(tIssued - t0);
      }
    }
    return ms;
  };

  const withIssue = (r: Row): Row => ({ ...r, issueMeanMs: summary("", issued).meanMs });
  for (const f of FILTERS) {
    if (f.id === "background-blur") continue;
    // None sends the camera itself; through the renderer it is a plain copy,
    // the floor under every filter.
    const name = f.id === "none" ? "(copy through the renderer)" : f.name;
    rows.push(withIssue(summary(name, await time(f.id, FRAMES))));
    say(JSON.stringify(rows[rows.length - 1]));
  }

  // Background blur: the model once (load), then a mask per segmentation.
  const t0 = performance.now();
  const seg = await Segmenter.load();
  const loadMs = Math.round(performance.now() - t0);
  const input = document.createElement("canvas");
  input.width = 256;
  input.height = Math.round((256 * HEIGHT) / WIDTH);
  const ctx = input.getContext("2d")!;
  const segMs: number[] = [];
  for (let i = 0; i < MASKS + 3; i++) {
    const frame = await nextFrame();
    const s0 = performance.now();
    ctx.drawImage(frame, 0, 0, input.width, input.height);
    await seg.segment(input, (mask) => renderer.setMask(mask));
    finish();
    const s1 = performance.now();
    frame.close();
    if (i >= 3) segMs.push(s1 - s0);
  }
  rows.push(withIssue(summary("Background blur: drawing, with a mask", await time("background-blur", FRAMES))));
  rows.push(summary("Background blur: segmentation, per mask", segMs));
  seg.close();
  renderer.dispose();
  track.stop();

  const probe = document.createElement("canvas").getContext("webgl2");
  const info = probe?.getExtension("WEBGL_debug_renderer_info");
  return {
    width: WIDTH,
    height: HEIGHT,
    userAgent: navigator.userAgent,
    renderer: probe && info ? String(probe.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "unknown",
    modelLoadMs: loadMs,
    rows,
  };
}

run().then(
  (r) => {
    (window as unknown as { benchResult: unknown }).benchResult = r;
    say("done");
  },
  (e: unknown) => {
    (window as unknown as { benchError: string }).benchError = String(e instanceof Error ? e.stack ?? e.message : e);
    say(`failed: ${String(e)}`);
  },
);
