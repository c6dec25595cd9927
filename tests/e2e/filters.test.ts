// Video filters on the outgoing camera. In a 2-way call the sender picks
// Grayscale from the Filters menu: the receiver's decoded frames turn grey
// (the remote <video> drawn on a canvas: R≈G≈B), the sender's own tile too,
// and frames keep decoding on the same RTCPeerConnection with the same
// m-lines (replaceTrack, no renegotiation); back to None, colour returns; the
// choice is remembered by the browser. Background blur, picked on the
// pre-join page, starts with no network (the e2e tests run in a namespace
// with only loopback, and every request of the page must go to the gateway):
// the model loads from the app, masks are computed, frames keep flowing and
// the receiver sees a blurred picture.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { useE2E, participantId } from "./suite.ts";
import { inboundVideo, joinThroughUi, poll, screenshot, sleep, waitFramesFlowing, type Participant } from "./browser.ts";

const e2e = useE2E();

interface Picture {
  width: number;
  // mean over sampled pixels of max(|R-G|, |G-B|, |R-B|), 0..255
  chroma: number;
  // share of sampled pixels whose channels differ by more than 24
  colourful: number;
  // the largest luma step between horizontally adjacent samples in the top
  // quarter, where the fake camera draws its clock and corner squares and
  // the moving shape never goes (sharp edges step at once, blurred ones
  // over several samples)
  sharpness: number;
}

// picture samples what the <video> matching selector shows now (160×90).
function picture(page: Page, selector: string): Promise<Picture | null> {
  return page.evaluate((selector) => {
    const v = document.querySelector<HTMLVideoElement>(selector);
    if (!v || v.videoWidth === 0 || v.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return null;
    const w = 160, h = 90;
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    const g = c.getContext("2d", { willReadFrequently: true });
    if (!g) return null;
    g.drawImage(v, 0, 0, w, h);
    const d = g.getImageData(0, 0, w, h).data;
    let chroma = 0, colourful = 0, sharp = 0;
    for (let i = 0; i < d.length; i += 4) {
      const diff = Math.max(Math.abs(d[i] - d[i + 1]), Math.abs(d[i + 1] - d[i + 2]), Math.abs(d[i] - d[i + 2]));
      chroma += diff;
      if (diff > 24) colourful++;
      if ((i / 4) % w !== w - 1 && i / 4 < (w * h) / 4) {
        const l0 = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
        const l1 = 0.2126 * d[i + 4] + 0.7152 * d[i + 5] + 0.0722 * d[i + 6];
        sharp = Math.max(sharp, Math.abs(l1 - l0));
      }
    }
    const n = w * h;
    return { width: v.videoWidth, chroma: chroma / n, colourful: colourful / n, sharpness: sharp };
  }, selector);
}

const remoteVideo = (id: string) => `.tile[data-participant-id="${id}"] video`;
const selfVideo = ".tile-self video";
const isGrey = (p: Picture | null) => p !== null && p.chroma < 4 && p.colourful < 0.01;
const isColour = (p: Picture | null) => p !== null && p.colourful > 0.2;

// waitPicture polls selector on page until ok(picture) holds.
function waitPicture(who: string, page: Page, selector: string, ok: (p: Picture | null) => boolean, timeoutMs: number): Promise<Picture> {
  let last: Picture | null = null;
  return poll(
    who,
    async () => {
      last = await picture(page, selector);
      if (!ok(last)) throw new Error(`last picture ${JSON.stringify(last)}`);
      return last ?? undefined;
    },
    timeoutMs,
    250,
  );
}

// The receiver's peer connection to from: kept in a page global (by the
// test) to tell later whether it is still the same object, and its m-lines.
function markConnection(p: Participant, from: string): Promise<number> {
  return p.page.evaluate((from) => {
    const pc = window.huddle.peers.get(from);
    if (!pc?.remoteDescription) throw new Error("no negotiated peer connection");
    (window as unknown as { filterTestPc: RTCPeerConnection }).filterTestPc = pc;
    return (pc.remoteDescription.sdp.match(/^m=/gm) ?? []).length;
  }, from);
}

function sameConnection(p: Participant, from: string): Promise<{ same: boolean; mLines: number; state: string }> {
  return p.page.evaluate((from) => {
    const pc = window.huddle.peers.get(from);
    const before = (window as unknown as { filterTestPc?: RTCPeerConnection }).filterTestPc;
    return {
      same: pc !== undefined && pc === before,
      mLines: (pc?.remoteDescription?.sdp.match(/^m=/gm) ?? []).length,
      state: pc?.connectionState ?? "none",
    };
  }, from);
}

async function pickFilter(p: Participant, name: string): Promise<void> {
  await p.page.getByRole("button", { name: "Filters", exact: true }).click({ timeout: 10_000 });
  await p.page.getByRole("menuitemradio", { name, exact: true }).click({ timeout: 10_000 });
  // The menu closes on a choice; the item keeps its state.
  const item = p.page.getByRole("menuitemradio", { name, exact: true, includeHidden: true });
  await poll(`${p.name}: ${name} checked`, async () => ((await item.getAttribute("aria-checked", { timeout: 1000 })) === "true" ? true : undefined), 5_000);
}

function filterState(p: Participant) {
  return p.page.evaluate(() => window.huddle.filters);
}

e2e.test("Grayscale reaches the receiver and the sender's own tile, without renegotiation", async ({ open, createMeeting }) => {
  const id = await createMeeting();
  const sender = await open("Ada", `/m/${id}`);
  const receiver = await open("Grace", `/m/${id}`);
  await joinThroughUi(sender);
  await joinThroughUi(receiver);
  const senderId = await participantId(sender);
  const receiverId = await participantId(receiver);
  await waitFramesFlowing(receiver, [senderId], 30_000);
  await waitFramesFlowing(sender, [receiverId], 30_000);

  // The fake camera is colourful (green with a bright pacman): the baseline.
  await waitPicture("receiver sees the sender in colour", receiver.page, remoteVideo(senderId), isColour, 15_000);
  const mLines = await markConnection(receiver, senderId);
  assert.ok(mLines >= 2, `audio and video m-lines, got ${mLines}`);

  await pickFilter(sender, "Grayscale");
  const grey = await waitPicture("receiver decodes grey frames", receiver.page, remoteVideo(senderId), isGrey, 20_000);
  await waitPicture("sender's own tile is grey", sender.page, selfVideo, isGrey, 10_000);
  const before = (await inboundVideo(receiver.page))[senderId]?.framesDecoded ?? 0;
  await waitFramesFlowing(receiver, [senderId], 15_000);
  await sleep(1000);
  const after = (await inboundVideo(receiver.page))[senderId]?.framesDecoded ?? 0;
  assert.ok(after > before + 5, `framesDecoded keeps growing after the switch: ${before} -> ${after}`);
  assert.deepEqual(await sameConnection(receiver, senderId), { same: true, mLines, state: "connected" });
  // Still grey a while later (every frame goes through the filter).
  assert.ok(isGrey(await picture(receiver.page, remoteVideo(senderId))), "still grey");
  const f = await filterState(sender);
  assert.equal(f?.choice, "grayscale");
  assert.equal(f?.active, true);
  // Frames keep going through the filter (on a starved CI machine software
  // WebGL renders a few a second: wait for ten more rather than count them
  // in a fixed time).
  const from = f?.frames ?? 0;
  await poll(
    `ten more frames through the filter (from ${from})`,
    async () => {
      const g = await filterState(sender);
      return g && g.active && g.frames >= from + 10 ? g : undefined;
    },
    20_000,
    250,
  );
  await screenshot(receiver, "e2e-filters-grayscale-receiver");
  console.log(`grey at the receiver: ${JSON.stringify(grey)}`);

  // Another filter, then None: the same connection all along; colour returns.
  await pickFilter(sender, "Sepia");
  await waitPicture("receiver decodes sepia (not grey, not green)", receiver.page, remoteVideo(senderId), (p) => p !== null && !isGrey(p) && p.chroma < 60, 20_000);
  await pickFilter(sender, "None");
  await waitPicture("receiver sees colour again", receiver.page, remoteVideo(senderId), isColour, 20_000);
  await waitFramesFlowing(receiver, [senderId], 15_000);
  assert.deepEqual(await sameConnection(receiver, senderId), { same: true, mLines, state: "connected" });
  assert.equal((await filterState(sender))?.active, false);

  // Remembered per browser: a new page of the same browser profile starts with it.
  await pickFilter(sender, "Grayscale");
  const again = await sender.context.newPage();
  await again.goto(`${sender.page.url()}`, { timeout: 20_000 });
  await again.getByRole("button", { name: "Filters", exact: true }).click({ timeout: 15_000 });
  assert.equal(await again.getByRole("menuitemradio", { name: "Grayscale", exact: true }).getAttribute("aria-checked"), "true");
  await waitPicture("the new page's preview is grey", again, "video.preview-video", isGrey, 15_000);
  await again.close();
}, 180_000);

e2e.test("Background blur starts without network access and frames keep flowing", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const sender = await open("Linus", `/m/${id}`);
  const origin = new URL(stack.httpUrl).origin;
  const elsewhere: string[] = [];
  sender.page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol !== "data:" && u.protocol !== "blob:" && u.origin !== origin && u.origin.replace(/^ws/, "http") !== origin) elsewhere.push(r.url());
  });
  const receiver = await open("Margaret", `/m/${id}`);

  // Picked on the pre-join page: the preview shows it, the model loads from the app.
  await pickFilter(sender, "Background blur");
  const ready = await poll(
    "background blur's model ready and masks computed",
    async () => {
      const f = await filterState(sender);
      if (f?.segmenter === "failed") throw new Error(`segmenter failed: ${f.error}`);
      return f && f.segmenter === "ready" && f.masks >= 3 ? f : undefined;
    },
    60_000,
    500,
  );
  console.log(`background blur on the pre-join page: ${JSON.stringify(ready)}`);
  await screenshot(sender, "e2e-filters-background-blur-prejoin");

  await joinThroughUi(sender);
  await joinThroughUi(receiver);
  const senderId = await participantId(sender);
  await waitFramesFlowing(receiver, [senderId], 30_000);
  const f0 = await filterState(sender);
  assert.equal(f0?.choice, "background-blur");
  assert.equal(f0?.active, true);
  // Frames keep flowing for a while, through the filter, with new masks.
  const d0 = (await inboundVideo(receiver.page))[senderId]?.framesDecoded ?? 0;
  await sleep(4000);
  const d1 = (await inboundVideo(receiver.page))[senderId]?.framesDecoded ?? 0;
  const f1 = await filterState(sender);
  // (Software WebGL and two browsers on two shared cores here: a few fps.)
  console.log(`in 4 s: ${d1 - d0} frames decoded by the receiver, ${(f1?.frames ?? 0) - (f0?.frames ?? 0)} filtered, ${(f1?.masks ?? 0) - (f0?.masks ?? 0)} masks; ${JSON.stringify(f1)}`);
  assert.ok(d1 - d0 >= 10, `receiver decoded ${d1 - d0} frames in 4 s`);
  await poll(
    `ten frames filtered since ${f0?.frames}`,
    async () => {
      const g = await filterState(sender);
      return g && g.active && g.frames >= (f0?.frames ?? 0) + 10 ? g : undefined;
    },
    20_000,
    250,
  );
  assert.ok((f1?.masks ?? 0) > (f0?.masks ?? 0), `new masks: ${f0?.masks} -> ${f1?.masks}`);
  // No person in the fake camera's picture: all of it is background, blurred.
  const blurred = await waitPicture("receiver gets a picture", receiver.page, remoteVideo(senderId), (p) => p !== null, 10_000);
  console.log(`receiver's picture with background blur: ${JSON.stringify(blurred)}`);
  await pickFilter(sender, "None");
  const sharp = await waitPicture(
    "receiver's picture sharper without the filter",
    receiver.page,
    remoteVideo(senderId),
    (p) => p !== null && p.sharpness > blurred.sharpness * 2,
    20_000,
  );
  console.log(`sharpness at the receiver: blurred ${blurred.sharpness.toFixed(2)}, none ${sharp.sharpness.toFixed(2)}`);
  assert.deepEqual(elsewhere, [], "every request of the page goes to the gateway");
}, 180_000);
