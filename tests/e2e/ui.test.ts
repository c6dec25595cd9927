// The call UI: New meeting from the landing page, pre-join, screen sharing
// beside the camera (button and the browser's own stop), mute / camera state on the other
// participant's tile, switching the microphone mid-call, Copy link with its toast, Leave -> the left screen,
// Rejoin, leave on pagehide, and the unknown-meeting page.
import assert from "node:assert/strict";
import { useE2E, participantId } from "./suite.ts";
import { joinThroughUi, poll, screenshot, waitFramesFlowing } from "./browser.ts";
import type { Page } from "playwright-core";

const e2e = useE2E();

// The label of the track each page's camera sender (its first video
// transceiver) sends.
function videoSenderTracks(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...window.huddle.peers.values()].map((pc) => {
      const t = pc.getTransceivers().find((tr) => tr.receiver.track.kind === "video")?.sender.track;
      return t ? t.label : "(none)";
    }),
  );
}

// The labels of every video track a page sends, per peer connection.
function allVideoSent(page: Page): Promise<string[][]> {
  return page.evaluate(() =>
    [...window.huddle.peers.values()].map((pc) =>
      pc
        .getSenders()
        .filter((snd) => snd.track?.kind === "video" && snd.track.readyState === "live")
        .map((snd) => snd.track!.label),
    ),
  );
}

e2e.test("landing -> New meeting -> pre-join; unknown meeting shows a message", async ({ open }) => {
  const home = await open("Home", "/");
  await home.page.getByRole("button", { name: "New meeting" }).click();
  await home.page.waitForURL(/\/m\/[A-Za-z0-9_-]{16,}$/, { timeout: 10_000 });
  await home.page.getByLabel("Your name").waitFor();
  await home.page.getByRole("button", { name: "Join now", exact: true }).waitFor();
  for (const label of ["Microphone", "Camera"]) {
    const picker = home.page.getByLabel(label, { exact: true });
    await poll(`${label} picker lists a device`, async () => ((await picker.locator("option").count()) >= 1 && (await picker.isEnabled()) ? true : undefined), 10_000);
  }
  await screenshot(home, "e2e-prejoin");
  const lost = await open("Lost", "/m/AAAAAAAAAAAAAAAAAAAAAA");
  await lost.page.getByText("This meeting doesn't exist").waitFor({ timeout: 10_000 });
  await lost.page.getByRole("link", { name: /home/i }).waitFor();
  await screenshot(lost, "e2e-unknown-meeting");
});

e2e.test("screen share, mute and camera state, copy link, leave and rejoin", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const a = await open("Ada", `/m/${id}`);
  const b = await open("Bob", `/m/${id}`);
  await joinThroughUi(a);
  await joinThroughUi(b);
  const idA = await participantId(a);
  const idB = await participantId(b);
  await waitFramesFlowing(b, [idA], 30_000);
  const tileOfA = b.page.locator(`.tile[data-participant-id="${idA}"]`);
  await tileOfA.waitFor();
  assert.equal(await tileOfA.getAttribute("aria-label"), "Ada");

  // Mute: Ada's tile on Bob's screen shows the muted microphone.
  const mute = a.page.getByRole("button", { name: "Mute microphone" });
  assert.equal(await mute.getAttribute("aria-pressed"), "false");
  await mute.click();
  const unmute = a.page.getByRole("button", { name: "Unmute microphone" });
  assert.equal(await unmute.getAttribute("aria-pressed"), "true");
  await tileOfA.getByRole("img", { name: "Microphone muted" }).waitFor({ state: "visible", timeout: 10_000 });
  assert.equal(await a.page.evaluate(() => window.huddle.session?.media.audio?.enabled), false, "muting disables the track");

  // Camera off: Bob sees Ada's initials instead of video.
  await a.page.getByRole("button", { name: "Turn off camera" }).click();
  await tileOfA.locator(".avatar").waitFor({ state: "visible", timeout: 10_000 });
  assert.equal(await tileOfA.locator(".avatar").textContent(), "A");
  await a.page.getByRole("button", { name: "Turn on camera" }).click();
  await tileOfA.locator(".avatar").waitFor({ state: "hidden", timeout: 10_000 });
  await unmute.click();
  await tileOfA.getByRole("img", { name: "Microphone muted" }).waitFor({ state: "hidden", timeout: 10_000 });

  // Screen share: the screen goes beside the camera (a second video sender),
  // Bob sees the badge on Ada's camera tile and her screen in a tile of its own.
  const cameraLabel = (await videoSenderTracks(a.page))[0];
  const screenTileOfA = b.page.locator(`.tile-screen[data-screen-of="${idA}"]`);
  await a.page.getByRole("button", { name: "Share screen" }).click();
  const stop = a.page.getByRole("button", { name: "Stop sharing" });
  await stop.waitFor({ timeout: 10_000 });
  assert.equal(await stop.getAttribute("aria-pressed"), "true");
  await tileOfA.getByText("Presenting").waitFor({ state: "visible", timeout: 10_000 });
  await screenTileOfA.waitFor({ state: "visible", timeout: 15_000 });
  assert.equal(await screenTileOfA.getAttribute("aria-label"), "Ada's screen");
  // The screen sender gets its track once renegotiated: camera and screen both sent.
  await poll("Ada sends her camera and her screen", async () => {
    const sent = (await allVideoSent(a.page))[0] ?? [];
    return sent.length === 2 && sent.includes(cameraLabel) ? true : undefined;
  }, 10_000);
  assert.equal((await videoSenderTracks(a.page))[0], cameraLabel, "the camera sender keeps the camera");
  await screenshot(b, "e2e-ui-remote-presenting");
  const framesBefore = await waitFramesFlowing(b, [idA], 20_000);
  assert.ok(framesBefore[idA].framesDecoded > 0);
  await stop.click();
  await a.page.getByRole("button", { name: "Share screen" }).waitFor();
  await tileOfA.getByText("Presenting").waitFor({ state: "hidden", timeout: 10_000 });
  await screenTileOfA.waitFor({ state: "detached", timeout: 10_000 });
  await poll("Stop sharing leaves the camera alone on the senders", async () => JSON.stringify((await allVideoSent(a.page))[0]) === JSON.stringify([cameraLabel]) ? true : undefined, 10_000);

  // The browser's own "Stop sharing" ends the track: the screen tile goes too.
  await a.page.getByRole("button", { name: "Share screen" }).click();
  await a.page.getByRole("button", { name: "Stop sharing" }).waitFor();
  await screenTileOfA.waitFor({ state: "visible", timeout: 15_000 });
  await a.page.evaluate(() => window.huddle.session?.media.screen?.dispatchEvent(new Event("ended")));
  await a.page.getByRole("button", { name: "Share screen" }).waitFor({ timeout: 10_000 });
  await tileOfA.getByText("Presenting").waitFor({ state: "hidden", timeout: 10_000 });
  await screenTileOfA.waitFor({ state: "detached", timeout: 10_000 });
  await poll("only the camera on the senders", async () => JSON.stringify((await allVideoSent(a.page))[0]) === JSON.stringify([cameraLabel]) ? true : undefined, 5_000);

  // Settings mid-call: another microphone replaces the audio track on the sender.
  await a.page.getByRole("button", { name: "Settings" }).click();
  const dialog = a.page.getByRole("dialog", { name: "Settings" });
  await dialog.waitFor();
  const micPicker = dialog.getByLabel("Microphone", { exact: true });
  await poll("microphone options", async () => ((await micPicker.locator("option").count()) >= 1 ? true : undefined), 5_000);
  const mics = await micPicker.locator("option").evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent ?? "" })));
  assert.ok(mics.length > 1, `Chromium's fake devices offer several microphones: ${JSON.stringify(mics)}`);
  {
    const current = await micPicker.inputValue();
    const next = mics.find((m) => m.value !== current)!;
    await micPicker.selectOption(next.value);
    await poll(`audio sender sends "${next.label}"`, async () => {
      const labels = await a.page.evaluate(() =>
        [...window.huddle.peers.values()].map((pc) => pc.getSenders().find((snd) => snd.track?.kind === "audio")?.track?.label ?? ""),
      );
      return labels.length > 0 && labels.every((l) => l === next.label) ? true : undefined;
    }, 10_000);
  }
  await dialog.getByRole("button", { name: "Done" }).click();
  await dialog.waitFor({ state: "hidden" });

  // Copy link: clipboard holds the meeting URL and a toast confirms.
  await a.page.getByRole("button", { name: "Copy link" }).click();
  await a.page.getByText("Link copied").waitFor({ timeout: 5_000 });
  const copied = await a.page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, `${stack.httpUrl}/m/${id}`);

  // Leave: the left screen; Bob's grid drops Ada's tile.
  await a.page.getByRole("button", { name: "Leave" }).click();
  await a.page.getByRole("heading", { name: "You left the meeting" }).waitFor({ timeout: 10_000 });
  await tileOfA.waitFor({ state: "detached", timeout: 10_000 });
  await screenshot(a, "e2e-ui-left");
  // Rejoin: back in the call with a new participant id, Bob sees her again.
  await a.page.getByRole("button", { name: "Rejoin" }).click();
  await a.page.getByRole("button", { name: "Leave" }).waitFor({ timeout: 20_000 });
  const idA2 = await participantId(a);
  assert.notEqual(idA2, idA);
  await b.page.locator(`.tile[data-participant-id="${idA2}"]`).waitFor({ timeout: 10_000 });
  await waitFramesFlowing(b, [idA2], 30_000);
  assert.deepEqual(await b.page.evaluate(() => [...window.huddle.peers.keys()]), [idA2]);

  // Closing the tab sends a best-effort leave on pagehide: Ada sees Bob go
  // right away, long before the presence TTL (30 s) would expire him.
  await a.page.locator(`.tile[data-participant-id="${idB}"]`).waitFor({ timeout: 10_000 });
  await b.page.close({ runBeforeUnload: true });
  await a.page.locator(`.tile[data-participant-id="${idB}"]`).waitFor({ state: "detached", timeout: 8_000 });
  await poll("Ada has no peers left", async () => ((await a.page.evaluate(() => window.huddle.peers.size)) === 0 ? true : undefined), 5_000);
}, 150_000);
