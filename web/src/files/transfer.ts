// One file transfer with one participant, on its own data channel (see
// protocol.ts for the messages): OutgoingTransfer reads the file in slices,
// hashes and sends it with backpressure; IncomingTransfer asks the user,
// receives into a sink (sink.ts), verifies the SHA-256 the sender announced
// and only then saves the file. Both keep the progress samples the view turns
// into speed and time left.
import { createSHA256, type IHasher } from "hash-wasm";
import {
  CHUNK_BYTES,
  FILE_CHANNEL_PREFIX,
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
  MAX_FILE_BYTES,
  MAX_FILE_LABEL,
  READ_SLICE_BYTES,
  parseControl,
  type Control,
} from "./protocol";
import { openSink, type FileSink } from "./sink";

// offering: the sender waits for the channel and the receiver's answer;
// offered: the receiver waits for the user's Accept or Decline.
export type TransferState = "offering" | "offered" | "sending" | "receiving" | "verifying" | "done" | "declined" | "cancelled" | "failed";
export type Direction = "send" | "receive";

const TERMINAL: ReadonlySet<TransferState> = new Set(["done", "declined", "cancelled", "failed"]);
// Speed is the bytes moved over the last SPEED_WINDOW_MS.
const SPEED_WINDOW_MS = 3_000;
// Progress samples kept for the debug hook (one per view tick).
const SAMPLES_MAX = 20_000;

export abstract class Transfer {
  readonly id: string;
  abstract readonly direction: Direction;
  state: TransferState;
  name = "";
  size = 0;
  mime = "";
  error = ""; // why it failed, was declined or cancelled, for people
  sha256 = ""; // the verified (receive) or announced (send) hash, hex
  startedAtMs = 0; // the first byte (performance.now()), 0 before
  endedAtMs = 0;
  // The bytes moved at each sample() (for tests: progress never goes back).
  readonly samples: number[] = [];
  private window: Array<{ t: number; bytes: number }> = [];
  private listeners = new Set<() => void>();

  protected constructor(
    protected readonly dc: RTCDataChannel,
    readonly peerId: string,
    initial: TransferState,
  ) {
    this.id = dc.label.slice(FILE_CHANNEL_PREFIX.length);
    this.state = initial;
    dc.binaryType = "arraybuffer";
    dc.addEventListener("message", (ev) => this.onMessage(ev.data as string | ArrayBuffer));
    dc.addEventListener("close", () => this.onClosed());
  }

  // bytes moved so far (sent and left the channel's buffer / received).
  abstract get bytes(): number;

  get finished(): boolean {
    return TERMINAL.has(this.state);
  }

  get active(): boolean {
    return this.state === "sending" || this.state === "receiving" || this.state === "verifying";
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  protected emit(): void {
    for (const fn of this.listeners) fn();
  }

  // sample records the progress now (the view calls it on every tick);
  // returns the speed over the last SPEED_WINDOW_MS in bytes/s.
  sample(now = performance.now()): number {
    const bytes = this.bytes;
    if (this.active && this.samples.length < SAMPLES_MAX) this.samples.push(bytes);
    this.window.push({ t: now, bytes });
    while (this.window.length > 2 && now - this.window[0].t > SPEED_WINDOW_MS) this.window.shift();
    return this.speed;
  }

  get speed(): number {
    const w = this.window;
    if (w.length < 2) return 0;
    const dt = w[w.length - 1].t - w[0].t;
    return dt > 0 ? ((w[w.length - 1].bytes - w[0].bytes) * 1000) / dt : 0;
  }

  // cancel stops the transfer from this side (the Cancel button): the other
  // side is told, nothing partial is kept.
  cancel(): void {
    if (this.finished) return;
    this.send({ type: "cancel" });
    this.finish("cancelled", "Cancelled");
  }

  // lost: the peer connection went away under the channel (a participant who
  // left closes it without a close event on our side).
  checkLost(): void {
    if (!this.finished && this.dc.readyState === "closed") this.finish("failed", "The connection was lost");
  }

  protected send(msg: Control): boolean {
    if (this.dc.readyState !== "open") return false;
    try {
      this.dc.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  // finish moves to an end state once, releases what is held, and closes
  // the channel.
  protected finish(state: TransferState, error = ""): void {
    if (this.finished) return;
    this.state = state;
    this.error = error;
    this.endedAtMs = performance.now();
    this.release(state);
    if (this.dc.readyState === "open" || this.dc.readyState === "connecting") this.dc.close();
    this.emit();
  }

  protected abstract release(state: TransferState): void;

  private onMessage(data: string | ArrayBuffer): void {
    if (this.finished) return;
    if (typeof data !== "string") {
      this.onChunk(data);
      return;
    }
    const msg = parseControl(data);
    if (!msg) {
      this.send({ type: "error", reason: "protocol error" });
      this.finish("failed", "The other side sent something unexpected");
      return;
    }
    if (msg.type === "cancel") this.finish("cancelled", "Cancelled by the other side");
    else if (msg.type === "error") this.finish("failed", msg.reason || "The other side reported an error");
    else this.onControl(msg);
  }

  protected abstract onControl(msg: Control): void;
  protected abstract onChunk(data: ArrayBuffer): void;

  private onClosed(): void {
    if (this.finished) return;
    const why =
      this.state === "offered" ? "Withdrawn by the sender" : this.state === "offering" ? "Closed by the other side before an answer" : "Cancelled by the other side";
    this.finish("cancelled", why);
  }
}

// OutgoingTransfer sends one file to one participant.
export class OutgoingTransfer extends Transfer {
  readonly direction = "send" as const;
  private sent = 0;
  private wake: (() => void) | null = null;

  constructor(
    pc: RTCPeerConnection,
    id: string,
    peerId: string,
    readonly file: File,
  ) {
    super(pc.createDataChannel(FILE_CHANNEL_PREFIX + id, { ordered: true }), peerId, "offering");
    this.name = file.name;
    this.size = file.size;
    this.mime = file.type;
    const dc = this.dc;
    dc.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    dc.addEventListener("bufferedamountlow", () => this.wakeUp());
    dc.addEventListener("close", () => this.wakeUp());
    dc.addEventListener("open", () => {
      if (!this.finished) this.send({ type: "offer", name: this.name, size: this.size, mime: this.mime });
    });
  }

  get bytes(): number {
    if (this.state === "verifying" || this.state === "done") return this.size;
    if (this.dc.readyState !== "open") return this.sent;
    // What left the channel's buffer: never goes back (the buffer only
    // shrinks by what is transmitted and grows by what we add to sent).
    return Math.max(0, this.sent - this.dc.bufferedAmount);
  }

  protected onControl(msg: Control): void {
    if (msg.type === "accept" && this.state === "offering") {
      this.state = "sending";
      this.startedAtMs = performance.now();
      this.emit();
      void this.pump();
    } else if (msg.type === "decline" && this.state === "offering") {
      this.finish("declined", "Declined");
    } else if (msg.type === "done" && this.state === "verifying") {
      this.finish("done");
    } else {
      this.send({ type: "error", reason: "protocol error" });
      this.finish("failed", "The other side sent something unexpected");
    }
  }

  protected onChunk(): void {
    this.send({ type: "error", reason: "protocol error" });
    this.finish("failed", "The other side sent something unexpected");
  }

  protected release(): void {
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  // pump reads the file READ_SLICE_BYTES at a time, hashes each slice and
  // queues it in CHUNK_BYTES messages, waiting for "bufferedamountlow"
  // whenever the channel holds more than HIGH_WATER_BYTES.
  private async pump(): Promise<void> {
    const dc = this.dc;
    try {
      const hasher: IHasher = (await createSHA256()).init();
      for (let offset = 0; offset < this.size; ) {
        const slice = new Uint8Array(await this.file.slice(offset, offset + READ_SLICE_BYTES).arrayBuffer());
        if (slice.byteLength === 0) throw new Error("the file got shorter while it was sent");
        hasher.update(slice);
        for (let p = 0; p < slice.byteLength; p += CHUNK_BYTES) {
          while (dc.bufferedAmount > HIGH_WATER_BYTES && this.state === "sending" && dc.readyState === "open") {
            await new Promise<void>((resolve) => (this.wake = resolve));
          }
          if (this.state !== "sending") return;
          const chunk = slice.subarray(p, Math.min(p + CHUNK_BYTES, slice.byteLength));
          dc.send(chunk);
          this.sent += chunk.byteLength;
        }
        offset += slice.byteLength;
      }
      if (this.state !== "sending") return;
      this.sha256 = hasher.digest("hex");
      dc.send(JSON.stringify({ type: "end", sha256: this.sha256 } satisfies Control));
      this.state = "verifying";
      this.emit();
    } catch (e) {
      if (this.finished) return;
      const why = dc.readyState !== "open" ? "The connection was lost" : `Could not read the file: ${e instanceof Error ? e.message : String(e)}`;
      this.send({ type: "error", reason: "the sender could not read the file" });
      this.finish("failed", why);
    }
  }
}

// IncomingTransfer receives one file from one participant, once the user
// accepts it.
export class IncomingTransfer extends Transfer {
  readonly direction = "receive" as const;
  private received = 0;
  private hasher: IHasher | null = null;
  private sink: FileSink | null = null;
  // The saved file (an object URL), once verified; revoked by dispose().
  url = "";
  private readonly offered: Promise<boolean>;
  private resolveOffered!: (ok: boolean) => void;

  constructor(dc: RTCDataChannel, peerId: string) {
    super(dc, peerId, "offered");
    this.offered = new Promise((r) => (this.resolveOffered = r));
    this.onChange(() => {
      if (this.finished) this.resolveOffered(false);
    });
  }

  // whenOffered resolves true once the sender's offer is in (false: the
  // channel ended first, or the offer was refused as too big).
  whenOffered(): Promise<boolean> {
    return this.offered;
  }

  get bytes(): number {
    return this.received;
  }

  // accept: the user said yes (call it from the click: a large file may ask
  // where to save it); the data starts flowing.
  async accept(): Promise<void> {
    if (this.state !== "offered" || !this.name) return;
    this.state = "receiving";
    this.emit();
    try {
      this.sink = await openSink(this.name, this.mime, this.size);
      this.hasher = (await createSHA256()).init();
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError" && this.state === "receiving") {
        // The save picker was closed: ask again.
        this.state = "offered";
        this.emit();
        return;
      }
      this.send({ type: "error", reason: "the receiver could not store the file" });
      this.finish("failed", `Could not store the file: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (this.finished) return;
    this.startedAtMs = performance.now();
    this.send({ type: "accept" });
  }

  decline(): void {
    if (this.state !== "offered") return;
    this.send({ type: "decline" });
    this.finish("declined", "Declined");
  }

  protected onControl(msg: Control): void {
    if (msg.type === "offer" && this.state === "offered" && !this.name) {
      if (msg.size > MAX_FILE_BYTES) {
        this.send({ type: "error", reason: `the file is larger than the ${MAX_FILE_LABEL} limit` });
        this.name = msg.name;
        this.size = msg.size;
        this.finish("failed", `The file is larger than the ${MAX_FILE_LABEL} limit`);
        return;
      }
      this.name = msg.name;
      this.size = msg.size;
      this.mime = msg.mime;
      this.resolveOffered(true);
      this.emit();
    } else if (msg.type === "end" && this.state === "receiving") {
      void this.verify(msg.sha256);
    } else {
      this.send({ type: "error", reason: "protocol error" });
      this.finish("failed", "The other side sent something unexpected");
    }
  }

  protected onChunk(data: ArrayBuffer): void {
    if (this.state !== "receiving" || !this.hasher || !this.sink) {
      this.send({ type: "error", reason: "protocol error" });
      this.finish("failed", "The other side sent data before it was accepted");
      return;
    }
    if (this.received + data.byteLength > this.size) {
      this.send({ type: "error", reason: "more data than announced" });
      this.finish("failed", "The other side sent more than the announced size");
      return;
    }
    const chunk = new Uint8Array(data);
    this.hasher.update(chunk);
    this.sink.write(chunk);
    this.received += chunk.byteLength;
  }

  private async verify(announced: string): Promise<void> {
    if (!this.hasher || !this.sink) return;
    if (this.received !== this.size) {
      this.send({ type: "error", reason: "fewer bytes than announced" });
      this.finish("failed", `Incomplete: ${this.received} of ${this.size} bytes arrived`);
      return;
    }
    this.state = "verifying";
    this.emit();
    const got = this.hasher.digest("hex");
    if (got !== announced) {
      this.send({ type: "error", reason: "SHA-256 mismatch: the file arrived damaged" });
      this.finish("failed", "The file arrived damaged (its SHA-256 does not match): not saved");
      return;
    }
    this.sha256 = got;
    try {
      const sink = this.sink;
      this.sink = null;
      this.url = await sink.commit();
    } catch (e) {
      this.send({ type: "error", reason: "the receiver could not save the file" });
      this.finish("failed", `Could not save the file: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.send({ type: "done" });
    this.finish("done");
  }

  protected release(state: TransferState): void {
    this.hasher = null;
    if (state !== "done") {
      // Nothing partial stays behind: the chunks are dropped (or the file
      // being written is aborted), and nothing was saved.
      void this.sink?.abort();
      this.sink = null;
    }
  }

  // dispose forgets the saved file (the Save link stops working).
  dispose(): void {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = "";
  }
}
