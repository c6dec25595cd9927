// FrameChunk (proto/huddle/v1/client.proto): a message that packs to more
// than one frame (64 KiB) travels as consecutive chunk frames of at most
// 60 KiB each, one message_id, index 0 .. count - 1; the receiver decodes the
// concatenation as the message itself. The whole message is at most 4 MiB.
// Both directions use it; splitFrame is the sending half, Reassembler the
// receiving one.

export const FRAME_MAX = 64 * 1024;
export const CHUNK_BYTES = 60 * 1024;
export const MESSAGE_MAX = 4 * 1024 * 1024;
export const CHUNKS_MAX = 70;

export interface ChunkPart {
  messageId: number;
  index: number;
  count: number;
  data: Uint8Array;
}

// splitFrame cuts a packed message into chunk parts, or returns null when it
// fits one frame. Throws when it exceeds MESSAGE_MAX.
export function splitFrame(packed: Uint8Array, messageId: number): ChunkPart[] | null {
  if (packed.length <= FRAME_MAX) return null;
  if (packed.length > MESSAGE_MAX) throw new RangeError(`message of ${packed.length} bytes exceeds ${MESSAGE_MAX}`);
  const count = Math.ceil(packed.length / CHUNK_BYTES);
  const parts: ChunkPart[] = [];
  for (let i = 0; i < count; i++) {
    parts.push({ messageId, index: i, count, data: packed.subarray(i * CHUNK_BYTES, Math.min(packed.length, (i + 1) * CHUNK_BYTES)) });
  }
  return parts;
}

// Reassembler collects the parts of one message at a time, as the sender
// sends them: in order, nothing else between them. add returns the whole
// packed message after its last part, null while parts are missing, and
// throws (dropping the partial message) on a part out of order or too much.
export class Reassembler {
  private id = 0;
  private count = 0;
  private next = 0;
  private size = 0;
  private parts: Uint8Array[] = [];

  add(p: ChunkPart): Uint8Array | null {
    if (p.count < 2 || p.count > CHUNKS_MAX || p.index >= p.count) {
      this.reset();
      throw new Error(`chunk ${p.index}/${p.count} out of range`);
    }
    if (p.index === 0) {
      // A new message; one still incomplete is dropped.
      if (this.parts.length) console.warn(`huddle: chunked message ${this.id} dropped after ${this.next} of ${this.count} parts`);
      this.reset();
      this.id = p.messageId;
      this.count = p.count;
    } else if (p.messageId !== this.id || p.index !== this.next || p.count !== this.count) {
      this.reset();
      throw new Error(`chunk ${p.messageId}:${p.index}/${p.count} out of order`);
    }
    this.size += p.data.length;
    if (this.size > MESSAGE_MAX) {
      this.reset();
      throw new Error(`chunked message over ${MESSAGE_MAX} bytes`);
    }
    this.parts.push(p.data);
    this.next = p.index + 1;
    if (this.next < this.count) return null;
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const part of this.parts) {
      out.set(part, off);
      off += part.length;
    }
    this.reset();
    return out;
  }

  reset(): void {
    this.id = 0;
    this.count = 0;
    this.next = 0;
    this.size = 0;
    this.parts = [];
  }
}
