// RecordingQueue keeps recordings on their way to the server in IndexedDB:
// per recording its entry (meeting, token, kind, how many chunks were made
// and how many the server acknowledged) and the chunks not acknowledged yet.
// A chunk is stored before it is uploaded, and the entry changes in the same
// transaction as the chunks, so a closed tab or a crashed browser leaves a
// queue that the next visit to the link can finish. Where IndexedDB cannot
// be opened (storage disabled) the queue lives in memory for this page.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { RecordingKind } from "../proto";

// Entries are forgotten a while after the token that could upload or delete
// them has expired (the gateway's RECORDING_TOKEN_TTL_S, a day by default).
export const KEEP_MS = 26 * 3600_000;

export interface QueueEntry {
  rid: string;
  meetingId: string;
  token: string; // the recording token of the join that made it (secret)
  kind: RecordingKind;
  name: string; // the recorder's name
  mimeType: string;
  createdAtMs: number;
  created: boolean; // the server has the recording (create acknowledged)
  chunks: number; // chunks made: indices 0..chunks-1
  uploaded: number; // chunks 0..uploaded-1 acknowledged (and gone from the queue)
  ended: boolean; // no chunk after chunks-1 will come
  finished: boolean; // finish acknowledged: nothing left to do
  failed: string; // why uploading gave up ("" while it has not)
}

interface Schema extends DBSchema {
  recordings: { key: string; value: QueueEntry; indexes: { meetingId: string } };
  chunks: { key: [string, number]; value: { rid: string; index: number; data: Blob } };
}

const DB_NAME = "huddle-recordings";

export interface RecordingQueue {
  readonly persistent: boolean;
  put(e: QueueEntry): Promise<void>;
  get(rid: string): Promise<QueueEntry | undefined>;
  list(): Promise<QueueEntry[]>;
  // append stores data as the next chunk; returns the updated entry.
  append(rid: string, data: Blob): Promise<QueueEntry>;
  // update changes an entry atomically; returns it (undefined if gone).
  update(rid: string, fn: (e: QueueEntry) => void): Promise<QueueEntry | undefined>;
  chunk(rid: string, index: number): Promise<Blob | undefined>;
  // ack drops chunk index (acknowledged) and sets uploaded = index + 1.
  ack(rid: string, index: number): Promise<QueueEntry | undefined>;
  // dropChunks removes every chunk of rid, keeping its entry.
  dropChunks(rid: string): Promise<void>;
  remove(rid: string): Promise<void>;
}

export async function openQueue(): Promise<RecordingQueue> {
  try {
    const db = await openDB<Schema>(DB_NAME, 1, {
      upgrade(db) {
        const r = db.createObjectStore("recordings", { keyPath: "rid" });
        r.createIndex("meetingId", "meetingId");
        db.createObjectStore("chunks", { keyPath: ["rid", "index"] });
      },
    });
    const q = new IdbQueue(db);
    await q.prune();
    return q;
  } catch (e) {
    console.warn("huddle: IndexedDB unavailable, recordings are queued in memory only", e);
    return new MemoryQueue();
  }
}

class IdbQueue implements RecordingQueue {
  readonly persistent = true;
  constructor(private readonly db: IDBPDatabase<Schema>) {}

  async put(e: QueueEntry): Promise<void> {
    await this.db.put("recordings", e);
  }

  get(rid: string): Promise<QueueEntry | undefined> {
    return this.db.get("recordings", rid);
  }

  list(): Promise<QueueEntry[]> {
    return this.db.getAll("recordings");
  }

  async append(rid: string, data: Blob): Promise<QueueEntry> {
    const tx = this.db.transaction(["recordings", "chunks"], "readwrite");
    const e = await tx.objectStore("recordings").get(rid);
    if (!e) throw new Error(`recording ${rid} is not queued`);
    void tx.objectStore("chunks").put({ rid, index: e.chunks, data });
    e.chunks++;
    void tx.objectStore("recordings").put(e);
    await tx.done;
    return e;
  }

  async update(rid: string, fn: (e: QueueEntry) => void): Promise<QueueEntry | undefined> {
    const tx = this.db.transaction("recordings", "readwrite");
    const e = await tx.store.get(rid);
    if (e) {
      fn(e);
      void tx.store.put(e);
    }
    await tx.done;
    return e;
  }

  async chunk(rid: string, index: number): Promise<Blob | undefined> {
    return (await this.db.get("chunks", [rid, index]))?.data;
  }

  async ack(rid: string, index: number): Promise<QueueEntry | undefined> {
    const tx = this.db.transaction(["recordings", "chunks"], "readwrite");
    void tx.objectStore("chunks").delete([rid, index]);
    const e = await tx.objectStore("recordings").get(rid);
    if (e && e.uploaded <= index) {
      e.uploaded = index + 1;
      void tx.objectStore("recordings").put(e);
    }
    await tx.done;
    return e;
  }

  async dropChunks(rid: string): Promise<void> {
    await this.db.delete("chunks", IDBKeyRange.bound([rid, 0], [rid, Infinity]));
  }

  async remove(rid: string): Promise<void> {
    const tx = this.db.transaction(["recordings", "chunks"], "readwrite");
    void tx.objectStore("chunks").delete(IDBKeyRange.bound([rid, 0], [rid, Infinity]));
    void tx.objectStore("recordings").delete(rid);
    await tx.done;
  }

  // prune forgets entries whose token has expired, with their chunks.
  async prune(): Promise<void> {
    const old = (await this.list()).filter((e) => Date.now() - e.createdAtMs > KEEP_MS);
    for (const e of old) await this.remove(e.rid);
  }
}

class MemoryQueue implements RecordingQueue {
  readonly persistent = false;
  private readonly entries = new Map<string, QueueEntry>();
  private readonly chunks = new Map<string, Blob>();

  async put(e: QueueEntry): Promise<void> {
    this.entries.set(e.rid, { ...e });
  }
  async get(rid: string): Promise<QueueEntry | undefined> {
    const e = this.entries.get(rid);
    return e && { ...e };
  }
  async list(): Promise<QueueEntry[]> {
    return [...this.entries.values()].map((e) => ({ ...e }));
  }
  async append(rid: string, data: Blob): Promise<QueueEntry> {
    const e = this.entries.get(rid);
    if (!e) throw new Error(`recording ${rid} is not queued`);
    this.chunks.set(`${rid}/${e.chunks}`, data);
    e.chunks++;
    return { ...e };
  }
  async update(rid: string, fn: (e: QueueEntry) => void): Promise<QueueEntry | undefined> {
    const e = this.entries.get(rid);
    if (e) fn(e);
    return e && { ...e };
  }
  async chunk(rid: string, index: number): Promise<Blob | undefined> {
    return this.chunks.get(`${rid}/${index}`);
  }
  async ack(rid: string, index: number): Promise<QueueEntry | undefined> {
    this.chunks.delete(`${rid}/${index}`);
    return this.update(rid, (e) => (e.uploaded = Math.max(e.uploaded, index + 1)));
  }
  async dropChunks(rid: string): Promise<void> {
    for (const k of [...this.chunks.keys()]) if (k.startsWith(`${rid}/`)) this.chunks.delete(k);
  }
  async remove(rid: string): Promise<void> {
    await this.dropChunks(rid);
    this.entries.delete(rid);
  }
}
