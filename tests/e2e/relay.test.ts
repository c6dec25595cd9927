// Two browsers with ?relay=1 (iceTransportPolicy "relay") connect through the
// local coturn with the gateway's ephemeral TURN credentials.
import assert from "node:assert/strict";
import { useE2E, participantId, peerIds } from "./suite.ts";
import { joinThroughUi, poll, waitFramesFlowing, selectedCandidateTypes, screenshot } from "./browser.ts";

const e2e = useE2E({ coturn: true });

e2e.test(
  "relay-only pair connects through coturn and decodes video",
  async ({ open, createMeeting }) => {
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}?relay=1`);
    const b = await open("Bob", `/m/${id}?relay=1`);
    await joinThroughUi(a);
    await joinThroughUi(b);
    const ids = { a: await participantId(a), b: await participantId(b) };
    // The join reply's ICE servers: STUN without credentials, TURN with the REST-API pair.
    const ice = await a.page.evaluate(() => window.huddle.peers.size > 0 ? [...window.huddle.peers.values()][0].getConfiguration() : null);
    assert.ok(ice, "a peer connection exists");
    assert.equal(ice.iceTransportPolicy, "relay");
    const turn = (ice.iceServers ?? []).find((s) => [s.urls].flat().some((u) => String(u).startsWith("turn:")));
    assert.ok(turn, `a TURN server in ${JSON.stringify(ice.iceServers)}`);
    assert.match(String(turn.username), new RegExp(`^\\d+:${ids.a}$`), "TURN username is <expiry>:<participant id>");

    for (const [p, other] of [[a, ids.b], [b, ids.a]] as const) {
      await poll(`${p.name} peers`, async () => ((await peerIds(p)).join() === other ? true : undefined), 20_000);
      await waitFramesFlowing(p, [other], 40_000);
      const pairs = await poll(`${p.name} selected candidate pair`, async () => {
        const t = await selectedCandidateTypes(p.page);
        return t[other] ? t : undefined;
      }, 10_000);
      const pair = pairs[other]!;
      assert.ok(pair.local === "relay" || pair.remote === "relay", `${p.name}: selected pair uses a relay candidate (${JSON.stringify(pair)})`);
    }
    await screenshot(a, "e2e-relay");
  },
  150_000,
);
