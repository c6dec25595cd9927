// Issue 3's durability test: 5,000 chat messages posted through two gateways
// by five clients while huddle-chat is SIGKILLed and restarted three times.
// Each client re-sends an unacknowledged post with the same client message
// id after an error or a timeout. Afterwards every acknowledged message is in
// history exactly once, seqs are 1..N without gaps, and every client received
// every message exactly once as a chat_message event, in seq order.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, describe as describeMsg, createMeeting, httpGet, type HuddleClient } from "../lib/client.ts";
import { ErrorCode, type ChatMessage } from "../lib/proto.ts";
import { sleep, waitFor } from "../lib/stack.ts";

const TOTAL = 5000;
const CLIENTS = 5;
const IN_FLIGHT = 8; // concurrent posts per client
const KILLS = 3;
const REQUEST_TIMEOUT_MS = 5000; // the client's own bound; the gateway answers TIMEOUT after 2 s
const RUN_BOUND_MS = 150000;

const suite = useStack({
	gateways: 2,
	chatTimeoutMs: 2000,
	// The rate limiter is not what is tested here.
	gatewayEnv: { WS_RATE: "20000", WS_BURST: "20000" },
});

suite.test(
	`${TOTAL} messages from ${CLIENTS} clients on 2 gateways while huddle-chat is SIGKILLed ${KILLS} times`,
	async (s, track) => {
		if (!s.hasChat) {
			console.log("# SKIP: huddle-chat is not built; nothing to test");
			return;
		}
		const deadline = Date.now() + RUN_BOUND_MS;
		const meeting = await createMeeting(s.httpUrl, "durability");
		const clients: HuddleClient[] = [];
		for (let i = 0; i < CLIENTS; i++) {
			const c = track(await connect(s.gateways[i % 2].wsUrl, `C${i}`));
			assert.equal((await c.chatSubscribe(meeting.id)).lastSeq, 0n);
			clients.push(c);
		}

		const acked = new Map<string, bigint>(); // client message id -> seq
		let retries = 0;
		const errors = new Map<string, number>();
		const perClient = TOTAL / CLIENTS;
		// Posting is faster than a restart: posters hold at each quarter until its SIGKILL is sent,
		// so every kill lands while posts are in flight.
		let killsSent = 0;
		const threshold = (k: number) => (k * TOTAL) / (KILLS + 1);

		// post sends one message until it is acknowledged, re-sending it with the same id.
		const post = async (c: HuddleClient, id: string, text: string) => {
			for (let attempt = 0; ; attempt++) {
				if (Date.now() > deadline) throw new Error(`${c.label}: ${id} still not acknowledged at the deadline`);
				if (attempt > 0) retries++;
				let m;
				try {
					m = await c.request(c.chatPostBody(id, text), REQUEST_TIMEOUT_MS);
				} catch (e) {
					errors.set("client timeout", (errors.get("client timeout") ?? 0) + 1);
					if (!c.isOpen) throw e;
					continue;
				}
				if (m.body.case === "chatPost") {
					const msg = m.body.value.message!;
					assert.equal(msg.clientMessageId, id);
					const before = acked.get(id);
					assert.ok(before === undefined || before === msg.seq, `${id} acknowledged with seq ${before} and ${msg.seq}`);
					acked.set(id, msg.seq);
					return;
				}
				if (m.body.case === "error" && [ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT].includes(m.body.value.code)) {
					const k = ErrorCode[m.body.value.code];
					errors.set(k, (errors.get(k) ?? 0) + 1);
					await sleep(50 + Math.random() * 150);
					continue;
				}
				assert.fail(`${c.label}: unexpected answer to ${id}: ${describeMsg(m)}`);
			}
		};

		const posting = Promise.all(
			clients.map(async (c, ci) => {
				let next = 0;
				await Promise.all(
					Array.from({ length: IN_FLIGHT }, async () => {
						while (next < perClient) {
							while (killsSent < KILLS && acked.size >= threshold(killsSent + 1)) await sleep(5);
							// Another worker of this client may have taken the last id meanwhile.
							if (next >= perClient) break;
							const k = next++;
							await post(c, `c${ci}-m${k}`, `client ${ci} message ${k}`);
						}
					}),
				);
			}),
		);

		// Chaos: a SIGKILL whenever another quarter of the messages is acknowledged.
		const chaos = (async () => {
			for (let k = 1; k <= KILLS; k++) {
				await waitFor(`${threshold(k)} acknowledged posts`, () => acked.size >= threshold(k), deadline - Date.now(), 5);
				const t = Date.now();
				const restart = s.restartChat({ signal: "SIGKILL", downMs: 200 + 200 * k });
				killsSent = k; // the SIGKILL is sent synchronously by restartChat
				await restart;
				console.log(`# kill ${k}: at ${acked.size} acknowledged, huddle-chat back in ${Date.now() - t} ms`);
			}
		})();
		const t0 = Date.now();
		await Promise.all([posting, chaos]);
		console.log(
			`# ${acked.size} posts acknowledged in ${Date.now() - t0} ms; ${retries} re-sends (${[...errors].map(([k, v]) => `${k} ${v}`).join(", ")})`,
		);
		assert.equal(acked.size, TOTAL);

		// History: every acknowledged message once, seqs 1..N without gaps, in order.
		const history: ChatMessage[] = [];
		for (let after = 0n; ; ) {
			const page = await clients[0].chatHistory({ afterSeq: after, limit: 200 }, 10000);
			history.push(...page.messages);
			if (!page.more || page.messages.length === 0) break;
			after = page.messages[page.messages.length - 1].seq;
		}
		assert.equal(history.length, TOTAL, "history holds exactly the acknowledged messages");
		history.forEach((m, i) => assert.equal(m.seq, BigInt(i + 1), `history[${i}] has seq ${m.seq}`));
		const stored = new Map(history.map((m) => [m.clientMessageId, m.seq]));
		assert.equal(stored.size, TOTAL, "no client message id stored twice");
		for (const [id, seq] of acked) assert.equal(stored.get(id), seq, `${id} acknowledged as seq ${seq}`);

		// Events: every client got 1..N once each, in order.
		for (const c of clients) {
			await waitFor(`${c.label}: chat_message events up to ${TOTAL}`, () => c.chatMessages().length >= TOTAL, Math.max(5000, deadline - Date.now()), 50).catch(
				(e: Error) => assert.fail(`${e.message}; got ${c.chatMessages().length}`),
			);
		}
		await sleep(500); // room for late duplicates to show up
		for (const c of clients) {
			const got = c.chatMessages();
			assert.equal(got.length, TOTAL, `${c.label}: ${got.length} chat_message events`);
			got.forEach((m, i) => {
				if (m.seq !== BigInt(i + 1)) assert.fail(`${c.label}: event #${i} has seq ${m.seq}, expected ${i + 1}`);
			});
		}
		assert.ok(s.gateways.every((g) => g.alive()), "the gateways survived");
		for (const g of s.gateways) {
			const m = (await httpGet(`${g.httpUrl}/metrics`)).body;
			const v = (name: string) => /^(\S+) (\d+)$/m.exec(m.split("\n").find((l) => l.startsWith(name + " ")) ?? "")?.[2] ?? "?";
			console.log(`# gateway ${g.index}: ${v("huddle_gateway_chat_events_total")} events in, ${v("huddle_gateway_chat_delivered_total")} delivered, ${v("huddle_gateway_chat_fills_total")} history read-backs`);
		}
	},
	RUN_BOUND_MS + 60000,
);
