// CallSession is one participant in one meeting: it joins through the
// signaling client, keeps the roster, and runs one PeerLink (full mesh) per
// remote participant. A dropped WebSocket resumes with the resume token and
// keeps every peer connection; a rejected resume joins fresh and rebuilds them.
// Every change of the local media (mute, camera, screen, and the microphone
// and camera arriving or going away) and whether we record reaches the
// senders and, as media_state, everyone else.
import { SignalingClient, RequestError, defaultSignalingUrl, type ServerBody, type ConnectionState } from "../signaling/client";
import { ErrorCode, type IceServer, type JoinReply, type MediaState, type Participant, type Signal } from "../proto";
import { PeerLink, type SignalInit } from "./peer";
import type { LocalMedia } from "./media";

export type CallState = "joining" | "joined" | "reconnecting" | "left" | "failed";

export interface RemoteParticipant {
  id: string;
  displayName: string;
  media: MediaFlags;
  joinedAtMs: number;
  stream: MediaStream | null;
  connection: RTCPeerConnectionState | "new";
}

// MediaFlags is a participant's MediaState: what their tile shows, and
// whether they record (everyone sees who does).
export interface MediaFlags {
  audioMuted: boolean;
  videoMuted: boolean;
  screenSharing: boolean;
  recording: boolean;
}

export interface CallSessionOptions {
  meetingId: string;
  displayName: string;
  media: LocalMedia;
  relayOnly?: boolean;
  signalingUrl?: string;
}

const SIGNAL_RETRIES = 5;

// Errors that retrying will not fix: the first join gives up on them.
const FATAL_JOIN_ERRORS = new Set([ErrorCode.UNKNOWN_MEETING, ErrorCode.BAD_REQUEST, ErrorCode.ALREADY_JOINED]);

export class CallSession {
  readonly meetingId: string;
  readonly displayName: string;
  readonly media: LocalMedia;
  participantId = "";
  meetingTitle = "";
  state: CallState = "joining";
  connection: ConnectionState = "closed";
  readonly participants = new Map<string, RemoteParticipant>();
  readonly peers = new Map<string, PeerLink>();
  // participant id -> RTCPeerConnection, the same Map object for the whole
  // session (exposed as window.huddle.peers for tests).
  readonly peerConnections = new Map<string, RTCPeerConnection>();
  // Timing, for the join -> first remote frame metric.
  readonly joinStartedAt = performance.now();
  readonly firstFrameAt = new Map<string, number>();
  resumeCount = 0;
  freshJoinCount = 0;
  // Authorises this participant's recording uploads (JoinReply); secret.
  recordingToken = "";
  // We are recording (published as MediaState.recording).
  recording = false;

  private resumeToken = "";
  private iceServers: RTCIceServer[] = [];
  private readonly relayOnly: boolean;
  private readonly client: SignalingClient;
  private listeners = new Set<() => void>();
  private joined!: { resolve: () => void; reject: (e: Error) => void };
  private firstJoin = true;
  private unsubscribeMedia: () => void;
  private lastVideoTrack: MediaStreamTrack | null;
  // The media state the registry holds for us (mediaKey), as last sent in a
  // fresh join or a media_state; "" when unknown, so the next one is sent.
  private sentMedia = "";
  private readonly onPageHide = () => this.client.fireAndForget({ case: "leave", value: {} });

  constructor(opts: CallSessionOptions) {
    this.meetingId = opts.meetingId;
    this.displayName = opts.displayName;
    this.media = opts.media;
    this.relayOnly = opts.relayOnly ?? false;
    this.client = new SignalingClient({
      url: opts.signalingUrl ?? defaultSignalingUrl(),
      onOpen: (reconnect) => this.onOpen(reconnect),
      onEvent: (body) => this.onEvent(body),
      onStateChange: (s) => {
        this.connection = s;
        if (this.state === "joined" && s !== "ready") this.state = "reconnecting";
        else if (this.state === "reconnecting" && s === "ready") this.state = "joined";
        this.emit();
      },
    });
    this.lastVideoTrack = this.media.videoTrack;
    // Device switches and screen sharing change the tracks peers send; those
    // and mute toggles change what the others' tiles show.
    this.unsubscribeMedia = this.media.onChange(() => {
      this.syncTracks();
      this.publishMediaState();
      this.emit();
    });
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  // join connects and resolves once the first join succeeded.
  join(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => (this.joined = { resolve, reject }));
    addEventListener("pagehide", this.onPageHide);
    this.client.connect();
    return p;
  }

  async leave(): Promise<void> {
    if (this.state === "left") return;
    removeEventListener("pagehide", this.onPageHide);
    try {
      if (this.client.state === "ready") await this.client.request({ case: "leave", value: {} }, { timeoutMs: 2000, queue: false });
    } catch (e) {
      console.warn("huddle: leave", e);
    }
    this.teardown("left");
  }

  private teardown(state: CallState): void {
    this.client.close();
    for (const id of [...this.peers.keys()]) this.dropPeer(id);
    this.participants.clear();
    this.unsubscribeMedia();
    this.state = state;
    this.emit();
  }

  localMediaState(): MediaFlags {
    return {
      audioMuted: this.media.audioMuted || !this.media.audio,
      videoMuted: (this.media.videoMuted || !this.media.camera) && !this.media.sharing,
      screenSharing: this.media.sharing,
      recording: this.recording,
    };
  }

  // setRecording tells everyone whether we record.
  setRecording(on: boolean): void {
    if (this.recording === on) return;
    this.recording = on;
    this.publishMediaState();
    this.emit();
  }

  // publishMediaState tells everyone our media state once it differs from
  // what the registry holds. The join carries the state at the click, which
  // is "microphone and camera off" when the Join click beat getUserMedia
  // (a pre-filled name, a permission prompt still open): the tracks that
  // arrive later must be announced too, not only the toggles.
  private publishMediaState(): void {
    if (this.state !== "joined" && this.state !== "reconnecting") return; // the (re)join carries it
    const media = this.localMediaState();
    const key = mediaKey(media);
    if (key === this.sentMedia) return;
    this.sentMedia = key;
    this.client.request({ case: "mediaState", value: { media } }, { queue: true }).catch((e) => {
      if (this.sentMedia === key) this.sentMedia = ""; // not stored: send it again next time
      if (!(e instanceof RequestError && e.code === ErrorCode.CLOSED)) console.warn("huddle: media_state", e);
    });
  }

  async toggleScreenShare(): Promise<void> {
    if (this.media.sharing) this.media.stopScreenShare();
    else await this.media.startScreenShare();
  }

  // Debug: drop the WebSocket as a network failure would (tests, console).
  dropConnection(): void {
    this.client.dropConnection();
  }

  // ---- signaling ----

  private buildJoin(resume: boolean) {
    const media = this.localMediaState();
    // A resume keeps the registry's record: its media state is the one sent last.
    if (!resume) this.sentMedia = mediaKey(media);
    return {
      case: "join" as const,
      value: {
        meetingId: this.meetingId,
        displayName: this.displayName,
        media,
        participantId: resume ? this.participantId : "",
        resumeToken: resume ? this.resumeToken : "",
      },
    };
  }

  private async onOpen(reconnect: boolean): Promise<void> {
    if (reconnect && this.participantId && this.resumeToken) {
      try {
        const msg = await this.client.sendNow(this.buildJoin(true));
        if (msg.body.case !== "join") throw new Error("unexpected reply to join");
        const reply = msg.body.value;
        if (reply.resumed && reply.participantId === this.participantId) {
          this.resumeCount++;
          this.applyJoinReply(reply, true);
          return;
        }
        // A fresh identity although we asked to resume: treat as rejected.
        this.freshJoinCount++;
        this.applyJoinReply(reply, false);
        return;
      } catch (e) {
        if (!(e instanceof RequestError) || e.code !== ErrorCode.RESUME_REJECTED) throw e;
        console.info("huddle: resume rejected, joining fresh");
      }
    }
    let msg;
    try {
      msg = await this.client.sendNow(this.buildJoin(false));
    } catch (e) {
      if (this.firstJoin && e instanceof RequestError && FATAL_JOIN_ERRORS.has(e.code)) {
        this.teardown("failed");
        this.joined.reject(e);
      }
      throw e;
    }
    if (msg.body.case !== "join") throw new Error("unexpected reply to join");
    if (!this.firstJoin) this.freshJoinCount++;
    this.applyJoinReply(msg.body.value, false);
  }

  private applyJoinReply(reply: JoinReply, resumed: boolean): void {
    const oldId = this.participantId;
    this.participantId = reply.participantId;
    this.resumeToken = reply.resumeToken;
    this.recordingToken = reply.recordingToken;
    this.meetingTitle = reply.meeting?.title ?? "";
    this.iceServers = reply.iceServers.map(toRtcIceServer);
    if (!resumed && oldId) {
      // New identity: every old peer connection belongs to the old one, and
      // so do the signals still queued for them.
      this.client.discardQueued((b) => b.case === "signal");
      for (const id of [...this.peers.keys()]) this.dropPeer(id);
      this.participants.clear();
    }
    // Reconcile the roster: drop who is gone, add who is new.
    const present = new Set(reply.participants.map((p) => p.id));
    for (const id of [...this.participants.keys()]) {
      if (!present.has(id)) this.removeParticipant(id);
    }
    for (const p of reply.participants) this.upsertParticipant(p);
    if (resumed) {
      for (const link of this.peers.values()) {
        try {
          link.pc.setConfiguration({ ...link.pc.getConfiguration(), iceServers: this.iceServers });
        } catch {
          /* some fields cannot change; the old credentials still work */
        }
        link.resendPendingOffer();
        const ice = link.pc.iceConnectionState;
        if (ice === "failed" || ice === "disconnected") link.restartIce();
      }
    }
    for (const p of reply.participants) this.ensurePeer(p.id);
    if (this.firstJoin) {
      this.firstJoin = false;
      this.state = "joined";
      this.joined.resolve();
    } else {
      this.state = "joined";
    }
    // The media may have changed since the join was sent (or, on a resume,
    // since a media_state lost with the old socket).
    this.publishMediaState();
    this.emit();
  }

  private onEvent(body: ServerBody): void {
    switch (body.case) {
      case "participantJoined":
        // The newcomer offers to everyone it finds in its roster; we make our
        // side of the peer connection when that offer arrives, so the first
        // negotiation has no glare.
        if (body.value.participant && body.value.participant.id !== this.participantId) {
          this.upsertParticipant(body.value.participant);
        }
        break;
      case "participantUpdated":
        if (body.value.participant && body.value.participant.id !== this.participantId) {
          this.upsertParticipant(body.value.participant);
        }
        break;
      case "participantLeft":
        this.removeParticipant(body.value.participantId);
        break;
      case "signalDelivery":
        if (body.value.signal) this.onSignal(body.value.from, body.value.signal);
        break;
      default:
        break;
    }
    this.emit();
  }

  private onSignal(from: string, signal: Signal): void {
    if (!from || from === this.participantId) return;
    if (!this.participants.has(from)) {
      // A signal can overtake the participant_joined event (they travel
      // different paths through the gateway): make a placeholder that the
      // event, which the gateway always delivers, fills in.
      this.participants.set(from, {
        id: from,
        displayName: "",
        media: { audioMuted: false, videoMuted: false, screenSharing: false, recording: false },
        joinedAtMs: Date.now(),
        stream: null,
        connection: "new",
      });
    }
    void this.ensurePeer(from).handleSignal(signal);
  }

  private upsertParticipant(p: Participant): void {
    const cur = this.participants.get(p.id);
    const media = fromProtoMedia(p.media);
    if (cur) {
      cur.displayName = p.displayName || cur.displayName;
      cur.media = media;
    } else {
      this.participants.set(p.id, {
        id: p.id,
        displayName: p.displayName,
        media,
        joinedAtMs: Number(p.joinedAtMs),
        stream: null,
        connection: "new",
      });
    }
  }

  private removeParticipant(id: string): void {
    this.dropPeer(id);
    this.participants.delete(id);
  }

  // ---- peers ----

  private rtcConfig(): RTCConfiguration {
    return {
      iceServers: this.iceServers,
      iceTransportPolicy: this.relayOnly ? "relay" : "all",
      bundlePolicy: "max-bundle",
    };
  }

  private ensurePeer(remoteId: string): PeerLink {
    const existing = this.peers.get(remoteId);
    if (existing) return existing;
    const link = new PeerLink({
      remoteId,
      polite: this.participantId < remoteId,
      config: this.rtcConfig(),
      tracks: { audio: this.media.audio, video: this.media.videoTrack, stream: this.media.stream },
      sendSignal: (signal) => this.sendSignal(remoteId, signal),
      onRemoteStream: (stream) => {
        const p = this.participants.get(remoteId);
        if (p) p.stream = stream;
        this.emit();
      },
      onStateChange: (s) => {
        const p = this.participants.get(remoteId);
        if (p) p.connection = s;
        this.emit();
      },
    });
    this.peers.set(remoteId, link);
    this.peerConnections.set(remoteId, link.pc);
    return link;
  }

  private dropPeer(remoteId: string): void {
    const link = this.peers.get(remoteId);
    if (!link) return;
    link.close();
    this.peers.delete(remoteId);
    this.peerConnections.delete(remoteId);
    this.firstFrameAt.delete(remoteId);
  }

  private sendSignal(to: string, signal: SignalInit, attempt = 0): void {
    this.client.request({ case: "signal", value: { to, signal } }, { queue: true }).catch((e) => {
      // RATE_LIMITED drops the message at the gateway: send it again shortly.
      if (e instanceof RequestError && e.code === ErrorCode.RATE_LIMITED && attempt < SIGNAL_RETRIES && this.peers.has(to)) {
        setTimeout(() => this.sendSignal(to, signal, attempt + 1), 250 * (attempt + 1) + Math.random() * 250);
        return;
      }
      if (!(e instanceof RequestError && e.code === ErrorCode.CLOSED)) console.warn(`huddle: signal to ${to}`, e);
    });
  }

  // syncTracks puts the current microphone / camera / screen on every sender.
  private syncTracks(): void {
    const video = this.media.videoTrack;
    if (video !== this.lastVideoTrack) {
      this.lastVideoTrack = video;
      for (const link of this.peers.values()) void link.setVideoTrack(video);
    }
    for (const link of this.peers.values()) {
      const sender = link.pc.getSenders().find((s) => s.track?.kind === "audio" || (!s.track && isAudioSender(link.pc, s)));
      if (sender && sender.track !== this.media.audio) void sender.replaceTrack(this.media.audio);
    }
  }

  noteFirstFrame(remoteId: string): void {
    if (!this.firstFrameAt.has(remoteId) && this.peers.has(remoteId)) {
      this.firstFrameAt.set(remoteId, performance.now());
    }
  }
}

function isAudioSender(pc: RTCPeerConnection, s: RTCRtpSender): boolean {
  return pc.getTransceivers().some((t) => t.sender === s && t.receiver.track.kind === "audio");
}

function toRtcIceServer(s: IceServer): RTCIceServer {
  const out: RTCIceServer = { urls: [...s.urls] };
  if (s.username) out.username = s.username;
  if (s.credential) out.credential = s.credential;
  return out;
}

function mediaKey(m: MediaFlags): string {
  return `${+m.audioMuted}${+m.videoMuted}${+m.screenSharing}${+m.recording}`;
}

function fromProtoMedia(m: MediaState | undefined): MediaFlags {
  return {
    audioMuted: m?.audioMuted ?? false,
    videoMuted: m?.videoMuted ?? false,
    screenSharing: m?.screenSharing ?? false,
    recording: m?.recording ?? false,
  };
}
