// The gateway stays down longer than the presence TTL: the resume is
// rejected (RESUME_REJECTED), both browsers join fresh with new participant
// ids, drop the old peer connections and build new ones; video flows again.
import assert from "node:assert/strict";
import { useE2E, participantId, peerIds } from "./suite.ts";
import { joinThroughUi, poll, waitFramesFlowing } from "./browser.ts";

const TTL_MS = 3000;
const e2e = useE2E({ presenceTtlMs: TTL_MS, heartbeatMs: 500 });

e2e.test("gateway down longer than the presence TTL: fresh join, new peer connections, media recovers", async ({ stack, open, createMeeting }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  await joinThroughUi(a);
  await joinThroughUi(b);
  const old = { a: await participantId(a), b: await participantId(b) };
  await waitFramesFlowing(a, [old.b], 30_000);
  await waitFramesFlowing(b, [old.a], 30_000);

  await stack.restartGateway({ signal: "SIGKILL", downMs: TTL_MS * 2 + 1000 });

  for (const p of [a, b]) {
    await poll(`${p.name} joined fresh`, async () => {
      const s = await p.page.evaluate(() => ({ c: window.huddle.connection, fresh: window.huddle.session?.freshJoinCount ?? 0 }));
      return s.c === "ready" && s.fresh >= 1 ? s : undefined;
    }, 30_000);
  }
  const now = { a: await participantId(a), b: await participantId(b) };
  assert.notEqual(now.a, old.a);
  assert.notEqual(now.b, old.b);
  for (const [p, other] of [[a, now.b], [b, now.a]] as const) {
    await poll(`${p.name} has exactly the new peer`, async () => ((await peerIds(p)).join() === other ? true : undefined), 20_000);
    await waitFramesFlowing(p, [other], 30_000);
    assert.equal(await p.page.locator(".tile").count(), 2, `${p.name} shows two tiles`);
  }
}, 150_000);
