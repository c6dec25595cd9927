// node:test glue for the browser tests: one Huddle stack (real daemons via
// tests/lib/stack.ts) and one headless Chromium per test file; every test's
// participants are closed afterwards, and on failure their console logs, a
// screenshot per page and the daemon logs are printed / saved to tests/out/.
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { startStack, type Stack, type StackOptions } from "../lib/stack.ts";
import { launchBrowser, openParticipant, screenshot, closeAll, type Participant } from "./browser.ts";

export interface E2E {
  readonly stack: Stack;
  readonly browser: Browser;
  test(name: string, fn: (ctx: TestCtx) => Promise<void>, timeoutMs?: number, skip?: string | false): void;
}

export interface TestCtx {
  stack: Stack;
  browser: Browser;
  // Opens a participant page (own context) at path on the gateway.
  open(name: string, path: string): Promise<Participant>;
  // Creates a meeting through the HTTP API and returns its id.
  createMeeting(): Promise<string>;
}

export function useE2E(opts: StackOptions = {}): E2E {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let failed = false;
  before(async () => {
    stack = await startStack(opts);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close().catch(() => {});
    if (stack) {
      try {
        await stack.stop({ keepLogs: failed });
      } catch (e) {
        console.error(stack.logTail(80));
        throw e;
      }
    }
  });
  const suite: E2E = {
    get stack() {
      if (!stack) throw new Error("stack not started");
      return stack;
    },
    get browser() {
      if (!browser) throw new Error("browser not started");
      return browser;
    },
    test(name, fn, timeoutMs = 120_000, skip = false) {
      test(name, { timeout: timeoutMs, skip }, async () => {
        const parts: Participant[] = [];
        const s = suite.stack;
        const ctx: TestCtx = {
          stack: s,
          browser: suite.browser,
          async open(pname, path) {
            const p = await openParticipant(suite.browser, pname, `${s.httpUrl}${path}`, s.httpUrl);
            parts.push(p);
            return p;
          },
          async createMeeting() {
            const r = await fetch(`${s.httpUrl}/api/meetings`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
            if (r.status !== 201) throw new Error(`POST /api/meetings: HTTP ${r.status} ${await r.text()}`);
            return ((await r.json()) as { id: string }).id;
          },
        };
        try {
          await fn(ctx);
          // An inline event handler is only ever hostile content (the notes test types
          // <img onerror=...>): refusing it is the CSP doing its work. Anything else
          // refused is the app broken by the gateway's CSP.
          const csp = parts.flatMap((p) =>
            p.console.filter((l) => /Content Security Policy/i.test(l) && !/inline event handler|script-src-attr/.test(l)),
          );
          if (csp.length > 0) throw new Error(`the browser refused something under the gateway's CSP: ${csp.join(" | ")}`);
        } catch (e) {
          failed = true;
          const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
          for (const p of parts) {
            await screenshot(p, `FAILED-${slug}-${p.name}`).catch(() => {});
            console.error(p.console.slice(-40).join("\n"));
          }
          console.error(`\n[${name}] failed: ${(e as Error).message}\nlogs in ${s.logDir}\n${s.logTail(40)}`);
          throw e;
        } finally {
          await closeAll(parts);
        }
      });
    },
  };
  return suite;
}

// peerIds: the remote participant ids this page has peer connections for.
export function peerIds(p: Participant): Promise<string[]> {
  return p.page.evaluate(() => [...window.huddle.peers.keys()].sort());
}

export function participantId(p: Participant): Promise<string> {
  return p.page.evaluate(() => window.huddle.participantId);
}
