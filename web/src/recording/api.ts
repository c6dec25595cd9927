// The gateway's recording API (proto/huddle/v1/recording.proto, header):
// create, chunk PUT, finish and delete carry the recording token of the
// JoinReply in "Authorization: Bearer" (never in a URL); the list and the
// file are read without it, like the rest of the meeting.
import { ApiError } from "../api";
import { RecordingKind, RecordingState } from "../proto";

// MAX_CHUNK_BYTES is the largest chunk body the gateway takes.
export const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

// RecordingInfo is one recording as the list shows it.
export interface RecordingInfo {
  id: string;
  kind: RecordingKind;
  state: RecordingState;
  recorderId: string;
  recorderName: string;
  createdAtMs: number;
  updatedAtMs: number;
  chunks: number;
  bytes: number;
  durationMs: number;
  error: string;
  mimeType: string;
}

// The kinds' names in the JSON of create and in labels.
export const KIND_NAMES: Record<RecordingKind, string> = {
  [RecordingKind.UNSPECIFIED]: "unspecified",
  [RecordingKind.CAMERA]: "camera",
  [RecordingKind.SCREEN]: "screen",
  [RecordingKind.MEETING]: "meeting",
};

// newRecordingId: a rid, 22 base64url characters like every Huddle id.
export { newClientId as newRecordingId } from "../signaling/backoff";

function base(meetingId: string, rid?: string): string {
  const m = `/api/meetings/${encodeURIComponent(meetingId)}/recordings`;
  return rid === undefined ? m : `${m}/${encodeURIComponent(rid)}`;
}

// fileUrl is where the finished file is read (Range works: <video> seeks);
// download: served as an attachment.
export function fileUrl(meetingId: string, rid: string, download = false): string {
  return `${base(meetingId, rid)}/file${download ? "?download=1" : ""}`;
}

// isRetryable: worth sending again later (the server or the network may come
// back); anything else is an answer that a retry would not change.
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true; // fetch failed: offline, server down
  return e.status === 408 || e.status === 429 || e.status >= 500;
}

async function send(method: string, path: string, token: string | null, body?: BodyInit, json = false, signal?: AbortSignal): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (json) headers["content-type"] = "application/json";
  else if (body !== undefined) headers["content-type"] = "application/octet-stream";
  const res = await fetch(path, { method, headers, body, signal, cache: "no-store" });
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message || text.trim() || res.statusText);
  }
  return parsed;
}

export async function createRecording(meetingId: string, rid: string, token: string, kind: RecordingKind, name: string, mimeType: string, signal?: AbortSignal): Promise<void> {
  await send("PUT", base(meetingId, rid), token, JSON.stringify({ kind: KIND_NAMES[kind], name, mimeType }), true, signal);
}

export async function putChunk(meetingId: string, rid: string, token: string, index: number, data: Blob, signal?: AbortSignal): Promise<void> {
  await send("PUT", `${base(meetingId, rid)}/chunks/${index}`, token, data, false, signal);
}

export async function finishRecording(meetingId: string, rid: string, token: string, chunks: number, signal?: AbortSignal): Promise<void> {
  await send("POST", `${base(meetingId, rid)}/finish`, token, JSON.stringify({ chunks }), true, signal);
}

export async function deleteRecording(meetingId: string, rid: string, token: string): Promise<void> {
  await send("DELETE", base(meetingId, rid), token);
}

// listRecordings: the meeting's recordings, newest first (a JSON array).
export async function listRecordings(meetingId: string, signal?: AbortSignal): Promise<RecordingInfo[]> {
  const json = (await send("GET", base(meetingId), null, undefined, false, signal)) as { recordings?: unknown } | unknown[] | null;
  const items = Array.isArray(json) ? json : Array.isArray(json?.recordings) ? json.recordings : [];
  return items.map((r) => parseRecording(r as Record<string, unknown>)).filter((r) => r.id !== "");
}

// parseRecording reads one recording's JSON: the proto's fields in camelCase
// (as the gateway writes them) or snake_case, numbers as numbers or strings,
// enums by short name ("ready", as the gateway writes them), full name
// (RECORDING_STATE_READY) or number.
export function parseRecording(o: Record<string, unknown>): RecordingInfo {
  const get = (camel: string, snake: string) => o[camel] ?? o[snake];
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const num = (v: unknown) => {
    const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : 0;
    return Number.isFinite(n) ? n : 0;
  };
  return {
    id: str(o.id),
    kind: enumOf(RecordingKind, "RECORDING_KIND_", o.kind) as RecordingKind,
    state: enumOf(RecordingState, "RECORDING_STATE_", o.state) as RecordingState,
    recorderId: str(get("recorderId", "recorder_id")),
    recorderName: str(get("recorderName", "recorder_name")),
    createdAtMs: num(get("createdAtMs", "created_at_ms")),
    updatedAtMs: num(get("updatedAtMs", "updated_at_ms")),
    chunks: num(o.chunks),
    bytes: num(o.bytes),
    durationMs: num(get("durationMs", "duration_ms")),
    error: str(o.error),
    mimeType: str(get("mimeType", "mime_type")) || "video/webm",
  };
}

function enumOf(e: Record<string, string | number>, prefix: string, v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return 0;
  const short = v.toUpperCase().replace(prefix, "");
  const n = e[short];
  return typeof n === "number" ? n : 0;
}
