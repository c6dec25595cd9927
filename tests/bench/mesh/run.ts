// make bench-mesh: how a full mesh of 2 to 6 participants behaves with every
// participant's page in ONE headless Chromium (one browser, one context and
// page per participant), as the issue measured it. For each size N:
//  - the first N-1 participants join and settle (every page decodes every
//    other), then the last one clicks Join: "last joiner" is the time from
//    that click until framesDecoded grows from every other peer on its page;
//  - "all pages" is the time from the same click until every page decodes
//    every other (the mesh has settled);
//  - CPU: the browser's processes (Chromium, the children of this process)
//    summed from /proc/<pid>/stat over CPU_WINDOW_MS after settling, in % of
//    one core;
//  - held: every peer connection of every page stays "connected" and video
//    keeps decoding for HOLD_MS after settling.
// Prints a Markdown table and one JSON line; writes mesh.md / mesh.json to
// $BENCH_BUILD_DIR/mesh (default build-bench/mesh).
// Env: HUDDLE_BIN_DIR (daemons, default ../build/bin from tests/),
// HUDDLE_WEB_ROOT (the web app to serve, default ../web/dist),
// MESH_SIZES (default "2,3,4,5,6"), MESH_SETTLE_MS (bound, default 60000),
// MESH_HOLD_MS (default 30000), MESH_LABEL (a name for the run in the output).
// Run it inside a private network namespace (the Makefile does: unshare -rn).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { startStack } from "../../lib/stack.ts";
import { launchBrowser, openParticipant, joinThroughUi, inboundVideo, closeAll, sleep, type Participant } from "../../e2e/browser.ts";

const SIZES = (process.env.MESH_SIZES ?? "2,3,4,5,6").split(",").map(Number);
const SETTLE_MS = Number(process.env.MESH_SETTLE_MS ?? 60_000);
const HOLD_MS = Number(process.env.MESH_HOLD_MS ?? 30_000);
const CPU_WINDOW_MS = 10_000;
const SAMPLE_MS = 500; // between two framesDecoded samples
const HOLD_CHECK_MS = 2_000;
const CLK_TCK = 100; // USER_HZ on Linux
const LABEL = process.env.MESH_LABEL ?? "";
const STAGGERED = process.env.MESH_JOIN === "staggered";
const OUT = resolve(process.env.BENCH_BUILD_DIR ?? "../build-bench", "mesh");

interface Row {
  n: number;
  lastJoinerMs: number | null; // null: did not settle within SETTLE_MS
  allPagesMs: number | null;
  cpuPct: number | null;
  held: boolean | null;
  note: string;
}

// chromiumPids: the processes below ours (the browser and its renderers,
// GPU and network processes), not other people's Chromiums.
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(d), Number(rest[1]));
    } catch {
      /* exited */
    }
  }
  const out: number[] = [];
  const want = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, pp] of parent) {
      if (want.has(pp) && !want.has(pid)) {
        want.add(pid);
        out.push(pid);
        grew = true;
      }
    }
  }
  return out;
}

function chromiumTicks(): number {
  let ticks = 0;
  for (const pid of descendants(process.pid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!/chrom/i.test(comm)) continue;
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14, 15)
    } catch {
      /* exited */
    }
  }
  return ticks;
}

async function cpuPercent(ms: number): Promise<number> {
  const t0 = chromiumTicks();
  const start = Date.now();
  await sleep(ms);
  const dt = (Date.now() - start) / 1000;
  return Math.round(((chromiumTicks() - t0) / CLK_TCK / dt) * 100);
}

const pid = (p: Participant) => p.page.evaluate(() => window.huddle.participantId);

// decodesAll: whether framesDecoded from each of others grew since prev (and prev > 0).
async function decodingFrom(p: Participant, others: string[], prev: Record<string, number>): Promise<boolean> {
  const cur = await inboundVideo(p.page);
  const ok = others.every((id) => (prev[id] ?? 0) > 0 && (cur[id]?.framesDecoded ?? 0) > (prev[id] ?? 0));
  for (const id of others) prev[id] = cur[id]?.framesDecoded ?? 0;
  return ok;
}

// waitDecoding waits (bounded by deadline) until page p decodes every one of others; returns the time or null.
async function waitDecoding(p: Participant, others: string[], deadline: number): Promise<number | null> {
  const prev: Record<string, number> = {};
  while (Date.now() < deadline) {
    if (await decodingFrom(p, others, prev).catch(() => false)) return Date.now();
    await sleep(SAMPLE_MS);
  }
  return null;
}

async function allConnected(parts: Participant[]): Promise<string> {
  for (const p of parts) {
    const states = await p.page.evaluate(() => [...window.huddle.peers.values()].map((pc) => pc.connectionState));
    if (states.length !== parts.length - 1 || states.some((s) => s !== "connected")) return `${p.name}: ${states.join(",")}`;
  }
  return "";
}

async function runSize(browser: Awaited<ReturnType<typeof launchBrowser>>, httpUrl: string, n: number): Promise<Row> {
  const row: Row = { n, lastJoinerMs: null, allPagesMs: null, cpuPct: null, held: null, note: "" };
  const r = await fetch(`${httpUrl}/api/meetings`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  const meeting = ((await r.json()) as { id: string }).id;
  const parts: Participant[] = [];
  try {
    for (let i = 0; i < n; i++) parts.push(await openParticipant(browser, `P${i + 1}`, `${httpUrl}/m/${meeting}`, httpUrl));
    // The first N-1 join and settle.
    for (const p of parts.slice(0, -1)) await joinThroughUi(p);
    const early = parts.slice(0, -1);
    if (STAGGERED && early.length > 1) {
      const ids = await Promise.all(early.map(pid));
      const deadline = Date.now() + SETTLE_MS;
      for (const [i, p] of early.entries()) {
        if ((await waitDecoding(p, ids.filter((_, j) => j !== i), deadline)) === null) {
          row.note = `the first ${n - 1} did not settle`;
          return row;
        }
      }
    }
    const last = parts[n - 1];
    const clicked = await joinThroughUi(last);
    const ids = await Promise.all(parts.map(pid));
    const deadline = clicked + SETTLE_MS;
    const lastAt = await waitDecoding(last, ids.slice(0, -1), deadline);
    if (lastAt === null) {
      row.note = `last joiner did not decode everyone in ${SETTLE_MS / 1000} s: ${await allConnected(parts)}`;
      return row;
    }
    row.lastJoinerMs = lastAt - clicked;
    let allAt = lastAt;
    for (const [i, p] of parts.entries()) {
      const t = await waitDecoding(p, ids.filter((_, j) => j !== i), deadline);
      if (t === null) {
        row.note = `${p.name} did not decode everyone in ${SETTLE_MS / 1000} s`;
        return row;
      }
      allAt = Math.max(allAt, t);
    }
    row.allPagesMs = allAt - clicked;
    row.cpuPct = await cpuPercent(CPU_WINDOW_MS);
    // Held: connected all along, decoding from everyone at the end.
    const holdEnd = Date.now() + Math.max(0, HOLD_MS - CPU_WINDOW_MS);
    row.held = true;
    while (Date.now() < holdEnd) {
      const bad = await allConnected(parts);
      if (bad) {
        row.held = false;
        row.note = `dropped: ${bad}`;
        break;
      }
      await sleep(HOLD_CHECK_MS);
    }
    if (row.held) {
      for (const [i, p] of parts.entries()) {
        const t = await waitDecoding(p, ids.filter((_, j) => j !== i), Date.now() + 10_000);
        if (t === null) {
          row.held = false;
          row.note = `${p.name} stopped decoding`;
          break;
        }
      }
    }
    return row;
  } finally {
    await closeAll(parts);
    await sleep(1000);
  }
}

const fmtS = (ms: number | null) => (ms === null ? "—" : (ms / 1000).toFixed(1));

async function main(): Promise<void> {
  const loadBefore = readFileSync("/proc/loadavg", "utf8").trim();
  const stack = await startStack({ recording: false }); // chat and notes too: the pre-join page connects to them
  const browser = await launchBrowser();
  const rows: Row[] = [];
  try {
    for (const n of SIZES) {
      const row = await runSize(browser, stack.httpUrl, n);
      console.error(`mesh ${n}: ${JSON.stringify(row)}`);
      rows.push(row);
    }
  } finally {
    await browser.close().catch(() => {});
    await stack.stop().catch((e) => console.error(`stack stop: ${e}`));
  }
  const loadAfter = readFileSync("/proc/loadavg", "utf8").trim();
  const lines = [
    `Mesh in one headless Chromium${LABEL ? ` (${LABEL})` : ""}: N participants, one page each, ${STAGGERED ? "the last one joins after the others settled" : "joining one right after the other"}; times from the last Join click.`,
    `Bound ${SETTLE_MS / 1000} s to settle; CPU over ${CPU_WINDOW_MS / 1000} s after settling (% of one core, all Chromium processes); held = all connected and decoding ${HOLD_MS / 1000} s after settling.`,
    `Load average before: ${loadBefore}; after: ${loadAfter}.`,
    "",
    "| participants | last joiner decodes everyone (s) | every page decodes everyone (s) | Chromium CPU (% of a core) | held 30 s | note |",
    "|---:|---:|---:|---:|---|---|",
    ...rows.map((r) => `| ${r.n} | ${fmtS(r.lastJoinerMs)} | ${fmtS(r.allPagesMs)} | ${r.cpuPct ?? "—"} | ${r.held === null ? "—" : r.held ? "yes" : "no"} | ${r.note} |`),
  ];
  const md = lines.join("\n");
  console.log(md);
  console.log(JSON.stringify({ label: LABEL, loadBefore, loadAfter, rows }));
  mkdirSync(OUT, { recursive: true });
  const suffix = LABEL ? `-${LABEL.replace(/[^a-z0-9]+/gi, "-")}` : "";
  writeFileSync(resolve(OUT, `mesh${suffix}.md`), md + "\n");
  writeFileSync(resolve(OUT, `mesh${suffix}.json`), JSON.stringify({ label: LABEL, loadBefore, loadAfter, rows }) + "\n");
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
