// SignalingClient is the browser end of the gateway's /ws: binary protobuf
// frames (one ClientMessage / ServerMessage each), request ids with one
// promise per request, event dispatch, pings, and automatic reconnect.
//
// Reconnect: when the socket drops, the client reconnects with exponential
// backoff (250 ms doubling to 5 s, with jitter). After each open it calls the
// owner's onOpen hook (which (re)joins the meeting with sendNow); requests
// made with `queue: true` meanwhile wait in a queue that is flushed once the
// hook has resolved. Requests that were in flight when the socket dropped are
// queued again, so a signal is not lost to a gateway restart.
//
// Messages larger than one frame go out, and come in, as FrameChunk parts
// (signaling/chunk.ts); the owner sees only whole messages.
import {
  create,
  fromBinary,
  toBinary,
  ClientMessageSchema,
  ServerMessageSchema,
  ErrorCode,
  type ServerMessage,
} from "../proto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Backoff } from "./backoff";
import { MESSAGE_MAX, Reassembler, splitFrame } from "./chunk";

export const SUBPROTOCOL = "huddle.v1";
const PING_INTERVAL_MS = 10_000;
const PONG_TIMEOUT_MS = 8_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 10_000;

export type RequestBody = NonNullable<MessageInitShape<typeof ClientMessageSchema>["body"]>;
export type ServerBody = ServerMessage["body"];
export type ConnectionState = "connecting" | "open" | "ready" | "closed";

// RequestError is a typed Error reply from the gateway (or a local failure:
// timeout, closed), carrying the proto error code.
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`${ErrorCode[code] ?? code}: ${message}`);
    this.name = "RequestError";
  }
}

interface Pending {
  id: number;
  body: RequestBody;
  timeoutMs: number;
  resend: boolean; // queue again when the socket drops before the reply
  resolve: (m: ServerMessage) => void;
  reject: (e: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

export interface SignalingOptions {
  url: string;
  // Runs after every socket open, before queued requests are flushed. Use
  // sendNow() inside it. A rejection closes the socket and retries later.
  onOpen: (reconnect: boolean) => Promise<void>;
  onEvent: (body: ServerBody) => void;
  onStateChange?: (state: ConnectionState) => void;
}

// SignalingGuest is another component riding on a connection it does not
// own (the chat of a meeting that is not open needs the call's admitted
// session): its onOpen runs after the owner's on every (re)open, and a
// failure there only concerns it; it sees every event and state change.
export interface SignalingGuest {
  onOpen: () => Promise<void>;
  onEvent: (body: ServerBody) => void;
  onStateChange?: (state: ConnectionState) => void;
}

export function defaultSignalingUrl(): string {
  return `${location.origin.replace(/^http/, "ws")}/ws`;
}

export class SignalingClient {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private inflight = new Map<number, Pending>();
  private queue: Pending[] = [];
  private readonly backoff = new Backoff(BACKOFF_MIN_MS, BACKOFF_MAX_MS);
  private readonly reassembler = new Reassembler();
  private nextChunkId = 1;
  private opened = false; // has any socket ever become ready
  private stopped = false;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setInterval>;
  private lastPongAt = 0;
  private readonly guests = new Set<SignalingGuest>();
  state: ConnectionState = "closed";
  rttMs = 0;

  constructor(private readonly opts: SignalingOptions) {}

  connect(): void {
    this.stopped = false;
    this.open();
  }

  // Sends when ready, queues while (re)connecting. Resolves with the reply
  // ServerMessage, rejects with RequestError on an Error reply or timeout.
  request(body: RequestBody, opts: { timeoutMs?: number; queue?: boolean } = {}): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const p: Pending = {
        id: 0,
        body,
        timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        resend: opts.queue ?? true,
        resolve,
        reject,
      };
      if (this.state === "ready") this.transmit(p);
      else if (p.resend && !this.stopped) this.queue.push(p);
      else reject(new RequestError(ErrorCode.CLOSED, "not connected"));
    });
  }

  // Sends right away on an open socket (used by onOpen to join).
  sendNow(body: RequestBody, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const p: Pending = { id: 0, body, timeoutMs, resend: false, resolve, reject };
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(new RequestError(ErrorCode.CLOSED, "socket not open"));
        return;
      }
      this.transmit(p);
    });
  }

  // discardQueued fails the queued (not yet sent) requests that match, e.g.
  // signals for peers of an identity we no longer have.
  discardQueued(match: (body: RequestBody) => boolean): void {
    const keep: Pending[] = [];
    for (const p of this.queue) {
      if (match(p.body)) p.reject(new RequestError(ErrorCode.CLOSED, "discarded"));
      else keep.push(p);
    }
    this.queue = keep;
  }

  // Best-effort send without waiting for a reply (used on pagehide).
  fireAndForget(body: RequestBody): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      try {
        this.sendFrames(this.ws, toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId: this.allocId(), body })));
      } catch (e) {
        console.warn("huddle: send", e);
      }
    }
  }

  // Closes for good: no reconnect, every pending request fails.
  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onerror = ws.onmessage = ws.onopen = null;
      ws.close(1000, "bye");
    }
    const err = new RequestError(ErrorCode.CLOSED, "client closed");
    for (const p of [...this.inflight.values(), ...this.queue]) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.inflight.clear();
    this.queue = [];
    this.setState("closed");
  }

  // attach adds a guest (see SignalingGuest); returns the function that
  // detaches it. On a ready connection its onOpen runs at once.
  attach(guest: SignalingGuest): () => void {
    this.guests.add(guest);
    if (this.state === "ready") void this.openGuest(guest);
    return () => {
      this.guests.delete(guest);
    };
  }

  private async openGuest(guest: SignalingGuest): Promise<void> {
    try {
      await guest.onOpen();
    } catch (e) {
      console.warn("huddle: connection setup of an attached client failed", e);
    }
  }

  // Drops the current socket as if the network failed (debug/tests).
  dropConnection(): void {
    this.ws?.close(4000, "dropped by client");
  }

  private allocId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
    return id;
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    this.opts.onStateChange?.(s);
    for (const g of this.guests) g.onStateChange?.(s);
  }

  private open(): void {
    if (this.stopped) return;
    this.setState("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url, SUBPROTOCOL);
    } catch (e) {
      console.warn("huddle: websocket", e);
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.reassembler.reset();
    ws.onopen = () => void this.onSocketOpen(ws);
    ws.onmessage = (ev) => this.onSocketMessage(ev);
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = () => this.onSocketClose(ws);
  }

  private async onSocketOpen(ws: WebSocket): Promise<void> {
    this.setState("open");
    const reconnect = this.opened;
    try {
      await this.opts.onOpen(reconnect);
    } catch (e) {
      console.warn("huddle: connection setup (join / subscribe) failed", e);
      if (this.ws === ws) ws.close(4001, "join failed");
      return;
    }
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
    this.opened = true;
    this.backoff.reset();
    this.setState("ready");
    this.startPing();
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) this.transmit(p);
    for (const g of this.guests) void this.openGuest(g);
  }

  private onSocketMessage(ev: MessageEvent): void {
    if (!(ev.data instanceof ArrayBuffer)) return;
    let msg: ServerMessage;
    try {
      msg = fromBinary(ServerMessageSchema, new Uint8Array(ev.data));
      if (msg.body.case === "chunk") {
        const whole = this.reassembler.add(msg.body.value);
        if (!whole) return;
        msg = fromBinary(ServerMessageSchema, whole);
      }
    } catch (e) {
      console.warn("huddle: undecodable frame", e);
      return;
    }
    if (msg.requestId !== 0) {
      const p = this.inflight.get(msg.requestId);
      if (!p) return; // late reply after a timeout
      this.inflight.delete(msg.requestId);
      clearTimeout(p.timer);
      if (msg.body.case === "error") {
        p.reject(new RequestError(msg.body.value.code, msg.body.value.message));
      } else {
        p.resolve(msg);
      }
      return;
    }
    if (msg.body.case === "error") {
      console.warn("huddle: gateway error", ErrorCode[msg.body.value.code], msg.body.value.message);
      return;
    }
    this.opts.onEvent(msg.body);
    for (const g of this.guests) g.onEvent(msg.body);
  }

  private onSocketClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.stopPing();
    // Requests without an answer: queue the resendable ones again, fail the rest.
    const requeue: Pending[] = [];
    for (const p of this.inflight.values()) {
      clearTimeout(p.timer);
      if (p.resend && !this.stopped) requeue.push(p);
      else p.reject(new RequestError(ErrorCode.CLOSED, "connection lost"));
    }
    this.inflight.clear();
    this.queue = [...requeue, ...this.queue];
    if (this.stopped) return;
    this.setState("connecting");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.open(), this.backoff.next());
  }

  private transmit(p: Pending): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      if (p.resend) this.queue.push(p);
      else p.reject(new RequestError(ErrorCode.CLOSED, "socket not open"));
      return;
    }
    p.id = this.allocId();
    const msg = create(ClientMessageSchema, { requestId: p.id, body: p.body });
    let packed: Uint8Array;
    try {
      packed = toBinary(ClientMessageSchema, msg);
      if (packed.length > MESSAGE_MAX) throw new RangeError(`${packed.length} bytes`);
    } catch (e) {
      p.reject(new RequestError(ErrorCode.TOO_LARGE, `${p.body.case} does not fit a message: ${String(e)}`));
      return;
    }
    this.inflight.set(p.id, p);
    p.timer = setTimeout(() => {
      if (this.inflight.get(p.id) !== p) return;
      this.inflight.delete(p.id);
      p.reject(new RequestError(ErrorCode.TIMEOUT, `no reply to ${p.body.case} in ${p.timeoutMs} ms`));
    }, p.timeoutMs);
    this.sendFrames(ws, packed);
  }

  // sendFrames sends a packed ClientMessage as one frame, or as consecutive
  // chunk frames when it is larger than a frame (WebSocket.send queues them
  // in order, so nothing of ours comes between them).
  private sendFrames(ws: WebSocket, packed: Uint8Array): void {
    const parts = splitFrame(packed, this.nextChunkId);
    if (!parts) {
      ws.send(packed);
      return;
    }
    this.nextChunkId = this.nextChunkId >= 0xfffffff0 ? 1 : this.nextChunkId + 1;
    for (const part of parts) ws.send(toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId: 0, body: { case: "chunk", value: part } })));
  }

  private startPing(): void {
    this.stopPing();
    this.lastPongAt = Date.now();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastPongAt > PING_INTERVAL_MS + PONG_TIMEOUT_MS) {
        // The socket looks open but nothing answers: treat it as dead.
        this.ws?.close(4002, "ping timeout");
        return;
      }
      const sent = Date.now();
      this.request({ case: "ping", value: { clientTimeMs: BigInt(sent) } }, {
        timeoutMs: PONG_TIMEOUT_MS,
        queue: false,
      }).then(
        () => {
          this.lastPongAt = Date.now();
          this.rttMs = this.lastPongAt - sent;
        },
        () => {
          /* a missing pong is handled by the check above */
        },
      );
    }, PING_INTERVAL_MS);
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
}
