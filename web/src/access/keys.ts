// Keys this browser keeps for hosts and access (issue 11): a meeting's host
// key (from POST /api/meetings or a host link), the dashboard's space key,
// this browser's client key, and a signed join link's token. Keys are secrets:
// they live in localStorage / sessionStorage and travel only in a URL
// fragment (never sent to the server in a URL) or in a JoinRequest / an
// Authorization header.

const HOST_KEY = "huddle.hostKey.";
const SPACE_KEY = "huddle.spaceKey";
const CLIENT_KEY = "huddle.clientKey";
// A join link's token for the tab's life (sessionStorage): a reload after the
// address bar was cleaned still joins with it.
const JOIN_TOKEN = "huddle.joinToken.";
const CLIENT_KEY_BYTES = 24; // 192 random bits
const CLIENT_KEY_RE = /^[A-Za-z0-9_-]{1,64}$/;

function get(store: Storage | undefined, key: string): string {
  try {
    return store?.getItem(key) ?? "";
  } catch {
    return "";
  }
}

function set(store: Storage | undefined, key: string, value: string): void {
  try {
    if (value) store?.setItem(key, value);
    else store?.removeItem(key);
  } catch {
    /* storage unavailable: the key lives for this page only */
  }
}

const local = () => (typeof localStorage === "undefined" ? undefined : localStorage);
const session = () => (typeof sessionStorage === "undefined" ? undefined : sessionStorage);

export function hostKeyFor(meetingId: string): string {
  return get(local(), HOST_KEY + meetingId);
}

export function setHostKey(meetingId: string, key: string): void {
  set(local(), HOST_KEY + meetingId, key);
}

export function spaceKey(): string {
  return get(local(), SPACE_KEY);
}

export function setSpaceKey(key: string): void {
  set(local(), SPACE_KEY, key);
}

export function joinTokenFor(meetingId: string): string {
  return get(session(), JOIN_TOKEN + meetingId);
}

export function setJoinToken(meetingId: string, token: string): void {
  set(session(), JOIN_TOKEN + meetingId, token);
}

// base64url encodes bytes without padding.
export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// clientKey is this browser's random id (a host's Remove / Block applies to
// it), made once and kept.
export function clientKey(): string {
  const have = get(local(), CLIENT_KEY);
  if (CLIENT_KEY_RE.test(have)) return have;
  const key = base64url(crypto.getRandomValues(new Uint8Array(CLIENT_KEY_BYTES)));
  set(local(), CLIENT_KEY, key);
  return key;
}

// LinkSecrets are what a meeting link carried: "#host=<key>", "#jwt=<token>"
// or "?jwt=<token>".
export interface LinkSecrets {
  hostKey: string;
  joinToken: string;
}

// takeLinkSecrets reads the host key and join token from the address, keeps
// them (host key: localStorage per meeting; token: sessionStorage) and at once
// removes them from the address bar (history.replaceState), so they are
// neither bookmarked, shared by copy-paste, nor sent in a later request.
export function takeLinkSecrets(meetingId: string): LinkSecrets {
  const out: LinkSecrets = { hostKey: "", joinToken: "" };
  const frag = new URLSearchParams(location.hash.replace(/^#/, ""));
  const query = new URLSearchParams(location.search);
  out.hostKey = frag.get("host") ?? "";
  out.joinToken = frag.get("jwt") ?? query.get("jwt") ?? "";
  if (frag.has("host") || frag.has("jwt") || query.has("jwt")) {
    query.delete("jwt");
    const qs = query.toString();
    history.replaceState(history.state, "", `${location.pathname}${qs ? `?${qs}` : ""}`);
  }
  if (out.hostKey) setHostKey(meetingId, out.hostKey);
  if (out.joinToken) setJoinToken(meetingId, out.joinToken);
  return out;
}

// TokenClaims: the claims of a join token shown before joining (never
// trusted: the server verifies the token and its name wins).
export interface TokenClaims {
  name: string;
  role: string;
  exp: number;
}

// tokenClaims decodes a JWT's payload without verifying it (display only).
export function tokenClaims(token: string): TokenClaims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
    return {
      name: typeof json.name === "string" ? json.name : "",
      role: typeof json.role === "string" ? json.role : "",
      exp: typeof json.exp === "number" ? json.exp : 0,
    };
  } catch {
    return null;
  }
}
