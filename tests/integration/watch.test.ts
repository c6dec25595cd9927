// Watch together (issue 12), over real sockets against the real gateway,
// registry and Redis: the shared player's state machine (start, play,
// pause, seek, rate, stop) reaches everyone as watch_state_event with the
// registry's seq and time; a late joiner's JoinReply (and an admitted
// guest's admission) carries the state; validation (URL, position, rate,
// action, nothing being watched, not joined, waiting) refuses and changes
// nothing; the state ends when the call empties.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, fetchBounded, HuddleClient, type ClientBody } from "../lib/client.ts";
import { ErrorCode, type JoinReply } from "../lib/proto.ts";
import { AdmissionState, WatchAction, type WatchState } from "../../web/src/gen/huddle/v1/common_pb.ts";

const suite = useStack();
const QUIET_MS = 600;
const VIDEO = "https://videos.example.org/clip.webm";
// Registry limits (services/registry/watch.h).
const URL_MAX = 2048;

const clientKey = () => randomBytes(12).toString("base64url");

async function join(c: HuddleClient, meetingId: string, name: string, hostKey = ""): Promise<JoinReply> {
	const m = await c.request({ case: "join", value: { meetingId, displayName: name, hostKey, clientKey: clientKey() } } as never);
	if (m.body.case !== "join") throw new Error(`${c.label}: join got ${m.body.case}`);
	c.participantId = m.body.value.participantId;
	c.meetingId = meetingId;
	return m.body.value;
}

function watchBody(action: WatchAction, v: { url?: string; positionMs?: number; rate?: number } = {}): ClientBody {
	return { case: "watch", value: { action, url: v.url ?? "", positionMs: BigInt(v.positionMs ?? 0), rate: v.rate ?? 0 } } as never;
}

/** Sends a watch request and returns the state of its reply. */
async function watch(c: HuddleClient, action: WatchAction, v: { url?: string; positionMs?: number; rate?: number } = {}): Promise<WatchState> {
	const r = await c.call(watchBody(action, v), "watch");
	assert.ok(r.state, `${c.label}: WatchReply without a state`);
	return r.state;
}

/** The next watch_state_event c receives with this seq. */
async function eventSeq(c: HuddleClient, seq: bigint): Promise<WatchState> {
	const ev = await c.nextEvent("watchStateEvent", 5000, (e) => e.state?.seq === seq);
	return ev.state!;
}

async function refused(c: HuddleClient, body: ClientBody, code: ErrorCode): Promise<string> {
	const e = await c.expectError(body);
	assert.equal(e.code, code, `${c.label}: ${ErrorCode[e.code]} "${e.message}", want ${ErrorCode[code]}`);
	return e.message;
}

suite.test("play, pause, seek, rate and stop reach everyone; a late joiner gets the state", async (stack, track) => {
	const { id } = await createMeeting(stack.httpUrl, "watch");
	const a = track(await connect(stack.wsUrl, "a"));
	const b = track(await connect(stack.wsUrl, "b"));
	const aj = await join(a, id, "Ada");
	const bj = await join(b, id, "Bob");
	assert.equal(aj.watch?.url ?? "", "", "nothing is watched at first");
	assert.equal(bj.watch?.url ?? "", "");

	const before = Date.now();
	const started = await watch(a, WatchAction.START, { url: VIDEO });
	assert.equal(started.url, VIDEO);
	assert.equal(started.playing, false);
	assert.equal(started.positionMs, 0n);
	assert.equal(started.rate, 1);
	assert.equal(started.by, aj.participantId);
	assert.equal(started.byName, "Ada");
	assert.equal(started.action, WatchAction.START);
	assert.ok(started.serverTimeMs >= BigInt(before - 1000), "the reply carries the gateway's clock");
	const seq0 = started.seq;
	const onB = await eventSeq(b, seq0);
	assert.deepEqual([onB.url, onB.playing, onB.by], [VIDEO, false, aj.participantId]);
	// The requester gets the event too (its other tabs, and one order for all).
	await eventSeq(a, seq0);

	// Bob plays from 1 s: Ada sees it.
	const played = await watch(b, WatchAction.PLAY, { positionMs: 1000 });
	assert.equal(played.seq, seq0 + 1n);
	const onA = await eventSeq(a, seq0 + 1n);
	assert.deepEqual([onA.playing, onA.positionMs, onA.by, onA.action], [true, 1000n, bj.participantId, WatchAction.PLAY]);
	assert.ok(onA.updatedAtMs > 0n && onA.serverTimeMs >= onA.updatedAtMs - 1000n);

	// Rate 1.5 keeps the position where it was when asked.
	await new Promise((r) => setTimeout(r, 300));
	const rated = await watch(a, WatchAction.RATE, { rate: 1.5 });
	const elapsed = Number(rated.updatedAtMs - played.updatedAtMs);
	assert.equal(rated.rate, 1.5);
	assert.equal(rated.playing, true);
	assert.ok(Math.abs(Number(rated.positionMs) - (1000 + elapsed)) <= 2, `position ${rated.positionMs} after ${elapsed} ms at rate 1`);
	await eventSeq(b, rated.seq);

	// Seek keeps playing; pause freezes at the given position.
	const sought = await watch(b, WatchAction.SEEK, { positionMs: 60_000 });
	assert.deepEqual([sought.positionMs, sought.playing, sought.rate], [60_000n, true, 1.5]);
	assert.equal((await eventSeq(a, sought.seq)).positionMs, 60_000n);

	// A late joiner gets the state: it computes where the video is now.
	const c = track(await connect(stack.wsUrl, "c"));
	const cj = await join(c, id, "Cy");
	assert.ok(cj.watch, "JoinReply carries the shared player");
	assert.equal(cj.watch.url, VIDEO);
	assert.equal(cj.watch.seq, sought.seq);
	assert.equal(cj.watch.positionMs, 60_000n);
	assert.equal(cj.watch.playing, true);
	const now = Number(cj.watch.serverTimeMs);
	const pos = Number(cj.watch.positionMs) + (now - Number(cj.watch.updatedAtMs)) * cj.watch.rate;
	assert.ok(pos >= 60_000 && pos < 60_000 + 5000 * 1.5, `late joiner's position ${pos}`);

	const paused = await watch(c, WatchAction.PAUSE, { positionMs: 61_234 });
	for (const x of [a, b]) {
		const s = await eventSeq(x, paused.seq);
		assert.deepEqual([s.playing, s.positionMs, s.byName], [false, 61_234n, "Cy"]);
	}
	// Paused: a later joiner sees exactly that position.
	const d = track(await connect(stack.wsUrl, "d"));
	const dj = await join(d, id, "Di");
	assert.deepEqual([dj.watch?.playing, dj.watch?.positionMs], [false, 61_234n]);

	// Stop closes it for all, and the next joiner gets nothing.
	const stopped = await watch(b, WatchAction.STOP);
	assert.equal(stopped.url, "");
	assert.equal(stopped.action, WatchAction.STOP);
	for (const x of [a, c, d]) assert.equal((await eventSeq(x, stopped.seq)).url, "");
	// Stopping again is no change: no event.
	await watch(a, WatchAction.STOP);
	assert.equal((await a.collect((m) => m.body.case === "watchStateEvent" && m.body.value.state!.seq > stopped.seq, QUIET_MS)).length, 0);
	const e = track(await connect(stack.wsUrl, "e"));
	assert.equal((await join(e, id, "Ed")).watch?.url, "");
	// A new start after a stop continues the sequence (no stale event outranks it).
	const again = await watch(e, WatchAction.START, { url: "http://127.0.0.1:9/v.mp4" });
	assert.ok(again.seq > stopped.seq, `seq ${again.seq} after ${stopped.seq}`);
});

suite.test("bad URL, position, rate or action, nothing watched, not joined and waiting are refused and change nothing", async (stack, track) => {
	const { id, host_key } = await createMeeting(stack.httpUrl, "watch validation");
	const a = track(await connect(stack.wsUrl, "a"));
	const b = track(await connect(stack.wsUrl, "b"));
	await join(a, id, "Ada");
	await join(b, id, "Bob");

	// Not joined: a fresh connection.
	const stranger = track(await connect(stack.wsUrl, "stranger"));
	await refused(stranger, watchBody(WatchAction.START, { url: VIDEO }), ErrorCode.NOT_JOINED);

	// Nothing is being watched yet.
	assert.match(await refused(a, watchBody(WatchAction.PLAY, { positionMs: 0 }), ErrorCode.BAD_REQUEST), /nothing is being watched/);
	await refused(a, watchBody(WatchAction.RATE, { rate: 1 }), ErrorCode.BAD_REQUEST);

	for (const url of ["", "ftp://example.org/a.mp4", "javascript:alert(1)", "file:///etc/passwd", "http://", "https:///path", "http://exa mple.org/a.mp4", "http://example.org/a\n.mp4", `https://example.org/${"a".repeat(URL_MAX)}`, "/relative.mp4"]) {
		const why = await refused(a, watchBody(WatchAction.START, { url }), ErrorCode.BAD_REQUEST);
		assert.match(why, /url must be an http:\/\/ or https:\/\/ URL of at most 2048 bytes/, JSON.stringify(url));
	}
	await refused(a, watchBody(WatchAction.UNSPECIFIED), ErrorCode.BAD_REQUEST);
	await refused(a, watchBody(99 as WatchAction), ErrorCode.BAD_REQUEST);
	assert.equal((await b.collect((m) => m.body.case === "watchStateEvent", QUIET_MS)).length, 0, "a refused request publishes nothing");

	const s = await watch(a, WatchAction.START, { url: `https://example.org/${"a".repeat(URL_MAX - 20)}` });
	assert.equal(s.url.length, URL_MAX);
	for (const rate of [0, 0.24, 2.01, 16, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
		assert.match(await refused(b, watchBody(WatchAction.RATE, { rate }), ErrorCode.BAD_REQUEST), /rate must be 0\.25 to 2/, String(rate));
	}
	for (const positionMs of [-1, 48 * 3600_000 + 1]) {
		await refused(b, watchBody(WatchAction.SEEK, { positionMs }), ErrorCode.BAD_REQUEST);
		await refused(b, watchBody(WatchAction.PLAY, { positionMs }), ErrorCode.BAD_REQUEST);
	}
	// Nothing of that changed the state.
	const c = track(await connect(stack.wsUrl, "c"));
	const cj = await join(c, id, "Cy");
	assert.deepEqual([cj.watch?.seq, cj.watch?.rate, cj.watch?.playing, cj.watch?.positionMs], [s.seq, 1, false, 0n]);
	for (const rate of [0.25, 2]) assert.equal((await watch(b, WatchAction.RATE, { rate })).rate, rate);

	// A waiting guest may not touch the player (and gets no state).
	const r = await fetchBounded(`${stack.httpUrl}/api/meetings/${id}/access`, {
		method: "POST",
		headers: { "content-type": "application/json", authorization: `Bearer ${host_key}` },
		body: JSON.stringify({ access_mode: "waiting_room" }),
	});
	assert.equal(r.status, 200);
	const w = track(await connect(stack.wsUrl, "w"));
	const wj = await join(w, id, "Wendy");
	assert.equal(wj.admission, AdmissionState.WAITING);
	assert.equal(wj.watch, undefined, "the waiting room gets no shared player");
	await refused(w, watchBody(WatchAction.PAUSE, { positionMs: 0 }), ErrorCode.FORBIDDEN);
	await refused(w, watchBody(WatchAction.STOP), ErrorCode.FORBIDDEN);
	assert.equal((await w.collect((m) => m.body.case === "watchStateEvent", QUIET_MS)).length, 0, "nor its events");

	// Admitted, it gets the state with its admission.
	const host = track(await connect(stack.wsUrl, "host"));
	await join(host, id, "Host", host_key);
	await host.call({ case: "admit", value: { participantIds: [wj.participantId] } } as never, "admit");
	const ad = await w.nextEvent("admissionEvent");
	assert.equal(ad.state, AdmissionState.ADMITTED);
	assert.equal(ad.join?.watch?.url, s.url, "an admitted guest starts with the shared player");
	const paused = await watch(w, WatchAction.PAUSE, { positionMs: 500 });
	assert.equal((await eventSeq(a, paused.seq)).byName, "Wendy");
});

suite.test("the shared player ends when the call empties", async (stack, track) => {
	const { id } = await createMeeting(stack.httpUrl, "watch empties");
	const a = track(await connect(stack.wsUrl, "a"));
	const b = track(await connect(stack.wsUrl, "b"));
	await join(a, id, "Ada");
	await join(b, id, "Bob");
	await watch(a, WatchAction.START, { url: VIDEO });
	await watch(a, WatchAction.PLAY, { positionMs: 0 });
	// One leaves: it goes on for the other.
	await b.leave();
	const b2 = track(await connect(stack.wsUrl, "b2"));
	assert.equal((await join(b2, id, "Bob again")).watch?.url, VIDEO);
	await b2.leave();
	// The last one leaves: it is over.
	await a.leave();
	const n = track(await connect(stack.wsUrl, "n"));
	const nj = await join(n, id, "New");
	assert.equal(nj.watch?.url, "", "an empty call keeps no shared player");
	await refused(n, watchBody(WatchAction.PLAY, { positionMs: 0 }), ErrorCode.BAD_REQUEST);
});
