// The file transfer protocol: one ordered RTCDataChannel per transfer (and per
// recipient), labelled FILE_CHANNEL_PREFIX + transfer id, created by the sender
// on the existing peer connection. On it:
//   sender   → receiver  {type:"offer", name, size, mime}   (first message)
//   receiver → sender    {type:"accept"} | {type:"decline"}
//   sender   → receiver  binary chunks of CHUNK_BYTES (the last one shorter),
//                        then {type:"end", sha256} (hex, of the whole file)
//   receiver → sender    {type:"done"} (hash verified, file saved)
//                        | {type:"error", reason} (hash mismatch, too big, ...)
//   either   → other     {type:"cancel"}, then closes the channel
// A channel that closes before "done" is a cancelled (or lost) transfer.

// One data channel message of file data. 16 KiB is the size every WebRTC
// stack sends without fragmenting trouble (RFC 8831 §6.6 leaves larger
// messages to the implementation).
export const CHUNK_BYTES = 16 * 1024;
// The sender stops queueing when the channel holds more than this ...
export const HIGH_WATER_BYTES = 4 * 1024 * 1024;
// ... and resumes on "bufferedamountlow", fired when it drops to this
// (RTCDataChannel.bufferedAmountLowThreshold).
export const LOW_WATER_BYTES = 1024 * 1024;
// The sender reads the file this much at a time (Blob.slice + arrayBuffer).
export const READ_SLICE_BYTES = 1024 * 1024;
// The largest file one can send or receive.
export const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024;
export const MAX_FILE_LABEL = "2 GiB";
// A received file's name is cut to this many UTF-16 code units.
export const FILE_NAME_MAX = 255;
// A control message longer than this is a protocol error.
export const CONTROL_MAX_BYTES = 2048;
// Offers that wait for an answer at once, per page; more are declined.
export const MAX_PENDING_OFFERS = 16;

export const FILE_CHANNEL_PREFIX = "huddle-file/";

export type Control =
  | { type: "offer"; name: string; size: number; mime: string }
  | { type: "accept" }
  | { type: "decline" }
  | { type: "end"; sha256: string }
  | { type: "done" }
  | { type: "error"; reason: string }
  | { type: "cancel" };

const SHA256_RE = /^[0-9a-f]{64}$/;
const MIME_RE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;
const REASON_MAX = 200;

// parseControl reads one text message; returns null for anything that is not
// a well-formed control message (the caller fails the transfer).
export function parseControl(text: string): Control | null {
  if (text.length > CONTROL_MAX_BYTES) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const m = v as Record<string, unknown>;
  switch (m.type) {
    case "offer":
      if (typeof m.name !== "string" || typeof m.size !== "number" || !Number.isSafeInteger(m.size) || m.size < 0) return null;
      return { type: "offer", name: cleanFileName(m.name), size: m.size, mime: typeof m.mime === "string" && MIME_RE.test(m.mime) ? m.mime : "" };
    case "end":
      return typeof m.sha256 === "string" && SHA256_RE.test(m.sha256) ? { type: "end", sha256: m.sha256 } : null;
    case "error":
      return { type: "error", reason: typeof m.reason === "string" ? m.reason.slice(0, REASON_MAX) : "" };
    case "accept":
    case "decline":
    case "done":
    case "cancel":
      return { type: m.type };
    default:
      return null;
  }
}

// cleanFileName makes a remote file name safe to show and to save under: no
// path, no control characters, not empty, at most FILE_NAME_MAX long.
export function cleanFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  let n = name.replace(/[\u0000-\u001f\u007f]/g, "").replace(/^.*[\\/]/, "").trim();
  if (n === "" || n === "." || n === "..") n = "file";
  if (n.length > FILE_NAME_MAX) {
    const dot = n.lastIndexOf(".");
    const ext = dot > 0 && n.length - dot <= 16 ? n.slice(dot) : "";
    n = n.slice(0, FILE_NAME_MAX - ext.length) + ext;
  }
  return n;
}

// formatBytes: "3.1 MB" (SI units, as file managers show sizes).
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

// formatDuration: "42 s", "3 min 5 s", "1 h 2 min".
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "";
  const t = Math.ceil(s);
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${t % 60} s`;
  return `${Math.floor(t / 3600)} h ${Math.floor((t % 3600) / 60)} min`;
}

export function newTransferId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
