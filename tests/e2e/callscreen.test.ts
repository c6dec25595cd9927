// The call screen (issue 12): a shared screen travels beside the camera (the
// other side decodes two video tracks from the presenter), the speaking
// participant gets the highlight (a sine tone as one browser's fake
// microphone, silence as the other's), Ctrl+D / Ctrl+E / ? shortcuts, Pin and
// the Grid / Speaker layouts, tiles that do not re-render on signaling
// traffic, the connection details popover with the candidate type, and a
// phone-size grid. Screenshots go to tests/out/callscreen-*.png.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { useE2E, participantId } from "./suite.ts";
import { CHROMIUM_ARGS, OUT_DIR, closeAll, joinThroughUi, openParticipant, poll, screenshot, sleep, waitFramesFlowing, type Participant } from "./browser.ts";

const e2e = useE2E();

// Per inbound video RTP stream from one peer: framesDecoded, by track id.
function inboundVideoStreams(page: Page, peer: string): Promise<Record<string, number>> {
  return page.evaluate(async (peer) => {
    const pc = window.huddle.peers.get(peer);
    const out: Record<string, number> = {};
    if (!pc) return out;
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") out[s.id] = s.framesDecoded ?? 0;
    });
    return out;
  }, peer);
}

function debug(page: Page) {
  return page.evaluate(() => window.huddle.callScreen);
}

// writeWav writes seconds of 48 kHz mono 16-bit PCM: a sine of hz (0: silence).
function writeWav(path: string, hz: number, seconds: number): void {
  const rate = 48_000;
  const n = rate * seconds;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVE", 8);
  buf.write("fmt ", 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(hz ? Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 0.5 * 32767) : 0, 44 + i * 2);
  writeFileSync(path, buf);
}

e2e.test("a shared screen travels beside the camera: the other side decodes two video tracks", async ({ open, createMeeting }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  await joinThroughUi(a);
  await joinThroughUi(b);
  const idA = await participantId(a);
  await waitFramesFlowing(b, [idA], 30_000);
  await a.page.getByRole("button", { name: "Share screen" }).click();
  await a.page.getByRole("button", { name: "Stop sharing" }).waitFor({ timeout: 10_000 });
  // Two inbound video RTP streams from Ada, both decoding more and more frames.
  let prev = await inboundVideoStreams(b.page, idA);
  await poll(
    "Bob decodes Ada's camera and screen",
    async () => {
      await sleep(500);
      const cur = await inboundVideoStreams(b.page, idA);
      const growing = Object.keys(cur).filter((k) => cur[k] > (prev[k] ?? 0) && (prev[k] ?? 0) > 0);
      prev = cur;
      return growing.length >= 2 ? growing : undefined;
    },
    30_000,
    0,
  );
  // Ada's screen is a tile of its own, featured, with her camera beside it.
  const screenTile = b.page.locator(`.tile-screen[data-screen-of="${idA}"]`);
  await screenTile.waitFor({ state: "visible", timeout: 10_000 });
  await poll("the screen tile plays", async () => ((await screenTile.locator("video").evaluate((v: HTMLVideoElement) => v.videoWidth)) > 0 ? true : undefined), 10_000);
  const camTile = b.page.locator(`.tile[data-participant-id="${idA}"]`);
  assert.ok((await camTile.locator("video").evaluate((v: HTMLVideoElement) => v.videoWidth)) > 0, "Ada's camera still plays");
  const d = await debug(b.page);
  assert.equal(d.featured, `screen:${idA}`);
  assert.equal(d.arrangement, "side");
  const [sBox, cBox] = [await screenTile.boundingBox(), await camTile.boundingBox()];
  assert.ok(sBox && cBox && sBox.width > cBox.width * 2, `the screen is large, the camera small: ${JSON.stringify({ sBox, cBox })}`);
  await screenTile.getByRole("button", { name: "Full screen" }).waitFor({ state: "attached" });
  await sleep(1500); // a few frames of the (moving) fake screen
  await screenshot(b, "callscreen-share");
  // Someone joining while Ada shares gets her screen too (her new peer
  // connection starts with the screen's transceiver).
  const c = await open("Cleo", `/m/${id}`);
  await joinThroughUi(c);
  let prevC = await inboundVideoStreams(c.page, idA);
  await poll(
    "Cleo, joining late, decodes Ada's camera and screen",
    async () => {
      await sleep(500);
      const cur = await inboundVideoStreams(c.page, idA);
      const growing = Object.keys(cur).filter((k) => cur[k] > (prevC[k] ?? 0) && (prevC[k] ?? 0) > 0);
      prevC = cur;
      return growing.length >= 2 ? growing : undefined;
    },
    30_000,
    0,
  );
  await c.page.locator(`.tile-screen[data-screen-of="${idA}"]`).waitFor({ state: "visible", timeout: 10_000 });
  // The browser's own "Stop sharing" bar ends the track: the screen tile goes.
  await a.page.evaluate(() => window.huddle.session?.media.screen?.dispatchEvent(new Event("ended")));
  await screenTile.waitFor({ state: "detached", timeout: 10_000 });
  await a.page.getByRole("button", { name: "Share screen" }).waitFor({ timeout: 10_000 });
  assert.equal((await debug(b.page)).featured, "");
});

e2e.test("the speaking participant gets the highlight (tone vs silence as fake microphones)", async ({ stack, createMeeting }) => {
  const dir = join(OUT_DIR, "callscreen-audio");
  mkdirSync(dir, { recursive: true });
  const tone = join(dir, "tone.wav");
  const silence = join(dir, "silence.wav");
  writeWav(tone, 440, 10);
  writeWav(silence, 0, 10);
  const id = await createMeeting();
  // The fake audio file is a browser flag: one Chromium per participant.
  const browsers: Browser[] = [];
  const parts: Participant[] = [];
  try {
    for (const file of [tone, silence]) {
      browsers.push(
        await chromium.launch({
          executablePath: process.env.HUDDLE_CHROMIUM ?? "/usr/bin/chromium",
          headless: true,
          args: [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${file}`],
          timeout: 30_000,
        }),
      );
    }
    const talker = await openParticipant(browsers[0], "Tina", `${stack.httpUrl}/m/${id}`, stack.httpUrl);
    parts.push(talker);
    const quiet = await openParticipant(browsers[1], "Quentin", `${stack.httpUrl}/m/${id}`, stack.httpUrl);
    parts.push(quiet);
    await joinThroughUi(talker);
    await joinThroughUi(quiet);
    const idT = await participantId(talker);
    const idQ = await participantId(quiet);
    const tileOfT = quiet.page.locator(`.tile[data-participant-id="${idT}"]`);
    await tileOfT.and(quiet.page.locator('[data-speaking="true"]')).waitFor({ timeout: 30_000 });
    assert.equal(await quiet.page.evaluate(() => window.huddle.session?.activeSpeakerId), idT);
    // The silent one never gets it, on either page.
    await sleep(2000);
    assert.equal(await talker.page.locator(`.tile[data-participant-id="${idQ}"]`).getAttribute("data-speaking"), "false");
    assert.equal(await quiet.page.locator(".tile-self").getAttribute("data-speaking"), "false");
    assert.equal(await tileOfT.getAttribute("data-speaking"), "true");
    // The ring is visible: drawn over the video by the tile's ::after.
    assert.equal(await tileOfT.evaluate((el) => getComputedStyle(el, "::after").opacity), "1");
    // Speaker layout puts the speaker large.
    await quiet.page.getByRole("button", { name: "Speaker" }).click();
    await poll("Tina featured", async () => ((await debug(quiet.page)).featured === idT ? true : undefined), 5_000);
    await screenshot(quiet, "callscreen-speaker");
    // Muted, the highlight goes.
    await talker.page.getByRole("button", { name: "Mute microphone" }).click();
    await tileOfT.and(quiet.page.locator('[data-speaking="false"]')).waitFor({ timeout: 15_000 });
    const csp = parts.flatMap((p) => p.console.filter((l) => /Content Security Policy/i.test(l)));
    assert.deepEqual(csp, []);
  } catch (e) {
    for (const p of parts) console.error(p.console.slice(-30).join("\n"));
    throw e;
  } finally {
    await closeAll(parts);
    for (const b of browsers) await b.close().catch(() => {});
  }
}, 150_000);

e2e.test("shortcuts, pin, layouts, no re-render on signaling, connection details, phone grid", async ({ open, createMeeting }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  await joinThroughUi(a);
  await joinThroughUi(b);
  const [idA, idB] = [await participantId(a), await participantId(b)];
  await waitFramesFlowing(b, [idA], 30_000);
  await waitFramesFlowing(a, [idB], 30_000);

  // Ctrl+D: microphone; Ctrl+E: camera (the track's enabled follows).
  await a.page.locator("body").click({ position: { x: 5, y: 5 } });
  await a.page.keyboard.press("Control+d");
  await a.page.getByRole("button", { name: "Unmute microphone" }).waitFor({ timeout: 5_000 });
  assert.equal(await a.page.getByRole("button", { name: "Unmute microphone" }).getAttribute("aria-pressed"), "true");
  assert.equal(await a.page.evaluate(() => window.huddle.session?.media.audio?.enabled), false);
  // Each change reaches Bob before the next (media_state requests sent back
  // to back may be applied out of order by the server: see the report).
  const tileOfA = (attr: string) => b.page.locator(`.tile[data-participant-id="${idA}"][${attr}]`);
  await tileOfA('data-audio-muted="true"').waitFor({ timeout: 10_000 });
  await a.page.keyboard.press("Control+d");
  await a.page.getByRole("button", { name: "Mute microphone" }).waitFor({ timeout: 5_000 });
  assert.equal(await a.page.evaluate(() => window.huddle.session?.media.audio?.enabled), true);
  await tileOfA('data-audio-muted="false"').waitFor({ timeout: 10_000 });
  await a.page.keyboard.press("Control+e");
  await a.page.getByRole("button", { name: "Turn on camera" }).waitFor({ timeout: 5_000 });
  assert.equal(await a.page.evaluate(() => window.huddle.session?.media.camera?.enabled), false);
  await b.page.locator(`.tile[data-participant-id="${idA}"][data-video-muted="true"]`).waitFor({ timeout: 10_000 });
  await a.page.keyboard.press("Control+e");
  await a.page.getByRole("button", { name: "Turn off camera" }).waitFor({ timeout: 5_000 });
  assert.equal(await a.page.evaluate(() => window.huddle.session?.media.camera?.enabled), true);
  // `?` lists them; typed in the chat it is just text.
  await a.page.keyboard.press("?");
  const help = a.page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await help.waitFor({ timeout: 5_000 });
  assert.match((await help.textContent()) ?? "", /Ctrl.*D[\s\S]*Ctrl.*E/);
  await help.getByRole("button", { name: "Close" }).click();
  await help.waitFor({ state: "hidden" });
  await a.page.getByRole("button", { name: /Show chat/ }).click();
  const box = a.page.getByRole("textbox").first();
  await box.click();
  await a.page.keyboard.press("?");
  await a.page.keyboard.press("Control+d");
  await sleep(300);
  assert.equal(await help.isVisible(), false, "? in the chat box opens nothing");
  await a.page.getByRole("button", { name: "Mute microphone" }).waitFor({ timeout: 2_000 });
  await a.page.getByRole("button", { name: "Hide chat" }).click();

  // Pin Ada on Bob's page: featured; Unpin: back to the grid.
  const pin = b.page.getByRole("button", { name: "Pin Ada", exact: true });
  await pin.click();
  const unpin = b.page.getByRole("button", { name: "Unpin Ada", exact: true });
  await unpin.waitFor({ timeout: 5_000 });
  assert.equal(await unpin.getAttribute("aria-pressed"), "true");
  assert.equal((await debug(b.page)).featured, idA);
  await unpin.click();
  await pin.waitFor({ timeout: 5_000 });
  assert.equal((await debug(b.page)).featured, "");
  // Layouts: Speaker features the (only) remote, Grid none.
  const speaker = b.page.getByRole("button", { name: "Speaker", exact: true });
  const gridBtn = b.page.getByRole("button", { name: "Grid", exact: true });
  await speaker.click();
  assert.equal(await speaker.getAttribute("aria-pressed"), "true");
  assert.equal(await gridBtn.getAttribute("aria-pressed"), "false");
  assert.equal((await debug(b.page)).featured, idA);
  await gridBtn.click();
  assert.equal(await gridBtn.getAttribute("aria-pressed"), "true");
  assert.equal((await debug(b.page)).featured, "");

  // Signaling traffic (ICE restarts: offers, answers, candidates) re-renders no tile.
  await sleep(1000);
  const before = await debug(b.page);
  const ufrag = (p: Page) => p.evaluate((peer) => /a=ice-ufrag:(\S+)/.exec(window.huddle.peers.get(peer)?.remoteDescription?.sdp ?? "")?.[1] ?? "", idA);
  const ufrag0 = await ufrag(b.page);
  for (let i = 0; i < 3; i++) {
    const cur = await ufrag(b.page);
    await a.page.evaluate(() => window.huddle.peers.forEach((pc) => pc.restartIce()));
    await poll("Bob applied Ada's ICE restart", async () => ((await ufrag(b.page)) !== cur ? true : undefined), 10_000);
  }
  assert.notEqual(await ufrag(b.page), ufrag0);
  await sleep(1000);
  const after = await debug(b.page);
  assert.equal(after.tileCreates, before.tileCreates, "no tile made");
  assert.equal(after.tileRenders, before.tileRenders, "no tile re-rendered");
  assert.equal(after.layouts, before.layouts, "no layout run");
  await waitFramesFlowing(b, [idA], 20_000);

  // Connection details: the numbers and the candidate pair's type.
  await b.page.getByRole("button", { name: "Connection details for Ada" }).click();
  const details = b.page.getByRole("dialog", { name: "Connection details for Ada" });
  await details.waitFor({ timeout: 5_000 });
  await poll("details show a candidate type", async () => (/(host|srflx|prflx|relay) ↔ (host|srflx|prflx|relay)/.test((await details.textContent()) ?? "") ? true : undefined), 10_000);
  assert.match((await details.textContent()) ?? "", /Round-trip time/);
  assert.match((await b.page.locator(`.tile[data-participant-id="${idA}"] .tile-quality`).getAttribute("data-quality")) ?? "", /good|fair|poor/);
  await screenshot(b, "callscreen-details");
  await b.page.keyboard.press("Escape");
  await details.waitFor({ state: "hidden" });

  // Phone: a third participant; Bob's page at 390 x 844 shows a 3-tile grid.
  const c = await open("Cleo", `/m/${id}`);
  await joinThroughUi(c);
  const idC = await participantId(c);
  await waitFramesFlowing(b, [idA, idC], 30_000);
  await b.page.setViewportSize({ width: 390, height: 844 });
  await poll("three tiles fit the phone", async () => {
    const boxes = await b.page.locator(".grid .tile").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
    return boxes.length === 3 && boxes.every((r) => r.left >= 0 && r.right <= 390 && r.bottom <= 844 && r.width > 150) ? boxes : undefined;
  }, 10_000);
  await sleep(800);
  await screenshot(b, "callscreen-phone-grid");
}, 180_000);
