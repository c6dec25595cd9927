// huddle-media drives each participant's JSEP through Janus VideoRoom
// (issue 14 step 1): two real Chromium pages in this test's network
// namespace, with WebRTC over the veth pair (Janus ignores loopback). Page A
// publishes its fake camera and a steady tone (offer -> MediaRequest.sfu
// publish -> Janus's answer; its candidates trickled through huddle-media);
// page B subscribes to A's video (Janus's offer -> B's answer -> start;
// candidates trickled), then adds A's audio (update: a new offer, answered,
// started), and must decode A's video and receive A's audio (getStats keeps
// growing); B then publishes its camera from a second connection (B is in
// the room already, so this is VideoRoom's configure) and A renegotiates. Page C subscribes too and is removed by a host (revoke): C
// stops receiving, B goes on, C can neither start nor subscribe again. The MediaEvents socket must carry the meeting's publisher list
// (A with its audio and video), a talking event for A (the tone is loud
// enough for Janus's audio level), and, after A unpublishes, the list without A
// and a Janus-initiated subscriber offer for B; a cut connection to Janus
// (through the relay) tells the meeting its SFU media stopped.
// Refusals: a participant without allow (no token) is FORBIDDEN, an offer
// over MEDIA_SDP_MAX is BAD_REQUEST naming the limit, a meeting without a
// room is UNKNOWN_MEETING, a trickle before any publish is BAD_REQUEST.
//
// Runs in its own network namespace with a veth pair (tests/lib/netns-veth.sh;
// ctest integration.sfu_jsep).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { ErrorCode } from "../lib/proto.ts";
import { MediaClient, MediaEvents, SFU_CHROMIUM_ARGS, startSfu, type Sfu } from "../lib/sfu.ts";
import { sleep, waitFor } from "../lib/stack.ts";

/** A fresh id as Huddle makes them: 16 random bytes, base64url (22 characters). */
const newId = () => randomBytes(16).toString("base64url");
/** services/media/sfu.h MEDIA_SDP_MAX, bytes. */
const MEDIA_SDP_MAX = 64 * 1024;
/** Bound on huddle-media reporting a ready Janus session. */
const READY_MS = 20000;
/** Bound on ICE gathering in a page. */
const GATHER_MS = 10000;
/** Bound on B decoding A's media once started. */
const MEDIA_MS = 30000;
/** Bound on an event arriving on the MediaEvents socket. */
const EVENT_MS = 10000;
/** How long B's counters must keep growing over. */
const GROW_MS = 2000;

let sfu: Sfu;
let media: MediaClient;
let events: MediaEvents;
let browser: Browser;
let http: Server;
let origin: string;
let failed = false;
const pageLog: string[] = [];

before(async () => {
	sfu = await startSfu();
	media = new MediaClient(sfu.mediaUrl);
	events = await MediaEvents.open(sfu.eventsUrl);
	await waitFor("huddle-media's Janus session", async () => {
		const r = await media.call({ case: "health", value: {} });
		return r.body.case === "health" && r.body.value.janusConnected;
	}, READY_MS, 100);
	// A page on http://127.0.0.1 is a secure context (getUserMedia works).
	http = createServer((_req, res) => {
		res.writeHead(200, { "content-type": "text/html" });
		res.end("<!doctype html><title>jsep</title>");
	});
	await new Promise<void>((res) => http.listen(0, "127.0.0.1", () => res()));
	const a = http.address();
	origin = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
	browser = await chromium.launch({
		executablePath: process.env.HUDDLE_CHROMIUM ?? "/usr/bin/chromium",
		headless: true,
		args: SFU_CHROMIUM_ARGS,
		timeout: 30000,
	});
});

after(async () => {
	await browser?.close();
	http?.close();
	media?.close();
	events?.close();
	if (failed && sfu) {
		console.error(`--- pages\n${pageLog.slice(-40).join("\n")}`);
		console.error(`--- huddle-media\n${sfu.media.tail(60)}\n--- janus\n${sfu.janus.tail(30)}`);
	}
	await sfu?.stop();
});

function t(name: string, fn: () => Promise<void>): void {
	test(name, { timeout: 120000 }, async () => {
		try {
			await fn();
		} catch (e) {
			failed = true;
			throw e;
		}
	});
}

type SfuBody = { case: string; value: object };

/** Sends one participant's SfuRequest; returns the reply (error or body). */
async function sfuCall(meetingId: string, participantId: string, body: SfuBody) {
	const r = await media.call({ case: "sfu", value: { meetingId, participantId, request: { body } } });
	return {
		code: r.error?.code ?? ErrorCode.OK,
		message: r.error?.message ?? "",
		reply: r.body.case === "sfu" ? r.body.value : undefined,
	};
}

async function sfuOk(meetingId: string, participantId: string, body: SfuBody) {
	const r = await sfuCall(meetingId, participantId, body);
	assert.equal(r.code, ErrorCode.OK, `sfu ${body.case}: ${r.message}`);
	assert.ok(r.reply, `sfu ${body.case}: a reply body`);
	return r.reply!;
}

async function ok(body: SfuBody): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
	const r = await media.call(body);
	assert.equal(r.error?.code ?? ErrorCode.OK, ErrorCode.OK, `${body.case}: ${r.error?.message}`);
	return r.body.value;
}

async function openPage(name: string): Promise<Page> {
	const context = await browser.newContext();
	await context.grantPermissions(["camera", "microphone"], { origin });
	const page = await context.newPage();
	page.on("console", (m) => pageLog.push(`[${name}] ${m.type()}: ${m.text()}`));
	page.on("pageerror", (e) => pageLog.push(`[${name}] pageerror: ${e.message}`));
	await page.goto(origin, { timeout: 20000 });
	// One peer connection per page; its candidates are kept for the trickle.
	// (Page code reaches the DOM through globalThis: tests/tsconfig.json has
	// no DOM library, and adding it to the whole program breaks Node types.)
	await page.evaluate(() => {
		const w = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
		w.cands = [];
		w.gathered = false;
		w.pc = new w.RTCPeerConnection({});
		w.pc.onicecandidate = (e: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
			if (e.candidate && e.candidate.candidate) w.cands.push(e.candidate.toJSON());
			else if (!e.candidate) w.gathered = true;
		};
		// Received tracks are played, as a call page does.
		w.pc.ontrack = (e: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
			const el = w.document.createElement(e.track.kind === "video" ? "video" : "audio");
			el.autoplay = true;
			el.srcObject = new w.MediaStream([e.track]);
			w.document.body.appendChild(el);
			void el.play().catch((err: unknown) => console.error(`play: ${err}`));
		};
	});
	return page;
}

/** Trickles the page's candidates (once gathered) to the handle, then end-of-candidates. */
async function trickleAll(page: Page, meetingId: string, participantId: string, handle: number): Promise<number> {
	await waitFor("ICE gathering", () => page.evaluate(() => (globalThis as any).gathered as boolean), GATHER_MS, 100); // eslint-disable-line @typescript-eslint/no-explicit-any
	const cands = (await page.evaluate(() => (globalThis as any).cands)) as { candidate: string; sdpMid?: string; sdpMLineIndex?: number }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
	for (const c of cands) {
		await sfuOk(meetingId, participantId, {
			case: "trickle",
			value: { handle, candidate: c.candidate, sdpMid: c.sdpMid ?? "", sdpMlineIndex: c.sdpMLineIndex ?? 0 },
		});
	}
	await sfuOk(meetingId, participantId, { case: "trickle", value: { handle, completed: true } });
	return cands.length;
}

/** Sums of a page's inbound video frames decoded, audio samples (concealed ones included) and RTP packets received. */
function inbound(page: Page): Promise<{ frames: number; samples: number; packets: number }> {
	return page.evaluate(async () => {
		const stats: Map<string, any> = await (globalThis as any).pc.getStats(); // eslint-disable-line @typescript-eslint/no-explicit-any
		let frames = 0,
			samples = 0,
			packets = 0;
		stats.forEach((s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
			if (s.type !== "inbound-rtp") return;
			packets += s.packetsReceived ?? 0;
			if (s.kind === "video") frames += s.framesDecoded ?? 0;
			if (s.kind === "audio") samples += s.totalSamplesReceived ?? 0;
		});
		return { frames, samples, packets };
	});
}

/** The newest publisher list event of the meeting (undefined: none yet). */
function lastPublishers(meetingId: string) {
	for (let i = events.events.length - 1; i >= 0; i--) {
		const e = events.events[i];
		if (e.meetingId === meetingId && e.event?.body.case === "publishers") return e.event.body.value.publishers;
	}
	return undefined;
}

/** Answers Janus's subscriber offer in the page and starts the subscription with it; returns the answer. */
async function answerAndStart(page: Page, meetingId: string, participant: string, offer: string): Promise<string> {
	const answer = await page.evaluate(async (sdp) => {
		const w = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
		await w.pc.setRemoteDescription({ type: "offer", sdp });
		const ans = await w.pc.createAnswer();
		await w.pc.setLocalDescription(ans);
		return ans.sdp as string;
	}, offer);
	const started = await sfuOk(meetingId, participant, { case: "start", value: { answerSdp: answer } });
	assert.equal(started.body.case, "ok");
	return answer;
}

/**
 * Subscribes participant (a fresh page) to feed (mid "": all its streams):
 * Janus's offer, the page's answer, start, candidates trickled.
 */
async function subscribeTo(meetingId: string, participant: string, feed: string, name: string, mid = "") {
	const page = await openPage(name);
	const sub = await sfuOk(meetingId, participant, { case: "subscribe", value: { feeds: [{ participantId: feed, mid }] } });
	assert.equal(sub.body.case, "subscribe");
	const offer = (sub.body.value as { offerSdp: string }).offerSdp;
	assert.match(offer, /m=video/, `Janus's subscriber offer for ${name} carries the feed's video`);
	if (mid === "") assert.match(offer, /m=audio/, "... and its audio");
	else assert.doesNotMatch(offer, /m=audio/, `... and only the stream ${mid} named`);
	const answer = await answerAndStart(page, meetingId, participant, offer);
	await trickleAll(page, meetingId, participant, SFU_HANDLE_SUBSCRIBER);
	return { page, offer, answer };
}

/** The mid of the first m= section of kind in sdp. */
function midOf(sdp: string, kind: string): string {
	const section = sdp.split(/^(?=m=)/m).find((x) => x.startsWith(`m=${kind}`));
	const mid = section && /^a=mid:(\S+)/m.exec(section);
	assert.ok(mid, `a ${kind} mid in ${sdp.slice(0, 200)}...`);
	return mid[1];
}

/** Waits (bounded) until the page decodes video frames and receives audio samples; returns the counters. */
async function flowing(page: Page, name: string): Promise<{ frames: number; samples: number; packets: number }> {
	let last = { frames: 0, samples: 0, packets: 0 };
	try {
		await waitFor(`${name} decoding video and receiving audio`, async () => {
			last = await inbound(page);
			return last.frames > 0 && last.samples > 0;
		}, MEDIA_MS, 250);
	} catch (e) {
		const states = await page.evaluate(() => `${(globalThis as any).pc.connectionState} ${(globalThis as any).pc.iceConnectionState}`); // eslint-disable-line @typescript-eslint/no-explicit-any
		throw new Error(`${e}; last ${JSON.stringify(last)}; ${name}'s connection ${states}`);
	}
	return last;
}

const SFU_HANDLE_PUBLISHER = 1;
const SFU_HANDLE_SUBSCRIBER = 2;

t("a page publishes through huddle-media and Janus; another subscribes and decodes its video and audio", async () => {
	const m = newId(),
		a = newId(),
		b = newId(),
		c = newId();
	await ok({ case: "ensureRoom", value: { meetingId: m } });
	await ok({ case: "allow", value: { meetingId: m, participantId: a } });
	await ok({ case: "allow", value: { meetingId: m, participantId: b } });

	// A trickle before any publish has no handle to go to.
	const early = await sfuCall(m, a, { case: "trickle", value: { handle: SFU_HANDLE_PUBLISHER, completed: true } });
	assert.equal(early.code, ErrorCode.BAD_REQUEST, early.message);

	const pa = await openPage("A");
	const offer = await pa.evaluate(async () => {
		const w = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
		const s = await w.navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 } });
		// A steady loud tone instead of the fake microphone's short beeps, so
		// that Janus's audio level (averaged over 2 s) says A is talking.
		const ctx = new w.AudioContext();
		const osc = ctx.createOscillator();
		const dest = ctx.createMediaStreamDestination();
		osc.connect(dest);
		osc.start();
		w.tone = ctx;
		for (const track of [...dest.stream.getAudioTracks(), ...s.getVideoTracks()])
			w.pc.addTransceiver(track, { direction: "sendonly" });
		const o = await w.pc.createOffer();
		await w.pc.setLocalDescription(o);
		return o.sdp as string;
	});
	const pub = await sfuOk(m, a, { case: "publish", value: { offerSdp: offer, audio: true, video: true } });
	assert.equal(pub.body.case, "publish");
	const answer = (pub.body.value as { answerSdp: string }).answerSdp;
	assert.match(answer, /^v=0/, "Janus's answer is an SDP");
	await pa.evaluate((sdp) => (globalThis as any).pc.setRemoteDescription({ type: "answer", sdp }), answer); // eslint-disable-line @typescript-eslint/no-explicit-any
	const na = await trickleAll(pa, m, a, SFU_HANDLE_PUBLISHER);
	assert.ok(na > 0, "A gathered candidates to trickle");

	// The meeting's publisher list: A, with an audio and a video stream.
	await waitFor("a publishers event listing A", () => {
		const list = lastPublishers(m);
		const mine = list?.find((p) => p.participantId === a);
		return !!mine && mine.streams.some((s) => s.kind === "audio") && mine.streams.some((s) => s.kind === "video");
	}, EVENT_MS, 50);

	// B subscribes to A's video first (its mid in A's offer), then adds A's
	// audio: the update's new offer, answered and started again.
	const { page: pb } = await subscribeTo(m, b, a, "B", midOf(offer, "video"));
	const upd = await sfuOk(m, b, { case: "subscribe", value: { feeds: [{ participantId: a, mid: midOf(offer, "audio") }] } });
	assert.equal(upd.body.case, "subscribe");
	const subOffer = (upd.body.value as { offerSdp: string }).offerSdp;
	assert.match(subOffer, /m=video/, "the updated offer keeps A's video");
	assert.match(subOffer, /m=audio/, "... and adds A's audio");
	const subAnswer = await answerAndStart(pb, m, b, subOffer);
	const first = await flowing(pb, "B");
	await sleep(GROW_MS);
	const later = await inbound(pb);
	assert.ok(later.frames > first.frames, `B's framesDecoded grows (${first.frames} -> ${later.frames})`);
	assert.ok(later.samples > first.samples, `B's audio samples grow (${first.samples} -> ${later.samples})`);

	// C subscribes too, then a host removes C (revoke): C's handles are
	// detached, so C stops receiving while B goes on.
	await ok({ case: "allow", value: { meetingId: m, participantId: c } });
	const { page: pc } = await subscribeTo(m, c, a, "C");
	await flowing(pc, "C");
	await ok({ case: "revoke", value: { meetingId: m, participantId: c } });
	let cPrev = await inbound(pc);
	await waitFor("C no longer receiving", async () => {
		await sleep(GROW_MS);
		const now = await inbound(pc);
		// Packets, not samples: Chromium counts concealed audio samples as received.
		const still = now.frames === cPrev.frames && now.packets === cPrev.packets;
		cPrev = now;
		return still;
	}, MEDIA_MS, 0);
	const bBefore = await inbound(pb);
	await sleep(GROW_MS);
	const bAfter = await inbound(pb);
	assert.ok(bAfter.frames > bBefore.frames, `B still decodes after C's removal (${bBefore.frames} -> ${bAfter.frames})`);
	const cStart = await sfuCall(m, c, { case: "start", value: { answerSdp: subAnswer } });
	assert.equal(cStart.code, ErrorCode.BAD_REQUEST, `C's subscription is gone: ${cStart.message}`);
	const cAgain = await sfuCall(m, c, { case: "subscribe", value: { feeds: [{ participantId: a, mid: "" }] } });
	assert.equal(cAgain.code, ErrorCode.FORBIDDEN, `C cannot subscribe again: ${cAgain.message}`);
	await pc.context().close();

	// B, in the room to subscribe (a publisher without media), now publishes
	// its camera too from a second connection: the configure path.
	const bOffer = await pb.evaluate(async () => {
		const w = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
		w.pub = new w.RTCPeerConnection({});
		const s = await w.navigator.mediaDevices.getUserMedia({ video: true });
		for (const track of s.getTracks()) w.pub.addTransceiver(track, { direction: "sendonly" });
		const o = await w.pub.createOffer();
		await w.pub.setLocalDescription(o);
		return o.sdp as string;
	});
	const bPub = await sfuOk(m, b, { case: "publish", value: { offerSdp: bOffer, video: true } });
	assert.equal(bPub.body.case, "publish");
	const bAnswer = (bPub.body.value as { answerSdp: string }).answerSdp;
	assert.match(bAnswer, /^v=0/);
	await pb.evaluate((sdp) => (globalThis as any).pub.setRemoteDescription({ type: "answer", sdp }), bAnswer); // eslint-disable-line @typescript-eslint/no-explicit-any
	await waitFor("a publishers event listing A and B", () => {
		const list = lastPublishers(m);
		return !!list && list.some((p) => p.participantId === a) && list.some((p) => p.participantId === b);
	}, EVENT_MS, 50);

	// A's steady tone: Janus says A is talking (audiolevel_event, rooms.c).
	await waitFor("a talking event for A", () => events.events.some((e) =>
		e.meetingId === m && e.participantId === "" && e.event?.body.case === "talking" &&
		e.event.body.value.participantId === a && e.event.body.value.talking), MEDIA_MS, 100);

	// Layer choice on B's subscriber (A sends no simulcast: layer 0) is accepted.
	await sfuOk(m, b, { case: "configure", value: { streams: [{ participantId: a, mid: midOf(subOffer, "video"), substream: 0 }] } });

	// A renegotiates (the same offer again): configure, and an answer back.
	const again = await sfuOk(m, a, { case: "publish", value: { offerSdp: offer } });
	assert.match((again.body.value as { answerSdp: string }).answerSdp, /^v=0/, "a renegotiation is answered");

	// A unpublishes: the list no longer has A.
	await sfuOk(m, a, { case: "unpublish", value: {} });
	await waitFor("a publishers event without A", () => {
		const list = lastPublishers(m);
		return !!list && !list.some((p) => p.participantId === a);
	}, EVENT_MS, 50);

	// B's subscription carried A's streams: Janus renegotiates it, and B is told.
	await waitFor("a subscriber offer for B", () => events.events.some((e) =>
		e.meetingId === m && e.participantId === b && e.event?.body.case === "subscriberOffer" &&
		/^v=0/.test(e.event.body.value.offerSdp)), EVENT_MS, 50);

	// huddle-media's connection to Janus cut: the meeting hears its SFU media stopped.
	sfu.relay.cut();
	await waitFor("media stopped for the meeting", () => events.events.some((e) =>
		e.meetingId === m && e.participantId === "" && e.event?.body.case === "mediaStopped" &&
		e.event.body.value.reconnecting), EVENT_MS, 50);
	await waitFor("huddle-media's Janus session back", async () => {
		const r = await media.call({ case: "health", value: {} });
		return r.body.case === "health" && r.body.value.janusConnected;
	}, READY_MS, 100);

	// The session was claimed, so the handles still exist: leave detaches them.
	await sfuOk(m, b, { case: "leave", value: {} });
	await sfuOk(m, a, { case: "leave", value: {} });
	// After a leave the participant starts over: a start has no subscription.
	const gone = await sfuCall(m, b, { case: "start", value: { answerSdp: subAnswer } });
	assert.equal(gone.code, ErrorCode.BAD_REQUEST, gone.message);
	await pa.context().close();
	await pb.context().close();
});

t("refusals: no allow (no token) is FORBIDDEN, an SDP over MEDIA_SDP_MAX BAD_REQUEST, no room UNKNOWN_MEETING", async () => {
	const m = newId(),
		allowed = newId(),
		stranger = newId();
	await ok({ case: "ensureRoom", value: { meetingId: m } });
	await ok({ case: "allow", value: { meetingId: m, participantId: allowed } });
	const page = await openPage("C");
	const offer = await page.evaluate(async () => {
		const w = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
		const s = await w.navigator.mediaDevices.getUserMedia({ audio: true, video: true });
		for (const track of s.getTracks()) w.pc.addTransceiver(track, { direction: "sendonly" });
		const o = await w.pc.createOffer();
		return o.sdp as string;
	});
	await page.context().close();

	const forbidden = await sfuCall(m, stranger, { case: "publish", value: { offerSdp: offer } });
	assert.equal(forbidden.code, ErrorCode.FORBIDDEN, `a participant never allowed: ${forbidden.message}`);
	const subForbidden = await sfuCall(m, stranger, { case: "subscribe", value: { feeds: [{ participantId: allowed, mid: "" }] } });
	assert.equal(subForbidden.code, ErrorCode.FORBIDDEN, `... nor subscribe: ${subForbidden.message}`);

	const big = "v=0\r\n" + "a=x\r\n".repeat(Math.ceil(MEDIA_SDP_MAX / 5));
	assert.ok(big.length > MEDIA_SDP_MAX);
	const tooBig = await sfuCall(m, allowed, { case: "publish", value: { offerSdp: big } });
	assert.equal(tooBig.code, ErrorCode.BAD_REQUEST, tooBig.message);
	assert.match(tooBig.message, /MEDIA_SDP_MAX/);

	const noRoom = await sfuCall(newId(), allowed, { case: "publish", value: { offerSdp: offer } });
	assert.equal(noRoom.code, ErrorCode.UNKNOWN_MEETING, `a meeting without a room: ${noRoom.message}`);

	const notId = await sfuCall(m, "not-an-id", { case: "publish", value: { offerSdp: offer } });
	assert.equal(notId.code, ErrorCode.BAD_REQUEST, notId.message);

	// The allowed participant is let in with the same offer (the token works).
	const pub = await sfuOk(m, allowed, { case: "publish", value: { offerSdp: offer } });
	assert.equal(pub.body.case, "publish");
	await sfuOk(m, allowed, { case: "leave", value: {} });
	await sfuOk(m, stranger, { case: "leave", value: {} });
});
