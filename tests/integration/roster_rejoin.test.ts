// One WebSocket that joins, leaves and joins again: the second join's roster
// replaces the first's in the gateway (the participants whose late
// participant_joined it suppresses). An empty second roster once left the
// first one freed but still pointed to, and the session's close freed it
// again (a double free that ASan reports, exiting the gateway non-zero).
// The stack's stop() asserts the gateway exits 0 on SIGTERM.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, httpGet } from "../lib/client.ts";
import { Fatal, waitFor } from "../lib/stack.ts";

const suite = useStack();

suite.test("join a meeting with others, leave, join an empty meeting on the same socket, close: the gateway survives", async (s, track) => {
	const busy = await createMeeting(s.httpUrl, "busy");
	const empty = await createMeeting(s.httpUrl, "empty");
	const other = track(await connect(s.wsUrl, "other"));
	const j0 = await other.join(busy.id, "Olive");

	const c = track(await connect(s.wsUrl, "rejoiner"));
	const j1 = await c.join(busy.id, "Rita");
	assert.deepEqual(
		j1.participants.map((p) => p.id),
		[j0.participantId],
		"the first join's roster is not empty",
	);
	const left = await c.leave();
	assert.equal(left.body.case, "leave", `leave reply, got ${left.body.case}`);
	const j2 = await c.join(empty.id, "Rita");
	assert.deepEqual(j2.participants, [], "the second join's roster is empty");

	// Someone joins the second meeting: the rejoiner learns it exactly once
	// (nothing of the first roster is left to suppress or replay).
	const late = track(await connect(s.wsUrl, "late"));
	const j3 = await late.join(empty.id, "Lee");
	const ev = await c.nextEvent("participantJoined", 3000);
	assert.equal(ev.participant?.id, j3.participantId);
	assert.deepEqual(
		(await c.collect((m) => m.body.case === "participantJoined", 300)).map((m) => m.requestId),
		[],
		"no second participant_joined",
	);

	// Closing the socket frees the session (where the double free was).
	await c.close();
	assert.ok(c.closeInfo, "the rejoiner's socket closed");
	await waitFor(
		"the gateway to serve /healthz after the rejoiner closed",
		async () => {
			if (!s.gateways[0].alive()) throw new Fatal("gateway-0 exited");
			return (await httpGet(`${s.httpUrl}/healthz`, 1000)).status === 200;
		},
		3000,
	);
	// A new session on the same gateway still works.
	const after = track(await connect(s.wsUrl, "after"));
	const pong = await after.ping();
	assert.equal(pong.body.case, "pong", `ping reply, got ${pong.body.case}`);
	assert.ok(s.gateways[0].alive(), "gateway-0 is still running");
});
