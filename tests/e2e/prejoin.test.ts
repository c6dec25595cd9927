// The pre-join setup check (web/src/ui/prejoin.ts), before joining: the
// microphone level meter follows the fake microphone (Chromium's fake
// device beeps), "Test speakers" plays its chime to the end, and "Check
// connection" gathers candidates with the meeting's ICE servers from the
// gateway (ice_servers) and reports a working relay through the test coturn.
import assert from "node:assert/strict";
import { useE2E } from "./suite.ts";
import { poll, screenshot, sleep } from "./browser.ts";

const e2e = useE2E({ coturn: true });

e2e.test("pre-join: microphone meter moves, Test speakers plays, Check connection reports relay OK", async ({ open, createMeeting }) => {
  const id = await createMeeting();
  const p = await open("Ada", `/m/${id}`);
  await p.page.getByLabel("Your name").waitFor({ timeout: 15_000 });

  // The meter follows the fake microphone: it leaves 0 and changes.
  const meter = p.page.getByRole("meter", { name: "Microphone level" });
  await meter.waitFor({ timeout: 10_000 });
  const seen = new Set<number>();
  await poll("the microphone meter to move", async () => {
    seen.add(Number(await meter.getAttribute("aria-valuenow")));
    const nonZero = [...seen].filter((v) => v > 0);
    return nonZero.length >= 2 ? [...seen] : undefined;
  }, 15_000, 50);
  // Muting the microphone drops it to 0.
  await p.page.getByRole("button", { name: "Mute microphone" }).click();
  await poll("the meter to fall to 0 when muted", async () => ((await meter.getAttribute("aria-valuenow")) === "0" ? true : undefined), 5_000);
  await p.page.getByRole("button", { name: "Unmute microphone" }).click();

  // Test speakers: the chime plays through (the audio element's time advances).
  await p.page.getByRole("button", { name: "Test speakers" }).click();
  const played = await poll("the test sound to have played", async () => {
    const v = await p.page.locator(".setup-status[data-played]").getAttribute("data-played").catch(() => null);
    return v === null ? undefined : Number(v);
  }, 10_000);
  assert.ok(played >= 0.8, `the chime played ${played} s`);

  // Check connection: relay works with the test coturn and the short-lived credentials.
  await p.page.getByRole("button", { name: "Check connection" }).click();
  const status = p.page.locator(".setup-status[data-relay]");
  await status.waitFor({ timeout: 20_000 });
  const text = (await status.textContent()) ?? "";
  assert.equal(await status.getAttribute("data-relay"), "true", `relay candidate gathered: "${text}"`);
  assert.match(text, /Relay: OK/);
  assert.equal(await status.getAttribute("data-direct"), "true", `a direct (host) candidate: "${text}"`);
  await sleep(200);
  await screenshot(p, "e2e-prejoin-check");
}, 120_000);
