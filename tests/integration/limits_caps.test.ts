// Capacity limits, each with its clear error and nothing else changed:
// MAX_PARTICIPANTS (MEETING_FULL, atomic across gateways), MAX_CONNECTIONS_PER_ADDRESS
// (429 at the upgrade, counted down on every close path),
// MEETINGS_PER_ADDRESS_PER_MINUTE (429 + Retry-After + JSON), and WS_MAX_QUEUE (a
// client that stops reading is dropped; the gateway's memory stays bounded).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { useStack } from "../lib/harness.ts";
import { HuddleClient, HuddleError, createMeeting, fetchBounded, type HuddleClient as Client } from "../lib/client.ts";
import { ErrorCode, SdpType } from "../lib/proto.ts";
import { sleep } from "../lib/stack.ts";

const MAX_PARTICIPANTS = 12; // the registry's default, set explicitly
const suite = useStack({ registryEnv: { MAX_PARTICIPANTS: String(MAX_PARTICIPANTS) } });

const connectFrom = (wsUrl: string, label: string, localAddress?: string) => HuddleClient.connect(wsUrl, { label, localAddress });

/** One gauge or counter of a gateway's /metrics. */
async function metric(httpUrl: string, name: string): Promise<number> {
	const text = await (await fetchBounded(`${httpUrl}/metrics`)).text();
	const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
	assert.ok(m, `/metrics has ${name}`);
	return Number(m[1]);
}

/** Polls until cond() holds (bounded). */
async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 10000): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		if (await cond()) return;
		await sleep(50);
	}
	throw new Error(`timed out waiting for ${what}`);
}

/** A WebSocket upgrade by hand from localAddress: 101, or the refusal's status and body. */
function upgrade(httpUrl: string, localAddress: string): Promise<{ status: number; body: string; close: () => void }> {
	return new Promise((res, rej) => {
		const req = httpRequest(`${httpUrl}/ws`, {
			localAddress,
			headers: {
				connection: "Upgrade",
				upgrade: "websocket",
				"sec-websocket-key": randomBytes(16).toString("base64"),
				"sec-websocket-version": "13",
				"sec-websocket-protocol": "huddle.v1",
			},
		});
		req.setTimeout(5000, () => req.destroy(new Error("upgrade: no answer")));
		req.on("upgrade", (r, socket) => res({ status: r.statusCode ?? 0, body: "", close: () => socket.destroy() }));
		req.on("response", (r) => {
			let body = "";
			r.setEncoding("utf8");
			r.on("data", (d: string) => (body += d));
			r.on("end", () => res({ status: r.statusCode ?? 0, body, close: () => undefined }));
		});
		req.on("error", rej);
		req.end();
	});
}

/** POST /api/meetings from localAddress: status, Retry-After, body. */
function postMeeting(httpUrl: string, localAddress: string, path = "/api/meetings"): Promise<{ status: number; retryAfter?: string; body: string }> {
	return new Promise((res, rej) => {
		const body = JSON.stringify({ title: "limits" });
		const req = httpRequest(`${httpUrl}${path}`, { method: "POST", localAddress, headers: { "content-type": "application/json", "content-length": String(body.length) } }, (r) => {
			let text = "";
			r.setEncoding("utf8");
			r.on("data", (d: string) => (text += d));
			r.on("end", () => res({ status: r.statusCode ?? 0, retryAfter: r.headers["retry-after"] as string | undefined, body: text }));
		});
		req.setTimeout(5000, () => req.destroy(new Error(`POST ${path}: no answer`)));
		req.on("error", rej);
		req.end(body);
	});
}

suite.test("MAX_PARTICIPANTS: of four racing joins through two gateways for the last place, one gets it; the others MEETING_FULL", async (s, track) => {
	const g2 = s.gateways.length > 1 ? s.gateways[1] : await s.addGateway();
	const gws = [s.gateways[0], g2];
	const meeting = await createMeeting(s.httpUrl);
	const inside: Client[] = [];
	for (let i = 0; i < MAX_PARTICIPANTS - 1; i++) {
		const c = track(await connectFrom(gws[i % 2].wsUrl, `in${i}`));
		await c.join(meeting.id, `In ${i}`);
		inside.push(c);
	}
	const racers = await Promise.all([0, 1, 2, 3].map((i) => connectFrom(gws[i % 2].wsUrl, `race${i}`).then(track)));
	const outcomes = await Promise.all(racers.map((c, i) => c.join(meeting.id, `Racer ${i}`).then(() => "joined" as const, (e: unknown) => e)));
	const winners = racers.filter((_, i) => outcomes[i] === "joined");
	assert.equal(winners.length, 1, `exactly one racer joined: ${outcomes.map((o) => (o === "joined" ? o : (o as Error).message)).join(" | ")}`);
	for (const o of outcomes) {
		if (o === "joined") continue;
		assert.ok(o instanceof HuddleError, `a refusal is a typed error: ${String(o)}`);
		assert.equal(o.code, ErrorCode.MEETING_FULL, `got ${ErrorCode[o.code]}: ${o.message}`);
		assert.match(o.message, new RegExp(`full \\(${MAX_PARTICIPANTS} people\\)`), "the message names the limit");
	}
	// The refused racers are in nobody's roster; a newcomer would see exactly 12.
	const winner = winners[0];
	for (const c of inside) await c.nextEvent("participantJoined", 5000, (e) => e.participant?.id === winner.participantId);
	await sleep(300);
	for (const c of inside) {
		const joinedIds = c.received.flatMap((m) => (m.body.case === "participantJoined" ? [m.body.value.participant?.id ?? ""] : []));
		const joined = joinedIds.filter((id) => racers.some((r) => r.participantId !== "" && id === r.participantId));
		assert.equal(joined.length, 1, `${c.label} saw exactly one racer join`);
		const others = c.received.filter((m) => m.body.case === "participantJoined").length;
		assert.ok(others <= MAX_PARTICIPANTS - 1, `${c.label}: ${others} joins seen`);
	}
	for (const c of racers.filter((r) => r !== winner)) assert.ok(c.isOpen, `${c.label}'s connection stays open after MEETING_FULL`);
	// A resume of someone already inside is not refused while the meeting is full.
	const back = inside[3];
	const { participantId, resumeToken } = back;
	back.terminate();
	const again = track(await connectFrom(gws[1].wsUrl, "resumed"));
	const r = await again.join(meeting.id, "In 3", { participantId, resumeToken });
	assert.equal(r.participantId, participantId, "resumed as the same participant");
	assert.equal(r.participants.length, MAX_PARTICIPANTS - 1, "the resumed one sees the other 11");
	// Still full for a newcomer; one leaves and the place is free again.
	const late = track(await connectFrom(s.wsUrl, "late"));
	const e = await late.expectError(late.joinBody(meeting.id, "Late"));
	assert.equal(e.code, ErrorCode.MEETING_FULL, `got ${ErrorCode[e.code]}`);
	await inside[0].call({ case: "leave", value: {} } as never, "leave");
	const j = await late.join(meeting.id, "Late");
	assert.equal(j.participants.length, MAX_PARTICIPANTS - 1, "the late one joins once a place is free");
	// Other meetings are not affected.
	const other = await createMeeting(s.httpUrl);
	await racers.find((c) => c !== winner)!.join(other.id, "Elsewhere");
});

suite.test("MAX_CONNECTIONS_PER_ADDRESS: the 51st WebSocket from one address gets 429 with a JSON error; every close path counts down", async (s, track) => {
	const LIMIT = 50; // the default, set explicitly (the harness turns it off)
	const g = await s.addGateway({ MAX_CONNECTIONS_PER_ADDRESS: String(LIMIT) });
	const A = "127.0.0.3",
		B = "127.0.0.4";
	const meeting = await createMeeting(g.httpUrl);
	const conns: Client[] = [];
	for (let i = 0; i < LIMIT; i++) conns.push(track(await connectFrom(g.wsUrl, `a${i}`, A)));
	await conns[0].join(meeting.id, "A0");
	await conns[1].join(meeting.id, "A1");
	const refused = await upgrade(g.httpUrl, A);
	assert.equal(refused.status, 429, `status ${refused.status} ${refused.body}`);
	const err = JSON.parse(refused.body) as { error: { code: string; message: string } };
	assert.equal(err.error.code, "RATE_LIMITED");
	assert.match(err.error.message, /MAX_CONNECTIONS_PER_ADDRESS=50/);
	assert.equal(await metric(g.httpUrl, "huddle_gateway_ws_address_refused_total"), 1);
	// Nothing else changed: the 50 are open and served, another address connects.
	assert.equal(await metric(g.httpUrl, "huddle_gateway_sessions"), LIMIT);
	for (const c of conns) assert.ok(c.isOpen, `${c.label} still open`);
	assert.equal((await conns[49].ping()).body.case, "pong");
	const b = track(await connectFrom(g.wsUrl, "b", B));
	await b.join(meeting.id, "B");
	await conns[0].nextEvent("participantJoined", 5000, (e) => e.participant?.id === b.participantId);
	// Close 3 ways: 5 by the client, 5 by dropping TCP, 1 by the gateway (a text frame: 1003).
	for (let i = 0; i < 5; i++) await conns[10 + i].close();
	for (let i = 0; i < 5; i++) conns[20 + i].terminate();
	conns[30].sendRaw("text");
	assert.equal((await conns[30].waitClosed(5000)).code, 1003);
	await until("the gateway to count 11 closes", async () => (await metric(g.httpUrl, "huddle_gateway_sessions")) === LIMIT + 1 - 11);
	const more: { status: number; close: () => void }[] = [];
	for (let i = 0; i < 11; i++) more.push(await upgrade(g.httpUrl, A));
	assert.deepEqual(more.map((m) => m.status), Array(11).fill(101), "11 places were free again");
	const over = await upgrade(g.httpUrl, A);
	assert.equal(over.status, 429, "and then it is full again");
	for (const m of more) m.close();
	await until("every hand-made connection to be counted down", async () => (await metric(g.httpUrl, "huddle_gateway_sessions")) === LIMIT + 1 - 11);
	const last = await upgrade(g.httpUrl, A);
	assert.equal(last.status, 101, "a raw socket's drop counts down too");
	last.close();
});

suite.test("MAX_CONNECTIONS: a full gateway refuses the next WebSocket with 503 and a JSON error; a close makes room; 0 comes from the open-file limit", async (s, track) => {
	const LIMIT = 4;
	const g = await s.addGateway({ MAX_CONNECTIONS: String(LIMIT) });
	assert.equal(await metric(g.httpUrl, "huddle_gateway_ws_max_connections"), LIMIT);
	const meeting = await createMeeting(g.httpUrl);
	// From different addresses: the per-address limit is not what refuses.
	const conns: Client[] = [];
	for (let i = 0; i < LIMIT; i++) conns.push(track(await connectFrom(g.wsUrl, `c${i}`, `127.0.0.${10 + i}`)));
	await conns[0].join(meeting.id, "C0");
	const refused = await upgrade(g.httpUrl, "127.0.0.20");
	assert.equal(refused.status, 503, `status ${refused.status} ${refused.body}`);
	const err = JSON.parse(refused.body) as { error: { code: string; message: string } };
	assert.equal(err.error.code, "UNAVAILABLE");
	assert.match(err.error.message, /gateway is full \(MAX_CONNECTIONS=4\)/);
	assert.equal(await metric(g.httpUrl, "huddle_gateway_ws_full_refused_total"), 1);
	assert.equal(await metric(g.httpUrl, "huddle_gateway_ws_address_refused_total"), 0);
	// Nothing else changed: the four are open and served.
	for (const c of conns) assert.ok(c.isOpen, `${c.label} still open`);
	assert.equal((await conns[3].ping()).body.case, "pong");
	// Plain HTTP is still served while the WebSockets are full.
	assert.equal((await fetchBounded(`${g.httpUrl}/healthz`)).status, 200);
	await conns[1].close();
	await until("the gateway to count the close", async () => (await metric(g.httpUrl, "huddle_gateway_sessions")) === LIMIT - 1);
	const again = await upgrade(g.httpUrl, "127.0.0.20");
	assert.equal(again.status, 101, "a place was free again");
	again.close();
	// The default follows the open-file limit (the harness's gateways run with
	// the test runner's ulimit -n): a positive number below it.
	const auto = await metric(s.httpUrl, "huddle_gateway_ws_max_connections");
	assert.ok(auto > 0, `MAX_CONNECTIONS from the fd limit: ${auto}`);
});

suite.test("MEETINGS_PER_ADDRESS_PER_MINUTE: the 31st creation in a minute gets 429, Retry-After and a JSON error; 0 is no limit", async (s) => {
	const LIMIT = 30; // the default, set explicitly
	const g = await s.addGateway({ MEETINGS_PER_ADDRESS_PER_MINUTE: String(LIMIT) });
	const A = "127.0.0.5";
	for (let i = 0; i < LIMIT; i++) {
		const r = await postMeeting(g.httpUrl, A);
		assert.equal(r.status, 201, `creation ${i + 1}: ${r.body}`);
	}
	const r = await postMeeting(g.httpUrl, A);
	assert.equal(r.status, 429, r.body);
	const retry = Number(r.retryAfter);
	assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60 / LIMIT, `Retry-After ${r.retryAfter}`);
	const body = JSON.parse(r.body) as { error: { code: string; message: string }; id?: string };
	assert.equal(body.error.code, "RATE_LIMITED");
	assert.equal(body.id, undefined, "no meeting in the refusal");
	// The other creation path shares the bucket; other addresses do not.
	assert.equal((await postMeeting(g.httpUrl, A, "/api/space/meetings")).status, 429);
	assert.equal((await postMeeting(g.httpUrl, "127.0.0.6")).status, 201);
	// 0: no limit.
	const open = await s.addGateway({ MEETINGS_PER_ADDRESS_PER_MINUTE: "0" });
	for (let i = 0; i < 2 * LIMIT; i++) assert.equal((await postMeeting(open.httpUrl, A)).status, 201, `unlimited creation ${i + 1}`);
});

function rssKiB(pid: number): number {
	const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
	assert.ok(m, "VmRSS in /proc/<pid>/status");
	return Number(m[1]);
}

suite.test("WS_MAX_QUEUE: a participant that never reads is dropped while another floods it; memory stays bounded, others keep working", async (s, track) => {
	const QUEUE = 1 << 20; // WS_MAX_QUEUE's default, set explicitly
	// No rate limit in the way of the flood; ASan's quarantine kept small so RSS shows what is held.
	const asan = process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:quarantine_size_mb=8` : "quarantine_size_mb=8";
	const g = await s.addGateway({ WS_MAX_QUEUE: String(QUEUE), WS_RATE: "1000000", WS_BURST: "1000000", ASAN_OPTIONS: asan });
	const pid = g.pid;
	assert.ok(pid, "the gateway's pid");
	const meeting = await createMeeting(g.httpUrl);
	const flood = track(await connectFrom(g.wsUrl, "flood"));
	const calm = track(await connectFrom(g.wsUrl, "calm"));
	const stalled = track(await connectFrom(g.wsUrl, "stalled"));
	await flood.join(meeting.id, "Flood");
	await calm.join(meeting.id, "Calm");
	await stalled.join(meeting.id, "Stalled");
	stalled.ws.pause(); // never reads again: the kernel's buffers fill, then the gateway's queue
	const sdp = "v=0\r\n" + "a=x:".padEnd(1000, "y").concat("\r\n").repeat(30); // ~30 KB
	const signal = (to: string) => ({ case: "signal", value: { to, signal: { kind: { case: "description", value: { type: SdpType.OFFER, sdp } } } } }) as never;
	const rss0 = rssKiB(pid);
	let maxQueued = 0;
	let sent = 0;
	const TOTAL = 3000; // ~90 MB toward the stalled participant
	while (sent < TOTAL && (await metric(g.httpUrl, "huddle_gateway_ws_slow_closed_total")) === 0) {
		const acks: Promise<unknown>[] = []; // awaited as sent: a reply must find its waiter
		for (let i = 0; i < 100; i++, sent++) acks.push(flood.awaitReply(flood.send(signal(stalled.participantId)), "signal ack", 10000));
		await Promise.all(acks);
		maxQueued = Math.max(maxQueued, await metric(g.httpUrl, "huddle_gateway_ws_queued_bytes_max"));
		const pong = await calm.ping(); // others keep working meanwhile
		assert.equal(pong.body.case, "pong");
	}
	assert.equal(await metric(g.httpUrl, "huddle_gateway_ws_slow_closed_total"), 1, `the stalled client was closed as too slow after ${sent} signals`);
	assert.ok(maxQueued <= QUEUE + 64 * 1024, `at most WS_MAX_QUEUE (+ one frame) queued: ${maxQueued}`);
	// The connection goes away although its socket never drains (GW_CLOSE_KILL_S).
	await until("the stalled session to be dropped", async () => (await metric(g.httpUrl, "huddle_gateway_sessions")) === 2, 15000);
	// A reader keeps up with the same traffic (in bursts under WS_MAX_QUEUE): nothing piles up.
	for (let round = 1; round <= 15; round++) {
		const acks: Promise<unknown>[] = [];
		for (let i = 0; i < 20; i++) acks.push(flood.awaitReply(flood.send(signal(calm.participantId)), "signal ack", 10000));
		await Promise.all(acks);
		await until(`calm to receive ${20 * round} signals`, () => calm.received.filter((m) => m.body.case === "signalDelivery").length >= 20 * round);
	}
	assert.ok(calm.isOpen, "the reader was not dropped");
	const rss1 = rssKiB(pid);
	assert.ok(rss1 - rss0 < 48 * 1024, `gateway RSS grew ${rss1 - rss0} KiB (from ${rss0}) for ~${Math.round((sent * sdp.length) / 1e6)} MB sent to a stalled client`);
	assert.equal(await metric(g.httpUrl, "huddle_gateway_ws_queued_bytes"), 0, "nothing left queued");
	console.log(`# stalled client: closed after ${sent} signals (~${Math.round((sent * sdp.length) / 1e6)} MB), max queued ${maxQueued} B, gateway RSS ${rss0} -> ${rss1} KiB`);
	stalled.ws.resume();
	await stalled.waitClosed(5000).catch(() => undefined);
});
