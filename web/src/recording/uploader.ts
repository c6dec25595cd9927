// Uploader sends queued recordings to the gateway: create, then chunk after
// chunk in order (each PUT idempotent by its index, so a chunk sent again
// after a lost answer or a reload is stored once), then finish once the
// recording has ended and every chunk is acknowledged. Failures that a retry
// can fix (network, 5xx, 429) are retried with backoff (1 s doubling to 30 s,
// equal jitter) for as long as the page is open; the queue keeps the rest for the
// next visit.
//
// One uploader per page, for the page's whole life (a recording keeps
// uploading after Leave and on the way Home). Each recording is worked on by
// one page at a time: the page that records it holds a Web Lock named after
// it until it is finished; adopt() waits for the locks of the meeting's
// unfinished recordings, so a recording whose tab was closed (its lock
// released with the page) is finished by the next page that opens the link,
// while one still recording in another tab is left to that tab.
import { ApiError } from "../api";
import { Backoff } from "../signaling/backoff";
import { createRecording, finishRecording, isRetryable, putChunk, MAX_CHUNK_BYTES } from "./api";
import { openQueue, type QueueEntry, type RecordingQueue } from "./queue";

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
const LOCK_PREFIX = "huddle.recording.";

export type UploadEvent =
  | { kind: "changed" }
  // The server will take no more of this recording (quota, length): it is
  // finished with what was acknowledged.
  | { kind: "refused"; rid: string; message: string }
  | { kind: "finished"; rid: string; meetingId: string }
  | { kind: "failed"; rid: string; message: string };

export interface UploadDebug {
  rid: string;
  meetingId: string;
  chunks: number;
  uploaded: number;
  ended: boolean;
  finished: boolean;
  failed: string;
  working: boolean; // this page holds the recording's lock
}

export class Uploader {
  // The queue's entries as last written (the debug hook and the panel read it).
  readonly entries = new Map<string, QueueEntry>();
  private readonly queue: Promise<RecordingQueue>;
  private readonly working = new Set<string>(); // rids this page uploads (lock held)
  private readonly waiting = new Set<string>(); // rids whose lock adopt() waits for
  private readonly wakers = new Set<() => void>();
  private appendSeq = 0; // appends and ends completed
  private appending: Promise<unknown> = Promise.resolve(); // appends and ends, in order
  private readonly listeners = new Set<(e: UploadEvent) => void>();

  constructor() {
    this.queue = openQueue();
    void this.queue.then(async (q) => {
      for (const e of await q.list()) if (!this.entries.has(e.rid)) this.entries.set(e.rid, e);
      this.emit({ kind: "changed" });
    });
  }

  onChange(fn: (e: UploadEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // busy: this page has chunks or a finish still to send.
  get busy(): boolean {
    return [...this.working].some((rid) => {
      const e = this.entries.get(rid);
      return e !== undefined && !e.finished && !e.failed;
    });
  }

  // begin queues a new recording of this page and starts uploading it.
  async begin(entry: QueueEntry): Promise<void> {
    const q = await this.queue;
    await q.put(entry);
    this.entries.set(entry.rid, entry);
    this.emit({ kind: "changed" });
    this.work(entry.rid, false);
  }

  // append queues data as the recording's next chunk(s) (bodies of at most
  // MAX_CHUNK_BYTES: a larger piece is cut, the server joins them again).
  append(rid: string, data: Blob): Promise<void> {
    if (data.size === 0) return Promise.resolve();
    return this.serial(async (q) => {
      for (let off = 0; off < data.size; off += MAX_CHUNK_BYTES) {
        this.entries.set(rid, await q.append(rid, data.slice(off, off + MAX_CHUNK_BYTES)));
      }
    });
  }

  // end says no chunk will follow the ones appended so far.
  end(rid: string): Promise<void> {
    return this.serial(async (q) => {
      const e = await q.update(rid, (x) => (x.ended = true));
      if (e) this.entries.set(rid, e);
    });
  }

  // adopt finishes the meeting's recordings left unfinished by a page that is
  // gone (each as soon as no other page holds its lock).
  async adopt(meetingId: string): Promise<void> {
    const q = await this.queue;
    for (const e of await q.list()) {
      if (e.meetingId !== meetingId || e.finished || e.failed) continue;
      if (this.working.has(e.rid) || this.waiting.has(e.rid)) continue;
      this.work(e.rid, true);
    }
  }

  // forget drops a recording from the queue (deleted on the server).
  async forget(rid: string): Promise<void> {
    const q = await this.queue;
    await q.remove(rid);
    this.entries.delete(rid);
    this.emit({ kind: "changed" });
  }

  debug(): UploadDebug[] {
    return [...this.entries.values()]
      .sort((a, b) => a.createdAtMs - b.createdAtMs)
      .map((e) => ({
        rid: e.rid,
        meetingId: e.meetingId,
        chunks: e.chunks,
        uploaded: e.uploaded,
        ended: e.ended,
        finished: e.finished,
        failed: e.failed,
        working: this.working.has(e.rid),
      }));
  }

  private serial(fn: (q: RecordingQueue) => Promise<void>): Promise<void> {
    const p = this.appending.then(async () => {
      await fn(await this.queue);
      this.emit({ kind: "changed" });
    });
    this.appending = p.catch((e: unknown) => console.warn("huddle: recording queue", e));
    // The upload loops waiting for a chunk go on once it is stored.
    return p.finally(() => {
      this.appendSeq++;
      const wake = [...this.wakers];
      this.wakers.clear();
      wake.forEach((w) => w());
    });
  }

  // work holds rid's lock while uploading it. orphan: the recording was left
  // by another page (wait for its lock; once held, nothing more will come).
  private work(rid: string, orphan: boolean): void {
    const run = async () => {
      this.waiting.delete(rid);
      this.working.add(rid);
      try {
        await this.upload(rid, orphan);
      } finally {
        this.working.delete(rid);
        this.emit({ kind: "changed" });
      }
    };
    const locks = navigator.locks as LockManager | undefined;
    if (!locks) {
      void run();
      return;
    }
    if (orphan) this.waiting.add(rid);
    void locks.request(LOCK_PREFIX + rid, run).catch((e: unknown) => {
      this.waiting.delete(rid);
      console.warn("huddle: recording lock", e);
    });
  }

  private async upload(rid: string, orphan: boolean): Promise<void> {
    const q = await this.queue;
    let e = await q.get(rid);
    if (!e || e.finished || e.failed) return;
    if (orphan && !e.ended) {
      // Its page is gone: what it stored is all there is.
      await q.update(rid, (x) => (x.ended = true));
      console.info(`huddle: finishing recording ${rid} left by a closed page (${e.chunks} chunks)`);
    }
    const backoff = new Backoff(RETRY_MIN_MS, RETRY_MAX_MS);
    for (;;) {
      // Read the entry afresh each step: appends change it meanwhile.
      const seen = this.appendSeq;
      e = await q.get(rid);
      if (!e) return;
      this.entries.set(rid, e);
      this.emit({ kind: "changed" });
      if (e.finished || e.failed) return;
      try {
        if (!e.created) {
          await createRecording(e.meetingId, rid, e.token, e.kind, e.name, e.mimeType);
          await q.update(rid, (x) => (x.created = true));
        } else if (e.uploaded < e.chunks) {
          const data = await q.chunk(rid, e.uploaded);
          if (!data) {
            // Lost from storage (cleared by the user?): finish what came before it.
            console.warn(`huddle: recording ${rid}: chunk ${e.uploaded} missing from the queue`);
            await q.update(rid, (x) => ((x.chunks = x.uploaded), (x.ended = true)));
          } else {
            await putChunk(e.meetingId, rid, e.token, e.uploaded, data);
            await q.ack(rid, e.uploaded);
          }
        } else if (e.ended) {
          await finishRecording(e.meetingId, rid, e.token, e.chunks);
          const done = await q.update(rid, (x) => (x.finished = true));
          await q.dropChunks(rid);
          if (done) this.entries.set(rid, done);
          this.emit({ kind: "finished", rid, meetingId: e.meetingId });
          return;
        } else {
          await this.nextAppend(seen);
          continue;
        }
        backoff.reset();
      } catch (err) {
        if (isRetryable(err)) {
          const ms = backoff.next();
          console.info(`huddle: recording ${rid}: retrying in ${Math.round(ms)} ms`, err);
          await sleep(ms);
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof ApiError && err.status === 409) {
          // The server finished it already (idle for RECORDING_IDLE_S while
          // this queue waited): it holds what it had; nothing more to send.
          console.warn(`huddle: recording ${rid} was finished by the server; ${e.chunks - e.uploaded} chunks not sent`);
          const done = await q.update(rid, (x) => ((x.ended = true), (x.finished = true)));
          await q.dropChunks(rid);
          if (done) this.entries.set(rid, done);
          this.emit({ kind: "finished", rid, meetingId: e.meetingId });
          return;
        }
        if (err instanceof ApiError && err.code === "TOO_LARGE" && e.created && e.uploaded > 0) {
          // Quota or maximum length reached: end the recording where the
          // server stopped taking it, and finish that.
          const upTo = e.uploaded;
          await q.update(rid, (x) => ((x.chunks = upTo), (x.ended = true)));
          await q.dropChunks(rid);
          this.emit({ kind: "refused", rid, message });
          continue;
        }
        console.warn(`huddle: recording ${rid} cannot be uploaded`, err);
        const failed = await q.update(rid, (x) => (x.failed = message || "refused"));
        await q.dropChunks(rid);
        if (failed) this.entries.set(rid, failed);
        this.emit({ kind: "failed", rid, message });
        return;
      }
    }
  }

  // nextAppend resolves once an append or end has completed after the
  // one counted as seen.
  private nextAppend(seen: number): Promise<void> {
    if (this.appendSeq !== seen) return Promise.resolve();
    return new Promise((resolve) => this.wakers.add(resolve));
  }

  private emit(e: UploadEvent): void {
    for (const fn of this.listeners) fn(e);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
