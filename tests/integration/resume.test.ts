// Resume: a dropped WebSocket (or a whole gateway restart) keeps the
// participant id when the client joins again with its resume token inside the
// presence TTL; the others see nothing. Wrong or expired tokens are rejected.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, HuddleError, type HuddleClient } from "../lib/client.ts";
import { ErrorCode, LeaveReason, SdpType } from "../lib/proto.ts";
import { sleep } from "../lib/stack.ts";

const TTL_MS = 5000;
const HEARTBEAT_MS = 500;
const suite = useStack({ presenceTtlMs: TTL_MS, heartbeatMs: HEARTBEAT_MS });

const rosterEvents = (c: HuddleClient) => c.inbox.filter((m) => m.body.case === "participantLeft" || m.body.case === "participantJoined");

async function resume(wsUrl: string, old: HuddleClient, label: string) {
	const c = await connect(wsUrl, label);
	const j = await c.join(old.meetingId, "ignored-on-resume", { participantId: old.participantId, resumeToken: old.resumeToken });
	return { c, j };
}

suite.test("a dropped client resumes with its token: same id, resumed=true, the others see nothing", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice", { media: { videoMuted: true } });
	await b.join(meeting.id, "Bob");
	await a.nextEvent("participantJoined");

	a.terminate();
	await sleep(300);
	const { c: a2, j } = await resume(s.wsUrl, a, "A'");
	track(a2);
	assert.equal(j.participantId, ja.participantId, "same participant id");
	assert.equal(j.resumed, true);
	assert.deepEqual(j.participants.map((p) => p.id), [b.participantId], "fresh roster of everyone else");
	assert.equal(j.meeting?.id, meeting.id);
	assert.ok(j.iceServers.length > 0, "fresh ICE servers on resume");

	const noise = await b.collect(() => true, 800);
	assert.deepEqual(rosterEvents(b).map((m) => m.body.case), [], `B saw no participant_left/joined for the resume (saw ${noise.map((m) => m.body.case).join(", ")})`);

	// The resumed session is fully functional both ways.
	const r = await b.signal(a2.participantId, { case: "description", value: { type: SdpType.OFFER, sdp: "v=0\r\n" } } as never);
	assert.equal(r.body.case, "signal");
	const d = await a2.nextEvent("signalDelivery");
	assert.equal(d.from, b.participantId);
	const r2 = await a2.mediaState({ audioMuted: true });
	assert.equal(r2.body.case, "mediaState");
	assert.equal((await b.nextEvent("participantUpdated")).participant?.id, ja.participantId);

	// And it does not expire: heartbeats now come for the new session.
	await sleep(TTL_MS + 1500);
	assert.deepEqual(rosterEvents(b).map((m) => m.body.case), [], "the resumed participant is not expired later");
});

suite.test("resuming while the old connection is still open closes the old one", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");
	const { c: a2, j } = await resume(s.wsUrl, a, "A'");
	track(a2);
	assert.equal(j.participantId, ja.participantId);
	assert.equal(j.resumed, true);
	const closed = await a.waitClosed(5000);
	assert.ok(closed.code >= 1000, `old connection closed (code ${closed.code})`);
	assert.ok(a2.isOpen, "the new connection stays open");
	// Signals go to the new connection only.
	const r = await b.signal(ja.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0, usernameFragment: "" } } as never);
	assert.equal(r.body.case, "signal");
	assert.equal((await a2.nextEvent("signalDelivery")).from, b.participantId);
	assert.deepEqual(rosterEvents(b).map((m) => m.body.case), [], "B saw no roster change");
});

suite.test("a wrong resume token is RESUME_REJECTED and the client can then join fresh", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");
	a.terminate();

	const x = track(await connect(s.wsUrl, "X"));
	const flipped = (ja.resumeToken[0] === "A" ? "B" : "A") + ja.resumeToken.slice(1);
	for (const [pid, token] of [
		[ja.participantId, flipped],
		[ja.participantId, "not-a-token"],
		[b.participantId, ja.resumeToken], // A's token does not resume Bob
		["no-such-participant", ja.resumeToken],
	]) {
		const e = await x.expectError(x.joinBody(meeting.id, "Mallory", { participantId: pid, resumeToken: token }));
		assert.equal(e.code, ErrorCode.RESUME_REJECTED, `resume ${pid}/${token.slice(0, 6)}…: got ${ErrorCode[e.code]}`);
	}
	assert.ok(b.isOpen, "Bob was not kicked by a bad resume of his id");
	const fresh = await x.join(meeting.id, "Mallory");
	assert.equal(fresh.resumed, false);
	assert.notEqual(fresh.participantId, ja.participantId);
	assert.notEqual(fresh.participantId, b.participantId);
	// The right token still works afterwards (A is still within its TTL).
	const { c: a2, j } = await resume(s.wsUrl, a, "A'");
	track(a2);
	assert.equal(j.participantId, ja.participantId);
	assert.equal(j.resumed, true);
});

suite.test("the gateway is SIGKILLed and restarted: clients resume with the same ids", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice");
	const jb = await b.join(meeting.id, "Bob");
	await a.nextEvent("participantJoined");

	await s.restartGateway({ signal: "SIGKILL", downMs: 300 });
	await Promise.all([a.waitClosed(5000), b.waitClosed(5000)]);

	const { c: a2, j: ra } = await resume(s.wsUrl, a, "A'");
	const { c: b2, j: rb } = await resume(s.wsUrl, b, "B'");
	track(a2);
	track(b2);
	assert.equal(ra.participantId, ja.participantId);
	assert.equal(rb.participantId, jb.participantId);
	assert.equal(ra.resumed, true);
	assert.equal(rb.resumed, true);
	assert.ok(rb.participants.some((p) => p.id === ja.participantId), "B's fresh roster has A");

	const r = await a2.signal(jb.participantId, { case: "description", value: { type: SdpType.OFFER, sdp: "v=0\r\n" } } as never);
	assert.equal(r.body.case, "signal", "relay works after the restart");
	assert.equal((await b2.nextEvent("signalDelivery")).from, ja.participantId);
	// Nobody timed out in the gap, and nobody does later.
	await sleep(TTL_MS + 1500);
	for (const x of [a2, b2]) assert.deepEqual(rosterEvents(x).map((m) => m.body.case), [], `${x.label} saw no roster change`);
});

suite.test("the gateway is stopped with SIGTERM while clients are joined: it exits 0, closes them, and they resume", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");
	// A signal in flight and an idle socket that never joined, to shut down with.
	const idle = track(await connect(s.wsUrl, "idle"));
	void a.signal(b.participantId, { case: "description", value: { type: SdpType.OFFER, sdp: "v=0\r\n" } } as never).catch(() => undefined);

	await s.restartGateway({ signal: "SIGTERM" }); // asserts exit code 0 (clean under ASan)
	for (const c of [a, b, idle]) await c.waitClosed(5000);

	const { c: a2, j } = await resume(s.wsUrl, a, "A'");
	track(a2);
	assert.equal(j.participantId, ja.participantId);
	assert.equal(j.resumed, true);
	assert.ok(j.participants.some((p) => p.id === b.participantId), "Bob is still in the roster within the TTL");
});

suite.test("after the TTL expired, the token is RESUME_REJECTED", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const ja = await a.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");
	a.terminate();
	const left = await b.nextEvent("participantLeft", TTL_MS + 5000, (e) => e.participantId === ja.participantId);
	assert.equal(left.reason, LeaveReason.TIMED_OUT);

	const a2 = track(await connect(s.wsUrl, "A'"));
	await assert.rejects(
		a2.join(meeting.id, "Alice", { participantId: ja.participantId, resumeToken: ja.resumeToken }),
		(e: unknown) => e instanceof HuddleError && e.code === ErrorCode.RESUME_REJECTED,
	);
	// No ghost: Bob's roster does not get Alice back.
	assert.deepEqual(await b.collect((m) => m.body.case === "participantJoined", 300), []);
});

suite.test("a participant that left cannot be resumed", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const ja = await a.join(meeting.id, "Alice");
	const l = await a.leave();
	assert.equal(l.body.case, "leave");
	const a2 = track(await connect(s.wsUrl, "A'"));
	const e = await a2.expectError(a2.joinBody(meeting.id, "Alice", { participantId: ja.participantId, resumeToken: ja.resumeToken }));
	assert.equal(e.code, ErrorCode.RESUME_REJECTED, `got ${ErrorCode[e.code]}`);
});
