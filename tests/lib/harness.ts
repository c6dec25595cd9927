// node:test glue: one stack per test file, started before the first test and
// stopped (with the clean-exit check) after the last; a failing test prints
// the tail of every daemon log, so a CI failure explains itself.
import { after, before, test } from "node:test";
import { startStack, type Stack, type StackOptions } from "./stack.ts";
import { closeAll, type HuddleClient } from "./client.ts";

export interface Suite {
	/** The running stack (throws before `before` ran). */
	readonly stack: Stack;
	/** A test with a bound (default 60 s) that prints the daemon logs when it fails and closes the clients it registered. */
	test(name: string, fn: (stack: Stack, track: <T extends HuddleClient>(c: T) => T) => Promise<void>, timeoutMs?: number): void;
}

export function useStack(opts: StackOptions = {}): Suite {
	let stack: Stack | undefined;
	let startError: Error | undefined;
	let failed = false;
	before(async () => {
		try {
			stack = await startStack(opts);
		} catch (e) {
			startError = e as Error;
			throw e;
		}
	});
	after(async () => {
		if (!stack) return;
		try {
			await stack.stop({ keepLogs: failed });
		} catch (e) {
			console.error(stack.logTail(80));
			throw e;
		}
	});
	const suite: Suite = {
		get stack(): Stack {
			if (!stack) throw startError ?? new Error("stack not started");
			return stack;
		},
		test(name, fn, timeoutMs = 60000) {
			test(name, { timeout: timeoutMs }, async () => {
				const s = suite.stack;
				const clients: HuddleClient[] = [];
				const track = <T extends HuddleClient>(c: T): T => {
					clients.push(c);
					return c;
				};
				try {
					await fn(s, track);
					for (const c of clients) {
						if (c.violations.length > 0) throw new Error(`${c.label}: protocol violations from the gateway: ${c.violations.join("; ")}`);
					}
				} catch (e) {
					failed = true;
					console.error(`\n[${name}] failed: ${(e as Error).message}\nlogs in ${s.logDir}\n${s.logTail(60)}`);
					throw e;
				} finally {
					await closeAll(clients);
				}
			});
		},
	};
	return suite;
}
