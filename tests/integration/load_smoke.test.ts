// huddle-load smoke runs: a few clients against a real stack for a couple of
// seconds. Asserts that everyone joined and left, signals were relayed and
// nothing failed or got lost; no timing assertions (`make bench` measures).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { startStack } from "../lib/stack.ts";

const BIN_DIR = resolve(process.env.HUDDLE_BIN_DIR ?? "../build/bin");
const LOAD = join(BIN_DIR, "huddle-load");

/** Runs huddle-load with args; resolves with its exit code and output, killing it after timeoutMs. */
function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((res, rej) => {
		const child = spawn(LOAD, args, { stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
		child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
		const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
		child.on("error", (e) => {
			clearTimeout(timer);
			rej(e);
		});
		child.on("exit", (code) => {
			clearTimeout(timer);
			res({ code, stdout, stderr });
		});
	});
}

test("huddle-load: 12 clients in 3 meetings join, relay signals and leave without errors", async () => {
	assert.ok(existsSync(LOAD), `${LOAD} does not exist: build the tree (tests/bench/huddle-load)`);
	// The storm sends 20 signals/s per client; keep the rate limit out of the way.
	const stack = await startStack({ gatewayEnv: { WS_RATE: "10000", WS_BURST: "10000" } });
	try {
		const gw = stack.gateways[0];
		const args = ["--target", "huddle", "--url", gw.httpUrl, "--clients", "12", "--meetings", "3"];
		args.push("--join-rate", "50", "--hold", "0.5", "--duration", "2", "--rate", "240", "--label", "smoke");
		if (gw.pid !== undefined) args.push("--pid", String(gw.pid));
		const r = await run(args, 60000);
		const last = r.stdout.trim().split("\n").at(-1) ?? "";
		assert.ok(last.startsWith("{"), `no JSON report (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
		const rep = JSON.parse(last);
		const ctx = `\n${r.stdout}\n${r.stderr}\n${stack.logTail(20)}`;
		assert.equal(rep.errors.total, 0, `errors: ${JSON.stringify(rep.errors)} first: ${rep.first_error}${ctx}`);
		assert.equal(rep.joined, 12, `joined${ctx}`);
		assert.equal(rep.left, 12, `left${ctx}`);
		assert.ok(rep.delivered > 0, `signals relayed${ctx}`);
		assert.equal(rep.lost, 0, `lost${ctx}`);
		assert.ok(rep.peer_notify_ms.n > 0, `participant_joined events arrived${ctx}`);
		assert.equal(r.code, 0, `huddle-load exit status${ctx}`);
	} finally {
		await stack.stop();
	}
});

test("huddle-load --soak: churn and relay traffic on two threads, a report per interval, no errors", async () => {
	assert.ok(existsSync(LOAD), `${LOAD} does not exist: build the tree (tests/bench/huddle-load)`);
	const stack = await startStack({ gatewayEnv: { WS_RATE: "10000", WS_BURST: "10000" } });
	try {
		const gw = stack.gateways[0];
		const args = ["--target", "huddle", "--url", gw.httpUrl, "--clients", "24", "--meetings", "6", "--threads", "2"];
		args.push("--join-rate", "50", "--hold", "0.5", "--duration", "6", "--rate", "60", "--label", "soak-smoke");
		args.push("--soak", "--churn", "4", "--churn-grace", "0.5", "--interval", "2");
		if (gw.pid !== undefined) args.push("--pid", `gateway=${gw.pid}`);
		const r = await run(args, 90000);
		const last = r.stdout.trim().split("\n").at(-1) ?? "";
		assert.ok(last.startsWith("{"), `no JSON report (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
		const rep = JSON.parse(last);
		const ctx = `\n${r.stdout}\n${r.stderr}\n${stack.logTail(20)}`;
		assert.equal(rep.threads, 2, `threads${ctx}`);
		assert.equal(rep.errors.total, 0, `errors: ${JSON.stringify(rep.errors)} first: ${rep.first_error}${ctx}`);
		assert.equal(rep.lost, 0, `lost${ctx}`);
		assert.ok(rep.soak.churn_leaves > 0 && rep.soak.churn_joins > 0, `churn happened${ctx}`);
		// Every client joined once, plus once per rejoin; every join was answered by a leave.
		assert.equal(rep.joined, 24 + rep.soak.churn_joins, `joins${ctx}`);
		assert.equal(rep.left, rep.joined, `leaves${ctx}`);
		assert.equal(rep.soak.intervals.length, 3, `one report per 2 s interval${ctx}`);
		for (const iv of rep.soak.intervals) {
			assert.ok(iv.relayed > 0, `signals relayed in every interval${ctx}`);
			assert.ok(iv.relay_p99_ms > 0, `a p99 per interval${ctx}`);
			assert.ok(iv.rss_kb[0] > 0, `the gateway's RSS per interval${ctx}`);
		}
		assert.ok(rep.soak.verdict === 0 || rep.soak.verdict === 1, `the RSS verdict was judged${ctx}`);
	} finally {
		await stack.stop();
	}
});
