// CallSession is one participant in one meeting: it joins through the
// signaling client, keeps the roster, and runs one PeerLink (full mesh) per
// remote participant. A dropped WebSocket resumes with the resume token and
// keeps every peer connection; a rejected resume joins fresh and rebuilds them.
// Every change of the local media (mute, camera, screen, and the microphone
// and camera arriving or going away) and whether we record reaches the
// senders and, as media_state, everyone else. A shared screen is a second
// video track beside the camera. The active speaker comes from the audio
// levels of the peer connections (ui/speaker.ts).
import { SignalingClient, RequestError, defaultSignalingUrl, type ServerBody, type ConnectionState } from "../signaling/client";
import {
  AccessMode,
  AdmissionState,
  ErrorCode,
  LeaveReason,
  MediaMode,
  ModerationAction,
  Role,
  type IceServer,
  type JoinReply,
  type MediaModeState,
  type MediaState,
  type Participant,
  type Signal,
  type WaitingParticipant,
  type WatchAction,
  type WatchState,
  type SfuEvent,
  type SfuReply,
} from "../proto";
import { PeerLink, type SignalInit } from "./peer";
import { applyCapture, applyPlan, parseView, planFor, sameView, screenPlan, type RemoteView, type EncodingPlan } from "./adapt";
import type { LocalMedia } from "./media";
import { SfuLink, type SfuRequestBody } from "./sfu";
import { SpeakerDetector, SPEAKER_POLL_MS, receiverLevel, senderLevel } from "../ui/speaker";

// waiting: in the meeting's waiting room until a host admits us. The end
// states: left (we left), failed (the join was refused), denied (a host said
// no), removed (a host removed or blocked us), ended (a host ended the
// meeting for everyone).
export type CallState = "joining" | "waiting" | "joined" | "reconnecting" | "left" | "failed" | "denied" | "removed" | "ended";

// SessionNotice is something that happened to us that the page shows.
export type SessionNotice =
  | { kind: "admitted" }
  | { kind: "denied" }
  | { kind: "removed"; blocked: boolean; byName: string }
  | { kind: "ended"; byName: string }
  | { kind: "moderated"; action: ModerationAction; byName: string }
  | { kind: "arrived"; waiting: WaitingParticipant[] } // hosts: new people in the waiting room
  | { kind: "reaction"; participantId: string; emoji: string }
  | { kind: "failed"; error: Error }; // a rejoin after a reconnect was refused

export interface RemoteParticipant {
  id: string;
  displayName: string;
  media: MediaFlags;
  joinedAtMs: number;
  stream: MediaStream | null; // microphone and camera
  screenStream: MediaStream | null; // their shared screen once it arrived (show it while media.screenSharing)
  connection: RTCPeerConnectionState | "new";
  role: Role;
  handRaisedAtMs: number; // 0: hand down
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
  hostKey?: string; // a host key of the meeting (secret)
  joinToken?: string; // a signed join link's JWT (secret)
  clientKey?: string; // this browser's id for Remove / Block
}

// REACTION_EMOJI: the reactions the server accepts (README).
export const REACTION_EMOJI = ["👍", "👏", "😂", "❤️", "🎉", "😮"] as const;

const SIGNAL_RETRIES = 5;

// The SFU path (sfu.ts). Make-before-break: the mesh closes once media from
// every other participant arrives over the SFU (and our publisher is
// connected), or after SFU_SWITCH_WAIT_MS; going back, the SFU is left once
// every mesh peer connected, or after MESH_SWITCH_WAIT_MS. Both are checked
// every SWITCH_POLL_MS.
export const SFU_SWITCH_WAIT_MS = 20_000;
export const MESH_SWITCH_WAIT_MS = 10_000;
const SWITCH_POLL_MS = 250;
// A refused or failed publish (the participant not allowed in the room yet,
// Janus down) is tried again after SFU_RETRY_MS; a page that never had a
// mesh tries SFU_DIRECT_RETRIES times before it makes one.
const SFU_RETRY_MS = 1_000;
const SFU_DIRECT_RETRIES = 3;
// Bound on one SfuRequest's reply (ms).
const SFU_REQUEST_TIMEOUT_MS = 10_000;
// The level a talking event stands for in the speaker detector (0..1,
// above SPEAKING_ON_LEVEL).
const SFU_TALKING_LEVEL = 0.1;
// In SFU mode the camera is captured as for a two-person meeting (720p):
// the simulcast layers scale it down for small tiles.
const SFU_CAPTURE_AS_SIZE = 2;

// Errors that retrying will not fix: the first join gives up on them.
const FATAL_JOIN_ERRORS = new Set([
  ErrorCode.UNKNOWN_MEETING,
  ErrorCode.BAD_REQUEST,
  ErrorCode.ALREADY_JOINED,
  ErrorCode.FORBIDDEN,
  ErrorCode.MEETING_LOCKED,
  ErrorCode.TOKEN_INVALID,
  ErrorCode.BLOCKED,
  ErrorCode.DENIED,
  ErrorCode.MEETING_FULL,
]);

export class CallSession {
  readonly meetingId: string;
  displayName: string;
  readonly media: LocalMedia;
  participantId = "";
  // Our role, admission and hand (JoinReply, participant_updated of self).
  role: Role = Role.GUEST;
  admission: AdmissionState = AdmissionState.UNSPECIFIED;
  handRaisedAtMs = 0;
  accessMode: AccessMode = AccessMode.OPEN;
  // Waiting: whether a host is in the call. Hosts: who waits, oldest first.
  hostPresent = false;
  waiting: WaitingParticipant[] = [];
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
  // Watch together: the meeting's shared player as the server last said
  // (JoinReply, watch_state_event, our WatchReply); url "" or null: none.
  watchState: WatchState | null = null;
  private watchListeners = new Set<(s: WatchState) => void>();
  // The meeting's media mode and its epoch as the registry last said
  // (JoinReply, media_mode events; an event with a lower epoch is old news).
  mediaMode: MediaMode = MediaMode.MESH;
  mediaEpoch = 0;
  // The SFU link while the meeting is in SFU mode (window.huddle.sfu), and
  // which path's streams the tiles show: "mesh" until a switch to the SFU
  // completed, "sfu" until a switch back completed.
  sfu: SfuLink | null = null;
  mediaPath: "mesh" | "sfu" = "mesh";
  // How the last switch of path completed (debug, tests): "sfu-flowing" /
  // "sfu-deadline" / "sfu-direct" (no mesh to keep), "mesh-connected" /
  // "mesh-deadline" / "mesh-fallback" (the SFU failed); with its duration in ms.
  lastSwitch = { how: "", ms: 0 };
  private switchStartedAt = 0;
  // Whether mesh peer connections are made and signals for them taken.
  private meshWanted = true;
  private switchTimer?: ReturnType<typeof setInterval>;
  private switchChecking = false;
  private sfuRetryTimer?: ReturnType<typeof setTimeout>;
  // Janus was lost and huddle-media reconnects: start anew with the next publishers event.
  private sfuStopped = false;
  private sfuFailures = 0; // publishes failed in a row
  private lastPublishers: SfuEvent | null = null;

  private resumeToken = "";
  private iceServers: RTCIceServer[] = [];
  private readonly relayOnly: boolean;
  private readonly client: SignalingClient;
  private listeners = new Set<() => void>();
  private noticeListeners = new Set<(n: SessionNotice) => void>();
  private readonly hostKey: string;
  private readonly joinToken: string;
  private readonly clientKey: string;
  private joined!: { resolve: () => void; reject: (e: Error) => void };
  private firstJoin = true;
  private unsubscribeMedia: () => void;
  private lastVideoTrack: MediaStreamTrack | null;
  // The media state the registry holds for us (mediaKey), as last sent in a
  // fresh join or a media_state; "" when unknown, so the next one is sent.
  private sentMedia = "";
  private lastScreenTrack: MediaStreamTrack | null = null;
  private readonly onPageHide = () => this.client.fireAndForget({ case: "leave", value: {} });
  // Sender adaptation (adapt.ts). remoteViews: how each peer's page shows
  // our video (told on huddle-control); localViews: how we show each peer's
  // (told to them, with our tab's visibility); plans: what each camera
  // sender was last set to (debug, tests).
  private readonly remoteViews = new Map<string, RemoteView>();
  private readonly localViews = new Map<string, RemoteView>();
  private readonly sentViews = new Map<string, RemoteView>();
  readonly plans = new Map<string, EncodingPlan>();
  private adaptedSize = 0;
  private readonly onVisibility = () => {
    for (const id of this.peers.keys()) this.sendView(id);
    this.sfu?.setViews(this.localViews, document.visibilityState === "hidden");
  };
  // Active speaker: see activeSpeakerId, speakingIds, onSpeaker.
  private readonly speakers = new SpeakerDetector();
  private speakerTimer?: ReturnType<typeof setInterval>;
  private speakerPolling = false;
  private speakerListeners = new Set<() => void>();

  constructor(opts: CallSessionOptions) {
    this.meetingId = opts.meetingId;
    this.displayName = opts.displayName;
    this.media = opts.media;
    this.relayOnly = opts.relayOnly ?? false;
    this.hostKey = opts.hostKey ?? "";
    this.joinToken = opts.joinToken ?? "";
    this.clientKey = opts.clientKey ?? "";
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
      if (this.state === "joined" || this.state === "reconnecting") this.adaptAll();
      this.publishMediaState();
      this.emit();
    });
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // activeSpeakerId: who speaks (or spoke last) the loudest: a remote
  // participant's id, our own participantId, or "" before anyone spoke.
  get activeSpeakerId(): string {
    return this.speakers.activeId;
  }

  // speakingIds: who speaks now (ids as for activeSpeakerId).
  get speakingIds(): Set<string> {
    return this.speakers.speaking;
  }

  // onSpeaker: called when activeSpeakerId or speakingIds change (not
  // through onChange: levels move often and change nothing else).
  onSpeaker(fn: () => void): () => void {
    this.speakerListeners.add(fn);
    return () => this.speakerListeners.delete(fn);
  }

  // pollSpeakers reads every audio level once (SPEAKER_POLL_MS).
  private async pollSpeakers(): Promise<void> {
    if (this.speakerPolling || this.state !== "joined") return;
    this.speakerPolling = true;
    try {
      const levels = new Map<string, number>();
      let ownPc: RTCPeerConnection | undefined;
      const sfu = this.sfu;
      if (this.mediaPath === "sfu" && sfu) {
        // Janus's talking events say who speaks.
        for (const [id, p] of this.participants) levels.set(id, !p.media.audioMuted && sfu.talking.has(id) ? SFU_TALKING_LEVEL : 0);
        ownPc = sfu.publisher;
      } else {
        for (const [id, link] of this.peers) {
          const muted = this.participants.get(id)?.media.audioMuted ?? true;
          levels.set(id, muted ? 0 : receiverLevel(link.pc));
        }
        ownPc = this.peers.values().next().value?.pc;
      }
      const own = this.localMediaState().audioMuted || !ownPc ? 0 : await senderLevel(ownPc).catch(() => 0);
      if (this.participantId) levels.set(this.participantId, own);
      if (this.speakers.update(levels, performance.now())) for (const fn of this.speakerListeners) fn();
    } finally {
      this.speakerPolling = false;
    }
  }

  private emit(): void {
    if (this.meetingSize() !== this.adaptedSize && (this.state === "joined" || this.state === "reconnecting")) this.adaptAll();
    for (const fn of this.listeners) fn();
  }

  // onNotice: admission, removal, the end of the meeting, moderation, reactions.
  onNotice(fn: (n: SessionNotice) => void): () => void {
    this.noticeListeners.add(fn);
    return () => this.noticeListeners.delete(fn);
  }

  private notify(n: SessionNotice): void {
    for (const fn of this.noticeListeners) fn(n);
  }

  get isHost(): boolean {
    return this.role === Role.HOST && this.state !== "waiting";
  }

  // ---- hosts and everyone: raise hand, reactions, moderation ----

  setHand(raised: boolean): Promise<unknown> {
    // Shown at once; participant_updated of ourselves confirms the time.
    const before = this.handRaisedAtMs;
    this.handRaisedAtMs = raised ? this.handRaisedAtMs || Date.now() : 0;
    this.emit();
    return this.client.request({ case: "hand", value: { raised } }, { queue: false }).catch((e: unknown) => {
      this.handRaisedAtMs = before; // refused: show the hand as it is
      this.emit();
      throw e;
    });
  }

  react(emoji: string): Promise<unknown> {
    return this.client.request({ case: "reaction", value: { emoji } }, { queue: false });
  }

  // ---- watch together (web/src/watch) ----

  // onWatchState: a newer state of the shared player (listeners run as it arrives).
  onWatchState(fn: (s: WatchState) => void): () => void {
    this.watchListeners.add(fn);
    return () => this.watchListeners.delete(fn);
  }

  // sendWatch asks for a change of the shared player; the new state reaches
  // onWatchState (from the reply, and again, ignored, from the event).
  async sendWatch(value: { action: WatchAction; url?: string; positionMs?: number; rate?: number }): Promise<void> {
    const msg = await this.client.request(
      { case: "watch", value: { action: value.action, url: value.url ?? "", positionMs: BigInt(value.positionMs ?? 0), rate: value.rate ?? 0 } },
      { queue: false },
    );
    if (msg.body.case === "watch") this.applyWatch(msg.body.value.state, false);
  }

  // applyWatch keeps s when it is newer than ours (seq), or always (replace:
  // a JoinReply's, which may restart the sequence after the call emptied).
  private applyWatch(s: WatchState | undefined, replace: boolean): void {
    if (!s) return;
    if (!replace && this.watchState && s.seq <= this.watchState.seq) return;
    this.watchState = s;
    for (const fn of this.watchListeners) fn(s);
  }

  admit(ids: string[] | "all", deny = false): Promise<unknown> {
    const value = ids === "all" ? { all: true, deny } : { participantIds: ids, deny };
    return this.client.request({ case: "admit", value }, { queue: false });
  }

  moderate(participantId: string, action: ModerationAction): Promise<unknown> {
    return this.client.request({ case: "moderate", value: { participantId, action } }, { queue: false });
  }

  async setAccess(mode: AccessMode): Promise<void> {
    const msg = await this.client.request({ case: "setAccess", value: { accessMode: mode } }, { queue: false });
    if (msg.body.case === "setAccess" && msg.body.value.meeting) this.accessMode = msg.body.value.meeting.accessMode || AccessMode.OPEN;
    else this.accessMode = mode;
    this.emit();
  }

  endMeeting(): Promise<unknown> {
    return this.client.request({ case: "endMeeting", value: {} }, { queue: false });
  }

  // join connects and resolves once the first join succeeded.
  join(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => (this.joined = { resolve, reject }));
    addEventListener("pagehide", this.onPageHide);
    document.addEventListener("visibilitychange", this.onVisibility);
    this.client.connect();
    return p;
  }

  async leave(): Promise<void> {
    if (this.state === "left") return;
    removeEventListener("pagehide", this.onPageHide);
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.sfu?.close(true);
    try {
      if (this.client.state === "ready") await this.client.request({ case: "leave", value: {} }, { timeoutMs: 2000, queue: false });
    } catch (e) {
      console.warn("huddle: leave", e);
    }
    this.teardown("left");
  }

  private teardown(state: CallState): void {
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.client.close();
    clearInterval(this.speakerTimer);
    this.speakerTimer = undefined;
    this.stopSwitch();
    clearTimeout(this.sfuRetryTimer);
    this.sfu?.close(false);
    this.sfu = null;
    for (const id of [...this.peers.keys()]) this.dropPeer(id);
    this.participants.clear();
    this.unsubscribeMedia();
    this.state = state;
    this.emit();
  }

  localMediaState(): MediaFlags {
    return {
      audioMuted: this.media.audioMuted || !this.media.audio,
      videoMuted: this.media.videoMuted || !this.media.camera, // the camera alone: a screen travels beside it
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

  // signaling is the call's connection (the chat of a meeting that is not
  // open rides on it: only an admitted session may read it).
  get signaling(): SignalingClient {
    return this.client;
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
        hostKey: this.hostKey,
        joinToken: this.joinToken,
        clientKey: this.clientKey,
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
      if (e instanceof RequestError && FATAL_JOIN_ERRORS.has(e.code)) {
        // Retrying will not help (removed and blocked, locked meanwhile, an
        // expired link): stop, and say why.
        const first = this.firstJoin;
        this.teardown("failed");
        if (first) this.joined.reject(e);
        else this.notify({ kind: "failed", error: e });
      }
      throw e;
    }
    if (msg.body.case !== "join") throw new Error("unexpected reply to join");
    if (!this.firstJoin) this.freshJoinCount++;
    this.applyJoinReply(msg.body.value, false);
  }

  private applyJoinReply(reply: JoinReply, resumed: boolean): void {
    const oldId = this.participantId;
    const wasWaiting = this.state === "waiting";
    // An admission event's JoinReply may leave the id and token out: keep ours.
    this.participantId = reply.participantId || this.participantId;
    this.resumeToken = reply.resumeToken || this.resumeToken;
    this.recordingToken = reply.recordingToken;
    this.meetingTitle = reply.meeting?.title ?? this.meetingTitle;
    if (reply.meeting) this.accessMode = reply.meeting.accessMode || AccessMode.OPEN;
    if (reply.displayName) this.displayName = reply.displayName;
    this.role = reply.role || Role.GUEST;
    this.admission = reply.admission || AdmissionState.ADMITTED; // older gateways: admitted
    this.hostPresent = reply.hostPresent;
    this.waiting = [...reply.waiting];
    if (this.admission === AdmissionState.WAITING) {
      // In the waiting room: nothing of the meeting until a host admits us.
      this.state = "waiting";
      if (this.firstJoin) {
        this.firstJoin = false;
        this.joined.resolve();
      }
      this.emit();
      return;
    }
    this.iceServers = reply.iceServers.map(toRtcIceServer);
    if (!resumed && oldId) {
      // New identity: every old peer connection belongs to the old one, and
      // so do the signals still queued for them.
      this.client.discardQueued((b) => b.case === "signal" || b.case === "sfu");
      for (const id of [...this.peers.keys()]) this.dropPeer(id);
      this.participants.clear();
      // So does the SFU link (huddle-media knows the new id only).
      this.stopSwitch();
      this.sfu?.close(false);
      this.sfu = null;
      this.mediaPath = "mesh";
      this.meshWanted = true;
      this.sfuStopped = false;
      this.lastPublishers = null;
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
    this.applyWatch(reply.watch, true);
    this.applyMediaMode(reply.mediaMode, true);
    // Joining a meeting in SFU mode: no mesh to make first.
    if (this.mediaMode === MediaMode.SFU && this.peers.size === 0 && this.mediaPath === "mesh") this.meshWanted = false;
    if (this.meshWanted) for (const p of reply.participants) this.ensurePeer(p.id);
    if (this.firstJoin) {
      this.firstJoin = false;
      this.state = "joined";
      this.joined.resolve();
    } else {
      this.state = "joined";
    }
    this.speakerTimer ??= setInterval(() => void this.pollSpeakers(), SPEAKER_POLL_MS);
    if (wasWaiting) this.notify({ kind: "admitted" });
    this.reconcileMediaPath();
    // The media may have changed since the join was sent (or, on a resume,
    // since a media_state lost with the old socket).
    this.publishMediaState();
    this.emit();
  }

  private onEvent(body: ServerBody): void {
    if (this.state === "left" || this.state === "failed") return;
    switch (body.case) {
      case "admissionEvent": {
        const ev = body.value;
        if (ev.state === AdmissionState.ADMITTED && ev.join) {
          this.applyJoinReply({ ...ev.join, admission: AdmissionState.ADMITTED }, true);
        } else if (ev.state === AdmissionState.DENIED) {
          this.teardown("denied");
          this.notify({ kind: "denied" });
          return;
        }
        break;
      }
      case "waitingRoomEvent": {
        const before = new Set(this.waiting.map((w) => w.id));
        this.waiting = [...body.value.waiting].sort((a, b) => Number(a.waitingSinceMs - b.waitingSinceMs));
        this.hostPresent = body.value.hostPresent;
        const arrived = this.waiting.filter((w) => !before.has(w.id));
        if (arrived.length > 0 && this.isHost) this.notify({ kind: "arrived", waiting: arrived });
        break;
      }
      case "moderationEvent": {
        const { action, byName } = body.value;
        if (action === ModerationAction.MUTE) this.media.setAudioMuted(true);
        else if (action === ModerationAction.CAMERA_OFF) this.media.setVideoMuted(true);
        else if (action === ModerationAction.MAKE_HOST) this.role = Role.HOST;
        else if (action === ModerationAction.LOWER_HAND) this.handRaisedAtMs = 0;
        if (action === ModerationAction.REMOVE || action === ModerationAction.BLOCK) {
          this.teardown("removed");
          this.notify({ kind: "removed", blocked: action === ModerationAction.BLOCK, byName });
          return;
        }
        this.notify({ kind: "moderated", action, byName });
        break;
      }
      case "meetingUpdated":
        if (body.value.meeting) {
          this.accessMode = body.value.meeting.accessMode || AccessMode.OPEN;
          this.meetingTitle = body.value.meeting.title;
        }
        break;
      case "meetingEnded":
        this.teardown("ended");
        this.notify({ kind: "ended", byName: body.value.byName });
        return;
      case "watchStateEvent":
        this.applyWatch(body.value.state, false);
        break;
      case "mediaMode":
        this.applyMediaMode(body.value, false);
        this.reconcileMediaPath();
        break;
      case "sfuEvent":
        this.onSfuEvent(body.value);
        break;
      case "reactionEvent":
        this.notify({ kind: "reaction", participantId: body.value.participantId, emoji: body.value.emoji });
        break;
      case "participantJoined":
        // The newcomer offers to everyone it finds in its roster; we make our
        // side of the peer connection when that offer arrives, so the first
        // negotiation has no glare.
        if (body.value.participant && body.value.participant.id !== this.participantId) {
          this.upsertParticipant(body.value.participant);
        }
        break;
      case "participantUpdated": {
        const p = body.value.participant;
        if (p && p.id !== this.participantId) {
          this.upsertParticipant(p);
        } else if (p) {
          this.role = p.role || Role.GUEST;
          this.handRaisedAtMs = Number(p.handRaisedAtMs);
        }
        break;
      }
      case "participantLeft":
        if (body.value.participantId === this.participantId && body.value.reason === LeaveReason.REMOVED) {
          // The moderation event normally comes first; this one is the fallback.
          this.teardown("removed");
          this.notify({ kind: "removed", blocked: false, byName: "" });
          return;
        }
        this.removeParticipant(body.value.participantId);
        break;
      case "signalDelivery":
        // Offers, answers and ICE candidates change nothing on screen (the
        // peer's own callbacks report tracks and connection states), unless
        // the signal made a placeholder participant.
        if (body.value.signal && this.onSignal(body.value.from, body.value.signal)) break;
        return;
      default:
        break;
    }
    this.emit();
  }

  // applyMediaMode keeps the meeting's media mode: a join reply's always (a
  // fresh snapshot), an event's unless its epoch is older than ours.
  private applyMediaMode(m: MediaModeState | undefined, fromJoin: boolean): void {
    if (!m) return;
    const epoch = Number(m.epoch);
    if (!fromJoin && epoch < this.mediaEpoch) return;
    this.mediaMode = m.mode === MediaMode.SFU ? MediaMode.SFU : MediaMode.MESH;
    this.mediaEpoch = epoch;
  }

  // onSignal hands a signal to its peer link; true when it made a placeholder participant.
  private onSignal(from: string, signal: Signal): boolean {
    if (!from || from === this.participantId) return false;
    // On the SFU: a mesh peer still switching over must not rebuild our mesh.
    if (!this.meshWanted) return false;
    const fresh = !this.participants.has(from);
    if (fresh) {
      // A signal can overtake the participant_joined event (they travel
      // different paths through the gateway): make a placeholder that the
      // event, which the gateway always delivers, fills in.
      this.participants.set(from, {
        id: from,
        displayName: "",
        media: { audioMuted: false, videoMuted: false, screenSharing: false, recording: false },
        joinedAtMs: Date.now(),
        stream: null,
        screenStream: null,
        connection: "new",
        role: Role.GUEST,
        handRaisedAtMs: 0,
      });
    }
    void this.ensurePeer(from).handleSignal(signal);
    return fresh;
  }

  private upsertParticipant(p: Participant): void {
    const cur = this.participants.get(p.id);
    const media = fromProtoMedia(p.media);
    if (cur) {
      cur.displayName = p.displayName || cur.displayName;
      cur.media = media;
      cur.role = p.role || Role.GUEST;
      cur.handRaisedAtMs = Number(p.handRaisedAtMs);
    } else {
      // On the SFU, their media may have come before the event.
      const sfu = this.mediaPath === "sfu" ? this.sfu : null;
      this.participants.set(p.id, {
        id: p.id,
        displayName: p.displayName,
        media,
        joinedAtMs: Number(p.joinedAtMs),
        stream: sfu?.streams.get(p.id) ?? null,
        screenStream: sfu?.screens.get(p.id) ?? null,
        connection: sfu?.subscriber?.connectionState ?? "new",
        role: p.role || Role.GUEST,
        handRaisedAtMs: Number(p.handRaisedAtMs),
      });
    }
  }

  private removeParticipant(id: string): void {
    this.dropPeer(id);
    this.participants.delete(id);
  }

  // ---- the SFU path (sfu.ts) ----

  // reconcileMediaPath starts the SFU (mode SFU) or goes back to the mesh
  // (mode MESH) once joined.
  private reconcileMediaPath(): void {
    if (this.state !== "joined" && this.state !== "reconnecting") return;
    if (this.mediaMode === MediaMode.SFU) {
      if (!this.sfu && !this.sfuStopped) this.startSfu();
    } else if (this.sfu || this.mediaPath === "sfu") {
      this.backToMesh();
    }
  }

  private sfuRequest(body: SfuRequestBody): Promise<SfuReply> {
    return this.client
      .request({ case: "sfu", value: { body } }, { queue: false, timeoutMs: SFU_REQUEST_TIMEOUT_MS })
      .then((msg) => {
        if (msg.body.case !== "sfu") throw new Error("unexpected reply to sfu");
        return msg.body.value;
      });
  }

  // startSfu publishes and subscribes; the mesh, if any, stays until the
  // SFU's media flows (checkSwitch).
  private startSfu(): void {
    clearTimeout(this.sfuRetryTimer);
    const link = new SfuLink({
      selfId: this.participantId,
      config: this.rtcConfig(),
      audio: this.media.audio,
      video: this.media.videoTrack,
      stream: this.media.stream,
      request: (body) => this.sfuRequest(body),
      onStream: (id, screen, stream) => {
        const p = this.participants.get(id);
        if (!p || this.mediaPath !== "sfu" || this.sfu !== link) return;
        if (screen) p.screenStream = stream;
        else p.stream = stream;
        this.emit();
      },
      onChange: () => {
        if (this.sfu !== link || this.mediaPath !== "sfu") return;
        this.sfuConnections(link);
        this.emit();
      },
    });
    this.sfu = link;
    link.setViews(this.localViews, document.visibilityState === "hidden");
    if (this.lastPublishers) link.handleEvent(this.lastPublishers);
    if (this.peers.size === 0) {
      // Nothing to keep meanwhile: the SFU's streams go to the tiles at once.
      this.meshWanted = false;
      this.mediaPath = "sfu";
      this.switchStartedAt = performance.now();
      this.noteSwitch("sfu-direct");
      this.adaptAll();
    } else {
      this.startSwitch(performance.now() + SFU_SWITCH_WAIT_MS);
    }
    link.publish().then(
      () => {
        this.sfuFailures = 0;
      },
      (e) => {
        if (this.sfu !== link) return;
        console.warn("huddle: sfu publish", e);
        // No SFU to be had now: keep the mesh (or make one after
        // SFU_DIRECT_RETRIES), try again later.
        this.sfu = null;
        link.close(true);
        if (++this.sfuFailures >= SFU_DIRECT_RETRIES) this.fallBackToMesh();
        this.sfuRetryTimer = setTimeout(() => this.reconcileMediaPath(), SFU_RETRY_MS);
      },
    );
  }

  private startSwitch(deadline: number): void {
    this.stopSwitch();
    this.switchStartedAt = performance.now();
    this.switchTimer = setInterval(() => void this.checkSwitch(deadline), SWITCH_POLL_MS);
  }

  private stopSwitch(): void {
    clearInterval(this.switchTimer);
    this.switchTimer = undefined;
  }

  // checkSwitch completes a switch in progress once the new path carries
  // everyone's media, or at the deadline.
  private async checkSwitch(deadline: number): Promise<void> {
    if (this.switchChecking) return;
    this.switchChecking = true;
    try {
      const late = performance.now() >= deadline;
      const link = this.sfu;
      if (this.mediaPath === "mesh") {
        if (!link) return this.stopSwitch();
        const flowing = await link.flowingFrom();
        const up = link.publisher.connectionState === "connected";
        if (this.sfu !== link || this.mediaPath !== "mesh") return;
        if (late || (up && link.published && [...this.participants.keys()].every((id) => flowing.has(id)))) {
          if (late) console.info("huddle: sfu switch: not every participant flows yet, closing the mesh anyway");
          this.noteSwitch(late ? "sfu-deadline" : "sfu-flowing");
          this.completeSfuSwitch(link);
        }
      } else {
        const connected = [...this.participants.keys()].every((id) => this.peers.get(id)?.pc.connectionState === "connected");
        if (late || connected) {
          this.noteSwitch(late ? "mesh-deadline" : "mesh-connected");
          this.completeMeshSwitch();
        }
      }
    } finally {
      this.switchChecking = false;
    }
  }

  private noteSwitch(how: string): void {
    this.lastSwitch = { how, ms: Math.round(performance.now() - this.switchStartedAt) };
  }

  // completeSfuSwitch: the tiles show the SFU's streams; the mesh closes.
  private completeSfuSwitch(link: SfuLink): void {
    this.stopSwitch();
    this.mediaPath = "sfu";
    this.meshWanted = false;
    for (const id of [...this.peers.keys()]) this.dropPeer(id);
    for (const [id, p] of this.participants) {
      p.stream = link.streams.get(id) ?? null;
      p.screenStream = link.screens.get(id) ?? null;
    }
    this.sfuConnections(link);
    this.adaptAll();
    this.emit();
  }

  // sfuConnections: every participant's connection state is the subscriber's.
  private sfuConnections(link: SfuLink): void {
    const s = link.subscriber?.connectionState ?? "new";
    for (const p of this.participants.values()) p.connection = s;
  }

  // backToMesh: the mesh is made again first; the SFU is left once it connected.
  private backToMesh(): void {
    clearTimeout(this.sfuRetryTimer);
    this.sfuStopped = false;
    if (this.mediaPath === "mesh") {
      // The switch to the SFU never completed: the mesh is still there.
      this.stopSwitch();
      this.sfu?.close(true);
      this.sfu = null;
      return;
    }
    this.meshWanted = true;
    for (const id of this.participants.keys()) this.ensurePeer(id);
    if (this.participants.size === 0) this.completeMeshSwitch();
    else this.startSwitch(performance.now() + MESH_SWITCH_WAIT_MS);
  }

  // fallBackToMesh: the SFU failed; the tiles go back to the mesh's streams
  // (made anew when it had been closed).
  private fallBackToMesh(): void {
    this.stopSwitch();
    if (this.mediaPath === "mesh") return;
    this.meshWanted = true;
    for (const id of this.participants.keys()) this.ensurePeer(id);
    this.switchStartedAt = performance.now();
    this.noteSwitch("mesh-fallback");
    this.completeMeshSwitch();
  }

  // completeMeshSwitch: the tiles show the mesh's streams; the SFU is left.
  private completeMeshSwitch(): void {
    this.stopSwitch();
    this.mediaPath = "mesh";
    for (const [id, p] of this.participants) {
      const link = this.peers.get(id);
      p.stream = link && link.remoteStream.getTracks().length > 0 ? link.remoteStream : null;
      p.screenStream = link && link.remoteScreenStream.getTracks().length > 0 ? link.remoteScreenStream : null;
      p.connection = link?.pc.connectionState ?? "new";
    }
    this.sfu?.close(true);
    this.sfu = null;
    this.adaptAll();
    this.emit();
  }

  private onSfuEvent(ev: SfuEvent): void {
    switch (ev.body.case) {
      case "mediaStopped":
        if (ev.body.value.reconnecting) {
          // Janus comes back: publish and subscribe anew on the next publishers event.
          this.sfu?.close(false);
          this.sfu = null;
          this.lastPublishers = null;
          this.sfuStopped = true;
        } else {
          this.sfu?.close(false);
          this.sfu = null;
          this.fallBackToMesh();
        }
        return;
      case "publishers":
        this.lastPublishers = ev;
        if (this.sfuStopped && this.mediaMode === MediaMode.SFU) {
          this.sfuStopped = false;
          this.startSfu(); // hands it lastPublishers
          return;
        }
        break;
      default:
        break;
    }
    this.sfu?.handleEvent(ev);
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
      screen: { track: this.media.screen, stream: this.media.screenStream },
      sendSignal: (signal) => this.sendSignal(remoteId, signal),
      onRemoteStream: (stream) => {
        const p = this.participants.get(remoteId);
        if (p && this.mediaPath === "mesh") p.stream = stream;
        this.emit();
      },
      onRemoteScreen: (stream) => {
        const p = this.participants.get(remoteId);
        if (p && this.mediaPath === "mesh") p.screenStream = stream;
        this.emit();
      },
      onStateChange: (s) => {
        const p = this.participants.get(remoteId);
        if (p && this.mediaPath === "mesh") p.connection = s;
        if (s === "connected") this.adaptPeer(remoteId);
        this.emit();
      },
      onControlOpen: () => {
        this.sentViews.delete(remoteId);
        this.sendView(remoteId);
        this.adaptPeer(remoteId);
      },
      onControl: (msg) => {
        const view = parseView(msg);
        if (!view) return;
        this.remoteViews.set(remoteId, view);
        this.adaptPeer(remoteId);
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
    this.remoteViews.delete(remoteId);
    this.localViews.delete(remoteId);
    this.sentViews.delete(remoteId);
    this.plans.delete(remoteId);
  }

  // ---- sender adaptation (adapt.ts) ----

  // setRemoteView: how this page shows participantId's video (its tile's
  // size in CSS pixels and whether it is on screen); told to that
  // participant so it sends what the tile needs. TileView calls it.
  setRemoteView(participantId: string, view: { width: number; height: number; visible: boolean }): void {
    this.localViews.set(participantId, { width: Math.round(view.width), height: Math.round(view.height), visible: view.visible });
    this.sendView(participantId);
    this.sfu?.setViews(this.localViews, document.visibilityState === "hidden");
  }

  private sendView(participantId: string): void {
    const link = this.peers.get(participantId);
    const local = this.localViews.get(participantId);
    if (!link || !local) return;
    const view: RemoteView = { ...local, hidden: document.visibilityState === "hidden" };
    if (sameView(this.sentViews.get(participantId), view)) return;
    if (link.sendControl({ type: "view", ...view })) this.sentViews.set(participantId, view);
  }

  private meetingSize(): number {
    return this.participants.size + 1;
  }

  // adaptAll fits the camera capture to the meeting's size and every peer's
  // camera sender to the size and its view.
  private adaptAll(): void {
    this.adaptedSize = this.meetingSize();
    const camera = this.media.camera;
    if (camera && camera.readyState === "live") {
      applyCapture(camera, this.mediaPath === "sfu" ? SFU_CAPTURE_AS_SIZE : this.adaptedSize)
        .then((changed) => {
          if (changed) for (const id of this.peers.keys()) this.adaptPeer(id);
        })
        .catch((e) => console.warn("huddle: camera constraints", e));
    }
    for (const id of this.peers.keys()) this.adaptPeer(id);
  }

  private adaptPeer(remoteId: string): void {
    const link = this.peers.get(remoteId);
    const sender = link?.cameraSender;
    if (!link || !sender) return;
    const view = this.remoteViews.get(remoteId);
    const track = sender.track;
    const plan =
      track && track === this.media.screen
        ? screenPlan(view)
        : planFor(this.meetingSize(), view, track?.getSettings().height ?? 0);
    applyPlan(sender, plan)
      .then(() => {
        if (sender.getParameters().encodings?.length) this.plans.set(remoteId, plan);
      })
      .catch((e) => console.warn(`huddle: sender parameters for ${remoteId}`, e));
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
    const screen = this.media.screen;
    if (screen !== this.lastScreenTrack) {
      this.lastScreenTrack = screen;
      for (const link of this.peers.values()) void link.setScreenTrack(screen, this.media.screenStream);
    }
    const video = this.media.videoTrack;
    if (video !== this.lastVideoTrack) {
      this.lastVideoTrack = video;
      for (const link of this.peers.values()) void link.setVideoTrack(video);
    }
    for (const link of this.peers.values()) {
      const sender = link.pc.getSenders().find((s) => s.track?.kind === "audio" || (!s.track && isAudioSender(link.pc, s)));
      if (sender && sender.track !== this.media.audio) void sender.replaceTrack(this.media.audio);
    }
    this.sfu?.setTracks(this.media.audio, video);
  }

  noteFirstFrame(remoteId: string): void {
    if (!this.firstFrameAt.has(remoteId) && (this.peers.has(remoteId) || this.mediaPath === "sfu")) {
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
