// SfuLink is this browser's media through Janus VideoRoom (issue 14) when
// the meeting's media mode is SFU: one publishing RTCPeerConnection (the
// microphone and the camera as VP8 simulcast, three layers) and one
// multistream subscriber RTCPeerConnection that receives everyone else.
// All signaling goes through the gateway as ClientMessage.sfu /
// ServerMessage.sfu (request / reply) and ServerMessage.sfu_event
// (proto/huddle/v1/sfu.proto); CallSession owns the link, routes the events
// to it and decides when the mesh closes (make-before-break).
//
// Which participant a received track belongs to: Janus's subscriber offer
// (joined with use_msid) names the publisher in the msid's stream id (so
// with Janus 1.1.2, integration.sfu_web); otherwise the new m-lines of an offer are matched, in order and by kind,
// with the streams the subscribe request asked for (VideoRoom adds a
// subscription's streams in request order).
//
// NOT DONE: sharing a screen while in SFU mode (the screen is not
// published; received screens of others are shown).
import { SfuHandle, SfuStreamType, type SfuEvent, type SfuReply, type SfuStream } from "../proto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SfuRequestSchema } from "../proto";

export type SfuRequestBody = NonNullable<MessageInitShape<typeof SfuRequestSchema>["body"]>;

// SIMULCAST_LAYERS: the camera's three VP8 layers (rid, scale from the
// capture, most bits/s): substream 0 = "l" .. 2 = "h".
export const SIMULCAST_LAYERS: readonly RTCRtpEncodingParameters[] = [
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];
// Layer choice by the height (CSS pixels) a tile needs the picture to be:
// up to SUBSTREAM_LOW_MAX_PX the low layer (180p of a 720p capture), up to
// SUBSTREAM_MID_MAX_PX the middle one (360p), above that the high one.
export const SUBSTREAM_LOW_MAX_PX = 200;
export const SUBSTREAM_MID_MAX_PX = 400;
// The substream asked for before a tile told its size.
export const SUBSTREAM_DEFAULT = 1;
// Configure requests wait this long (ms) so a burst of tile resizes is one request.
export const CONFIGURE_DEBOUNCE_MS = 200;
// A refused subscribe (the publisher is not publishing yet, or any more) is
// asked again after SUBSCRIBE_RETRY_MS, at most SUBSCRIBE_RETRIES times per
// publishers event, while the publisher is still listed.
export const SUBSCRIBE_RETRY_MS = 1_000;
export const SUBSCRIBE_RETRIES = 5;

// SfuTrack: what a subscriber m-line carries.
export interface SfuTrackInfo {
  participantId: string;
  pubMid: string; // the publisher's mid ("" when not known)
  kind: string; // "audio" | "video"
  screen: boolean;
  by: "msid" | "order"; // how the m-line was told apart (debug, tests)
}

// SfuView: how the page shows one participant's camera (CallSession.setRemoteView).
export interface SfuView {
  width: number;
  height: number;
  visible: boolean;
}

export interface SfuLinkOptions {
  selfId: string;
  config: RTCConfiguration;
  // The local tracks (null: none yet; muting is track.enabled, see media.ts).
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  stream: MediaStream;
  // Sends one SfuRequest; resolves with its SfuReply, rejects with the
  // gateway's RequestError.
  request: (body: SfuRequestBody) => Promise<SfuReply>;
  // A participant's camera + microphone stream, or screen stream, got a track.
  onStream: (participantId: string, screen: boolean, stream: MediaStream) => void;
  // Anything the session may wait for changed (tracks, connection states).
  onChange: () => void;
}

// substreamFor: the simulcast layer a tile of view's size needs.
export function substreamFor(view: SfuView | undefined): number {
  if (!view || view.width <= 0 || view.height <= 0) return SUBSTREAM_DEFAULT;
  const need = Math.max(view.height, (view.width * 9) / 16); // a 16:9 picture covering the tile
  if (need <= SUBSTREAM_LOW_MAX_PX) return 0;
  if (need <= SUBSTREAM_MID_MAX_PX) return 1;
  return 2;
}

interface Wanted {
  participantId: string;
  mid: string;
  kind: string;
  screen: boolean;
}

export class SfuLink {
  readonly publisher: RTCPeerConnection;
  subscriber: RTCPeerConnection | null = null;
  // participant id -> the streams they publish (the last publishers event).
  readonly publishers = new Map<string, SfuStream[]>();
  // subscriber mid -> whose track it carries.
  readonly tracks = new Map<string, SfuTrackInfo>();
  // participant id -> their camera + microphone / their screen, as received.
  readonly streams = new Map<string, MediaStream>();
  readonly screens = new Map<string, MediaStream>();
  // Who talks now (talking events).
  readonly talking = new Set<string>();
  published = false;
  closed = false;
  private audioSender: RTCRtpSender;
  private videoSender: RTCRtpSender;
  // Publisher ids + mids already asked for ("pid/mid").
  private readonly subscribed = new Set<string>();
  // Streams asked for whose m-line has not been seen yet, in request order.
  private pending: Wanted[] = [];
  private subChain: Promise<void> = Promise.resolve();
  private pubCandidates: RTCIceCandidate[] | null = [];
  private subCandidates: (RTCIceCandidate | null)[] | null = [];
  private pubCompleted = false;
  private views = new Map<string, SfuView>();
  private hidden = false;
  private sentLayers = new Map<string, string>(); // subscriber mid -> "substream/paused"
  private configureTimer?: ReturnType<typeof setTimeout>;

  constructor(private readonly opts: SfuLinkOptions) {
    const pc = new RTCPeerConnection(opts.config);
    this.publisher = pc;
    // Always an audio and a video m-line, so muting and switching cameras
    // need no renegotiation (as in the mesh, peer.ts).
    this.audioSender = pc.addTransceiver(opts.audio ?? "audio", { direction: "sendonly", streams: [opts.stream] }).sender;
    this.videoSender = pc.addTransceiver(opts.video ?? "video", {
      direction: "sendonly",
      streams: [opts.stream],
      sendEncodings: SIMULCAST_LAYERS.map((l) => ({ ...l })),
    }).sender;
    pc.onicecandidate = ({ candidate }) => this.pubCandidate(candidate);
    pc.onconnectionstatechange = () => opts.onChange();
  }

  // publish offers our media to Janus (first call: joins as a publisher).
  // Rejects when the gateway refuses (the session falls back to the mesh).
  async publish(): Promise<void> {
    const pc = this.publisher;
    await pc.setLocalDescription(await pc.createOffer());
    const reply = await this.opts.request({
      case: "publish",
      value: { offerSdp: pc.localDescription?.sdp ?? "", audio: true, video: true, screen: false },
    });
    if (this.closed) return;
    if (reply.body.case !== "publish") throw new Error("sfu: unexpected reply to publish");
    await pc.setRemoteDescription({ type: "answer", sdp: reply.body.value.answerSdp });
    this.published = true;
    const queued = this.pubCandidates ?? [];
    this.pubCandidates = null;
    for (const c of queued) this.sendTrickle(SfuHandle.PUBLISHER, c);
    if (this.pubCompleted) this.sendTrickle(SfuHandle.PUBLISHER, null);
  }

  private pubCandidate(c: RTCIceCandidate | null): void {
    if (this.closed) return;
    if (this.pubCandidates) {
      // The publisher handle exists once publish has been answered.
      if (c && c.candidate) this.pubCandidates.push(c);
      else this.pubCompleted = true;
      return;
    }
    this.sendTrickle(SfuHandle.PUBLISHER, c && c.candidate ? c : null);
  }

  private subCandidate(c: RTCIceCandidate | null): void {
    if (this.closed) return;
    const cand = c && c.candidate ? c : null;
    if (this.subCandidates) this.subCandidates.push(cand);
    else this.sendTrickle(SfuHandle.SUBSCRIBER, cand);
  }

  private sendTrickle(handle: SfuHandle, c: RTCIceCandidate | null): void {
    const value = c
      ? { handle, candidate: c.candidate, sdpMid: c.sdpMid ?? "", sdpMlineIndex: c.sdpMLineIndex ?? 0, completed: false }
      : { handle, completed: true };
    this.opts.request({ case: "trickle", value }).catch((e) => {
      if (!this.closed) console.warn("huddle: sfu trickle", e);
    });
  }

  // setTracks puts the current microphone and camera on the publisher.
  setTracks(audio: MediaStreamTrack | null, video: MediaStreamTrack | null): void {
    if (this.closed) return;
    if (this.audioSender.track !== audio) void this.audioSender.replaceTrack(audio);
    if (this.videoSender.track !== video) void this.videoSender.replaceTrack(video);
  }

  // handleEvent applies one ServerMessage.sfu_event (media_stopped is the
  // session's).
  handleEvent(ev: SfuEvent): void {
    if (this.closed) return;
    switch (ev.body.case) {
      case "publishers": {
        this.publishers.clear();
        for (const p of ev.body.value.publishers) this.publishers.set(p.participantId, p.streams);
        for (const id of [...this.talking]) if (!this.publishers.has(id)) this.talking.delete(id);
        this.subscribeNew();
        break;
      }
      case "subscriberOffer": {
        const sdp = ev.body.value.offerSdp;
        this.subChain = this.subChain.then(() => this.answer(sdp)).catch((e) => console.warn("huddle: sfu renegotiation", e));
        break;
      }
      case "talking":
        if (ev.body.value.talking) this.talking.add(ev.body.value.participantId);
        else this.talking.delete(ev.body.value.participantId);
        break;
      default:
        break;
    }
  }

  // subscribeNew asks for every stream of every other publisher not asked
  // for yet: one request per publisher, so one that is gone (VideoRoom
  // refuses the whole request) does not hold back the others.
  private subscribeNew(attempt = 0): void {
    // A publisher gone: its streams may come back (a reconnect) under new mids.
    for (const key of [...this.subscribed]) {
      if (!this.publishers.has(key.slice(0, key.indexOf("/")))) this.subscribed.delete(key);
    }
    for (const [id, streams] of this.publishers) {
      if (id === this.opts.selfId) continue;
      const feeds: Wanted[] = [];
      for (const s of streams) {
        const key = `${id}/${s.mid}`;
        if (this.subscribed.has(key)) continue;
        this.subscribed.add(key);
        feeds.push({ participantId: id, mid: s.mid, kind: s.kind, screen: s.type === SfuStreamType.SCREEN });
      }
      if (feeds.length > 0) this.subscribeFeeds(feeds, attempt);
    }
  }

  private subscribeFeeds(feeds: Wanted[], attempt: number): void {
    this.subChain = this.subChain
      .then(async () => {
        if (this.closed) return;
        this.pending.push(...feeds);
        const reply = await this.opts.request({
          case: "subscribe",
          value: { feeds: feeds.map((f) => ({ participantId: f.participantId, mid: f.mid })) },
        });
        if (reply.body.case !== "subscribe") throw new Error("sfu: unexpected reply to subscribe");
        // "" : the update needed no renegotiation (an event brings the offer).
        if (reply.body.value.offerSdp) await this.answer(reply.body.value.offerSdp);
      })
      .catch((e) => {
        // Not subscribed: ask again with the next publishers event.
        for (const f of feeds) this.subscribed.delete(`${f.participantId}/${f.mid}`);
        this.pending = this.pending.filter((w) => !feeds.includes(w));
        if (this.closed) return;
        console.warn("huddle: sfu subscribe", e);
        if (attempt + 1 < SUBSCRIBE_RETRIES) setTimeout(() => !this.closed && this.subscribeNew(attempt + 1), SUBSCRIBE_RETRY_MS);
      });
  }

  private ensureSubscriber(): RTCPeerConnection {
    if (this.subscriber) return this.subscriber;
    const pc = new RTCPeerConnection(this.opts.config);
    this.subscriber = pc;
    pc.onicecandidate = ({ candidate }) => this.subCandidate(candidate);
    pc.onconnectionstatechange = () => this.opts.onChange();
    pc.ontrack = ({ track, transceiver }) => this.onTrack(track, transceiver);
    return pc;
  }

  // answer takes Janus's subscriber offer and answers it with start.
  private async answer(offer: string): Promise<void> {
    if (this.closed) return;
    const pc = this.ensureSubscriber();
    this.mapMids(offer);
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await this.opts.request({ case: "start", value: { answerSdp: pc.localDescription?.sdp ?? "" } });
    if (this.subCandidates) {
      const queued = this.subCandidates;
      this.subCandidates = null;
      for (const c of queued) this.sendTrickle(SfuHandle.SUBSCRIBER, c);
    }
    this.scheduleConfigure();
  }

  // mapMids records whose stream each m-line of a subscriber offer carries.
  private mapMids(sdp: string): void {
    for (const m of parseMlines(sdp)) {
      if (m.port === 0) {
        this.tracks.delete(m.mid); // stopped: its publisher left or unpublished
        continue;
      }
      const known = this.tracks.get(m.mid);
      if (known && this.publishers.has(known.participantId)) continue;
      let info: SfuTrackInfo | undefined;
      // Janus with use_msid: the stream id may be the publisher's id.
      if (m.msidStream && (this.publishers.has(m.msidStream) || this.pending.some((w) => w.participantId === m.msidStream))) {
        const at = this.pending.findIndex((w) => w.participantId === m.msidStream && w.kind === m.kind);
        const w = at >= 0 ? this.pending.splice(at, 1)[0] : undefined;
        info = { participantId: m.msidStream, pubMid: w?.mid ?? "", kind: m.kind, screen: w?.screen ?? false, by: "msid" };
      } else {
        const at = this.pending.findIndex((w) => w.kind === m.kind);
        if (at >= 0) {
          const w = this.pending.splice(at, 1)[0];
          info = { participantId: w.participantId, pubMid: w.mid, kind: w.kind, screen: w.screen, by: "order" };
        }
      }
      if (info) this.tracks.set(m.mid, info);
    }
  }

  private onTrack(track: MediaStreamTrack, transceiver: RTCRtpTransceiver): void {
    const info = transceiver.mid !== null ? this.tracks.get(transceiver.mid) : undefined;
    if (!info) {
      console.warn(`huddle: sfu track on unknown mid ${transceiver.mid}`);
      return;
    }
    const map = info.screen ? this.screens : this.streams;
    let stream = map.get(info.participantId);
    if (!stream) {
      stream = new MediaStream();
      map.set(info.participantId, stream);
    }
    // One stream per participant with its latest track of each kind.
    for (const old of stream.getTracks()) if (old.kind === track.kind && old !== track) stream.removeTrack(old);
    if (!stream.getTracks().includes(track)) stream.addTrack(track);
    track.addEventListener("unmute", () => this.opts.onChange());
    this.opts.onStream(info.participantId, info.screen, stream);
    this.opts.onChange();
  }

  // flowingFrom: the participant ids whose media arrives over the SFU
  // (an inbound RTP stream of theirs has received packets).
  async flowingFrom(): Promise<Set<string>> {
    const out = new Set<string>();
    const pc = this.subscriber;
    if (!pc || this.closed) return out;
    const stats = await pc.getStats();
    stats.forEach((s: { type: string; mid?: string; packetsReceived?: number }) => {
      if (s.type !== "inbound-rtp" || !s.mid || !(s.packetsReceived && s.packetsReceived > 0)) return;
      const info = this.tracks.get(s.mid);
      if (info) out.add(info.participantId);
    });
    return out;
  }

  // setViews: how the page shows each participant's camera, and whether the
  // tab is hidden; the layers follow (debounced).
  setViews(views: Map<string, SfuView>, hidden: boolean): void {
    this.views = new Map(views);
    this.hidden = hidden;
    this.scheduleConfigure();
  }

  private scheduleConfigure(): void {
    if (this.closed || this.configureTimer !== undefined) return;
    this.configureTimer = setTimeout(() => {
      this.configureTimer = undefined;
      this.configure();
    }, CONFIGURE_DEBOUNCE_MS);
  }

  // configure asks for each subscribed camera's layer: by its tile's size,
  // paused while the tile is off screen or the tab hidden.
  private configure(): void {
    if (this.closed || !this.subscriber || this.subCandidates) return;
    const streams: { participantId: string; mid: string; substream: number; paused: boolean }[] = [];
    for (const [mid, info] of this.tracks) {
      if (info.kind !== "video" || info.screen) continue;
      const view = this.views.get(info.participantId);
      const paused = this.hidden || (view !== undefined && !view.visible);
      const substream = substreamFor(view);
      const key = `${substream}/${paused}`;
      if (this.sentLayers.get(mid) === key) continue;
      this.sentLayers.set(mid, key);
      streams.push({ participantId: info.participantId, mid, substream, paused });
    }
    if (streams.length === 0) return;
    this.opts.request({ case: "configure", value: { streams } }).catch((e) => {
      for (const s of streams) this.sentLayers.delete(s.mid); // sent again next time
      if (!this.closed) console.warn("huddle: sfu configure", e);
    });
  }

  // layers: subscriber mid -> "substream/paused" as last asked (debug, tests).
  get layers(): Map<string, string> {
    return this.sentLayers;
  }

  // close ends both peer connections; leave (true) also tells Janus (sfu leave).
  close(leave: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.configureTimer);
    if (leave) this.opts.request({ case: "leave", value: {} }).catch((e) => console.warn("huddle: sfu leave", e));
    for (const pc of [this.publisher, this.subscriber]) {
      if (!pc) continue;
      pc.onicecandidate = pc.onconnectionstatechange = pc.ontrack = null;
      pc.close();
    }
  }
}

interface Mline {
  kind: string;
  port: number;
  mid: string;
  msidStream: string;
}

// parseMlines: each m-line's kind, port, mid and msid stream id.
function parseMlines(sdp: string): Mline[] {
  const out: Mline[] = [];
  let cur: Mline | null = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      const [kind, port] = line.slice(2).split(" ");
      cur = { kind, port: Number(port), mid: "", msidStream: "" };
      out.push(cur);
    } else if (cur && line.startsWith("a=mid:")) {
      cur.mid = line.slice(6).trim();
    } else if (cur && line.startsWith("a=msid:")) {
      cur.msidStream = line.slice(7).trim().split(" ")[0] ?? "";
    }
  }
  return out.filter((m) => m.kind === "audio" || m.kind === "video");
}
