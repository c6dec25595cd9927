// Recordings over the gateway's HTTP API with real daemons (registry,
// huddle-recording): the recording token of JoinReply (its format checked
// with node:crypto), 401/403/404/405/409/411/413/429/503, a chunked upload of
// a WebM made with ffmpeg, finished and listed until ready, the file and its
// byte ranges (206, Content-Range, 416) read across the gateway's 1 MiB
// pieces and compared with the file huddle-recording assembled, delete, a
// huddle-recording outage and its recovery, and MediaState.recording
// reaching the other participants.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, fetchBounded, type HuddleClient } from "../lib/client.ts";
import { sleep, waitFor, type Stack } from "../lib/stack.ts";

const SECRET = "it-rec-" + randomBytes(12).toString("hex");
const TTL_S = 86400;
const suite = useStack({ gatewayEnv: { RECORDING_TOKEN_SECRET: SECRET, RECORDING_RATE: "1000" } });

const MiB = 1024 * 1024;
const rid = () => randomBytes(16).toString("base64url"); // 22 characters
const b64url43 = /^[A-Za-z0-9_-]{43}$/;

/** The recording token the gateway must mint: "<expiry>.<participant>.<base64url HMAC-SHA256(secret, meeting|participant|expiry)>". */
function mint(meetingId: string, participantId: string, expiry: number, secret = SECRET): string {
	const mac = createHmac("sha256", secret).update(`${meetingId}|${participantId}|${expiry}`).digest("base64url");
	return `${expiry}.${participantId}.${mac}`;
}

/** True (with a visible SKIP line) when the stack runs without huddle-recording (not built). */
function noRecording(s: Stack): boolean {
	if (!s.hasRecording) console.log("# SKIP: huddle-recording is not built; nothing to test");
	return !s.hasRecording;
}

/** Waits (bounded) until gateway httpUrl is connected to huddle-recording: it dials in the background. */
async function recordingConnected(httpUrl: string): Promise<void> {
	await waitFor(
		`${httpUrl} connected to huddle-recording`,
		async () => /^huddle_gateway_recording_connected [1-9]/m.test(await (await fetchBounded(`${httpUrl}/metrics`)).text()),
		20000,
	);
}

// A real WebM (VP8 + Opus), as MediaRecorder would make: 20 s at 1.5 Mbit/s,
// over 3 MiB, so a download crosses the gateway's 1 MiB read pieces.
const fixtureDir = mkdtempSync(join(tmpdir(), "huddle-rec-"));
let fixtureBytes: Buffer | undefined;
function fixture(): Buffer {
	if (fixtureBytes) return fixtureBytes;
	const out = join(fixtureDir, "fixture.webm");
	execFileSync("ffmpeg", [
		"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "20", "-c:v", "libvpx", "-b:v", "1500k", "-deadline", "realtime", "-cpu-used", "8",
		"-c:a", "libopus", "-f", "webm", out,
	]);
	fixtureBytes = readFileSync(out);
	assert.ok(fixtureBytes.length > 3 * MiB, `the fixture has ${fixtureBytes.length} bytes, want over 3 MiB`);
	return fixtureBytes;
}

function ffprobeDuration(bytes: Buffer): number {
	const f = join(fixtureDir, `probe-${randomBytes(4).toString("hex")}.webm`);
	execFileSync("sh", ["-c", 'cat > "$1"', "sh", f], { input: bytes });
	return Number(execFileSync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", f]).toString().trim());
}

interface Rec {
	id: string;
	meetingId: string;
	kind: string;
	state: string;
	recorderId: string;
	recorderName: string;
	chunks: number;
	bytes: number;
	durationMs: number;
	error: string;
	mimeType: string;
	url: string;
}

/** One API request; returns status, headers and the body (JSON parsed when it is JSON). */
async function api(
	url: string,
	init: { method?: string; token?: string; json?: unknown; body?: Uint8Array; headers?: Record<string, string> } = {},
	timeoutMs = 15000,
): Promise<{ status: number; headers: Headers; body: Buffer; json: any }> {
	const headers: Record<string, string> = { ...init.headers };
	if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
	let body: Uint8Array | string | undefined = init.body;
	if (init.json !== undefined) {
		headers["content-type"] = "application/json";
		body = JSON.stringify(init.json);
	}
	const r = await fetchBounded(url, { method: init.method ?? "GET", headers, body }, timeoutMs);
	const buf = Buffer.from(await r.arrayBuffer());
	let json: any;
	if ((r.headers.get("content-type") ?? "").startsWith("application/json")) json = JSON.parse(buf.toString("utf8"));
	return { status: r.status, headers: r.headers, body: buf, json };
}

function expectError(r: { status: number; json: any }, status: number, code: string, what: string): void {
	assert.equal(r.status, status, `${what}: status ${r.status} (${JSON.stringify(r.json)}), want ${status}`);
	assert.equal(r.json?.error?.code, code, `${what}: ${JSON.stringify(r.json)}`);
	assert.equal(typeof r.json.error.message, "string");
}

/** A raw HTTP/1.1 exchange (fetch cannot leave out Content-Length or send a bad one); returns what came back and whether the server closed. */
function raw(httpUrl: string, request: string, timeoutMs = 3000): Promise<{ status: number; text: string; closed: boolean }> {
	const u = new URL(httpUrl);
	return new Promise((res, rej) => {
		const s = netConnect({ host: u.hostname, port: Number(u.port) });
		let buf = "";
		const done = (closed: boolean) => {
			clearTimeout(timer);
			s.destroy();
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
			res({ status: m ? Number(m[1]) : 0, text: buf, closed });
		};
		const timer = setTimeout(() => done(false), timeoutMs);
		s.on("connect", () => s.write(request));
		s.on("data", (d) => (buf += d.toString("latin1")));
		s.on("error", rej);
		s.on("end", () => done(true));
	});
}

/** A joined participant of meetingId and its recording token. */
async function participant(s: Stack, meetingId: string, name: string, track: <T extends HuddleClient>(c: T) => T, g = 0) {
	const c = track(await connect(s.gateways[g].wsUrl, name));
	const jr = await c.join(meetingId, name);
	return { c, id: jr.participantId, token: jr.recordingToken };
}

/** Uploads bytes as chunks of chunkSize from index `from`; asserts each is stored. */
async function upload(base: string, token: string, bytes: Buffer, chunkSize: number, from = 0): Promise<number> {
	const n = Math.ceil(bytes.length / chunkSize);
	for (let i = 0; i < n; i++) {
		const r = await api(`${base}/chunks/${from + i}`, { method: "PUT", token, body: bytes.subarray(i * chunkSize, (i + 1) * chunkSize) });
		assert.equal(r.status, 200, `chunk ${from + i}: ${r.status} ${r.body.toString()}`);
		assert.equal(r.json.index, from + i);
		assert.equal(r.json.duplicate, false);
	}
	return n;
}

/** Polls the meeting's list (bounded) until recording id is no longer recording or assembling. */
async function settled(s: Stack, meetingId: string, id: string, timeoutMs = 30000): Promise<Rec> {
	let rec: Rec | undefined;
	await waitFor(
		`recording ${id} to be assembled`,
		async () => {
			const r = await api(`${s.httpUrl}/api/meetings/${meetingId}/recordings`);
			assert.equal(r.status, 200);
			rec = (r.json as Rec[]).find((x) => x.id === id);
			return rec !== undefined && rec.state !== "recording" && rec.state !== "assembling";
		},
		timeoutMs,
		200,
	);
	return rec!;
}

/** Every file named name under dir (huddle-recording's RECORDINGS_DIR). */
function filesNamed(dir: string, name: string): string[] {
	const out: string[] = [];
	for (const f of readdirSync(dir)) {
		const p = join(dir, f);
		if (statSync(p).isDirectory()) out.push(...filesNamed(p, name));
		else if (f === name) out.push(p);
	}
	return out;
}

suite.test("join and resume hand out a recording token for the participant in that meeting", async (s, track) => {
	const m = await createMeeting(s.httpUrl);
	const other = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const before = Math.floor(Date.now() / 1000);
	const jr = await a.join(m.id, "Alice");
	const [expiry, pid, mac] = jr.recordingToken.split(".");
	assert.equal(pid, jr.participantId);
	assert.match(mac, b64url43);
	assert.ok(Number(expiry) >= before + TTL_S - 5 && Number(expiry) <= Math.floor(Date.now() / 1000) + TTL_S + 5, `expiry ${expiry}`);
	assert.equal(jr.recordingToken, mint(m.id, pid, Number(expiry)), "HMAC-SHA256(secret, meeting|participant|expiry)");

	// A resume keeps the participant, and so the recording token's participant.
	const a2 = track(await connect(s.wsUrl, "A again"));
	const resumed = await a2.join(m.id, "Alice", { participantId: jr.participantId, resumeToken: jr.resumeToken });
	assert.equal(resumed.resumed, true);
	const [expiry2, pid2] = resumed.recordingToken.split(".");
	assert.equal(pid2, jr.participantId);
	assert.equal(resumed.recordingToken, mint(m.id, pid2, Number(expiry2)));

	// Another meeting: another token.
	const b = track(await connect(s.wsUrl, "B"));
	const jb = await b.join(other.id, "Bob");
	assert.equal(jb.recordingToken, mint(other.id, jb.participantId, Number(jb.recordingToken.split(".")[0])));
});

suite.test("writes without a valid token for the meeting are 401: none, malformed, forged, expired, another meeting's or secret's", async (s, track) => {
	const m = await createMeeting(s.httpUrl);
	const other = await createMeeting(s.httpUrl);
	const a = await participant(s, m.id, "Alice", track);
	const b = await participant(s, other.id, "Bob", track);
	const base = `${s.httpUrl}/api/meetings/${m.id}/recordings/${rid()}`;
	const now = Math.floor(Date.now() / 1000);
	const mac = a.token.split(".")[2];
	const flipped = mac[0] === "A" ? "B" + mac.slice(1) : "A" + mac.slice(1);
	const bad: [string, Record<string, string>][] = [
		["no Authorization", {}],
		["not Bearer", { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }],
		["an empty token", { authorization: "Bearer " }],
		["garbage", { authorization: "Bearer 123.abc.def" }],
		["a forged MAC", { authorization: `Bearer ${a.token.replace(mac, flipped)}` }],
		["another participant's id", { authorization: `Bearer ${a.token.replace(a.id, b.id)}` }],
		["expired", { authorization: `Bearer ${mint(m.id, a.id, now - 1)}` }],
		["a later expiry, same MAC", { authorization: `Bearer ${String(now + 10 * TTL_S)}.${a.id}.${mac}` }],
		["another meeting's", { authorization: `Bearer ${b.token}` }],
		["another secret's", { authorization: `Bearer ${mint(m.id, a.id, now + 60, "not-the-secret")}` }],
	];
	for (const [what, headers] of bad) {
		for (const [method, url, json] of [
			["PUT", base, { kind: "camera", name: "Alice" }],
			["POST", `${base}/finish`, { chunks: 1 }],
			["DELETE", base, undefined],
		] as const) {
			const r = await api(url, { method, headers, json });
			expectError(r, 401, "NOT_JOINED", `${method} with ${what}`);
			assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer realm="huddle"/, `${what}: WWW-Authenticate`);
		}
		const r = await api(`${base}/chunks/0`, { method: "PUT", headers, body: new Uint8Array(1000) });
		expectError(r, 401, "NOT_JOINED", `a chunk with ${what}`);
	}
	const expired = await api(base, { method: "PUT", token: mint(m.id, a.id, now - 1), json: { kind: "camera", name: "A" } });
	assert.match(expired.json.error.message, /expired/);
	// The token is never echoed back.
	assert.ok(!expired.body.toString().includes(mac));
	const m1 = await (await fetchBounded(`${s.httpUrl}/metrics`)).text();
	assert.match(m1, /^huddle_gateway_recording_refused_total\{why="unauthorized"\} [1-9]\d*$/m);
});

suite.test("framing and routing: 411, a malformed Content-Length, 413 past 4 MiB (read first, the connection stays usable), empty chunks, 405, 404", async (s, track) => {
	const m = await createMeeting(s.httpUrl);
	const a = await participant(s, m.id, "Alice", track);
	const id = rid();
	const path = `/api/meetings/${m.id}/recordings/${id}`;
	const host = new URL(s.httpUrl).host;

	// No Content-Length: where the body ends is unknown, so the answer closes the connection.
	let r = await raw(s.httpUrl, `PUT ${path}/chunks/0 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${a.token}\r\n\r\n`);
	assert.equal(r.status, 411, r.text);
	assert.ok(r.closed, "the connection closes after a 411");
	r = await raw(s.httpUrl, `PUT ${path}/chunks/0 HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 12abc\r\n\r\nhello`);
	assert.equal(r.status, 400, r.text);
	assert.match(r.text, /Content-Length is malformed/);
	assert.ok(r.closed);
	// An empty chunk is refused, and the connection serves the next request.
	r = await raw(s.httpUrl, `PUT ${path}/chunks/0 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${a.token}\r\nContent-Length: 0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
	assert.match(r.text, /^HTTP\/1\.1 400 [^]*HTTP\/1\.1 200 [^]*ok\n/);

	// 4 MiB + 1: 413 once the body has been read; the same connection answers the next request.
	const over = new Uint8Array(4 * MiB + 1);
	const t = await api(`${s.httpUrl}${path}/chunks/0`, { method: "PUT", token: a.token, body: over });
	expectError(t, 413, "TOO_LARGE", "a 4 MiB + 1 chunk");
	assert.match(t.json.error.message, /4194304/);
	r = await raw(
		s.httpUrl,
		`PUT ${path}/chunks/1 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${a.token}\r\nContent-Length: ${over.length}\r\n\r\n` +
			"x".repeat(over.length) +
			`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
		10000,
	);
	assert.match(r.text, /^HTTP\/1\.1 413 [^]*HTTP\/1\.1 200 [^]*ok\n/);
	// A body far beyond any limit is not read at all.
	r = await raw(s.httpUrl, `PUT ${path}/chunks/2 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${a.token}\r\nContent-Length: 1000000000\r\n\r\nxyz`);
	assert.equal(r.status, 413);
	assert.ok(r.closed);

	// Methods and paths.
	let e = await api(`${s.httpUrl}${path}/chunks/0`, { method: "POST", token: a.token, json: {} });
	expectError(e, 405, "BAD_REQUEST", "POST to a chunk");
	assert.equal(e.headers.get("allow"), "PUT");
	e = await api(`${s.httpUrl}${path}/finish`, { method: "PUT", token: a.token, json: { chunks: 1 } });
	expectError(e, 405, "BAD_REQUEST", "PUT to finish");
	assert.equal(e.headers.get("allow"), "POST");
	e = await api(`${s.httpUrl}/api/meetings/${m.id}/recordings`, { method: "DELETE", token: a.token });
	expectError(e, 405, "BAD_REQUEST", "DELETE of the list");
	expectError(await api(`${s.httpUrl}/api/meetings/not-an-id/recordings`), 404, "UNKNOWN_MEETING", "a malformed meeting id");
	expectError(await api(`${s.httpUrl}/api/meetings/${m.id}/recordings/short/file`), 404, "UNKNOWN_MEETING", "a malformed recording id");
	expectError(await api(`${s.httpUrl}${path}/chunks/-1`, { method: "PUT", token: a.token, body: new Uint8Array(1) }), 404, "UNKNOWN_MEETING", "index -1");
	expectError(await api(`${s.httpUrl}${path}/chunks/01`, { method: "PUT", token: a.token, body: new Uint8Array(1) }), 404, "UNKNOWN_MEETING", "index 01");
	expectError(await api(`${s.httpUrl}${path}/nothing`), 404, "UNKNOWN_MEETING", "an unknown path");
	// Bad JSON bodies.
	for (const json of [[], { kind: "webcam", name: "A" }, { kind: "camera" }, { kind: "camera", name: "" }, { kind: "camera", name: "x".repeat(65) }, { kind: "camera", name: "A", mimeType: 5 }]) {
		expectError(await api(`${s.httpUrl}${path}`, { method: "PUT", token: a.token, json }), 400, "BAD_REQUEST", `create with ${JSON.stringify(json)}`);
	}
	for (const json of [{}, { chunks: -1 }, { chunks: 1.5 }, { chunks: "3" }, { chunks: 2 ** 32 }]) {
		expectError(await api(`${s.httpUrl}${path}/finish`, { method: "POST", token: a.token, json }), 400, "BAD_REQUEST", `finish with ${JSON.stringify(json)}`);
	}
	expectError(await api(`${s.httpUrl}${path}`, { method: "PUT", token: a.token, body: new TextEncoder().encode("{not json") }), 400, "BAD_REQUEST", "create with bad JSON");
});

suite.test("a chunked upload, finished and listed until ready; the file, its ranges across 1 MiB pieces, HEAD; delete", async (s, track) => {
	if (noRecording(s)) return;
	await recordingConnected(s.httpUrl);
	const m = await createMeeting(s.httpUrl);
	const a = await participant(s, m.id, "Alice", track);
	const id = rid();
	const base = `${s.httpUrl}/api/meetings/${m.id}/recordings/${id}`;
	const video = fixture();

	let r = await api(base, { method: "PUT", token: a.token, json: { kind: "meeting", name: "Alice", mimeType: "video/webm;codecs=vp8,opus" } });
	assert.equal(r.status, 201, r.body.toString());
	assert.equal(r.json.id, id);
	assert.equal(r.json.meetingId, m.id);
	assert.equal(r.json.kind, "meeting");
	assert.equal(r.json.state, "recording");
	assert.equal(r.json.recorderId, a.id);
	assert.equal(r.json.recorderName, "Alice");
	assert.equal(r.json.url, `/api/meetings/${m.id}/recordings/${id}/file`);
	// Creating again is idempotent.
	r = await api(base, { method: "PUT", token: a.token, json: { kind: "meeting", name: "Alice" } });
	assert.equal(r.status, 200);
	assert.equal(r.json.id, id);

	// Chunks of 1 MiB (the last shorter), one re-sent: stored once.
	const n = await upload(base, a.token, video, MiB);
	r = await api(`${base}/chunks/1`, { method: "PUT", token: a.token, body: video.subarray(MiB, 2 * MiB) });
	assert.equal(r.status, 200);
	assert.equal(r.json.duplicate, true);
	assert.equal(r.json.recording.chunks, n);
	r = await api(base);
	assert.equal(r.status, 200);
	assert.equal(r.json.state, "recording");
	assert.equal(r.json.bytes, video.length);
	// No file before it is ready.
	expectError(await api(`${base}/file`), 404, "UNKNOWN_MEETING", "the file while recording");

	r = await api(`${base}/finish`, { method: "POST", token: a.token, json: { chunks: n } });
	assert.equal(r.status, 200, r.body.toString());
	assert.ok(["assembling", "ready"].includes(r.json.state), r.json.state);
	const rec = await settled(s, m.id, id);
	assert.equal(rec.state, "ready", JSON.stringify(rec));
	assert.equal(rec.chunks, n);
	assert.ok(Math.abs(rec.durationMs - 20000) <= 1000, `duration ${rec.durationMs} ms`);
	// A chunk re-sent after the finish is a duplicate; a new one is refused.
	r = await api(`${base}/chunks/0`, { method: "PUT", token: a.token, body: video.subarray(0, MiB) });
	assert.equal(r.status, 200);
	assert.equal(r.json.duplicate, true);
	expectError(await api(`${base}/chunks/${n}`, { method: "PUT", token: a.token, body: new Uint8Array(10) }), 409, "BAD_REQUEST", "a new chunk after the finish");

	// The whole file: what huddle-recording assembled, byte for byte.
	const whole = await api(`${base}/file`);
	assert.equal(whole.status, 200);
	assert.equal(whole.headers.get("content-type"), "video/webm");
	assert.equal(whole.headers.get("accept-ranges"), "bytes");
	assert.equal(whole.headers.get("content-length"), String(rec.bytes));
	assert.equal(whole.headers.get("content-disposition"), `inline; filename="huddle-recording-${id}.webm"`);
	assert.equal(whole.body.length, rec.bytes);
	const onDisk = filesNamed(s.recordingsDir, `${id}.webm`);
	assert.equal(onDisk.length, 1, `the assembled file under ${s.recordingsDir}: ${onDisk.join(", ")}`);
	assert.ok(readFileSync(onDisk[0]).equals(whole.body), "the download equals the assembled file");
	assert.ok(Math.abs(ffprobeDuration(whole.body) - 20) <= 1, "ffprobe reads a 20 s file");
	const size = whole.body.length;

	const ranged = async (range: string, first: number, last: number) => {
		const g = await api(`${base}/file`, { headers: { range } });
		assert.equal(g.status, 206, `${range}: ${g.status}`);
		assert.equal(g.headers.get("content-range"), `bytes ${first}-${last}/${size}`, range);
		assert.equal(g.headers.get("content-length"), String(last - first + 1), range);
		assert.equal(g.headers.get("accept-ranges"), "bytes");
		assert.ok(g.body.equals(whole.body.subarray(first, last + 1)), `${range}: the right bytes`);
	};
	await ranged("bytes=100-199", 100, 199);
	await ranged("bytes=-10", size - 10, size - 1);
	await ranged(`bytes=${size - 5}-`, size - 5, size - 1);
	await ranged("bytes=0-0", 0, 0);
	await ranged(`bytes=${MiB - 3}-${MiB + 3}`, MiB - 3, MiB + 3); // across two read pieces
	await ranged(`bytes=${MiB / 2}-`, MiB / 2, size - 1); // several pieces, from the middle of one
	await ranged(`bytes=100-${10 * size}`, 100, size - 1); // the last position clamped
	for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, "bytes=-0", "bytes=200-100"]) {
		const g = await api(`${base}/file`, { headers: { range } });
		expectError(g, 416, "BAD_REQUEST", range);
		assert.equal(g.headers.get("content-range"), `bytes */${size}`, range);
	}
	// Several ranges, another unit, If-Range: the whole file.
	for (const headers of <Record<string, string>[]>[{ range: "bytes=0-1,5-6" }, { range: "items=0-1" }, { range: "bytes=0-1", "if-range": '"x"' }]) {
		const g = await api(`${base}/file`, { headers });
		assert.equal(g.status, 200, JSON.stringify(headers));
		assert.equal(g.body.length, size);
	}
	// HEAD: the headers a GET would have, no body.
	const head = await fetchBounded(`${base}/file`, { method: "HEAD", headers: { range: "bytes=10-19" } });
	assert.equal(head.status, 206);
	assert.equal(head.headers.get("content-length"), "10");
	assert.equal(head.headers.get("content-range"), `bytes 10-19/${size}`);
	assert.equal((await head.arrayBuffer()).byteLength, 0);
	const download = await fetchBounded(`${base}/file?download=1`, { headers: { range: "bytes=0-9" } });
	assert.equal(download.headers.get("content-disposition"), `attachment; filename="huddle-recording-${id}.webm"`);
	await download.arrayBuffer();

	// A client that goes away mid-download: the gateway lets go of what it held.
	const abort = new AbortController();
	const partial = await fetch(`${base}/file`, { signal: abort.signal });
	const reader = partial.body!.getReader();
	assert.ok(!(await reader.read()).done);
	abort.abort();
	await reader.read().catch(() => undefined);
	await waitFor(
		"the gateway to let go of the aborted download",
		async () => {
			const text = await (await fetchBounded(`${s.httpUrl}/metrics`)).text();
			return /^huddle_gateway_recording_transfers 0$/m.test(text) && /^huddle_gateway_recording_buffered_bytes 0$/m.test(text);
		},
		5000,
	);
	await ranged("bytes=100-199", 100, 199);

	// Delete by its recorder: gone from the list, its file 404.
	r = await api(base, { method: "DELETE", token: a.token });
	assert.equal(r.status, 204);
	expectError(await api(`${base}/file`), 404, "UNKNOWN_MEETING", "the file after delete");
	expectError(await api(base), 404, "UNKNOWN_MEETING", "the recording after delete");
	const list = await api(`${s.httpUrl}/api/meetings/${m.id}/recordings`);
	assert.deepEqual(list.json, []);
	const m1 = await (await fetchBounded(`${s.httpUrl}/metrics`)).text();
	assert.match(m1, /^huddle_gateway_recording_requests_total\{kind="chunk"\} [1-9]\d*$/m);
	assert.match(m1, /^huddle_gateway_recording_bytes_total\{direction="out"\} [1-9]\d*$/m);
	assert.match(m1, /^huddle_gateway_recording_transfers 0$/m);
	assert.match(m1, /^huddle_gateway_recording_buffered_bytes 0$/m);
});

suite.test("a chunk of exactly 4 MiB is stored; someone else's recording is 403; unknown meetings and recordings are 404", async (s, track) => {
	if (noRecording(s)) return;
	await recordingConnected(s.httpUrl);
	const m = await createMeeting(s.httpUrl);
	const a = await participant(s, m.id, "Alice", track);
	const b = await participant(s, m.id, "Bob", track);
	const id = rid();
	const base = `${s.httpUrl}/api/meetings/${m.id}/recordings/${id}`;
	assert.equal((await api(base, { method: "PUT", token: a.token, json: { kind: "screen", name: "Alice" } })).status, 201);
	const full = new Uint8Array(4 * MiB).fill(7);
	let r = await api(`${base}/chunks/0`, { method: "PUT", token: a.token, body: full });
	assert.equal(r.status, 200, r.body.toString());
	assert.equal(r.json.recording.bytes, 4 * MiB);

	// Bob holds a valid token for this meeting, but it is Alice's recording.
	const forbidden: [string, string, { json?: unknown; body?: Uint8Array }][] = [
		["PUT", base, { json: { kind: "screen", name: "Bob" } }],
		["PUT", `${base}/chunks/1`, { body: new Uint8Array(100) }],
		["POST", `${base}/finish`, { json: { chunks: 1 } }],
		["DELETE", base, {}],
	];
	for (const [method, url, init] of forbidden) {
		expectError(await api(url, { method, token: b.token, ...init }), 403, "UNKNOWN_PARTICIPANT", `Bob's ${method} ${url.slice(base.length) || "/"}`);
	}
	// Reads are for anyone with the link.
	r = await api(base);
	assert.equal(r.status, 200);
	assert.equal(r.json.chunks, 1);
	r = await api(`${s.httpUrl}/api/meetings/${m.id}/recordings`);
	assert.deepEqual((r.json as Rec[]).map((x) => x.id), [id]);

	// Unknown recordings and meetings.
	const nobody = rid();
	const unknown = `${s.httpUrl}/api/meetings/${m.id}/recordings/${nobody}`;
	expectError(await api(`${unknown}/chunks/0`, { method: "PUT", token: a.token, body: new Uint8Array(10) }), 404, "UNKNOWN_MEETING", "a chunk of an unknown recording");
	expectError(await api(`${unknown}/finish`, { method: "POST", token: a.token, json: { chunks: 1 } }), 404, "UNKNOWN_MEETING", "finish of an unknown recording");
	expectError(await api(unknown, { method: "DELETE", token: a.token }), 404, "UNKNOWN_MEETING", "delete of an unknown recording");
	expectError(await api(`${unknown}/file`), 404, "UNKNOWN_MEETING", "the file of an unknown recording");
	expectError(await api(`${s.httpUrl}/api/meetings/${rid()}/recordings`), 404, "UNKNOWN_MEETING", "the list of an unknown meeting");
	r = await api(`${s.httpUrl}/api/meetings/${rid()}/recordings/${id}`, { method: "PUT", token: a.token, json: { kind: "screen", name: "A" } });
	expectError(r, 401, "NOT_JOINED", "a token of another meeting id");

	assert.equal((await api(base, { method: "DELETE", token: a.token })).status, 204);
	const m1 = await (await fetchBounded(`${s.httpUrl}/metrics`)).text();
	assert.match(m1, /^huddle_gateway_recording_refused_total\{why="forbidden"\} [1-9]\d*$/m);
});

suite.test("writes over RECORDING_RATE are 429 with Retry-After", async (s, track) => {
	if (noRecording(s)) return;
	const g = await s.addGateway({ RECORDING_RATE: "1" });
	await recordingConnected(g.httpUrl);
	const m = await createMeeting(s.httpUrl);
	const a = await participant(s, m.id, "Alice", track, g.index);
	const unknown = `${g.httpUrl}/api/meetings/${m.id}/recordings/${rid()}`;
	const statuses: number[] = [];
	let limited: Awaited<ReturnType<typeof api>> | undefined;
	for (let i = 0; i < 6; i++) {
		const r = await api(unknown, { method: "DELETE", token: a.token });
		statuses.push(r.status);
		if (r.status === 429) limited = r;
	}
	// A bucket of 2: two pass (404: no such recording), the rest are refused.
	assert.deepEqual(statuses.slice(0, 2), [404, 404], statuses.join(","));
	assert.ok(limited, `no 429 in ${statuses.join(",")}`);
	expectError(limited, 429, "RATE_LIMITED", "the third write at once");
	assert.equal(limited.headers.get("retry-after"), "1");
	// Reads are not limited, and the bucket refills.
	assert.equal((await api(`${g.httpUrl}/api/meetings/${m.id}/recordings`)).status, 200);
	await sleep(1100);
	assert.equal((await api(unknown, { method: "DELETE", token: a.token })).status, 404);
});

suite.test("huddle-recording down: 503 at once with Retry-After; once it is back the upload goes on and finishes", async (s, track) => {
	if (noRecording(s)) return;
	await recordingConnected(s.httpUrl);
	const m = await createMeeting(s.httpUrl);
	const a = await participant(s, m.id, "Alice", track);
	const id = rid();
	const base = `${s.httpUrl}/api/meetings/${m.id}/recordings/${id}`;
	const video = fixture();
	assert.equal((await api(base, { method: "PUT", token: a.token, json: { kind: "camera", name: "Alice" } })).status, 201);
	await upload(base, a.token, video.subarray(0, 2 * MiB), MiB);

	await s.killRecording({ signal: "SIGKILL" });
	await waitFor("the gateway to see huddle-recording gone", async () => /^huddle_gateway_recording_connected 0$/m.test(await (await fetchBounded(`${s.httpUrl}/metrics`)).text()), 10000);
	for (const [method, url, init] of [
		["PUT", `${base}/chunks/2`, { body: video.subarray(2 * MiB, 3 * MiB) }],
		["GET", `${s.httpUrl}/api/meetings/${m.id}/recordings`, {}],
		["GET", `${base}/file`, {}],
		["POST", `${base}/finish`, { json: { chunks: 3 } }],
	] as const) {
		const t0 = Date.now();
		const r = await api(url, { method, token: method === "GET" ? undefined : a.token, ...init });
		expectError(r, 503, "UNAVAILABLE", `${method} ${url} while huddle-recording is down`);
		assert.equal(r.headers.get("retry-after"), "1");
		assert.ok(Date.now() - t0 < 2000, `answered in ${Date.now() - t0} ms, not after a timeout`);
	}
	// The readiness of the gateway does not depend on huddle-recording.
	assert.equal((await fetchBounded(`${s.httpUrl}/readyz`)).status, 200);

	await s.startRecording();
	await waitFor(
		"uploads to be accepted again",
		async () => (await api(`${base}/chunks/2`, { method: "PUT", token: a.token, body: video.subarray(2 * MiB, 3 * MiB) })).status === 200,
		20000,
		200,
	);
	const n = 3 + (await upload(base, a.token, video.subarray(3 * MiB), MiB, 3));
	const r = await api(`${base}/finish`, { method: "POST", token: a.token, json: { chunks: n } });
	assert.equal(r.status, 200, r.body.toString());
	const rec = await settled(s, m.id, id);
	assert.equal(rec.state, "ready", JSON.stringify(rec));
	assert.equal(rec.chunks, n);
	const file = await api(`${base}/file`, { headers: { range: "bytes=100-199" } });
	assert.equal(file.status, 206);
	assert.equal(file.body.length, 100);
});

suite.test("MediaState.recording reaches the other participants: participant_updated, a later join's roster", async (s, track) => {
	const m = await createMeeting(s.httpUrl);
	const a = await participant(s, m.id, "Alice", track);
	const b = await participant(s, m.id, "Bob", track);
	await b.c.nextEvent("participantJoined", 5000, (v) => v.participant?.id === a.id).catch(() => undefined);
	await a.c.mediaState({ recording: true, audioMuted: true });
	let ev = await b.c.nextEvent("participantUpdated", 5000, (v) => v.participant?.id === a.id);
	assert.equal(ev.participant?.media?.recording, true);
	assert.equal(ev.participant?.media?.audioMuted, true);

	const c = track(await connect(s.wsUrl, "Carol"));
	const jc = await c.join(m.id, "Carol");
	const alice = jc.participants.find((p) => p.id === a.id);
	assert.equal(alice?.media?.recording, true, "the roster shows Alice recording");
	assert.equal(jc.participants.find((p) => p.id === b.id)?.media?.recording, false);

	await a.c.mediaState({ recording: false, audioMuted: true });
	ev = await b.c.nextEvent("participantUpdated", 5000, (v) => v.participant?.id === a.id && v.participant?.media?.recording === false);
	assert.equal(ev.participant?.media?.audioMuted, true);
	const ec = await c.nextEvent("participantUpdated", 5000, (v) => v.participant?.id === a.id && v.participant?.media?.recording === false);
	assert.equal(ec.participant?.media?.recording, false);
});
