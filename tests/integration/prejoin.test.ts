// The pre-join connectivity check's request (ClientMessage ice_servers): a
// connection that has not joined gets the ICE servers of an existing meeting
// and nothing else: STUN, and TURN credentials that live PREJOIN_TURN_TTL,
// name the connection (not a participant) and allocate a relay at coturn;
// an unknown meeting is refused, the request is rate limited per connection
// (PREJOIN_ICE_RATE), and a session in a waiting room is refused (the
// access test covers that with every request type).
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting } from "../lib/client.ts";
import { ErrorCode } from "../lib/proto.ts";
import { turnAllocate, turnPassword } from "../lib/turn.ts";

const TTL_S = 120;
const RATE = 3;
const suite = useStack({ coturn: true, gatewayEnv: { PREJOIN_TURN_TTL: String(TTL_S), PREJOIN_ICE_RATE: String(RATE) } });

const iceServers = (meetingId: string) => ({ case: "iceServers", value: { meetingId } }) as never;

suite.test("an unknown or malformed meeting id is refused, an empty one is a bad request", async (s, track) => {
	const c = track(await connect(s.wsUrl, "C"));
	const unknown = await c.expectError(iceServers("AAAAAAAAAAAAAAAAAAAAAA"));
	assert.equal(unknown.code, ErrorCode.UNKNOWN_MEETING, `well-formed but no such meeting: ${ErrorCode[unknown.code]} ${unknown.message}`);
	const bad = await c.expectError(iceServers("../../etc"));
	assert.equal(bad.code, ErrorCode.UNKNOWN_MEETING);
	const empty = await c.expectError(iceServers(""));
	assert.equal(empty.code, ErrorCode.BAD_REQUEST);
});

suite.test("a connection that has not joined gets STUN and short-lived TURN credentials that coturn accepts, and nothing else", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	// Someone is in the call: the checking connection must hear nothing of them.
	const inCall = track(await connect(s.wsUrl, "InCall"));
	await inCall.join(meeting.id, "Ivy");
	const c = track(await connect(s.wsUrl, "Checker"));
	const now = Math.floor(Date.now() / 1000);
	const r = await c.call(iceServers(meeting.id), "iceServers");
	const stun = r.iceServers.filter((x) => x.urls.some((u) => u.startsWith("stun:")));
	const turn = r.iceServers.filter((x) => x.urls.some((u) => u.startsWith("turn:")));
	assert.equal(stun.length, 1, JSON.stringify(r.iceServers));
	assert.equal(stun[0].username, "");
	assert.equal(turn.length, 1, JSON.stringify(r.iceServers));
	const t = turn[0];
	const m = /^(\d+):(prejoin-\d+)$/.exec(t.username);
	assert.ok(m, `username "${t.username}" is "<expiry>:prejoin-<connection>"`);
	const expiry = Number(m[1]);
	assert.ok(Math.abs(expiry - (now + TTL_S)) <= 30, `expiry ${expiry} ≈ now + PREJOIN_TURN_TTL (${now + TTL_S}), not TURN_TTL`);
	assert.ok(Math.abs(Number(r.expiresAtMs) - expiry * 1000) <= 1000, "expires_at_ms is the username's expiry");
	assert.equal(t.credential, turnPassword(s.turnSecret, t.username));
	const port = Number(/:(\d+)/.exec(s.turnUrls[1].slice("turn:".length))?.[1]);
	const alloc = await turnAllocate(port, t.username, t.credential);
	assert.ok(alloc.ok, `Allocate with the pre-join credentials succeeds (STUN error ${alloc.errorCode})`);
	// Not a participant: no roster, no events, and a signal is refused.
	const leaked = await c.collect((msg) => msg.body.case !== "pong", 500);
	assert.deepEqual(leaked.map((x) => x.body.case), [], "nothing of the meeting reaches the checking connection");
	const sig = await c.expectError({ case: "signal", value: { to: inCall.participantId, signal: { kind: { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } } } } as never);
	assert.equal(sig.code, ErrorCode.NOT_JOINED);
});

suite.test("PREJOIN_ICE_RATE per connection per minute, then RATE_LIMITED; another connection is not affected", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const c = track(await connect(s.wsUrl, "Eager"));
	for (let i = 0; i < RATE; i++) await c.call(iceServers(meeting.id), "iceServers");
	const e = await c.expectError(iceServers(meeting.id));
	assert.equal(e.code, ErrorCode.RATE_LIMITED, `request ${RATE + 1}: ${ErrorCode[e.code]} ${e.message}`);
	const d = track(await connect(s.wsUrl, "Other"));
	await d.call(iceServers(meeting.id), "iceServers");
});
