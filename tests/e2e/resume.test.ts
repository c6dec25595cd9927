// The gateway is SIGKILLed and restarted during a two-person call: both
// browsers resume with the same participant ids, keep the very same
// RTCPeerConnection objects, and video keeps decoding throughout.
import assert from "node:assert/strict";
import { useE2E, participantId, peerIds } from "./suite.ts";
import { joinThroughUi, poll, waitFramesFlowing, inboundVideo, screenshot } from "./browser.ts";

const e2e = useE2E();

e2e.test("gateway SIGKILL + restart: same participant ids, same peer connections, media keeps flowing", async ({ stack, open, createMeeting }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  await joinThroughUi(a);
  await joinThroughUi(b);
  const idA = await participantId(a);
  const idB = await participantId(b);
  for (const [p, other] of [[a, idB], [b, idA]] as const) {
    await poll(`${p.name} peers`, async () => ((await peerIds(p)).join() === other ? true : undefined), 20_000);
    await waitFramesFlowing(p, [other], 30_000);
  }
  // Mark the peer connection objects so we can tell whether they survive.
  for (const [p, other] of [[a, idB], [b, idA]] as const) {
    await p.page.evaluate(({ other, tag }) => {
      (window.huddle.peers.get(other) as RTCPeerConnection & { e2eTag?: string }).e2eTag = tag;
    }, { other, tag: `pc-of-${p.name}` });
  }
  const before = { a: await inboundVideo(a.page), b: await inboundVideo(b.page) };

  await stack.restartGateway({ signal: "SIGKILL", downMs: 1500 });

  for (const [p, mine, other] of [[a, idA, idB], [b, idB, idA]] as const) {
    await poll(`${p.name} resumed (signaling ready again)`, async () => {
      const s = await p.page.evaluate(() => ({
        connection: window.huddle.connection,
        state: window.huddle.state,
        resumes: window.huddle.session?.resumeCount ?? 0,
      }));
      return s.connection === "ready" && s.state === "joined" && s.resumes >= 1 ? s : undefined;
    }, 30_000);
    const after = await p.page.evaluate(({ other }) => ({
      id: window.huddle.participantId,
      peers: [...window.huddle.peers.keys()],
      tag: (window.huddle.peers.get(other) as (RTCPeerConnection & { e2eTag?: string }) | undefined)?.e2eTag,
      fresh: window.huddle.session?.freshJoinCount ?? -1,
    }), { other });
    assert.equal(after.id, mine, `${p.name} kept its participant id`);
    assert.deepEqual(after.peers, [other], `${p.name} still has exactly one peer`);
    assert.equal(after.tag, `pc-of-${p.name}`, `${p.name}'s peer connection is the same object`);
    assert.equal(after.fresh, 0, `${p.name} never joined fresh`);
  }
  // Frames keep being decoded after the restart, on the same connections.
  for (const [p, other, prev] of [[a, idB, before.a], [b, idA, before.b]] as const) {
    const now = await waitFramesFlowing(p, [other], 20_000);
    assert.ok(now[other].framesDecoded > prev[other].framesDecoded, `${p.name}: framesDecoded grew across the restart`);
  }
  // Signaling works again after the resume: a mute reaches the other side.
  await a.page.getByRole("button", { name: "Mute microphone" }).click();
  await b.page.locator(`.tile[data-participant-id="${idA}"][data-audio-muted="true"]`).waitFor({ timeout: 10_000 });
  await screenshot(b, "e2e-after-gateway-restart");
}, 150_000);
