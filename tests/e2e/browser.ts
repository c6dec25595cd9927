// Browser helpers for the e2e tests: headless Debian Chromium through
// playwright-core with fake camera/microphone/screen, one context per
// participant, and readers for window.huddle (the web client's debug hook).
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { appendFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const OUT_DIR = resolve("out");

export const CHROMIUM_ARGS = [
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--allow-loopback-in-peer-connection",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  // Screen capture without a picker (getDisplayMedia auto-accepts the screen).
  "--auto-select-desktop-capture-source=Entire screen",
  "--autoplay-policy=no-user-gesture-required",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.HUDDLE_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

export interface Participant {
  name: string;
  context: BrowserContext;
  page: Page;
  console: string[];
}

// openParticipant opens a new context (own storage, own fake devices) on url.
export async function openParticipant(browser: Browser, name: string, url: string, origin: string): Promise<Participant> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await context.grantPermissions(["camera", "microphone", "clipboard-read", "clipboard-write"], { origin });
  const page = await context.newPage();
  const log: string[] = [];
  page.on("console", (m) => log.push(`[${name}] ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push(`[${name}] pageerror: ${e.message}`));
  // The gateway's Content-Security-Policy must not block anything the app
  // does: every violation is logged (suite.ts fails the test on one).
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  await page.goto(url, { timeout: 20_000 });
  return { name, context, page, console: log };
}

// joinThroughUi types the name on the pre-join screen and clicks Join; it
// returns Date.now() at the click.
export async function joinThroughUi(p: Participant): Promise<number> {
  const nameBox = p.page.getByLabel("Your name");
  await nameBox.waitFor({ timeout: 15_000 });
  await nameBox.fill(p.name);
  const join = p.page.getByRole("button", { name: "Join now", exact: true });
  await join.waitFor({ timeout: 10_000 });
  const t = Date.now();
  await join.click({ timeout: 10_000 });
  await p.page.getByRole("button", { name: "Leave" }).waitFor({ timeout: 20_000 });
  return t;
}

export interface VideoStats {
  framesDecoded: number;
  framesReceived: number; // frames that arrived (a starved page decodes them later)
  bytesReceived: number;
}

// inboundVideo reads inbound-rtp video stats of every peer connection, keyed
// by remote participant id.
export function inboundVideo(page: Page): Promise<Record<string, VideoStats>> {
  return page.evaluate(async () => {
    const out: Record<string, { framesDecoded: number; framesReceived: number; bytesReceived: number }> = {};
    for (const [id, pc] of window.huddle.peers) {
      const stats = await pc.getStats();
      let frames = 0;
      let received = 0;
      let bytes = 0;
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") {
          frames += s.framesDecoded ?? 0;
          received += s.framesReceived ?? 0;
          bytes += s.bytesReceived ?? 0;
        }
      });
      out[id] = { framesDecoded: frames, framesReceived: received, bytesReceived: bytes };
    }
    return out;
  });
}

// selectedCandidateTypes: local/remote candidate types of the selected pair per peer.
export function selectedCandidateTypes(page: Page): Promise<Record<string, { local: string; remote: string } | null>> {
  return page.evaluate(async () => {
    const out: Record<string, { local: string; remote: string } | null> = {};
    for (const [id, pc] of window.huddle.peers) {
      const stats = await pc.getStats();
      let pairId: string | undefined;
      stats.forEach((s) => {
        if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      if (!pairId) {
        stats.forEach((s) => {
          if (s.type === "candidate-pair" && s.state === "succeeded" && (s.nominated || s.selected)) pairId = s.id;
        });
      }
      const pair = pairId ? stats.get(pairId) : undefined;
      out[id] = pair
        ? { local: stats.get(pair.localCandidateId)?.candidateType ?? "?", remote: stats.get(pair.remoteCandidateId)?.candidateType ?? "?" }
        : null;
    }
    return out;
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// poll runs check until it returns a value (not undefined) or timeoutMs passes.
export async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await sleep(intervalMs);
  }
}

// waitFramesFlowing waits until framesDecoded from every expected peer grows
// between two samples.
export async function waitFramesFlowing(p: Participant, peers: string[], timeoutMs: number): Promise<Record<string, VideoStats>> {
  let prev = await inboundVideo(p.page);
  return poll(
    `${p.name}: video frames decoded from ${peers.length} peer(s)`,
    async () => {
      await sleep(400);
      const cur = await inboundVideo(p.page);
      const ok = peers.every((id) => (cur[id]?.framesDecoded ?? 0) > (prev[id]?.framesDecoded ?? 0) && (prev[id]?.framesDecoded ?? 0) > 0);
      prev = cur;
      return ok ? cur : undefined;
    },
    timeoutMs,
    0,
  );
}

// createMeetingThroughUi clicks New meeting on the landing page, as a user
// starting a meeting does, and returns the new meeting's id once the
// pre-join screen is up.
export async function createMeetingThroughUi(p: Participant): Promise<string> {
  await p.page.getByRole("button", { name: "New meeting" }).click({ timeout: 10_000 });
  await p.page.waitForURL(/\/m\/[A-Za-z0-9_-]{16,}$/, { timeout: 10_000 });
  await p.page.getByLabel("Your name").waitFor({ timeout: 15_000 });
  const m = /\/m\/([A-Za-z0-9_-]+)$/.exec(new URL(p.page.url()).pathname);
  if (!m) throw new Error(`${p.name}: no meeting id in ${p.page.url()}`);
  return m[1];
}

// LocalMediaOn is what a participant really sends: a live, enabled camera
// (or a screen), and a live, enabled microphone.
export interface LocalMediaOn {
  id: string;
  name: string;
  video: boolean;
  audio: boolean;
}

export function localMediaOn(p: Participant): Promise<LocalMediaOn> {
  // No named functions inside evaluate(): tsx would wrap them in a __name()
  // helper the page does not have.
  return p.page.evaluate((name) => {
    const m = window.huddle.session?.media;
    const [camera, screen, audio] = [m?.camera, m?.screen, m?.audio].map((t) => !!t && t.readyState === "live" && t.enabled);
    return { id: window.huddle.participantId, name, video: camera || screen, audio };
  }, p.name);
}

// TileShown is what a remote participant's tile shows on a page.
export interface TileShown {
  videoWidth: number;
  playing: boolean;      // not paused, a frame to show
  videoVisible: boolean; // the <video> is rendered, not hidden behind the avatar
  avatarVisible: boolean;
  micMutedVisible: boolean; // the "Microphone muted" indicator
}

// tilesShown reads the tile of each participant id on page (null: no tile).
export function tilesShown(page: Page, ids: string[]): Promise<Record<string, TileShown | null>> {
  return page.evaluate((ids) => {
    const out: Record<string, TileShown | null> = {};
    for (const id of ids) {
      const tile = document.querySelector(`.tile[data-participant-id="${CSS.escape(id)}"]`);
      const video = tile?.querySelector("video") ?? null;
      if (!tile || !video) {
        out[id] = null;
        continue;
      }
      const [videoVisible, avatarVisible, micMutedVisible] = [video, tile.querySelector(".tile-avatar"), tile.querySelector(".tile-mic")].map((el) => {
        if (!el) return false;
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
      });
      out[id] = {
        videoWidth: video.videoWidth,
        playing: !video.paused && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA,
        videoVisible,
        avatarVisible,
        micMutedVisible,
      };
    }
    return out;
  }, ids);
}

// tileMismatch says how a tile differs from what its participant sends, or
// returns "" when it matches: video on -> a playing, visible <video> with
// frames and no avatar; video off -> the avatar; the muted-mic indicator
// exactly when the microphone is off.
export function tileMismatch(want: LocalMediaOn, got: TileShown | null): string {
  if (!got) return `${want.name}: no tile`;
  const bad: string[] = [];
  if (want.video) {
    if (got.videoWidth <= 0) bad.push("videoWidth 0");
    if (!got.playing) bad.push("video not playing");
    if (!got.videoVisible) bad.push("video hidden");
    if (got.avatarVisible) bad.push("avatar shown");
  } else if (!got.avatarVisible) {
    bad.push("camera off but no avatar");
  }
  if (got.micMutedVisible === want.audio) bad.push(want.audio ? "mic on but shown muted" : "mic off but not shown muted");
  return bad.length ? `${want.name} (${want.id}): ${bad.join(", ")}` : "";
}

// waitTilesShowMedia waits until viewer's page shows every one of others as
// they really send (tileMismatch), and fails naming every mismatch left.
export async function waitTilesShowMedia(viewer: Participant, others: Participant[], timeoutMs: number): Promise<void> {
  const wants = await Promise.all(others.map(localMediaOn));
  const unjoined = wants.filter((w) => !w.id).map((w) => w.name);
  if (unjoined.length) throw new Error(`waitTilesShowMedia: ${unjoined.join(", ")} not in the call`);
  await poll(
    `${viewer.name}'s tiles to show ${others.map((o) => o.name).join(", ")} as they send`,
    async () => {
      const got = await tilesShown(viewer.page, wants.map((w) => w.id));
      const bad = wants.map((w) => tileMismatch(w, got[w.id])).filter((m) => m !== "");
      if (bad.length) throw new Error(bad.join("; "));
      return true;
    },
    timeoutMs,
  );
}

export async function screenshot(p: Participant | Page, name: string): Promise<string> {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}.png`);
  const page = "page" in p ? p.page : p;
  await page.screenshot({ path: file });
  return file;
}

export async function closeAll(parts: Participant[]): Promise<void> {
  await Promise.allSettled(parts.map((p) => p.context.close()));
}

// metric prints a "METRIC ..." line at the start of a line of the test run's
// output, and appends it to out/metrics.txt. Under `node --test` a test file
// runs in a child process whose output the runner re-prints as "# ..."
// diagnostics, so the line also goes straight to the runner's stdout.
export function metric(line: string): void {
  const text = `METRIC ${line}\n`;
  mkdirSync(OUT_DIR, { recursive: true });
  appendFileSync(join(OUT_DIR, "metrics.txt"), `${new Date().toISOString()} ${text}`);
  try {
    if (process.env.NODE_TEST_CONTEXT) {
      process.stdout.write(text); // as "# METRIC ..." in the runner's report
      appendFileSync(`/proc/${process.ppid}/fd/1`, text);
      return;
    }
  } catch {
    /* not Linux, or the runner's stdout is gone: fall through */
  }
  process.stdout.write(text);
}
