// Own messages and the chat after Leave, in the browser against the real
// daemons: a page's own posts stay marked as its own ("chat-own") after a
// reload, also when they are on an older history page (the client_message_ids
// are remembered in localStorage), and another participant's are not; after
// Leave, the "You left the meeting" screen shows the meeting's chat (history)
// and can post, and the others receive that post.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { useE2E } from "./suite.ts";
import { joinThroughUi, poll, screenshot, type Participant } from "./browser.ts";
import { connect } from "../lib/client.ts";
import { create, ChatPostRequestSchema, ChatSubscribeRequestSchema } from "../../web/src/proto.ts";

const e2e = useE2E();

const FILLER = 55; // more than one history page (50): the earlier posts are on an older page

interface Shown {
  sender: string;
  text: string;
  own: boolean;
}

// shownMessages: the acknowledged messages in the chat list shown in panel
// (a CSS selector), in order, with their group's sender and whether the
// group is marked as this page's own.
function shownMessages(page: Page, panel: string): Promise<Shown[]> {
  return page.evaluate(
    (panel) =>
      [...document.querySelectorAll(`${panel} .chat-list .chat-group`)].flatMap((g) => {
        const sender = g.querySelector(".chat-sender")?.textContent ?? "";
        const own = g.classList.contains("chat-own");
        return [...g.querySelectorAll(".chat-msg:not([data-pending]) .chat-text")].map((t) => ({ sender, text: t.textContent ?? "", own }));
      }),
    panel,
  );
}

async function waitShown(p: Participant, panel: string, text: string, timeoutMs = 15_000): Promise<Shown> {
  return poll(`${p.name} shows ${JSON.stringify(text)}`, async () => (await shownMessages(p.page, panel)).find((m) => m.text === text), timeoutMs);
}

async function send(p: Participant, text: string): Promise<void> {
  const box = p.page.getByRole("textbox", { name: "Send a message to everyone" });
  await box.fill(text);
  await box.press("Enter");
  assert.equal(await box.inputValue(), "", `${p.name}: Enter sent the message`);
}

async function chatReady(p: Participant): Promise<void> {
  await poll(`${p.name}: chat ready`, async () => ((await p.page.evaluate(() => window.huddle.chat?.state)) === "ready" ? true : undefined), 30_000);
}

async function nothingPending(p: Participant): Promise<void> {
  await poll(`${p.name}: nothing pending`, async () => ((await p.page.evaluate(() => window.huddle.chat?.pending)) === 0 ? true : undefined), 15_000);
}

e2e.test("chat: own messages stay own after a reload; the left screen shows the chat and can post", async ({ stack, open, createMeeting }) => {
  assert.ok(stack.hasChat, "huddle-chat must be built for the chat browser test");
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  await chatReady(a);
  await chatReady(b);

  // Both post from the pre-join page.
  await a.page.getByLabel("Your name").fill("Ada");
  await b.page.getByLabel("Your name").fill("Bob");
  await send(a, "Ada before the reload");
  await nothingPending(a);
  await send(b, "Bob before the reload");
  await nothingPending(b);
  await waitShown(a, ".chat-page", "Bob before the reload");
  assert.deepEqual(
    (await shownMessages(a.page, ".chat-page")).map((m) => [m.text, m.own]),
    [["Ada before the reload", true], ["Bob before the reload", false]],
    "before the reload: Ada's post is hers, Bob's is not",
  );

  // Enough later messages that the two posts end up on an older history page.
  {
    const c = await connect(stack.wsUrl, "filler");
    await c.call({ case: "chatSubscribe", value: create(ChatSubscribeRequestSchema, { meetingId: id }) }, "chatSubscribe");
    for (let i = 1; i <= FILLER; i++) {
      await c.call({ case: "chatPost", value: create(ChatPostRequestSchema, { clientMessageId: `filler-${i}`, text: `filler ${i}`, senderName: "Filler" }) }, "chatPost");
    }
    await c.close();
  }

  // Ada reloads: the latest page first, then scroll up to the older one.
  await a.page.reload({ timeout: 20_000 });
  await chatReady(a);
  await waitShown(a, ".chat-page", `filler ${FILLER}`);
  assert.equal((await shownMessages(a.page, ".chat-page")).some((m) => m.text === "Ada before the reload"), false, "Ada's post is on an older page");
  await poll(
    "Ada scrolled up to her post",
    async () => {
      await a.page.evaluate(() => {
        const s = document.querySelector(".chat-page .chat-scroll");
        if (s) {
          s.scrollTop = 0;
          s.dispatchEvent(new Event("scroll"));
        }
      });
      return (await shownMessages(a.page, ".chat-page")).some((m) => m.text === "Ada before the reload") ? true : undefined;
    },
    20_000,
    300,
  );
  const afterReload = await shownMessages(a.page, ".chat-page");
  assert.deepEqual(afterReload.find((m) => m.text === "Ada before the reload"), { sender: "Ada", text: "Ada before the reload", own: true }, "after the reload Ada's post is still hers");
  assert.deepEqual(afterReload.find((m) => m.text === "Bob before the reload"), { sender: "Bob", text: "Bob before the reload", own: false }, "Bob's post is not Ada's");
  assert.equal(afterReload.filter((m) => m.own).length, 1, "only Ada's post is marked own");

  // Both join; Ada leaves: the left screen shows the chat's history and posts.
  await joinThroughUi(a);
  await joinThroughUi(b);
  await a.page.getByRole("button", { name: "Leave" }).click();
  await a.page.getByRole("heading", { name: "You left the meeting" }).waitFor({ timeout: 10_000 });
  const left = ".left-page .chat-page";
  await a.page.locator(left).waitFor({ timeout: 5_000 });
  await waitShown(a, left, `filler ${FILLER}`);
  await send(a, "Written after leaving");
  assert.deepEqual(await waitShown(a, left, "Written after leaving"), { sender: "Ada", text: "Written after leaving", own: true });
  await nothingPending(a);
  await b.page.getByRole("button", { name: /^Show chat/ }).click();
  assert.deepEqual(await waitShown(b, ".chat-call", "Written after leaving"), { sender: "Ada", text: "Written after leaving", own: false }, "Bob, in the call, gets it");
  assert.equal(await a.page.locator(".chat-panel img").count(), 0);
  await screenshot(a, "e2e-chat-left");

  // Rejoin still works, and the call's chat panel has the post.
  await a.page.getByRole("button", { name: "Rejoin" }).click();
  await a.page.getByRole("button", { name: "Leave" }).waitFor({ timeout: 20_000 });
  await a.page.getByRole("button", { name: /^Show chat/ }).click();
  assert.equal((await waitShown(a, ".chat-call", "Written after leaving")).own, true);
}, 180_000);
