// Peer-to-peer file transfer (web/src/files/) through the real UI: Send file,
// the receiver's Accept / Decline, Cancel, drops on a tile. What arrives is
// checked where the user gets it: the browser's download, hashed here.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { Download } from "playwright-core";
import { useE2E, participantId } from "./suite.ts";
import { joinThroughUi, poll, screenshot, selectedCandidateTypes, sleep, type Participant } from "./browser.ts";

const e2e = useE2E({ coturn: true });
const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "huddle-files-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface TestFile {
  path: string;
  name: string;
  size: number;
  sha256: string;
}

// randomFile writes size random bytes to a file named name.
function randomFile(name: string, size: number): TestFile {
  const path = join(dir, name);
  const fd = openSync(path, "w");
  const hash = createHash("sha256");
  for (let left = size; left > 0; ) {
    const b = randomBytes(Math.min(left, MiB));
    writeSync(fd, b);
    hash.update(b);
    left -= b.length;
  }
  closeSync(fd);
  return { path, name, size, sha256: hash.digest("hex") };
}

// sparseFile: size zero bytes that take no disk (what is cancelled mid-way
// needs no hash).
function sparseFile(name: string, size: number): TestFile {
  const path = join(dir, name);
  closeSync(openSync(path, "w"));
  truncateSync(path, size);
  return { path, name, size, sha256: "" };
}

function sha256Of(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

// downloads collects every download a page starts.
function downloads(p: Participant): Download[] {
  const got: Download[] = [];
  p.page.on("download", (d) => got.push(d));
  return got;
}

async function joinAll(parts: Participant[]): Promise<string[]> {
  for (const p of parts) await joinThroughUi(p);
  const ids = await Promise.all(parts.map(participantId));
  // Every pair's peer connection is up before anything is sent.
  for (const [i, p] of parts.entries()) {
    const others = ids.filter((_, j) => j !== i);
    await poll(
      `${p.name}: peer connections to ${others.length} participant(s)`,
      () => p.page.evaluate((ids) => (ids.every((id) => window.huddle.peers.get(id)?.connectionState === "connected") ? true : undefined), others),
      40_000,
    );
  }
  return ids;
}

// sendThroughUi: Send file, choose the file and the recipient, Send.
// shot: a screenshot of the filled-in dialog under that name.
async function sendThroughUi(p: Participant, file: TestFile, to: string, shot = ""): Promise<void> {
  await p.page.getByRole("button", { name: "Send file", exact: true }).click({ timeout: 10_000 });
  const dialog = p.page.getByRole("dialog", { name: "Send a file" });
  await dialog.getByLabel("File", { exact: true }).setInputFiles(file.path, { timeout: 20_000 });
  await dialog.getByLabel("Send to").selectOption({ label: to });
  if (shot) await screenshot(p, shot);
  await dialog.getByRole("button", { name: "Send", exact: true }).click();
  await dialog.waitFor({ state: "hidden", timeout: 10_000 });
}

const receiving = (p: Participant, file: TestFile, from: string) => p.page.getByRole("group", { name: `Receiving ${file.name} from ${from}` });
const sending = (p: Participant, file: TestFile, to: string) => p.page.getByRole("group", { name: `Sending ${file.name} to ${to}` });

type Side = { state: string; bytes: number; sha256: string; error: string; samples: number[] } | null;

function transferOf(p: Participant, name: string, direction: "send" | "receive"): Promise<Side> {
  return p.page.evaluate(
    ({ name, direction }) => window.huddle.files?.transfers.find((t) => t.name === name && t.direction === direction) ?? null,
    { name, direction },
  );
}

function waitState(p: Participant, name: string, direction: "send" | "receive", state: string, timeoutMs: number): Promise<NonNullable<Side>> {
  return poll(
    `${p.name}: ${direction} ${name} ${state}`,
    async () => {
      const t = await transferOf(p, name, direction);
      if (t && t.state !== state && ["done", "failed", "cancelled", "declined"].includes(t.state)) {
        throw new Error(`ended ${t.state}: ${t.error}`);
      }
      return t?.state === state ? t : undefined;
    },
    timeoutMs,
  );
}

// acceptAndCheck: the receiver sees name, size and sender, accepts, and the
// file it saves has the sender's SHA-256.
async function acceptAndCheck(r: Participant, got: Download[], file: TestFile, from: string, sizeText: string, timeoutMs: number): Promise<void> {
  const item = receiving(r, file, from);
  await item.waitFor({ timeout: 20_000 });
  const text = await item.innerText();
  assert.ok(text.includes(file.name) && text.includes(sizeText) && text.includes(`From ${from}`), `${r.name} sees name, size and sender: ${text}`);
  await item.getByRole("button", { name: "Accept", exact: true }).click();
  const t = await waitState(r, file.name, "receive", "done", timeoutMs);
  assert.equal(t.sha256, file.sha256, `${r.name}: verified SHA-256`);
  const d = await poll(`${r.name}: download of ${file.name}`, async () => got.find((d) => d.suggestedFilename() === file.name), 20_000);
  const path = await d.path();
  assert.equal(sha256Of(path), file.sha256, `${r.name}: the saved file's SHA-256`);
  const saved = await r.page.evaluate(() => window.huddle.files?.saved ?? []);
  assert.ok(saved.some((s) => s.name === file.name && s.size === file.size && s.sha256 === file.sha256), `saved: ${JSON.stringify(saved)}`);
}

function monotonic(samples: number[]): boolean {
  return samples.every((v, i) => i === 0 || v >= samples[i - 1]);
}

e2e.test(
  "a 3 MiB random file sent to one participant arrives with the same SHA-256, and the chat says so",
  async ({ open, createMeeting }) => {
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}`);
    const b = await open("Bob", `/m/${id}`);
    const c = await open("Cy", `/m/${id}`);
    const got = { b: downloads(b), c: downloads(c) };
    await joinAll([a, b, c]);
    const file = randomFile("random-3MiB.bin", 3 * MiB);
    await sendThroughUi(a, file, "Bob", "e2e-files-send-dialog");
    await receiving(b, file, "Ada").waitFor({ timeout: 20_000 });
    await sending(a, file, "Bob").getByText("Waiting for an answer…").waitFor({ timeout: 10_000 });
    await screenshot(b, "e2e-files-receiver-offer");
    await acceptAndCheck(b, got.b, file, "Ada", "3.1 MB", 30_000);
    await waitState(a, file.name, "send", "done", 20_000);
    await sending(a, file, "Bob").getByText(/Sent, SHA-256 verified/).waitFor({ timeout: 5_000 });
    await screenshot(a, "e2e-files-sender-done");
    // Only Bob was asked.
    assert.equal(await transferOf(c, file.name, "receive"), null, "Cy got no offer");
    assert.equal(got.c.length, 0);
    // The chat line, for everyone (and later visitors).
    const line = `📎 Shared "${file.name}" (3.1 MB) with Bob`;
    await poll(`Cy's chat shows "${line}"`, () => c.page.evaluate((line) => (window.huddle.chat?.messages.some((m) => m.text === line && m.senderName === "Ada") ? true : undefined), line), 15_000);
  },
  180_000,
);

e2e.test(
  "decline and cancel (by either side) leave no partial download; a damaged file and one over 2 GiB are not saved",
  async ({ open, createMeeting }) => {
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}`);
    const b = await open("Bob", `/m/${id}`);
    const got = downloads(b);
    const [, bobId] = await joinAll([a, b]);

    // Decline.
    const small = randomFile("declined.bin", 256 * 1024);
    await sendThroughUi(a, small, "Bob");
    await receiving(b, small, "Ada").getByRole("button", { name: "Decline", exact: true }).click({ timeout: 20_000 });
    await waitState(a, small.name, "send", "declined", 10_000);
    await sending(a, small, "Bob").getByText("Declined", { exact: true }).waitFor({ timeout: 5_000 });

    // The sender cancels mid-way.
    const big = sparseFile("cancelled-by-sender.bin", 200 * MiB);
    await sendThroughUi(a, big, "Bob");
    await receiving(b, big, "Ada").getByRole("button", { name: "Accept", exact: true }).click({ timeout: 20_000 });
    await poll("Bob receives bytes", async () => ((await transferOf(b, big.name, "receive"))?.bytes ?? 0) > 0 || undefined, 20_000, 20);
    await sending(a, big, "Bob").getByRole("button", { name: "Cancel", exact: true }).click();
    const rb = await waitState(b, big.name, "receive", "cancelled", 10_000);
    assert.ok(rb.bytes < big.size, `cancelled before the end (${rb.bytes} of ${big.size})`);
    await waitState(a, big.name, "send", "cancelled", 10_000);

    // The receiver cancels mid-way.
    const big2File = sparseFile("cancelled-by-receiver.bin", 200 * MiB);
    await sendThroughUi(a, big2File, "Bob");
    const item = receiving(b, big2File, "Ada");
    await item.getByRole("button", { name: "Accept", exact: true }).click({ timeout: 20_000 });
    await poll("Bob receives bytes", async () => ((await transferOf(b, big2File.name, "receive"))?.bytes ?? 0) > 0 || undefined, 20_000, 20);
    await item.getByRole("button", { name: "Cancel", exact: true }).click();
    await waitState(a, big2File.name, "send", "cancelled", 10_000);
    await waitState(b, big2File.name, "receive", "cancelled", 10_000);

    // A sender whose bytes do not match the SHA-256 it announces (a raw
    // channel speaking the protocol, opened on Ada's page): Bob's page
    // refuses the file.
    await a.page.evaluate((bobId) => {
      const pc = window.huddle.peers.get(bobId)!;
      const dc = pc.createDataChannel("huddle-file/0123456789abcdef", { ordered: true });
      dc.onopen = () => dc.send(JSON.stringify({ type: "offer", name: "damaged.bin", size: 4, mime: "" }));
      dc.onmessage = (ev) => {
        if (ev.data === JSON.stringify({ type: "accept" })) {
          dc.send(new Uint8Array([1, 2, 3, 4]));
          dc.send(JSON.stringify({ type: "end", sha256: "0".repeat(64) }));
        }
      };
    }, bobId);
    const damaged = receiving(b, { path: "", name: "damaged.bin", size: 4, sha256: "" }, "Ada");
    await damaged.getByRole("button", { name: "Accept", exact: true }).click({ timeout: 20_000 });
    const bad = await waitState(b, "damaged.bin", "receive", "failed", 10_000);
    assert.match(bad.error, /SHA-256 does not match/);
    await damaged.getByText(/arrived damaged/).waitFor({ timeout: 5_000 });

    // Over the limit: the sender's dialog refuses it, nothing is offered ...
    const huge = sparseFile("huge.bin", 2 * 1024 * MiB + 1);
    await a.page.getByRole("button", { name: "Send file", exact: true }).click();
    const dialog = a.page.getByRole("dialog", { name: "Send a file" });
    await dialog.getByLabel("File", { exact: true }).setInputFiles(huge.path, { timeout: 20_000 });
    await dialog.getByLabel("Send to").selectOption({ label: "Bob" });
    await dialog.getByRole("button", { name: "Send", exact: true }).click();
    await dialog.getByRole("alert").getByText(/"huge\.bin" is 2\.1 GB: files can be at most 2 GiB/).waitFor({ timeout: 5_000 });
    await dialog.getByRole("button", { name: "Close", exact: true }).click();
    assert.equal(await transferOf(a, "huge.bin", "send"), null, "nothing sent");
    // ... and a receiver offered one (by a raw channel) refuses it unasked.
    await a.page.evaluate((bobId) => {
      const dc = window.huddle.peers.get(bobId)!.createDataChannel("huddle-file/fedcba9876543210", { ordered: true });
      dc.onopen = () => dc.send(JSON.stringify({ type: "offer", name: "huge-raw.bin", size: 2 ** 31 + 1, mime: "" }));
    }, bobId);
    const refused = await waitState(b, "huge-raw.bin", "receive", "failed", 10_000);
    assert.match(refused.error, /larger than the 2 GiB limit/);
    assert.equal(await receiving(b, { path: "", name: "huge-raw.bin", size: 0, sha256: "" }, "Ada").getByRole("button", { name: "Accept" }).count(), 0);

    await sleep(1000); // a late save would show up now
    assert.deepEqual(got.map((d) => d.suggestedFilename()), [], "Bob's browser saved nothing");
    assert.deepEqual(await b.page.evaluate(() => window.huddle.files?.saved ?? null), [], "nothing saved");
    await screenshot(b, "e2e-files-declined-cancelled");
  },
  240_000,
);

e2e.test(
  "send to everyone reaches both others; a file dropped on a tile goes to that participant only",
  async ({ open, createMeeting }) => {
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}`);
    const b = await open("Bob", `/m/${id}`);
    const c = await open("Cy", `/m/${id}`);
    const got = { b: downloads(b), c: downloads(c) };
    const [, , cyId] = await joinAll([a, b, c]);
    const file = randomFile("for-everyone.bin", 2 * MiB + 123);
    await sendThroughUi(a, file, "Everyone");
    await Promise.all([acceptAndCheck(b, got.b, file, "Ada", "2.1 MB", 30_000), acceptAndCheck(c, got.c, file, "Ada", "2.1 MB", 30_000)]);
    await waitState(a, file.name, "send", "done", 10_000);
    const sent = await a.page.evaluate((name) => window.huddle.files!.transfers.filter((t) => t.name === name && t.direction === "send").map((t) => t.state), file.name);
    assert.deepEqual(sent, ["done", "done"], "one transfer per recipient");
    const line = `📎 Shared "${file.name}" (2.1 MB) with everyone`;
    await poll(`Bob's chat shows "${line}"`, () => b.page.evaluate((line) => (window.huddle.chat?.messages.some((m) => m.text === line) ? true : undefined), line), 15_000);

    // Drop a file on Cy's tile in Ada's page.
    await a.page.evaluate((cyId) => {
      const tile = document.querySelector(`.tile[data-participant-id="${cyId}"]`)!;
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(1000).fill(7)], "dropped.txt", { type: "text/plain" }));
      tile.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
      tile.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, cyId);
    const dropped = { path: "", name: "dropped.txt", size: 1000, sha256: createHash("sha256").update(Buffer.alloc(1000, 7)).digest("hex") };
    await acceptAndCheck(c, got.c, dropped, "Ada", "1.0 kB", 20_000);
    await sleep(500);
    assert.equal(await transferOf(b, "dropped.txt", "receive"), null, "Bob got no offer for the file dropped on Cy");
  },
  180_000,
);

e2e.test(
  "a 50 MiB file over a relay-only pair completes, its progress moving monotonically",
  async ({ open, createMeeting }) => {
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}?relay=1`);
    const b = await open("Bob", `/m/${id}?relay=1`);
    const got = downloads(b);
    const [adaId, bobId] = await joinAll([a, b]);
    for (const [p, other] of [[a, bobId], [b, adaId]] as const) {
      const pairs = await poll(`${p.name}: selected pair`, async () => ((await selectedCandidateTypes(p.page))[other] ? await selectedCandidateTypes(p.page) : undefined), 20_000);
      const pair = pairs[other]!;
      assert.ok(pair.local === "relay" || pair.remote === "relay", `${p.name} goes through the relay: ${JSON.stringify(pair)}`);
    }
    const file = randomFile("relay-50MiB.bin", 50 * MiB);
    await sendThroughUi(a, file, "Bob");
    const item = receiving(b, file, "Ada");
    await item.getByRole("button", { name: "Accept", exact: true }).click({ timeout: 20_000 });
    // Progress on both sides, sampled from outside while it runs.
    const seen = { a: [] as number[], b: [] as number[] };
    let shot = false;
    const start = Date.now();
    for (;;) {
      const [ta, tb] = await Promise.all([transferOf(a, file.name, "send"), transferOf(b, file.name, "receive")]);
      if (ta) seen.a.push(ta.bytes);
      if (tb) seen.b.push(tb.bytes);
      if (!shot && tb && tb.bytes > file.size / 4) {
        shot = true;
        await screenshot(a, "e2e-files-sender-progress");
        await screenshot(b, "e2e-files-receiver-progress");
      }
      if (tb?.state === "done" || tb?.state === "failed" || tb?.state === "cancelled") break;
      if (Date.now() - start > 200_000) throw new Error(`not done after 200 s: ${JSON.stringify(tb)}`);
      await sleep(100);
    }
    const done = await waitState(b, file.name, "receive", "done", 1000);
    assert.equal(done.sha256, file.sha256);
    assert.ok(monotonic(seen.a) && monotonic(seen.b), "progress never goes back");
    assert.ok(seen.b.length >= 3 && new Set(seen.b).size >= 3, `progress moved in steps: ${seen.b.length} samples`);
    const pageSamples = { a: (await transferOf(a, file.name, "send"))!.samples, b: done.samples };
    assert.ok(monotonic(pageSamples.a) && monotonic(pageSamples.b), "the pages' own progress samples never go back");
    const d = await poll("Bob's download", async () => got.find((d) => d.suggestedFilename() === file.name), 20_000);
    assert.equal(sha256Of(await d.path()), file.sha256, "the saved file's SHA-256");
    const secs = (Date.now() - start) / 1000;
    console.log(`relay: 50 MiB in ${secs.toFixed(1)} s (${(file.size / 1e6 / secs).toFixed(1)} MB/s, polling included)`);
  },
  300_000,
);
