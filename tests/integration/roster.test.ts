// Meetings over HTTP, joining, rosters and their events, static files, TURN
// credentials — one gateway, one registry, Redis and coturn.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, httpGet } from "../lib/client.ts";
import { ErrorCode, LeaveReason, type JoinReply, type Participant } from "../lib/proto.ts";
import { turnAllocate, turnPassword } from "../lib/turn.ts";

const PRESENCE_TTL_MS = 20000;

// A web root of our own, so the static-file tests do not depend on a web build,
// and a secret file beside it that must never be served.
const fixture = mkdtempSync(join(tmpdir(), "huddle-www-"));
const webRoot = join(fixture, "www");
mkdirSync(join(webRoot, "assets"), { recursive: true });
const INDEX = "<!doctype html><title>huddle fixture</title><div id=app></div>\n";
writeFileSync(join(webRoot, "index.html"), INDEX);
writeFileSync(join(webRoot, "assets", "app.js"), "console.log('fixture');\n");
writeFileSync(join(fixture, "secret.txt"), "TOP-SECRET-OUTSIDE-WEB-ROOT\n");

const suite = useStack({ coturn: true, presenceTtlMs: PRESENCE_TTL_MS, gatewayEnv: { GATEWAY_WEB_ROOT: webRoot } });

const MEETING_ID = /^[A-Za-z0-9_-]{22,}$/; // >= 128 bits, base64url without padding

/** One raw HTTP/1.1 GET with the path sent exactly as given (fetch would normalise "..") */
function rawGet(httpUrl: string, path: string, timeoutMs = 3000): Promise<{ status: number; text: string }> {
	const u = new URL(httpUrl);
	return new Promise((res, rej) => {
		const s = netConnect({ host: u.hostname, port: Number(u.port) });
		let buf = "";
		const timer = setTimeout(() => {
			s.destroy();
			rej(new Error(`GET ${path}: no complete answer within ${timeoutMs} ms (got ${JSON.stringify(buf.slice(0, 200))})`));
		}, timeoutMs);
		s.on("connect", () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`));
		s.on("data", (d) => (buf += d.toString("latin1")));
		s.on("error", (e) => {
			clearTimeout(timer);
			rej(e);
		});
		s.on("close", () => {
			clearTimeout(timer);
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
			res({ status: m ? Number(m[1]) : 0, text: buf });
		});
	});
}

function ids(ps: Participant[]): string[] {
	return ps.map((p) => p.id).sort();
}

suite.test("/healthz and /readyz answer 200 while everything is up", async (s) => {
	const h = await httpGet(`${s.httpUrl}/healthz`);
	assert.equal(h.status, 200);
	assert.equal(h.body.trim(), "ok");
	const r = await httpGet(`${s.httpUrl}/readyz`);
	assert.equal(r.status, 200);
	assert.equal(r.body.trim(), "ready");
});

suite.test("POST /api/meetings creates meetings that GET /api/meetings/<id> finds; unknown ids are 404", async (s) => {
	const before = Date.now();
	const titled = await createMeeting(s.httpUrl, "Weekly sync ✓");
	const untitled = await createMeeting(s.httpUrl, "");
	for (const m of [titled, untitled]) {
		assert.match(m.id, MEETING_ID, "meeting id is >= 128 bits of base64url");
		assert.equal(m.url, `/m/${m.id}`);
		assert.ok(Math.abs(Number(m.createdAtMs) - before) < 60000, `createdAtMs ${m.createdAtMs} is about now (${before})`);
		assert.equal(m.created_at_ms, m.createdAtMs);
		assert.equal(m.access_mode, "open", "a meeting of no space is open by default");
		assert.equal(m.starts_at_ms, 0);
		assert.match(m.host_key ?? "", /^[A-Za-z0-9_-]{43}$/, "the creator gets the host key (256 bits, base64url)");
	}
	assert.notEqual(titled.host_key, untitled.host_key);
	assert.notEqual(titled.id, untitled.id);
	assert.equal(titled.title, "Weekly sync ✓");
	assert.equal(untitled.title, "");

	const got = await httpGet(`${s.httpUrl}/api/meetings/${titled.id}`);
	assert.equal(got.status, 200);
	assert.match(got.contentType, /application\/json/);
	// GET answers the same meeting, never with its host key.
	const { host_key: _key, ...shown } = titled;
	assert.deepEqual(JSON.parse(got.body), shown);
	assert.ok(!got.body.includes(titled.host_key ?? "-"), "GET never shows the host key");
	for (const f of readdirSync(s.logDir).filter((n) => n.endsWith(".log"))) {
		const text = readFileSync(join(s.logDir, f), "utf8");
		assert.ok(!text.includes(titled.host_key ?? "-"), `the host key is not in ${f}`);
	}

	const missing = await httpGet(`${s.httpUrl}/api/meetings/AAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
	assert.equal(missing.status, 404);
	const err = JSON.parse(missing.body) as { error: { code: string; message: string } };
	assert.equal(err.error.code, "UNKNOWN_MEETING");
	assert.ok(err.error.message.length > 0, "404 carries a human message");
});

suite.test("GET / and /m/<id> serve the SPA; static files are served; nothing outside the web root is", async (s) => {
	const m = await createMeeting(s.httpUrl);
	for (const path of ["/", `/m/${m.id}`]) {
		const r = await httpGet(`${s.httpUrl}${path}`);
		assert.equal(r.status, 200, `GET ${path}`);
		assert.equal(r.body, INDEX, `GET ${path} is index.html`);
		assert.match(r.contentType, /text\/html/);
	}
	const js = await httpGet(`${s.httpUrl}/assets/app.js`);
	assert.equal(js.status, 200);
	assert.match(js.contentType, /javascript/);
	assert.equal((await httpGet(`${s.httpUrl}/assets/nope.js`)).status, 404);
	for (const path of ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"]) {
		const r = await rawGet(s.httpUrl, path);
		assert.ok(!r.text.includes("TOP-SECRET"), `GET ${path} must not serve a file outside the web root (status ${r.status})`);
	}
	// The gateway is still fine after the odd requests.
	assert.equal((await httpGet(`${s.httpUrl}/healthz`)).status, 200);
});

suite.test("three clients join: rosters, participant_joined, media_state, leave, and a later join's roster", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl, "roster");
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	const c = track(await connect(s.wsUrl, "C"));

	const t0 = Date.now();
	const ja = await a.join(meeting.id, "Alice");
	assert.ok(ja.participantId.length > 0, "participant id is set");
	assert.ok(ja.resumeToken.length >= 16, "resume token looks like a secret");
	assert.deepEqual(ja.participants, [], "the first joiner sees an empty roster");
	assert.equal(ja.resumed, false);
	assert.equal(ja.meeting?.id, meeting.id);
	assert.equal(ja.meeting?.title, "roster");
	assert.equal(ja.presenceTtlMs, PRESENCE_TTL_MS);

	const jb = await b.join(meeting.id, "Bob");
	assert.deepEqual(ids(jb.participants), [ja.participantId]);
	const alice = jb.participants[0];
	assert.equal(alice.displayName, "Alice");
	assert.ok(Math.abs(Number(alice.joinedAtMs) - t0) < 60000, "joinedAtMs is about now");
	const bobJoined = await a.nextEvent("participantJoined");
	assert.equal(bobJoined.participant?.id, jb.participantId);
	assert.equal(bobJoined.participant?.displayName, "Bob");

	const jc = await c.join(meeting.id, "Carol 🎤", { media: { audioMuted: true } });
	assert.deepEqual(ids(jc.participants), [ja.participantId, jb.participantId].sort());
	assert.ok(!jc.participants.some((p) => p.id === jc.participantId), "the roster holds everyone else, not the joiner");
	assert.equal(new Set([ja.participantId, jb.participantId, jc.participantId]).size, 3, "participant ids are unique");
	assert.notEqual(ja.resumeToken, jb.resumeToken);
	for (const x of [a, b]) {
		const ev = await x.nextEvent("participantJoined");
		assert.equal(ev.participant?.id, jc.participantId, `${x.label} sees Carol join`);
		assert.equal(ev.participant?.displayName, "Carol 🎤");
		assert.equal(ev.participant?.media?.audioMuted, true);
	}

	// media_state -> participant_updated to the others.
	const r = await a.mediaState({ videoMuted: true, screenSharing: true });
	assert.equal(r.body.case, "mediaState", `media_state reply, got ${r.body.case}`);
	for (const x of [b, c]) {
		const ev = await x.nextEvent("participantUpdated");
		assert.equal(ev.participant?.id, ja.participantId);
		assert.equal(ev.participant?.media?.videoMuted, true);
		assert.equal(ev.participant?.media?.screenSharing, true);
		assert.equal(ev.participant?.media?.audioMuted, false);
	}

	// leave -> participant_left LEFT, immediately.
	const lr = await c.leave();
	assert.equal(lr.body.case, "leave", `leave reply, got ${lr.body.case}`);
	for (const x of [a, b]) {
		const ev = await x.nextEvent("participantLeft", 3000);
		assert.equal(ev.participantId, jc.participantId);
		assert.equal(ev.reason, LeaveReason.LEFT);
	}

	// A later joiner's roster is what the registry lists now: Alice (with her media) and Bob.
	const d = track(await connect(s.wsUrl, "D"));
	const jd = await d.join(meeting.id, "Dave");
	assert.deepEqual(ids(jd.participants), [ja.participantId, jb.participantId].sort());
	const aliceNow = jd.participants.find((p) => p.id === ja.participantId);
	assert.equal(aliceNow?.media?.videoMuted, true, "the roster carries the latest media state");
	assert.equal(aliceNow?.media?.screenSharing, true);
	const bobNow = jd.participants.find((p) => p.id === jb.participantId);
	assert.equal(bobNow?.displayName, "Bob");

	// Events are events: request_id 0.
	assert.ok(a.received.filter((m) => m.body.case === "participantJoined").every((m) => m.requestId === 0));
});

suite.test("join of an unknown meeting gets UNKNOWN_MEETING echoing the request id; the session can still join", async (s, track) => {
	const a = track(await connect(s.wsUrl, "A"));
	const e = await a.expectError(a.joinBody("AAAAAAAAAAAAAAAAAAAAAA", "Alice"));
	assert.equal(e.code, ErrorCode.UNKNOWN_MEETING, `got ${ErrorCode[e.code]}`);
	assert.notEqual(e.requestId, 0);
	assert.ok(e.message.length > 0, "errors carry a human message");
	const meeting = await createMeeting(s.httpUrl);
	const j = await a.join(meeting.id, "Alice");
	assert.equal(j.meeting?.id, meeting.id);
});

function turnEntries(reply: JoinReply) {
	const stun = reply.iceServers.filter((s) => s.urls.some((u) => u.startsWith("stun:")));
	const turn = reply.iceServers.filter((s) => s.urls.some((u) => u.startsWith("turn:")));
	return { stun, turn };
}

suite.test("JoinReply ICE servers: STUN without credentials, TURN with REST API credentials", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const now = Math.floor(Date.now() / 1000);
	const j = await a.join(meeting.id, "Alice");
	const { stun, turn } = turnEntries(j);

	assert.equal(stun.length, 1, `one STUN entry, got ${JSON.stringify(j.iceServers)}`);
	assert.ok(stun[0].urls.includes(s.turnUrls[0]), `STUN entry lists ${s.turnUrls[0]}`);
	assert.equal(stun[0].username, "");
	assert.equal(stun[0].credential, "");

	assert.equal(turn.length, 1, `one TURN entry, got ${JSON.stringify(j.iceServers)}`);
	const t = turn[0];
	assert.deepEqual([...t.urls].sort(), s.turnUrls.filter((u) => u.startsWith("turn:")).sort());
	const m = /^(\d+):(.+)$/.exec(t.username);
	assert.ok(m, `username "${t.username}" is "<expiry>:<participant id>"`);
	assert.equal(m[2], j.participantId);
	const expiry = Number(m[1]);
	assert.ok(Math.abs(expiry - (now + s.turnTtlS)) <= 30, `expiry ${expiry} ≈ now + TURN_TTL (${now + s.turnTtlS})`);
	assert.equal(t.credential, turnPassword(s.turnSecret, t.username), "credential = base64(HMAC-SHA1(TURN_SECRET, username))");
});

suite.test("the minted TURN credentials allocate a relay at coturn; tampered ones do not", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const j = await a.join(meeting.id, "Alice");
	const t = turnEntries(j).turn[0];
	assert.ok(t, "a TURN entry");
	const port = Number(/:(\d+)/.exec(s.turnUrls[1].slice("turn:".length))?.[1]);
	const ok = await turnAllocate(port, t.username, t.credential);
	assert.ok(ok.ok, `Allocate with the gateway's credentials succeeds (got STUN error ${ok.errorCode})`);
	const bad = await turnAllocate(port, t.username, turnPassword("not-the-secret", t.username));
	assert.equal(bad.ok, false);
	assert.equal(bad.errorCode, 401);
});

// Last in the file: the body of POST /api/meetings is optional (curl -X POST, a bare form).
suite.test("POST /api/meetings without any body creates an untitled meeting", async (s) => {
	const m = await createMeeting(s.httpUrl, null);
	assert.match(m.id, MEETING_ID);
	assert.equal(m.title ?? "", "");
	assert.equal((await httpGet(`${s.httpUrl}/api/meetings/${m.id}`)).status, 200);
	assert.equal((await httpGet(`${s.httpUrl}/healthz`)).status, 200, "the gateway is still up");
});

suite.test("GET /metrics counts sessions, participants and joins in Prometheus text", async (s, track) => {
	const metric = (text: string, name: string): number => {
		const line = text.split("\n").find((l) => l.startsWith(`${name} `));
		assert.ok(line, `metric ${name} missing in:\n${text}`);
		return Number(line.split(" ")[1]);
	};
	const before = await httpGet(`${s.httpUrl}/metrics`);
	assert.equal(before.status, 200);
	assert.match(before.contentType, /^text\/plain/);
	const joins0 = metric(before.body, "huddle_gateway_joins_total");
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "m-a"));
	const b = track(await connect(s.wsUrl, "m-b"));
	await a.join(meeting.id, "A");
	await b.join(meeting.id, "B");
	const during = await httpGet(`${s.httpUrl}/metrics`);
	assert.equal(metric(during.body, "huddle_gateway_joins_total"), joins0 + 2);
	assert.ok(metric(during.body, "huddle_gateway_sessions") >= 2);
	assert.ok(metric(during.body, "huddle_gateway_participants") >= 2);
	assert.ok(metric(during.body, "huddle_gateway_rooms") >= 1);
	const post = await fetch(`${s.httpUrl}/metrics`, { method: "POST" });
	assert.equal(post.status, 405);
});
