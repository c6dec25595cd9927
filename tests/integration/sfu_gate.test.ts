// ClientMessage.sfu (proto/huddle/v1/sfu.proto) at the gateway, without
// huddle-media: a connection that has not joined is refused NOT_JOINED; a
// participant of a meeting in mesh mode FORBIDDEN (SFU signaling is for
// SFU-mode meetings); a participant of a meeting in SFU mode on a gateway
// without MEDIA_URL UNAVAILABLE, with a message saying so (not
// UNKNOWN_TYPE: the gateway knows the message); an SfuRequest with no body
// BAD_REQUEST; and the session keeps working afterwards. (The forwarding to
// huddle-media and Janus: tests/sfu/.)
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting } from "../lib/client.ts";
import { ErrorCode } from "../lib/proto.ts";
import { MediaMode } from "../../web/src/gen/huddle/v1/common_pb.ts";

// MESH_MAX=1: the second participant moves a meeting to SFU mode.
const suite = useStack({ registryEnv: { SFU_ENABLED: "1", MESH_MAX: "1", SFU_DOWN_MAX: "0" } });

const publish = { case: "sfu", value: { body: { case: "publish", value: { offerSdp: "v=0\r\n", audio: true, video: true } } } } as never;
const empty = { case: "sfu", value: { body: { case: undefined } } } as never;

suite.test("SfuRequest: NOT_JOINED before a join, FORBIDDEN in a mesh, UNAVAILABLE in SFU mode without MEDIA_URL; the session stays usable", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const before = await a.expectError(publish);
	assert.equal(before.code, ErrorCode.NOT_JOINED, `${ErrorCode[before.code]} ${before.message}`);
	await a.join(meeting.id, "Ann");
	const mesh = await a.expectError(publish);
	assert.equal(mesh.code, ErrorCode.FORBIDDEN, `${ErrorCode[mesh.code]} ${mesh.message}`);
	assert.match(mesh.message, /mesh mode/);
	// Bob's join moves the meeting to SFU mode (MESH_MAX=1): Ann is told.
	const b = track(await connect(s.wsUrl, "B"));
	await b.join(meeting.id, "Bob");
	const ev = await a.nextEvent("mediaMode", 10000);
	assert.equal(ev.mode, MediaMode.SFU);
	const sfu = await a.expectError(publish);
	assert.equal(sfu.code, ErrorCode.UNAVAILABLE, `${ErrorCode[sfu.code]} ${sfu.message}`);
	assert.match(sfu.message, /SFU signaling is not available on this gateway \(no MEDIA_URL\)/);
	const bad = await b.expectError(empty);
	assert.equal(bad.code, ErrorCode.BAD_REQUEST, `${ErrorCode[bad.code]} ${bad.message}`);
	const sig = await a.expectError({ case: "signal", value: { to: "nobody", signal: { kind: { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } } } } as never);
	assert.notEqual(sig.code, ErrorCode.CLOSED, "the connection still answers");
});
