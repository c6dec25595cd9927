// The meeting's media mode (issue 14, Policy) over real sockets against the
// real gateways, registry and Redis, with SFU_ENABLED=1: four joiners make a
// mesh (MESH, epoch 0, no media_mode event); the fifth moves the meeting to
// the SFU, and all five know it with the same epoch (the first four from a
// media_mode event, the fifth from its JoinReply, and its event if one comes
// agrees); a late joiner's JoinReply carries the same mode and epoch and
// nobody hears of a second change; with three left the sweep moves it back
// to MESH after SFU_DOWN_SECONDS, with the next epoch, and not before.
// Two gateways: the event reaches the sessions of both.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, HuddleClient } from "../lib/client.ts";
import { type JoinReply } from "../lib/proto.ts";
import { MediaMode } from "../../web/src/gen/huddle/v1/common_pb.ts";

const MESH_MAX = 4;
const SFU_DOWN_SECONDS = 2;
const suite = useStack({
	gateways: 2,
	gatewayEnv: { MEETINGS_PER_ADDRESS_PER_MINUTE: "0" },
	registryEnv: { SFU_ENABLED: "1", MESH_MAX: String(MESH_MAX), SFU_DOWN_MAX: "3", SFU_DOWN_SECONDS: String(SFU_DOWN_SECONDS), SWEEP_INTERVAL_MS: "100" },
});
const QUIET_MS = 600;
const EVENT_MS = 5000;

async function join(c: HuddleClient, meetingId: string, name: string): Promise<JoinReply> {
	const m = await c.request({ case: "join", value: { meetingId, displayName: name, clientKey: randomBytes(12).toString("base64url") } } as never);
	if (m.body.case !== "join") throw new Error(`${c.label}: join got ${m.body.case}`);
	c.participantId = m.body.value.participantId;
	c.meetingId = meetingId;
	return m.body.value;
}

function modeOf(j: JoinReply): [MediaMode, bigint] {
	assert.ok(j.mediaMode, "an admitted joiner's JoinReply carries the media mode");
	return [j.mediaMode.mode, j.mediaMode.epoch];
}

/** media_mode events c received within QUIET_MS (not consumed). */
async function modeEvents(c: HuddleClient): Promise<[MediaMode, bigint][]> {
	const got = await c.collect((m) => m.body.case === "mediaMode", QUIET_MS);
	return got.map((m) => {
		const v = m.body.value as { mode: MediaMode; epoch: bigint };
		return [v.mode, v.epoch];
	});
}

suite.test("the fifth joiner moves the meeting to the SFU for all five with one epoch; a late joiner gets it; three left go back to MESH", async (stack, track) => {
	const { id } = await createMeeting(stack.httpUrl, "media mode");
	const clients: HuddleClient[] = [];
	for (let i = 0; i < MESH_MAX + 2; i++) clients.push(track(await connect(stack.gateways[i % 2].wsUrl, `c${i}`)));

	// Four: a mesh, and nobody hears of a change.
	for (let i = 0; i < MESH_MAX; i++) {
		const j = await join(clients[i], id, `P${i}`);
		assert.deepEqual(modeOf(j), [MediaMode.MESH, 0n], `joiner ${i} of ${MESH_MAX}: a mesh`);
	}
	for (let i = 0; i < MESH_MAX; i++) assert.deepEqual(await modeEvents(clients[i]), [], `c${i}: no media_mode while a mesh`);

	// The fifth: SFU, epoch 1, in its JoinReply and on every other page.
	const fifth = await join(clients[MESH_MAX], id, "Fifth");
	const [mode, epoch] = modeOf(fifth);
	assert.equal(mode, MediaMode.SFU, "the fifth joiner's JoinReply says SFU");
	assert.equal(epoch, 1n, "the first change of mode is epoch 1");
	for (let i = 0; i < MESH_MAX; i++) {
		const ev = await clients[i].nextEvent("mediaMode", EVENT_MS);
		assert.deepEqual([ev.mode, ev.epoch], [MediaMode.SFU, epoch], `c${i} (gateway ${i % 2}) hears SFU with the same epoch`);
	}
	// The fifth may hear the event too (it races the reply); if so, it agrees.
	for (const e of await modeEvents(clients[MESH_MAX])) assert.deepEqual(e, [MediaMode.SFU, epoch]);

	// A late joiner: the same mode and epoch in its JoinReply, no new event anywhere.
	const late = await join(clients[MESH_MAX + 1], id, "Late");
	assert.deepEqual(modeOf(late), [MediaMode.SFU, epoch], "a late joiner's JoinReply carries the mode and epoch");
	for (let i = 0; i < MESH_MAX; i++) assert.deepEqual(await modeEvents(clients[i]), [], `c${i}: one change, one event`);

	// Three leave (six to three): still SFU for SFU_DOWN_SECONDS, then MESH, epoch 2.
	const stay = [clients[0], clients[1], clients[MESH_MAX + 1]];
	await clients[2].leave();
	await clients[3].leave();
	const left = Date.now(); // before the leave that brings it to three
	await clients[MESH_MAX].leave();
	await new Promise((r) => setTimeout(r, SFU_DOWN_SECONDS * 1000 - QUIET_MS - 300));
	const early = await Promise.all(stay.map((c) => modeEvents(c))); // one QUIET_MS window for all three
	early.forEach((e, i) => assert.deepEqual(e, [], `${stay[i].label}: still SFU before SFU_DOWN_SECONDS`));
	for (const c of stay) {
		const ev = await c.nextEvent("mediaMode", EVENT_MS);
		assert.deepEqual([ev.mode, ev.epoch], [MediaMode.MESH, epoch + 1n], `${c.label}: back to MESH, next epoch`);
	}
	assert.ok(Date.now() - left >= SFU_DOWN_SECONDS * 1000, "not before SFU_DOWN_SECONDS");
});
