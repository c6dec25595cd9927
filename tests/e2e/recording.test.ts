// Recordings in the browser, against the real daemons (huddle-recording
// included): Ada records the whole meeting of a call with Bob for 6 s — both
// see "Recording" with her name and read in the chat who started and stopped
// it; the recording is listed, its file plays in the Recordings panel (the
// <video> advances), lasts 5–7 s and has a video and an audio stream
// (ffprobe on the downloaded file) whose sound is Bob's (Ada's microphone is
// muted: the remote audio is mixed in); Bob sees it without Delete, Ada
// deletes it. Then a tab closed 4 s into a recording whose chunks could not be sent
// (kept in IndexedDB): opening the link again uploads them and finishes the
// recording, which holds at least its first ~2 s.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { useE2E } from "./suite.ts";
import { joinThroughUi, poll, screenshot, sleep, waitFramesFlowing, OUT_DIR, type Participant } from "./browser.ts";
import { parseRecording, type RecordingInfo } from "../../web/src/recording/api.ts";
import { RecordingState } from "../../web/src/proto.ts";

const e2e = useE2E();
const run = promisify(execFile);
const SHOT = "/tmp/recording-panel.png";

async function listed(httpUrl: string, meetingId: string): Promise<RecordingInfo[]> {
  const r = await fetch(`${httpUrl}/api/meetings/${meetingId}/recordings`);
  if (r.status !== 200) throw new Error(`GET recordings: HTTP ${r.status} ${await r.text()}`);
  const json = (await r.json()) as Record<string, unknown>[];
  assert.ok(Array.isArray(json), "the list is a JSON array");
  return json.map(parseRecording);
}

async function waitReady(httpUrl: string, meetingId: string, rid: string, timeoutMs: number): Promise<RecordingInfo> {
  return poll(
    `recording ${rid} READY`,
    async () => {
      const rec = (await listed(httpUrl, meetingId)).find((r) => r.id === rid);
      if (rec?.state === RecordingState.FAILED) throw new Error(`recording failed: ${rec.error}`);
      return rec?.state === RecordingState.READY ? rec : undefined;
    },
    timeoutMs,
    500,
  );
}

function recorderState(p: Participant): Promise<{ state: string; rid: string; chunks: number }> {
  return p.page.evaluate(() => window.huddle.recording);
}

function queued(page: Page, rid: string) {
  return page.evaluate((rid) => window.huddle.recordingQueue.find((e) => e.rid === rid) ?? null, rid);
}

// indicator: the text of the "Recording" status on p's page ("" when hidden).
async function indicator(p: Participant): Promise<string> {
  const el = p.page.locator(".rec-indicator");
  return (await el.isVisible()) ? ((await el.textContent()) ?? "") : "";
}

function chatTexts(p: Participant): Promise<string[]> {
  return p.page.evaluate(() => (window.huddle.chat?.messages ?? []).map((m) => `${m.senderName}: ${m.text}`));
}

// maxVolume: the loudest sample of file's audio, dBFS (-91 is silence).
async function maxVolume(file: string): Promise<number> {
  const { stderr } = await run("ffmpeg", ["-nostats", "-i", file, "-af", "volumedetect", "-f", "null", "-"], { timeout: 20_000 });
  const m = /max_volume: (-?[\d.]+) dB/.exec(stderr);
  if (!m) throw new Error(`no volumedetect result in: ${stderr.slice(-400)}`);
  return Number(m[1]);
}

async function ffprobe(file: string): Promise<{ duration: number; streams: Array<{ codec_type: string; codec_name: string }> }> {
  const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name", "-of", "json", file], { timeout: 20_000 });
  const j = JSON.parse(stdout) as { format: { duration: string }; streams: Array<{ codec_type: string; codec_name: string }> };
  return { duration: Number(j.format.duration), streams: j.streams };
}

// playInPanel plays the recording's <video> in the open Recordings panel and
// returns what the element reports once it advanced.
async function playInPanel(page: Page, rid: string) {
  const video = page.locator(`.rec-item[data-recording-id="${rid}"] video`);
  await video.waitFor({ timeout: 10_000 });
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true; // headless: no audio device needed to play
    void v.play();
  });
  const first = await poll(
    "the recording's <video> to have data",
    () => video.evaluate((v: HTMLVideoElement) => (v.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && !v.paused ? v.currentTime : undefined)),
    15_000,
  );
  return poll(
    "the recording's <video> to advance",
    () =>
      video.evaluate((v: HTMLVideoElement, t0: number) => {
        const m = v as HTMLVideoElement & { webkitAudioDecodedByteCount?: number; webkitVideoDecodedByteCount?: number };
        if (v.currentTime < t0 + 1) return undefined;
        return {
          readyState: v.readyState,
          currentTime: v.currentTime,
          duration: v.duration,
          videoWidth: v.videoWidth,
          videoHeight: v.videoHeight,
          audioBytes: m.webkitAudioDecodedByteCount ?? -1,
          videoBytes: m.webkitVideoDecodedByteCount ?? -1,
        };
      }, first),
    15_000,
  );
}

e2e.test(
  "recording: the whole meeting of a 2-way call — indicator and chat lines for both, listed, plays, 5–7 s with audio and video, delete by its recorder",
  async ({ stack, open, createMeeting }) => {
    assert.ok(stack.hasRecording, "huddle-recording must be built for the recording browser test");
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}`);
    const b = await open("Bob", `/m/${id}`);
    await joinThroughUi(a);
    await joinThroughUi(b);
    const [aid, bid] = await Promise.all([a, b].map((p) => p.page.evaluate(() => window.huddle.participantId)));
    await waitFramesFlowing(a, [bid], 30_000);
    await waitFramesFlowing(b, [aid], 30_000);

    // Ada mutes her microphone: whatever the recording sounds is Bob's.
    await a.page.getByRole("button", { name: "Mute microphone" }).click();
    // Record → Whole meeting.
    const record = a.page.getByRole("button", { name: "Record", exact: true });
    await record.click({ timeout: 10_000 });
    await a.page.getByRole("menuitem", { name: "Whole meeting" }).click({ timeout: 5_000 });
    const started = await poll("Ada recording", async () => {
      const s = await recorderState(a);
      return s.state === "recording" ? s : undefined;
    }, 10_000);
    const t0 = Date.now();
    const rid = started.rid;
    assert.match(rid, /^[A-Za-z0-9_-]{22}$/, "rid: 22 base64url characters");

    // Both see who records.
    await poll("Ada's indicator", async () => ((await indicator(a)).includes("Recording") && (await indicator(a)).includes("Ada") ? true : undefined), 10_000);
    await poll("Bob's indicator names Ada", async () => ((await indicator(b)).includes("Recording") && (await indicator(b)).includes("Ada") ? true : undefined), 10_000);
    await screenshot(b, "e2e-recording-indicator-bob");

    await sleep(Math.max(0, 6_000 - (Date.now() - t0)));
    await a.page.getByRole("button", { name: "Stop recording", exact: true }).click({ timeout: 5_000 });
    await poll("Ada stopped", async () => ((await recorderState(a)).state === "idle" ? true : undefined), 10_000);
    await poll("the indicator gone for both", async () => ((await indicator(a)) === "" && (await indicator(b)) === "" ? true : undefined), 10_000);

    // The chat says who started and stopped, for both.
    for (const p of [a, b]) {
      await poll(`${p.name} reads who started and stopped`, async () => {
        const t = await chatTexts(p);
        return t.includes("Ada: Ada started recording the whole meeting.") && t.includes("Ada: Ada stopped recording.") ? true : undefined;
      }, 15_000);
    }

    // Uploaded and finished from the queue, then assembled by the server.
    const q = await poll("Ada's queue finished the recording", async () => {
      const e = await queued(a.page, rid);
      return e?.finished ? e : undefined;
    }, 30_000);
    assert.equal(q.uploaded, q.chunks, "every chunk acknowledged");
    assert.ok(q.chunks >= 3, `about 6 s in 2 s chunks (got ${q.chunks})`);
    const rec = await waitReady(stack.httpUrl, id, rid, 60_000);
    assert.equal(rec.recorderName, "Ada");
    assert.ok(rec.durationMs >= 5_000 && rec.durationMs <= 7_000, `duration ${rec.durationMs} ms within 5–7 s`);
    assert.ok(rec.bytes > 10_000, `size ${rec.bytes} bytes`);

    // Listed in Ada's Recordings panel, and it plays there.
    await a.page.getByRole("button", { name: "Recordings", exact: true }).click();
    const aItem = a.page.locator(`.rec-item[data-recording-id="${rid}"]`);
    await poll("Ada's panel lists it READY", async () => ((await aItem.getAttribute("data-state")) === "READY" ? true : undefined), 20_000);
    const itemText = (await aItem.textContent()) ?? "";
    assert.match(itemText, /Whole meeting · Ada/);
    assert.match(itemText, /0:0[5-7]/, `duration shown (${itemText})`);
    const played = await playInPanel(a.page, rid);
    assert.ok(played.readyState >= 2, "the video has data");
    assert.ok(played.duration >= 5 && played.duration <= 7, `the file's duration ${played.duration} s`);
    assert.ok(played.videoWidth > 0 && played.videoHeight > 0, "it has a picture");
    assert.ok(played.videoBytes > 0 && played.audioBytes > 0, `video and audio decoded (${played.videoBytes}, ${played.audioBytes} bytes)`);
    await screenshot(a, "e2e-recording-call-panel");
    assert.equal(await aItem.getByRole("link", { name: "Download" }).count(), 1, "a Download link");

    // The downloaded file: one WebM with a video and an audio stream.
    const href = await aItem.getByRole("link", { name: "Download" }).getAttribute("href");
    assert.ok(href, "the Download link has an href");
    const res = await fetch(new URL(href, stack.httpUrl));
    assert.equal(res.status, 200);
    mkdirSync(OUT_DIR, { recursive: true });
    const file = join(OUT_DIR, "e2e-recording-meeting.webm");
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const probe = await ffprobe(file);
    const kinds = probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`);
    assert.ok(kinds.some((k) => /^video:vp[89]$/.test(k)), `a VP8/VP9 video stream (${kinds.join(", ")})`);
    assert.ok(kinds.includes("audio:opus"), `an Opus audio stream (${kinds.join(", ")})`);
    assert.ok(probe.duration >= 5 && probe.duration <= 7, `ffprobe duration ${probe.duration} s`);
    const loudest = await maxVolume(file);
    assert.ok(loudest > -50, `Bob's (remote) audio is in the mix: max volume ${loudest} dB`);

    // Bob sees it too, without Delete.
    await b.page.getByRole("button", { name: "Recordings", exact: true }).click();
    const bItem = b.page.locator(`.rec-item[data-recording-id="${rid}"]`);
    await poll("Bob's panel lists it READY", async () => ((await bItem.getAttribute("data-state")) === "READY" ? true : undefined), 20_000);
    assert.equal(await bItem.getByRole("button", { name: "Delete" }).count(), 0, "only the recorder may delete");

    // After Leave, the "You left" screen's Recordings dialog plays it: the screenshot.
    await a.page.getByRole("button", { name: "Leave" }).click();
    await a.page.getByRole("heading", { name: "You left the meeting" }).waitFor({ timeout: 10_000 });
    await a.page.getByRole("button", { name: "Recordings", exact: true }).click();
    const dialog = a.page.getByRole("dialog", { name: "Recordings" });
    await dialog.waitFor({ timeout: 5_000 });
    await playInPanel(a.page, rid);
    copyFileSync(await screenshot(a, "e2e-recording-panel"), SHOT);

    // Ada deletes it: gone from the list.
    const leftItem = dialog.locator(`.rec-item[data-recording-id="${rid}"]`);
    await leftItem.getByRole("button", { name: "Delete" }).click();
    await leftItem.getByRole("button", { name: "Delete for everyone" }).click();
    await poll("the recording deleted", async () => ((await listed(stack.httpUrl, id)).some((r) => r.id === rid) ? undefined : true), 10_000);
    await poll("gone from Ada's dialog", async () => ((await leftItem.count()) === 0 ? true : undefined), 5_000);
  },
  240_000,
);

e2e.test(
  "recording: a tab closed 4 s into a recording — reopening the link uploads the queued chunks and finishes it",
  async ({ stack, open, createMeeting }) => {
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}`);
    await joinThroughUi(a);
    // No chunk reaches the server from this tab: every one stays queued.
    let refused = 0;
    await a.context.route("**/api/meetings/*/recordings/*/chunks/*", (route) => {
      refused++;
      return route.abort("connectionfailed");
    });
    await a.page.getByRole("button", { name: "Record", exact: true }).click({ timeout: 10_000 });
    await a.page.getByRole("menuitem", { name: "My camera" }).click({ timeout: 5_000 });
    const { rid } = await poll("Ada recording", async () => {
      const s = await recorderState(a);
      return s.state === "recording" ? s : undefined;
    }, 10_000);
    await sleep(4_000);
    // 4 s in, the second chunk (2–4 s) is due: close once it is stored.
    const before = await poll("two chunks queued", async () => {
      const e = await queued(a.page, rid);
      return e && e.chunks >= 2 ? e : undefined;
    }, 3_000, 50);
    assert.equal(before.uploaded, 0, `chunks queued, none sent: ${JSON.stringify(before)}`);
    assert.ok(refused >= 1, "the tab tried to upload");
    await a.page.close();
    await a.context.unrouteAll({ behavior: "ignoreErrors" });
    const gone = (await listed(stack.httpUrl, id)).find((r) => r.id === rid);
    assert.equal(gone?.state, RecordingState.RECORDING, "the server has the recording, without its chunks");

    // The next visit to the link finishes it, well before the server's idle timeout would.
    const reopened = Date.now();
    const page = await a.context.newPage();
    page.on("console", (m) => a.console.push(`[Ada again] ${m.type()}: ${m.text()}`));
    await page.goto(`${stack.httpUrl}/m/${id}`, { timeout: 20_000 });
    const q = await poll("the reopened page finished the queue", async () => {
      const e = await queued(page, rid);
      return e?.finished ? e : undefined;
    }, 30_000);
    assert.ok(q.chunks >= before.chunks, `every queued chunk sent (${q.chunks} >= ${before.chunks})`);
    const rec = await waitReady(stack.httpUrl, id, rid, 60_000);
    assert.ok(Date.now() - reopened < 60_000, "finished by the page, not by the idle timeout");
    assert.ok(rec.chunks >= 2 && rec.durationMs >= 1_800, `holds the first ~2 s (${rec.chunks} chunks, ${rec.durationMs} ms)`);

    // The pre-join page's Recordings dialog lists it and it plays.
    await page.getByRole("button", { name: "Recordings", exact: true }).click();
    await poll("listed READY on the pre-join page", async () => ((await page.locator(`.rec-item[data-recording-id="${rid}"]`).getAttribute("data-state")) === "READY" ? true : undefined), 20_000);
    await playInPanel(page, rid).catch(async (e: Error) => {
      await screenshot(page, "FAILED-recording-reopened");
      throw e;
    });
  },
  180_000,
);
