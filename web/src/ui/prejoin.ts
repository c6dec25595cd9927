// The pre-join screen: camera preview (with the chosen filter on), device
// pickers, mic/camera toggles, the Filters menu, the name field (remembered
// in localStorage), the Join button, the meeting's chat beside them
// (readable and writable without joining; posts use the name from the name
// field), the Notes and Code buttons that open the shared documents, and the
// Recordings button that opens the meeting's recordings, all without joining.
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

const NAME_KEY = "huddle.displayName";
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
          h("section", { class: "prejoin-media" }, preview, devices.el),
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
      filters.destroy();
      video.srcObject = null;
    },
  };
}
