#!/usr/bin/env node
// make bench-filters: the cost per 640×480 frame of each video filter and of
// background blur's segmentation, measured in headless Chromium.
// Builds bench.ts (the web client's own filter code) with web/vite.config.ts
// (so the MediaPipe files are served as in the app) into
// $BENCH_BUILD_DIR/filters/ (default build-bench), serves it on 127.0.0.1,
// runs it with playwright-core (Chromium at $HUDDLE_CHROMIUM, default
// /usr/bin/chromium, with the e2e tests' flags: fake camera, no GPU, so
// WebGL is SwiftShader, on the CPU) and prints a Markdown table plus one
// JSON line; both are written to filters.md / filters.json beside the build.
// BENCH_FRAMES (default 150) frames per filter, BENCH_MASKS (40) masks.
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const out = resolve(root, process.env.BENCH_BUILD_DIR ?? "build-bench", "filters");
const frames = Number(process.env.BENCH_FRAMES ?? 150);
const masks = Number(process.env.BENCH_MASKS ?? 40);
const TIMEOUT_MS = 300_000;

const fromWeb = createRequire(join(root, "web/package.json"));
const fromTests = createRequire(join(root, "tests/package.json"));
const { build } = await import(pathToFileURL(fromWeb.resolve("vite")).href);
const playwright = await import(pathToFileURL(fromTests.resolve("playwright-core")).href);
const chromium = playwright.chromium ?? playwright.default.chromium;

await build({
  configFile: join(root, "web/vite.config.ts"),
  root: here,
  logLevel: "warn",
  build: { outDir: out, emptyOutDir: true, rollupOptions: { input: join(here, "index.html") } },
});

const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
const server = createServer(async (req, res) => {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  const file = join(out, path === "/" ? "index.html" : path);
  if (!file.startsWith(out)) return void res.writeHead(404).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/?frames=${frames}&masks=${masks}`;

const browser = await chromium.launch({
  executablePath: process.env.HUDDLE_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  timeout: 30_000,
  args: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
let result;
try {
  const context = await browser.newContext();
  await context.grantPermissions(["camera"], { origin: new URL(url).origin });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(url, { timeout: 30_000 });
  await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: TIMEOUT_MS, polling: 500 });
  const err = await page.evaluate(() => window.benchError);
  if (err) throw new Error(`benchmark page: ${err}`);
  result = await page.evaluate(() => window.benchResult);
} finally {
  await browser.close();
  server.close();
}

const lines = [
  `Filter cost per frame at ${result.width}×${result.height}, ${frames} frames each (${masks} masks): upload, draw, new VideoFrame, GPU finished.`,
  `${result.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? result.userAgent}; WebGL: ${result.renderer}; model load ${result.modelLoadMs} ms.`,
  "",
  "| filter | mean (ms) | p50 (ms) | p95 (ms) | main thread, mean (ms) |",
  "|---|---:|---:|---:|---:|",
  ...result.rows.map((r) => `| ${r.filter} | ${r.meanMs} | ${r.p50Ms} | ${r.p95Ms} | ${r.issueMeanMs ?? "—"} |`),
];
const table = lines.join("\n");
console.log(table);
console.log(JSON.stringify(result));
await mkdir(out, { recursive: true });
await writeFile(join(out, "filters.md"), `${table}\n`);
await writeFile(join(out, "filters.json"), `${JSON.stringify(result)}\n`);
