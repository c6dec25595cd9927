// The pre-join screen: camera preview (with the chosen filter on), device
// pickers, mic/camera toggles, the Filters menu, the name field (remembered
// in localStorage), the Join button, the meeting's chat beside them
// (readable and writable without joining; posts use the name from the name
// field), the Notes and Code buttons that open the shared documents, and the
// Recordings button that opens the meeting's recordings, all without joining.
// The setup check under the preview: a microphone level meter, "Test
// speakers" (a chime on the chosen output) and "Check connection" (ICE
// candidates gathered against the meeting's STUN/TURN servers: does a direct
// path and does relay work).
import type { LocalMedia } from "../call/media";
import type { ChatClient } from "../chat/client";
import type { NotesClient } from "../notes/client";
import { DocsDock } from "../notes/dock";
import { RecordingsPanel, recordingsButton } from "../recording/panel";
import type { Uploader } from "../recording/uploader";
import { ChatPanel } from "./chat";
import { h, initials } from "./dom";
import { brand } from "./brand";
import { micButton, cameraButton } from "./controls";
import { devicePickers } from "./devices";
import { filtersControl } from "../filters/control";
import { fetchIceServers, gatherCandidates, MicMeter, playTestSound, type ConnectivityResult } from "../call/precheck";
import { RequestError } from "../signaling/client";
import { ErrorCode } from "../proto";

const NAME_KEY = "huddle.displayName";
// How often the microphone meter is redrawn.
const METER_TICK_MS = 100;
const MAX_NAME_BYTES = 64;

export function rememberedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return "";
  }
}

function rememberName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    /* storage unavailable */
  }
}

export interface PrejoinView {
  setMeetingTitle(title: string): void;
  // "Join now", or "Ask to join" for a guest of a waiting-room meeting.
  setJoinLabel(label: string): void;
  // A join link's name: shown, not editable (the link sets it).
  setFixedName(name: string): void;
  setError(text: string): void;
  setBusy(busy: boolean): void;
  destroy(): void;
}

export function renderPrejoin(
  root: HTMLElement,
  meetingId: string,
  media: LocalMedia,
  onJoin: (name: string) => void,
  chat?: ChatClient,
  notes?: NotesClient,
  uploader?: Uploader,
): PrejoinView {
  const video = h("video", { class: "preview-video mirror", attrs: { autoplay: true, playsinline: true, muted: true } });
  video.muted = true;
  video.srcObject = media.stream;
  const offText = h("div", { class: "preview-off-text" }, "Camera is off");
  const avatar = h("div", { class: "avatar avatar-large" });
  const off = h("div", { class: "preview-off" }, avatar, offText);
  const mediaError = h("div", { class: "preview-error", attrs: { role: "alert" } });
  const mic = micButton(() => media.setAudioMuted(!media.audioMuted));
  const cam = cameraButton(() => media.setVideoMuted(!media.videoMuted));
  const filters = filtersControl(media);
  const preview = h(
    "div",
    { class: "preview" },
    video,
    off,
    mediaError,
    h("div", { class: "preview-controls" }, mic.el, cam.el, filters.el),
  );

  const devices = devicePickers(media, (msg) => (mediaError.textContent = msg));
  const setup = setupCheck(meetingId, media);

  const nameInput = h("input", {
    class: "text-input name-input",
    attrs: { id: "display-name", type: "text", autocomplete: "name", maxlength: 64, placeholder: "What's your name?" },
  });
  nameInput.value = rememberedName();
  let joinLabel = "Join now";
  const joinButton = h("button", { class: "btn btn-primary btn-large join-button", attrs: { type: "submit" } }, joinLabel);
  const nameNote = h("p", { class: "field-note", attrs: { hidden: true } }, "Your name comes from your invitation link.");
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const title = h("p", { class: "meeting-title" });
  const nameOk = () => {
    const n = nameInput.value.trim();
    return n.length > 0 && new TextEncoder().encode(n).length <= MAX_NAME_BYTES;
  };
  const updateJoin = () => {
    joinButton.disabled = !nameOk() || joinButton.classList.contains("busy");
    avatar.textContent = initials(nameInput.value || "?");
  };
  nameInput.addEventListener("input", updateJoin);
  const chatPanel = chat
    ? new ChatPanel({ chat, mode: "page", getName: () => (nameOk() ? nameInput.value.trim() : "") })
    : null;
  nameInput.addEventListener("input", () => chatPanel?.refreshName());
  const docs = notes ? new DocsDock({ client: notes, mode: "page" }) : null;
  const syncNotesName = () => notes?.setName(nameOk() ? nameInput.value.trim() : "");
  nameInput.addEventListener("input", syncNotesName);
  syncNotesName();
  // A visitor who only chats keeps their name for next time too.
  nameInput.addEventListener("change", () => {
    if (nameOk()) rememberName(nameInput.value.trim());
  });
  const recordings = uploader ? new RecordingsPanel({ meetingId, uploader, mode: "page", onClose: () => recordingsOpen?.sync() }) : null;
  const recordingsOpen = recordings ? recordingsButton(recordings, "page") : null;
  const form = h(
    "form",
    {
      class: "join-form",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          if (!nameOk()) return;
          const name = nameInput.value.trim();
          if (!nameInput.readOnly) rememberName(name);
          onJoin(name);
        },
      },
    },
    h("label", { class: "field-label", attrs: { for: "display-name" } }, "Your name"),
    nameInput,
    nameNote,
    joinButton,
    error,
  );

  root.replaceChildren(
    h(
      "div",
      { class: "page prejoin-page" },
      h("header", { class: "topbar" }, brand()),
      h(
        "div",
        { class: "prejoin-body" },
        h(
          "main",
          { class: "prejoin" },
          h("section", { class: "prejoin-media" }, preview, devices.el, setup.el),
          h(
            "section",
            { class: "prejoin-side" },
            h("h1", {}, "Ready to join?"),
            title,
            form,
            docs ? h("div", { class: "doc-buttons", attrs: { role: "group", "aria-label": "Shared documents" } }, docs.buttons.notes, docs.buttons.code) : null,
            recordingsOpen ? h("div", { class: "rec-open-row" }, recordingsOpen.el) : null,
          ),
        ),
        chatPanel?.el,
        docs?.el,
      ),
      recordings?.el,
    ),
  );

  const refreshToggles = () => {
    mic.set(media.audioMuted || !media.audio);
    cam.set(media.videoMuted || !media.camera);
    const videoOff = media.videoMuted || !media.camera;
    preview.classList.toggle("video-off", videoOff);
    offText.textContent = !media.camera ? "Camera is unavailable" : "Camera is off";
    mediaError.textContent = media.error ?? "";
  };

  const unsubscribe = media.onChange(refreshToggles);
  refreshToggles();
  updateJoin();
  if (!nameInput.value) nameInput.focus();

  return {
    setMeetingTitle(t: string) {
      title.textContent = t || `Meeting ${meetingId}`;
    },
    setError(text: string) {
      error.textContent = text;
    },
    setJoinLabel(label: string) {
      joinLabel = label;
      if (!joinButton.classList.contains("busy")) joinButton.textContent = label;
    },
    setFixedName(name: string) {
      nameInput.value = name;
      nameInput.readOnly = true;
      nameNote.hidden = false;
      updateJoin();
      chatPanel?.refreshName();
      syncNotesName();
    },
    setBusy(busy: boolean) {
      joinButton.classList.toggle("busy", busy);
      joinButton.textContent = busy ? (joinLabel === "Ask to join" ? "Asking…" : "Joining…") : joinLabel;
      updateJoin();
    },
    destroy() {
      unsubscribe();
      chatPanel?.destroy();
      docs?.destroy();
      recordings?.destroy();
      devices.destroy();
      setup.destroy();
      filters.destroy();
      video.srcObject = null;
    },
  };
}

// setupCheck: the microphone meter, Test speakers and Check connection.
function setupCheck(meetingId: string, media: LocalMedia): { el: HTMLElement; destroy(): void } {
  const bar = h("div", { class: "mic-meter-bar" });
  const meter = h(
    "div",
    {
      class: "mic-meter",
      attrs: { role: "meter", "aria-label": "Microphone level", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0 },
    },
    bar,
  );
  const mic = new MicMeter();
  let shown = -1;
  const tick = setInterval(() => {
    mic.use(media.audio);
    const pct = Math.round(mic.level() * 100);
    if (pct === shown) return;
    shown = pct;
    meter.setAttribute("aria-valuenow", String(pct));
    bar.style.width = `${pct}%`;
  }, METER_TICK_MS);

  const speakerStatus = h("span", { class: "setup-status", attrs: { role: "status", "aria-live": "polite" } });
  const speakers = h("button", { class: "btn btn-outline btn-small", attrs: { type: "button" } }, "Test speakers");
  speakers.addEventListener("click", async () => {
    speakers.disabled = true;
    speakerStatus.textContent = "Playing a chime…";
    try {
      const played = await playTestSound(media.prefs.audioOutput ?? "");
      speakerStatus.textContent = played > 0 ? `Played ${played.toFixed(1)} s. Did you hear a chime?` : "The sound did not play.";
      speakerStatus.dataset.played = played.toFixed(2);
    } catch (e) {
      speakerStatus.textContent = `The sound did not play: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      speakers.disabled = false;
    }
  });

  const netStatus = h("span", { class: "setup-status", attrs: { role: "status", "aria-live": "polite" } });
  const check = h("button", { class: "btn btn-outline btn-small", attrs: { type: "button" } }, "Check connection");
  check.addEventListener("click", async () => {
    check.disabled = true;
    netStatus.textContent = "Checking…";
    delete netStatus.dataset.direct;
    delete netStatus.dataset.relay;
    try {
      const servers = await fetchIceServers(meetingId);
      const r = await gatherCandidates(servers);
      netStatus.textContent = describeConnectivity(r);
      netStatus.dataset.direct = String(r.direct);
      netStatus.dataset.relay = String(r.relay);
    } catch (e) {
      netStatus.textContent =
        e instanceof RequestError && e.code === ErrorCode.RATE_LIMITED
          ? "Checked too often; try again in a minute."
          : `Could not check: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      check.disabled = false;
    }
  });

  const el = h(
    "section",
    { class: "setup-check", attrs: { "aria-label": "Check your setup" } },
    h("div", { class: "setup-row" }, h("span", { class: "setup-label" }, "Microphone"), meter),
    h("div", { class: "setup-row" }, speakers, speakerStatus),
    h("div", { class: "setup-row" }, check, netStatus),
  );
  return {
    el,
    destroy() {
      clearInterval(tick);
      mic.stop();
    },
  };
}

function describeConnectivity(r: ConnectivityResult): string {
  const direct = r.direct ? `Direct: OK${r.srflx ? " (public address found)" : " (local network)"}` : "Direct: not possible";
  const relay = !r.turn ? "Relay: no TURN server" : r.relay ? "Relay: OK" : "Relay: failed";
  const verdict = r.direct || r.relay ? "You can join." : "Calls will not connect from this network.";
  return `${direct}. ${relay}. ${verdict}`;
}
