// ChatClient is one page's view of a meeting's chat: its own WebSocket to the
// gateway (a SignalingClient whose onOpen subscribes), the messages known so
// far (by seq, each once), history paging, and the posts not yet
// acknowledged, which are sent again with the same client_message_id until
// the gateway confirms them (the chat daemon stores a retried post once).
//
// The chat has a connection of its own rather than sharing the call's: it
// lives from the pre-join page through the call and after Leave, and it must
// neither hold up the call's resume (a chat daemon that is down fails the
// subscribe) nor be closed by the call's failure paths (a failed join closes
// the call's socket). The cost: posts carry no sender_id (the gateway sets it
// only on a session that is joined to the call), so messages are shown by
// sender name.
//
// On every (re)connect: subscribe; then, the first time, read the latest page
// (before_seq = last_seq + 1); afterwards read everything after the last seq
// known without a gap (after_seq pages until `more` is false). Events and
// pages overlap freely: a message is kept once per seq.
import { SignalingClient, RequestError, defaultSignalingUrl, type ServerBody, type ConnectionState, type RequestBody } from "../signaling/client";
import { Backoff, newClientId } from "../signaling/backoff";
import { ErrorCode, type ChatMessage, type ChatHistoryReply, type ServerMessage } from "../proto";

export const MAX_TEXT_BYTES = 4096;
export const MAX_NAME_BYTES = 64;
const PAGE = 50;
const CATCHUP_PAGE = 200;
const CATCHUP_MAX_PAGES = 1000; // 200k messages: bounds the loop if `more` never clears
const POST_TIMEOUT_MS = 10_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 10_000;
const PENDING_KEY = "huddle.chat.pending.";
// The client_message_ids this browser posted, per meeting (localStorage), so
// its own messages are still marked as its own after a reload. Bounded: the
// newest OWN_MAX ids per meeting are kept, older ones dropped.
const OWN_KEY = "huddle.chat.own.";
export const OWN_MAX = 500;
const CID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export type ChatState = "connecting" | "ready" | "unavailable" | "closed";

// PendingPost is a post the gateway has not acknowledged yet.
export interface PendingPost {
  cid: string; // client_message_id, kept across retries and reloads
  text: string;
  senderName: string;
  createdAtMs: number;
  attempts: number;
  error: string; // why the last attempt failed ("" before the first failure)
  fatal: boolean; // refused (bad request, too large): not retried automatically
}

export type ChatChange =
  | { kind: "messages"; added: ChatMessage[]; older: boolean; live: boolean }
  | { kind: "pending" }
  | { kind: "state" };

const encoder = new TextEncoder();

export function byteLength(s: string): number {
  return encoder.encode(s).length;
}

// trimText trims ASCII whitespace, as the chat daemon does.
export function trimText(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
}


// readOwn parses a stored list of own ids; anything else (garbage, another
// version's format) reads as empty. At most the newest OWN_MAX are returned.
function readOwn(raw: string | null): string[] {
  if (!raw) return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === "string" && CID_RE.test(x)).slice(-OWN_MAX);
}

export interface ChatClientOptions {
  meetingId: string;
  signalingUrl?: string;
  // Ride on this connection (the call's) instead of an own one: the chat of
  // a meeting that is not open is only for sessions admitted to its call.
  via?: SignalingClient;
}

export class ChatClient {
  readonly meetingId: string;
  connection: ConnectionState = "closed";
  unavailable = "";
  messages: ChatMessage[] = []; // ascending seq
  pending: PendingPost[] = [];
  loaded = false; // the latest page has been read
  olderMore = false; // older messages exist below messages[0]
  loadingOlder = false;
  // client_message_ids posted from this browser: this page's posts, the
  // pending ones restored from sessionStorage, and the ones remembered in
  // localStorage (the last OWN_MAX per meeting).
  readonly ownIds = new Set<string>();

  private readonly client: SignalingClient;
  private readonly bySeq = new Map<number, ChatMessage>();
  private syncedSeq = 0; // every message from the first loaded one up to here is known
  private sending: PendingPost | null = null;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private readonly backoff = new Backoff(RETRY_MIN_MS, RETRY_MAX_MS);
  private closed = false;
  private readonly listeners = new Set<(c: ChatChange) => void>();
  private readonly attached: boolean;
  private detach: (() => void) | null = null;

  constructor(opts: ChatClientOptions) {
    this.meetingId = opts.meetingId;
    this.attached = opts.via !== undefined;
    this.restoreOwn();
    this.restorePending();
    if (opts.via) {
      this.client = opts.via;
      return;
    }
    this.client = new SignalingClient({
      url: opts.signalingUrl ?? defaultSignalingUrl(),
      onOpen: () => this.onOpen(),
      onEvent: (body) => this.onEvent(body),
      onStateChange: (s) => {
        this.connection = s;
        if (s === "ready") {
          // A new subscription: whatever failed on the old one goes again now.
          clearTimeout(this.retryTimer);
          this.backoff.reset();
          this.pump();
        }
        this.emit({ kind: "state" });
      },
    });
  }

  get state(): ChatState {
    if (this.unavailable) return "unavailable";
    if (this.closed) return "closed";
    return this.connection === "ready" ? "ready" : "connecting";
  }

  // The newest seq known (0: none).
  get lastSeq(): number {
    return this.messages.length ? Number(this.messages[this.messages.length - 1].seq) : 0;
  }

  connect(): void {
    if (!this.attached) {
      this.client.connect();
      return;
    }
    this.detach ??= this.client.attach({
      onOpen: () => this.attachedOpen(),
      onEvent: (body) => this.onEvent(body),
      // "ready" comes from attachedOpen, once subscribed.
      onStateChange: (s) => {
        if (s === "ready") return;
        this.connection = s;
        this.emit({ kind: "state" });
      },
    });
  }

  // attachedOpen subscribes on the shared connection (after each (re)join).
  private async attachedOpen(): Promise<void> {
    if (this.closed) return;
    this.connection = "open";
    this.emit({ kind: "state" });
    await this.onOpen();
    if (this.closed) return;
    this.connection = "ready";
    clearTimeout(this.retryTimer);
    this.backoff.reset();
    this.pump();
    this.emit({ kind: "state" });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.attached) {
      this.detach?.();
      this.detach = null;
      this.connection = "closed";
    } else {
      this.client.close();
    }
    this.emit({ kind: "state" });
  }

  onChange(fn: (c: ChatChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // Drops the socket as a network failure would (tests, console).
  dropConnection(): void {
    if (this.attached) void this.attachedOpen().catch((e) => console.warn("huddle: chat subscribe", e));
    else this.client.dropConnection();
  }

  // post queues a message and sends it when it can. Returns "" or why it
  // cannot be posted at all.
  post(text: string, senderName: string): string {
    const t = trimText(text);
    const name = senderName.trim();
    if (!t) return "Type a message first.";
    const n = byteLength(t);
    if (n > MAX_TEXT_BYTES) return `This message is too long (${n} of ${MAX_TEXT_BYTES} bytes).`;
    if (!name) return "Enter your name to send messages.";
    if (byteLength(name) > MAX_NAME_BYTES) return "Your name is too long.";
    if (this.unavailable || this.closed) return "Chat is not available.";
    const p: PendingPost = { cid: newClientId(), text: t, senderName: name, createdAtMs: Date.now(), attempts: 0, error: "", fatal: false };
    this.ownIds.add(p.cid);
    this.rememberOwn(p.cid);
    this.pending.push(p);
    this.savePending();
    this.emit({ kind: "pending" });
    this.pump();
    return "";
  }

  // retry sends a refused post again (same id).
  retry(cid: string): void {
    const p = this.pending.find((x) => x.cid === cid);
    if (!p) return;
    p.fatal = false;
    p.error = "";
    this.emit({ kind: "pending" });
    this.pump();
  }

  // discard forgets a post that was not acknowledged.
  discard(cid: string): void {
    if (this.sending?.cid === cid) return; // in flight: its reply decides
    this.pending = this.pending.filter((x) => x.cid !== cid);
    this.savePending();
    this.emit({ kind: "pending" });
  }

  // loadOlder reads the page before the oldest message shown.
  async loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.olderMore || this.connection !== "ready" || this.messages.length === 0) return;
    this.loadingOlder = true;
    this.emit({ kind: "state" });
    try {
      const r = await this.history(BigInt(this.messages[0].seq), 0n, PAGE, false);
      this.olderMore = r.more;
      this.add(r.messages, { older: true, live: false });
    } catch (e) {
      console.warn("huddle: chat history", e);
    } finally {
      this.loadingOlder = false;
      this.emit({ kind: "state" });
    }
  }

  // ---- connection ----

  private async onOpen(): Promise<void> {
    let msg: ServerMessage;
    try {
      msg = await this.client.sendNow({ case: "chatSubscribe", value: { meetingId: this.meetingId } });
    } catch (e) {
      if (e instanceof RequestError && e.code === ErrorCode.UNKNOWN_MEETING) {
        this.unavailable = "This meeting doesn't exist.";
        if (!this.attached) this.client.close();
      }
      throw e;
    }
    if (msg.body.case !== "chatSubscribe") throw new Error("unexpected reply to chat_subscribe");
    const lastSeq = Number(msg.body.value.lastSeq);
    if (!this.loaded) {
      if (lastSeq > 0) {
        const r = await this.history(BigInt(lastSeq + 1), 0n, PAGE, true);
        this.olderMore = r.more;
        this.add(r.messages, { older: false, live: false });
      }
      this.loaded = true;
      this.syncedSeq = Math.max(this.syncedSeq, lastSeq);
      this.advanceSynced();
      this.emit({ kind: "state" });
      return;
    }
    // Reconnect: everything after the last message known without a gap.
    let after = this.syncedSeq;
    for (let i = 0; i < CATCHUP_MAX_PAGES; i++) {
      const r = await this.history(0n, BigInt(after), CATCHUP_PAGE, true);
      this.add(r.messages, { older: false, live: true });
      if (r.messages.length) after = Math.max(after, Number(r.messages[r.messages.length - 1].seq));
      this.syncedSeq = Math.max(this.syncedSeq, after);
      if (!r.more || r.messages.length === 0) break;
    }
    this.advanceSynced();
  }

  private async history(beforeSeq: bigint, afterSeq: bigint, limit: number, now: boolean): Promise<ChatHistoryReply> {
    const body: RequestBody = { case: "chatHistory", value: { beforeSeq, afterSeq, limit } };
    const msg = now ? await this.client.sendNow(body) : await this.client.request(body, { queue: false });
    if (msg.body.case !== "chatHistory") throw new Error("unexpected reply to chat_history");
    return msg.body.value;
  }

  private onEvent(body: ServerBody): void {
    if (body.case !== "chatMessage") return;
    this.add([body.value], { older: false, live: true });
    this.advanceSynced();
  }

  // add keeps each seq once, settles our pending posts that came back, and
  // tells the listeners what is new.
  private add(msgs: ChatMessage[], how: { older: boolean; live: boolean }): void {
    const added: ChatMessage[] = [];
    for (const m of msgs) {
      if (m.meetingId && m.meetingId !== this.meetingId) continue;
      const seq = Number(m.seq);
      if (!(seq > 0) || this.bySeq.has(seq)) continue;
      this.bySeq.set(seq, m);
      added.push(m);
    }
    if (added.length === 0) return;
    const tail = this.messages.length ? Number(this.messages[this.messages.length - 1].seq) : 0;
    this.messages.push(...added);
    if (added.some((m) => Number(m.seq) < tail) || added.length > 1) this.messages.sort((a, b) => Number(a.seq) - Number(b.seq));
    let settled = false;
    for (const m of added) {
      const i = this.pending.findIndex((p) => p.cid === m.clientMessageId);
      if (i >= 0) {
        this.pending.splice(i, 1);
        settled = true;
      }
    }
    if (settled) this.savePending();
    this.emit({ kind: "messages", added, older: how.older, live: how.live });
  }

  private advanceSynced(): void {
    while (this.bySeq.has(this.syncedSeq + 1)) this.syncedSeq++;
  }

  // ---- posting: one post in flight at a time, so they are stored in order ----

  private pump(): void {
    if (this.sending || this.connection !== "ready" || this.closed) return;
    const p = this.pending.find((x) => !x.fatal);
    if (!p) return;
    this.sending = p;
    p.attempts++;
    this.client
      .request(
        { case: "chatPost", value: { clientMessageId: p.cid, text: p.text, senderName: p.senderName } },
        { queue: false, timeoutMs: POST_TIMEOUT_MS },
      )
      .then(
        (msg) => {
          this.sending = null;
          this.backoff.reset();
          if (msg.body.case === "chatPost" && msg.body.value.message) {
            this.add([msg.body.value.message], { older: false, live: true });
            this.advanceSynced();
          }
          // Acknowledged even if the reply carried no message we could use.
          if (this.pending.includes(p)) {
            this.pending = this.pending.filter((x) => x !== p);
            this.savePending();
            this.emit({ kind: "pending" });
          }
          this.pump();
        },
        (e: unknown) => {
          this.sending = null;
          if (!this.pending.includes(p)) {
            this.pump();
            return;
          }
          const code = e instanceof RequestError ? e.code : ErrorCode.INTERNAL;
          if (code === ErrorCode.BAD_REQUEST || code === ErrorCode.TOO_LARGE) {
            p.fatal = true;
            p.error = e instanceof Error ? e.message.replace(/^[A-Z_]+: /, "") : String(e);
            this.emit({ kind: "pending" });
            this.pump();
            return;
          }
          p.error = "retrying";
          this.emit({ kind: "pending" });
          // The session lost its subscription (it should not): start over.
          if (code === ErrorCode.NOT_JOINED) this.dropConnection();
          if (this.closed) return;
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.pump(), this.backoff.next());
        },
      );
  }

  // Pending posts survive a reload of the tab (sessionStorage), so they are
  // sent again with the same ids.
  private savePending(): void {
    try {
      const key = PENDING_KEY + this.meetingId;
      if (this.pending.length === 0) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, JSON.stringify(this.pending.map(({ cid, text, senderName, createdAtMs }) => ({ cid, text, senderName, createdAtMs }))));
    } catch {
      /* storage unavailable */
    }
  }

  // rememberOwn adds cid to the meeting's list in localStorage. The list is
  // read again first, so ids another tab of this browser saved meanwhile are
  // kept; the oldest go beyond OWN_MAX. Storage unavailable or full: the id
  // is only remembered by this page (ownIds).
  private rememberOwn(cid: string): void {
    try {
      const key = OWN_KEY + this.meetingId;
      const ids = readOwn(localStorage.getItem(key)).filter((x) => x !== cid);
      ids.push(cid);
      localStorage.setItem(key, JSON.stringify(ids.slice(-OWN_MAX)));
    } catch {
      /* storage unavailable or full */
    }
  }

  private restoreOwn(): void {
    try {
      for (const cid of readOwn(localStorage.getItem(OWN_KEY + this.meetingId))) this.ownIds.add(cid);
    } catch {
      /* storage unavailable */
    }
  }

  private restorePending(): void {
    try {
      const raw = sessionStorage.getItem(PENDING_KEY + this.meetingId);
      if (!raw) return;
      const list = JSON.parse(raw) as Array<Partial<PendingPost>>;
      for (const x of Array.isArray(list) ? list : []) {
        if (typeof x.cid !== "string" || !CID_RE.test(x.cid) || typeof x.text !== "string" || typeof x.senderName !== "string") continue;
        this.ownIds.add(x.cid);
        this.pending.push({ cid: x.cid, text: x.text, senderName: x.senderName, createdAtMs: Number(x.createdAtMs) || Date.now(), attempts: 0, error: "", fatal: false });
      }
    } catch {
      /* storage unavailable or garbage */
    }
  }

  private emit(c: ChatChange): void {
    for (const fn of this.listeners) fn(c);
  }

  // debug is window.huddle.chat: what the tests read.
  debug(): { state: ChatState; lastSeq: number; loaded: boolean; pending: number; messages: Array<{ seq: number; senderName: string; text: string; own: boolean }> } {
    return {
      state: this.state,
      lastSeq: this.lastSeq,
      loaded: this.loaded,
      pending: this.pending.length,
      messages: this.messages.map((m) => ({ seq: Number(m.seq), senderName: m.senderName, text: m.text, own: this.ownIds.has(m.clientMessageId) })),
    };
  }
}
