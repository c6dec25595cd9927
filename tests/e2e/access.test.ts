// Hosts and access (issue 11) in real Chromium against the real stack: a
// professional creates a space on /dashboard with two meetings, mints a
// signed guest link per meeting there (Copy guest link), one client arrives
// through each link and waits; the professional admits one from the
// dashboard and the other from inside the meeting's Waiting room panel;
// both calls show video; raise-hand order and a reaction are seen by the
// other side; a host's Mute, Lower hand, Remove (the removed guest waits
// again on return), Make host and End meeting for all work; the chat works in a
// waiting-room call. Also: a forged join link gets the error page, a host
// turns the waiting room on and denies a guest, and a locked meeting refuses
// a newcomer.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { useE2E, participantId } from "./suite.ts";
import { poll, screenshot, waitFramesFlowing, type Participant } from "./browser.ts";

const e2e = useE2E({ gatewayEnv: { JOIN_TOKEN_SECRET: randomBytes(32).toString("hex") } });

// Screenshots worth looking at also go to HUDDLE_SCREENS_DIR when it is set
// (taken once the toasts are gone and the animations are over).
async function keepScreen(p: Participant, name: string): Promise<void> {
  await poll(`${p.name}: toasts gone`, async () => ((await p.page.locator(".toast").count()) === 0 ? true : undefined), 10_000);
  await p.page.evaluate(() => scrollTo(0, 0));
  await p.page.waitForTimeout(400);
  const file = await screenshot(p, name);
  const dir = process.env.HUDDLE_SCREENS_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    copyFileSync(file, join(dir, `${name}.png`));
  }
}

function meetingItem(page: Page, title: string): Locator {
  return page.getByRole("list", { name: "Meetings" }).getByRole("listitem", { name: title, exact: true });
}

// newMeeting fills the dashboard's New meeting form.
async function newMeeting(pro: Participant, title: string, startsAt: string): Promise<string> {
  await pro.page.getByLabel("Title", { exact: true }).fill(title);
  await pro.page.getByLabel("Starts at").fill(startsAt);
  await pro.page.getByRole("button", { name: "New meeting" }).click();
  const item = meetingItem(pro.page, title);
  await item.waitFor({ timeout: 10_000 });
  const id = await item.getAttribute("data-meeting-id");
  assert.ok(id, `${title}: no meeting id`);
  return id;
}

// guestLink mints a signed guest link for one client from the dashboard.
async function guestLink(pro: Participant, title: string, client: string): Promise<string> {
  const item = meetingItem(pro.page, title);
  await item.getByLabel("Client name").fill(client);
  await item.getByRole("button", { name: "Copy guest link" }).click();
  await pro.page.getByText(`Guest link for ${client} copied`).waitFor({ timeout: 10_000 });
  const url = await pro.page.evaluate(() => navigator.clipboard.readText());
  assert.equal(await item.getByLabel("Guest link").inputValue(), url);
  assert.match(url, /\/m\/[A-Za-z0-9_-]+#jwt=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  return url;
}

// askToJoin: a guest arriving through a signed link presses Ask to join and waits.
async function askToJoin(guest: Participant, name: string): Promise<void> {
  const nameBox = guest.page.getByLabel("Your name");
  await nameBox.waitFor({ timeout: 15_000 });
  assert.ok(!guest.page.url().includes("jwt"), `the token is stripped from the address bar: ${guest.page.url()}`);
  await poll(`${name}'s name from the link`, async () => ((await nameBox.inputValue()) === name ? true : undefined), 10_000);
  const ask = guest.page.getByRole("button", { name: "Ask to join", exact: true });
  await ask.waitFor({ timeout: 10_000 });
  if (name === "Ana") await keepScreen(guest, "prejoin-guest");
  await ask.click();
  await guest.page.getByRole("heading", { name: "Waiting for a host to let you in" }).waitFor({ timeout: 15_000 });
}

// joinAsHost opens a meeting's "Open as host" link (the space key in the
// fragment) in a fresh browser context and joins.
async function joinAsHost(open: (n: string, p: string) => Promise<Participant>, pro: Participant, title: string, name: string): Promise<Participant> {
  const href = await meetingItem(pro.page, title).getByRole("link", { name: "Open as host" }).getAttribute("href");
  assert.ok(href && /^\/m\/[A-Za-z0-9_-]+#host=/.test(href), `Open as host link: ${href}`);
  const host = await open(name, href);
  const nameBox = host.page.getByLabel("Your name");
  await nameBox.waitFor({ timeout: 15_000 });
  assert.ok(!host.page.url().includes("#host"), "the host key is stripped from the address bar");
  await nameBox.fill(name);
  await host.page.getByRole("button", { name: "Join now", exact: true }).click();
  await host.page.getByRole("button", { name: "Leave" }).waitFor({ timeout: 20_000 });
  await host.page.getByRole("button", { name: "Meeting settings" }).waitFor({ timeout: 5_000 });
  return host;
}

async function inCall(p: Participant): Promise<void> {
  await p.page.getByRole("button", { name: "Leave" }).waitFor({ timeout: 20_000 });
  await poll(`${p.name} in the call`, async () => ((await p.page.evaluate(() => window.huddle.state)) === "joined" ? true : undefined), 10_000);
}

function tile(p: Participant, id: string): Locator {
  return p.page.locator(`.tile[data-participant-id="${id}"]`);
}

async function raisedHands(p: Participant): Promise<string[]> {
  return p.page.getByRole("list", { name: "Raised hands" }).getByRole("listitem").allTextContents();
}

e2e.test(
  "dashboard of two meetings: guests by signed links wait, admitted from the dashboard and from the meeting; hands, reactions, moderation, end for all",
  async ({ open }) => {
    // The professional's space and two meetings.
    const pro = await open("Pro", "/dashboard");
    await pro.page.getByLabel("Space name").fill("Dr. Rivera's practice");
    await pro.page.getByRole("button", { name: "Create space" }).click();
    await pro.page.getByRole("button", { name: "Copy space key" }).waitFor({ timeout: 10_000 });
    const spaceKey = await pro.page.getByLabel("Space key", { exact: true }).inputValue();
    assert.ok(spaceKey.length >= 22, "a space key is shown once");
    assert.equal(await pro.page.evaluate(() => localStorage.getItem("huddle.spaceKey")), spaceKey);
    assert.ok(!pro.page.url().includes(spaceKey), "the space key is not in the address");
    const titleA = "Consultation: Ana";
    const titleB = "Consultation: Ben";
    const idA = await newMeeting(pro, titleA, "2026-12-07T09:30");
    const idB = await newMeeting(pro, titleB, "2026-12-07T10:30");
    assert.notEqual(idA, idB);
    assert.equal(await meetingItem(pro.page, titleA).getByText("Waiting room").count(), 1, "meetings of a space have a waiting room");

    // A client arrives through a signed link in each meeting and waits.
    const linkA = await guestLink(pro, titleA, "Ana");
    const linkB = await guestLink(pro, titleB, "Ben");
    const ana = await open("Ana", new URL(linkA).pathname + new URL(linkA).hash);
    const ben = await open("Ben", new URL(linkB).pathname + new URL(linkB).hash);
    await askToJoin(ana, "Ana");
    await askToJoin(ben, "Ben");
    await ana.page.getByText("No host has joined yet").waitFor({ timeout: 5_000 });
    await keepScreen(ana, "waiting");

    // The dashboard shows both waiting, live.
    const waitingRow = (title: string, name: string) => meetingItem(pro.page, title).getByRole("listitem", { name, exact: true });
    await waitingRow(titleA, "Ana").waitFor({ timeout: 10_000 });
    await waitingRow(titleB, "Ben").waitFor({ timeout: 10_000 });
    await pro.page.getByText("2 people are waiting").waitFor({ timeout: 5_000 });
    await pro.page.getByRole("button", { name: "Done" }).click(); // the space key card
    await keepScreen(pro, "dashboard");

    // Meeting B: the host comes in; the Waiting room panel opens by itself
    // with Ben; Admit there starts Ben's call.
    const hostB = await joinAsHost(open, pro, titleB, "Dr. Rivera");
    await ben.page.getByText("No host has joined yet").waitFor({ state: "hidden", timeout: 10_000 });
    const panel = hostB.page.getByRole("region", { name: "Waiting room" });
    await panel.waitFor({ timeout: 10_000 });
    const benRow = panel.getByRole("listitem", { name: "Ben", exact: true });
    await benRow.waitFor({ timeout: 10_000 });
    await keepScreen(hostB, "host-panel");
    await benRow.getByRole("button", { name: "Admit", exact: true }).click();
    await inCall(ben);
    await benRow.waitFor({ state: "detached", timeout: 10_000 });

    // Meeting A: admitted from the dashboard, before any host is in.
    await waitingRow(titleA, "Ana").getByRole("button", { name: "Admit", exact: true }).click();
    await inCall(ana);
    await waitingRow(titleA, "Ana").waitFor({ state: "detached", timeout: 10_000 });
    await meetingItem(pro.page, titleA).getByText("Ana", { exact: true }).first().waitFor({ timeout: 10_000 });
    const hostA = await joinAsHost(open, pro, titleA, "Dr. Rivera (A)");

    // Both calls show video, both ways.
    const [pAna, pBen, pHostA, pHostB] = await Promise.all([ana, ben, hostA, hostB].map(participantId));
    await Promise.all([
      waitFramesFlowing(ana, [pHostA], 30_000),
      waitFramesFlowing(hostA, [pAna], 30_000),
      waitFramesFlowing(ben, [pHostB], 30_000),
      waitFramesFlowing(hostB, [pBen], 30_000),
    ]);
    // The chat of a waiting-room meeting works in the call (on the call's
    // admitted connection).
    await ben.page.getByRole("button", { name: "Show chat" }).click();
    await ben.page.getByRole("textbox", { name: "Send a message to everyone" }).fill("Hello doctor");
    await ben.page.getByRole("button", { name: "Send message" }).click();
    await hostB.page.getByRole("button", { name: "Show chat (1 unread)" }).click({ timeout: 10_000 });
    await hostB.page.locator(".chat-list").getByText("Hello doctor").waitFor({ timeout: 10_000 });
    await hostB.page.getByRole("button", { name: "Hide chat" }).click();
    // So do the shared notes: the host types, Ben's copy follows.
    await hostB.page.getByRole("button", { name: "Notes", exact: true }).click();
    await poll("host B's notes loaded", async () => ((await hostB.page.evaluate(() => window.huddle.notes?.state === "ready" && window.huddle.notes?.notes?.loaded)) ? true : undefined), 20_000);
    await hostB.page.getByRole("textbox", { name: "Meeting notes" }).click();
    await hostB.page.keyboard.type("Agenda: results", { delay: 5 });
    await ben.page.getByRole("button", { name: "Notes", exact: true }).click();
    await poll("Ben's notes show the host's text", async () => ((await ben.page.evaluate(() => window.huddle.notes?.notes?.text)) === "Agenda: results" ? true : undefined), 20_000);
    await hostB.page.getByRole("button", { name: "Notes", exact: true }).click();
    await ben.page.getByRole("button", { name: "Notes", exact: true }).click();

    // The dashboard shows who is in each call.
    await meetingItem(pro.page, titleB).getByText("Ben", { exact: true }).first().waitFor({ timeout: 10_000 });

    // Raise hand: Ben first, then the host; both see Ben on top.
    await ben.page.getByRole("button", { name: "Raise hand" }).click();
    await ben.page.getByRole("button", { name: "Lower hand" }).waitFor({ timeout: 5_000 });
    await tile(hostB, pBen).getByRole("img", { name: "Hand raised" }).waitFor({ timeout: 10_000 });
    await hostB.page.getByRole("button", { name: "Raise hand" }).click();
    await poll("host B sees two hands, Ben first", async () => {
      const h = await raisedHands(hostB);
      return h.length === 2 && h[0].includes("Ben") && h[1].includes("(You)") ? true : undefined;
    }, 10_000);
    await poll("Ben sees two hands, his first", async () => {
      const h = await raisedHands(ben);
      return h.length === 2 && h[0].includes("Ben (You)") && h[1].includes("Dr. Rivera") ? true : undefined;
    }, 10_000);
    await keepScreen(hostB, "hands");

    // A reaction floats over the sender's tile on the other side.
    await ben.page.getByRole("button", { name: "Reactions" }).click();
    await ben.page.getByRole("button", { name: "React with 🎉" }).click();
    await tile(hostB, pBen).locator(".reaction", { hasText: "🎉" }).waitFor({ timeout: 10_000 });
    await screenshot(hostB, "access-reaction");

    // The host's tile menu: Lower hand, then Mute.
    const moreBen = hostB.page.getByRole("button", { name: "More options for Ben" });
    await moreBen.click();
    await hostB.page.getByRole("menu", { name: "Options for Ben" }).waitFor();
    await keepScreen(hostB, "tile-menu");
    await hostB.page.getByRole("menuitem", { name: "Lower hand" }).click();
    await ben.page.getByRole("button", { name: "Raise hand" }).waitFor({ timeout: 10_000 });
    await poll("one hand left on Ben's side", async () => ((await raisedHands(ben)).length === 1 ? true : undefined), 10_000);
    await hostB.page.getByRole("button", { name: "Lower hand" }).click();
    await hostB.page.getByRole("list", { name: "Raised hands" }).waitFor({ state: "hidden", timeout: 10_000 });
    await moreBen.click();
    await hostB.page.getByRole("menuitem", { name: "Mute" }).click();
    await ben.page.getByText("A host muted you").waitFor({ timeout: 10_000 });
    await ben.page.getByRole("button", { name: "Unmute microphone" }).waitFor({ timeout: 5_000 });
    await tile(hostB, pBen).getByRole("img", { name: "Microphone muted" }).waitFor({ state: "visible", timeout: 10_000 });
    // The guest may turn it back on.
    await ben.page.getByRole("button", { name: "Unmute microphone" }).click();
    await tile(hostB, pBen).getByRole("img", { name: "Microphone muted" }).waitFor({ state: "hidden", timeout: 10_000 });

    // Remove: Ana sees the removed page; on return she waits again, and the
    // host's Waiting room opens with her.
    await hostA.page.getByRole("button", { name: "More options for Ana" }).click();
    await hostA.page.getByRole("menuitem", { name: "Remove", exact: true }).click();
    await ana.page.getByRole("heading", { name: "You were removed from the meeting" }).waitFor({ timeout: 10_000 });
    await tile(hostA, pAna).waitFor({ state: "detached", timeout: 10_000 });
    await keepScreen(ana, "removed");
    await ana.page.getByRole("button", { name: "Rejoin" }).click();
    await ana.page.getByRole("heading", { name: "Waiting for a host to let you in" }).waitFor({ timeout: 15_000 });
    const panelA = hostA.page.getByRole("region", { name: "Waiting room" });
    await panelA.getByRole("listitem", { name: "Ana", exact: true }).waitFor({ timeout: 10_000 });
    await panelA.getByRole("button", { name: "Admit all" }).click();
    await inCall(ana);
    const pAna2 = await participantId(ana);
    await waitFramesFlowing(hostA, [pAna2], 30_000);
    // Make host: Ana is told and gets the host's controls.
    await hostA.page.getByRole("button", { name: "More options for Ana" }).click();
    await hostA.page.getByRole("menuitem", { name: "Make host" }).click();
    await ana.page.getByText("You are now a host").waitFor({ timeout: 10_000 });
    await ana.page.getByRole("button", { name: "Meeting settings" }).waitFor({ timeout: 10_000 });
    await tile(hostA, pAna2).getByText("Host", { exact: true }).waitFor({ timeout: 10_000 });

    // End meeting for all (meeting B): Ben and the host see the end page.
    await hostB.page.getByRole("button", { name: "Meeting settings" }).click();
    const dialog = hostB.page.getByRole("dialog", { name: "Meeting settings" });
    await dialog.waitFor();
    assert.equal(await dialog.getByRole("switch", { name: "Waiting room" }).isChecked(), true);
    assert.equal(await dialog.getByRole("switch", { name: "Lock meeting" }).isChecked(), false);
    await keepScreen(hostB, "meeting-settings");
    await dialog.getByRole("button", { name: "End meeting for all" }).click();
    await dialog.getByRole("button", { name: "End for everyone" }).click();
    await ben.page.getByRole("heading", { name: "The host ended the meeting for everyone" }).waitFor({ timeout: 10_000 });
    await keepScreen(ben, "ended");
    await hostB.page.getByRole("heading", { name: "The host ended the meeting for everyone" }).waitFor({ timeout: 10_000 });
    await poll("meeting B's call is empty on the dashboard", async () =>
      (await meetingItem(pro.page, titleB).getByText("Nobody yet").count()) === 1 ? true : undefined, 10_000);
  },
  300_000,
);

e2e.test("a forged join link gets the error page; waiting room on, a guest denied, admitted, removed and blocked; a locked meeting refuses a newcomer", async ({ open }) => {
  // A meeting made on the landing page: its creator is its host.
  const host = await open("Host", "/");
  await host.page.getByRole("button", { name: "New meeting" }).click();
  await host.page.waitForURL(/\/m\/[A-Za-z0-9_-]{16,}$/, { timeout: 10_000 });
  const id = /\/m\/([A-Za-z0-9_-]+)$/.exec(new URL(host.page.url()).pathname)![1];
  assert.ok(await host.page.evaluate((m) => localStorage.getItem(`huddle.hostKey.${m}`), id), "the creator's browser keeps the host key");
  await host.page.getByLabel("Your name").fill("Host");
  await host.page.getByRole("button", { name: "Join now", exact: true }).click();
  await host.page.getByRole("button", { name: "Meeting settings" }).waitFor({ timeout: 20_000 });

  // A token signed with another key.
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const forged = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ room: id, name: "Mallory", role: "host", exp: Math.floor(Date.now() / 1000) + 600 })}.${randomBytes(32).toString("base64url")}`;
  const mallory = await open("Mallory", `/m/${id}?jwt=${forged}`);
  const nameBox = mallory.page.getByLabel("Your name");
  await nameBox.waitFor({ timeout: 15_000 });
  assert.ok(!mallory.page.url().includes("jwt"), "?jwt= is removed from the address bar");
  await mallory.page.getByRole("button", { name: "Join now", exact: true }).click();
  await mallory.page.getByRole("heading", { name: "This join link cannot be used" }).waitFor({ timeout: 15_000 });

  // Waiting room on: a guest asks to join, the host denies.
  await host.page.getByRole("button", { name: "Meeting settings" }).click();
  const dialog = host.page.getByRole("dialog", { name: "Meeting settings" });
  await dialog.getByRole("switch", { name: "Waiting room" }).check();
  await poll("the waiting room is on", async () => ((await dialog.getByRole("switch", { name: "Waiting room" }).isEnabled()) ? true : undefined), 5_000);
  await dialog.getByRole("button", { name: "Done" }).click();
  const gil = await open("Gil", `/m/${id}`);
  await gil.page.getByLabel("Your name").fill("Gil");
  await gil.page.getByRole("button", { name: "Ask to join", exact: true }).click();
  await gil.page.getByRole("heading", { name: "Waiting for a host to let you in" }).waitFor({ timeout: 15_000 });
  await gil.page.getByText("No host has joined yet").waitFor({ state: "hidden", timeout: 5_000 });
  const gilRow = host.page.getByRole("region", { name: "Waiting room" }).getByRole("listitem", { name: "Gil", exact: true });
  await gilRow.getByRole("button", { name: "Deny", exact: true }).click({ timeout: 10_000 });
  await gil.page.getByRole("heading", { name: "A host did not let you in" }).waitFor({ timeout: 10_000 });
  // He asks again and is let in; then Remove and block: a return is refused.
  await gil.page.getByRole("button", { name: "Ask to join again" }).click();
  await gil.page.getByRole("heading", { name: "Waiting for a host to let you in" }).waitFor({ timeout: 15_000 });
  await gilRow.getByRole("button", { name: "Admit", exact: true }).click({ timeout: 10_000 });
  await inCall(gil);
  await host.page.getByRole("button", { name: "More options for Gil" }).click();
  await host.page.getByRole("menuitem", { name: "Remove and block" }).click();
  await gil.page.getByRole("heading", { name: "You were removed from the meeting" }).waitFor({ timeout: 10_000 });
  await gil.page.getByText("A host blocked you from joining this meeting again.").waitFor();
  await gil.page.goto(`${new URL(gil.page.url()).origin}/m/${id}`);
  await gil.page.getByRole("button", { name: "Ask to join", exact: true }).click({ timeout: 15_000 });
  await gil.page.getByRole("heading", { name: "You can't join this meeting" }).waitFor({ timeout: 15_000 });

  // Lock meeting: a newcomer without a key gets the locked page.
  await host.page.getByRole("button", { name: "Meeting settings" }).click();
  await dialog.getByRole("switch", { name: "Lock meeting" }).check();
  await poll("the meeting is locked", async () => ((await dialog.getByRole("switch", { name: "Lock meeting" }).isChecked()) ? true : undefined), 5_000);
  await dialog.getByRole("button", { name: "Done" }).click();
  const late = await open("Late", `/m/${id}`);
  await late.page.getByLabel("Your name").fill("Late");
  await late.page.getByRole("button", { name: "Join now", exact: true }).click();
  await late.page.getByRole("heading", { name: "This meeting is locked" }).waitFor({ timeout: 15_000 });
});
