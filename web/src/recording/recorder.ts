// Recorder records in the call with MediaRecorder (WebM, VP8 or VP9 with
// Opus) in 2 s chunks, each handed to the Uploader, which stores it in the
// IndexedDB queue before sending it. Three kinds:
//   camera  — one's own camera as sent, with its filter (drawn on a canvas,
//             so a camera switch, a filter change or a mute does not end
//             the recording) and microphone;
//   screen  — one's screen share (started for it when not on) and microphone;
//             it ends when the share ends;
//   meeting — every participant drawn by the Compositor, every audio track,
//             local and remote, mixed with WebAudio.
// While it records, the session publishes MediaState.recording (everyone
// sees "Recording" with our name) and the chat says who started and stopped.
import type { CallSession } from "../call/session";
import type { ChatClient } from "../chat/client";
import { RecordingKind } from "../proto";
import { KIND_NAMES, newRecordingId } from "./api";
import { Compositor, type CompositorTile } from "./compositor";
import { AudioMixer } from "./mixer";
import type { Uploader } from "./uploader";

export const TIMESLICE_MS = 2_000;
const VIDEO_BPS = 2_500_000;
const WARMUP_MS = 1_500; // at most, for the drawn videos' first frames
const AUDIO_BPS = 128_000;

// VP8 first: it costs less CPU to encode than VP9 while the same browser
// also encodes the call's own streams.
const MIME_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm;codecs=vp8", "video/webm"];

export function pickMimeType(): string {
  if (typeof MediaRecorder === "undefined") return "";
  return MIME_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) ?? "";
}

export function recordingSupported(): boolean {
  return pickMimeType() !== "" && typeof HTMLCanvasElement.prototype.captureStream === "function";
}

export type RecorderState = "idle" | "starting" | "recording" | "stopping";

const STARTED: Record<RecordingKind, string> = {
  [RecordingKind.UNSPECIFIED]: "started recording",
  [RecordingKind.CAMERA]: "started recording their camera",
  [RecordingKind.SCREEN]: "started recording their screen",
  [RecordingKind.MEETING]: "started recording the whole meeting",
};

export interface RecorderOptions {
  session: CallSession;
  uploader: Uploader;
  chat?: ChatClient | null;
}

export interface RecorderDebug {
  state: RecorderState;
  kind: string;
  rid: string;
  mimeType: string;
  chunks: number; // pieces MediaRecorder handed over
  startedAtMs: number;
  error: string;
}

export class Recorder {
  state: RecorderState = "idle";
  kind: RecordingKind = RecordingKind.UNSPECIFIED;
  rid = "";
  error = "";
  private mimeType = "";
  private chunks = 0;
  private startedAtMs = 0;
  private recorder: MediaRecorder | null = null;
  private compositor: Compositor | null = null;
  private mixer: AudioMixer | null = null;
  private cleanup: Array<() => void> = [];
  private stopped: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  private readonly onPageHide = () => {
    // The tab is going: hand over what was recorded since the last chunk
    // (stored if the browser gives the page time to).
    if (this.recorder?.state === "recording") this.recorder.requestData();
  };

  constructor(private readonly opts: RecorderOptions) {}

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // start records kind; it rejects with a message for the user.
  async start(kind: RecordingKind): Promise<void> {
    if (this.state !== "idle") return;
    const { session, uploader } = this.opts;
    const mimeType = pickMimeType();
    if (!mimeType) throw new Error("This browser cannot record video.");
    if (!session.recordingToken) throw new Error("Recording is not available on this server.");
    this.set("starting");
    try {
      if (kind === RecordingKind.SCREEN && !session.media.sharing) await session.toggleScreenShare();
      const stream = this.sources(kind);
      await this.compositor?.ready(WARMUP_MS);
      if (this.aborted()) throw new Error("stopped while starting");
      if (this.compositor) stream.addTrack(this.compositor.capture());
      const rid = newRecordingId();
      await uploader.begin({
        rid,
        meetingId: session.meetingId,
        token: session.recordingToken,
        kind,
        name: session.displayName,
        mimeType,
        createdAtMs: Date.now(),
        created: false,
        chunks: 0,
        uploaded: 0,
        ended: false,
        finished: false,
        failed: "",
      });
      const rec = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: VIDEO_BPS, audioBitsPerSecond: AUDIO_BPS });
      this.stopped = new Promise((resolve) => {
        rec.addEventListener("stop", () => {
          void uploader.end(rid).finally(resolve);
        });
      });
      rec.addEventListener("dataavailable", (ev) => {
        if (ev.data.size === 0) return;
        this.chunks++;
        uploader.append(rid, ev.data).catch((e: unknown) => console.warn("huddle: recording chunk not queued", e));
        this.emit();
      });
      rec.addEventListener("error", (ev) => {
        console.warn("huddle: MediaRecorder", ev);
        this.error = "The recording stopped because of an error.";
        void this.stop();
      });
      rec.start(TIMESLICE_MS);
      this.recorder = rec;
      this.rid = rid;
      this.kind = kind;
      this.mimeType = mimeType;
      this.chunks = 0;
      this.error = "";
      this.startedAtMs = Date.now();
      addEventListener("pagehide", this.onPageHide);
      this.set("recording");
      session.setRecording(true);
      this.say(STARTED[kind]);
    } catch (e) {
      const aborted = this.aborted();
      this.release();
      this.set("idle");
      if (aborted) return;
      if (e instanceof DOMException && e.name === "NotAllowedError") return; // the screen picker was cancelled
      throw e instanceof Error ? e : new Error(String(e));
    }
  }

  // stop ends the recording; resolves once its last chunk is queued.
  async stop(): Promise<void> {
    if (this.state === "starting") {
      this.set("idle"); // start() sees it and gives up
      return;
    }
    if (this.state !== "recording") return this.stopped;
    this.set("stopping");
    removeEventListener("pagehide", this.onPageHide);
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    await this.stopped;
    this.release();
    this.opts.session.setRecording(false);
    this.say("stopped recording");
    this.set("idle");
  }

  debug(): RecorderDebug {
    return {
      state: this.state,
      kind: KIND_NAMES[this.kind],
      rid: this.rid,
      mimeType: this.mimeType,
      chunks: this.chunks,
      startedAtMs: this.startedAtMs,
      error: this.error,
    };
  }

  // sources builds the stream to record for kind: the mixed audio, and the
  // screen's track; the compositor's is added once it has drawn its videos.
  private sources(kind: RecordingKind): MediaStream {
    const { session } = this.opts;
    const media = session.media;
    const mixer = new AudioMixer();
    this.mixer = mixer;
    let video: MediaStreamTrack | null = null;
    if (kind === RecordingKind.SCREEN) {
      const screen = media.screen;
      if (!screen) throw new Error("Share your screen to record it.");
      video = screen;
      const onEnded = () => void this.stop();
      screen.addEventListener("ended", onEnded);
      this.cleanup.push(() => screen.removeEventListener("ended", onEnded));
      // Sharing stopped from the call's button (the track is stopped then too).
      this.cleanup.push(media.onChange(() => media.screen !== screen && void this.stop()));
    } else {
      if (kind === RecordingKind.CAMERA) {
        // The camera's own size (up to 720p): no upscaling to encode.
        const { width = 1280, height = 720 } = media.camera?.getSettings() ?? {};
        const scale = Math.min(1, 1280 / width, 720 / height);
        this.compositor = new Compositor(() => [this.selfTile(false)], even(width * scale), even(height * scale));
      } else {
        this.compositor = new Compositor(() => this.meetingTiles());
      }
    }
    const syncAudio = () =>
      mixer.set(
        kind === RecordingKind.MEETING
          ? [media.audio, ...[...session.participants.values()].flatMap((p) => p.stream?.getAudioTracks() ?? [])]
          : [media.audio],
      );
    syncAudio();
    this.cleanup.push(session.onChange(syncAudio), media.onChange(syncAudio));
    return new MediaStream(video ? [video, mixer.track] : [mixer.track]);
  }

  private selfTile(withScreen: boolean): CompositorTile {
    const { session } = this.opts;
    const m = session.media;
    const screen = withScreen && m.screen !== null;
    return {
      key: "self",
      name: session.displayName,
      colorKey: session.participantId,
      // The camera as the others see it: through the filter when one is on.
      track: screen ? m.screen : m.videoMuted ? null : m.sentCamera,
      screen,
    };
  }

  private meetingTiles(): CompositorTile[] {
    const { session } = this.opts;
    const remotes = [...session.participants.values()].sort((a, b) => a.joinedAtMs - b.joinedAtMs || a.id.localeCompare(b.id));
    return [
      this.selfTile(true),
      ...remotes.map((p) => ({
        key: p.id,
        name: p.displayName || "Guest",
        colorKey: p.id,
        // A shared screen travels beside the camera: record the screen then.
        track: p.media.screenSharing
          ? (p.screenStream?.getVideoTracks()[0] ?? null)
          : p.media.videoMuted
            ? null
            : (p.stream?.getVideoTracks()[0] ?? null),
        screen: p.media.screenSharing,
      })),
    ];
  }

  // aborted: stop() was called while start() awaited.
  private aborted(): boolean {
    return this.state !== "starting";
  }

  private release(): void {
    for (const fn of this.cleanup) fn();
    this.cleanup = [];
    this.compositor?.stop();
    this.compositor = null;
    this.mixer?.close();
    this.mixer = null;
    this.recorder = null;
  }

  // say posts a line in the chat under our name, so everyone reads who
  // recorded, also later in the history.
  private say(what: string): void {
    const name = this.opts.session.displayName;
    this.opts.chat?.post(`${name} ${what}.`, name);
  }

  private set(s: RecorderState): void {
    this.state = s;
    this.emit();
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}

// even: encoders want even frame sizes.
function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}
