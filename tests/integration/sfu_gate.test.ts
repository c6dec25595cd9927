// ClientMessage.sfu (proto/huddle/v1/sfu.proto) before SFU signaling is
// wired to huddle-media: a connection that has not joined is refused
// NOT_JOINED, a joined one UNAVAILABLE with a message saying so (not
// UNKNOWN_TYPE: the gateway knows the message), and the session keeps
// working afterwards.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting } from "../lib/client.ts";
import { ErrorCode } from "../lib/proto.ts";

const suite = useStack({});

const publish = { case: "sfu", value: { body: { case: "publish", value: { offerSdp: "v=0\r\n", audio: true, video: true } } } } as never;

suite.test("SfuRequest: NOT_JOINED before a join, UNAVAILABLE when joined, and the session stays usable", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const c = track(await connect(s.wsUrl, "A"));
	const before = await c.expectError(publish);
	assert.equal(before.code, ErrorCode.NOT_JOINED, `${ErrorCode[before.code]} ${before.message}`);
	await c.join(meeting.id, "Ann");
	const joined = await c.expectError(publish);
	assert.equal(joined.code, ErrorCode.UNAVAILABLE, `${ErrorCode[joined.code]} ${joined.message}`);
	assert.match(joined.message, /SFU signaling/);
	const sig = await c.expectError({ case: "signal", value: { to: "nobody", signal: { kind: { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } } } } as never);
	assert.notEqual(sig.code, ErrorCode.CLOSED, "the connection still answers");
});
