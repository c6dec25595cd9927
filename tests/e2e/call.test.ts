// The first participant starts the meeting with New meeting and joins; the
// other two open the link and join together. Each decodes video from both
// others, and every page shows every other participant as they send: a
// playing, visible video and the right microphone state, the starter's too.
// Prints METRIC join_to_first_frame_ms.
import assert from "node:assert/strict";
import { useE2E, peerIds, participantId } from "./suite.ts";
import { createMeetingThroughUi, joinThroughUi, poll, waitFramesFlowing, waitTilesShowMedia, screenshot, inboundVideo, metric } from "./browser.ts";

const e2e = useE2E();

e2e.test("three participants see each other (full mesh, frames decode, tiles show them)", async ({ open }) => {
  const names = ["Ada", "Grace", "Linus"];
  const starter = await open(names[0], "/");
  const id = await createMeetingThroughUi(starter);
  const clickedAt = [await joinThroughUi(starter)];
  const parts = [starter];
  for (const n of names.slice(1)) parts.push(await open(n, `/m/${id}`));
  // The two by the link on the pre-join screen first (camera preview
  // running), then both click Join at about the same time: the mesh must
  // cope with simultaneous joins.
  const late = parts.slice(1);
  await Promise.all(late.map((p) => p.page.getByLabel("Your name").waitFor({ timeout: 15_000 })));
  clickedAt.push(...(await Promise.all(late.map((p) => joinThroughUi(p)))));
  assert.equal(clickedAt.length, 3);

  const ids = await Promise.all(parts.map(participantId));
  assert.equal(new Set(ids).size, 3, `three distinct participant ids: ${ids}`);
  for (const [i, p] of parts.entries()) {
    const others = ids.filter((_, j) => j !== i).sort();
    await poll(`${p.name} has peer connections to both others`, async () => {
      const got = await peerIds(p);
      return JSON.stringify(got) === JSON.stringify(others) ? got : undefined;
    }, 20_000);
    await waitFramesFlowing(p, others, 30_000);
  }

  for (const [i, p] of parts.entries()) {
    const others = ids.filter((_, j) => j !== i);
    const firstFrame = await poll(`${p.name} first-frame times`, async () => {
      const ff = await p.page.evaluate(() => window.huddle.firstFrameMs);
      return others.every((o) => typeof ff[o] === "number") ? ff : undefined;
    }, 10_000);
    const times = others.map((o) => firstFrame[o]);
    metric(`join_to_first_frame_ms participant=${p.name} first=${Math.min(...times)} all=${Math.max(...times)}`);
  }

  // Every tile names its participant; three tiles on every page.
  for (const p of parts) {
    await poll(`${p.name} shows 3 tiles with names`, async () => {
      const labels = await p.page.locator(".tile").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? ""));
      return labels.length === 3 && names.every((n) => labels.some((l) => l.startsWith(n))) ? labels : undefined;
    }, 10_000);
  }
  // What each page shows: the others' video playing in their tiles (not
  // an avatar) and their microphone state.
  for (const [i, p] of parts.entries()) {
    await waitTilesShowMedia(p, parts.filter((_, j) => j !== i), 10_000);
  }
  await screenshot(parts[0], "e2e-call-3");
  await screenshot(parts[1], "e2e-call-3-second");
  const stats = await inboundVideo(parts[2].page);
  assert.ok(Object.values(stats).every((s) => s.framesDecoded > 0));
}, 150_000);
