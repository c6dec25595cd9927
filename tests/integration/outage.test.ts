// Redis or the store unreachable for OUTAGE_SECONDS (default 30), against the
// real daemons (issue 13, "Faults"): calls in progress continue, new joins get
// a clear UNAVAILABLE promptly, /readyz says not ready, and everything recovers
// on its own afterwards, without restarting a Huddle daemon.
//
// Redis is made unreachable two ways: dead (SIGKILL, restarted empty on the
// same port: presence is lost) and hung (SIGSTOP then SIGCONT: the kernel still
// accepts connections, nothing answers, so every call must time out rather
// than block). The store (SQLite, the default STORE_URI) is made unreachable
// for writes by another process holding its write lock (a `sqlite3` shell in
// BEGIN EXCLUSIVE): what a backup, a migration or an operator's shell left in
// a transaction does to a production SQLite file. The browser side of the call
// (frames keep decoding) is tests/e2e/outage.test.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, describe as describeMsg, httpGet, HuddleError, type HuddleClient } from "../lib/client.ts";
import { ErrorCode } from "../lib/proto.ts";
import { sleep, waitFor, type Stack } from "../lib/stack.ts";

const OUTAGE_MS = Number(process.env.OUTAGE_SECONDS ?? 30) * 1000;
// A join during the outage must be refused within this (the registry's
// REDIS_TIMEOUT_MS is 1 s, its client retries once, the gateway's
// REGISTRY_TIMEOUT_MS is 5 s).
const JOIN_ERROR_MS = 4000;
// After the outage, a new join must succeed within this.
const RECOVER_MS = 10_000;
// After Redis lost its data, the participants who stayed must be back in the
// registry within this: one gateway heartbeat (HEARTBEAT_INTERVAL_MS, 10 s by
// default) tells the gateway they are gone, then they join again.
const PRESENCE_BACK_MS = 20_000;
// How often the test tries a join during the outage.
const PROBE_EVERY_MS = 5000;
// A chat post while the store's write lock is held must fail within this
// (huddle-chat waits 2 s for the lock; the gateway's CHAT_TIMEOUT_MS is its default, 5 s).
const POST_ERROR_MS = 8000;

const suite = useStack({ chatTimeoutMs: 5000 }); // the gateway's default, not the harness's 3 s

// Join attempts during the outage: each must be a typed UNAVAILABLE (TIMEOUT
// only when the whole registry call timed out), within JOIN_ERROR_MS.
async function joinRefused(s: Stack, meetingId: string, label: string): Promise<{ ms: number; code: ErrorCode }> {
	const c = await connect(s.wsUrl, label);
	try {
		const t = Date.now();
		const m = await c.request(c.joinBody(meetingId, label), JOIN_ERROR_MS + 3000);
		const ms = Date.now() - t;
		assert.equal(m.body.case, "error", `${label}: a join during the outage: ${describeMsg(m)}`);
		const code = m.body.case === "error" ? m.body.value.code : ErrorCode.OK;
		assert.ok(code === ErrorCode.UNAVAILABLE || code === ErrorCode.TIMEOUT, `${label}: UNAVAILABLE, got ${describeMsg(m)}`);
		assert.ok(ms <= JOIN_ERROR_MS, `${label}: refused in ${ms} ms (bound ${JOIN_ERROR_MS} ms)`);
		return { ms, code };
	} finally {
		await c.close();
	}
}

// Probes joins every PROBE_EVERY_MS until `until`; returns the latencies.
async function probeJoins(s: Stack, meetingId: string, until: number, tag: string): Promise<number[]> {
	const took: number[] = [];
	const codes = new Map<string, number>();
	for (let i = 0; i === 0 || Date.now() + JOIN_ERROR_MS < until; i++) {
		const r = await joinRefused(s, meetingId, `${tag}-probe-${i}`);
		took.push(r.ms);
		const k = ErrorCode[r.code];
		codes.set(k, (codes.get(k) ?? 0) + 1);
		await sleep(Math.min(PROBE_EVERY_MS, Math.max(0, until - Date.now() - JOIN_ERROR_MS)));
	}
	assert.ok(took.length >= 1, "at least one join probed during the outage");
	assert.ok((codes.get("UNAVAILABLE") ?? 0) >= 1, `at least one clear UNAVAILABLE (${[...codes].map(([k, v]) => `${k} ${v}`).join(", ")})`);
	console.log(`# ${tag}: joins refused in ${took.join(", ")} ms (${[...codes].map(([k, v]) => `${k} ${v}`).join(", ")})`);
	return took;
}

// The first successful join after the outage: its time from the end of the outage, and the roster.
async function joinAfter(s: Stack, meetingId: string, label: string, since: number, track: (c: HuddleClient) => HuddleClient) {
	let last = "";
	let joined: { ms: number; roster: string[]; client: HuddleClient } | undefined;
	await waitFor(
		`${label}: a join succeeds after the outage`,
		async () => {
			const c = await connect(s.wsUrl, label);
			try {
				const j = await c.join(meetingId, label, { timeoutMs: 6000 });
				joined = { ms: Date.now() - since, roster: j.participants.map((p) => p.id), client: track(c) };
				return true;
			} catch (e) {
				last = e instanceof HuddleError ? `${ErrorCode[e.code]} ${e.message}` : String(e);
				await c.close();
				return false;
			}
		},
		RECOVER_MS,
		250,
	).catch((e: Error) => assert.fail(`${e.message}; last: ${last}`));
	if (!joined) throw new Error("unreachable");
	return joined;
}

async function members(s: Stack, meetingId: string): Promise<string[]> {
	const raw = await s.redis("HKEYS", `huddle:{${meetingId}}:members`);
	return raw.split("\r\n").filter((l, i, a) => i > 0 && a[i - 1].startsWith("$")).sort();
}

async function readyStatus(s: Stack): Promise<number> {
	return (await httpGet(`${s.httpUrl}/readyz`, 8000)).status;
}

// dead: SIGKILLed, restarted empty (presence lost). hung: SIGSTOP, SIGCONT.
// restarted: SIGKILLed after a SAVE, restarted from that snapshot (Redis with
// persistence): presence kept, but no heartbeat reached it for the whole outage.
for (const mode of ["dead", "hung", "restarted"] as const) {
	suite.test(
		`Redis ${mode} for ${OUTAGE_MS / 1000} s: the call continues, joins are UNAVAILABLE, everything recovers on its own`,
		async (s, track) => {
			const meeting = await createMeeting(s.httpUrl, `outage-${mode}`);
			const a = track(await connect(s.wsUrl, "A"));
			const b = track(await connect(s.wsUrl, "B"));
			await a.join(meeting.id, "Ada");
			await b.join(meeting.id, "Bob");
			await a.chatSubscribe(meeting.id);
			await b.chatSubscribe(meeting.id);
			await a.chatPost(`${mode}-before`, "before the outage");
			assert.deepEqual(await members(s, meeting.id), [a.participantId, b.participantId].sort(), "both in the registry before");
			assert.equal(await readyStatus(s), 200);

			const start = Date.now();
			if (mode === "restarted") assert.match(await s.redis("SAVE"), /^\+OK/);
			await s.signalRedis(mode === "hung" ? "SIGSTOP" : "SIGKILL");
			try {
				// Not ready within a bound (the registry's health check pings Redis).
				await waitFor("GET /readyz != 200 during the outage", async () => (await readyStatus(s)) === 503, JOIN_ERROR_MS + 5000, 500);
				// Chat does not need Redis: a post by a joined participant is stored and delivered.
				const during = await a.chatPost(`${mode}-during`, "during the outage", "A", POST_ERROR_MS);
				await waitFor("B gets the chat message posted during the outage", () => b.chatMessages().some((m) => m.seq === during.seq), 5000, 50);
				// Signaling relays go through the registry (Redis): they fail, typed and bounded, and do not close anything.
				const sig = await a.signal(b.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0, usernameFragment: "" } } as never, JOIN_ERROR_MS + 3000);
				console.log(`# ${mode}: a signal relay during the outage: ${describeMsg(sig)}`);
				// New joins: a clear UNAVAILABLE, promptly, throughout.
				const took = await probeJoins(s, meeting.id, start + OUTAGE_MS, `Redis ${mode}`);
				// The participants in the call keep their sessions.
				assert.equal((await a.ping()).body.case, "pong");
				assert.equal((await b.ping()).body.case, "pong");
				assert.equal(a.closeInfo, undefined, "A's session stayed open");
				assert.equal(b.closeInfo, undefined, "B's session stayed open");
				await sleep(Math.max(0, start + OUTAGE_MS - Date.now()));
				console.log(`# ${mode}: join refusal p50 ${took.sort((x, y) => x - y)[Math.floor(took.length / 2)]} ms, max ${Math.max(...took)} ms`);
			} finally {
				if (mode === "hung") await s.signalRedis("SIGCONT");
				else await s.startRedis();
				rmSync(join(s.logDir, "dump.rdb"), { force: true }); // later restarts start empty
			}
			const end = Date.now();
			console.log(`# ${mode}: Redis unreachable for ${end - start} ms`);

			// Recovery, with no daemon restarted.
			const d = await joinAfter(s, meeting.id, "D", end, track);
			console.log(`# ${mode}: first join after the outage ${d.ms} ms after it ended`);
			await waitFor("GET /readyz == 200 after the outage", async () => (await readyStatus(s)) === 200, RECOVER_MS, 250);
			console.log(`# ${mode}: ready again ${Date.now() - end} ms after the outage ended`);

			let stayed: HuddleClient[] = [a, b];
			if (mode !== "dead") {
				// Redis kept its data: A and B are still members; neither is expired
				// for the heartbeats Redis could not take during the outage.
				assert.deepEqual(d.roster.sort(), [a.participantId, b.participantId].sort(), "D's roster has A and B");
				await sleep(2 * 10_000); // two heartbeats (and many sweeps) later
				assert.equal(a.closeInfo, undefined, `A's session stayed open (${JSON.stringify(a.closeInfo)})`);
				assert.equal(b.closeInfo, undefined, `B's session stayed open (${JSON.stringify(b.closeInfo)})`);
				const left = [...a.received, ...b.received].filter((m) => m.body.case === "participantLeft");
				assert.deepEqual(left.map(describeMsg), [], "nobody was announced as gone");
			} else {
				// Redis came back empty: the next heartbeat finds A and B gone and the
				// gateway closes their sessions (4000, "presence expired"); a resume is
				// refused (the record is gone) and a fresh join puts them back.
				stayed = [];
				for (const [c, name] of [[a, "Ada"], [b, "Bob"]] as const) {
					const closed = await c.waitClosed(PRESENCE_BACK_MS);
					assert.equal(closed.code, 4000, `${c.label} closed as presence lost: ${JSON.stringify(closed)}`);
					const again = track(await connect(s.wsUrl, `${c.label}2`));
					const r = await again.request(again.joinBody(meeting.id, name, { participantId: c.participantId, resumeToken: c.resumeToken }));
					assert.ok(r.body.case === "error" && r.body.value.code === ErrorCode.RESUME_REJECTED, `resume after Redis lost its data: ${describeMsg(r)}`);
					await again.join(meeting.id, name);
					await again.chatSubscribe(meeting.id);
					stayed.push(again);
				}
				console.log(`# dead: presence back (both rejoined) ${Date.now() - end} ms after the outage ended`);
			}
			const want = [...stayed.map((c) => c.participantId), d.client.participantId].sort();
			await waitFor("the registry's members are exactly the participants in the call", async () => (await members(s, meeting.id)).join() === want.join(), 5000);
			// Everything works again: chat history holds every acknowledged message once, relays are delivered.
			const h = await stayed[0].chatHistory({ limit: 50 });
			assert.deepEqual(h.messages.map((m) => m.clientMessageId), [`${mode}-before`, `${mode}-during`]);
			const r = await stayed[0].signal(stayed[1].participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0, usernameFragment: "" } } as never);
			assert.equal(r.body.case, "signal", `a relay after the outage: ${describeMsg(r)}`);
			for (const g of s.gateways) assert.ok(g.alive(), "the gateway never restarted");
		},
		OUTAGE_MS + 120_000,
	);
}

// A sqlite3 shell holding the store's write lock (BEGIN EXCLUSIVE) until release().
async function lockStore(path: string): Promise<{ release: () => Promise<void> }> {
	const p = spawn("sqlite3", [path], { stdio: ["pipe", "pipe", "pipe"] });
	let out = "";
	p.stdout.on("data", (d: Buffer) => (out += d.toString()));
	p.stderr.on("data", (d: Buffer) => (out += d.toString()));
	const exited = new Promise<number | null>((res) => p.once("exit", (code) => res(code)));
	p.stdin.write(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n");
	await waitFor("sqlite3 holds the write lock", () => out.includes("locked"), 15_000, 50).catch((e: Error) => {
		p.kill("SIGKILL");
		throw new Error(`${e.message}: ${out}`);
	});
	return {
		async release() {
			p.stdin.end("COMMIT;\n.quit\n");
			const code = await Promise.race([exited, sleep(10_000).then(() => "timeout" as const)]);
			if (code === "timeout") p.kill("SIGKILL");
			assert.equal(code, 0, `sqlite3 ended: ${code} ${out}`);
		},
	};
}

suite.test(
	`store write-locked for ${OUTAGE_MS / 1000} s: posts get a clear error, nothing acknowledged is lost, it recovers on its own`,
	async (s, track) => {
		const meeting = await createMeeting(s.httpUrl, "outage-store");
		const a = track(await connect(s.wsUrl, "A"));
		const b = track(await connect(s.wsUrl, "B"));
		await a.join(meeting.id, "Ada");
		await b.join(meeting.id, "Bob");
		await a.chatSubscribe(meeting.id);
		await b.chatSubscribe(meeting.id);
		const acked = new Map<string, bigint>();
		const m0 = await a.chatPost("store-before", "before");
		acked.set(m0.clientMessageId, m0.seq);

		const lock = await lockStore(s.storeUri.slice("sqlite://".length));
		const start = Date.now();
		const refused: string[] = [];
		const took: number[] = [];
		try {
			for (let i = 0; i === 0 || Date.now() + POST_ERROR_MS < start + OUTAGE_MS; i++) {
				const id = `store-during-${i}`;
				const t = Date.now();
				const m = await a.request(a.chatPostBody(id, `during ${i}`), POST_ERROR_MS + 3000);
				took.push(Date.now() - t);
				if (m.body.case === "chatPost" && m.body.value.message) {
					acked.set(id, m.body.value.message.seq); // would be a stored write through the lock: checked below
				} else {
					assert.equal(m.body.case, "error", describeMsg(m));
					if (m.body.case === "error") {
						// huddle-chat knows the post was not stored: it says so (UNAVAILABLE) before the
						// gateway's CHAT_TIMEOUT_MS would answer TIMEOUT (outcome unknown).
						assert.equal(m.body.value.code, ErrorCode.UNAVAILABLE, `a post while the store is locked: ${describeMsg(m)}`);
						refused.push(`${ErrorCode[m.body.value.code]}`);
					}
				}
				assert.ok(took[took.length - 1] <= POST_ERROR_MS, `a post answered in ${took[took.length - 1]} ms (bound ${POST_ERROR_MS})`);
				// Calls continue: relays and new joins need Redis and reads only.
				const sig = await a.signal(b.participantId, { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0, usernameFragment: "" } } as never);
				assert.equal(sig.body.case, "signal", `a relay while the store is locked: ${describeMsg(sig)}`);
				await sleep(1000);
			}
			assert.ok(refused.length >= 1, "at least one post was refused while the store was locked");
			const c = track(await connect(s.wsUrl, "C"));
			const jc = await c.join(meeting.id, "Cy", { timeoutMs: JOIN_ERROR_MS });
			assert.equal(jc.participants.length, 2, "a new join works while the store is only write-locked");
			await c.leave();
			console.log(`# store locked: posts answered in ${took.join(", ")} ms (${refused.join(", ")}); ${acked.size - 1} acknowledged`);
			await sleep(Math.max(0, start + OUTAGE_MS - Date.now()));
		} finally {
			await lock.release();
		}
		const end = Date.now();
		let last = "";
		let i = 0;
		await waitFor(
			"a chat post succeeds after the lock is released",
			async () => {
				const m = await a.request(a.chatPostBody(`store-after-${i}`, "after"), POST_ERROR_MS);
				last = describeMsg(m);
				if (m.body.case === "chatPost" && m.body.value.message) {
					acked.set(`store-after-${i}`, m.body.value.message.seq);
					return true;
				}
				i++;
				return false;
			},
			RECOVER_MS,
			250,
		).catch((e: Error) => assert.fail(`${e.message}; last: ${last}`));
		console.log(`# store: first post stored ${Date.now() - end} ms after the lock was released`);
		// No acknowledged message is lost or doubled; refused ones may be stored by a retry only.
		await sleep(POST_ERROR_MS); // anything still in flight has settled
		const h = await b.chatHistory({ limit: 200 });
		const stored = new Map(h.messages.map((m) => [m.clientMessageId, m.seq]));
		assert.equal(stored.size, h.messages.length, "no client message id stored twice");
		for (const [id, seq] of acked) assert.equal(stored.get(id), seq, `${id} acknowledged as seq ${seq} is in the history`);
		h.messages.forEach((m, k) => assert.equal(m.seq, BigInt(k + 1), "seqs have no gaps"));
		const lateStored = h.messages.filter((m) => !acked.has(m.clientMessageId)).map((m) => m.clientMessageId);
		console.log(`# store: refused posts stored later anyway: [${lateStored.join(", ")}]`);
		assert.deepEqual(lateStored, [], "a refused post is not stored behind the client's back");
		assert.ok(b.chatMessages().some((m) => m.clientMessageId === `store-after-${i}`), "B got the post after the outage");
	},
	OUTAGE_MS + 90_000,
);
