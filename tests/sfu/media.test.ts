// huddle-media against a real Janus (Huddle's own configuration): a room per
// meeting (ensure creates, a second ensure reuses, destroy removes), checked
// with Janus's own `exists`/`list` and the room's secret; publisher tokens
// (a join with no token, a wrong one or no pin is refused, the issued token
// is accepted; revoke removes the token and kicks); huddle-media's
// WebSocket cut (through a relay) while Janus stays up: it reconnects and
// claims the same session; huddle-media SIGKILLed
// and restarted (the rooms stay usable, none is duplicated); cleanup of
// rooms whose meeting ended; bad requests. Janus is spoken to directly over
// its WebSocket API from here, as a browser's SDK would.
//
// Runs in its own network namespace with a veth pair (tests/lib/netns-veth.sh;
// ctest integration.sfu_media): Janus ignores the loopback interface.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { ErrorCode } from "../lib/proto.ts";
import { derive, JanusClient, MediaClient, startSfu, type Sfu } from "../lib/sfu.ts";
import { waitFor } from "../lib/stack.ts";

/** A fresh id as Huddle makes them: 16 random bytes, base64url (22 characters). */
const newId = () => randomBytes(16).toString("base64url");
/** Lengths huddle-media derives (services/media/rooms.h). */
const SECRET_LEN = 32;
const PIN_LEN = 16;
const TOKEN_LEN = 32;
/** Bound on huddle-media reporting a ready Janus session. */
const READY_MS = 20000;

let sfu: Sfu;
let media: MediaClient;
let janus: JanusClient;
let failed = false;

before(async () => {
	sfu = await startSfu();
	media = new MediaClient(sfu.mediaUrl);
	janus = await JanusClient.open(sfu.janusPort, sfu.apiSecret);
	await waitHealthy();
});

after(async () => {
	media?.close();
	janus?.close();
	if (failed && sfu) console.error(`--- huddle-media\n${sfu.media.tail(40)}\n--- janus\n${sfu.janus.tail(20)}`);
	await sfu?.stop();
});

function t(name: string, fn: () => Promise<void>): void {
	test(name, { timeout: 90000 }, async () => {
		try {
			await fn();
		} catch (e) {
			failed = true;
			throw e;
		}
	});
}

async function waitHealthy(): Promise<void> {
	await waitFor("huddle-media's Janus session", async () => {
		const r = await media.call({ case: "health", value: {} });
		return r.body.case === "health" && r.body.value.janusConnected;
	}, READY_MS, 100);
}

/** Calls huddle-media and returns the reply body of the same case, failing on an error reply. */
async function ok<C extends string>(body: { case: C; value: object }): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
	const r = await media.call(body);
	assert.equal(r.error?.code ?? ErrorCode.OK, ErrorCode.OK, `${body.case}: ${r.error?.message}`);
	assert.equal(r.body.case, body.case);
	return r.body.value;
}

async function code(body: { case: string; value: object }): Promise<{ code: ErrorCode; message: string }> {
	const r = await media.call(body);
	return { code: r.error?.code ?? ErrorCode.OK, message: r.error?.message ?? "" };
}

const ensure = (meetingId: string) => ok({ case: "ensureRoom", value: { meetingId, publishers: 0 } });
/** Every secret, pin and token this file saw: none may appear in a log. */
const secrets = new Set<string>();
const allow = async (meetingId: string, participantId: string) => {
	const token = (await ok({ case: "allow", value: { meetingId, participantId } })).token as string;
	secrets.add(token);
	secrets.add(derive(sfu.apiSecret, "secret", meetingId, undefined, SECRET_LEN));
	secrets.add(derive(sfu.apiSecret, "pin", meetingId, undefined, PIN_LEN));
	return token;
};

/** Janus's own view: does the room exist? */
async function exists(room: string): Promise<boolean> {
	const d = await janus.videoroom({ request: "exists", room });
	assert.equal(d.error_code, undefined, JSON.stringify(d));
	return d.exists === true;
}

/** Janus's own list: how many rooms have this id? */
async function listed(room: string): Promise<number> {
	const d = await janus.videoroom({ request: "list", admin_key: sfu.apiSecret });
	assert.ok(Array.isArray(d.list), JSON.stringify(d));
	return d.list.filter((r: { room: string }) => r.room === room).length;
}

/** A publisher's join straight to Janus on a fresh session; returns Janus's answer (joined or an error). */
async function join(room: string, id: string, extra: Record<string, unknown>): Promise<{ c: JanusClient; d: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
	const c = await JanusClient.open(sfu.janusPort, sfu.apiSecret);
	const d = await c.videoroom({ request: "join", ptype: "publisher", room, id, display: "test", ...extra });
	return { c, d };
}

t("bad requests are refused and change nothing", async () => {
	assert.equal((await code({ case: "ensureRoom", value: { meetingId: "not-an-id", publishers: 0 } })).code, ErrorCode.BAD_REQUEST);
	assert.equal((await code({ case: "ensureRoom", value: { meetingId: newId(), publishers: 100000 } })).code, ErrorCode.BAD_REQUEST);
	assert.equal((await code({ case: "allow", value: { meetingId: newId(), participantId: "x" } })).code, ErrorCode.BAD_REQUEST);
	const unknown = newId();
	const r = await code({ case: "allow", value: { meetingId: unknown, participantId: newId() } });
	assert.equal(r.code, ErrorCode.UNKNOWN_MEETING, r.message);
	assert.equal(await exists(unknown), false, "allow on a missing room created nothing");
	assert.equal((await code({ case: "cleanup", value: { activeMeetingIds: ["bad"] } })).code, ErrorCode.BAD_REQUEST);
});

t("room life cycle: ensure creates, a second ensure reuses, destroy removes", async () => {
	const m = newId();
	assert.equal(await exists(m), false);
	const first = await ensure(m);
	assert.equal(first.created, true);
	assert.equal(first.room, m);
	assert.equal(await exists(m), true);
	const second = await ensure(m);
	assert.equal(second.created, false, "the second ensure reuses the room");
	assert.equal(await listed(m), 1, "one room for the meeting");

	// The room has a secret: Janus refuses to destroy it without the right one.
	const wrong = await janus.videoroom({ request: "destroy", room: m, secret: "wrong" });
	assert.ok(wrong.error_code, `destroy with a wrong secret refused: ${JSON.stringify(wrong)}`);
	assert.equal(await exists(m), true);
	// ... and it is the secret derived from the key (a direct admin of the room).
	const edit = await janus.videoroom({ request: "edit", room: m, secret: derive(sfu.apiSecret, "secret", m, undefined, SECRET_LEN), new_description: "huddle" });
	assert.equal(edit.error_code, undefined, JSON.stringify(edit));

	const d = await ok({ case: "destroyRoom", value: { meetingId: m } });
	assert.equal(d.destroyed, true);
	assert.equal(await exists(m), false);
	assert.equal((await ok({ case: "destroyRoom", value: { meetingId: m } })).destroyed, false, "a second destroy finds nothing");
});

t("publishers need their token: none, a wrong one or no pin is refused; the issued one joins; revoke kicks", async () => {
	const m = newId();
	const p = newId();
	await ensure(m);
	const token = await allow(m, p);
	assert.equal(token, derive(sfu.apiSecret, "token", m, p, TOKEN_LEN));
	const pin = derive(sfu.apiSecret, "pin", m, undefined, PIN_LEN);
	const opened: JanusClient[] = [];
	try {
		for (const [what, extra] of [
			["no token", { pin }],
			["a wrong token", { pin, token: "x".repeat(TOKEN_LEN) }],
			["another participant's token", { pin, token: derive(sfu.apiSecret, "token", m, newId(), TOKEN_LEN) }],
			["no pin", { token }],
		] as const) {
			const { c, d } = await join(m, p, extra);
			opened.push(c);
			assert.notEqual(d.videoroom, "joined", `a join with ${what} is refused: ${JSON.stringify(d)}`);
			assert.ok(d.error_code, `a join with ${what} gets an error: ${JSON.stringify(d)}`);
		}
		const { c, d } = await join(m, p, { pin, token });
		opened.push(c);
		assert.equal(d.videoroom, "joined", `the issued token joins: ${JSON.stringify(d)}`);
		assert.equal(d.id, p);

		const r = await ok({ case: "revoke", value: { meetingId: m, participantId: p } });
		assert.equal(r.kicked, true, "the publisher was in the room");
		const parts = await janus.videoroom({ request: "listparticipants", room: m });
		assert.deepEqual(parts.participants ?? [], [], `nobody left in the room: ${JSON.stringify(parts)}`);
		const again = await join(m, p, { pin, token });
		opened.push(again.c);
		assert.notEqual(again.d.videoroom, "joined", `a revoked token is refused: ${JSON.stringify(again.d)}`);
		assert.equal((await ok({ case: "revoke", value: { meetingId: m, participantId: p } })).kicked, false);
	} finally {
		for (const c of opened) c.close();
		await ok({ case: "destroyRoom", value: { meetingId: m } });
	}
});

t("huddle-media's WebSocket cut while Janus stays up: it reconnects and claims the same session", async () => {
	const m = newId();
	await ensure(m);
	const before = await ok({ case: "health", value: {} });
	sfu.relay.cut();
	await waitFor("huddle-media's claim after the cut", async () => {
		const r = await media.call({ case: "health", value: {} });
		return r.body.case === "health" && r.body.value.claims > before.claims;
	}, READY_MS, 50);
	const after = await ok({ case: "health", value: {} });
	assert.equal(after.claims, before.claims + 1n, "one claim");
	assert.ok(after.reconnects > before.reconnects, "a reconnection counted");
	// The claimed session's handle still works: the room is there and usable.
	assert.equal((await ensure(m)).created, false);
	const token = await allow(m, newId());
	assert.equal(token.length, TOKEN_LEN);
	assert.equal((await ok({ case: "destroyRoom", value: { meetingId: m } })).destroyed, true);
});

t("huddle-media SIGKILLed and restarted: rooms still usable, none duplicated", async () => {
	const m = newId();
	await ensure(m);
	const p1 = newId();
	await allow(m, p1);
	const killed = await sfu.media.stop("SIGKILL");
	assert.equal(killed.signal, "SIGKILL");
	media.close();
	await sfu.startMedia();
	await waitHealthy();

	assert.equal((await ensure(m)).created, false, "the restarted controller reuses the room");
	assert.equal(await listed(m), 1, "no duplicate room");
	const p2 = newId();
	const token = await allow(m, p2);
	const pin = derive(sfu.apiSecret, "pin", m, undefined, PIN_LEN);
	const { c, d } = await join(m, p2, { pin, token });
	try {
		assert.equal(d.videoroom, "joined", `a token issued after the restart joins: ${JSON.stringify(d)}`);
	} finally {
		c.close();
	}
	// The token issued before the restart still works, too.
	const before = await join(m, p1, { pin, token: derive(sfu.apiSecret, "token", m, p1, TOKEN_LEN) });
	try {
		assert.equal(before.d.videoroom, "joined", JSON.stringify(before.d));
	} finally {
		before.c.close();
	}
	assert.equal((await ok({ case: "destroyRoom", value: { meetingId: m } })).destroyed, true, "the restarted controller manages the old room");
	assert.equal(await exists(m), false);
});

t("cleanup destroys the rooms whose meeting ended and leaves the rest", async () => {
	const live = newId();
	const ended = [newId(), newId()];
	for (const m of [live, ...ended]) await ensure(m);
	// A room that is not Huddle's (made straight in Janus) is never touched.
	const foreign = `other-${newId()}`;
	const made = await janus.videoroom({ request: "create", room: foreign, admin_key: sfu.apiSecret, description: "not huddle" });
	assert.equal(made.videoroom, "created", JSON.stringify(made));

	const r = await ok({ case: "cleanup", value: { activeMeetingIds: [live] } });
	assert.deepEqual([...r.destroyed].sort(), [...ended].sort());
	assert.equal(r.kept, 1);
	assert.equal(await exists(live), true);
	for (const m of ended) assert.equal(await exists(m), false, `${m} destroyed`);
	assert.equal(await exists(foreign), true, "a room that is not Huddle's stays");

	const none = await ok({ case: "cleanup", value: { activeMeetingIds: [] } });
	assert.deepEqual(none.destroyed, [live]);
	assert.equal(await exists(live), false);
	await janus.videoroom({ request: "destroy", room: foreign });
});

t("Janus restarted: huddle-media reconnects with a new session and serves again", async () => {
	const m = newId();
	await ensure(m);
	const stopped = await sfu.janus.stop("SIGKILL");
	assert.equal(stopped.signal, "SIGKILL");
	janus.close();
	await waitFor("huddle-media noticing Janus is gone", async () => (await code({ case: "health", value: {} })).code === ErrorCode.UNAVAILABLE, READY_MS, 100);
	assert.equal((await code({ case: "ensureRoom", value: { meetingId: newId(), publishers: 0 } })).code, ErrorCode.UNAVAILABLE);
	sfu.janus.start();
	await waitHealthy();
	janus = await JanusClient.open(sfu.janusPort, sfu.apiSecret);
	const h = await ok({ case: "health", value: {} });
	assert.ok(h.reconnects >= 1n, `a reconnection counted: ${h.reconnects}`);
	// Janus forgot its rooms: the next ensure creates the meeting's room again.
	assert.equal((await ensure(m)).created, true);
	assert.equal((await ok({ case: "destroyRoom", value: { meetingId: m } })).destroyed, true);
});

t("no secret, pin or token reaches huddle-media's or Janus's log", async () => {
	secrets.add(sfu.apiSecret);
	assert.ok(secrets.size >= 4);
	for (const log of [sfu.media.log, sfu.janus.log]) {
		const text = readFileSync(log, "utf8");
		assert.ok(text.length > 0, `${log} is not empty`);
		for (const s of secrets) assert.ok(!text.includes(s), `${log} holds a secret (${s.slice(0, 4)}...)`);
	}
});
