// SFU signaling through the gateway (services/gateway/sfu.c) to a real
// huddle-media and Janus: two participants of a meeting that the registry
// moved to SFU mode (SFU_ENABLED=1, MESH_MAX=1). Ann's publish, with an offer
// Chromium made (tests/sfu/fixtures/chromium-offer.sdp: an audio and a video
// transceiver, sendonly), goes gateway -> huddle-media (the meeting's room
// made and Ann allowed, since the gateway vouches she is admitted) -> Janus
// VideoRoom, and Janus's answer comes back to her; the room exists in Janus
// afterwards. Errors from huddle-media and Janus come back as the client's
// errors: a subscription to a participant who does not publish, an offer
// over MEDIA_SDP_MAX. Bob's leave makes the gateway send an SFU leave for
// him. The browser path (media flowing through Janus): tests/sfu/jsep.test.ts
// (huddle-media alone) and the web client's SFU tests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect, createMeeting, type HuddleClient } from "../lib/client.ts";
import { ErrorCode } from "../lib/proto.ts";
import { JanusClient, startSfu, type Sfu } from "../lib/sfu.ts";
import { startStack, waitFor, type Stack } from "../lib/stack.ts";

const OFFER = readFileSync(join(import.meta.dirname, "fixtures", "chromium-offer.sdp"), "utf8");
const MEDIA_SDP_MAX = 65536; // services/media/sfu.h

let sfu: Sfu;
let stack: Stack;
let janus: JanusClient;
const clients: HuddleClient[] = [];

before(async () => {
	sfu = await startSfu();
	stack = await startStack({
		registryEnv: { SFU_ENABLED: "1", MESH_MAX: "1", SFU_DOWN_MAX: "0" },
		gatewayEnv: { MEDIA_URL: sfu.mediaUrl, MEDIA_EVENTS_URL: sfu.eventsUrl },
	});
	janus = await JanusClient.open(sfu.janusPort, sfu.apiSecret);
});

after(async () => {
	for (const c of clients) c.close();
	janus?.close();
	await stack?.stop();
	await sfu?.stop();
});

const sfuReq = (body: { case: string; value: unknown }) => ({ case: "sfu", value: { body } }) as never;

test("publish through the gateway reaches Janus and its answer comes back; errors pass through; a leave follows the participant", { timeout: 120000 }, async () => {
	const meeting = await createMeeting(stack.httpUrl);
	const ann = await connect(stack.wsUrl, "ann");
	const bob = await connect(stack.wsUrl, "bob");
	clients.push(ann, bob);
	await ann.join(meeting.id, "Ann");
	await bob.join(meeting.id, "Bob");
	const mode = await ann.nextEvent("mediaMode", 10000);
	assert.equal(Number(mode.mode), 2, "SFU mode after the second join");

	// Publish: the answer is Janus's (its own ICE credentials, a DTLS fingerprint).
	const r = await ann.request(sfuReq({ case: "publish", value: { offerSdp: OFFER, audio: true, video: true } }), 30000);
	assert.equal(r.body.case, "sfu", `reply ${r.body.case}`);
	const reply = r.body.value as { body: { case: string; value: { answerSdp: string } } };
	assert.equal(reply.body.case, "publish");
	const answer = reply.body.value.answerSdp;
	assert.match(answer, /^v=0\r\n/);
	assert.match(answer, /a=fingerprint:sha-256 /);
	assert.match(answer, /m=audio /);
	assert.match(answer, /m=video /);
	assert.doesNotMatch(answer, /a=ice-ufrag:0\+N3/, "Janus's own ICE credentials, not the offer's");
	// huddle-media made the meeting's room in Janus.
	const exists = (await janus.videoroom({ request: "exists", room: meeting.id })) as { exists?: boolean };
	assert.equal(exists.exists, true, "the meeting's room exists in Janus");

	// Errors come back as the client's errors.
	const noFeed = await bob.expectError(sfuReq({ case: "subscribe", value: { feeds: [{ participantId: bob.participantId, mid: "" }] } }));
	assert.equal(noFeed.code, ErrorCode.UNKNOWN_PARTICIPANT, `${ErrorCode[noFeed.code]} ${noFeed.message}`);
	const big = await ann.expectError(sfuReq({ case: "publish", value: { offerSdp: "v=0\r\n" + "a=x\r\n".repeat(MEDIA_SDP_MAX / 5), audio: true } }));
	assert.equal(big.code, ErrorCode.BAD_REQUEST, `${ErrorCode[big.code]} ${big.message}`);
	assert.match(big.message, new RegExp(String(MEDIA_SDP_MAX)));

	// Ann leaves: the gateway tells huddle-media, which detaches her handles
	// (her publisher leaves the Janus room).
	const annId = ann.participantId;
	await ann.leave();
	await waitFor("Ann's publisher to leave the Janus room", async () => {
		const l = (await janus.videoroom({ request: "listparticipants", room: meeting.id })) as { participants?: { id: string }[] };
		return !(l.participants ?? []).some((p) => p.id === annId);
	}, 15000);
});
