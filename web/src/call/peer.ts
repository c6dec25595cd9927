// PeerLink is the RTCPeerConnection to one remote participant, negotiated
// with the W3C "perfect negotiation" pattern
// (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): either side
// may send an offer at any time; on a collision the polite side rolls back and
// the impolite side ignores the incoming offer. ICE restarts on "failed" and
// on a "disconnected" that lasts longer than DISCONNECT_RESTART_MS.
// Every link opens the negotiated data channel huddle-control in its
// constructor (an SCTP association from the first offer on, so later data
// channels need no renegotiation); it carries small JSON objects with a
// `type` field (adapt.ts: receiver preferences, {type:"view"}).
// A shared screen is a second video track on a transceiver of its own, in a
// MediaStream of its own: the camera and microphone travel in the sender's
// main stream, so the receiver tells the screen from the camera by stream id
// (the stream the audio arrives in is the camera's).
import { SdpType, type Signal } from "../proto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SignalSchema } from "../proto";

const DISCONNECT_RESTART_MS = 5_000;
// Period of the progress check (see checkProgress): a stuck offer or an
// unconnected transport is repaired after two ticks.
const WATCHDOG_TICK_MS = 4_000;
// An ICE restart by the watchdog waits STALL_TICKS ticks, doubled after each
// restart that did not connect (up to STALL_TICKS << STALL_BACKOFF_MAX): on a
// starved CPU the checks of a big mesh take longer than two ticks, and
// restarting them every 8 s kept a 6-way mesh from ever connecting.
const STALL_TICKS = 2;
const STALL_BACKOFF_MAX = 3;

// The control data channel: negotiated (both sides create it, no
// datachannel event), ordered, at this SCTP stream id.
export const CONTROL_CHANNEL_LABEL = "huddle-control";
export const CONTROL_CHANNEL_ID = 0;
// A control message larger than this (bytes) is dropped unread.
export const CONTROL_MESSAGE_MAX = 4096;

// ControlMessage: what travels on huddle-control.
export interface ControlMessage {
  type: string;
  [k: string]: unknown;
}

export type SignalInit = MessageInitShape<typeof SignalSchema>;

export interface PeerLinkOptions {
  remoteId: string;
  polite: boolean;
  config: RTCConfiguration;
  // The tracks to send: audio + video, always (muting = track.enabled).
  tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null; stream: MediaStream };
  // The screen being shared when the link is made (null: none), and the stream it travels in.
  screen?: { track: MediaStreamTrack | null; stream: MediaStream };
  sendSignal: (signal: SignalInit) => void;
  onRemoteStream: (stream: MediaStream) => void;
  // The remote's screen arrived (a stream holding only its screen track).
  onRemoteScreen?: (stream: MediaStream) => void;
  onStateChange?: (state: RTCPeerConnectionState) => void;
  // A message from the remote side on huddle-control (parsed JSON with a type).
  onControl?: (msg: ControlMessage) => void;
  // huddle-control opened (send what the remote side should know).
  onControlOpen?: () => void;
}

const sdpTypeToProto: Record<RTCSdpType, SdpType> = {
  offer: SdpType.OFFER,
  answer: SdpType.ANSWER,
  pranswer: SdpType.PRANSWER,
  rollback: SdpType.ROLLBACK,
};
const sdpTypeFromProto: Partial<Record<SdpType, RTCSdpType>> = {
  [SdpType.OFFER]: "offer",
  [SdpType.ANSWER]: "answer",
  [SdpType.PRANSWER]: "pranswer",
  [SdpType.ROLLBACK]: "rollback",
};

export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly remoteId: string;
  readonly polite: boolean;
  readonly remoteStream = new MediaStream();
  // The remote's shared screen (its latest screen track), apart from its camera.
  readonly remoteScreenStream = new MediaStream();
  private makingOffer = false;
  private ignoreOffer = false;
  private isSettingRemoteAnswerPending = false;
  private chain: Promise<void> = Promise.resolve(); // incoming signals, in order
  private videoSender: RTCRtpSender | null = null;
  private screenTransceiver: RTCRtpTransceiver | null = null;
  // How received video is told apart: the id of the remote's main stream
  // (the one its audio arrives in), else the first video transceiver.
  private remoteMainStreamId = "";
  private cameraReceiver: RTCRtpTransceiver | null = null;
  private disconnectTimer?: ReturnType<typeof setTimeout>;
  private watchdog?: ReturnType<typeof setInterval>;
  private offerTicks = 0;
  private stalledTicks = 0;
  private stallRestarts = 0; // watchdog ICE restarts since last connected
  private closed = false;
  readonly control: RTCDataChannel;

  constructor(private readonly opts: PeerLinkOptions) {
    this.remoteId = opts.remoteId;
    this.polite = opts.polite;
    this.pc = new RTCPeerConnection(opts.config);
    const pc = this.pc;
    const { audio, video, stream } = opts.tracks;
    // Always one audio and one video (camera) transceiver, even with nothing
    // to send yet, so muting or switching cameras never needs a renegotiation.
    if (audio) pc.addTrack(audio, stream);
    else pc.addTransceiver("audio", { direction: "sendrecv", streams: [stream] });
    if (video) this.videoSender = pc.addTrack(video, stream);
    else this.videoSender = pc.addTransceiver("video", { direction: "sendrecv", streams: [stream] }).sender;
    // Sharing already: the screen goes on a third transceiver (addTrack, so an
    // offer's screen m-line can pair with it).
    if (opts.screen?.track) this.addScreen(opts.screen.track, opts.screen.stream);

    this.control = pc.createDataChannel(CONTROL_CHANNEL_LABEL, { negotiated: true, id: CONTROL_CHANNEL_ID, ordered: true });
    this.control.addEventListener("open", () => opts.onControlOpen?.());
    this.control.addEventListener("message", (ev: MessageEvent) => this.onControlMessage(ev.data));

    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.sendDescription();
      } catch (err) {
        console.warn(`huddle: offer to ${this.remoteId} failed`, err);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && candidate.candidate) {
        opts.sendSignal({
          kind: {
            case: "candidate",
            value: {
              candidate: candidate.candidate,
              sdpMid: candidate.sdpMid ?? "",
              sdpMlineIndex: candidate.sdpMLineIndex ?? -1,
              usernameFragment: candidate.usernameFragment ?? "",
            },
          },
        });
      } else {
        // End of candidates (of this ICE generation).
        opts.sendSignal({
          kind: {
            case: "candidate",
            value: {
              candidate: "",
              sdpMid: candidate?.sdpMid ?? "",
              sdpMlineIndex: candidate?.sdpMLineIndex ?? -1,
              usernameFragment: candidate?.usernameFragment ?? "",
            },
          },
        });
      }
    };
    pc.ontrack = ({ track, streams, transceiver }) => {
      if (track.kind === "audio" && streams[0]) this.remoteMainStreamId = streams[0].id;
      if (track.kind === "video" && this.isRemoteScreen(streams[0], transceiver)) {
        for (const old of this.remoteScreenStream.getTracks()) if (old !== track) this.remoteScreenStream.removeTrack(old);
        if (!this.remoteScreenStream.getTracks().includes(track)) this.remoteScreenStream.addTrack(track);
        opts.onRemoteScreen?.(this.remoteScreenStream);
        return;
      }
      // One MediaStream per peer holding its latest audio and camera track.
      for (const old of this.remoteStream.getTracks()) {
        if (old.kind === track.kind && old !== track) this.remoteStream.removeTrack(old);
      }
      if (!this.remoteStream.getTracks().includes(track)) this.remoteStream.addTrack(track);
      opts.onRemoteStream(this.remoteStream);
    };
    pc.oniceconnectionstatechange = () => this.onIceConnectionState();
    pc.onconnectionstatechange = () => opts.onStateChange?.(pc.connectionState);
    this.watchdog = setInterval(() => this.checkProgress(), WATCHDOG_TICK_MS);
  }

  // isRemoteScreen: whether a received video track is the remote's screen
  // (it arrives in a stream other than the one its audio arrives in).
  private isRemoteScreen(stream: MediaStream | undefined, transceiver: RTCRtpTransceiver): boolean {
    if (stream && this.remoteMainStreamId) return stream.id !== this.remoteMainStreamId;
    if (stream && stream.getAudioTracks().length > 0) return false;
    if (!this.cameraReceiver || this.cameraReceiver === transceiver) {
      this.cameraReceiver = transceiver;
      return false;
    }
    return true;
  }

  // The sender of the camera (mesh adapts it) and of the screen (null while
  // not sharing): callers must not guess them by track kind, both are video.
  get cameraSender(): RTCRtpSender | null {
    return this.videoSender;
  }

  get screenSender(): RTCRtpSender | null {
    const t = this.screenTransceiver;
    return t && t.sender.track ? t.sender : null;
  }

  private addScreen(track: MediaStreamTrack, stream: MediaStream): void {
    const sender = this.pc.addTrack(track, stream);
    this.screenTransceiver = this.pc.getTransceivers().find((t) => t.sender === sender) ?? null;
  }

  // setScreenTrack starts (track) or stops (null) sending a shared screen.
  // The first share adds a transceiver (perfect negotiation renegotiates);
  // later ones reuse it: stopping only turns its direction to recvonly (it
  // may be receiving the remote's screen), so the m-lines do not grow.
  async setScreenTrack(track: MediaStreamTrack | null, stream: MediaStream): Promise<void> {
    if (this.closed) return;
    const t = this.screenTransceiver;
    const usable = t !== null && t.currentDirection !== "stopped" && t.direction !== "stopped";
    if (track) {
      if (!usable) {
        this.addScreen(track, stream);
        return;
      }
      await t.sender.replaceTrack(track);
      if (t.direction === "recvonly") t.direction = "sendrecv";
      else if (t.direction === "inactive") t.direction = "sendonly";
    } else if (usable) {
      await t.sender.replaceTrack(null);
      if (t.direction === "sendrecv") t.direction = "recvonly";
      else if (t.direction === "sendonly") t.direction = "inactive";
    }
  }

  // checkProgress runs every WATCHDOG_TICK_MS for the life of the connection
  // and repairs what a lost signal leaves behind (signals can be lost when
  // the remote side's WebSocket was down while we sent them):
  // - a local offer unanswered for two ticks is sent again (if the other side
  //   is also stuck on an offer of its own, the polite one answers this one);
  // - negotiated (stable) but not connected for two ticks: restart ICE.
  private checkProgress(): void {
    const pc = this.pc;
    if (pc.signalingState === "have-local-offer" && !this.makingOffer) {
      if (++this.offerTicks >= 2) {
        this.offerTicks = 0;
        console.info(`huddle: offer to ${this.remoteId} unanswered, sending it again`);
        this.sendDescription();
      }
    } else {
      this.offerTicks = 0;
    }
    const up = pc.connectionState === "connected" || pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed";
    if (up) this.stallRestarts = 0;
    if (!up && pc.signalingState === "stable" && pc.remoteDescription) {
      if (++this.stalledTicks >= STALL_TICKS << Math.min(this.stallRestarts, STALL_BACKOFF_MAX)) {
        this.stalledTicks = 0;
        this.stallRestarts++;
        console.info(`huddle: no connection to ${this.remoteId}, restarting ICE`);
        this.restartIce();
      }
    } else {
      this.stalledTicks = 0;
    }
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  // handleSignal applies an offer, answer or ICE candidate from the remote side.
  handleSignal(signal: Signal): Promise<void> {
    this.chain = this.chain.then(() => this.applySignal(signal)).catch((err) => {
      console.warn(`huddle: signal from ${this.remoteId}`, err);
    });
    return this.chain;
  }

  private async applySignal(signal: Signal): Promise<void> {
    if (this.closed) return;
    const pc = this.pc;
    if (signal.kind.case === "description") {
      const type = sdpTypeFromProto[signal.kind.value.type];
      if (!type) return;
      const description: RTCSessionDescriptionInit = { type, sdp: signal.kind.value.sdp };
      const readyForOffer =
        !this.makingOffer && (pc.signalingState === "stable" || this.isSettingRemoteAnswerPending);
      const offerCollision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && offerCollision;
      if (this.ignoreOffer) return;
      if (description.type === "answer" && pc.signalingState !== "have-local-offer") {
        return; // a duplicate answer (e.g. resent after a reconnect)
      }
      this.isSettingRemoteAnswerPending = description.type === "answer";
      try {
        await pc.setRemoteDescription(description); // rolls back a local offer if needed
      } finally {
        this.isSettingRemoteAnswerPending = false;
      }
      if (description.type === "offer") {
        await pc.setLocalDescription();
        this.sendDescription();
      }
    } else if (signal.kind.case === "candidate") {
      const c = signal.kind.value;
      const init: RTCIceCandidateInit = {
        candidate: c.candidate,
        sdpMid: c.sdpMid === "" ? null : c.sdpMid,
        sdpMLineIndex: c.sdpMlineIndex < 0 ? null : c.sdpMlineIndex,
      };
      if (c.usernameFragment) init.usernameFragment = c.usernameFragment;
      try {
        if (c.candidate === "" && init.sdpMid === null && init.sdpMLineIndex === null) {
          await pc.addIceCandidate(); // end of all candidates
        } else {
          await pc.addIceCandidate(init);
        }
      } catch (err) {
        if (!this.ignoreOffer) throw err;
      }
    }
  }

  private sendDescription(): void {
    const d = this.pc.localDescription;
    if (!d) return;
    this.opts.sendSignal({ kind: { case: "description", value: { type: sdpTypeToProto[d.type], sdp: d.sdp } } });
  }

  // resendPendingOffer re-sends a local offer that may have been lost while
  // signaling was down (the remote answers it again if it already had it).
  resendPendingOffer(): void {
    if (this.pc.signalingState === "have-local-offer") this.sendDescription();
  }

  // sendControl sends msg on huddle-control; false when the channel is not open.
  sendControl(msg: ControlMessage): boolean {
    if (this.closed || this.control.readyState !== "open") return false;
    try {
      this.control.send(JSON.stringify(msg));
      return true;
    } catch (err) {
      console.warn(`huddle: control to ${this.remoteId}`, err);
      return false;
    }
  }

  private onControlMessage(data: unknown): void {
    if (typeof data !== "string" || data.length > CONTROL_MESSAGE_MAX) return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg === "object" && msg !== null && typeof (msg as ControlMessage).type === "string") {
      this.opts.onControl?.(msg as ControlMessage);
    }
  }

  // setVideoTrack swaps what the camera's sender sends (another camera, a
  // filter's output) without renegotiation.
  async setVideoTrack(track: MediaStreamTrack | null): Promise<void> {
    if (this.videoSender && !this.closed) await this.videoSender.replaceTrack(track);
  }

  restartIce(): void {
    if (!this.closed) this.pc.restartIce();
  }

  private onIceConnectionState(): void {
    const s = this.pc.iceConnectionState;
    clearTimeout(this.disconnectTimer);
    if (s === "failed") {
      this.restartIce();
    } else if (s === "disconnected") {
      this.disconnectTimer = setTimeout(() => {
        if (this.pc.iceConnectionState === "disconnected") this.restartIce();
      }, DISCONNECT_RESTART_MS);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.disconnectTimer);
    this.stopWatchdog();
    this.control.close();
    this.pc.onnegotiationneeded = this.pc.onicecandidate = this.pc.ontrack = null;
    this.pc.oniceconnectionstatechange = this.pc.onconnectionstatechange = null;
    this.pc.close();
    for (const t of this.remoteStream.getTracks()) this.remoteStream.removeTrack(t);
    for (const t of this.remoteScreenStream.getTracks()) this.remoteScreenStream.removeTrack(t);
  }
}
