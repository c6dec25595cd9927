// Joins racing each other: the registry publishes participant_joined before
// its reply to the joiner reaches the gateway, so a session still joining
// must get the events it would otherwise miss — everyone ends up knowing
// everyone, exactly once. Also across two gateways.
import assert from "node:assert/strict";
import { useStack } from "../lib/harness.ts";
import { connect, createMeeting, type HuddleClient } from "../lib/client.ts";
import { sleep } from "../lib/stack.ts";

const suite = useStack({ gateways: 2 });

/** Who c knows to be in the meeting: its roster plus joins, minus leaves. */
function known(c: HuddleClient, roster: string[]): Map<string, number> {
	const seen = new Map<string, number>();
	for (const id of roster) seen.set(id, (seen.get(id) ?? 0) + 1);
	for (const m of c.received) {
		if (m.body.case === "participantJoined") {
			const id = m.body.value.participant!.id;
			seen.set(id, (seen.get(id) ?? 0) + 1);
		}
	}
	return seen;
}

for (const rounds of [1, 2, 3]) {
	suite.test(`12 clients on 2 gateways join at once (round ${rounds}): each learns every other exactly once`, async (s, track) => {
		const meeting = await createMeeting(s.httpUrl);
		const clients = await Promise.all(
			Array.from({ length: 12 }, (_, i) => connect(s.gateways[i % 2].wsUrl, `c${i}`).then(track)),
		);
		const replies = await Promise.all(clients.map((c, i) => c.join(meeting.id, `P${i}`)));
		const ids = replies.map((r) => r.participantId);
		const deadline = Date.now() + 5000;
		for (;;) {
			const missing: string[] = [];
			clients.forEach((c, i) => {
				const k = known(c, replies[i].participants.map((p) => p.id));
				for (const id of ids) if (id !== ids[i] && !k.has(id)) missing.push(`${c.label} lacks ${id}`);
				for (const [id, n] of k) assert.equal(n, 1, `${c.label} learned ${id} ${n} times`);
				assert.ok(!k.has(ids[i]), `${c.label} was told about itself`);
			});
			if (missing.length === 0) break;
			assert.ok(Date.now() < deadline, `after 5 s: ${missing.join("; ")}`);
			await sleep(50);
		}
	});
}
