// LocalMedia owns this browser's microphone, camera and screen tracks, the
// device choices (remembered in localStorage), the mute state and the video
// filter on the camera. Muting sets track.enabled = false and a filter is a
// track put in the camera's place, so neither needs a renegotiation. A
// screen share is a second video track in a MediaStream of its own
// (screenStream): the camera keeps being sent beside it.
import { CameraFilter } from "../filters/camera";
import type { FilterId } from "../filters/catalog";

const PREF_KEY = "huddle.devices";

export interface DevicePrefs {
  audioInput?: string;
  videoInput?: string;
  audioOutput?: string;
}

export function loadDevicePrefs(): DevicePrefs {
  try {
    return JSON.parse(localStorage.getItem(PREF_KEY) ?? "{}") as DevicePrefs;
  } catch {
    return {};
  }
}

function saveDevicePrefs(p: DevicePrefs): void {
  try {
    localStorage.setItem(PREF_KEY, JSON.stringify(p));
  } catch {
    /* storage may be unavailable (private mode) */
  }
}

export function supportsSinkId(): boolean {
  return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
}

export class LocalMedia {
  // The stream the peer connections send (camera video, through the filter
  // when one is on, + microphone audio); the self views show it too.
  readonly stream = new MediaStream();
  // The stream the screen travels in (only the screen track, never audio):
  // the receivers tell the screen from the camera by it. One stream for the
  // page's life, so a second share reuses the same stream id.
  readonly screenStream = new MediaStream();
  audio: MediaStreamTrack | null = null;
  camera: MediaStreamTrack | null = null;
  screen: MediaStreamTrack | null = null;
  audioMuted = false;
  videoMuted = false;
  prefs: DevicePrefs = loadDevicePrefs();
  error: string | null = null;
  readonly filter = new CameraFilter();
  private listeners = new Set<() => void>();

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  // The camera track being sent (the screen goes on a sender of its own).
  get videoTrack(): MediaStreamTrack | null {
    return this.sentCamera;
  }

  // The camera as sent: the filter's output while a filter is on.
  get sentCamera(): MediaStreamTrack | null {
    return this.camera ? (this.filter.output ?? this.camera) : null;
  }

  get sharing(): boolean {
    return this.screen !== null;
  }

  // start opens the microphone and camera (the remembered ones when present).
  async start(): Promise<void> {
    this.error = null;
    const audio: MediaTrackConstraints | boolean = this.prefs.audioInput
      ? { deviceId: { ideal: this.prefs.audioInput } }
      : true;
    const video: MediaTrackConstraints = {
      width: { ideal: 1280 },
      height: { ideal: 720 },
      ...(this.prefs.videoInput ? { deviceId: { ideal: this.prefs.videoInput } } : {}),
    };
    let got: MediaStream | null = null;
    try {
      got = await navigator.mediaDevices.getUserMedia({ audio, video });
    } catch (e) {
      // Try each kind alone: a missing camera must not cost the microphone.
      const [a, v] = await Promise.allSettled([
        navigator.mediaDevices.getUserMedia({ audio }),
        navigator.mediaDevices.getUserMedia({ video }),
      ]);
      got = new MediaStream();
      if (a.status === "fulfilled") a.value.getTracks().forEach((t) => got!.addTrack(t));
      if (v.status === "fulfilled") v.value.getTracks().forEach((t) => got!.addTrack(t));
      if (got.getTracks().length === 0) {
        this.error = describeMediaError(e);
      }
    }
    this.setTrack("audio", got.getAudioTracks()[0] ?? null);
    this.setTrack("video", got.getVideoTracks()[0] ?? null);
    this.emit();
  }

  private setTrack(kind: "audio" | "video", track: MediaStreamTrack | null): void {
    if (kind === "audio") {
      if (this.audio) {
        this.audio.stop();
        this.stream.removeTrack(this.audio);
      }
      this.audio = track;
      if (track) {
        track.enabled = !this.audioMuted;
        this.stream.addTrack(track);
      }
      return;
    }
    const old = this.camera;
    this.camera = track;
    if (track) track.enabled = !this.videoMuted;
    const stopOldOutput = this.filter.setInput(track);
    this.placeCamera();
    stopOldOutput();
    old?.stop();
  }

  // placeCamera puts the camera as sent into the stream, in place of the
  // video track it held.
  private placeCamera(): void {
    const sent = this.sentCamera;
    for (const t of this.stream.getVideoTracks()) if (t !== sent) this.stream.removeTrack(t);
    if (sent && !this.stream.getVideoTracks().includes(sent)) this.stream.addTrack(sent);
    if (this.filter.output) this.filter.output.enabled = !this.videoMuted;
  }

  // setFilter puts a filter on the camera (or takes it off with "none");
  // remembered in this browser. The caller replaces the video track on its
  // senders (onChange fires) before the old filtered track stops.
  setFilter(id: FilterId): void {
    const stopOld = this.filter.choose(id);
    this.placeCamera();
    this.emit();
    stopOld();
  }

  async devices(): Promise<{ audioInput: MediaDeviceInfo[]; videoInput: MediaDeviceInfo[]; audioOutput: MediaDeviceInfo[] }> {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      audioInput: all.filter((d) => d.kind === "audioinput"),
      videoInput: all.filter((d) => d.kind === "videoinput"),
      audioOutput: all.filter((d) => d.kind === "audiooutput"),
    };
  }

  // useDevice switches the microphone or camera; the caller replaces the
  // track on its senders (onChange fires).
  async useDevice(kind: "audioInput" | "videoInput", deviceId: string): Promise<void> {
    this.prefs = { ...this.prefs, [kind]: deviceId };
    saveDevicePrefs(this.prefs);
    if (kind === "audioInput") {
      const s = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: deviceId } } });
      this.setTrack("audio", s.getAudioTracks()[0] ?? null);
    } else {
      const s = await navigator.mediaDevices.getUserMedia({
        video: { deviceId: { exact: deviceId }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      this.setTrack("video", s.getVideoTracks()[0] ?? null);
    }
    this.emit();
  }

  setAudioOutput(deviceId: string): void {
    this.prefs = { ...this.prefs, audioOutput: deviceId };
    saveDevicePrefs(this.prefs);
    this.emit();
  }

  setAudioMuted(muted: boolean): void {
    this.audioMuted = muted;
    if (this.audio) this.audio.enabled = !muted;
    this.emit();
  }

  setVideoMuted(muted: boolean): void {
    this.videoMuted = muted;
    if (this.camera) this.camera.enabled = !muted;
    if (this.filter.output) this.filter.output.enabled = !muted;
    this.emit();
  }

  // startScreenShare asks for a screen; the browser's own "Stop sharing"
  // ends the track, and sharing stops (onChange fires) as with stopScreenShare.
  async startScreenShare(): Promise<MediaStreamTrack> {
    const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const track = s.getVideoTracks()[0];
    if (!track) throw new Error("no screen track");
    track.contentHint = "detail";
    this.screen?.stop(); // a second share replaces the first
    this.setScreen(track);
    track.addEventListener("ended", () => {
      if (this.screen === track) {
        this.setScreen(null);
        this.emit();
      }
    });
    this.emit();
    return track;
  }

  stopScreenShare(): void {
    const t = this.screen;
    this.setScreen(null);
    t?.stop();
    this.emit();
  }

  // setScreen makes track the shared screen (null: none) in screenStream.
  private setScreen(track: MediaStreamTrack | null): void {
    for (const t of this.screenStream.getTracks()) if (t !== track) this.screenStream.removeTrack(t);
    if (track && !this.screenStream.getTracks().includes(track)) this.screenStream.addTrack(track);
    this.screen = track;
  }

  stop(): void {
    this.filter.stop();
    for (const t of [this.audio, this.camera, this.screen]) t?.stop();
    for (const t of this.stream.getTracks()) this.stream.removeTrack(t);
    this.setScreen(null);
    this.audio = this.camera = null;
    this.emit();
  }
}

function describeMediaError(e: unknown): string {
  const name = e instanceof DOMException ? e.name : "";
  if (name === "NotAllowedError") return "Camera and microphone are blocked. Allow them in the browser to be seen and heard.";
  if (name === "NotFoundError") return "No camera or microphone found.";
  if (name === "NotReadableError") return "Camera or microphone is in use by another application.";
  return "Camera and microphone are not available.";
}
