// SharedDoc is one of a meeting's shared documents (the Markdown notes or the
// code pad) in this page: a Y.Doc kept in IndexedDB (y-indexeddb), its
// awareness (cursors, names, colours), the local updates not yet stored by
// the server (the outbox), and how far the server's log has been applied.
//
// The server never reads the Yjs bytes. Every local Y.Doc update goes into
// the outbox under a fresh client_update_id and is sent as a notes_update,
// one at a time; a lost reply, an error or a reconnect sends the same id
// again until the server acknowledges it (it stores an id once). Updates not
// sent yet are merged into one before they go (Y.mergeUpdates), so typing
// fast makes few requests. The outbox is kept in the document's IndexedDB
// database, so edits typed before a reload are still sent after it.
//
// Seq: the server numbers stored updates 1, 2, 3, ... per document.
// appliedSeq is the newest seq up to which every update (or a snapshot
// covering it) has been applied here; snapshots are sent for that seq only.
import * as Y from "yjs";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import { IndexeddbPersistence } from "y-indexeddb";
import { Backoff, newClientId } from "../signaling/backoff";
import { RequestError, type RequestBody } from "../signaling/client";
import { DocumentKind, ErrorCode, type NotesOpenReply, type NotesUpdate, type NotesVersion, type ServerMessage } from "../proto";
import { DEFAULT_LANGUAGE, languageById } from "./languages";

export const UPDATE_MAX_BYTES = 256 * 1024;
const AWARENESS_MAX_BYTES = 16 * 1024;
// Both documents share one connection, which the gateway allows 30 updates
// and 20 awareness messages a second (NOTES_UPDATE_RATE, NOTES_AWARENESS_RATE):
// each document stays well below half of that; what is typed meanwhile is
// merged into the next update.
const UPDATE_GAP_MS = 80;
const AWARENESS_THROTTLE_MS = 150;
// A snapshot goes out this long after the last local edit (the contract
// asks for one within 10 s).
export const SNAPSHOT_IDLE_MS = 4_000;
const SNAPSHOT_STATE_MAX = 2 * 1024 * 1024;
const UPDATE_TIMEOUT_MS = 15_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
const OUTBOX_KEY = "outbox";
const CID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const COLOR_RE = /^#[0-9a-fA-F]{6}$/;
export const NAME_MAX_BYTES = 64;

// The origin of updates that came from the server: they are never sent back.
export const REMOTE_ORIGIN = Symbol("huddle-notes-remote");

const COLORS = ["#e8710a", "#1a73e8", "#188038", "#d93025", "#a142f4", "#e52592", "#12b5cb", "#f9ab00", "#9334e6", "#0d652d", "#b31412", "#1967d2"];

// OutboxEntry is a local update the server has not acknowledged.
interface OutboxEntry {
  id: string; // client_update_id, kept across retries and reloads
  data: Uint8Array;
  sent: boolean; // has gone out at least once: its bytes may no longer change
}

// DocLink is what a SharedDoc needs of the notes connection.
export interface DocLink {
  readonly ready: boolean;
  request(body: RequestBody, timeoutMs: number): Promise<ServerMessage>;
  fireAndForget(body: RequestBody): void;
  authorName(): string;
}

export type DocChange =
  | { kind: "text" } // the text changed (local or remote)
  | { kind: "language" }
  | { kind: "state" } // loaded, pending, error
  | { kind: "versions" } // a new version was stored
  | { kind: "peers" }; // other editors' awareness changed

export interface RemotePeer {
  clientId: number;
  name: string;
  color: string;
}

const encoder = new TextEncoder();
function bytes(s: string): number {
  return encoder.encode(s).length;
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function kindName(kind: DocumentKind): "notes" | "code" {
  return kind === DocumentKind.CODE ? "code" : "notes";
}

export class SharedDoc {
  readonly doc = new Y.Doc();
  readonly text: Y.Text;
  readonly meta: Y.Map<unknown>;
  readonly awareness: Awareness;
  readonly color: string;
  appliedSeq = 0;
  lastSeq = 0; // the newest seq the server has told of
  newestVersionSeq = 0; // the newest stored snapshot's seq known here
  loaded = false; // the server's content has been read once
  localLoaded = false; // IndexedDB has been read
  error = ""; // why something could not be saved ("" when all is well)
  outbox: OutboxEntry[] = [];
  snapshotsSent = 0;

  private readonly above = new Set<number>(); // applied seqs > appliedSeq + 1
  // Every remote update applied until reconcile() has run (see there).
  private fromServer: Uint8Array[] | null = [];
  private readonly persistence: IndexeddbPersistence | null;
  private readonly listeners = new Set<(c: DocChange) => void>();
  private readonly backoff = new Backoff(RETRY_MIN_MS, RETRY_MAX_MS);
  private inflight: OutboxEntry | null = null;
  private sentAt = 0;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private gapTimer?: ReturnType<typeof setTimeout>;
  private snapshotTimer?: ReturnType<typeof setTimeout>;
  private awarenessTimer?: ReturnType<typeof setTimeout>;
  private awarenessSentAt = 0;
  private localEdits = 0; // local edits since the page opened
  private snapshotEdits = 0; // localEdits covered by the last snapshot sent
  private snapshotting = false;
  private closed = false;
  private localReady: Promise<void>;

  constructor(
    readonly meetingId: string,
    readonly kind: DocumentKind,
    private readonly link: DocLink,
  ) {
    this.text = this.doc.getText("text");
    this.meta = this.doc.getMap("meta");
    this.awareness = new Awareness(this.doc);
    this.color = COLORS[this.doc.clientID % COLORS.length];
    this.doc.on("update", (update: Uint8Array, origin: unknown) => this.onDocUpdate(update, origin));
    this.text.observe(() => this.emit({ kind: "text" }));
    this.meta.observe((ev) => {
      if (ev.keysChanged.has("language")) this.emit({ kind: "language" });
    });
    // Registered before the editor's listeners, so they see checked states.
    this.awareness.on("change", (ch: { added: number[]; updated: number[] }, origin: unknown) => {
      if (origin === REMOTE_ORIGIN) this.sanitizePeers([...ch.added, ...ch.updated]);
      this.emit({ kind: "peers" });
    });
    this.awareness.on("update", (ch: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => this.onAwarenessUpdate(ch, origin));
    let persistence: IndexeddbPersistence | null = null;
    try {
      persistence = new IndexeddbPersistence(`huddle-notes-${meetingId}-${kindName(kind)}`, this.doc);
    } catch (e) {
      console.warn("huddle: notes offline storage unavailable", e);
    }
    this.persistence = persistence;
    this.localReady = this.loadLocal();
  }

  get name(): "notes" | "code" {
    return kindName(this.kind);
  }

  get language(): string {
    const v = this.meta.get("language");
    return typeof v === "string" && languageById(v) ? v : DEFAULT_LANGUAGE;
  }

  // pending: local updates the server has not acknowledged.
  get pending(): number {
    return this.outbox.length;
  }

  onChange(fn: (c: DocChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // setUser sets the name and colour others see at this editor's cursor.
  setUser(name: string): void {
    let n = name.trim() || "Guest";
    while (bytes(n) > NAME_MAX_BYTES) n = n.slice(0, -1);
    const state = this.awareness.getLocalState();
    const user = { name: n, color: this.color, colorLight: `${this.color}33` };
    // Null after flush() withdrew it: start over with just the user.
    if (state === null) this.awareness.setLocalState({ user });
    else if ((state.user as { name?: string } | undefined)?.name !== n) this.awareness.setLocalStateField("user", user);
  }

  // peers: the other editors with a state (name, colour) in this document.
  peers(): RemotePeer[] {
    const out: RemotePeer[] = [];
    for (const [id, st] of this.awareness.getStates()) {
      if (id === this.doc.clientID) continue;
      const u = st.user as { name?: unknown; color?: unknown } | undefined;
      if (!u || typeof u.name !== "string") continue;
      out.push({ clientId: id, name: u.name, color: typeof u.color === "string" ? u.color : "" });
    }
    return out;
  }

  setLanguage(id: string): void {
    if (!languageById(id) || id === this.language) return;
    this.doc.transact(() => this.meta.set("language", id));
  }

  // replaceText makes the text equal to text with one local edit (only the
  // part between the common prefix and suffix changes, so other editors'
  // cursors outside it stay put). A restore is this, sent like any edit.
  replaceText(text: string, language = ""): void {
    const old = this.text.toString();
    this.doc.transact(() => {
      if (old !== text) {
        let p = 0;
        const max = Math.min(old.length, text.length);
        while (p < max && old.charCodeAt(p) === text.charCodeAt(p)) p++;
        let s = 0;
        while (s < max - p && old.charCodeAt(old.length - 1 - s) === text.charCodeAt(text.length - 1 - s)) s++;
        if (old.length - s - p > 0) this.text.delete(p, old.length - s - p);
        if (text.length - s - p > 0) this.text.insert(p, text.slice(p, text.length - s));
      }
      if (language && languageById(language) && language !== this.language) this.meta.set("language", language);
    });
  }

  // ---- from the server ----

  // applyOpen applies one page of notes_open: the snapshot first when it
  // carries one (the newest, or the one that dropped updates asked for).
  applyOpen(r: NotesOpenReply): void {
    if (r.snapshot?.state.length) {
      this.applyRemote(r.snapshot.state, "snapshot");
      const seq = Number(r.snapshot.version?.seq ?? 0n);
      this.newestVersionSeq = Math.max(this.newestVersionSeq, seq);
      this.coverUpTo(seq);
    }
    for (const u of r.updates) this.receive(u);
    this.lastSeq = Math.max(this.lastSeq, Number(r.lastSeq));
  }

  // receive applies one stored update (an event, or a page of notes_open).
  receive(u: NotesUpdate): void {
    const seq = Number(u.seq);
    this.lastSeq = Math.max(this.lastSeq, seq);
    if (seq > 0 && (seq <= this.appliedSeq || this.above.has(seq))) return; // applied already
    this.applyRemote(u.data, `update ${seq}`);
    this.markApplied(seq);
  }

  // hasGap: an update after appliedSeq + 1 arrived, the ones between did not.
  hasGap(): boolean {
    return this.above.size > 0 || this.lastSeq > this.appliedSeq;
  }

  // versionStored notes a new version (an event or our own snapshot's reply).
  versionStored(v: NotesVersion | undefined): void {
    if (!v) return;
    this.newestVersionSeq = Math.max(this.newestVersionSeq, Number(v.seq));
    this.emit({ kind: "versions" });
  }

  receiveAwareness(data: Uint8Array): void {
    const before = new Set(this.awareness.getStates().keys());
    try {
      applyAwarenessUpdate(this.awareness, data, REMOTE_ORIGIN);
    } catch (e) {
      console.warn("huddle: notes awareness update skipped", e);
      return;
    }
    // Someone new: tell them where we are now rather than at our next renewal.
    for (const id of this.awareness.getStates().keys()) {
      if (!before.has(id) && id !== this.doc.clientID) {
        this.sendAwarenessSoon();
        break;
      }
    }
  }

  // reconcile runs once both the server's content and IndexedDB have been
  // read: whatever the local document holds that neither the server nor the
  // outbox has (a reload that saved the document but not the last outbox
  // write) is queued as one more update.
  async reconcile(): Promise<void> {
    await this.localReady;
    const fromServer = this.fromServer ?? [];
    this.fromServer = null;
    if (this.closed) return;
    const known = new Y.Doc();
    for (const p of [...fromServer, ...this.outbox.map((e) => e.data)]) {
      try {
        Y.applyUpdate(known, p);
      } catch {
        /* skipped, as in the live document */
      }
    }
    if (!Y.equalSnapshots(Y.snapshot(known), Y.snapshot(this.doc))) {
      this.enqueue(Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(known)));
      this.localEdits++;
      this.scheduleSnapshot();
    }
    known.destroy();
  }

  // connected runs when the connection is ready again: send what waits.
  connected(): void {
    clearTimeout(this.retryTimer);
    this.backoff.reset();
    this.pump();
    this.sendAwarenessSoon();
    if (this.localEdits > this.snapshotEdits) this.scheduleSnapshot();
  }

  // flush is for leaving the page: a best-effort snapshot of local edits
  // and the awareness removal, without waiting for replies.
  flush(): void {
    clearTimeout(this.snapshotTimer);
    if (this.link.ready && this.localEdits > this.snapshotEdits) {
      const body = this.snapshotBody();
      if (body) {
        this.snapshotEdits = this.localEdits;
        this.link.fireAndForget(body);
      }
    }
    if (this.link.ready && this.awareness.getLocalState() !== null) {
      removeAwarenessStates(this.awareness, [this.doc.clientID], "leave");
      this.link.fireAndForget({ case: "notesAwareness", value: { document: this.kind, data: encodeAwarenessUpdate(this.awareness, [this.doc.clientID]) } });
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.gapTimer);
    clearTimeout(this.snapshotTimer);
    clearTimeout(this.awarenessTimer);
    this.awareness.destroy();
    void this.persistence?.destroy();
    this.doc.destroy();
  }

  // ---- local edits ----

  private onDocUpdate(update: Uint8Array, origin: unknown): void {
    if (origin === REMOTE_ORIGIN || origin === this.persistence) return;
    this.localEdits++;
    this.enqueue(update);
    this.scheduleSnapshot();
  }

  private enqueue(update: Uint8Array): void {
    // Folded into the newest entry while that has never gone out, so a long
    // time offline keeps a short outbox (each save writes all of it).
    const last = this.outbox[this.outbox.length - 1];
    if (last && !last.sent && last.data.length + update.length <= UPDATE_MAX_BYTES) last.data = Y.mergeUpdates([last.data, update]);
    else this.outbox.push({ id: newClientId(), data: update, sent: false });
    this.saveOutbox();
    this.emit({ kind: "state" });
    this.pump();
  }

  // pump sends the oldest entry, first merging it with the unsent ones after
  // it (up to the update size limit).
  private pump(): void {
    if (this.inflight || this.closed || !this.link.ready || this.gapTimer !== undefined) return;
    const head = this.outbox[0];
    if (!head) return;
    const wait = this.sentAt + UPDATE_GAP_MS - Date.now();
    if (wait > 0) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    if (!head.sent) {
      let n = 1;
      let size = head.data.length;
      while (n < this.outbox.length && !this.outbox[n].sent && size + this.outbox[n].data.length <= UPDATE_MAX_BYTES) size += this.outbox[n++].data.length;
      if (n > 1) {
        const merged = Y.mergeUpdates(this.outbox.slice(0, n).map((e) => e.data));
        this.outbox.splice(0, n, { id: newClientId(), data: merged, sent: false });
      }
    }
    const e = this.outbox[0];
    if (e.data.length > UPDATE_MAX_BYTES) {
      // One edit too large for the log (a huge paste): it stays in this
      // document and reaches the others through the next snapshot.
      console.warn(`huddle: ${this.name} update of ${e.data.length} bytes is over ${UPDATE_MAX_BYTES}; it goes with the next snapshot`);
      this.outbox.shift();
      this.saveOutbox();
      this.scheduleSnapshot(0);
      this.pump();
      return;
    }
    e.sent = true;
    this.saveOutbox();
    this.inflight = e;
    this.sentAt = Date.now();
    this.link
      .request({ case: "notesUpdate", value: { document: this.kind, clientUpdateId: e.id, data: e.data, authorName: this.link.authorName() } }, UPDATE_TIMEOUT_MS)
      .then(
        (msg) => {
          this.inflight = null;
          this.backoff.reset();
          if (this.closed) return;
          const u = msg.body.case === "notesUpdate" ? msg.body.value.update : undefined;
          if (u) {
            this.lastSeq = Math.max(this.lastSeq, Number(u.seq));
            this.markApplied(Number(u.seq));
          }
          this.outbox = this.outbox.filter((x) => x !== e);
          this.fromServer?.push(e.data); // the server has it now
          this.error = "";
          this.saveOutbox();
          this.emit({ kind: "state" });
          this.pump();
        },
        (err: unknown) => {
          this.inflight = null;
          if (this.closed) return;
          const code = err instanceof RequestError ? err.code : ErrorCode.INTERNAL;
          if (code === ErrorCode.BAD_REQUEST || code === ErrorCode.TOO_LARGE) {
            // Refused for good: it stays in this document and the next snapshot carries it.
            console.warn(`huddle: ${this.name} update refused, it goes with the next snapshot`, err);
            this.outbox = this.outbox.filter((x) => x !== e);
            this.saveOutbox();
            this.scheduleSnapshot(0);
            this.emit({ kind: "state" });
            this.pump();
            return;
          }
          this.error = "Not saved yet, retrying…";
          this.emit({ kind: "state" });
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.pump(), this.backoff.next());
        },
      );
  }

  // ---- snapshots ----

  private scheduleSnapshot(delay = SNAPSHOT_IDLE_MS): void {
    if (this.closed) return;
    clearTimeout(this.snapshotTimer);
    this.snapshotTimer = setTimeout(() => void this.snapshot(), delay);
  }

  private snapshotBody(): RequestBody | null {
    if (!this.loaded || this.appliedSeq <= 0) return null;
    const state = Y.encodeStateAsUpdate(this.doc);
    if (state.length > SNAPSHOT_STATE_MAX) {
      console.warn(`huddle: ${this.name} state of ${state.length} bytes is over ${SNAPSHOT_STATE_MAX}; no snapshot`);
      return null;
    }
    return {
      case: "notesSnapshot",
      value: {
        document: this.kind,
        seq: BigInt(this.appliedSeq),
        state,
        text: this.text.toString(),
        language: this.kind === DocumentKind.CODE ? this.language : "",
        authorName: this.link.authorName(),
      },
    };
  }

  // snapshot stores the state once the local edits are acknowledged (so the
  // snapshot's seq covers them); while some wait, it tries again later.
  private async snapshot(): Promise<void> {
    if (this.closed || this.snapshotting || this.localEdits <= this.snapshotEdits) return;
    if (!this.link.ready || this.outbox.length > 0 || !this.loaded || this.above.size > 0) {
      this.scheduleSnapshot(1_000);
      return;
    }
    if (this.appliedSeq <= this.newestVersionSeq) {
      // Another editor's version already covers every update applied here,
      // our acknowledged edits included: the server would not store this one.
      this.snapshotEdits = this.localEdits;
      return;
    }
    const body = this.snapshotBody();
    if (!body) return;
    const edits = this.localEdits;
    this.snapshotting = true;
    try {
      const msg = await this.link.request(body, UPDATE_TIMEOUT_MS);
      this.snapshotEdits = Math.max(this.snapshotEdits, edits);
      this.snapshotsSent++;
      if (msg.body.case === "notesSnapshot") this.versionStored(msg.body.value.version);
    } catch (e) {
      console.warn(`huddle: ${this.name} snapshot`, e);
      const code = e instanceof RequestError ? e.code : ErrorCode.INTERNAL;
      if (code === ErrorCode.BAD_REQUEST || code === ErrorCode.TOO_LARGE) this.snapshotEdits = edits;
      else this.scheduleSnapshot(this.backoff.next());
    } finally {
      this.snapshotting = false;
    }
  }

  // ---- awareness ----

  private onAwarenessUpdate(ch: { added: number[]; updated: number[]; removed: number[] }, origin: unknown): void {
    if (origin === REMOTE_ORIGIN) {
      this.sanitizePeers([...ch.added, ...ch.updated]);
      return;
    }
    if (origin === "local") this.sendAwarenessSoon();
  }

  // Another editor's name and colour go into the editor's DOM (as text and
  // into a style attribute): keep them to a short string and a #rrggbb.
  // The colour is also made unique here: y-codemirror.next's cursor widget
  // compares carets by colour only, so two editors of one colour would show
  // one name for both.
  private sanitizePeers(ids: number[]): void {
    for (const id of ids) {
      const st = this.awareness.states.get(id);
      const u = st?.user as { name?: unknown; color?: unknown; colorLight?: unknown } | undefined;
      if (!st || !u || typeof u !== "object") continue;
      const name = typeof u.name === "string" ? u.name.slice(0, NAME_MAX_BYTES) : "Guest";
      let color = typeof u.color === "string" && COLOR_RE.test(u.color) ? u.color.toLowerCase() : COLORS[Math.abs(id) % COLORS.length];
      const taken = new Set<string>();
      for (const [other, os] of this.awareness.states) {
        const c = (os.user as { color?: unknown } | undefined)?.color;
        if (other !== id && typeof c === "string") taken.add(c.toLowerCase());
      }
      for (let i = 1; taken.has(color) && i < 256; i++) color = `${color.slice(0, 5)}${((parseInt(color.slice(5), 16) + i) % 256).toString(16).padStart(2, "0")}`;
      st.user = { name, color, colorLight: `${color}33` };
    }
  }

  private sendAwarenessSoon(): void {
    if (this.awarenessTimer !== undefined || this.closed) return;
    const wait = Math.max(0, this.awarenessSentAt + AWARENESS_THROTTLE_MS - Date.now());
    this.awarenessTimer = setTimeout(() => {
      this.awarenessTimer = undefined;
      if (this.closed || !this.link.ready || this.awareness.getLocalState() === null) return;
      const data = encodeAwarenessUpdate(this.awareness, [this.doc.clientID]);
      if (data.length > AWARENESS_MAX_BYTES) return;
      this.awarenessSentAt = Date.now();
      this.link.request({ case: "notesAwareness", value: { document: this.kind, data } }, UPDATE_TIMEOUT_MS).catch(() => {
        /* live only: the next change or renewal sends it again */
      });
    }, wait);
  }

  // ---- bookkeeping ----

  private applyRemote(data: Uint8Array, what: string): void {
    this.fromServer?.push(data);
    try {
      Y.applyUpdate(this.doc, data, REMOTE_ORIGIN);
    } catch (e) {
      console.warn(`huddle: ${this.name} ${what} could not be applied; skipped`, e);
    }
  }

  private markApplied(seq: number): void {
    if (seq <= this.appliedSeq) return;
    this.above.add(seq);
    while (this.above.delete(this.appliedSeq + 1)) this.appliedSeq++;
  }

  // coverUpTo: a snapshot covering every update up to seq was applied.
  private coverUpTo(seq: number): void {
    if (seq <= this.appliedSeq) return;
    this.appliedSeq = seq;
    for (const s of this.above) if (s <= seq) this.above.delete(s);
    while (this.above.delete(this.appliedSeq + 1)) this.appliedSeq++;
  }

  // resetGap forgets applied seqs beyond a gap before a full re-open.
  resetGap(): void {
    this.above.clear();
  }

  private async loadLocal(): Promise<void> {
    const p = this.persistence;
    if (!p) {
      this.localLoaded = true;
      return;
    }
    try {
      await p.whenSynced;
      const raw: unknown = await p.get(OUTBOX_KEY);
      const restored: OutboxEntry[] = [];
      if (typeof raw === "string") {
        for (const x of JSON.parse(raw) as Array<{ id?: unknown; data?: unknown; sent?: unknown }>) {
          if (typeof x.id !== "string" || !CID_RE.test(x.id) || typeof x.data !== "string") continue;
          restored.push({ id: x.id, data: fromBase64(x.data), sent: x.sent !== false });
        }
      }
      // Restored entries are older than anything typed since the page opened.
      if (restored.length) {
        const have = new Set(this.outbox.map((e) => e.id));
        this.outbox = [...restored.filter((e) => !have.has(e.id)), ...this.outbox];
        this.localEdits++;
      }
    } catch (e) {
      console.warn("huddle: notes offline storage", e);
    }
    this.localLoaded = true;
    this.saveOutbox();
    this.emit({ kind: "state" });
    this.pump();
  }

  private saveOutbox(): void {
    if (!this.persistence || !this.localLoaded || this.closed) return;
    const value = JSON.stringify(this.outbox.map((e) => ({ id: e.id, data: toBase64(e.data), sent: e.sent })));
    this.persistence.set(OUTBOX_KEY, value).catch((e: unknown) => console.warn("huddle: notes outbox not saved", e));
  }

  // markLoaded: the first full read of the server's content is done.
  markLoaded(): void {
    if (this.loaded) return;
    this.loaded = true;
    this.emit({ kind: "state" });
  }

  private emit(c: DocChange): void {
    for (const fn of this.listeners) fn(c);
  }

  // debug is window.huddle.notes.<name>.
  debug(): { loaded: boolean; text: string; language: string; appliedSeq: number; lastSeq: number; pending: number; snapshotsSent: number; peers: string[] } {
    return {
      loaded: this.loaded,
      text: this.text.toString(),
      language: this.language,
      appliedSeq: this.appliedSeq,
      lastSeq: this.lastSeq,
      pending: this.outbox.length,
      snapshotsSent: this.snapshotsSent,
      peers: this.peers().map((p) => p.name),
    };
  }
}
