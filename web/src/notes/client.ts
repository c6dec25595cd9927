// NotesClient is one page's connection to a meeting's shared documents: its
// own WebSocket to the gateway (a SignalingClient whose onOpen subscribes,
// as the chat does, and for the same reasons: the documents live from the
// pre-join page through the call and after Leave, and work without joining),
// and the two SharedDocs it feeds.
//
// On every (re)connect: notes_subscribe, then per document notes_open: the
// first time with after_seq 0 (the newest snapshot and the updates after
// it), afterwards with after_seq = the last seq applied without a gap,
// paging while `more` (when a snapshot has dropped some of those updates the
// reply carries it, and its state is applied first). A jump in the events'
// seq (updates a snapshot covered) is caught up the same way; a hole left
// after that reads the document fully again. Yjs applies what it already
// has as a no-op. Then the outboxes are sent.
//
// The connection starts when a document is first shown, or at once when
// this browser has edits of the meeting that the server has not
// acknowledged (a marker in localStorage says so).
import { SignalingClient, RequestError, defaultSignalingUrl, type ConnectionState, type RequestBody, type ServerBody } from "../signaling/client";
import { DocumentKind, ErrorCode, type NotesOpenReply, type NotesSnapshot, type NotesVersion, type ServerMessage } from "../proto";
import { SharedDoc, NAME_MAX_BYTES, type DocLink } from "./doc";

const OPEN_PAGE = 1000;
const OPEN_MAX_PAGES = 1000; // bounds the loop if `more` never clears
const REQUEST_TIMEOUT_MS = 15_000;
const PENDING_KEY = "huddle.notes.pending.";

export type NotesState = "idle" | "connecting" | "ready" | "unavailable" | "closed";
export type NotesChange = { kind: "state" };

export interface NotesClientOptions {
  meetingId: string;
  signalingUrl?: string;
  // Ride on this connection (the call's) instead of an own one: the
  // documents of a meeting that is not open are only for admitted sessions.
  via?: SignalingClient;
}

export class NotesClient {
  readonly meetingId: string;
  connection: ConnectionState = "closed";
  unavailable = "";
  private started = false;
  private closed = false;
  private name = "";
  private client: SignalingClient;
  private docs: { notes: SharedDoc; code: SharedDoc } | null = null;
  private readonly listeners = new Set<(c: NotesChange) => void>();
  private readonly attached: boolean;
  private detach: (() => void) | null = null;
  private readonly onPageHide = () => this.flush();
  // Back from the back/forward cache: flush() withdrew our cursor; show it again.
  private readonly onPageShow = (e: PageTransitionEvent) => {
    if (e.persisted) for (const d of this.all()) d.setUser(this.name);
  };

  constructor(opts: NotesClientOptions) {
    this.meetingId = opts.meetingId;
    this.attached = opts.via !== undefined;
    this.client =
      opts.via ??
      new SignalingClient({
        url: opts.signalingUrl ?? defaultSignalingUrl(),
        onOpen: () => this.onOpen(),
        onEvent: (body) => this.onEvent(body),
        onStateChange: (s) => {
          this.connection = s;
          if (s === "ready") for (const d of this.all()) d.connected();
          this.emit();
        },
      });
    if (this.hasPendingMarker()) this.start();
  }

  get state(): NotesState {
    if (this.unavailable) return "unavailable";
    if (this.closed) return "closed";
    if (!this.started) return "idle";
    return this.connection === "ready" ? "ready" : "connecting";
  }

  get notes(): SharedDoc {
    return this.start().notes;
  }

  get code(): SharedDoc {
    return this.start().code;
  }

  doc(kind: "notes" | "code"): SharedDoc {
    return kind === "notes" ? this.notes : this.code;
  }

  // start opens the documents (IndexedDB) and the connection, once.
  start(): { notes: SharedDoc; code: SharedDoc } {
    if (this.docs) return this.docs;
    const self = this;
    const link: DocLink = {
      get ready() {
        return self.connection === "ready";
      },
      request: (body, timeoutMs) => this.client.request(body, { queue: false, timeoutMs }),
      fireAndForget: (body) => this.client.fireAndForget(body),
      authorName: () => this.name,
    };
    this.docs = {
      notes: new SharedDoc(this.meetingId, DocumentKind.NOTES, link),
      code: new SharedDoc(this.meetingId, DocumentKind.CODE, link),
    };
    for (const d of this.all()) {
      d.setUser(this.name);
      d.onChange((c) => {
        if (c.kind === "state") this.updatePendingMarker();
      });
    }
    this.started = true;
    addEventListener("pagehide", this.onPageHide);
    addEventListener("pageshow", this.onPageShow);
    if (!this.closed) this.connect();
    this.emit();
    return this.docs;
  }

  private connect(): void {
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
        this.emit();
      },
    });
  }

  // attachedOpen subscribes on the shared connection (after each (re)join).
  private async attachedOpen(): Promise<void> {
    if (this.closed) return;
    this.connection = "open";
    this.emit();
    await this.onOpen();
    if (this.closed) return;
    this.connection = "ready";
    for (const d of this.all()) d.connected();
    this.emit();
  }

  // setName is the name others see at this page's cursors and as the author
  // of its versions.
  setName(name: string): void {
    let n = name.trim();
    while (new TextEncoder().encode(n).length > NAME_MAX_BYTES) n = n.slice(0, -1);
    this.name = n;
    for (const d of this.all()) d.setUser(n);
  }

  onChange(fn: (c: NotesChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // versions lists a document's kept versions, newest first.
  async versions(kind: DocumentKind): Promise<NotesVersion[]> {
    const msg = await this.client.request({ case: "notesVersions", value: { document: kind } }, { queue: false, timeoutMs: REQUEST_TIMEOUT_MS });
    if (msg.body.case !== "notesVersions") throw new Error("unexpected reply to notes_versions");
    return msg.body.value.versions;
  }

  // version reads one kept version with its text.
  async version(kind: DocumentKind, version: bigint): Promise<NotesSnapshot> {
    const msg = await this.client.request({ case: "notesVersion", value: { document: kind, version } }, { queue: false, timeoutMs: REQUEST_TIMEOUT_MS });
    if (msg.body.case !== "notesVersion" || !msg.body.value.snapshot) throw new Error("unexpected reply to notes_version");
    return msg.body.value.snapshot;
  }

  // flush: the page is going away; send what can be sent without waiting.
  flush(): void {
    for (const d of this.all()) d.flush();
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    removeEventListener("pagehide", this.onPageHide);
    removeEventListener("pageshow", this.onPageShow);
    if (this.attached) {
      this.detach?.();
      this.detach = null;
      this.connection = "closed";
    } else {
      this.client.close();
    }
    for (const d of this.all()) d.close();
    this.emit();
  }

  // Drops the socket as a network failure would (tests, console).
  dropConnection(): void {
    if (this.attached) void this.attachedOpen().catch((e) => console.warn("huddle: notes subscribe", e));
    else this.client.dropConnection();
  }

  // ---- connection ----

  private all(): SharedDoc[] {
    return this.docs ? [this.docs.notes, this.docs.code] : [];
  }

  private async onOpen(): Promise<void> {
    let msg: ServerMessage;
    try {
      msg = await this.client.sendNow({ case: "notesSubscribe", value: { meetingId: this.meetingId } });
    } catch (e) {
      if (e instanceof RequestError && e.code === ErrorCode.UNKNOWN_MEETING) {
        this.unavailable = "This meeting doesn't exist.";
        if (!this.attached) this.client.close();
      }
      throw e;
    }
    if (msg.body.case !== "notesSubscribe") throw new Error("unexpected reply to notes_subscribe");
    const last = { notes: Number(msg.body.value.notesLastSeq), code: Number(msg.body.value.codeLastSeq) };
    for (const d of this.all()) {
      d.lastSeq = Math.max(d.lastSeq, last[d.name]);
      await this.sync(d);
    }
  }

  // sync reads what the server has of d and d does not.
  private async sync(d: SharedDoc): Promise<void> {
    if (d.loaded) {
      // Catch up after the last seq applied without a gap. When a snapshot
      // has since dropped some of those updates, the reply carries it (its
      // state first, then the updates after it).
      let after = d.appliedSeq;
      for (let i = 0; i < OPEN_MAX_PAGES; i++) {
        const r = await this.open(d.kind, after);
        d.applyOpen(r);
        after = Math.max(d.appliedSeq, r.updates.length ? Number(r.updates[r.updates.length - 1].seq) : 0);
        if (!r.more || r.updates.length === 0) break;
      }
      if (!d.hasGap()) return;
      // Still a hole (a server that sends no snapshot with a catch-up): read it all again.
      d.resetGap();
    }
    // Read fully: the newest snapshot, then every update after it.
    let r = await this.open(d.kind, 0);
    d.applyOpen(r);
    for (let i = 0; i < OPEN_MAX_PAGES && r.more && r.updates.length; i++) {
      r = await this.open(d.kind, Number(r.updates[r.updates.length - 1].seq));
      d.applyOpen(r);
    }
    if (!d.loaded) {
      d.markLoaded();
      void d.reconcile();
    }
  }

  private async open(kind: DocumentKind, afterSeq: number): Promise<NotesOpenReply> {
    const body: RequestBody = { case: "notesOpen", value: { document: kind, afterSeq: BigInt(afterSeq), limit: OPEN_PAGE } };
    const msg = await this.client.sendNow(body, REQUEST_TIMEOUT_MS);
    if (msg.body.case !== "notesOpen") throw new Error("unexpected reply to notes_open");
    return msg.body.value;
  }

  private onEvent(body: ServerBody): void {
    const docs = this.docs;
    if (!docs) return;
    const pick = (k: DocumentKind) => (k === DocumentKind.CODE ? docs.code : k === DocumentKind.NOTES ? docs.notes : null);
    switch (body.case) {
      case "notesUpdateEvent": {
        const u = body.value;
        if (u.meetingId && u.meetingId !== this.meetingId) return;
        const d = pick(u.document);
        if (!d) return;
        d.receive(u);
        // Events come in seq order: a gap means some were missed; read them.
        if (d.loaded && this.connection === "ready" && d.hasGap()) this.resync(d);
        return;
      }
      case "notesAwarenessEvent":
        pick(body.value.document)?.receiveAwareness(body.value.data);
        return;
      case "notesSnapshotEvent":
        pick(body.value.document)?.versionStored(body.value.version);
        return;
    }
  }

  private resyncing = new Set<SharedDoc>();
  private resync(d: SharedDoc): void {
    if (this.resyncing.has(d)) return;
    this.resyncing.add(d);
    // A moment's grace: the missing event may be right behind.
    setTimeout(() => {
      if (!d.hasGap() || this.connection !== "ready") {
        this.resyncing.delete(d);
        return;
      }
      this.sync(d)
        .catch((e) => console.warn(`huddle: ${d.name} catch-up`, e))
        .finally(() => this.resyncing.delete(d));
    }, 500);
  }

  private hasPendingMarker(): boolean {
    try {
      return localStorage.getItem(PENDING_KEY + this.meetingId) === "1";
    } catch {
      return false;
    }
  }

  private updatePendingMarker(): void {
    try {
      const key = PENDING_KEY + this.meetingId;
      if (this.all().some((d) => d.pending > 0)) localStorage.setItem(key, "1");
      else if (this.all().every((d) => d.localLoaded)) localStorage.removeItem(key);
    } catch {
      /* storage unavailable */
    }
  }

  private emit(): void {
    for (const fn of this.listeners) fn({ kind: "state" });
  }

  // debug is window.huddle.notes: what the tests read.
  debug(): { state: NotesState; notes: ReturnType<SharedDoc["debug"]> | null; code: ReturnType<SharedDoc["debug"]> | null } {
    return { state: this.state, notes: this.docs?.notes.debug() ?? null, code: this.docs?.code.debug() ?? null };
  }
}
