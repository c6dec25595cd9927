// The meeting chat in the browser, against the real daemons (huddle-chat
// included): two participants in a call chat both ways (sender names, the
// unread badge while the panel is closed, links, Shift+Enter, the byte limit),
// a visitor on the pre-join page reads and posts without joining, markup is
// shown as text, a participant whose chat connection was down reads what
// she missed once it is back, a post made while huddle-chat is down is shown pending and
// stored once when it comes back; then every daemon is stopped and started
// again, and the link opened in a new browser context shows the whole history
// in order (scrolling up pages in the older messages) and can post, and the
// others receive that post.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { useE2E } from "./suite.ts";
import { joinThroughUi, poll, screenshot, sleep, type Participant } from "./browser.ts";
import { connect } from "../lib/client.ts";
import { create, ChatPostRequestSchema, ChatSubscribeRequestSchema } from "../../web/src/proto.ts";

const e2e = useE2E();

const XSS = "<img src=x onerror=alert(1)>";
const LINK = "https://example.com/docs?page=2";
const SEEDED = 60; // more than one history page (50), so the newcomer has to scroll up

interface Shown {
  sender: string;
  text: string;
}

// shownMessages: the acknowledged messages in the chat list, in order, with
// the sender name of their group.
function shownMessages(page: Page): Promise<Shown[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll(".chat-list .chat-group")].flatMap((g) => {
      const sender = g.querySelector(".chat-sender")?.textContent ?? "";
      return [...g.querySelectorAll(".chat-msg:not([data-pending]) .chat-text")].map((t) => ({ sender, text: t.textContent ?? "" }));
    }),
  );
}

async function waitShown(p: Participant, want: Shown, timeoutMs = 15_000): Promise<void> {
  await poll(
    `${p.name} shows ${want.sender}: ${JSON.stringify(want.text)}`,
    async () => ((await shownMessages(p.page)).some((m) => m.sender === want.sender && m.text === want.text) ? true : undefined),
    timeoutMs,
  );
}

function composer(p: Participant) {
  return p.page.getByRole("textbox", { name: "Send a message to everyone" });
}

async function send(p: Participant, text: string): Promise<void> {
  const box = composer(p);
  await box.fill(text);
  await box.press("Enter");
  assert.equal(await box.inputValue(), "", `${p.name}: Enter sent the message and cleared the box`);
}

function badge(p: Participant) {
  return p.page.locator(".chat-toggle .ctl-badge");
}

async function chatReady(p: Participant): Promise<void> {
  await poll(`${p.name}: chat ready`, async () => ((await p.page.evaluate(() => window.huddle.chat?.state)) === "ready" ? true : undefined), 30_000);
}

e2e.test("chat: call and visitor chat both ways, text stays text, history survives a restart of every daemon", async ({ stack, open, createMeeting }) => {
  assert.ok(stack.hasChat, "huddle-chat must be built for the chat browser test");
  const id = await createMeeting();

  // Earlier conversation, posted through the gateway by a plain client.
  const seeded: Shown[] = [];
  {
    const c = await connect(stack.wsUrl, "seeder");
    await c.call({ case: "chatSubscribe", value: create(ChatSubscribeRequestSchema, { meetingId: id }) }, "chatSubscribe");
    for (let i = 1; i <= SEEDED; i++) {
      const text = `earlier message ${i}`;
      await c.call({ case: "chatPost", value: create(ChatPostRequestSchema, { clientMessageId: `seed-${i}`, text, senderName: "Earlier Eve" }) }, "chatPost");
      seeded.push({ sender: "Earlier Eve", text });
    }
    await c.close();
  }

  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  const v = await open("Vic", `/m/${id}`); // the visitor: never joins the call
  const dialogs: string[] = [];
  for (const p of [a, b, v]) p.page.on("dialog", (d) => (dialogs.push(`${p.name}: ${d.message()}`), void d.dismiss()));

  // The visitor's page shows the chat (latest page) before anyone joins.
  await chatReady(v);
  await waitShown(v, seeded[SEEDED - 1]);
  assert.equal((await shownMessages(v.page)).length, 50, "the first page holds the latest 50 messages");

  await joinThroughUi(a);
  await joinThroughUi(b);
  await chatReady(a);
  await chatReady(b);

  // Ada opens the chat and writes; Bob's panel is closed, his badge counts.
  assert.equal(await badge(b).isHidden(), true, "no badge before any new message");
  await a.page.getByRole("button", { name: "Show chat" }).click();
  await send(a, "Hello Bob, can you hear me?");
  await waitShown(a, { sender: "Ada", text: "Hello Bob, can you hear me?" });
  await poll("Bob's badge says 1", async () => ((await badge(b).isVisible()) && (await badge(b).textContent()) === "1" ? true : undefined), 10_000);
  await b.page.getByRole("button", { name: "Show chat (1 unread)" }).waitFor();
  await send(a, `The notes are at ${LINK}.`);
  await poll("Bob's badge says 2", async () => ((await badge(b).textContent()) === "2" ? true : undefined), 10_000);
  await screenshot(b, "e2e-chat-unread-badge");
  const link = a.page.locator(`.chat-list a[href="${LINK}"]`);
  await link.waitFor();
  assert.equal(await link.textContent(), LINK, "the URL is the link text (without the sentence's full stop)");
  assert.equal(await link.getAttribute("target"), "_blank");
  assert.equal(await link.getAttribute("rel"), "noopener noreferrer");

  // Bob opens the panel: the badge goes, Ada's messages are there under her name.
  await b.page.getByRole("button", { name: "Show chat (2 unread)" }).click();
  assert.equal(await badge(b).isHidden(), true, "the badge is gone once the panel is open");
  await waitShown(b, { sender: "Ada", text: "Hello Bob, can you hear me?" });
  await waitShown(b, { sender: "Ada", text: `The notes are at ${LINK}.` });
  // Shift+Enter is a new line, Enter sends.
  const box = composer(b);
  await box.click();
  await box.pressSequentially("Loud and clear.");
  await box.press("Shift+Enter");
  await box.pressSequentially("Second line.");
  await box.press("Enter");
  const twoLines = "Loud and clear.\nSecond line.";
  await waitShown(a, { sender: "Bob", text: twoLines });
  await waitShown(b, { sender: "Bob", text: twoLines });

  // The byte limit: 4,097 bytes cannot be sent and the counter says why.
  await box.fill("é".repeat(2048) + "x"); // 4097 bytes in UTF-8
  await b.page.getByText("Too long: 4097 of 4096 bytes").waitFor();
  assert.equal(await b.page.getByRole("button", { name: "Send message" }).isDisabled(), true);
  await box.fill("");

  // The visitor reads everything and writes with the name from the name field.
  await waitShown(v, { sender: "Bob", text: twoLines });
  await v.page.getByText("Enter your name to send messages.").waitFor();
  await v.page.getByLabel("Your name").fill("Vic");
  await send(v, "Hi all, I'm only in the lobby.");
  for (const p of [a, b, v]) await waitShown(p, { sender: "Vic", text: "Hi all, I'm only in the lobby." });
  assert.equal(await v.page.evaluate(() => window.huddle.state), "prejoin", "the visitor never joined the call");

  // Markup is text: shown literally, no <img> in the list, no dialog.
  await send(v, XSS);
  for (const p of [a, b, v]) {
    await waitShown(p, { sender: "Vic", text: XSS });
    assert.equal(await p.page.locator(".chat-panel img").count(), 0, `${p.name}: no img element in the chat`);
  }

  // Ada's chat connection drops and cannot come back while Bob posts twice:
  // when it does, she reads what she missed (after_seq pages), each once.
  await a.context.setOffline(true);
  await a.page.evaluate(() => window.huddle.chatClient?.dropConnection());
  await poll("Ada's chat is disconnected", async () => ((await a.page.evaluate(() => window.huddle.chat?.state)) !== "ready" ? true : undefined), 5_000);
  await send(b, "Missed one");
  await send(b, "Missed two");
  await waitShown(b, { sender: "Bob", text: "Missed two" });
  await sleep(1000);
  assert.equal((await shownMessages(a.page)).some((m) => m.text === "Missed one"), false, "Ada was really offline");
  await a.context.setOffline(false);
  await waitShown(a, { sender: "Bob", text: "Missed two" }, 20_000);
  await waitShown(a, { sender: "Bob", text: "Missed one" });

  await screenshot(b, "e2e-chat-call-open");
  await screenshot(v, "e2e-chat-prejoin");

  // huddle-chat down: Ada's post waits as "Sending…", then is stored once.
  await stack.killChat({ signal: "SIGKILL" });
  await send(a, "Posted while the chat service was down");
  await a.page.locator(".chat-pending").getByText(/Sending…|retrying/).waitFor({ timeout: 10_000 });
  await screenshot(a, "e2e-chat-pending");
  await stack.startChat();
  await waitShown(a, { sender: "Ada", text: "Posted while the chat service was down" }, 40_000);
  await waitShown(b, { sender: "Ada", text: "Posted while the chat service was down" }, 40_000);
  await poll("Ada has nothing pending", async () => ((await a.page.evaluate(() => window.huddle.chat?.pending)) === 0 ? true : undefined), 10_000);

  const expected: Shown[] = [
    ...seeded,
    { sender: "Ada", text: "Hello Bob, can you hear me?" },
    { sender: "Ada", text: `The notes are at ${LINK}.` },
    { sender: "Bob", text: twoLines },
    { sender: "Vic", text: "Hi all, I'm only in the lobby." },
    { sender: "Vic", text: XSS },
    { sender: "Bob", text: "Missed one" },
    { sender: "Bob", text: "Missed two" },
    { sender: "Ada", text: "Posted while the chat service was down" },
  ];
  const seqsOf = (p: Participant) => p.page.evaluate(() => window.huddle.chat?.messages.map((m) => m.seq) ?? []);
  for (const p of [a, b]) {
    const seqs = await seqsOf(p);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), `${p.name}: each message once, in seq order`);
  }

  // Every daemon stops and starts again.
  await stack.restartAll();

  // The link in a new browser context: the whole history, in order.
  const c = await open("Cy", `/m/${id}`);
  c.page.on("dialog", (d) => (dialogs.push(`Cy: ${d.message()}`), void d.dismiss()));
  await chatReady(c);
  await waitShown(c, expected[expected.length - 1]);
  // Scroll up until the oldest message is in (each time at the top loads a page).
  await poll(
    "Cy scrolled up to the first message",
    async () => {
      await c.page.evaluate(() => {
        const s = document.querySelector(".chat-page .chat-scroll");
        if (s) {
          s.scrollTop = 0;
          s.dispatchEvent(new Event("scroll"));
        }
      });
      const shown = await shownMessages(c.page);
      return shown.length >= expected.length ? shown : undefined;
    },
    20_000,
    300,
  );
  assert.deepEqual(await shownMessages(c.page), expected, "the new page shows the whole history, in order");
  assert.equal(await c.page.locator(".chat-panel img").count(), 0);
  await screenshot(c, "e2e-chat-after-restart");

  // Cy posts; Ada, Bob and the visitor get it after their own reconnects.
  await c.page.getByLabel("Your name").fill("Cy");
  await send(c, "Back after the restart");
  for (const p of [c, a, b, v]) await waitShown(p, { sender: "Cy", text: "Back after the restart" }, 40_000);
  for (const p of [a, b, v, c]) {
    const seqs = await seqsOf(p);
    assert.deepEqual(seqs, [...new Set(seqs)].sort((x, y) => x - y), `${p.name}: each message once, in seq order`);
  }
  const tail = (await shownMessages(a.page)).slice(-(expected.length - SEEDED + 1));
  assert.deepEqual(tail, [...expected.slice(SEEDED), { sender: "Cy", text: "Back after the restart" }], "Ada's list ends with the conversation, in order");
  assert.deepEqual(dialogs, [], "no dialog opened (the markup was never run)");
}, 240_000);
