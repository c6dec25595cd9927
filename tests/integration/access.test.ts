// Hosts and access, the rejection suite (issue 11): a waiting guest's socket,
// driven by a hand-written client that sends every ClientMessage request
// type, gets no roster, ICE servers, signals, chat or notes and no room
// events while the others talk; non-hosts' host requests are refused; a
// removed participant waits on return and a blocked one is refused; resume
// keeps admission; the HTTP API admits with a space key; signed join links
// (valid, expired, forged, wrong room, alg none, host role) and the access
// modes (waiting room, locked, token only); end for all; reactions (rate
// limited) and the hand queue; exports of a non-open meeting.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, describe, fetchBounded, HuddleClient, type ClientBody } from "../lib/client.ts";
import { DocumentKind, ErrorCode, type JoinReply, type ServerMessage } from "../lib/proto.ts";
import { AccessMode, AdmissionState, ModerationAction, Role, WatchAction } from "../../web/src/gen/huddle/v1/common_pb.ts";

const SECRET = randomBytes(32).toString("base64url");
const REACTION_RATE = 3;
const suite = useStack({
	gatewayEnv: { JOIN_TOKEN_SECRET: SECRET, REACTION_RATE: String(REACTION_RATE) },
});
const QUIET_MS = 800;
const WAITING = "waiting for a host to let you in";

// ---- helpers ----

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** An HS256 join token (RFC 7519) signed with key; claims as given. */
function mint(claims: Record<string, unknown>, key = SECRET, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }): string {
	const head = `${b64(header)}.${b64(claims)}`;
	if (header.alg === "none") return `${head}.`;
	return `${head}.${createHmac("sha256", key).update(head).digest("base64url")}`;
}
const nowS = () => Math.floor(Date.now() / 1000);

interface JoinOpts {
	hostKey?: string;
	clientKey?: string;
	joinToken?: string;
	participantId?: string;
	resumeToken?: string;
}

/** Sends a JoinRequest with the access fields; returns the reply or the Error frame. */
function joinRaw(c: HuddleClient, meetingId: string, name: string, o: JoinOpts = {}): Promise<ServerMessage> {
	return c.request({
		case: "join",
		value: {
			meetingId,
			displayName: name,
			hostKey: o.hostKey ?? "",
			clientKey: o.clientKey ?? "",
			joinToken: o.joinToken ?? "",
			participantId: o.participantId ?? "",
			resumeToken: o.resumeToken ?? "",
		},
	} as never);
}

/** Joins and returns the JoinReply (throws on an Error). */
async function join(c: HuddleClient, meetingId: string, name: string, o: JoinOpts = {}): Promise<JoinReply> {
	const m = await joinRaw(c, meetingId, name, o);
	if (m.body.case !== "join") throw new Error(`${c.label}: join got ${describe(m)}`);
	c.participantId = m.body.value.participantId;
	c.resumeToken = m.body.value.resumeToken;
	c.meetingId = meetingId;
	return m.body.value;
}

/** Expects an Error of code for body; returns its message. */
async function refused(c: HuddleClient, body: ClientBody, code: ErrorCode): Promise<string> {
	const e = await c.expectError(body);
	assert.equal(e.code, code, `${c.label}: ${body.case} -> ${ErrorCode[e.code]} "${e.message}", want ${ErrorCode[code]}`);
	return e.message;
}

async function api(url: string, method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; json: any }> {
	const headers: Record<string, string> = {};
	if (body !== undefined) headers["content-type"] = "application/json";
	if (key) headers.authorization = `Bearer ${key}`;
	const r = await fetchBounded(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await r.text();
	let json: any = null;
	try {
		json = JSON.parse(text);
	} catch {
		json = text;
	}
	return { status: r.status, json };
}

/** A meeting with its host key; set to mode through the HTTP API. */
async function meeting(url: string, mode: "open" | "waiting_room" | "locked" | "token_only" = "open") {
	const m = await createMeeting(url, `access ${mode}`);
	assert.ok(m.host_key, "POST /api/meetings answers the host key");
	if (mode !== "open") {
		const r = await api(url, "POST", `/api/meetings/${m.id}/access`, { access_mode: mode }, m.host_key);
		assert.equal(r.status, 200, JSON.stringify(r.json));
		assert.equal(r.json.access_mode, mode);
	}
	return { id: m.id, hostKey: m.host_key! };
}

const clientKey = () => randomBytes(12).toString("base64url");

/** Every request type a client can send, with plausible content (the waiting guest tries them all). */
function everyRequest(meetingId: string, peer: string): ClientBody[] {
	const bytes = new Uint8Array([1, 2, 3]);
	return [
		{ case: "join", value: { meetingId, displayName: "again" } },
		{ case: "signal", value: { to: peer, signal: { kind: { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } } } },
		{ case: "mediaState", value: { media: { audioMuted: true } } },
		{ case: "chatSubscribe", value: { meetingId } },
		{ case: "chatPost", value: { clientMessageId: "w1", text: "let me in", senderName: "W" } },
		{ case: "chatHistory", value: {} },
		{ case: "notesSubscribe", value: { meetingId } },
		{ case: "notesOpen", value: { document: DocumentKind.NOTES } },
		{ case: "notesUpdate", value: { document: DocumentKind.NOTES, clientUpdateId: "u1", data: bytes } },
		{ case: "notesAwareness", value: { document: DocumentKind.NOTES, data: bytes } },
		{ case: "notesSnapshot", value: { document: DocumentKind.NOTES, seq: 0n, state: bytes, text: "x" } },
		{ case: "notesVersions", value: { document: DocumentKind.NOTES } },
		{ case: "notesVersion", value: { document: DocumentKind.NOTES } },
		{ case: "admit", value: { all: true } },
		{ case: "moderate", value: { participantId: peer, action: ModerationAction.MUTE } },
		{ case: "setAccess", value: { accessMode: AccessMode.OPEN } },
		{ case: "endMeeting", value: {} },
		{ case: "hand", value: { raised: true } },
		{ case: "reaction", value: { emoji: "👍" } },
		// The pre-join check's ICE servers: not for a waiting session either.
		{ case: "iceServers", value: { meetingId } },
		{ case: "sfu", value: { body: { case: "leave", value: {} } } },
		{ case: "watch", value: { action: WatchAction.START, url: "https://example.org/v.webm" } },
	] as never;
}

// The ClientMessage bodies this suite covers: a new request type in
// client.proto without a line in everyRequest fails here.
import { ClientMessageSchema } from "../lib/proto.ts";
const REQUEST_CASES = ClientMessageSchema.oneofs[0].fields.map((f) => f.localName).filter((n) => n !== "leave" && n !== "ping" && n !== "chunk");

/** Server messages a waiting socket must never get. */
const CALL_STUFF = new Set([
	"participantJoined",
	"participantLeft",
	"participantUpdated",
	"signalDelivery",
	"chatMessage",
	"notesUpdateEvent",
	"notesAwarenessEvent",
	"notesSnapshotEvent",
	"reactionEvent",
	"watchStateEvent",
	"meetingUpdated",
	"moderationEvent",
]);

suite.test("a waiting guest gets nothing of the call, and every request but leave and ping is refused", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl);
	const host = track(await connect(stack.wsUrl, "host"));
	const a = track(await connect(stack.wsUrl, "guest-a"));
	const hj = await join(host, id, "Host", { hostKey, clientKey: clientKey() });
	assert.equal(hj.role, Role.HOST);
	assert.equal(hj.admission, AdmissionState.ADMITTED);
	const aj = await join(a, id, "Ann", { clientKey: clientKey() });
	assert.equal(aj.role, Role.GUEST);
	assert.equal(aj.admission, AdmissionState.ADMITTED, "an open meeting lets a guest in");
	// The host closes the door from inside the call.
	const sa = await host.call({ case: "setAccess", value: { accessMode: AccessMode.WAITING_ROOM } } as never, "setAccess");
	assert.equal(sa.meeting?.accessMode, AccessMode.WAITING_ROOM);
	const upd = await a.nextEvent("meetingUpdated");
	assert.equal(upd.meeting?.accessMode, AccessMode.WAITING_ROOM);
	for (const c of [host, a]) {
		await c.chatSubscribe(id);
		await c.notesSubscribe(id);
	}

	const w = track(await connect(stack.wsUrl, "waiting"));
	const wj = await join(w, id, "Wanda", { clientKey: clientKey() });
	assert.equal(wj.admission, AdmissionState.WAITING);
	assert.equal(wj.role, Role.GUEST);
	assert.equal(wj.participants.length, 0, "no roster");
	assert.equal(wj.iceServers.length, 0, "no ICE servers");
	assert.equal(wj.recordingToken, "", "no recording token");
	assert.equal(wj.waiting.length, 0);
	assert.equal(wj.hostPresent, true);
	assert.ok(wj.participantId && wj.resumeToken, "a place in the waiting room that a resume keeps");
	const seen = await host.nextEvent("waitingRoomEvent", 5000, (e) => e.waiting.some((x) => x.id === wj.participantId));
	assert.equal(seen.waiting.find((x) => x.id === wj.participantId)?.displayName, "Wanda");

	// Every request type, each refused.
	const bodies = everyRequest(id, hj.participantId);
	assert.deepEqual(new Set(bodies.map((b) => b.case)), new Set(REQUEST_CASES), "every request type is tried");
	for (const b of bodies) {
		const msg = await refused(w, b, ErrorCode.FORBIDDEN);
		assert.equal(msg, WAITING, `${b.case}`);
	}
	// A request too large for one frame arrives in chunks: refused just the same.
	const big = await w.expectError({ case: "notesUpdate", value: { document: DocumentKind.NOTES, clientUpdateId: "big", data: new Uint8Array(100000) } } as never);
	assert.equal(big.code, ErrorCode.FORBIDDEN);
	assert.equal(w.chunkedOut, 1);
	const pong = await w.ping();
	assert.equal(pong.body.case, "pong");

	// The others talk: media, signals, chat, notes, hands, reactions.
	await a.mediaState({ audioMuted: true });
	assert.equal((await a.signal(hj.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } as never)).body.case, "signal");
	assert.equal((await host.signal(aj.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } as never)).body.case, "signal");
	// Nobody reaches the waiting guest by signal either.
	const toW = await a.signal(wj.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } as never);
	assert.equal(toW.body.case, "error");
	await a.chatPost("a1", "hello in the call");
	await a.notesUpdate(DocumentKind.NOTES, "n1", new Uint8Array([9, 9]));
	await a.notesAwareness(DocumentKind.NOTES, new Uint8Array([7]));
	await a.call({ case: "hand", value: { raised: true } } as never, "hand");
	await a.call({ case: "reaction", value: { emoji: "🎉" } } as never, "reaction");
	await host.nextEvent("reactionEvent");
	await host.nextEvent("chatMessage");
	const got = await w.collect((m) => m.requestId === 0, QUIET_MS);
	const leaks = got.filter((m) => CALL_STUFF.has(m.body.case ?? ""));
	assert.deepEqual(leaks.map(describe), [], "nothing of the call reaches the waiting room");
	assert.ok(!w.received.some((m) => m.body.case === "join" && m.body.value.participants.length > 0));

	// Leave is allowed, and empties the host's waiting list.
	assert.equal((await w.leave()).body.case, "leave");
	await host.nextEvent("waitingRoomEvent", 5000, (e) => !e.waiting.some((x) => x.id === wj.participantId));
});

suite.test("non-hosts' host requests are refused, each one", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl);
	const host = track(await connect(stack.wsUrl, "host"));
	const g = track(await connect(stack.wsUrl, "guest"));
	const hj = await join(host, id, "Host", { hostKey });
	await join(g, id, "Guest", { clientKey: clientKey() });
	for (const action of [
		ModerationAction.MUTE,
		ModerationAction.CAMERA_OFF,
		ModerationAction.REMOVE,
		ModerationAction.BLOCK,
		ModerationAction.MAKE_HOST,
		ModerationAction.LOWER_HAND,
	])
		await refused(g, { case: "moderate", value: { participantId: hj.participantId, action } } as never, ErrorCode.FORBIDDEN);
	await refused(g, { case: "admit", value: { all: true } } as never, ErrorCode.FORBIDDEN);
	await refused(g, { case: "admit", value: { participantIds: [hj.participantId], deny: true } } as never, ErrorCode.FORBIDDEN);
	await refused(g, { case: "setAccess", value: { accessMode: AccessMode.LOCKED } } as never, ErrorCode.FORBIDDEN);
	await refused(g, { case: "endMeeting", value: {} } as never, ErrorCode.FORBIDDEN);
	// A wrong host key is refused at the door, not turned into a guest.
	const bad = await connect(stack.wsUrl, "bad-key");
	track(bad);
	const e = await joinRaw(bad, id, "Mallory", { hostKey: "x".repeat(43) });
	assert.equal(e.body.case, "error");
	assert.equal(e.body.case === "error" && e.body.value.code, ErrorCode.FORBIDDEN);
	// Nothing happened to the host.
	const events = await host.collect((m) => m.body.case === "moderationEvent" || m.body.case === "meetingEnded", QUIET_MS);
	assert.deepEqual(events.map(describe), []);
	// Before a join: NOT_JOINED.
	const lone = track(await connect(stack.wsUrl, "lone"));
	await refused(lone, { case: "endMeeting", value: {} } as never, ErrorCode.NOT_JOINED);
});

suite.test("admitted from the waiting room: the admission brings roster, ICE servers, a recording token, then the call's events", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl, "waiting_room");
	const host = track(await connect(stack.wsUrl, "host"));
	const w = track(await connect(stack.wsUrl, "waiting"));
	const w2 = track(await connect(stack.wsUrl, "denied"));
	const hj = await join(host, id, "Host", { hostKey });
	const wj = await join(w, id, "Wes", { clientKey: clientKey() });
	const dj = await join(w2, id, "Dee", { clientKey: clientKey() });
	assert.equal(wj.admission, AdmissionState.WAITING);
	await host.nextEvent("waitingRoomEvent", 5000, (e) => e.waiting.length === 2);
	await host.call({ case: "admit", value: { participantIds: [wj.participantId] } } as never, "admit");
	const ad = await w.nextEvent("admissionEvent");
	assert.equal(ad.state, AdmissionState.ADMITTED);
	assert.ok(ad.join, "the admission carries a JoinReply");
	assert.equal(ad.join!.admission, AdmissionState.ADMITTED);
	assert.equal(ad.join!.participantId, wj.participantId);
	assert.deepEqual(ad.join!.participants.map((p) => p.id), [hj.participantId], "the roster, without itself");
	assert.ok(ad.join!.iceServers.length > 0, "ICE servers");
	assert.ok(ad.join!.recordingToken.length > 0, "a recording token");
	const joined = await host.nextEvent("participantJoined");
	assert.equal(joined.participant?.id, wj.participantId);
	// In the call now: it may signal, and hears the host.
	assert.equal((await w.signal(hj.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } as never)).body.case, "signal");
	await host.call({ case: "reaction", value: { emoji: "👏" } } as never, "reaction");
	assert.equal((await w.nextEvent("reactionEvent")).participantId, hj.participantId);
	// Denied: told so, and not joined.
	await host.call({ case: "admit", value: { participantIds: [dj.participantId], deny: true } } as never, "admit");
	const den = await w2.nextEvent("admissionEvent");
	assert.equal(den.state, AdmissionState.DENIED);
	await refused(w2, { case: "mediaState", value: { media: {} } } as never, ErrorCode.NOT_JOINED);
	// The gateway counts it.
	const metrics = await (await fetchBounded(`${stack.httpUrl}/metrics`)).text();
	const admitted = /huddle_gateway_admissions_total\{outcome="admitted"\} (\d+)/.exec(metrics);
	assert.ok(admitted && Number(admitted[1]) >= 1, metrics.slice(0, 2000));
	assert.match(metrics, /huddle_gateway_access_refused_total \d+/);
	assert.match(metrics, /huddle_gateway_waiting \d+/);
	// Admitting twice is harmless.
	await host.call({ case: "admit", value: { participantIds: [wj.participantId] } } as never, "admit");
	const again = await w.collect((m) => m.body.case === "admissionEvent", QUIET_MS);
	assert.equal(again.length, 0);
});

suite.test("a removed participant waits on return; a blocked one is refused; moderation reaches its target", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl);
	const host = track(await connect(stack.wsUrl, "host"));
	const g = track(await connect(stack.wsUrl, "guest"));
	const key = clientKey();
	await join(host, id, "Host", { hostKey });
	const gj = await join(g, id, "Gus", { clientKey: key });
	assert.equal(gj.admission, AdmissionState.ADMITTED);
	await g.chatSubscribe(id); // an open meeting's chat: anyone with the link
	await host.chatSubscribe(id);
	await host.call({ case: "moderate", value: { participantId: gj.participantId, action: ModerationAction.MUTE } } as never, "moderate");
	const mute = await g.nextEvent("moderationEvent");
	assert.equal(mute.action, ModerationAction.MUTE);
	assert.equal(mute.byName, "Host");
	await host.call({ case: "moderate", value: { participantId: gj.participantId, action: ModerationAction.REMOVE } } as never, "moderate");
	assert.equal((await g.nextEvent("moderationEvent")).action, ModerationAction.REMOVE);
	const left = await host.nextEvent("participantLeft");
	assert.equal(left.participantId, gj.participantId);
	assert.ok(g.isOpen, "the socket stays; the session is back to not joined");
	await refused(g, { case: "mediaState", value: { media: {} } } as never, ErrorCode.NOT_JOINED);
	// Back: waiting, although the meeting is open.
	const back = await join(g, id, "Gus", { clientKey: key });
	assert.equal(back.admission, AdmissionState.WAITING);
	assert.equal(back.participants.length, 0);
	await refused(g, { case: "hand", value: { raised: true } } as never, ErrorCode.FORBIDDEN);
	// Waiting again: the open meeting's chat it subscribed to says nothing to it now.
	await host.chatPost("while-waiting", "said while Gus waits");
	assert.deepEqual((await g.collect((m) => m.body.case === "chatMessage", QUIET_MS)).map(describe), []);
	await host.call({ case: "admit", value: { participantIds: [back.participantId] } } as never, "admit");
	assert.equal((await g.nextEvent("admissionEvent")).state, AdmissionState.ADMITTED);
	// Blocked: refused at the door.
	await host.call({ case: "moderate", value: { participantId: back.participantId, action: ModerationAction.BLOCK } } as never, "moderate");
	assert.equal((await g.nextEvent("moderationEvent")).action, ModerationAction.BLOCK);
	const e = await joinRaw(g, id, "Gus", { clientKey: key });
	assert.equal(e.body.case === "error" && e.body.value.code, ErrorCode.BLOCKED, describe(e));
	// Make host: the new host sees the waiting room.
	const h2 = track(await connect(stack.wsUrl, "second"));
	const h2j = await join(h2, id, "Hana", { clientKey: clientKey() });
	await host.call({ case: "moderate", value: { participantId: h2j.participantId, action: ModerationAction.MAKE_HOST } } as never, "moderate");
	assert.equal((await h2.nextEvent("moderationEvent")).action, ModerationAction.MAKE_HOST);
	await h2.call({ case: "setAccess", value: { accessMode: AccessMode.WAITING_ROOM } } as never, "setAccess");
	const late = track(await connect(stack.wsUrl, "late"));
	const lj = await join(late, id, "Lou", { clientKey: clientKey() });
	assert.equal(lj.admission, AdmissionState.WAITING);
	await h2.nextEvent("waitingRoomEvent", 5000, (ev) => ev.waiting.some((x) => x.id === lj.participantId));
	await h2.call({ case: "admit", value: { all: true } } as never, "admit");
	assert.equal((await late.nextEvent("admissionEvent")).state, AdmissionState.ADMITTED);
});

suite.test("resume keeps admission: the waiting stay waiting, the admitted stay admitted", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl, "waiting_room");
	const host = track(await connect(stack.wsUrl, "host"));
	const hj = await join(host, id, "Host", { hostKey });
	const key = clientKey();
	const w = await connect(stack.wsUrl, "waiting");
	const wj = await join(w, id, "Wyn", { clientKey: key });
	w.terminate();
	const w2 = track(await connect(stack.wsUrl, "waiting-again"));
	const r1 = await join(w2, id, "Wyn", { clientKey: key, participantId: wj.participantId, resumeToken: wj.resumeToken });
	assert.equal(r1.resumed, true);
	assert.equal(r1.admission, AdmissionState.WAITING, "still waiting");
	assert.equal(r1.participants.length, 0);
	assert.equal(r1.iceServers.length, 0);
	await refused(w2, { case: "chatSubscribe", value: { meetingId: id } } as never, ErrorCode.FORBIDDEN);
	await host.call({ case: "admit", value: { participantIds: [wj.participantId] } } as never, "admit");
	assert.equal((await w2.nextEvent("admissionEvent")).state, AdmissionState.ADMITTED);
	w2.terminate();
	const w3 = track(await connect(stack.wsUrl, "admitted-again"));
	const r2 = await join(w3, id, "Wyn", { clientKey: key, participantId: wj.participantId, resumeToken: r1.resumeToken });
	assert.equal(r2.resumed, true);
	assert.equal(r2.admission, AdmissionState.ADMITTED, "still admitted");
	assert.deepEqual(r2.participants.map((p) => p.id), [hj.participantId]);
	assert.ok(r2.iceServers.length > 0);
	await w3.chatSubscribe(id); // a non-open meeting's chat is for the admitted
});

suite.test("a space's key admits from the HTTP API and sees every meeting's waiting room", async (stack, track) => {
	const url = stack.httpUrl;
	const sp = await api(url, "POST", "/api/spaces", { title: "Dr. Who's practice" });
	assert.equal(sp.status, 201, JSON.stringify(sp.json));
	const spaceKey: string = sp.json.space_key;
	assert.ok(spaceKey && sp.json.space_id);
	const startsAt = Date.now() + 3600_000;
	const mk = await api(url, "POST", "/api/space/meetings", { title: "Consultation", starts_at_ms: startsAt }, spaceKey);
	assert.equal(mk.status, 201, JSON.stringify(mk.json));
	assert.equal(mk.json.access_mode, "waiting_room", "a space's meetings have a waiting room");
	assert.equal(mk.json.starts_at_ms, startsAt);
	assert.equal(mk.json.host_key, undefined, "the space key is its host key");
	const id: string = mk.json.id;
	assert.equal((await api(url, "GET", "/api/space")).status, 401);
	assert.equal((await api(url, "GET", "/api/space", undefined, "not-a-key")).status, 403);

	const c = track(await connect(stack.wsUrl, "client"));
	const cj = await join(c, id, "Client", { clientKey: clientKey() });
	assert.equal(cj.admission, AdmissionState.WAITING);
	assert.equal(cj.hostPresent, false, "no host has joined yet");
	const sv = await api(url, "GET", "/api/space", undefined, spaceKey);
	assert.equal(sv.status, 200);
	const m = sv.json.meetings.find((x: any) => x.id === id);
	assert.ok(m, JSON.stringify(sv.json));
	assert.deepEqual(m.waiting.map((x: any) => x.display_name), ["Client"]);
	assert.deepEqual(m.participants, []);

	// A wrong key cannot admit.
	const wrong = await api(url, "POST", `/api/meetings/${id}/admit`, { all: true }, "x".repeat(43));
	assert.equal(wrong.status, 403);
	assert.equal((await c.collect((x) => x.body.case === "admissionEvent", 300)).length, 0);
	const ok = await api(url, "POST", `/api/meetings/${id}/admit`, { participant_ids: [cj.participantId] }, spaceKey);
	assert.equal(ok.status, 200, JSON.stringify(ok.json));
	const ad = await c.nextEvent("admissionEvent");
	assert.equal(ad.state, AdmissionState.ADMITTED);
	assert.ok(ad.join!.iceServers.length > 0);
	const after = await api(url, "GET", "/api/space", undefined, spaceKey);
	const m2 = after.json.meetings.find((x: any) => x.id === id);
	assert.deepEqual(m2.participants.map((p: any) => p.display_name), ["Client"]);
	assert.deepEqual(m2.waiting, []);
	// The space key makes a host inside the call too.
	const h = track(await connect(stack.wsUrl, "pro"));
	const hj = await join(h, id, "Pro", { hostKey: spaceKey });
	assert.equal(hj.role, Role.HOST);
	// Deny from the API.
	const d = track(await connect(stack.wsUrl, "denied"));
	const dj = await join(d, id, "Dan", { clientKey: clientKey() });
	const den = await api(url, "POST", `/api/meetings/${id}/admit`, { participant_ids: [dj.participantId], deny: true }, spaceKey);
	assert.equal(den.status, 200);
	assert.equal((await d.nextEvent("admissionEvent")).state, AdmissionState.DENIED);
	// A guest link minted by the dashboard joins as its client.
	const link = await api(url, "POST", `/api/meetings/${id}/links`, { name: "Linked Client", ttl_s: 600 }, spaceKey);
	assert.equal(link.status, 201, JSON.stringify(link.json));
	assert.equal(link.json.path, `/m/${id}#jwt=${link.json.token}`);
	assert.ok(Math.abs(link.json.expires_at_ms - (Date.now() + 600_000)) < 60_000);
	assert.equal((await api(url, "POST", `/api/meetings/${id}/links`, {}, "x".repeat(43))).status, 403);
	const lc = track(await connect(stack.wsUrl, "linked"));
	const lj = await join(lc, id, "typed name", { joinToken: link.json.token, clientKey: clientKey() });
	assert.equal(lj.displayName, "Linked Client", "the link's name wins");
	assert.equal(lj.admission, AdmissionState.WAITING);
});

suite.test("signed join links: a valid guest waits, bad tokens are refused, host tokens go in; token only and locked", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl, "waiting_room");
	const other = await meeting(stack.httpUrl);
	const host = track(await connect(stack.wsUrl, "host"));
	await join(host, id, "Host", { hostKey });
	const exp = nowS() + 600;
	const good = mint({ room: id, name: "Token Guest", role: "guest", exp });
	const g = track(await connect(stack.wsUrl, "token-guest"));
	const gj = await join(g, id, "", { joinToken: good, clientKey: clientKey() }); // the link names them
	assert.equal(gj.admission, AdmissionState.WAITING);
	assert.equal(gj.displayName, "Token Guest");
	const bad: [string, string][] = [
		["expired", mint({ room: id, name: "x", role: "guest", exp: nowS() - 3600 })],
		["not yet valid", mint({ room: id, name: "x", role: "guest", exp, nbf: nowS() + 3600 })],
		["forged", mint({ room: id, name: "x", role: "host", exp }, "another secret")],
		["wrong room", mint({ room: other.id, name: "x", role: "guest", exp })],
		["alg none", mint({ room: id, name: "x", role: "host", exp }, SECRET, { alg: "none", typ: "JWT" })],
		["garbage", "not.a.token"],
	];
	for (const [what, token] of bad) {
		const c = track(await connect(stack.wsUrl, what));
		const e = await joinRaw(c, id, "x", { joinToken: token, clientKey: clientKey() });
		assert.equal(e.body.case, "error", `${what}: ${describe(e)}`);
		assert.equal(e.body.case === "error" && e.body.value.code, ErrorCode.TOKEN_INVALID, `${what}: ${describe(e)}`);
		assert.ok(e.body.case === "error" && e.body.value.message.length > 0);
		await refused(c, { case: "mediaState", value: { media: {} } } as never, ErrorCode.NOT_JOINED);
	}
	// A room "*" token works for any meeting; a host-role token goes straight in as a host.
	const ht = track(await connect(stack.wsUrl, "token-host"));
	const hj = await join(ht, id, "x", { joinToken: mint({ room: "*", name: "Token Host", role: "host", exp }) });
	assert.equal(hj.admission, AdmissionState.ADMITTED);
	assert.equal(hj.role, Role.HOST);
	assert.equal(hj.displayName, "Token Host");

	// Token only: no token, no entry; a guest token enters.
	const r = await api(stack.httpUrl, "POST", `/api/meetings/${id}/access`, { access_mode: "token_only" }, hostKey);
	assert.equal(r.status, 200);
	const plain = track(await connect(stack.wsUrl, "plain"));
	const pe = await joinRaw(plain, id, "Plain", { clientKey: clientKey() });
	assert.equal(pe.body.case === "error" && pe.body.value.code, ErrorCode.TOKEN_INVALID, describe(pe));
	const tg = track(await connect(stack.wsUrl, "token-only-guest"));
	const tgj = await join(tg, id, "x", { joinToken: mint({ room: id, name: "Tess", role: "guest", exp }), clientKey: clientKey() });
	assert.equal(tgj.admission, AdmissionState.ADMITTED);

	// Locked: guests refused, hosts still enter.
	await host.call({ case: "setAccess", value: { accessMode: AccessMode.LOCKED } } as never, "setAccess");
	const lg = track(await connect(stack.wsUrl, "locked-guest"));
	const le = await joinRaw(lg, id, "Late", { joinToken: mint({ room: id, name: "Late", role: "guest", exp }), clientKey: clientKey() });
	assert.equal(le.body.case === "error" && le.body.value.code, ErrorCode.MEETING_LOCKED, describe(le));
	const lh = track(await connect(stack.wsUrl, "locked-host"));
	assert.equal((await join(lh, id, "Co-host", { hostKey })).admission, AdmissionState.ADMITTED);
});

suite.test("end for all ends every session, admitted or waiting", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl);
	const host = track(await connect(stack.wsUrl, "host"));
	const g = track(await connect(stack.wsUrl, "guest"));
	await join(host, id, "Host", { hostKey });
	await join(g, id, "Guest", { clientKey: clientKey() });
	await host.call({ case: "setAccess", value: { accessMode: AccessMode.WAITING_ROOM } } as never, "setAccess");
	const w = track(await connect(stack.wsUrl, "waiting"));
	assert.equal((await join(w, id, "Waiter", { clientKey: clientKey() })).admission, AdmissionState.WAITING);
	await host.call({ case: "endMeeting", value: {} } as never, "endMeeting");
	for (const c of [host, g, w]) {
		const ended = await c.nextEvent("meetingEnded");
		assert.equal(ended.byName, "Host");
		await refused(c, { case: "mediaState", value: { media: {} } } as never, ErrorCode.NOT_JOINED);
	}
	// The link still works: a new call can begin.
	const again = track(await connect(stack.wsUrl, "again"));
	assert.equal((await join(again, id, "Host", { hostKey })).admission, AdmissionState.ADMITTED);
});

suite.test("reactions reach everyone and are rate limited; hands queue in order", async (stack, track) => {
	const { id } = await meeting(stack.httpUrl);
	const a = track(await connect(stack.wsUrl, "a"));
	const b = track(await connect(stack.wsUrl, "b"));
	const c = track(await connect(stack.wsUrl, "c"));
	const aj = await join(a, id, "A", { clientKey: clientKey() });
	const bj = await join(b, id, "B", { clientKey: clientKey() });
	const cj = await join(c, id, "C", { clientKey: clientKey() });
	await a.call({ case: "reaction", value: { emoji: "👍" } } as never, "reaction");
	for (const x of [b, c]) {
		const ev = await x.nextEvent("reactionEvent");
		assert.deepEqual([ev.participantId, ev.emoji], [aj.participantId, "👍"]);
	}
	await refused(a, { case: "reaction", value: { emoji: "🍕" } } as never, ErrorCode.BAD_REQUEST);
	// REACTION_RATE per 10 s: the bucket is empty after the rest of them.
	let limited = 0;
	for (let i = 0; i < REACTION_RATE + 2; i++) {
		const m = await a.request({ case: "reaction", value: { emoji: "😮" } } as never);
		if (m.body.case === "error") {
			assert.equal(m.body.value.code, ErrorCode.RATE_LIMITED);
			limited++;
		}
	}
	assert.ok(limited >= 2, `${limited} refused`);
	// Hands: C, then A; the queue is ordered by hand_raised_at_ms.
	await c.call({ case: "hand", value: { raised: true } } as never, "hand");
	await new Promise((r) => setTimeout(r, 20));
	await a.call({ case: "hand", value: { raised: true } } as never, "hand");
	const raised = new Map<string, bigint>();
	while (raised.size < 2) {
		const u = await b.nextEvent("participantUpdated", 5000, (v) => (v.participant?.handRaisedAtMs ?? 0n) > 0n);
		raised.set(u.participant!.id, u.participant!.handRaisedAtMs);
	}
	assert.ok(raised.get(cj.participantId)! < raised.get(aj.participantId)!, "the first hand is first");
	// Raising again keeps the place; lowering clears it.
	await c.call({ case: "hand", value: { raised: true } } as never, "hand");
	await c.call({ case: "hand", value: { raised: false } } as never, "hand");
	const down = await b.nextEvent("participantUpdated", 5000, (v) => v.participant?.id === cj.participantId && v.participant.handRaisedAtMs === 0n);
	assert.equal(down.participant?.handRaisedAtMs, 0n);
	// The raiser hears its own hand too (the queue shows it).
	await a.nextEvent("participantUpdated", 5000, (v) => v.participant?.id === aj.participantId);
	void bj;
});

suite.test("exports and the recordings list of a meeting that is not open need a host key or a recording token", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl, "waiting_room");
	const host = track(await connect(stack.wsUrl, "host"));
	const hj = await join(host, id, "Host", { hostKey });
	await host.chatSubscribe(id);
	await host.chatPost("h1", "private words");
	for (const path of [`/api/meetings/${id}/chat`, `/api/meetings/${id}/notes.md`, ...(stack.hasRecording ? [`/api/meetings/${id}/recordings`] : [])]) {
		const none = await api(stack.httpUrl, "GET", path);
		assert.equal(none.status, 403, `${path} without a key: ${JSON.stringify(none.json)}`);
		assert.equal(none.json.error.code, "FORBIDDEN");
		assert.equal((await api(stack.httpUrl, "GET", path, undefined, "x".repeat(43))).status, 403, `${path} wrong key`);
		assert.equal((await api(stack.httpUrl, "GET", path, undefined, hostKey)).status, 200, `${path} host key`);
		assert.equal((await api(stack.httpUrl, "GET", path, undefined, hj.recordingToken)).status, 200, `${path} recording token`);
	}
	const chat = await api(stack.httpUrl, "GET", `/api/meetings/${id}/chat`, undefined, hostKey);
	assert.ok(JSON.stringify(chat.json).includes("private words"));
	// An open meeting's exports stay open.
	const open = await meeting(stack.httpUrl);
	assert.equal((await api(stack.httpUrl, "GET", `/api/meetings/${open.id}/chat`)).status, 200);
	// A socket that is not in the call cannot subscribe to a non-open meeting's chat or notes.
	const outsider = track(await connect(stack.wsUrl, "outsider"));
	await refused(outsider, { case: "chatSubscribe", value: { meetingId: id } } as never, ErrorCode.FORBIDDEN);
	await refused(outsider, { case: "notesSubscribe", value: { meetingId: id } } as never, ErrorCode.FORBIDDEN);
});

suite.test("a chat reader outside the call (on another gateway) loses the chat when a host closes the meeting", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl);
	const gw2 = stack.gateways.length > 1 ? stack.gateways[1] : await stack.addGateway();
	const host = track(await connect(stack.wsUrl, "host"));
	await join(host, id, "Host", { hostKey });
	await host.chatSubscribe(id);
	// Not in the call, on a gateway where nobody of the meeting is: it reads the open meeting's chat.
	const reader = track(await connect(gw2.wsUrl, "reader"));
	await reader.chatSubscribe(id);
	await reader.notesSubscribe(id);
	await host.chatPost("open-1", "while open");
	await reader.nextEvent("chatMessage", 5000, (m) => m.text === "while open");
	await host.call({ case: "setAccess", value: { accessMode: AccessMode.WAITING_ROOM } } as never, "setAccess");
	// The reader's gateway hears of it (the meeting's events are watched for its chat room).
	let code: ErrorCode | undefined;
	for (let i = 0; i < 40 && code !== ErrorCode.FORBIDDEN; i++) {
		const m = await reader.request(reader.chatPostBody(`r${i}`, "still here?"));
		code = m.body.case === "error" ? m.body.value.code : undefined;
		if (code !== ErrorCode.FORBIDDEN) await new Promise((r) => setTimeout(r, 50));
	}
	assert.equal(code, ErrorCode.FORBIDDEN);
	await refused(reader, { case: "notesOpen", value: { document: DocumentKind.NOTES } } as never, ErrorCode.FORBIDDEN);
	const before = reader.chatMessages().length;
	await host.chatPost("closed-1", "after the door closed");
	await new Promise((r) => setTimeout(r, QUIET_MS));
	assert.equal(reader.chatMessages().length, before, "no chat after the meeting closed its doors");
});

suite.test("without JOIN_TOKEN_SECRET: links are 503, and a token is refused, never a join", async (stack, track) => {
	const bare = await stack.addGateway({ JOIN_TOKEN_SECRET: "" });
	const { id, hostKey } = await meeting(stack.httpUrl);
	const r = await api(bare.httpUrl, "POST", `/api/meetings/${id}/links`, { name: "x" }, hostKey);
	assert.equal(r.status, 503, JSON.stringify(r.json));
	assert.equal(r.json.error.code, "UNAVAILABLE");
	const c = track(await connect(bare.wsUrl, "token-on-bare"));
	const e = await joinRaw(c, id, "x", { joinToken: mint({ room: id, name: "x", role: "host", exp: nowS() + 600 }) });
	assert.equal(e.body.case === "error" && e.body.value.code, ErrorCode.TOKEN_INVALID, describe(e));
	// Bad request shapes of the API.
	assert.equal((await api(stack.httpUrl, "GET", `/api/meetings/${id}/admit`, undefined, hostKey)).status, 405);
	assert.equal((await api(stack.httpUrl, "POST", `/api/meetings/${id}/admit`, { participant_ids: ["nope"] }, hostKey)).status, 400);
	assert.equal((await api(stack.httpUrl, "POST", `/api/meetings/${id}/access`, { access_mode: "wide_open" }, hostKey)).status, 400);
	assert.equal((await api(stack.httpUrl, "POST", `/api/meetings/${id}/links`, { role: "king" }, hostKey)).status, 400);
	assert.equal((await api(stack.httpUrl, "POST", `/api/meetings/${id}/links`, { ttl_s: 0 }, hostKey)).status, 400);
	assert.equal((await api(stack.httpUrl, "POST", "/api/meetings/short/admit", { all: true }, hostKey)).status, 404);
	assert.equal((await api(stack.httpUrl, "POST", `/api/meetings/${id}/admit`, { all: true })).status, 401);
	// A bad client_key is a bad request.
	const k = track(await connect(stack.wsUrl, "bad-client-key"));
	const ke = await joinRaw(k, id, "x", { clientKey: "has spaces and / slashes" });
	assert.equal(ke.body.case === "error" && ke.body.value.code, ErrorCode.BAD_REQUEST, describe(ke));
});

suite.test("admitted while the join is on its way: the guest ends in the call once, with its roster", async (stack, track) => {
	const { id, hostKey } = await meeting(stack.httpUrl, "waiting_room");
	const host = track(await connect(stack.wsUrl, "host"));
	const hj = await join(host, id, "Host", { hostKey });
	for (let i = 0; i < 8; i++) {
		const g = track(await connect(stack.wsUrl, `guest-${i}`));
		const pending = joinRaw(g, id, `G${i}`, { clientKey: clientKey() });
		// Admit all, over and over, while the join travels.
		let stop = false;
		const spam = (async () => {
			while (!stop) {
				await host.request({ case: "admit", value: { all: true } } as never);
				await new Promise((r) => setTimeout(r, 1));
			}
		})();
		const reply = await pending;
		assert.equal(reply.body.case, "join", describe(reply));
		const jr = reply.body.value as JoinReply;
		let roster = jr.participants;
		if (jr.admission === AdmissionState.WAITING) {
			const ad = await g.nextEvent("admissionEvent");
			assert.equal(ad.state, AdmissionState.ADMITTED);
			roster = ad.join!.participants;
		}
		stop = true;
		await spam;
		assert.ok(roster.some((p) => p.id === hj.participantId), `guest ${i} knows the host`);
		const joinedEvents = await host.collect((m) => m.body.case === "participantJoined" && m.body.value.participant?.id === jr.participantId, 200);
		assert.equal(joinedEvents.length, 1, `the host hears of guest ${i} once`);
		assert.equal((await g.signal(hj.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0 } } as never)).body.case, "signal");
		await g.leave();
	}
});
