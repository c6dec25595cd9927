// Where a received file goes while it arrives, and how it is saved once its
// SHA-256 is verified. Nothing is saved before commit(); abort() leaves
// nothing behind.
//
// - BlobSink (every browser): the chunks are gathered into Blobs of
//   SEGMENT_BYTES; a Blob's bytes move to the browser's blob store, which
//   keeps large ones on disk, so the page itself holds at most one segment
//   of chunks. commit() joins the segments into one Blob (no copy) and saves
//   it through an <a download> of its object URL.
// - SaveFileSink (File System Access API, Chromium) for files of
//   FSA_MIN_BYTES and more: Accept asks where to save, and the chunks are
//   written straight to that file. The browser writes into a temporary file
//   and only moves it into place on close() (commit); abort() deletes it.
import { FILE_NAME_MAX } from "./protocol";

// Chunks gathered before they are handed to the blob store as one Blob.
export const SEGMENT_BYTES = 8 * 1024 * 1024;
// Files this big are written straight to disk where the browser can.
export const FSA_MIN_BYTES = 256 * 1024 * 1024;

export interface FileSink {
  // write queues one chunk (in order).
  write(chunk: Uint8Array): void;
  // commit saves the file; returns an object URL to save it again, or "".
  commit(): Promise<string>;
  abort(): Promise<void>;
}

// The parts of the File System Access API used here (not in TypeScript's DOM lib).
interface WritableFile {
  write(data: BufferSource): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}
interface SaveHandle {
  createWritable(): Promise<WritableFile>;
}
type SavePicker = (opts: { suggestedName: string }) => Promise<SaveHandle>;

// openSink picks the sink for a file. It must be called from the Accept
// click (the save picker needs the user's gesture). A picker the user
// closes rejects with an AbortError.
export async function openSink(name: string, mime: string, size: number): Promise<FileSink> {
  const picker = (window as unknown as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  if (size >= FSA_MIN_BYTES && picker) {
    const handle = await picker({ suggestedName: name.slice(0, FILE_NAME_MAX) });
    return new SaveFileSink(await handle.createWritable());
  }
  return new BlobSink(name, mime);
}

class BlobSink implements FileSink {
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  private segments: Blob[] = [];

  constructor(
    private readonly name: string,
    private readonly mime: string,
  ) {}

  write(chunk: Uint8Array): void {
    this.parts.push(chunk);
    this.partBytes += chunk.byteLength;
    if (this.partBytes >= SEGMENT_BYTES) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    this.segments.push(new Blob(this.parts as BlobPart[]));
    this.parts = [];
    this.partBytes = 0;
  }

  async commit(): Promise<string> {
    this.flush();
    const blob = new Blob(this.segments, { type: this.mime || "application/octet-stream" });
    this.segments = [];
    const url = URL.createObjectURL(blob);
    saveUrl(url, this.name);
    return url;
  }

  async abort(): Promise<void> {
    this.parts = [];
    this.segments = [];
  }
}

class SaveFileSink implements FileSink {
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown = null;

  constructor(private readonly out: WritableFile) {}

  write(chunk: Uint8Array): void {
    this.chain = this.chain.then(() => this.out.write(chunk as BufferSource)).catch((e) => {
      this.failed ??= e;
    });
  }

  async commit(): Promise<string> {
    await this.chain;
    if (this.failed) {
      await this.out.abort().catch(() => {});
      throw this.failed instanceof Error ? this.failed : new Error(String(this.failed));
    }
    await this.out.close();
    return "";
  }

  async abort(): Promise<void> {
    await this.chain;
    await this.out.abort().catch(() => {});
  }
}

// saveUrl saves what url holds under name (the browser's download).
export function saveUrl(url: string, name: string): void {
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
}
