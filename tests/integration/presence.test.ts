// Presence: a dropped socket keeps its participant for the TTL (the resume
// window), then the registry's sweeper expires it; gateway heartbeats keep
// connected clients alive indefinitely. Short TTL and heartbeat to stay fast.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting } from "../lib/client.ts";
import { LeaveReason } from "../lib/proto.ts";
import { sleep } from "../lib/stack.ts";

const TTL_MS = 3000;
const HEARTBEAT_MS = 500;
const suite = useStack({ presenceTtlMs: TTL_MS, heartbeatMs: HEARTBEAT_MS });

/** Keys of a RESP array reply. */
function respStrings(reply: string): string[] {
	return reply.split("\r\n").filter((_, i, all) => i > 0 && all[i - 1].startsWith("$"));
}

suite.test("a dropped client stays in the roster within the TTL, then the others get participant_left TIMED_OUT", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice");
	const jb = await b.join(meeting.id, "Bob");
	assert.equal(jb.presenceTtlMs, TTL_MS);
	await a.nextEvent("participantJoined");

	// Presence keys are hash-tagged by meeting so they share one Redis Cluster slot.
	const keys = respStrings(await s.redis("KEYS", `*${meeting.id}*`));
	assert.ok(keys.length > 0, "presence for the meeting is in Redis");
	for (const k of keys) assert.ok(k.includes(`{${meeting.id}}`), `key ${k} is hash-tagged {<meeting>}`);

	const dropped = Date.now();
	a.terminate(); // no close frame, no leave

	await sleep(Math.min(1000, TTL_MS / 3));
	const c = track(await connect(s.wsUrl, "C"));
	const jc = await c.join(meeting.id, "Carol");
	assert.ok(
		jc.participants.some((p) => p.id === ja.participantId),
		`within the TTL the dropped participant is still in the roster (${jc.participants.map((p) => p.displayName).join(", ")})`,
	);
	assert.ok(!b.inbox.some((m) => m.body.case === "participantLeft"), "no participant_left before the TTL");

	const left = await b.nextEvent("participantLeft", TTL_MS + 5000, (e) => e.participantId === ja.participantId);
	const elapsed = Date.now() - dropped;
	assert.equal(left.reason, LeaveReason.TIMED_OUT);
	assert.ok(elapsed >= TTL_MS - HEARTBEAT_MS - 300, `expired after ${elapsed} ms, not before the TTL (${TTL_MS} ms) minus one heartbeat`);
	const cLeft = await c.nextEvent("participantLeft", 3000, (e) => e.participantId === ja.participantId);
	assert.equal(cLeft.reason, LeaveReason.TIMED_OUT);

	const d = track(await connect(s.wsUrl, "D"));
	const jd = await d.join(meeting.id, "Dave");
	assert.deepEqual(jd.participants.map((p) => p.id).sort(), [jb.participantId, jc.participantId].sort(), "the expired participant is gone from the roster");
	// Only one participant_left for the dropped one.
	await sleep(500);
	assert.equal(b.inbox.filter((m) => m.body.case === "participantLeft").length, 0, "no duplicate participant_left");
});

suite.test("connected idle clients are not expired after 3×TTL: the gateway's heartbeats keep them present", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice");
	const jb = await b.join(meeting.id, "Bob");

	await sleep(3 * TTL_MS + 500); // A and B send nothing at all

	for (const x of [a, b]) {
		assert.ok(x.isOpen, `${x.label} is still connected`);
		assert.ok(!x.inbox.some((m) => m.body.case === "participantLeft"), `${x.label} saw no participant_left`);
	}
	const c = track(await connect(s.wsUrl, "C"));
	const jc = await c.join(meeting.id, "Carol");
	assert.deepEqual(jc.participants.map((p) => p.id).sort(), [ja.participantId, jb.participantId].sort());
	const pong = await a.ping();
	assert.equal(pong.body.case, "pong");
	// And they still hear about each other.
	const r = await b.mediaState({ audioMuted: true });
	assert.equal(r.body.case, "mediaState");
	const upd = await a.nextEvent("participantUpdated");
	assert.equal(upd.participant?.id, jb.participantId);
});

suite.test("ping answers pong with the client's time and the server's", async (s, track) => {
	const a = track(await connect(s.wsUrl, "A"));
	const sent = BigInt(Date.now());
	const m = await a.request({ case: "ping", value: { clientTimeMs: sent } } as never);
	assert.equal(m.body.case, "pong");
	if (m.body.case !== "pong") return;
	assert.equal(m.body.value.clientTimeMs, sent, "pong echoes client_time_ms");
	const server = Number(m.body.value.serverTimeMs);
	assert.ok(Math.abs(server - Date.now()) < 5000, `server_time_ms ${server} is Unix ms now`);
});
