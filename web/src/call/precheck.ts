// The pre-join checks: the meeting's ICE servers before joining (the
// gateway's ice_servers request on a short-lived connection of its own),
// ICE candidate gathering against them (does direct work: host / srflx; does
// relay work: a TURN allocation with the short-lived credentials), a
// microphone level meter and a speaker test tone.
import { SignalingClient, defaultSignalingUrl } from "../signaling/client";
import type { IceServer } from "../proto";

// Bounds: fetching the servers, and gathering candidates (TURN allocation
// over a slow path can take seconds).
export const ICE_SERVERS_TIMEOUT_MS = 8_000;
export const GATHER_TIMEOUT_MS = 10_000;

export interface ConnectivityResult {
  direct: boolean; // a host or server-reflexive candidate
  srflx: boolean; // the STUN server answered (a public address)
  relay: boolean; // the TURN server allocated a relay
  types: string[]; // candidate types gathered, in order
  stun: boolean; // the meeting has a STUN server
  turn: boolean; // the meeting has a TURN server
}

// fetchIceServers asks the gateway for meetingId's ICE servers (STUN, TURN
// with credentials that live a few minutes). Rejects with the gateway's
// RequestError (UNKNOWN_MEETING, RATE_LIMITED, ...) or a timeout.
export function fetchIceServers(meetingId: string, url = defaultSignalingUrl()): Promise<RTCIceServer[]> {
  return new Promise<RTCIceServer[]>((resolve, reject) => {
    const client = new SignalingClient({
      url,
      onOpen: async () => {
        try {
          const msg = await client.sendNow({ case: "iceServers", value: { meetingId } }, ICE_SERVERS_TIMEOUT_MS);
          if (msg.body.case !== "iceServers") throw new Error("unexpected reply to ice_servers");
          resolve(msg.body.value.iceServers.map(toRtcIceServer));
        } catch (e) {
          reject(e);
        } finally {
          client.close();
        }
      },
      onEvent: () => {},
    });
    setTimeout(() => {
      client.close();
      reject(new Error("the server did not answer"));
    }, ICE_SERVERS_TIMEOUT_MS);
    client.connect();
  });
}

function toRtcIceServer(s: IceServer): RTCIceServer {
  const out: RTCIceServer = { urls: [...s.urls] };
  if (s.username) out.username = s.username;
  if (s.credential) out.credential = s.credential;
  return out;
}

// gatherCandidates gathers ICE candidates with iceServers (a data channel
// offer, nothing sent to anyone) until gathering completes or timeoutMs.
export async function gatherCandidates(iceServers: RTCIceServer[], timeoutMs = GATHER_TIMEOUT_MS): Promise<ConnectivityResult> {
  const urls = iceServers.flatMap((s) => [s.urls].flat());
  const result: ConnectivityResult = {
    direct: false,
    srflx: false,
    relay: false,
    types: [],
    stun: urls.some((u) => /^stuns?:/.test(u)),
    turn: urls.some((u) => /^turns?:/.test(u)),
  };
  const pc = new RTCPeerConnection({ iceServers, iceCandidatePoolSize: 0 });
  try {
    pc.createDataChannel("huddle-precheck");
    const done = new Promise<void>((resolve) => {
      pc.addEventListener("icecandidate", ({ candidate }) => {
        if (!candidate || !candidate.candidate) {
          resolve();
          return;
        }
        const type = candidate.type ?? /\btyp (\w+)/.exec(candidate.candidate)?.[1] ?? "";
        result.types.push(type);
        if (type === "host" || type === "srflx" || type === "prflx") result.direct = true;
        if (type === "srflx") result.srflx = true;
        if (type === "relay") result.relay = true;
      });
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    });
    await pc.setLocalDescription(await pc.createOffer());
    await Promise.race([done, new Promise((r) => setTimeout(r, timeoutMs))]);
    return result;
  } finally {
    pc.close();
  }
}

const METER_FFT_SIZE = 1024;
// RMS of a normal speaking voice is ~0.05-0.2 of full scale.
const METER_GAIN = 4;

// MicMeter follows a microphone track's level (0..1, RMS of the waveform)
// with an AnalyserNode; stop() releases the audio context.
export class MicMeter {
  private ctx: AudioContext | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private analyser: AnalyserNode | null = null;
  private readonly buf = new Float32Array(new ArrayBuffer(METER_FFT_SIZE * 4));
  private track: MediaStreamTrack | null = null;

  constructor() {
    try {
      this.ctx = new AudioContext();
      this.analyser = this.ctx.createAnalyser();
      this.analyser.fftSize = METER_FFT_SIZE;
    } catch {
      this.ctx = null;
      this.analyser = null;
    }
  }

  // use measures track (null: nothing, level 0).
  use(track: MediaStreamTrack | null): void {
    if (track === this.track) return;
    this.track = track;
    this.source?.disconnect();
    this.source = null;
    if (!track || !this.ctx || !this.analyser) return;
    this.source = this.ctx.createMediaStreamSource(new MediaStream([track]));
    this.source.connect(this.analyser);
    void this.ctx.resume().catch(() => {});
  }

  // level: the RMS of the last window, scaled so speech reaches ~1.
  level(): number {
    if (!this.analyser || !this.source || !this.track?.enabled) return 0;
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const v of this.buf) sum += v * v;
    return Math.min(1, Math.sqrt(sum / this.buf.length) * METER_GAIN);
  }

  stop(): void {
    this.source?.disconnect();
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
  }
}

// Test sound: a short rising chime on the chosen speaker.
export const TEST_SOUND_MS = 1200;
const TEST_SOUND_HZ = [523.25, 659.25, 783.99]; // C5 E5 G5

// playTestSound plays the chime on sinkId ("" = default output) and
// resolves with the seconds the audio element played; the element and
// context are released after.
export async function playTestSound(sinkId = ""): Promise<number> {
  const ctx = new AudioContext();
  try {
    const dest = ctx.createMediaStreamDestination();
    const gain = ctx.createGain();
    gain.gain.value = 0.2;
    gain.connect(dest);
    const step = TEST_SOUND_MS / 1000 / TEST_SOUND_HZ.length;
    TEST_SOUND_HZ.forEach((hz, i) => {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(ctx.currentTime + i * step);
      osc.stop(ctx.currentTime + (i + 1) * step);
    });
    const audio = new Audio() as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    audio.srcObject = dest.stream;
    if (sinkId && audio.setSinkId) await audio.setSinkId(sinkId).catch(() => {});
    await audio.play();
    await new Promise((r) => setTimeout(r, TEST_SOUND_MS + 100));
    const played = audio.currentTime;
    audio.pause();
    audio.srcObject = null;
    return played;
  } finally {
    void ctx.close();
  }
}
