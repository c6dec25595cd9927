// Screenshots of the web client (landing, pre-join, a 3-person call, the left
// screen) into tests/out/, against the in-process fake gateway, so the UI can
// be looked at without the C daemons:  npx tsx e2e/screenshots.ts
import { startFakeGateway } from "./fake-gateway.ts";
import { launchBrowser, openParticipant, joinThroughUi, screenshot, waitFramesFlowing, closeAll, poll, type Participant } from "./browser.ts";

const gw = await startFakeGateway(0);
const browser = await launchBrowser();
const parts: Participant[] = [];
try {
  const landing = await openParticipant(browser, "Landing", `${gw.url}/`, gw.url);
  parts.push(landing);
  await landing.page.getByRole("button", { name: "New meeting" }).waitFor();
  await screenshot(landing, "landing");
  await landing.page.getByRole("button", { name: "New meeting" }).click();
  await landing.page.waitForURL(/\/m\//);
  const meetingUrl = landing.page.url();
  await landing.page.getByLabel("Your name").fill("Ada Lovelace");
  await landing.page.waitForTimeout(1500);
  await screenshot(landing, "prejoin");
  landing.name = "Ada Lovelace";

  const bob = await openParticipant(browser, "Bob Stone", meetingUrl, gw.url);
  const cy = await openParticipant(browser, "Cy Young", meetingUrl, gw.url);
  parts.push(bob, cy);
  for (const p of parts) await joinThroughUi(p);
  for (const p of parts) {
    const ids = await poll("2 peers", async () => {
      const ids = await p.page.evaluate(() => [...window.huddle.peers.keys()]);
      return ids.length === 2 ? ids : undefined;
    }, 15000);
    await waitFramesFlowing(p, ids, 20000);
  }
  await cy.page.getByRole("button", { name: "Mute microphone" }).click();
  await bob.page.getByRole("button", { name: "Turn off camera" }).click();
  await landing.page.waitForTimeout(1500);
  await screenshot(landing, "call-3");
  await landing.page.getByRole("button", { name: "Settings" }).click();
  await landing.page.getByRole("dialog", { name: "Settings" }).waitFor();
  await landing.page.waitForTimeout(300);
  await screenshot(landing, "call-settings");
  console.log("microphones:", await landing.page.getByRole("dialog").getByLabel("Microphone").locator("option").allTextContents());
  await landing.page.getByRole("button", { name: "Done" }).click();
  await landing.page.getByRole("button", { name: "Share screen" }).click();
  await landing.page.waitForTimeout(2000);
  await screenshot(landing, "call-3-sharing-self");
  await screenshot(bob, "call-3-sharing-remote");
  await landing.page.getByRole("button", { name: "Copy link" }).click();
  await landing.page.getByText("Link copied").waitFor();
  await screenshot(landing, "call-3-copied");
  await bob.page.setViewportSize({ width: 390, height: 800 });
  await bob.page.waitForTimeout(500);
  await screenshot(bob, "call-mobile");
  gw.dropAll();
  await landing.page.getByText("Reconnecting…").waitFor({ timeout: 2000 }).catch(() => {});
  await screenshot(landing, "call-reconnecting");
  await landing.page.getByRole("button", { name: "Leave" }).click();
  await landing.page.getByText("You left the meeting").waitFor();
  await screenshot(landing, "left");
  const lost = await openParticipant(browser, "Lost", `${gw.url}/m/doesnotexist`, gw.url);
  parts.push(lost);
  await lost.page.getByText("doesn't exist").waitFor();
  await screenshot(lost, "unknown-meeting");
  const small = await browser.newContext({ viewport: { width: 390, height: 800 } });
  const sp = await small.newPage();
  await sp.goto(meetingUrl);
  await sp.waitForTimeout(1500);
  await screenshot(sp, "prejoin-mobile");
  await small.close();
} catch (e) {
  for (const p of parts) console.log(p.console.join("\n"));
  throw e;
} finally {
  await closeAll(parts);
  await browser.close();
  await gw.close();
}
console.log("screenshots in tests/out/");
