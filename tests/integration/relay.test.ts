// Signaling relay: offer/answer/candidate only between participants of one
// meeting, on one gateway and across two gateways sharing a registry.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, type HuddleClient } from "../lib/client.ts";
import { ErrorCode, LeaveReason, SdpType, type Signal } from "../lib/proto.ts";

const suite = useStack({ gateways: 2 });

const OFFER_SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n";
const ANSWER_SDP = OFFER_SDP.replace("4611731400430051336", "12345");
const CANDIDATE = "candidate:842163049 1 udp 1677729535 127.0.0.1 50000 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag abcd network-cost 999";

const offer = { case: "description", value: { type: SdpType.OFFER, sdp: OFFER_SDP } } as Signal["kind"];
const answer = { case: "description", value: { type: SdpType.ANSWER, sdp: ANSWER_SDP } } as Signal["kind"];
const candidate = { case: "candidate", value: { candidate: CANDIDATE, sdpMid: "0", sdpMlineIndex: 0, usernameFragment: "abcd" } } as Signal["kind"];
const endOfCandidates = { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: -1, usernameFragment: "" } } as Signal["kind"];

/** A message's fields without protobuf-es's $typeName, to compare with a plain object. */
function fields(v: unknown): Record<string, unknown> {
	const { $typeName: _, ...rest } = (v ?? {}) as Record<string, unknown>;
	return rest;
}

async function expectSignalOk(from: HuddleClient, to: HuddleClient, kind: Signal["kind"]): Promise<void> {
	const r = await from.signal(to.participantId, kind);
	assert.equal(r.body.case, "signal", `${from.label} -> ${to.label}: SignalReply, got ${r.body.case === "error" ? ErrorCode[r.body.value.code] : r.body.case}`);
	const d = await to.nextEvent("signalDelivery", 5000);
	assert.equal(d.from, from.participantId, "delivery names the sender");
	assert.equal(d.signal?.kind.case, kind.case);
	assert.deepEqual(fields(d.signal?.kind.value), kind.value, "the signal arrives unchanged");
}

suite.test("offer, answer and candidates reach the addressee with the right from", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const c = track(await connect(s.wsUrl, "C"));
	await a.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");
	await c.join(meeting.id, "Carol");

	await expectSignalOk(a, b, offer);
	await expectSignalOk(b, a, answer);
	await expectSignalOk(a, b, candidate);
	await expectSignalOk(b, a, endOfCandidates);
	// Order of several signals in a row is kept (perfect negotiation depends on it).
	const sent = [1, 2, 3, 4, 5].map((i) => ({ case: "candidate", value: { candidate: `${CANDIDATE} ${i}`, sdpMid: "0", sdpMlineIndex: 0, usernameFragment: "abcd" } }) as Signal["kind"]);
	const replies = await Promise.all(sent.map((k) => a.signal(b.participantId, k)));
	assert.ok(replies.every((r) => r.body.case === "signal"));
	for (const k of sent) {
		const d = await b.nextEvent("signalDelivery");
		assert.deepEqual(fields(d.signal?.kind.value), k.value, "signals arrive in the order sent");
	}
	// Carol was addressed by nobody: she got nothing.
	const stray = await c.collect((m) => m.body.case === "signalDelivery", 300);
	assert.deepEqual(stray, [], "only the addressee receives a signal");
});

suite.test("a signal to a participant of another meeting is UNKNOWN_PARTICIPANT and delivers nothing", async (s, track) => {
	const m1 = await createMeeting(s.httpUrl);
	const m2 = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const other = track(await connect(s.wsUrl, "Other"));
	await a.join(m1.id, "Alice");
	await b.join(m1.id, "Bob");
	await other.join(m2.id, "Oscar");

	const r = await a.signal(other.participantId, offer);
	assert.equal(r.body.case, "error");
	if (r.body.case === "error") assert.equal(r.body.value.code, ErrorCode.UNKNOWN_PARTICIPANT, `got ${ErrorCode[r.body.value.code]}`);
	const r2 = await a.signal("no-such-participant", offer);
	assert.equal(r2.body.case === "error" && r2.body.value.code, ErrorCode.UNKNOWN_PARTICIPANT);
	const r3 = await a.signal(a.participantId + "x", candidate);
	assert.equal(r3.body.case === "error" && r3.body.value.code, ErrorCode.UNKNOWN_PARTICIPANT);

	const leaked = await other.collect((m) => m.body.case === "signalDelivery", 1000);
	assert.deepEqual(leaked, [], "the other meeting's participant receives nothing");
	assert.deepEqual(b.inbox.filter((m) => m.body.case === "signalDelivery"), [], "nobody else received it either");
	// The session is fine afterwards.
	await expectSignalOk(a, b, offer);
});

suite.test("signal and media_state before join are NOT_JOINED", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const b = track(await connect(s.wsUrl, "B"));
	await b.join(meeting.id, "Bob");
	const x = track(await connect(s.wsUrl, "X"));
	const e = await x.expectError({ case: "signal", value: { to: b.participantId, signal: { kind: offer } } } as never);
	assert.equal(e.code, ErrorCode.NOT_JOINED, `got ${ErrorCode[e.code]}`);
	const e2 = await x.expectError({ case: "mediaState", value: { media: { audioMuted: true } } } as never);
	assert.equal(e2.code, ErrorCode.NOT_JOINED, `got ${ErrorCode[e2.code]}`);
	const e3 = await x.expectError({ case: "leave", value: {} } as never);
	assert.equal(e3.code, ErrorCode.NOT_JOINED, `got ${ErrorCode[e3.code]}`);
	const leaked = await b.collect((m) => m.body.case === "signalDelivery", 500);
	assert.deepEqual(leaked, []);
});

suite.test("two gateways on one registry: roster events and signals cross gateways", async (s, track) => {
	const [g0, g1] = s.gateways;
	assert.ok(g1, "the stack has a second gateway");
	const meeting = await createMeeting(g0.httpUrl);
	// The meeting created through gateway 0 is known through gateway 1.
	const a = track(await connect(g0.wsUrl, "A@gw0"));
	const b = track(await connect(g1.wsUrl, "B@gw1"));
	const c = track(await connect(g0.wsUrl, "C@gw0"));
	const ja = await a.join(meeting.id, "Alice");
	const jb = await b.join(meeting.id, "Bob");
	assert.deepEqual(jb.participants.map((p) => p.id), [ja.participantId], "gw1's joiner sees gw0's participant");
	const joined = await a.nextEvent("participantJoined", 5000);
	assert.equal(joined.participant?.id, jb.participantId, "participant_joined crosses from gw1 to gw0");
	await c.join(meeting.id, "Carol");
	const cj = await b.nextEvent("participantJoined", 5000);
	assert.equal(cj.participant?.id, c.participantId, "participant_joined crosses from gw0 to gw1");
	await a.nextEvent("participantJoined");

	await expectSignalOk(a, b, offer); // gw0 -> gw1
	await expectSignalOk(b, a, answer); // gw1 -> gw0
	await expectSignalOk(b, a, candidate);
	await expectSignalOk(a, c, candidate); // same gateway still works
	assert.deepEqual(await c.collect((m) => m.body.case === "signalDelivery", 300), [], "no duplicate deliveries");

	const r = await b.mediaState({ videoMuted: true });
	assert.equal(r.body.case, "mediaState");
	for (const x of [a, c]) {
		const u = await x.nextEvent("participantUpdated", 5000);
		assert.equal(u.participant?.id, jb.participantId);
		assert.equal(u.participant?.media?.videoMuted, true);
	}

	const l = await b.leave();
	assert.equal(l.body.case, "leave");
	for (const x of [a, c]) {
		const ev = await x.nextEvent("participantLeft", 5000);
		assert.equal(ev.participantId, jb.participantId);
		assert.equal(ev.reason, LeaveReason.LEFT);
	}
	// Each event reached each client once.
	await new Promise((r) => setTimeout(r, 300));
	assert.equal(a.inbox.filter((m) => m.body.case === "participantLeft" || m.body.case === "participantUpdated").length, 0, "no duplicate events on gw0");
});

suite.test("a meeting's events do not leak into another meeting", async (s, track) => {
	const m1 = await createMeeting(s.httpUrl);
	const m2 = await createMeeting(s.httpUrl);
	const watcher = track(await connect(s.gateways[1].wsUrl, "Watcher"));
	await watcher.join(m2.id, "Wendy");
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.gateways[1].wsUrl, "B"));
	await a.join(m1.id, "Alice");
	await b.join(m1.id, "Bob");
	await a.mediaState({ audioMuted: true });
	await b.leave();
	const leaked = await watcher.collect(() => true, 800);
	assert.deepEqual(leaked.map((m) => m.body.case), [], "no events from meeting 1 reach meeting 2");
});
