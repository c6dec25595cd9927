// The gateway's HTTP API: meetings, spaces (the dashboard), admitting from
// outside the call, and minting signed guest links. Keys go in an
// "Authorization: Bearer" header, never in a URL.
import { setHostKey } from "./access/keys";

export type AccessModeName = "open" | "waiting_room" | "locked" | "token_only";

export interface MeetingInfo {
  id: string;
  url: string;
  title: string;
  createdAtMs: number;
  accessMode: AccessModeName;
  startsAtMs: number;
  hostKey: string; // only in the answer to POST /api/meetings
}

export interface SpaceParticipant {
  id: string;
  displayName: string;
  role: string;
  handRaisedAtMs: number;
}

export interface SpaceWaiting {
  id: string;
  displayName: string;
  waitingSinceMs: number;
}

export interface SpaceMeeting extends MeetingInfo {
  participants: SpaceParticipant[];
  waiting: SpaceWaiting[];
}

export interface SpaceInfo {
  spaceId: string;
  title: string;
  createdAtMs: number;
  meetings: SpaceMeeting[];
}

export interface CreatedSpace {
  spaceId: string;
  spaceKey: string;
  title: string;
}

export interface JoinLink {
  token: string;
  path: string;
  expiresAtMs: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Json = Record<string, unknown>;

async function call(method: string, path: string, body?: unknown, key = ""): Promise<Json> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  let json: unknown = null;
  try {
    json = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
  }
  return (json ?? {}) as Json;
}

// field reads a JSON field by its snake_case name or its camelCase one.
function field(o: Json, snake: string): unknown {
  if (snake in o) return o[snake];
  return o[snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
}
const str = (o: Json, k: string) => {
  const v = field(o, k);
  return typeof v === "string" ? v : "";
};
const num = (o: Json, k: string) => {
  const v = field(o, k);
  return typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : 0;
};
const list = (o: Json, k: string): Json[] => {
  const v = field(o, k);
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === "object") as Json[]) : [];
};

const MODES: AccessModeName[] = ["open", "waiting_room", "locked", "token_only"];

export function accessModeName(v: unknown): AccessModeName {
  if (typeof v === "string") {
    const s = v.toLowerCase().replace(/^access_mode_/, "");
    if ((MODES as string[]).includes(s)) return s as AccessModeName;
  }
  if (typeof v === "number" && v >= 1 && v <= 4) return MODES[v - 1];
  return "open";
}

function meeting(o: Json): MeetingInfo {
  const id = str(o, "id");
  return {
    id,
    url: str(o, "url") || `/m/${id}`,
    title: str(o, "title"),
    createdAtMs: num(o, "created_at_ms"),
    accessMode: accessModeName(field(o, "access_mode")),
    startsAtMs: num(o, "starts_at_ms"),
    hostKey: str(o, "host_key"),
  };
}

// createMeeting makes a meeting; its host key is kept in this browser
// (localStorage) so the creator joins as its host.
export async function createMeeting(title = ""): Promise<MeetingInfo> {
  const m = meeting(await call("POST", "/api/meetings", title ? { title } : {}));
  if (m.hostKey) setHostKey(m.id, m.hostKey);
  return m;
}

export async function getMeeting(id: string): Promise<MeetingInfo> {
  return meeting(await call("GET", `/api/meetings/${encodeURIComponent(id)}`));
}

export async function createSpace(title: string): Promise<CreatedSpace> {
  const o = await call("POST", "/api/spaces", { title });
  return { spaceId: str(o, "space_id"), spaceKey: str(o, "space_key"), title: str(o, "title") };
}

export async function getSpace(key: string): Promise<SpaceInfo> {
  const o = await call("GET", "/api/space", undefined, key);
  return {
    spaceId: str(o, "space_id"),
    title: str(o, "title"),
    createdAtMs: num(o, "created_at_ms"),
    meetings: list(o, "meetings").map((m) => ({
      ...meeting(m),
      participants: list(m, "participants").map((p) => ({
        id: str(p, "id"),
        displayName: str(p, "display_name"),
        role: String(field(p, "role") ?? ""),
        handRaisedAtMs: num(p, "hand_raised_at_ms"),
      })),
      waiting: list(m, "waiting").map((w) => ({ id: str(w, "id"), displayName: str(w, "display_name"), waitingSinceMs: num(w, "waiting_since_ms") })),
    })),
  };
}

export async function createSpaceMeeting(key: string, title: string, startsAtMs: number): Promise<MeetingInfo> {
  const body: Json = { title };
  if (startsAtMs > 0) body.starts_at_ms = startsAtMs;
  return meeting(await call("POST", "/api/space/meetings", body, key));
}

// admit lets waiting participants of a meeting in (deny: turns them away).
export async function admit(key: string, meetingId: string, ids: string[] | "all", deny = false): Promise<void> {
  const body: Json = ids === "all" ? { all: true } : { participant_ids: ids };
  if (deny) body.deny = true;
  await call("POST", `/api/meetings/${encodeURIComponent(meetingId)}/admit`, body, key);
}

export async function setAccess(key: string, meetingId: string, mode: AccessModeName): Promise<MeetingInfo> {
  return meeting(await call("POST", `/api/meetings/${encodeURIComponent(meetingId)}/access`, { access_mode: mode }, key));
}

// mintLink makes a signed join link (JWT) for one client of the meeting.
export async function mintLink(key: string, meetingId: string, opts: { name?: string; role?: "guest" | "host"; ttlS?: number } = {}): Promise<JoinLink> {
  const body: Json = {};
  if (opts.name) body.name = opts.name;
  if (opts.role) body.role = opts.role;
  if (opts.ttlS) body.ttl_s = opts.ttlS;
  const o = await call("POST", `/api/meetings/${encodeURIComponent(meetingId)}/links`, body, key);
  return { token: str(o, "token"), path: str(o, "path"), expiresAtMs: num(o, "expires_at_ms") };
}
