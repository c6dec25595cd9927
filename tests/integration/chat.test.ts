// Chat through the gateway with real daemons (registry, huddle-chat, two
// gateways): subscription without joining the call, posts, idempotent
// re-posts, history paging, validation, literal text, in-order delivery
// across gateways, the HTTP export, and huddle-chat outages.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, describe as describeMsg, HuddleClient, HuddleError, httpGet, fetchBounded } from "../lib/client.ts";
import { ErrorCode, type ChatMessage } from "../lib/proto.ts";
import { waitFor } from "../lib/stack.ts";

const suite = useStack({ gateways: 2, chatTimeoutMs: 2000, gatewayEnv: { WS_RATE: "2000", WS_BURST: "2000" } });

const DOWN_ERRORS = [ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT];
const seqs = (ms: ChatMessage[]) => ms.map((m) => Number(m.seq));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const cid = (p = "m") => `${p}-${randomBytes(6).toString("hex")}`;

/** True (with a visible SKIP line) when the stack runs without huddle-chat (not built yet). */
function noChat(s: { hasChat: boolean }): boolean {
	if (!s.hasChat) console.log("# SKIP: huddle-chat is not built; nothing to test");
	return !s.hasChat;
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

/** Waits (bounded) until c has received chat_message events up to seq `last`; returns them all. */
async function eventsUpTo(c: HuddleClient, last: number, timeoutMs = 10000): Promise<ChatMessage[]> {
	await waitFor(`${c.label}: chat_message up to seq ${last}`, () => c.chatMessages().some((m) => Number(m.seq) >= last), timeoutMs, 20);
	return c.chatMessages();
}

suite.test("chat_subscribe of an unknown meeting is UNKNOWN_MEETING; chat before subscribing is NOT_JOINED", async (s, track) => {
	if (noChat(s)) return;
	const a = track(await connect(s.wsUrl, "A"));
	await expectCode(a.chatSubscribe("AAAAAAAAAAAAAAAAAAAAAA"), [ErrorCode.UNKNOWN_MEETING], "unknown id");
	await expectCode(a.chatSubscribe("not-an-id"), [ErrorCode.UNKNOWN_MEETING], "malformed id");
	await expectCode(a.chatPost(cid(), "hello"), [ErrorCode.NOT_JOINED], "post before subscribing");
	await expectCode(a.chatHistory(), [ErrorCode.NOT_JOINED], "history before subscribing");
	// Joining the call does not subscribe the chat either.
	const meeting = await createMeeting(s.httpUrl);
	await a.join(meeting.id, "Alice");
	await expectCode(a.chatPost(cid(), "hello"), [ErrorCode.NOT_JOINED], "post after join, before subscribing");
	// After a failed subscribe the connection can still subscribe.
	const sub = await a.chatSubscribe(meeting.id);
	assert.equal(sub.meeting?.id, meeting.id);
	assert.equal(sub.lastSeq, 0n);
	// Again to the same meeting: a no-op; another meeting: refused.
	assert.equal((await a.chatSubscribe(meeting.id)).lastSeq, 0n);
	const other = await createMeeting(s.httpUrl);
	await expectCode(a.chatSubscribe(other.id), [ErrorCode.BAD_REQUEST], "a second meeting on one connection");
});

suite.test("chat without joining the call: post, event, history; sender_id only when in the call", async (s, track) => {
	if (noChat(s)) return;
	const meeting = await createMeeting(s.httpUrl, "chat basics");
	const reader = track(await connect(s.wsUrl, "Reader"));
	const writer = track(await connect(s.wsUrl, "Writer"));
	const sub = await reader.chatSubscribe(meeting.id);
	assert.equal(sub.meeting?.title, "chat basics");
	assert.equal(sub.lastSeq, 0n);
	await writer.chatSubscribe(meeting.id);

	const m1 = await writer.chatPost("first-1", "  hello, world \n", "Walter");
	assert.equal(m1.seq, 1n);
	assert.equal(m1.meetingId, meeting.id);
	assert.equal(m1.text, "hello, world", "text is trimmed");
	assert.equal(m1.senderName, "Walter");
	assert.equal(m1.senderId, "", "not in the call: no participant id");
	assert.equal(m1.clientMessageId, "first-1");
	assert.ok(Math.abs(Number(m1.sentAtMs) - Date.now()) < 60000, `sentAtMs ${m1.sentAtMs} is server time`);

	const ev = await reader.nextEvent("chatMessage", 5000);
	assert.equal(ev.seq, 1n);
	assert.equal(ev.text, "hello, world");
	const own = await writer.nextEvent("chatMessage", 5000);
	assert.equal(own.seq, 1n, "the poster gets its own message as an event too");

	// In the call: the message carries the participant id.
	const joined = await writer.join(meeting.id, "Walter");
	const m2 = await writer.chatPost("second-2", "from the call", "Walter");
	assert.equal(m2.seq, 2n);
	assert.equal(m2.senderId, joined.participantId);

	const h = await reader.chatHistory();
	assert.deepEqual(seqs(h.messages), [1, 2]);
	assert.equal(h.more, false);
	assert.equal(h.lastSeq, 2n);
	// A later subscriber learns last_seq and reads the rest with history.
	const late = track(await connect(s.gateways[1].wsUrl, "Late"));
	assert.equal((await late.chatSubscribe(meeting.id)).lastSeq, 2n);
	assert.deepEqual(seqs((await late.chatHistory({ limit: 1, beforeSeq: 3 })).messages), [2]);
});

suite.test("history pages: after_seq and before_seq, more, last_seq", async (s, track) => {
	if (noChat(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	await a.chatSubscribe(meeting.id);
	for (let i = 1; i <= 25; i++) assert.equal((await a.chatPost(`p-${i}`, `message ${i}`)).seq, BigInt(i));

	let h = await a.chatHistory({ limit: 10 });
	assert.deepEqual(seqs(h.messages), range(1, 10));
	assert.equal(h.more, true);
	assert.equal(h.lastSeq, 25n);
	h = await a.chatHistory({ afterSeq: 10, limit: 10 });
	assert.deepEqual(seqs(h.messages), range(11, 20));
	assert.equal(h.more, true);
	h = await a.chatHistory({ afterSeq: 20, limit: 10 });
	assert.deepEqual(seqs(h.messages), range(21, 25));
	assert.equal(h.more, false);
	// Scrolling up from the newest.
	h = await a.chatHistory({ beforeSeq: 26, limit: 10 });
	assert.deepEqual(seqs(h.messages), range(16, 25));
	assert.equal(h.more, true);
	h = await a.chatHistory({ beforeSeq: 11, limit: 5 });
	assert.deepEqual(seqs(h.messages), range(6, 10));
	assert.equal(h.more, true);
	h = await a.chatHistory({ beforeSeq: 3, limit: 5 });
	assert.deepEqual(seqs(h.messages), [1, 2]);
	assert.equal(h.more, false);
	// limit 0 means 50.
	h = await a.chatHistory({});
	assert.equal(h.messages.length, 25);
	assert.equal(h.messages[3].text, "message 4");
	await expectCode(a.chatHistory({ limit: 201 }), [ErrorCode.BAD_REQUEST], "limit 201");
});

suite.test("the same client_message_id again: same seq, stored once, delivered once", async (s, track) => {
	if (noChat(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.gateways[1].wsUrl, "B"));
	await a.chatSubscribe(meeting.id);
	await b.chatSubscribe(meeting.id);
	const first = await a.chatPost("same-id", "once");
	const again = await a.chatPost("same-id", "once");
	const third = await b.chatPost("same-id", "a different text does not overwrite");
	assert.equal(again.seq, first.seq);
	assert.equal(third.seq, first.seq);
	assert.equal(third.text, "once");
	const next = await a.chatPost("next-id", "next");
	assert.equal(next.seq, first.seq + 1n);
	await eventsUpTo(a, 2);
	await eventsUpTo(b, 2);
	await new Promise((r) => setTimeout(r, 400)); // room for stray duplicates to show up
	assert.deepEqual(seqs(a.chatMessages()), [1, 2]);
	assert.deepEqual(seqs(b.chatMessages()), [1, 2]);
	assert.deepEqual(seqs((await b.chatHistory()).messages), [1, 2]);
});

suite.test("validation: empty, 4097 bytes, bad client ids, bad sender names; HTML stays literal text", async (s, track) => {
	if (noChat(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	await a.chatSubscribe(meeting.id);
	const bad = [ErrorCode.BAD_REQUEST, ErrorCode.TOO_LARGE];
	await expectCode(a.chatPost(cid(), ""), bad, "empty text");
	await expectCode(a.chatPost(cid(), " \t\n "), bad, "blank text");
	await expectCode(a.chatPost(cid(), "x".repeat(4097)), bad, "4097 bytes");
	await expectCode(a.chatPost(cid(), "é".repeat(2049)), bad, "4098 bytes of 2-byte characters");
	await expectCode(a.chatPost("", "hi"), bad, "empty client id");
	await expectCode(a.chatPost("has space", "hi"), bad, "client id with a space");
	await expectCode(a.chatPost("x".repeat(65), "hi"), bad, "65-byte client id");
	await expectCode(a.chatPost("ünïcode", "hi"), bad, "non-ASCII client id");
	await expectCode(a.chatPost(cid(), "hi", ""), bad, "empty sender name");
	await expectCode(a.chatPost(cid(), "hi", "n".repeat(65)), bad, "65-byte sender name");
	assert.deepEqual((await a.chatHistory()).messages, [], "nothing invalid was stored");

	const max = await a.chatPost("x".repeat(64), "y".repeat(4096));
	assert.equal(max.text.length, 4096);
	const xss = "<img src=x onerror=alert(1)>";
	const m = await a.chatPost(cid("xss"), xss, "<b>Mallory</b>");
	assert.equal(m.text, xss);
	const h = await a.chatHistory({ afterSeq: 1 });
	assert.equal(h.messages[0].text, xss);
	assert.equal(h.messages[0].senderName, "<b>Mallory</b>");
	const json = await httpGet(`${s.httpUrl}/api/meetings/${meeting.id}/chat`);
	assert.equal((JSON.parse(json.body) as { messages: { text: string }[] }).messages[1].text, xss);
});

suite.test("two gateways: every subscriber gets every message once, in seq order", async (s, track) => {
	if (noChat(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const clients: HuddleClient[] = [];
	for (let i = 0; i < 4; i++) {
		const c = track(await connect(s.gateways[i % 2].wsUrl, `C${i}`));
		await c.chatSubscribe(meeting.id);
		clients.push(c);
	}
	const N = 50;
	await Promise.all(
		clients.map(async (c, i) => {
			for (let k = 0; k < N; k++) await c.chatPost(`c${i}-${k}`, `from ${i}: ${k}`);
		}),
	);
	const total = N * clients.length;
	for (const c of clients) {
		const got = await eventsUpTo(c, total);
		assert.deepEqual(seqs(got), range(1, total), `${c.label}: events 1..${total} in order, once`);
	}
	const ids = new Set((await clients[0].chatHistory({ limit: 200 })).messages.map((m) => m.clientMessageId));
	assert.equal(ids.size, 200);
});

suite.test("GET /api/meetings/<id>/chat exports JSON and markdown; 404 for an unknown meeting", async (s, track) => {
	if (noChat(s)) return;
	const meeting = await createMeeting(s.httpUrl, "Export *me*");
	const a = track(await connect(s.wsUrl, "A"));
	await a.chatSubscribe(meeting.id);
	const texts = ["plain", "# not a heading\n---\n~~~\n```", "<img src=x onerror=alert(1)>", "~".repeat(70)];
	for (let i = 0; i < 430; i++) await a.chatPost(`e-${i}`, i < texts.length ? texts[i] : `line ${i}`, i % 2 ? "Bob [the] *builder*" : "Alice");

	const json = await httpGet(`${s.gateways[1].httpUrl}/api/meetings/${meeting.id}/chat?format=json`, 10000);
	assert.equal(json.status, 200);
	assert.match(json.contentType, /application\/json/);
	const doc = JSON.parse(json.body) as {
		meeting: { id: string; title: string };
		messages: { seq: number; clientMessageId: string; senderId: string; senderName: string; text: string; sentAtMs: number }[];
	};
	assert.equal(doc.meeting.id, meeting.id);
	assert.equal(doc.meeting.title, "Export *me*");
	assert.deepEqual(doc.messages.map((m) => m.seq), range(1, 430), "every page of 200, in order");
	assert.deepEqual(Object.keys(doc.messages[0]).sort(), ["clientMessageId", "senderId", "senderName", "sentAtMs", "seq", "text"]);
	assert.equal(doc.messages[1].text, texts[1]);
	assert.equal(doc.messages[429].clientMessageId, "e-429");
	const dflt = await httpGet(`${s.httpUrl}/api/meetings/${meeting.id}/chat`, 10000);
	assert.deepEqual(JSON.parse(dflt.body), doc, "json is the default");

	const r = await fetchBounded(`${s.httpUrl}/api/meetings/${meeting.id}/chat?format=markdown`, {}, 10000);
	const md = await r.text();
	assert.equal(r.status, 200);
	assert.match(r.headers.get("content-type") ?? "", /text\/markdown/);
	assert.match(r.headers.get("content-disposition") ?? "", /^attachment; filename="[^"]+\.md"$/);
	assert.ok(md.startsWith("# Export \\*me\\*\n"), md.slice(0, 100));
	assert.ok(md.includes("**Bob \\[the\\] \\*builder\\***"), "names are escaped");
	assert.ok(md.includes("line 429"));
	// The tricky text sits in a fence longer than any tilde run inside it.
	assert.ok(md.includes("~~~~text\n# not a heading\n---\n~~~\n```\n~~~~\n"), "the text is fenced literally");
	assert.ok(md.includes("~~~text\n<img src=x onerror=alert(1)>\n~~~\n"));
	// However long the run: a line of 70 tildes inside must not close its fence.
	assert.ok(md.includes(`${"~".repeat(71)}text\n${"~".repeat(70)}\n${"~".repeat(71)}\n`), "a long tilde run is fenced");

	const unknown = await httpGet(`${s.httpUrl}/api/meetings/AAAAAAAAAAAAAAAAAAAAAA/chat?format=markdown`);
	assert.equal(unknown.status, 404);
	assert.equal((JSON.parse(unknown.body) as { error: { code: string } }).error.code, "UNKNOWN_MEETING");
	assert.equal((await httpGet(`${s.httpUrl}/api/meetings/nope/chat`)).status, 404);
	assert.equal((await httpGet(`${s.httpUrl}/api/meetings/${meeting.id}/chat?format=pdf`)).status, 400);
	const empty = await createMeeting(s.httpUrl, "");
	const e = JSON.parse((await httpGet(`${s.httpUrl}/api/meetings/${empty.id}/chat`)).body) as { messages: unknown[] };
	assert.deepEqual(e.messages, []);
	const metrics = (await httpGet(`${s.httpUrl}/metrics`)).body;
	assert.match(metrics, /^huddle_gateway_chat_requests_total\{kind="export"\} [1-9]/m);
	assert.match(metrics, /^huddle_gateway_chat_events_connected 1$/m);
});

suite.test("huddle-chat down: UNAVAILABLE/TIMEOUT promptly, the rest works, chat works again after a restart", async (s, track) => {
	if (noChat(s)) return;
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.gateways[1].wsUrl, "B"));
	await a.chatSubscribe(meeting.id);
	await b.chatSubscribe(meeting.id);
	await a.chatPost("before", "before the outage");
	await eventsUpTo(b, 1);

	await s.killChat({ signal: "SIGKILL" });
	let t = Date.now();
	await expectCode(a.chatPost("during", "during the outage", "A", 8000), DOWN_ERRORS, "post while chat is down");
	assert.ok(Date.now() - t < 6000, `post answered in ${Date.now() - t} ms`);
	await expectCode(b.chatHistory({}, 8000), DOWN_ERRORS, "history while chat is down");
	// A meeting without a chat room on this gateway needs huddle-chat to subscribe...
	const c = track(await connect(s.wsUrl, "C"));
	const other = await createMeeting(s.httpUrl);
	t = Date.now();
	await expectCode(c.chatSubscribe(other.id, 8000), DOWN_ERRORS, "subscribe while chat is down");
	assert.ok(Date.now() - t < 6000, `subscribe answered in ${Date.now() - t} ms`);
	// ...one whose room is open here does not (the room knows its last seq).
	const d = track(await connect(s.wsUrl, "D"));
	assert.equal((await d.chatSubscribe(meeting.id)).lastSeq, 1n);
	const r = await httpGet(`${s.httpUrl}/api/meetings/${meeting.id}/chat`, 8000);
	assert.ok(r.status === 503 || r.status === 504, `export while chat is down: ${r.status} ${r.body}`);
	// Everything else keeps working.
	assert.equal((await a.ping()).body.case, "pong");
	await a.join(meeting.id, "Alice");
	assert.equal((await httpGet(`${s.httpUrl}/readyz`)).status, 200);

	await s.startChat();
	// The retried post is stored once; both subscribers get it (and nothing twice).
	let last = "";
	await waitFor(
		"the retried post to succeed",
		async () => {
			const m = await a.request(a.chatPostBody("during", "during the outage"), 5000);
			last = describeMsg(m);
			return m.body.case === "chatPost";
		},
		15000,
		200,
	).catch((e: Error) => assert.fail(`${e.message}; last ${last}`));
	await c.chatSubscribe(meeting.id);
	await b.chatPost("after", "after the outage");
	for (const x of [a, b]) assert.deepEqual(seqs(await eventsUpTo(x, 3)), [1, 2, 3], x.label);
	assert.deepEqual(seqs(await eventsUpTo(d, 3)), [2, 3]);
	assert.deepEqual(seqs(await eventsUpTo(c, 3)), [3]);
	assert.deepEqual(seqs((await c.chatHistory()).messages), [1, 2, 3]);
	assert.ok(s.gateways.every((g) => g.alive()), "the gateways survived");
});
