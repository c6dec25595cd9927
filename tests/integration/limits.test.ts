// Limits and bad input: every bad frame gets a typed error or the close code the
// brief names, and none of it hurts other clients or the gateway process.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, describe as describeMsg, httpGet, type HuddleClient } from "../lib/client.ts";
import { create, toBinary, ClientMessageSchema, ErrorCode, SdpType } from "../lib/proto.ts";
import { sleep } from "../lib/stack.ts";

const WS_MAX_MESSAGE = 65536;
const WS_RATE = 50;
const WS_BURST = 100;
const WS_CHUNK_RATE = 1024 * 1024; // bytes per second; the bucket holds 8 MiB
const suite = useStack({
	gatewayEnv: { WS_MAX_MESSAGE: String(WS_MAX_MESSAGE), WS_RATE: String(WS_RATE), WS_BURST: String(WS_BURST), WS_CHUNK_RATE: String(WS_CHUNK_RATE) },
});

const errorsOf = (c: HuddleClient, code: ErrorCode) => c.received.filter((m) => m.body.case === "error" && m.body.value.code === code);

suite.test("a 70 KiB frame is closed with 1009", async (s, track) => {
	const c = track(await connect(s.wsUrl, "big"));
	c.sendRaw(new Uint8Array(70 * 1024).fill(0x41));
	const closed = await c.waitClosed(5000);
	assert.equal(closed.code, 1009, `close code ${closed.code} "${closed.reason}"`);
});

suite.test("a frame just under WS_MAX_MESSAGE is accepted: a 60 KB offer relays intact", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	await a.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");
	const sdp = "v=0\r\n" + "a=x-filler:".padEnd(78, "y").concat("\r\n").repeat(750); // 60,005 bytes
	const frame = toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId: 99, body: { case: "signal", value: { to: b.participantId, signal: { kind: { case: "description", value: { type: SdpType.OFFER, sdp } } } } } } as never));
	assert.ok(frame.length > 60000 && frame.length < WS_MAX_MESSAGE, `frame is ${frame.length} bytes`);
	a.sendRaw(frame);
	const reply = await a.awaitReply(99, "signal");
	assert.equal(reply.body.case, "signal", `reply ${describeMsg(reply)}`);
	const d = await b.nextEvent("signalDelivery");
	assert.equal(d.signal?.kind.case, "description");
	assert.equal(d.signal?.kind.value?.sdp, sdp, "the large SDP arrives byte for byte");
});

suite.test("a text frame is closed with 1003", async (s, track) => {
	const c = track(await connect(s.wsUrl, "text"));
	c.sendRaw('{"join":{}}');
	const closed = await c.waitClosed(5000);
	assert.equal(closed.code, 1003, `close code ${closed.code} "${closed.reason}"`);
});

suite.test("undecodable frames get MALFORMED (request_id 0); the 3rd closes with 1007", async (s, track) => {
	const c = track(await connect(s.wsUrl, "garbage"));
	const garbage = [
		new Uint8Array([0x0f, 0xff, 0xff]), // field 1 with wire type 7 (invalid)
		new Uint8Array([0x52, 0x05, 0x01]), // field 10 (join) claims 5 bytes, has 1
		new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // varint longer than 10 bytes
	];
	for (let i = 0; i < 2; i++) {
		c.sendRaw(garbage[i]);
		const m = await c.next((x) => x.body.case === "error", 3000, `MALFORMED error #${i + 1}`);
		assert.equal(m.requestId, 0, "MALFORMED carries request_id 0");
		assert.equal(m.body.case === "error" && m.body.value.code, ErrorCode.MALFORMED, describeMsg(m));
		assert.ok(c.isOpen, `still open after malformed frame #${i + 1}`);
	}
	c.sendRaw(garbage[2]);
	const closed = await c.waitClosed(5000);
	assert.equal(closed.code, 1007, `close code ${closed.code} "${closed.reason}"`);
});

suite.test("an envelope without a known body is UNKNOWN_TYPE echoing the request id", async (s, track) => {
	const c = track(await connect(s.wsUrl, "nobody"));
	c.sendRaw(new Uint8Array([0x08, 42])); // request_id 42, no body
	const m = await c.awaitReply(42, "empty envelope", 3000);
	assert.equal(m.body.case === "error" && m.body.value.code, ErrorCode.UNKNOWN_TYPE, describeMsg(m));
	c.sendRaw(new Uint8Array([0x08, 43, 0x98, 0x06, 0x01])); // request_id 43, unknown field 99
	const m2 = await c.awaitReply(43, "unknown body field", 3000);
	assert.equal(m2.body.case === "error" && m2.body.value.code, ErrorCode.UNKNOWN_TYPE, describeMsg(m2));
	// Not counted as malformed: the session goes on.
	const pong = await c.ping();
	assert.equal(pong.body.case, "pong");
});

suite.test("a second join on a joined session is ALREADY_JOINED", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const other = await createMeeting(s.httpUrl);
	const c = track(await connect(s.wsUrl, "twice"));
	const b = track(await connect(s.wsUrl, "B"));
	const j = await c.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");
	for (const id of [meeting.id, other.id]) {
		const e = await c.expectError(c.joinBody(id, "Alice again"));
		assert.equal(e.code, ErrorCode.ALREADY_JOINED, `got ${ErrorCode[e.code]}`);
	}
	// Still in the first meeting, once.
	const d = track(await connect(s.wsUrl, "D"));
	const jd = await d.join(meeting.id, "Dave");
	assert.deepEqual(jd.participants.map((p) => p.id).sort(), [j.participantId, b.participantId].sort());
	await b.nextEvent("participantJoined", 3000, (e) => e.participant?.id === jd.participantId);
	await sleep(200);
	assert.equal(b.received.filter((m) => m.body.case === "participantJoined").length, 1, "B saw only Dave join, no second Alice");
});

suite.test("display names: empty or over 64 bytes are BAD_REQUEST; 64 bytes (also multi-byte) are fine", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const c = track(await connect(s.wsUrl, "names"));
	for (const name of ["", "x".repeat(65), "é".repeat(32) + "a" /* 65 bytes, 33 chars */]) {
		const e = await c.expectError(c.joinBody(meeting.id, name));
		assert.equal(e.code, ErrorCode.BAD_REQUEST, `name of ${Buffer.byteLength(name)} bytes: got ${ErrorCode[e.code]}`);
	}
	const j = await c.join(meeting.id, "😀".repeat(16)); // 64 bytes
	const d = track(await connect(s.wsUrl, "D"));
	const jd = await d.join(meeting.id, "x".repeat(64));
	assert.equal(jd.participants.find((p) => p.id === j.participantId)?.displayName, "😀".repeat(16), "the name arrives intact");
});

suite.test("a join with an empty meeting id is rejected (UNKNOWN_MEETING or BAD_REQUEST)", async (s, track) => {
	const c = track(await connect(s.wsUrl, "empty-id"));
	const e = await c.expectError(c.joinBody("", "Alice"));
	assert.ok([ErrorCode.UNKNOWN_MEETING, ErrorCode.BAD_REQUEST].includes(e.code), `got ${ErrorCode[e.code]}`);
});

suite.test("a flood of 1000 pings: RATE_LIMITED, then close 1008; another client is unaffected", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const calm = track(await connect(s.wsUrl, "calm"));
	const flood = track(await connect(s.wsUrl, "flood"));
	assert.equal((await calm.ping()).body.case, "pong");

	const started = Date.now();
	for (let i = 0; i < 1000; i++) {
		if (!flood.isOpen) break;
		flood.send({ case: "ping", value: { clientTimeMs: BigInt(Date.now()) } } as never);
	}
	// The calm client keeps getting pongs while the gateway deals with the flood.
	const calmRtts: number[] = [];
	while (!flood.closeInfo && Date.now() - started < 10000) {
		const t = Date.now();
		const p = await calm.ping();
		assert.equal(p.body.case, "pong", `calm client got ${describeMsg(p)}`);
		calmRtts.push(Date.now() - t);
		await sleep(50);
	}
	const closed = await flood.waitClosed(10000);
	assert.equal(closed.code, 1008, `flooder closed with ${closed.code} "${closed.reason}"`);

	const pongs = flood.received.filter((m) => m.body.case === "pong").length;
	const limited = errorsOf(flood, ErrorCode.RATE_LIMITED);
	assert.ok(pongs >= 1, "the burst allowance was served");
	assert.ok(pongs <= WS_BURST + WS_RATE * ((Date.now() - started) / 1000) + 5, `at most burst + rate×time pongs (got ${pongs})`);
	assert.ok(limited.length >= 1, `some RATE_LIMITED errors (got ${limited.length}; pongs ${pongs})`);
	assert.ok(limited.every((m) => m.requestId !== 0), "RATE_LIMITED echoes the dropped request's id");
	assert.ok(Math.max(0, ...calmRtts) < 2000, `calm pings answered promptly (rtts ${calmRtts.join(",")} ms)`);

	// Afterwards the calm client (and a new one) join fine.
	const j = await calm.join(meeting.id, "Calm");
	assert.ok(j.participantId);
	const late = track(await connect(s.wsUrl, "late"));
	const jl = await late.join(meeting.id, "Late");
	assert.deepEqual(jl.participants.map((p) => p.id), [j.participantId]);
});

suite.test("chunked messages count once against WS_RATE and in bytes against WS_CHUNK_RATE; over it one RATE_LIMITED per message", async (s, track) => {
	const c = track(await connect(s.wsUrl, "chunky"));
	// A 2 MiB request is 35 chunk frames; it is answered NOT_JOINED once whole (no notes subscription).
	const big = (requestId: number) =>
		toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId, body: { case: "notesUpdate", value: { document: 1, clientUpdateId: "x", data: new Uint8Array(2 * 1024 * 1024).fill(requestId) } } } as never));
	const answers = (ids: number[]) =>
		Promise.all(ids.map((id) => c.next((m) => m.requestId === id, 10000, `the answer to #${id}`)));
	// 3 × 35 frames is more than WS_BURST frames, but 3 messages and 6 MiB of the 8 MiB bucket: all served.
	for (const id of [201, 202, 203]) c.sendMessage(big(id));
	for (const m of await answers([201, 202, 203])) assert.equal(m.body.case === "error" && m.body.value.code, ErrorCode.NOT_JOINED, describeMsg(m));
	assert.equal(errorsOf(c, ErrorCode.RATE_LIMITED).length, 0, "chunk frames are no messages to WS_RATE");
	// Another 6 MiB at once passes the bucket: what does not fit is refused, one error per message, named.
	const flood = [204, 205, 206];
	for (const id of flood) c.sendMessage(big(id));
	const got = await answers(flood);
	const limited = got.filter((m) => m.body.case === "error" && m.body.value.code === ErrorCode.RATE_LIMITED);
	assert.ok(limited.length >= 1, `some of the flood is RATE_LIMITED (${got.map(describeMsg).join(", ")})`);
	await sleep(500);
	for (const id of flood) assert.equal(c.received.filter((m) => m.requestId === id).length, 1, `#${id} is answered once`);
	assert.equal(errorsOf(c, ErrorCode.RATE_LIMITED).length, limited.length, "no RATE_LIMITED for the parts dropped with their message");
	assert.ok(c.isOpen, "a client over WS_CHUNK_RATE is slowed, not closed");
	assert.equal((await c.ping()).body.case, "pong");
	assert.deepEqual(c.violations, []);
});

suite.test("after all of that the gateway is alive and healthy", async (s, track) => {
	assert.ok(s.gateways[0].alive(), "gateway process alive");
	const h = await httpGet(`${s.httpUrl}/healthz`);
	assert.equal(h.status, 200);
	const r = await httpGet(`${s.httpUrl}/readyz`);
	assert.equal(r.status, 200);
	const c = track(await connect(s.wsUrl, "after"));
	assert.equal((await c.ping()).body.case, "pong");
});
