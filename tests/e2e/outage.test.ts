// Redis unreachable for OUTAGE_SECONDS (default 30) during a two-person call
// in Chromium (issue 13, "Faults"; the protocol side is
// tests/integration/outage.test.ts): video keeps decoding throughout (the
// media never touches Redis), and after the outage, with no Huddle daemon
// restarted, both pages are in the call, see each other, decode again, and
// the registry's members are exactly the two of them.
//   hung: SIGSTOP then SIGCONT. Redis keeps its data: same participant ids,
//         same peer connections, no rejoin.
//   dead: SIGKILL, restarted empty (no persistence). The next heartbeat finds
//         both gone; the pages rejoin by themselves (a resume is refused:
//         the record is gone) with new ids and new peer connections.
import assert from "node:assert/strict";
import { useE2E, participantId, peerIds } from "./suite.ts";
import { joinThroughUi, poll, sleep, waitFramesFlowing, inboundVideo, type Participant } from "./browser.ts";

const OUTAGE_MS = Number(process.env.OUTAGE_SECONDS ?? 30) * 1000;
const SAMPLE_MS = Math.min(5000, OUTAGE_MS / 3); // how often frames are sampled during the outage
// After the outage, both pages must be back in the call and decoding within
// this: one heartbeat (HEARTBEAT_INTERVAL_MS, 10 s) finds them gone after a
// data loss, then the client's reconnect backoff, a join and ICE.
const BACK_MS = 40_000;

const e2e = useE2E();

async function members(stack: { redis(...a: string[]): Promise<string> }, meetingId: string): Promise<string[]> {
  const raw = await stack.redis("HKEYS", `huddle:{${meetingId}}:members`);
  return raw.split("\r\n").filter((l, i, a) => i > 0 && a[i - 1].startsWith("$")).sort();
}

async function inCall(p: Participant) {
  return p.page.evaluate(() => ({
    id: window.huddle.participantId,
    state: window.huddle.state,
    connection: window.huddle.connection,
    peers: [...window.huddle.peers.keys()],
    fresh: window.huddle.session?.freshJoinCount ?? -1,
  }));
}

for (const mode of ["hung", "dead"] as const) {
  e2e.test(
    `Redis ${mode} for ${OUTAGE_MS / 1000} s during a call: video keeps decoding, the call is whole again afterwards`,
    async ({ stack, open, createMeeting }) => {
      const meeting = await createMeeting();
      const a = await open("Ada", `/m/${meeting}`);
      const b = await open("Bob", `/m/${meeting}`);
      await joinThroughUi(a);
      await joinThroughUi(b);
      const idA = await participantId(a);
      const idB = await participantId(b);
      for (const [p, other] of [[a, idB], [b, idA]] as const) {
        await poll(`${p.name} peers`, async () => ((await peerIds(p)).join() === other ? true : undefined), 20_000);
        await waitFramesFlowing(p, [other], 30_000);
      }
      const fresh0 = { a: (await inCall(a)).fresh, b: (await inCall(b)).fresh };

      const start = Date.now();
      await stack.signalRedis(mode === "hung" ? "SIGSTOP" : "SIGKILL");
      let samples = 0;
      try {
        // During the outage the established media keeps flowing: framesDecoded grows in every sample.
        let prev = { a: await inboundVideo(a.page), b: await inboundVideo(b.page) };
        while (Date.now() + SAMPLE_MS < start + OUTAGE_MS) {
          await sleep(SAMPLE_MS);
          const cur = { a: await inboundVideo(a.page), b: await inboundVideo(b.page) };
          assert.ok(cur.a[idB]?.framesDecoded > prev.a[idB].framesDecoded, `Ada decodes Bob during the outage (${JSON.stringify(cur.a)})`);
          assert.ok(cur.b[idA]?.framesDecoded > prev.b[idA].framesDecoded, `Bob decodes Ada during the outage (${JSON.stringify(cur.b)})`);
          prev = cur;
          samples++;
        }
        await sleep(Math.max(0, start + OUTAGE_MS - Date.now()));
      } finally {
        if (mode === "hung") await stack.signalRedis("SIGCONT");
        else await stack.startRedis();
      }
      const end = Date.now();
      assert.ok(samples >= 1, "frames sampled during the outage");
      console.log(`# ${mode}: video decoded on both pages in all ${samples} samples over ${end - start} ms of outage`);

      // Afterwards: both in the call, each the other's only peer, decoding; the registry agrees.
      const back = await poll(
        "both pages in the call with each other again",
        async () => {
          const [sa, sb] = [await inCall(a), await inCall(b)];
          // After a data loss, "back" is after the rejoin the next heartbeat forces.
          const rejoined = mode === "hung" || (sa.fresh > fresh0.a && sb.fresh > fresh0.b);
          const ok =
            rejoined && sa.state === "joined" && sb.state === "joined" && sa.connection === "ready" && sb.connection === "ready" &&
            sa.peers.join() === sb.id && sb.peers.join() === sa.id;
          return ok ? { sa, sb } : undefined;
        },
        BACK_MS,
        250,
      );
      await waitFramesFlowing(a, [back.sb.id], BACK_MS);
      await waitFramesFlowing(b, [back.sa.id], BACK_MS);
      console.log(`# ${mode}: call whole and decoding ${Date.now() - end} ms after the outage ended`);
      if (mode === "hung") {
        assert.deepEqual([back.sa.id, back.sb.id], [idA, idB], "same participant ids");
        assert.deepEqual([back.sa.fresh, back.sb.fresh], [fresh0.a, fresh0.b], "nobody joined afresh");
      }
      // Stable: a heartbeat and many sweeps later it is still the same call.
      await sleep(12_000);
      const [la, lb] = [await inCall(a), await inCall(b)];
      assert.deepEqual([la.id, lb.id], [back.sa.id, back.sb.id], "ids stable after recovery");
      assert.deepEqual(await members(stack, meeting), [la.id, lb.id].sort(), "the registry's members are the two pages");
      await waitFramesFlowing(a, [lb.id], 10_000);
    },
    OUTAGE_MS + 180_000,
  );
}
