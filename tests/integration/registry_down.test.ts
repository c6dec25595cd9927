// Smoke test: with the registry down the gateway answers promptly with
// UNAVAILABLE/TIMEOUT, keeps serving what does not need the registry, reports
// not-ready, and recovers once the registry is back (meetings are durable).
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, describe as describeMsg, fetchBounded, httpGet } from "../lib/client.ts";
import { ErrorCode } from "../lib/proto.ts";
import { waitFor } from "../lib/stack.ts";

const suite = useStack({});

const DOWN_ERRORS = [ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT];
const PROMPT_MS = 6000; // a bound on "promptly": well under a user's patience, above any sane RPC timeout

suite.test("registry down: join is UNAVAILABLE/TIMEOUT promptly, the gateway keeps serving, and recovers", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl, "durable");
	const a = track(await connect(s.wsUrl, "A"));
	await a.join(meeting.id, "Alice");

	await s.killRegistry({ signal: "SIGTERM" }); // also asserts the registry exits 0

	const b = track(await connect(s.wsUrl, "B"));
	const t = Date.now();
	const m = await b.request(b.joinBody(meeting.id, "Bob"), PROMPT_MS + 2000);
	const took = Date.now() - t;
	assert.equal(m.body.case, "error", `join with the registry down: ${describeMsg(m)}`);
	if (m.body.case === "error") assert.ok(DOWN_ERRORS.includes(m.body.value.code), `UNAVAILABLE or TIMEOUT, got ${describeMsg(m)}`);
	assert.ok(took <= PROMPT_MS, `answered in ${took} ms (bound ${PROMPT_MS} ms)`);
	console.log(`# join with the registry down: ${describeMsg(m)} after ${took} ms`);

	// Creating a meeting fails with an error status, not a hang or a crash.
	const r = await fetchBounded(`${s.httpUrl}/api/meetings`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }, PROMPT_MS + 2000);
	const body = await r.text();
	assert.ok(r.status >= 500 && r.status < 600, `POST /api/meetings with the registry down: ${r.status} ${body}`);

	// What does not need the registry keeps working.
	assert.equal((await b.ping()).body.case, "pong");
	assert.equal((await a.ping()).body.case, "pong");
	assert.equal((await httpGet(`${s.httpUrl}/healthz`)).status, 200);
	await waitFor("GET /readyz == 503", async () => (await httpGet(`${s.httpUrl}/readyz`, 3000)).status === 503, PROMPT_MS + 2000);

	await s.restartRegistry(); // waits for /readyz == 200
	assert.ok(s.gateways[0].alive(), "the gateway survived the outage");

	// The meeting survived in the store; joins work again on the same session.
	const j = await b.join(meeting.id, "Bob", { timeoutMs: PROMPT_MS });
	assert.equal(j.meeting?.title, "durable");
	const c = track(await connect(s.wsUrl, "C"));
	const jc = await c.join(meeting.id, "Carol");
	assert.ok(jc.participants.some((p) => p.id === j.participantId), "Bob is in the roster after recovery");
	const fresh = await createMeeting(s.httpUrl);
	assert.ok(fresh.id);
});

suite.test("registry SIGKILLed mid-session: requests fail promptly and work again after a restart", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	const b = track(await connect(s.wsUrl, "B"));
	await a.join(meeting.id, "Alice");
	await b.join(meeting.id, "Bob");

	await s.killRegistry({ signal: "SIGKILL" });
	const t = Date.now();
	const m = await a.mediaState({ audioMuted: true }, PROMPT_MS + 2000);
	assert.ok(Date.now() - t <= PROMPT_MS, `answered in ${Date.now() - t} ms (${describeMsg(m)})`);
	// Either it failed with a typed backend error, or (if the gateway can do it without the registry) it worked.
	if (m.body.case === "error") assert.ok(DOWN_ERRORS.includes(m.body.value.code), describeMsg(m));
	else assert.equal(m.body.case, "mediaState");

	await s.restartRegistry();
	// The gateway's event subscription reconnects on its own; allow it a bounded moment.
	const candidate = { case: "candidate", value: { candidate: "", sdpMid: "0", sdpMlineIndex: 0, usernameFragment: "" } } as never;
	let last = "";
	await waitFor(
		"a signal delivered after the registry restart",
		async () => {
			const r = await a.signal(b.participantId, candidate, PROMPT_MS);
			last = describeMsg(r);
			if (r.body.case !== "signal") return false;
			const d = await b.nextEvent("signalDelivery", 1000).catch(() => undefined);
			return d?.from === a.participantId;
		},
		PROMPT_MS,
		0,
	).catch((e: Error) => assert.fail(`${e.message}; last reply ${last}`));
});

suite.test("once /readyz is 200 again after a registry restart, room events are delivered (5 restarts)", async (s, track) => {
	const meeting = await createMeeting(s.httpUrl);
	const a = track(await connect(s.wsUrl, "A"));
	await a.join(meeting.id, "Alice");
	const lost: number[] = [];
	for (let i = 0; i < 5; i++) {
		await s.killRegistry({ signal: i % 2 === 0 ? "SIGKILL" : "SIGTERM" });
		await s.restartRegistry(); // returns when /readyz is 200
		const x = track(await connect(s.wsUrl, `X${i}`));
		const j = await x.join(meeting.id, `Xavier ${i}`, { timeoutMs: PROMPT_MS });
		const ev = await a.nextEvent("participantJoined", 3000, (e) => e.participant?.id === j.participantId).catch(() => undefined);
		if (!ev) lost.push(i);
	}
	assert.deepEqual(lost, [], `participant_joined lost right after restarts #${lost.join(", #")}: the gateway reported ready before its event subscription was connected again`);
});
