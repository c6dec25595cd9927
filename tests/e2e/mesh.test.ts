// Sender adaptation in a mesh (web/src/call/adapt.ts): N participants (4;
// HUDDLE_MESH_E2E_N for more), every page in this one headless Chromium,
// settle (every page decodes every other within a bound) and keep decoding;
// a page whose tab goes hidden gets no
// video from its peers (they set active=false on their encodings to it:
// framesReceived there stops, and the senders' framesEncoded to it stops) and
// gets it again when visible; a tile shown small gets a smaller picture
// (inbound frameHeight) than a tile shown large. Prints METRIC meshN_settle_ms.
// That six hold is make bench-mesh's to show (tests/bench/mesh): six pages in
// one Chromium take this whole 2-core machine with Chromium 156 (a 2-way
// call alone takes 75 % of a core), and pages starved that long miss their
// signaling pings, so a functional test of six only measures the machine.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { useE2E, participantId } from "./suite.ts";
import { joinThroughUi, inboundVideo, metric, poll, screenshot, sleep, waitFramesFlowing, type Participant } from "./browser.ts";

const e2e = useE2E();
const N = Number(process.env.HUDDLE_MESH_E2E_N ?? 4);
// Bound for every page to decode every other, from the last Join click (as
// make bench-mesh measures; six pages in one Chromium on a shared 2-core
// machine: 16 s quiet, 36 s with the test's own polling, more under load).
const SETTLE_MS = 90_000;
const PAUSE_SAMPLE_MS = 2_500; // framesReceived must not grow over this while hidden
// Bound for the hidden page's peers to stop sending it video. With six pages
// in one starved Chromium a page's main thread lags: the view message took
// ~10 s to take effect on a quiet machine (2026-12-06).
const PAUSE_WITHIN_MS = 45_000;

// headless Chromium never hides a page: tell the page its tab is hidden (or
// visible again) as the browser would, with the visibilitychange event.
function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((h) => {
    // Data properties (no named getter functions: tsx would wrap them in a __name() the page lacks).
    Object.defineProperty(document, "visibilityState", { configurable: true, value: h ? "hidden" : "visible" });
    Object.defineProperty(document, "hidden", { configurable: true, value: h });
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

// frameHeights: inbound video frameHeight per remote participant id.
function frameHeights(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const out: Record<string, number> = {};
    for (const [id, pc] of window.huddle.peers) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") out[id] = s.frameHeight ?? 0;
      });
    }
    return out;
  });
}

// framesEncodedTo: outbound camera framesEncoded from page to the peer id.
function framesEncodedTo(page: Page, id: string): Promise<number> {
  return page.evaluate(async (id) => {
    const pc = window.huddle.peers.get(id);
    let n = 0;
    if (pc) (await pc.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp" && s.kind === "video") n += s.framesEncoded ?? 0;
    });
    return n;
  }, id);
}

e2e.test(`${N} participants in one Chromium: the mesh settles, a hidden tab's video pauses and resumes, a small tile gets a smaller picture`, async ({ open, createMeeting }) => {
  const id = await createMeeting();
  const parts: Participant[] = [];
  for (let i = 0; i < N; i++) parts.push(await open(`P${i + 1}`, `/m/${id}`));
  const start = Date.now();
  let lastClick = start;
  for (const p of parts) lastClick = await joinThroughUi(p);
  const ids = await Promise.all(parts.map(participantId));
  assert.equal(new Set(ids).size, N);
  const others = (i: number) => ids.filter((_, j) => j !== i);
  const deadline = lastClick + SETTLE_MS;
  for (const [i, p] of parts.entries()) await waitFramesFlowing(p, others(i), Math.max(5_000, deadline - Date.now()));
  metric(`mesh${N}_settle_ms ${Date.now() - lastClick} (${Date.now() - start} from the first Join click)`);
  await screenshot(parts[0], `e2e-mesh-${N}`);

  // A hidden tab: its peers stop sending it video; back visible, it flows again.
  // framesReceived, not framesDecoded: a starved page decodes a backlog for
  // seconds after the last frame arrived.
  const hIndex = 2;
  const H = parts[hIndex];
  await setHidden(H.page, true);
  await poll(`${H.name}'s inbound video to stop while hidden`, async () => {
    const a = await inboundVideo(H.page);
    await sleep(PAUSE_SAMPLE_MS);
    const b = await inboundVideo(H.page);
    const growing = others(hIndex).filter((o) => (b[o]?.framesReceived ?? 0) > (a[o]?.framesReceived ?? 0));
    return growing.length === 0 ? true : undefined;
  }, PAUSE_WITHIN_MS, 0);
  const e0 = await framesEncodedTo(parts[0].page, ids[hIndex]);
  await sleep(PAUSE_SAMPLE_MS);
  assert.equal(await framesEncodedTo(parts[0].page, ids[hIndex]), e0, `${parts[0].name} encodes nothing for the hidden ${H.name}`);
  // The others still decode each other (only the hidden page's video stopped).
  await waitFramesFlowing(parts[0], others(0), 20_000);
  await setHidden(H.page, false);
  await waitFramesFlowing(H, others(hIndex), 20_000);

  // A small tile and a large one on the first page.
  const R = parts[0];
  const [small, large] = [ids[1], ids[3]];
  await R.page.addStyleTag({ content: `.tile[data-participant-id="${small}"] { width: 120px !important; height: 68px !important; }` });
  const heights = await poll(`${R.name}: the small tile's picture smaller than the large tile's`, async () => {
    const h = await frameHeights(R.page);
    return h[small] > 0 && h[small] <= 120 && h[large] >= 2 * h[small] ? h : undefined;
  }, 30_000, 500);
  metric(`mesh_tile_frame_height small=${heights[small]} large=${heights[large]}`);
  await screenshot(R, `e2e-mesh-small-tile`);
  // Everything still flows on every page.
  for (const [i, p] of parts.entries()) await waitFramesFlowing(p, others(i), 20_000);
}, 420_000);
