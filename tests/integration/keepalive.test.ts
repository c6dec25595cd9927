// Keepalive (RFC 6455 section 5.5.2; services/gateway/gateway.h
// GW_PING_AFTER_S, GW_HANGUP_AFTER_S): a client that sends nothing gets a
// WebSocket PING after 20 s; one that answers with a PONG stays connected,
// one that never answers is dropped after 35 s of silence (counted in
// /metrics); the PONG counts as hearing from the client.
import assert from "node:assert/strict";
import WebSocket from "ws";
import { useStack } from "../lib/harness.ts";
import { fetchBounded } from "../lib/client.ts";
import { sleep } from "../lib/stack.ts";

const PING_AFTER_S = 20;
const HANGUP_AFTER_S = 35;
const CHECK_S = 1; // GW_KEEPALIVE_CHECK_MS
const suite = useStack();

async function metric(httpUrl: string, name: string): Promise<number> {
	const text = await (await fetchBounded(`${httpUrl}/metrics`)).text();
	const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
	assert.ok(m, `${name} in /metrics`);
	return Number(m[1]);
}

/** A raw huddle.v1 WebSocket that records the PINGs it gets and when it closed. */
function open(wsUrl: string, autoPong: boolean): Promise<{ ws: WebSocket; pings: number[]; closedAt: () => number | undefined; openedAt: number }> {
	return new Promise((res, rej) => {
		const ws = new WebSocket(wsUrl, "huddle.v1", { autoPong });
		const pings: number[] = [];
		let closed: number | undefined;
		ws.on("ping", () => pings.push(Date.now()));
		ws.on("close", () => (closed = Date.now()));
		ws.on("error", () => undefined);
		ws.once("open", () => res({ ws, pings, closedAt: () => closed, openedAt: Date.now() }));
		ws.once("unexpected-response", (_req, r) => rej(new Error(`upgrade refused: ${r.statusCode}`)));
	});
}

suite.test("a silent client is pinged after 20 s; one that answers stays, one that does not is dropped after 35 s", async (s) => {
	const answers = await open(s.wsUrl, true);
	const silent = await open(s.wsUrl, false);
	try {
		const end = Date.now() + (HANGUP_AFTER_S + 4 * CHECK_S + 3) * 1000;
		while (Date.now() < end && silent.closedAt() === undefined) await sleep(250);
		const closedAt = silent.closedAt();
		assert.ok(closedAt !== undefined, "the silent client was dropped");
		const after = (closedAt - silent.openedAt) / 1000;
		assert.ok(after >= HANGUP_AFTER_S - 0.5 && after <= HANGUP_AFTER_S + 2 * CHECK_S + 2, `dropped after ${after} s`);
		for (const c of [answers, silent]) {
			assert.ok(c.pings.length >= 1, "pinged");
			const first = (c.pings[0] - c.openedAt) / 1000;
			assert.ok(first >= PING_AFTER_S - 0.5 && first <= PING_AFTER_S + 2 * CHECK_S + 2, `first PING after ${first} s`);
		}
		assert.equal(silent.pings.length, 1, "one PING, then the drop");
		assert.equal(answers.ws.readyState, WebSocket.OPEN, "the client that answered is still connected");
		assert.equal(await metric(s.httpUrl, "huddle_gateway_ws_idle_closed_total"), 1);
		// Its PONG counted as hearing from it: the next PING comes 20 s after
		// the first, and it is still connected past the hangup time.
		const end2 = answers.pings[0] + (PING_AFTER_S + 2 * CHECK_S + 3) * 1000;
		while (Date.now() < end2 && answers.pings.length < 2) await sleep(250);
		assert.equal(answers.pings.length, 2, "pinged a second time");
		const gap = (answers.pings[1] - answers.pings[0]) / 1000;
		assert.ok(gap >= PING_AFTER_S - 0.5 && gap <= PING_AFTER_S + 2 * CHECK_S + 2, `second PING ${gap} s after the first`);
		assert.equal(answers.ws.readyState, WebSocket.OPEN, "still connected");
	} finally {
		answers.ws.terminate();
		silent.ws.terminate();
	}
});
