// Shared documents through the gateway with real daemons (registry,
// huddle-notes, two gateways): subscription without joining the call, updates
// delivered in seq order once each on both gateways, idempotent re-sends,
// awareness relayed but never echoed or stored, snapshots and versions, a 1 MiB
// snapshot through FrameChunk both ways and the HTTP export of its text,
// limits, malformed chunk sequences, and huddle-notes outages.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { useStack } from "../lib/harness.ts";
import {
	chunkFrame,
	chunkFrames,
	connect,
	createMeeting,
	describe as describeMsg,
	fetchBounded,
	httpGet,
	CHUNK_PART_MAX,
	FRAME_MAX,
	HuddleClient,
	HuddleError,
} from "../lib/client.ts";
import { create, toBinary, ClientMessageSchema, DocumentKind, ErrorCode, type NotesUpdate } from "../lib/proto.ts";
import { sleep, waitFor } from "../lib/stack.ts";

const NOTES = DocumentKind.NOTES;
const CODE = DocumentKind.CODE;
const AWARENESS_RATE = 5;
const suite = useStack({
	gateways: 2,
	notesTimeoutMs: 2000,
	gatewayEnv: { WS_RATE: "2000", WS_BURST: "2000", NOTES_UPDATE_RATE: "1000", NOTES_AWARENESS_RATE: String(AWARENESS_RATE) },
});

const DOWN_ERRORS = [ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT];
const seqs = (us: NotesUpdate[]) => us.map((u) => Number(u.seq));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const uid = (p = "u") => `${p}-${randomBytes(6).toString("hex")}`;
const bytes = (n: number, fill?: number) => (fill === undefined ? new Uint8Array(randomBytes(n)) : new Uint8Array(n).fill(fill));

/** True (with a visible SKIP line) when the stack runs without huddle-notes (not built yet). */
function noNotes(s: { hasNotes: boolean }): boolean {
	if (!s.hasNotes) console.log("# SKIP: huddle-notes is not built; nothing to test");
	return !s.hasNotes;
}

async function expectCode(p: Promise<unknown>, codes: ErrorCode[], what: string): Promise<HuddleError> {
	try {
		await p;
	} catch (e) {
		if (e instanceof HuddleError) {
			assert.ok(codes.includes(e.code), `${what}: expected ${codes.map((c) => ErrorCode[c]).join("/")}, got ${e.message}`);
			return e;
		}
		throw e;
	}
	assert.fail(`${what}: expected ${codes.map((c) => ErrorCode[c]).join("/")}, got a reply`);
}

/** Waits (bounded) until c has notes_update_events of `document` up to seq `last`; returns them all. */
async function eventsUpTo(c: HuddleClient, document: DocumentKind, last: number, timeoutMs = 10000): Promise<NotesUpdate[]> {
	await waitFor(`${c.label}: notes_update_event of ${DocumentKind[document]} up to seq ${last}`, () => c.notesUpdates(document).some((u) => Number(u.seq) >= last), timeoutMs, 20);
	return c.notesUpdates(document);
}

/** A subscribed client on gateway `g` (default 0). */
async function subscriber(s: { gateways: readonly { wsUrl: string }[] }, meetingId: string, label: string, g = 0): Promise<HuddleClient> {
	const c = await connect(s.gateways[g].wsUrl, label);
	await c.notesSubscribe(meetingId);
	return c;
}

suite.test("notes_subscribe without joining the call; unknown meetings; requests before subscribing; one meeting per connection", async (s, track) => {
	if (noNotes(s)) return;
	const a = track(await connect(s.wsUrl, "A"));
	await expectCode(a.notesSubscribe("AAAAAAAAAAAAAAAAAAAAAA"), [ErrorCode.UNKNOWN_MEETING], "unknown id");
	await expectCode(a.notesSubscribe("not-an-id"), [ErrorCode.UNKNOWN_MEETING], "malformed id");
	await expectCode(a.notesOpen(NOTES), [ErrorCode.NOT_JOINED], "open before subscribing");
	await expectCode(a.notesUpdate(NOTES, uid(), bytes(3)), [ErrorCode.NOT_JOINED], "update before subscribing");
	await expectCode(a.notesAwareness(NOTES, bytes(3)), [ErrorCode.NOT_JOINED], "awareness before subscribing");
	await expectCode(a.notesVersions(NOTES), [ErrorCode.NOT_JOINED], "versions before subscribing");
	const meeting = await createMeeting(s.httpUrl, "notes basics");
	// Joining the call does not subscribe the documents; the chat subscription neither.
	await a.join(meeting.id, "Alice");
	await expectCode(a.notesOpen(NOTES), [ErrorCode.NOT_JOINED], "open after join");
	const sub = await a.notesSubscribe(meeting.id);
	assert.equal(sub.meeting?.id, meeting.id);
	assert.equal(sub.meeting?.title, "notes basics");
	assert.equal(sub.notesLastSeq, 0n);
	assert.equal(sub.codeLastSeq, 0n);
	assert.equal((await a.notesSubscribe(meeting.id)).notesLastSeq, 0n, "again: a no-op");
	const other = await createMeeting(s.httpUrl);
	await expectCode(a.notesSubscribe(other.id), [ErrorCode.BAD_REQUEST], "a second meeting on one connection");
	await expectCode(a.notesOpen(DocumentKind.UNSPECIFIED), [ErrorCode.BAD_REQUEST], "document 0");
	await expectCode(a.notesOpen(7 as DocumentKind), [ErrorCode.BAD_REQUEST], "document 7");

	// Someone who never joins the call reads and writes; author_id only in the call.
	const reader = track(await subscriber(s, meeting.id, "Reader", 1));
	const mine = await reader.notesUpdate(CODE, "r-1", bytes(10), "Rita");
	assert.equal(mine.seq, 1n);
	assert.equal(mine.document, CODE);
	assert.equal(mine.meetingId, meeting.id);
	assert.equal(mine.authorId, "", "not in the call: no participant id");
	assert.equal(mine.authorName, "Rita");
	assert.ok(Math.abs(Number(mine.storedAtMs) - Date.now()) < 60000, "storedAtMs is server time");
	const inCall = await a.notesUpdate(CODE, "a-1", bytes(10), "Alice");
	assert.equal(inCall.seq, 2n);
	assert.equal(inCall.authorId, a.participantId, "in the call: the participant id");
	const opened = await reader.notesOpen(CODE);
	assert.equal(opened.document, CODE);
	assert.equal(opened.snapshot, undefined);
	assert.deepEqual(seqs(opened.updates), [1, 2]);
	assert.equal(opened.lastSeq, 2n);
	assert.equal(opened.more, false);
	// A later subscriber learns where each document stands.
	const late = track(await subscriber(s, meeting.id, "Late"));
	const lateSub = await late.notesSubscribe(meeting.id);
	assert.equal(lateSub.codeLastSeq, 2n);
	assert.equal(lateSub.notesLastSeq, 0n);
});

suite.test("two gateways: every subscriber gets every update once, in seq order per document, large ones in chunks", async (s, track) => {
	if (noNotes(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const clients: HuddleClient[] = [];
	for (let i = 0; i < 4; i++) clients.push(track(await subscriber(s, meeting.id, `C${i}`, i % 2)));
	const N = 20;
	// Every fifth update is over one frame, so its event travels in chunks between small ones.
	await Promise.all(
		clients.map(async (c, i) => {
			for (let k = 0; k < N; k++) {
				const doc = k % 2 === 0 ? NOTES : CODE;
				const size = k % 5 === 4 ? 70 * 1024 : 20 + k;
				await c.notesUpdate(doc, `c${i}-${k}`, bytes(size, k));
			}
		}),
	);
	const perDoc = (N / 2) * clients.length;
	for (const c of clients) {
		for (const doc of [NOTES, CODE]) {
			const got = await eventsUpTo(c, doc, perDoc);
			assert.deepEqual(seqs(got), range(1, perDoc), `${c.label}: ${DocumentKind[doc]} events 1..${perDoc} in order, once`);
		}
		assert.ok(c.chunkedIn >= 8, `${c.label}: the 70 KiB updates came in chunks (${c.chunkedIn} chunked messages)`);
	}
	// The events are the stored updates, byte for byte.
	const opened = await clients[1].notesOpen(NOTES);
	assert.deepEqual(
		opened.updates.map((u) => [u.clientUpdateId, Buffer.from(u.data).toString("hex")]),
		clients[0].notesUpdates(NOTES).map((u) => [u.clientUpdateId, Buffer.from(u.data).toString("hex")]),
	);
});

suite.test("the same client_update_id again: same seq, stored once, delivered once", async (s, track) => {
	if (noNotes(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await subscriber(s, meeting.id, "A", 0));
	const b = track(await subscriber(s, meeting.id, "B", 1));
	const first = await a.notesUpdate(NOTES, "same-id", bytes(5, 1));
	const again = await a.notesUpdate(NOTES, "same-id", bytes(5, 1));
	const fromB = await b.notesUpdate(NOTES, "same-id", bytes(9, 2));
	assert.equal(again.seq, first.seq);
	assert.equal(fromB.seq, first.seq);
	const next = await b.notesUpdate(NOTES, "next-id", bytes(5, 3));
	assert.equal(next.seq, first.seq + 1n);
	await eventsUpTo(a, NOTES, 2);
	await eventsUpTo(b, NOTES, 2);
	await sleep(400); // room for stray duplicates (huddle-notes publishes a duplicate again)
	assert.deepEqual(seqs(a.notesUpdates(NOTES)), [1, 2]);
	assert.deepEqual(seqs(b.notesUpdates(NOTES)), [1, 2]);
	assert.deepEqual(seqs((await b.notesOpen(NOTES)).updates), [1, 2]);
});

suite.test("awareness reaches the other editors on both gateways, never its origin, and is not stored", async (s, track) => {
	if (noNotes(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await subscriber(s, meeting.id, "A", 0));
	const b = track(await subscriber(s, meeting.id, "B", 0));
	const c = track(await subscriber(s, meeting.id, "C", 1));
	const cursor = new TextEncoder().encode(JSON.stringify({ user: { name: "Ann", color: "#f00" }, cursor: { anchor: 4 } }));
	await a.notesAwareness(CODE, cursor);
	for (const other of [b, c]) {
		const ev = await other.nextEvent("notesAwarenessEvent", 5000);
		assert.equal(ev.document, CODE);
		assert.equal(ev.meetingId, meeting.id);
		assert.deepEqual([...ev.data], [...cursor]);
		assert.ok(ev.origin.length > 0, "the origin names a connection");
	}
	await c.notesAwareness(NOTES, bytes(100));
	await a.nextEvent("notesAwarenessEvent", 5000, (e) => e.document === NOTES);
	await b.nextEvent("notesAwarenessEvent", 5000, (e) => e.document === NOTES);
	await sleep(400);
	assert.equal(a.notesAwarenessEvents().length, 1, "A's own awareness is not echoed back");
	assert.equal(c.notesAwarenessEvents().length, 1, "C's own awareness is not echoed back");
	// Not stored: nothing in the documents, nothing for a later subscriber.
	for (const doc of [NOTES, CODE]) {
		const o = await b.notesOpen(doc);
		assert.equal(o.updates.length, 0);
		assert.equal(o.lastSeq, 0n);
	}
	const late = track(await subscriber(s, meeting.id, "Late", 1));
	await sleep(300);
	assert.equal(late.notesAwarenessEvents().length, 0);
	// Validation and the rate limit.
	await expectCode(a.notesAwareness(NOTES, new Uint8Array(0)), [ErrorCode.BAD_REQUEST], "empty awareness");
	await expectCode(a.notesAwareness(NOTES, bytes(16385)), [ErrorCode.TOO_LARGE], "16385 bytes of awareness");
	const results = await Promise.allSettled(Array.from({ length: AWARENESS_RATE * 4 }, () => b.notesAwareness(NOTES, bytes(10))));
	const limited = results.filter((r) => r.status === "rejected" && r.reason instanceof HuddleError && r.reason.code === ErrorCode.RATE_LIMITED);
	assert.ok(limited.length > 0, "a burst over NOTES_AWARENESS_RATE is RATE_LIMITED");
	assert.ok(results.some((r) => r.status === "fulfilled"), "the burst allowance passes");
	assert.ok(b.isOpen, "rate limiting does not close the connection");
});

suite.test("a 1 MiB snapshot through chunks both ways; open, version and the HTTP export return it", async (s, track) => {
	if (noNotes(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await subscriber(s, meeting.id, "A", 0));
	const b = track(await subscriber(s, meeting.id, "B", 1));
	// Before any snapshot: empty exports.
	let r = await fetchBounded(`${s.httpUrl}/api/meetings/${meeting.id}/notes.md`);
	assert.equal(r.status, 200);
	assert.equal(await r.text(), "");
	r = await fetchBounded(`${s.httpUrl}/api/meetings/${meeting.id}/code`);
	assert.equal(r.status, 200);
	assert.equal(r.headers.get("content-disposition"), 'attachment; filename="code.txt"');
	assert.equal(await r.text(), "");

	for (let i = 1; i <= 3; i++) await a.notesUpdate(NOTES, `n-${i}`, bytes(50));
	const line = "- a line of the notes, with ünïcödé and `code` and <b>html</b>\n";
	const text = `# Notes\n\n${line.repeat(Math.ceil((1024 * 1024) / Buffer.byteLength(line)))}`;
	const state = bytes(1024 * 1024);
	const chunkedBefore = a.chunkedOut;
	const snap = await a.notesSnapshot(NOTES, { seq: 3, state, text, authorName: "Ann" });
	assert.equal(a.chunkedOut, chunkedBefore + 1, "the snapshot went in chunks");
	assert.equal(snap.stored, true);
	assert.equal(snap.document, NOTES);
	assert.equal(snap.version?.version, 1n);
	assert.equal(snap.version?.seq, 3n);
	assert.equal(snap.version?.textBytes, Buffer.byteLength(text));
	assert.equal(snap.version?.authorName, "Ann");
	const ev = await b.nextEvent("notesSnapshotEvent", 5000);
	assert.equal(ev.document, NOTES);
	assert.equal(ev.version?.version, 1n);

	// Open: the snapshot (in chunks) and no update after it.
	const chunkedIn = b.chunkedIn;
	const opened = await b.notesOpen(NOTES, {}, 10000);
	assert.ok(b.chunkedIn > chunkedIn, "the open reply came in chunks");
	assert.equal(opened.snapshot?.version?.version, 1n);
	assert.equal(opened.snapshot?.text, text);
	assert.ok(Buffer.from(opened.snapshot?.state ?? []).equals(Buffer.from(state)), "the state comes back byte for byte");
	assert.deepEqual(opened.updates, []);
	assert.equal(opened.lastSeq, 3n);
	const v = await b.notesVersion(NOTES, 0, 10000);
	assert.equal(v.snapshot?.text, text);
	assert.equal(v.document, NOTES);

	// The export streams the text.
	r = await fetchBounded(`${s.gateways[1].httpUrl}/api/meetings/${meeting.id}/notes.md`, {}, 10000);
	assert.equal(r.status, 200);
	assert.equal(r.headers.get("content-type"), "text/markdown; charset=utf-8");
	assert.equal(r.headers.get("content-disposition"), 'attachment; filename="notes.md"');
	const body = await r.text();
	assert.equal(body.length, text.length);
	assert.ok(body === text, "the export is the snapshot's text");

	// The code pad: its language names the file.
	await a.notesUpdate(CODE, "c-1", bytes(20));
	const code = 'def hello():\n    print("hi")\n';
	await a.notesSnapshot(CODE, { seq: 1, state: bytes(100), text: code, language: "python" });
	r = await fetchBounded(`${s.httpUrl}/api/meetings/${meeting.id}/code`);
	assert.equal(r.status, 200);
	assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
	assert.equal(r.headers.get("content-disposition"), 'attachment; filename="code.py"');
	assert.equal(await r.text(), code);

	// Unknown meetings are 404 with the API's JSON error.
	for (const path of ["AAAAAAAAAAAAAAAAAAAAAA/notes.md", "AAAAAAAAAAAAAAAAAAAAAA/code", "short/notes.md"]) {
		const e = await httpGet(`${s.httpUrl}/api/meetings/${path}`);
		assert.equal(e.status, 404, path);
		assert.match(e.contentType, /application\/json/);
		assert.equal((JSON.parse(e.body) as { error: { code: string } }).error.code, "UNKNOWN_MEETING");
	}
});

suite.test("versions newest first; one version by number; a snapshot that adds nothing is not stored", async (s, track) => {
	if (noNotes(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await subscriber(s, meeting.id, "A"));
	assert.deepEqual((await a.notesVersions(CODE)).versions, []);
	const v0 = await a.notesVersion(CODE, 0);
	assert.equal(v0.snapshot, undefined, "no version yet");
	for (let i = 1; i <= 3; i++) {
		await a.notesUpdate(CODE, `c-${i}`, bytes(10));
		const r = await a.notesSnapshot(CODE, { seq: i, state: bytes(30), text: `version ${i}`, language: i === 3 ? "rust" : "c" });
		assert.equal(r.version?.version, BigInt(i));
	}
	const list = await a.notesVersions(CODE);
	assert.equal(list.document, CODE);
	assert.deepEqual(list.versions.map((v) => Number(v.version)), [3, 2, 1]);
	assert.equal(list.versions[0].language, "rust");
	assert.equal((await a.notesVersion(CODE, 2)).snapshot?.text, "version 2");
	assert.equal((await a.notesVersion(CODE, 0)).snapshot?.text, "version 3");
	await expectCode(a.notesVersion(CODE, 99), [ErrorCode.BAD_REQUEST], "a version that does not exist");
	const stale = await a.notesSnapshot(CODE, { seq: 2, state: bytes(30), text: "older" });
	assert.equal(stale.stored, false);
	assert.equal(stale.version?.version, 3n, "the reply names the newest version");
	await expectCode(a.notesSnapshot(CODE, { seq: 9, state: bytes(30), text: "ahead" }), [ErrorCode.BAD_REQUEST], "seq above last_seq");
	const r = await fetchBounded(`${s.httpUrl}/api/meetings/${meeting.id}/code`);
	assert.equal(r.headers.get("content-disposition"), 'attachment; filename="code.rs"');
	assert.equal(await r.text(), "version 3");
});

suite.test("limits: an update over 256 KiB is TOO_LARGE (through chunks), an empty one BAD_REQUEST; nothing is stored", async (s, track) => {
	if (noNotes(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await subscriber(s, meeting.id, "A"));
	await expectCode(a.notesUpdate(NOTES, uid(), bytes(256 * 1024 + 1)), [ErrorCode.TOO_LARGE], "256 KiB + 1");
	await expectCode(a.notesUpdate(NOTES, uid(), new Uint8Array(0)), [ErrorCode.BAD_REQUEST], "no data");
	await expectCode(a.notesUpdate(NOTES, "bad id!", bytes(4)), [ErrorCode.BAD_REQUEST], "a bad client_update_id");
	await expectCode(a.notesUpdate(NOTES, uid(), bytes(4), "n".repeat(65)), [ErrorCode.BAD_REQUEST, ErrorCode.TOO_LARGE], "a 65-byte author name");
	assert.equal((await a.notesOpen(NOTES)).lastSeq, 0n, "nothing was stored");
	const max = await a.notesUpdate(NOTES, uid(), bytes(256 * 1024));
	assert.equal(max.seq, 1n, "256 KiB exactly is an update");
	assert.equal(max.data.length, 256 * 1024);
	// A snapshot too large to be read back in one message.
	await expectCode(
		a.notesSnapshot(NOTES, { seq: 1, state: bytes(2 * 1024 * 1024), text: "x".repeat(2 * 1024 * 1024 - 10) }, 20000),
		[ErrorCode.TOO_LARGE],
		"state and text near 4 MiB",
	);
	assert.ok(a.isOpen);
});

suite.test("malformed chunk sequences: MALFORMED or TOO_LARGE naming the request, the partial message dropped, the connection kept", async (s, track) => {
	const c = track(await connect(s.wsUrl, "chunks"));
	const ping = (requestId: number) =>
		toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId, body: { case: "ping", value: { clientTimeMs: 1n } } } as never));
	// A request over one frame (the connection is not subscribed: it is answered NOT_JOINED once whole).
	const big = (requestId: number, size = 3 * CHUNK_PART_MAX) =>
		toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId, body: { case: "notesUpdate", value: { document: NOTES, clientUpdateId: "x", data: bytes(size, 7) } } } as never));
	const errorFor = async (requestId: number, what: string) => {
		const m = await c.next((x) => x.body.case === "error" && x.requestId === requestId, 5000, `the error for ${what}`);
		return m.body.case === "error" ? m.body.value.code : -1;
	};

	// Out of order: parts 0 and 2.
	let frames = chunkFrames(big(101), 1);
	c.sendRaw(frames[0]);
	c.sendRaw(frames[2]);
	assert.equal(await errorFor(101, "a part out of order"), ErrorCode.MALFORMED);
	c.sendRaw(frames[1]); // the rest of a dropped message is ignored
	c.sendRaw(frames[3]);
	// A new message_id before the last part: the first is dropped, the second served.
	frames = chunkFrames(big(102), 2);
	const second = chunkFrames(big(103), 3);
	c.sendRaw(frames[0]);
	for (const f of second) c.sendRaw(f);
	assert.equal(await errorFor(102, "a new message_id before the last part"), ErrorCode.MALFORMED);
	assert.equal(await errorFor(103, "the second message"), ErrorCode.NOT_JOINED, "the complete message is handled (not subscribed)");
	// A frame between the parts: the partial message is dropped, the frame served.
	frames = chunkFrames(big(104), 4);
	c.sendRaw(frames[0]);
	c.sendRaw(ping(105));
	assert.equal(await errorFor(104, "a frame between the parts"), ErrorCode.MALFORMED);
	assert.equal((await c.next((x) => x.requestId === 105, 5000, "the pong")).body.case, "pong");
	// Counts out of range, a part without the first, an empty part.
	for (const [id, chunk] of [
		[10, { messageId: 10, index: 0, count: 1, data: bytes(10) }],
		[11, { messageId: 11, index: 0, count: 71, data: bytes(10) }],
		[12, { messageId: 12, index: 1, count: 3, data: bytes(10) }],
		[13, { messageId: 13, index: 0, count: 2, data: new Uint8Array(0) }],
	] as const) {
		c.sendRaw(chunkFrame(chunk));
		const m = await c.next((x) => x.body.case === "error" && x.requestId === 0, 5000, `the error for chunk ${id}`);
		assert.equal(m.body.case === "error" && m.body.value.code, ErrorCode.MALFORMED, describeMsg(m));
	}
	// A chunked message that holds a chunk.
	const inner = chunkFrame({ messageId: 20, index: 0, count: 2, data: bytes(FRAME_MAX) });
	for (const f of chunkFrames(inner, 21)) c.sendRaw(f);
	const nested = await c.next((x) => x.body.case === "error" && x.requestId === 0, 5000, "the error for a nested chunk");
	assert.equal(nested.body.case === "error" && nested.body.value.code, ErrorCode.MALFORMED);
	// Over 4 MiB in all: TOO_LARGE, named.
	const huge = big(106, 4 * 1024 * 1024);
	frames = chunkFrames(huge, 6);
	assert.ok(frames.length <= 70, `${frames.length} parts`);
	for (const f of frames) c.sendRaw(f);
	assert.equal(await errorFor(106, "a message over 4 MiB"), ErrorCode.TOO_LARGE);
	// Still open, and a well-formed chunked request is served.
	c.sendMessage(ping(107)); // one frame
	assert.equal((await c.awaitReply(107, "ping")).body.case, "pong");
	c.sendMessage(big(108));
	assert.equal(await errorFor(108, "a chunked request"), ErrorCode.NOT_JOINED);
	assert.ok(c.isOpen, "chunk errors do not close the connection");
	assert.deepEqual(c.violations, []);
});

suite.test("huddle-notes down: UNAVAILABLE or TIMEOUT, /readyz unaffected; back up: requests and events flow, missed ones are read back", async (s, track) => {
	if (noNotes(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await subscriber(s, meeting.id, "A", 0));
	const b = track(await subscriber(s, meeting.id, "B", 1));
	for (let i = 1; i <= 3; i++) await a.notesUpdate(NOTES, `before-${i}`, bytes(8));
	await eventsUpTo(b, NOTES, 3);

	await s.killNotes({ signal: "SIGKILL" });
	await expectCode(a.notesUpdate(NOTES, "during-1", bytes(8), "A", 8000), DOWN_ERRORS, "update while huddle-notes is down");
	await expectCode(b.notesOpen(NOTES, {}, 8000), DOWN_ERRORS, "open while huddle-notes is down");
	const other = await createMeeting(s.httpUrl);
	const c = track(await connect(s.gateways[1].wsUrl, "C"));
	await expectCode(c.notesSubscribe(other.id, 8000), DOWN_ERRORS, "a new room while huddle-notes is down");
	const e = await httpGet(`${s.httpUrl}/api/meetings/${meeting.id}/notes.md`, 8000);
	assert.ok(e.status === 503 || e.status === 504, `export while down: ${e.status}`);
	assert.equal((await httpGet(`${s.httpUrl}/readyz`)).status, 200, "readiness does not depend on huddle-notes (as on huddle-chat)");

	await s.startNotes();
	// The re-send of the failed update is stored once; the subscribers on both gateways get everything in order.
	await waitFor("huddle-notes answers again", async () => (await a.notesUpdate(NOTES, "during-1", bytes(8)).then(() => true, () => false)), 15000, 200);
	for (let i = 2; i <= 4; i++) await a.notesUpdate(NOTES, `during-${i}`, bytes(8));
	for (const x of [a, b]) assert.deepEqual(seqs(await eventsUpTo(x, NOTES, 7)), range(1, 7), `${x.label}: 1..7 once, in order`);
	assert.equal((await c.notesSubscribe(other.id)).notesLastSeq, 0n, "new rooms open again");
	const m = await httpGet(`${s.httpUrl}/metrics`);
	assert.match(m.body, /^huddle_gateway_notes_events_connected 1$/m);
	assert.match(m.body, /^huddle_gateway_notes_subscribers \d+$/m);
	assert.match(m.body, /^huddle_gateway_notes_requests_total\{kind="update"\} \d+$/m);
	assert.match(m.body, /^huddle_gateway_notes_failures_total [1-9]\d*$/m);
}, 90000);
