// Web security of the gateway: the WebSocket refuses browser origins other
// than its own host (or ALLOWED_ORIGINS) at the handshake; every HTTP answer
// carries the security headers (CSP, nosniff, Referrer-Policy,
// Permissions-Policy, framing); FRAME_ANCESTORS is configurable; meeting and
// space creation is rate limited per client address; TLS_CERT/TLS_KEY serve
// https and wss with HSTS; bad settings stop the gateway with a clear error.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after } from "node:test";
import WebSocket from "ws";
import { useStack } from "../lib/harness.ts";
import { HuddleClient, createMeeting, fetchBounded } from "../lib/client.ts";
import { httpsGet, sleep, type Gateway } from "../lib/stack.ts";

const BIN_DIR = resolve(process.env.HUDDLE_BIN_DIR ?? "../build/bin");
const suite = useStack({ chat: false, notes: false, recording: false });
const tmp = mkdtempSync(join(tmpdir(), "huddle-websec-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

// handshake opens a WebSocket (subprotocol huddle.v1) with the given Origin
// (none when undefined) and tells how it ended: "open", or the HTTP status of
// a refused upgrade with its body and headers.
function handshake(
	wsUrl: string,
	origin: string | undefined,
	ca?: string,
): Promise<{ open: true } | { open: false; status: number; body: string; headers: Record<string, unknown> }> {
	return new Promise((res, rej) => {
		const ws = new WebSocket(wsUrl, ["huddle.v1"], {
			handshakeTimeout: 5000,
			...(origin !== undefined ? { origin } : {}),
			...(ca !== undefined ? { ca } : {}),
		});
		ws.once("open", () => {
			ws.close();
			res({ open: true });
		});
		ws.once("unexpected-response", (_req, r) => {
			let body = "";
			r.setEncoding("utf8");
			r.on("data", (d: string) => (body += d));
			r.on("end", () => res({ open: false, status: r.statusCode ?? 0, body, headers: r.headers }));
		});
		ws.once("error", (e) => rej(e));
	});
}

const hostOf = (g: Gateway) => new URL(g.httpUrl).host; // 127.0.0.1:<port>

// assertSecurityHeaders checks the headers every response carries.
function assertSecurityHeaders(what: string, h: Headers, opts: { frameAncestors?: string; hsts?: boolean } = {}): void {
	const csp = h.get("content-security-policy") ?? "";
	const directives = new Map(
		csp
			.split(";")
			.map((d) => d.trim())
			.filter((d) => d !== "")
			.map((d) => [d.split(/\s+/)[0], d.split(/\s+/).slice(1)] as const),
	);
	assert.deepEqual(directives.get("default-src"), ["'self'"], `${what}: default-src in "${csp}"`);
	const script = directives.get("script-src") ?? [];
	assert.ok(script.includes("'self'"), `${what}: script-src 'self' in "${csp}"`);
	for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"])
		assert.ok(!script.includes(bad), `${what}: script-src without ${bad}: "${csp}"`);
	// Watch together: YouTube's IFrame API script and player iframe, video files from any http(s) URL.
	assert.deepEqual(script, ["'self'", "'wasm-unsafe-eval'", "https://www.youtube.com"], `${what}: script-src: "${csp}"`);
	assert.deepEqual(directives.get("frame-src"), ["https://www.youtube.com", "https://www.youtube-nocookie.com"], `${what}: frame-src: "${csp}"`);
	assert.deepEqual(directives.get("media-src"), ["'self'", "blob:", "mediastream:", "http:", "https:"], `${what}: media-src: "${csp}"`);
	// Inline styles are allowed (the notes editor mounts <style> elements); styles run no code.
	assert.deepEqual(directives.get("style-src"), ["'self'", "'unsafe-inline'"], `${what}: style-src: "${csp}"`);
	assert.deepEqual(directives.get("object-src"), ["'none'"], `${what}: object-src 'none'`);
	assert.equal(
		(directives.get("frame-ancestors") ?? []).join(" "),
		opts.frameAncestors ?? "'none'",
		`${what}: frame-ancestors in "${csp}"`,
	);
	assert.equal(h.get("x-content-type-options"), "nosniff", `${what}: nosniff`);
	assert.equal(h.get("referrer-policy"), "no-referrer", `${what}: Referrer-Policy`);
	assert.equal(
		h.get("permissions-policy"),
		"camera=(self), microphone=(self), display-capture=(self)",
		`${what}: Permissions-Policy`,
	);
	assert.equal(h.get("x-frame-options"), opts.frameAncestors === undefined ? "DENY" : null, `${what}: X-Frame-Options`);
	assert.equal(h.get("strict-transport-security"), opts.hsts ? "max-age=31536000" : null, `${what}: HSTS`);
}

// post sends POST path from a chosen local address (the gateway counts
// creations per client address); status, Retry-After and body.
function post(
	httpUrl: string,
	path: string,
	localAddress = "127.0.0.1",
	extra: Record<string, string> = {},
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
	return new Promise((res, rej) => {
		const body = JSON.stringify({ title: "rate" });
		const req = httpRequest(
			`${httpUrl}${path}`,
			{
				method: "POST",
				localAddress,
				headers: { "content-type": "application/json", "content-length": String(body.length), ...extra },
			},
			(r) => {
				let text = "";
				r.setEncoding("utf8");
				r.on("data", (d: string) => (text += d));
				r.on("end", () =>
					res({ status: r.statusCode ?? 0, retryAfter: r.headers["retry-after"] as string | undefined, body: text }),
				);
			},
		);
		req.setTimeout(5000, () => req.destroy(new Error(`POST ${path}: no answer`)));
		req.on("error", rej);
		req.end(body);
	});
}

suite.test("the WebSocket takes no Origin and its own host's, and refuses any other origin with 403", async (s) => {
	const g = s.gateways[0];
	assert.deepEqual(await handshake(s.wsUrl, undefined), { open: true }, "no Origin (not a browser)");
	assert.deepEqual(await handshake(s.wsUrl, `http://${hostOf(g)}`), { open: true }, "the page's own origin");
	assert.deepEqual(await handshake(s.wsUrl, `https://${hostOf(g)}`), { open: true }, "same host over https (a TLS proxy)");
	assert.deepEqual(await handshake(s.wsUrl, `HTTP://${hostOf(g).toUpperCase()}/`), { open: true }, "case and a trailing slash");
	const port = new URL(g.httpUrl).port;
	for (const bad of [
		"https://evil.example",
		"null",
		`http://127.0.0.1:${Number(port) + 1}`,
		`http://localhost:${port}`,
		`http://${hostOf(g)}.evil.example`,
		`ftp://${hostOf(g)}`,
		`http://evil.example/${hostOf(g)}`,
	]) {
		const r = await handshake(s.wsUrl, bad);
		assert.equal(r.open, false, `Origin ${bad} must be refused`);
		if (r.open) continue;
		assert.equal(r.status, 403, `Origin ${bad}: status`);
		assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, "FORBIDDEN", `Origin ${bad}: ${r.body}`);
		assert.equal(r.headers["x-content-type-options"], "nosniff");
	}
	// The refusals are counted, and the gateway goes on serving sessions.
	const metrics = await (await fetchBounded(`${s.httpUrl}/metrics`)).text();
	assert.match(metrics, /^huddle_gateway_ws_origin_refused_total ([1-9]\d*)$/m);
	const meeting = await createMeeting(s.httpUrl);
	const c = await HuddleClient.connect(s.wsUrl, { label: "same-origin", origin: `http://${hostOf(g)}` });
	try {
		const reply = await c.join(meeting.id, "Ada");
		assert.ok(reply.participantId.length > 0);
	} finally {
		await c.close();
	}
});

suite.test("ALLOWED_ORIGINS replaces the own-host default", async (s) => {
	const g = await s.addGateway({ ALLOWED_ORIGINS: "https://meet.example.com, http://localhost:5173/" });
	assert.deepEqual(await handshake(g.wsUrl, "https://meet.example.com"), { open: true });
	assert.deepEqual(await handshake(g.wsUrl, "http://localhost:5173"), { open: true });
	assert.deepEqual(await handshake(g.wsUrl, undefined), { open: true });
	for (const bad of [`http://${hostOf(g)}`, "http://meet.example.com", "https://meet.example.com.evil.example"]) {
		const r = await handshake(g.wsUrl, bad);
		assert.equal(r.open ? 101 : r.status, 403, `Origin ${bad}`);
	}
});

suite.test("every HTTP answer carries the security headers", async (s) => {
	const meeting = await createMeeting(s.httpUrl);
	const urls: [string, number][] = [
		["/", 200],
		[`/m/${meeting.id}`, 200],
		[`/api/meetings/${meeting.id}`, 200],
		["/api/meetings/AAAAAAAAAAAAAAAAAAAAAA", 404],
		["/api/nothing-here", 404],
		["/nothing-here.js", 404],
		["/healthz", 200],
		["/metrics", 200],
	];
	for (const [path, status] of urls) {
		const r = await fetchBounded(`${s.httpUrl}${path}`);
		await r.arrayBuffer();
		assert.equal(r.status, status, `GET ${path}`);
		assertSecurityHeaders(`GET ${path}`, r.headers);
	}
	// A static asset of the app, a POST, and a method that is not allowed.
	const index = await (await fetchBounded(`${s.httpUrl}/`)).text();
	const asset = /(?:src|href)="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
	assert.ok(asset, "index.html names a script under /assets/");
	const a = await fetchBounded(`${s.httpUrl}${asset}`);
	await a.arrayBuffer();
	assert.equal(a.status, 200);
	assertSecurityHeaders(`GET ${asset}`, a.headers);
	// No inline script in the page: CSP without 'unsafe-inline' must not break it.
	assert.doesNotMatch(index, /<script(?![^>]*\bsrc=)[^>]*>/, "index.html has no inline <script>");
	const created = await fetchBounded(`${s.httpUrl}/api/meetings`, { method: "POST" });
	await created.arrayBuffer();
	assert.equal(created.status, 201);
	assertSecurityHeaders("POST /api/meetings", created.headers);
	const del = await fetchBounded(`${s.httpUrl}/`, { method: "DELETE" });
	await del.arrayBuffer();
	assert.equal(del.status, 405);
	assertSecurityHeaders("DELETE /", del.headers);
});

suite.test("FRAME_ANCESTORS lets named sites embed the app", async (s) => {
	const g = await s.addGateway({ FRAME_ANCESTORS: "'self' https://lms.example.com" });
	for (const path of ["/", "/api/nothing-here"]) {
		const r = await fetchBounded(`${g.httpUrl}${path}`);
		await r.arrayBuffer();
		assertSecurityHeaders(`GET ${path}`, r.headers, { frameAncestors: "'self' https://lms.example.com" });
	}
});

suite.test("meeting and space creation is rate limited per client address: 429 with Retry-After, then again", async (s) => {
	const RATE = 10; // per minute, in bursts of 10: one more every 6 s
	const g = await s.addGateway({ MEETINGS_PER_ADDRESS_PER_MINUTE: String(RATE) });
	for (let i = 0; i < RATE; i++) {
		const r = await post(g.httpUrl, "/api/meetings");
		assert.equal(r.status, 201, `creation ${i + 1} of the burst: ${r.body}`);
	}
	const limited = await post(g.httpUrl, "/api/meetings");
	assert.equal(limited.status, 429, limited.body);
	assert.equal((JSON.parse(limited.body) as { error: { code: string } }).error.code, "RATE_LIMITED");
	const retry = Number(limited.retryAfter);
	assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60 / RATE, `Retry-After ${limited.retryAfter}`);
	// Spaces share the bucket (whatever the route answers once let through).
	assert.equal((await post(g.httpUrl, "/api/spaces")).status, 429);
	// Another client address has its own bucket; a forged X-Forwarded-For changes nothing
	// (TRUST_X_FORWARDED_FOR is off); GETs are not limited.
	assert.equal((await post(g.httpUrl, "/api/meetings", "127.0.0.1", { "x-forwarded-for": "198.51.100.7" })).status, 429);
	assert.equal((await post(g.httpUrl, "/api/meetings", "127.0.0.2")).status, 201);
	assert.equal((await fetchBounded(`${g.httpUrl}/healthz`)).status, 200);
	// After Retry-After, one more passes, and the next is refused again.
	await sleep(retry * 1000 + 200);
	assert.equal((await post(g.httpUrl, "/api/meetings")).status, 201, "after Retry-After");
	assert.equal((await post(g.httpUrl, "/api/meetings")).status, 429, "the bucket is empty again");
});

suite.test("behind a proxy (TRUST_X_FORWARDED_FOR=1) the client is X-Forwarded-For's last address", async (s) => {
	const g = await s.addGateway({ MEETINGS_PER_ADDRESS_PER_MINUTE: "1", TRUST_X_FORWARDED_FOR: "1" });
	const from = (xff: string) => post(g.httpUrl, "/api/meetings", "127.0.0.1", { "x-forwarded-for": xff });
	assert.equal((await from("203.0.113.9, 198.51.100.7")).status, 201);
	// The proxy appended 198.51.100.7: what the client put before it is not its address.
	assert.equal((await from("192.0.2.1, 198.51.100.7")).status, 429);
	assert.equal((await from("203.0.113.9, 198.51.100.8")).status, 201);
	// IPv6 clients count per /64.
	assert.equal((await from("2001:db8:1:2::1")).status, 201);
	assert.equal((await from("2001:db8:1:2:ffff::9")).status, 429);
	assert.equal((await from("2001:db8:1:3::1")).status, 201);
	// Without the header (or with garbage in it), the connection's own address counts.
	assert.equal((await post(g.httpUrl, "/api/meetings")).status, 201);
	assert.equal((await from("not an address")).status, 429);
});

suite.test("TLS_CERT and TLS_KEY: https with HSTS, and wss for a meeting", async (s) => {
	const cert = join(tmp, "cert.pem"),
		key = join(tmp, "key.pem");
	execFileSync("openssl", [
		"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
		"-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
		"-keyout", key, "-out", cert,
	], { stdio: "ignore" });
	const g = await s.addGateway({ TLS_CERT: cert, TLS_KEY: key });
	assert.ok(g.tls && g.httpUrl.startsWith("https://") && g.wsUrl.startsWith("wss://"));
	const page = await httpsGet(`${g.httpUrl}/`, g.tls.cert);
	assert.equal(page.status, 200);
	assert.equal(page.headers["strict-transport-security"], "max-age=31536000");
	assertSecurityHeaders("https GET /", new Headers(page.headers as Record<string, string>), { hsts: true });
	// Plain HTTP on the TLS port gets no page.
	await assert.rejects(fetchBounded(`${g.httpUrl.replace("https:", "http:")}/`, {}, 3000), "plain http gets no answer");
	// Same-host origin over wss, and a whole join through this gateway.
	assert.deepEqual(await handshake(g.wsUrl, `https://${hostOf(g)}`, g.tls.cert), { open: true });
	const refused = await handshake(g.wsUrl, "https://evil.example", g.tls.cert);
	assert.equal(refused.open ? 101 : refused.status, 403);
	const meeting = await createMeeting(s.httpUrl);
	const a = await HuddleClient.connect(g.wsUrl, { label: "tls-a", ca: g.tls.cert, origin: `https://${hostOf(g)}` });
	const b = await HuddleClient.connect(s.wsUrl, { label: "plain-b" });
	try {
		await a.join(meeting.id, "Ada");
		const joined = await b.join(meeting.id, "Grace");
		assert.ok(joined.participants.some((p) => p.displayName === "Ada"), "the wss participant is in the roster");
	} finally {
		await a.close();
		await b.close();
	}
});

suite.test("bad security settings stop the gateway at start with a clear error (exit 2)", async () => {
	const cert = join(tmp, "only-cert.pem");
	writeFileSync(cert, "not used");
	const notKey = join(tmp, "not-a-key.pem");
	writeFileSync(notKey, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	const cases: [Record<string, string>, RegExp][] = [
		[{ TLS_CERT: cert }, /TLS_CERT and TLS_KEY/],
		[{ TLS_KEY: cert }, /TLS_CERT and TLS_KEY/],
		[{ TLS_CERT: join(tmp, "missing.pem"), TLS_KEY: cert }, /TLS_CERT: cannot read/],
		[{ JOIN_TOKEN_PUBLIC_KEY: join(tmp, "missing.pem") }, /JOIN_TOKEN_PUBLIC_KEY: cannot read/],
		[{ JOIN_TOKEN_PUBLIC_KEY: notKey }, /JOIN_TOKEN_PUBLIC_KEY: .*not a PEM RSA or P-256/],
		[{ FRAME_ANCESTORS: "'none'; script-src *" }, /FRAME_ANCESTORS/],
		[{ ALLOWED_ORIGINS: "meet.example.com" }, /ALLOWED_ORIGINS entry 'meet.example.com'/],
		[{ ALLOWED_ORIGINS: "https://meet.example.com/path" }, /ALLOWED_ORIGINS entry/],
		[{ MEETINGS_PER_ADDRESS_PER_MINUTE: "-1" }, /MEETINGS_PER_ADDRESS_PER_MINUTE/],
		[{ MAX_CONNECTIONS_PER_ADDRESS: "-1" }, /MAX_CONNECTIONS_PER_ADDRESS/],
	];
	for (const [env, message] of cases) {
		const r = spawnSync(join(BIN_DIR, "huddle-gateway"), [], {
			env: { PATH: process.env.PATH ?? "", GATEWAY_HTTP_ADDR: "127.0.0.1", GATEWAY_HTTP_PORT: "1", ...env },
			encoding: "utf8",
			timeout: 10000,
		});
		assert.equal(r.status, 2, `${JSON.stringify(env)}: exit ${r.status}, stderr ${r.stderr}`);
		assert.match(r.stderr, message, `${JSON.stringify(env)}`);
	}
	// Secrets are logged as "(set)", never their value.
	const r = spawnSync(join(BIN_DIR, "huddle-gateway"), [], {
		env: { PATH: process.env.PATH ?? "", JOIN_TOKEN_SECRET: "do-not-log-me", FRAME_ANCESTORS: "bad;" },
		encoding: "utf8",
		timeout: 10000,
	});
	assert.equal(r.status, 2);
	assert.match(r.stderr, /JOIN_TOKEN_SECRET=\(set\)/);
	assert.doesNotMatch(r.stderr, /do-not-log-me/);
	// --help lists the settings.
	const help = spawnSync(join(BIN_DIR, "huddle-gateway"), ["--help"], { encoding: "utf8" });
	for (const name of ["JOIN_TOKEN_SECRET", "JOIN_TOKEN_PUBLIC_KEY", "JOIN_TOKEN_ISSUER", "JOIN_TOKEN_AUDIENCE", "ALLOWED_ORIGINS", "FRAME_ANCESTORS", "TLS_CERT", "TLS_KEY", "MEETINGS_PER_ADDRESS_PER_MINUTE", "MAX_CONNECTIONS_PER_ADDRESS"])
		assert.match(help.stdout, new RegExp(`^  ${name} `, "m"), `--help names ${name}`);
});
