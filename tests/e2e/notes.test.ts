// The meeting's shared documents in the browser, against the real daemons
// (huddle-notes included): two people type into the same notes at the same
// time and both end with the same text holding both edits, each sees the
// other's cursor with their name, and a third who opens the link later
// without joining the call sees the text; the code pad's language picked by
// one changes for the others (screenshot of the cursors in
// /tmp/code-pad-cursors.png), Download saves code.<ext>, and the HTTP export
// of both documents matches the editors; the "You left" screen opens the
// notes; a 200 KB paste travels in FrameChunk parts both ways; a version
// restore brings back deleted text; edits typed while
// the gateway is down arrive once it is back, and so do edits huddle-notes
// could not take, across a reload of the page; and after every daemon has
// restarted a new visitor sees both documents.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { useE2E } from "./suite.ts";
import { joinThroughUi, poll, screenshot, sleep, type Participant } from "./browser.ts";

const e2e = useE2E();

type Kind = "notes" | "code";

function editor(p: Participant, kind: Kind) {
  return p.page.getByRole("textbox", { name: kind === "notes" ? "Meeting notes" : "Code editor" });
}

// docText reads the document as the page's Y.Doc holds it (window.huddle.notes).
function docText(page: Page, kind: Kind): Promise<string | undefined> {
  return page.evaluate((k) => window.huddle.notes?.[k]?.text, kind);
}

// shownText reads the text the editor shows, line by line (without the
// widgets in the lines: others' cursors with their names, the placeholder).
function shownText(p: Participant, kind: Kind): Promise<string> {
  return p.page.evaluate((label) => {
    const el = document.querySelector(`.cm-content[aria-label="${label}"]`);
    if (!el) return "";
    return [...el.querySelectorAll(".cm-line")]
      .map((l) => {
        const c = l.cloneNode(true) as Element;
        for (const w of c.querySelectorAll(".cm-ySelectionCaret, .cm-placeholder, .cm-widgetBuffer")) w.remove();
        return c.textContent ?? "";
      })
      .join("\n");
  }, kind === "notes" ? "Meeting notes" : "Code editor");
}

// openDoc clicks the Notes or Code button and waits for the editor and the
// document's first load.
async function openDoc(p: Participant, kind: Kind): Promise<void> {
  await p.page.getByRole("button", { name: kind === "notes" ? "Notes" : "Code", exact: true }).click({ timeout: 10_000 });
  await editor(p, kind).waitFor({ timeout: 15_000 });
  await poll(`${p.name}: ${kind} loaded`, async () => ((await p.page.evaluate((k) => window.huddle.notes?.state === "ready" && window.huddle.notes?.[k]?.loaded, kind)) ? true : undefined), 20_000);
}

async function waitText(p: Participant, kind: Kind, what: string, ok: (t: string) => boolean, timeoutMs = 15_000): Promise<string> {
  return poll(
    `${p.name}: ${kind} ${what}`,
    async () => {
      const t = await docText(p.page, kind);
      if (t === undefined || !ok(t)) return undefined;
      // A visible editor shows the document (CodeMirror renders only what is in view; these texts are short).
      if (!(await editor(p, kind).isVisible())) return t;
      return (await shownText(p, kind)) === t ? t : undefined;
    },
    timeoutMs,
  );
}

// moveToEnd puts the cursor at the end of line `line` (1-based) or of the text.
async function moveTo(p: Participant, kind: Kind, line?: number): Promise<void> {
  await editor(p, kind).click();
  await p.page.keyboard.press("Control+End");
  if (line !== undefined) {
    await p.page.keyboard.press("Control+Home");
    for (let i = 1; i < line; i++) await p.page.keyboard.press("ArrowDown");
    await p.page.keyboard.press("End");
  }
}

// settled: every edit of p's page is acknowledged by the server.
async function settled(p: Participant, kind: Kind): Promise<void> {
  await poll(`${p.name}: ${kind} edits acknowledged`, async () => ((await p.page.evaluate((k) => window.huddle.notes?.[k]?.pending, kind)) === 0 ? true : undefined), 15_000);
}

function remoteLabel(p: Participant, name: string) {
  return p.page.locator(".cm-ySelectionInfo", { hasText: name });
}

async function exported(stack: { httpUrl: string }, id: string, kind: Kind): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(`${stack.httpUrl}/api/meetings/${id}/${kind === "notes" ? "notes.md" : "code"}`);
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") ?? "" };
}

// waitExport waits until the HTTP export serves what the page's editor holds
// (a snapshot goes out a few seconds after typing stops).
async function waitExport(stack: { httpUrl: string }, id: string, p: Participant, kind: Kind, timeoutMs = 25_000): Promise<string> {
  return poll(
    `GET /api/meetings/<id>/${kind === "notes" ? "notes.md" : "code"} to match ${p.name}'s editor`,
    async () => {
      const want = await docText(p.page, kind);
      const got = await exported(stack, id, kind);
      if (got.status !== 200) throw new Error(`HTTP ${got.status}: ${got.body.slice(0, 200)}`);
      if (got.body !== want) throw new Error(`export ${JSON.stringify(got.body.slice(0, 120))} != editor ${JSON.stringify(want?.slice(0, 120))}`);
      return got.body;
    },
    timeoutMs,
    500,
  );
}

e2e.test("notes: two editors type at once and converge, see each other's cursor; a visitor who opens the link later sees the text", async ({ open, createMeeting, stack }) => {
  assert.ok(stack.hasNotes, "huddle-notes must be built for the notes browser test");
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  await joinThroughUi(a); // Ada is in the call, Bob only on the pre-join page
  await b.page.getByLabel("Your name").fill("Bob");
  await openDoc(a, "notes");
  await openDoc(b, "notes");

  await moveTo(a, "notes");
  await a.page.keyboard.type("Agenda from Ada\n", { delay: 10 });
  await settled(a, "notes");
  await waitText(b, "notes", "has Ada's first line", (t) => t === "Agenda from Ada\n");
  await moveTo(b, "notes");
  await b.page.keyboard.type("Actions from Bob", { delay: 10 });
  await settled(b, "notes");
  await waitText(a, "notes", "has Bob's first line", (t) => t === "Agenda from Ada\nActions from Bob");

  // Both type at the same time, Ada at the end of line 1, Bob at the end of line 2.
  await moveTo(a, "notes", 1);
  await moveTo(b, "notes", 2);
  const adaWords = ": budget, hiring, launch date";
  const bobWords = ": Ada books the room, Bob writes the summary";
  await Promise.all([a.page.keyboard.type(adaWords, { delay: 25 }), b.page.keyboard.type(bobWords, { delay: 25 })]);
  const want = `Agenda from Ada${adaWords}\nActions from Bob${bobWords}`;
  await waitText(a, "notes", "holds both edits", (t) => t === want);
  await waitText(b, "notes", "holds both edits", (t) => t === want);

  // Each sees the other's cursor, labelled with their name.
  await remoteLabel(a, "Bob").waitFor({ state: "visible", timeout: 10_000 });
  await remoteLabel(b, "Ada").waitFor({ state: "visible", timeout: 10_000 });
  await screenshot(a, "e2e-notes-two-editors");

  // Cy opens the link later and never joins the call.
  const c = await open("Cy", `/m/${id}`);
  await openDoc(c, "notes");
  await waitText(c, "notes", "shows the notes", (t) => t === want);
  assert.equal(await c.page.evaluate(() => window.huddle.state), "prejoin", "Cy never joined the call");

  // The preview renders the Markdown, as text (no markup injected).
  await moveTo(c, "notes");
  await c.page.keyboard.type("\n\n## Decisions <img src=x onerror=alert(1)>", { delay: 5 });
  await c.page.getByRole("button", { name: "Preview" }).click();
  const heading = c.page.locator(".doc-preview h2");
  await heading.waitFor({ timeout: 5_000 });
  assert.equal(await c.page.locator(".doc-preview img[onerror]").count(), 0, "no event handler survives sanitizing");
  await c.page.getByRole("button", { name: "Edit" }).click();

  // The export serves what the editors show.
  await settled(c, "notes");
  await waitText(a, "notes", "has Cy's heading", (t) => t.includes("## Decisions"));
  await waitExport(e2e.stack, id, a, "notes");

  // After Leave, the "You left" screen opens the notes too.
  await a.page.getByRole("button", { name: "Leave" }).click();
  await a.page.getByRole("heading", { name: "You left the meeting" }).waitFor({ timeout: 10_000 });
  await openDoc(a, "notes");
  const final = await waitText(a, "notes", "on the left screen", (t) => t.includes("## Decisions"));
  await screenshot(a, "e2e-notes-left");
  assert.equal(final, await docText(c.page, "notes"), "Ada and Cy hold the same text");
}, 180_000);

e2e.test("code: the language picked by one changes for the others; cursors of two others; the export matches", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  const c = await open("Cy", `/m/${id}`);
  for (const p of [a, b, c]) {
    await p.page.getByLabel("Your name").fill(p.name);
    await openDoc(p, "code");
  }
  await moveTo(a, "code");
  await a.page.keyboard.type("def greet(name):\nreturn f\"Hello, {name}\"\n", { delay: 5 });
  await settled(a, "code");
  const adas = await docText(a.page, "code");
  await waitText(b, "code", "has Ada's function", (t) => t === adas);
  await waitText(c, "code", "has Ada's function", (t) => t === adas);
  await moveTo(b, "code");
  await b.page.keyboard.type("\nprint(greet(\"Bob\"))", { delay: 5 });
  await moveTo(c, "code", 1);
  await c.page.keyboard.press("Home");

  // Ada picks Python: the others' select and highlighting follow.
  await a.page.getByLabel("Language").selectOption("python");
  for (const p of [b, c]) {
    await poll(`${p.name}: language python`, async () => ((await p.page.getByLabel("Language").inputValue()) === "python" ? true : undefined), 10_000);
  }
  await poll("Bob's editor highlights Python keywords", async () => ((await b.page.locator(".cm-content span", { hasText: /^def$/ }).count()) > 0 ? true : undefined), 10_000);

  await settled(b, "code");
  const text = await waitText(a, "code", "has Bob's line", (t) => t.includes('print(greet("Bob"))'));
  await waitText(b, "code", "equals Ada's", (t) => t === text);
  await waitText(c, "code", "equals Ada's", (t) => t === text);
  await remoteLabel(a, "Bob").waitFor({ state: "visible", timeout: 10_000 });
  await remoteLabel(a, "Cy").waitFor({ state: "visible", timeout: 10_000 });
  const shot = await screenshot(a, "e2e-code-pad-cursors");
  copyFileSync(shot, "/tmp/code-pad-cursors.png");

  // Download saves code.<ext> of the language, with the editor's text.
  const [download] = await Promise.all([a.page.waitForEvent("download", { timeout: 10_000 }), a.page.getByRole("button", { name: "Download" }).click()]);
  assert.equal(download.suggestedFilename(), "code.py");
  const saved = await download.path();
  assert.equal(readFileSync(saved, "utf8"), text, "the download holds the editor's text");

  // Another language from another editor; then the export (the snapshot's text and language).
  await c.page.getByLabel("Language").selectOption("rust");
  await poll("Ada: language rust", async () => ((await a.page.getByLabel("Language").inputValue()) === "rust" ? true : undefined), 10_000);
  await c.page.getByLabel("Language").selectOption("python");
  await poll("Ada: language python again", async () => ((await a.page.getByLabel("Language").inputValue()) === "python" ? true : undefined), 10_000);
  await waitExport(stack, id, a, "code");
}, 180_000);

e2e.test("notes: a paste larger than one frame travels in chunks, both ways", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  for (const p of [a, b]) {
    await p.page.getByLabel("Your name").fill(p.name);
    await openDoc(p, "code");
  }
  // ~200 KB in one edit: the update (and the event, the snapshot, a later
  // open) is over 64 KiB, so it goes as FrameChunk parts.
  const line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789";
  const big = Array.from({ length: 2700 }, (_, i) => `${String(i).padStart(5, "0")} ${line}`).join("\n");
  await editor(a, "code").click();
  // Pasted as a user pastes: a paste event with the text on the clipboard.
  await a.page.evaluate((text) => {
    const el = document.querySelector('.cm-content[aria-label="Code editor"]');
    const dt = new DataTransfer();
    dt.setData("text/plain", text);
    el?.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, big);
  await poll("Bob has the whole paste", async () => ((await docText(b.page, "code")) === big ? true : undefined), 30_000);
  await poll("Ada's paste acknowledged", async () => ((await a.page.evaluate(() => window.huddle.notes?.code?.pending)) === 0 ? true : undefined), 15_000);
  const c = await open("Cy", `/m/${id}`);
  await openDoc(c, "code");
  await poll("Cy opens the whole paste", async () => ((await docText(c.page, "code")) === big ? true : undefined), 30_000);
  const got = await poll("the export has the paste", async () => {
    const r = await exported(stack, id, "code");
    return r.status === 200 && r.body === big ? r : undefined;
  }, 30_000, 1000);
  assert.equal(got.body.length, big.length);
}, 180_000);

e2e.test("versions: restoring a version brings back deleted text, for everyone", async ({ open, createMeeting }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  for (const p of [a, b]) {
    await p.page.getByLabel("Your name").fill(p.name);
    await openDoc(p, "notes");
  }
  const keep = "Budget approved: 12,000 for the offsite.";
  await moveTo(a, "notes");
  await a.page.keyboard.type(`${keep}\nSecond line.`, { delay: 5 });
  await settled(a, "notes");
  await waitText(b, "notes", "has Ada's text", (t) => t === `${keep}\nSecond line.`);

  // A version is kept a few seconds after the typing stops.
  await a.page.getByRole("button", { name: "Versions" }).click();
  // The open list shows a new version as soon as it is stored.
  const entry = a.page.locator(".doc-version", { hasText: "Ada" }).first();
  await entry.waitFor({ timeout: 25_000 });
  await a.page.getByRole("button", { name: "Versions" }).click(); // back to the editor

  // Bob deletes everything and writes something else.
  await editor(b, "notes").click();
  await b.page.keyboard.press("Control+a");
  await b.page.keyboard.press("Delete");
  await b.page.keyboard.type("Oops, all gone.", { delay: 5 });
  await waitText(a, "notes", "lost the text", (t) => t === "Oops, all gone.");

  // Ada restores the version: the deleted text is back, for Bob too.
  await a.page.getByRole("button", { name: "Versions" }).click();
  await entry.waitFor({ timeout: 10_000 });
  await entry.click();
  const preview = a.page.locator(".doc-version-text");
  await preview.waitFor({ timeout: 10_000 });
  assert.ok((await preview.textContent())?.includes(keep), "the preview shows the version's text");
  await a.page.getByRole("button", { name: "Restore" }).click();
  await waitText(a, "notes", "is the restored version", (t) => t === `${keep}\nSecond line.`);
  await waitText(b, "notes", "is the restored version", (t) => t === `${keep}\nSecond line.`);
}, 180_000);

e2e.test("notes: edits typed while the gateway is down arrive after it returns", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  for (const p of [a, b]) {
    await p.page.getByLabel("Your name").fill(p.name);
    await openDoc(p, "notes");
  }
  await moveTo(a, "notes");
  await a.page.keyboard.type("Before the outage.", { delay: 5 });
  await waitText(b, "notes", "has the first line", (t) => t === "Before the outage.");

  const restart = stack.restartGateway({ downMs: 5_000 });
  await poll("Ada's page notices the gateway is gone", async () => ((await a.page.evaluate(() => window.huddle.notes?.state)) !== "ready" ? true : undefined), 10_000);
  await moveTo(a, "notes");
  await a.page.keyboard.type("\nTyped during the outage.", { delay: 5 });
  await a.page.getByText("Offline. Your edits are kept here").waitFor({ timeout: 5_000 });
  assert.ok((await a.page.evaluate(() => window.huddle.notes?.notes?.pending ?? 0)) > 0, "the edit waits in the outbox");
  await restart;
  await waitText(b, "notes", "has the edit typed during the outage", (t) => t === "Before the outage.\nTyped during the outage.", 30_000);
  await poll("Ada's outbox is empty", async () => ((await a.page.evaluate(() => window.huddle.notes?.notes?.pending)) === 0 ? true : undefined), 15_000);
}, 180_000);

e2e.test("notes: edits that huddle-notes could not take survive a reload and are sent when it is back", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  for (const p of [a, b]) {
    await p.page.getByLabel("Your name").fill(p.name);
    await openDoc(p, "notes");
  }
  await moveTo(a, "notes");
  await a.page.keyboard.type("Stored line.", { delay: 5 });
  await waitText(b, "notes", "has the stored line", (t) => t === "Stored line.");

  await stack.killNotes();
  await moveTo(a, "notes");
  await a.page.keyboard.type("\nTyped while huddle-notes is down.", { delay: 5 });
  await poll("the edit waits unacknowledged", async () => ((await a.page.evaluate(() => window.huddle.notes?.notes?.pending ?? 0)) > 0 ? true : undefined), 5_000);
  await sleep(1_000); // let IndexedDB take the document and the outbox
  await a.page.reload({ timeout: 20_000 });
  // The reloaded page starts the documents by itself (edits are waiting) and shows them offline.
  await poll("the reloaded page holds the unsent edit", async () => ((await docText(a.page, "notes"))?.includes("Typed while huddle-notes is down.") ? true : undefined), 10_000);
  assert.ok((await a.page.evaluate(() => window.huddle.notes?.notes?.pending ?? 0)) > 0, "still unacknowledged after the reload");
  await stack.startNotes();
  await waitText(b, "notes", "has the edit typed before the reload", (t) => t === "Stored line.\nTyped while huddle-notes is down.", 30_000);
  await poll("Ada's outbox is empty", async () => ((await a.page.evaluate(() => window.huddle.notes?.notes?.pending)) === 0 ? true : undefined), 15_000);
  await openDoc(a, "notes");
  await waitText(a, "notes", "shows the whole text", (t) => t === "Stored line.\nTyped while huddle-notes is down.");
}, 180_000);

e2e.test("notes and code survive a restart of every daemon: a new visitor sees both", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  await a.page.getByLabel("Your name").fill("Ada");
  await openDoc(a, "notes");
  await moveTo(a, "notes");
  await a.page.keyboard.type("# Retro\n\nWhat went well: the demo.", { delay: 5 });
  await openDoc(a, "code");
  await a.page.getByLabel("Language").selectOption("go");
  await moveTo(a, "code");
  await a.page.keyboard.type("package main\n\nfunc main() {}", { delay: 5 });
  const notes = await waitText(a, "notes", "typed", (t) => t.endsWith("the demo."));
  const code = await waitText(a, "code", "typed", (t) => t.endsWith("func main() {}"));
  // Once the updates are acknowledged they are durable; leave the snapshot to the daemons' log.
  await poll("Ada's edits acknowledged", async () => ((await a.page.evaluate(() => (window.huddle.notes?.notes?.pending ?? 1) + (window.huddle.notes?.code?.pending ?? 1))) === 0 ? true : undefined), 15_000);

  await stack.restartAll();
  await sleep(500);

  const d = await open("Dee", `/m/${id}`);
  await openDoc(d, "notes");
  await waitText(d, "notes", "shows the notes", (t) => t === notes, 20_000);
  await openDoc(d, "code");
  await waitText(d, "code", "shows the code", (t) => t === code, 20_000);
  assert.equal(await d.page.getByLabel("Language").inputValue(), "go", "the language came with the document");
  // Ada's page reconnected by itself and still edits live.
  await moveTo(a, "code");
  await a.page.keyboard.type("\n// after the restart", { delay: 5 });
  await waitText(d, "code", "has Ada's new line", (t) => t.endsWith("// after the restart"), 30_000);
}, 240_000);
