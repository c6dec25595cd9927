// Sender adaptation for the full mesh: each browser encodes its camera once
// per peer, so what it captures and what it sends to each peer shrinks as the
// meeting grows (MEETING_SIZE_TABLE), and per peer follows what that peer's
// page shows of our tile (RemoteView, told over the huddle-control data
// channel): a small tile gets a smaller picture, an off-screen tile a trickle,
// and a peer whose tab is hidden gets no video at all (encoding active=false)
// until it comes back. The screen share is not adapted here (screen's part).

// RemoteView is how a remote participant's page shows our video: the tile's
// size in CSS pixels, whether it is on screen, and whether the page's tab is
// hidden (document.hidden).
export interface RemoteView {
  width: number;
  height: number;
  visible: boolean;
  hidden?: boolean;
}

// The control-channel message that carries a RemoteView ({type:"view"}).
export interface ViewMessage extends RemoteView {
  type: "view";
}

// SizeRow: what we capture and the most we send to one peer, for meetings of
// up to `upTo` participants (ourselves included).
export interface SizeRow {
  upTo: number;
  captureWidth: number; // camera capture, pixels
  captureHeight: number;
  captureFps: number;
  maxBitrate: number; // per peer, bits/s, for a tile at least captureHeight tall
  maxFramerate: number; // per peer, frames/s
}

// MEETING_SIZE_TABLE: rows by meeting size, first matching row wins. Sized
// so a 6-way mesh with every page in one browser fits in 2 cores: 30 VP8
// encodes of 270p at 15 fps instead of 30 of 720p at 30 fps.
export const MEETING_SIZE_TABLE: readonly SizeRow[] = [
  { upTo: 2, captureWidth: 1280, captureHeight: 720, captureFps: 30, maxBitrate: 1_500_000, maxFramerate: 30 },
  { upTo: 3, captureWidth: 960, captureHeight: 540, captureFps: 24, maxBitrate: 800_000, maxFramerate: 24 },
  { upTo: 4, captureWidth: 640, captureHeight: 360, captureFps: 20, maxBitrate: 500_000, maxFramerate: 20 },
  { upTo: 6, captureWidth: 480, captureHeight: 270, captureFps: 15, maxBitrate: 300_000, maxFramerate: 15 },
  { upTo: Infinity, captureWidth: 320, captureHeight: 180, captureFps: 12, maxBitrate: 150_000, maxFramerate: 12 },
];

// Heights we send a scaled picture at: the smallest one at least as tall as
// the tile (never above the capture height).
export const SEND_HEIGHT_LADDER: readonly number[] = [90, 180, 270, 360, 540, 720];
// A tile that is on the page but scrolled out of view: the lowest rung at
// OFFSCREEN_FPS, OFFSCREEN_BITRATE (a picture ready when it scrolls back).
export const OFFSCREEN_HEIGHT = 90;
export const OFFSCREEN_FPS = 5;
export const OFFSCREEN_BITRATE = 50_000;
// No peer gets less than this (bits/s) while its tile is visible.
export const MIN_BITRATE = 80_000;
// Scaling the bitrate by the pixel ratio overshoots small pictures' needs
// less than it starves them: bits/s go with pixels^BITRATE_EXPONENT.
const BITRATE_EXPONENT = 0.75;

export function sizeRow(participants: number): SizeRow {
  return MEETING_SIZE_TABLE.find((r) => participants <= r.upTo) ?? MEETING_SIZE_TABLE[MEETING_SIZE_TABLE.length - 1];
}

// EncodingPlan: the RTCRtpEncodingParameters we want on a peer's camera sender.
export interface EncodingPlan {
  active: boolean;
  scaleResolutionDownBy: number;
  maxBitrate: number;
  maxFramerate: number;
}

// planFor: what to send one peer in a meeting of `participants`, given the
// height of the picture we capture now (captureHeight, pixels; 0 = unknown,
// the row's) and how that peer shows us (undefined: not told yet, the row's
// ceiling).
export function planFor(participants: number, view: RemoteView | undefined, captureHeight = 0): EncodingPlan {
  const row = sizeRow(participants);
  const srcH = captureHeight > 0 ? captureHeight : row.captureHeight;
  if (view?.hidden) {
    return { active: false, scaleResolutionDownBy: 1, maxBitrate: OFFSCREEN_BITRATE, maxFramerate: OFFSCREEN_FPS };
  }
  let wantH = row.captureHeight;
  let fps = row.maxFramerate;
  let bitrate = row.maxBitrate;
  if (view && !view.visible) {
    wantH = OFFSCREEN_HEIGHT;
    fps = OFFSCREEN_FPS;
    bitrate = OFFSCREEN_BITRATE;
  } else if (view && view.width > 0 && view.height > 0) {
    // The tile crops a 16:9 picture to its own shape (object-fit: cover):
    // the picture must be as tall as the tile and as wide as its width.
    const need = Math.max(view.height, (view.width * 9) / 16);
    const rung = SEND_HEIGHT_LADDER.find((hh) => hh >= need) ?? SEND_HEIGHT_LADDER[SEND_HEIGHT_LADDER.length - 1];
    wantH = Math.min(rung, row.captureHeight);
    bitrate = Math.max(MIN_BITRATE, Math.round(row.maxBitrate * Math.pow(wantH / row.captureHeight, 2 * BITRATE_EXPONENT)));
  }
  const scale = Math.max(1, srcH / wantH);
  return { active: true, scaleResolutionDownBy: Math.round(scale * 100) / 100, maxBitrate: bitrate, maxFramerate: fps };
}

// applyPlan sets plan on sender's first encoding; resolves false when the
// sender has no encodings yet (before its first negotiation) or nothing changed.
export async function applyPlan(sender: RTCRtpSender, plan: EncodingPlan): Promise<boolean> {
  const params = sender.getParameters();
  const enc = params.encodings?.[0];
  if (!enc) return false;
  if (
    enc.active === plan.active &&
    enc.scaleResolutionDownBy === plan.scaleResolutionDownBy &&
    enc.maxBitrate === plan.maxBitrate &&
    enc.maxFramerate === plan.maxFramerate
  ) {
    return false;
  }
  enc.active = plan.active;
  enc.scaleResolutionDownBy = plan.scaleResolutionDownBy;
  enc.maxBitrate = plan.maxBitrate;
  enc.maxFramerate = plan.maxFramerate;
  await sender.setParameters(params);
  return true;
}

// applyCapture asks the camera for the row's resolution and frame rate
// (ideal values: a camera that cannot do them gives the nearest). Resolves
// false when the track already matches.
export async function applyCapture(track: MediaStreamTrack, participants: number): Promise<boolean> {
  const row = sizeRow(participants);
  const s = track.getSettings();
  if (s.height === row.captureHeight && s.width === row.captureWidth && Math.round(s.frameRate ?? 0) === row.captureFps) return false;
  await track.applyConstraints({
    width: { ideal: row.captureWidth },
    height: { ideal: row.captureHeight },
    frameRate: { ideal: row.captureFps },
  });
  return true;
}

// sameView: whether two views would give the same plan (small size changes
// while a tile animates do not resend).
export function sameView(a: RemoteView | undefined, b: RemoteView): boolean {
  return (
    !!a &&
    a.visible === b.visible &&
    !!a.hidden === !!b.hidden &&
    Math.abs(a.width - b.width) < VIEW_RESEND_PX &&
    Math.abs(a.height - b.height) < VIEW_RESEND_PX
  );
}
// A tile must change by this many CSS pixels to tell the sender again.
export const VIEW_RESEND_PX = 16;

// parseView checks a control message from a peer; undefined when it is not
// a well-formed view.
export function parseView(msg: unknown): RemoteView | undefined {
  if (typeof msg !== "object" || msg === null) return undefined;
  const m = msg as Record<string, unknown>;
  if (m.type !== "view") return undefined;
  const { width, height, visible, hidden } = m;
  if (typeof width !== "number" || typeof height !== "number" || typeof visible !== "boolean") return undefined;
  if (!(width >= 0 && width <= MAX_VIEW_PX && height >= 0 && height <= MAX_VIEW_PX)) return undefined;
  return { width, height, visible, hidden: hidden === true };
}
// Bound on a told tile size (CSS pixels): anything larger is garbage.
const MAX_VIEW_PX = 16_384;

// The screen share (while it takes the camera's sender) keeps its full
// resolution at SCREEN_FPS, SCREEN_BITRATE; only a hidden tab pauses it.
export const SCREEN_FPS = 15;
export const SCREEN_BITRATE = 2_500_000;

export function screenPlan(view: RemoteView | undefined): EncodingPlan {
  return { active: !view?.hidden, scaleResolutionDownBy: 1, maxBitrate: SCREEN_BITRATE, maxFramerate: SCREEN_FPS };
}
