// make bench-files: file transfer throughput (web/src/files/) in headless
// Chromium, in MB/s (10^6 bytes per second), three ways:
//   loopback  two RTCPeerConnections in one page (loopback.ts, built with the
//             web app's Vite config): the transfer code and SCTP, no server;
//   raw       the same pair with a bare data channel and the same chunks and
//             backpressure, nothing else: the ceiling the code works under;
//   direct    two participants in a call (a real stack: tests/lib/stack.ts),
//             host candidates, through the UI (Send file, Accept);
//   relay     the same with ?relay=1: every packet through coturn, with the
//             repository's coturn config (deploy/coturn/turnserver-local.conf,
//             whose max-bps caps each allocation at 625 kB/s each way);
//   relay-uncapped  the same through a coturn started with --max-bps 0: what
//             the relay path itself carries.
// The time is the receiver's, from its Accept to the file verified (SHA-256)
// and handed to the browser's download. The Makefile runs it inside
// `unshare -n` with only loopback up, as the e2e tests run.
// Environment: BENCH_LOOPBACK_MIB (128), BENCH_DIRECT_MIB (128),
// BENCH_RELAY_MIB (16), BENCH_RELAY_UNCAPPED_MIB (64),
// BENCH_ONLY (loopback,raw,direct,relay,relay-uncapped), BENCH_BUILD_DIR (build-bench), HUDDLE_BIN_DIR,
// HUDDLE_WEB_ROOT, HUDDLE_SOURCE_DIR (as for the e2e tests).
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AddressInfo } from "node:net";
import { startStack } from "../../lib/stack.ts";
import { launchBrowser, openParticipant, joinThroughUi, poll, selectedCandidateTypes, type Participant } from "../../e2e/browser.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const out = resolve(root, process.env.BENCH_BUILD_DIR ?? "build-bench", "files");
const MiB = 1024 * 1024;
const sizes = {
  loopback: Number(process.env.BENCH_LOOPBACK_MIB ?? 128),
  direct: Number(process.env.BENCH_DIRECT_MIB ?? 128),
  relay: Number(process.env.BENCH_RELAY_MIB ?? 16),
  relayUncapped: Number(process.env.BENCH_RELAY_UNCAPPED_MIB ?? 64),
};
const TRANSFER_TIMEOUT_MS = 600_000;

interface Row {
  path: string;
  pair: string;
  mib: number;
  seconds: number;
  mbps: number;
}

const row = (path: string, pair: string, bytes: number, ms: number): Row => ({
  path,
  pair,
  mib: bytes / MiB,
  seconds: Math.round(ms) / 1000,
  mbps: Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10,
});

async function loopback(raw: boolean): Promise<Row> {
  const fromWeb = createRequire(join(root, "web/package.json"));
  const { build } = await import(pathToFileURL(fromWeb.resolve("vite")).href);
  await build({
    configFile: join(root, "web/vite.config.ts"),
    root: here,
    logLevel: "warn",
    build: { outDir: out, emptyOutDir: true, rollupOptions: { input: join(here, "index.html") } },
  });
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = join(out, path === "/" ? "index.html" : path);
    if (!file.startsWith(out)) return void res.writeHead(404).end();
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext()).newPage();
    page.on("pageerror", (e) => console.error(`loopback page: ${e.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/?mib=${sizes.loopback}${raw ? "&raw=1" : ""}`, { timeout: 30_000 });
    await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: TRANSFER_TIMEOUT_MS, polling: 200 });
    const err = await page.evaluate(() => window.benchError);
    if (err) throw new Error(`loopback page: ${err}`);
    const r = (await page.evaluate(() => window.benchResult))!;
    return raw
      ? row("loopback, bare data channel (same chunks and backpressure; no file, hash or sink)", "host", r.bytes, r.ms)
      : row("loopback (one page, two peer connections)", "host", r.bytes, r.ms);
  } finally {
    await browser.close();
    server.close();
  }
}

declare global {
  interface Window {
    benchResult?: { bytes: number; ms: number; sha256: string };
    benchError?: string;
  }
}

// callTransfer: Ada sends a file of mib MiB to Bob in a call, through the UI.
async function callTransfer(httpUrl: string, relay: boolean, mib: number, dir: string, label: string): Promise<Row> {
  const r = await fetch(`${httpUrl}/api/meetings`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
  const { id } = (await r.json()) as { id: string };
  const browser = await launchBrowser();
  const parts: Participant[] = [];
  try {
    const q = relay ? "?relay=1" : "";
    for (const name of ["Ada", "Bob"]) parts.push(await openParticipant(browser, name, `${httpUrl}/m/${id}${q}`, httpUrl));
    const [a, b] = parts;
    for (const p of parts) await joinThroughUi(p);
    const bobId = await b.page.evaluate(() => window.huddle.participantId);
    await poll("connected", () => a.page.evaluate((id) => (window.huddle.peers.get(id)?.connectionState === "connected" ? true : undefined), bobId), 40_000);
    const pair = (await poll("selected pair", async () => (await selectedCandidateTypes(a.page))[bobId] ?? undefined, 20_000)) as { local: string; remote: string };
    const name = `${relay ? "relay" : "direct"}-${mib}MiB-${id.slice(0, 6)}.bin`;
    const path = join(dir, name);
    closeSync(openSync(path, "w"));
    truncateSync(path, mib * MiB);
    await a.page.getByRole("button", { name: "Send file", exact: true }).click();
    const dialog = a.page.getByRole("dialog", { name: "Send a file" });
    await dialog.getByLabel("File", { exact: true }).setInputFiles(path, { timeout: 60_000 });
    await dialog.getByLabel("Send to").selectOption({ label: "Bob" });
    await dialog.getByRole("button", { name: "Send", exact: true }).click();
    await b.page.getByRole("group", { name: `Receiving ${name} from Ada` }).getByRole("button", { name: "Accept", exact: true }).click({ timeout: 20_000 });
    const t = await poll(
      `${name} received`,
      async () => {
        const t = await b.page.evaluate((name) => window.huddle.files?.transfers.find((t) => t.name === name) ?? null, name);
        if (t && t.state !== "done" && ["failed", "cancelled", "declined"].includes(t.state)) throw new Error(`${t.state}: ${t.error}`);
        return t?.state === "done" ? t : undefined;
      },
      TRANSFER_TIMEOUT_MS,
      250,
    );
    return row(label, `${pair.local}/${pair.remote}`, t.size, t.elapsedMs);
  } finally {
    await Promise.allSettled(parts.map((p) => p.context.close()));
    await browser.close();
  }
}

const rows: Row[] = [];
const only = (process.env.BENCH_ONLY ?? "loopback,raw,direct,relay,relay-uncapped").split(",");
const say = (r: Row) => (rows.push(r), console.log(`${r.path}: ${r.mbps} MB/s`));
if (only.includes("loopback")) say(await loopback(false));
if (only.includes("raw")) say(await loopback(true));
if (only.includes("direct") || only.includes("relay")) {
  const dir = mkdtempSync(join(tmpdir(), "huddle-bench-files-"));
  const stack = await startStack({ coturn: true });
  try {
    if (only.includes("direct")) say(await callTransfer(stack.httpUrl, false, sizes.direct, dir, "direct (two browsers in a call)"));
    if (only.includes("relay")) say(await callTransfer(stack.httpUrl, true, sizes.relay, dir, "relay (relay-only pair, coturn as configured: max-bps 625 kB/s)"));
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (only.includes("relay-uncapped")) {
  const dir = mkdtempSync(join(tmpdir(), "huddle-bench-files-"));
  const stack = await startStack({ coturn: true, coturnArgs: ["--max-bps", "0"] });
  try {
    say(await callTransfer(stack.httpUrl, true, sizes.relayUncapped, dir, "relay (relay-only pair, coturn with --max-bps 0)"));
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = [
  "File transfer, receiver's Accept to verified file (16 KiB chunks, SHA-256 on both sides), headless Chromium:",
  "",
  "| path | candidate pair | size (MiB) | time (s) | MB/s |",
  "|---|---|---:|---:|---:|",
  ...rows.map((r) => `| ${r.path} | ${r.pair} | ${r.mib} | ${r.seconds} | ${r.mbps} |`),
];
const table = lines.join("\n");
console.log(table);
console.log(JSON.stringify(rows));
await mkdir(out, { recursive: true });
await writeFile(join(out, "files.md"), `${table}\n`);
await writeFile(join(out, "files.json"), `${JSON.stringify(rows)}\n`);
