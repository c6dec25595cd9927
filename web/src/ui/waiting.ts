// The waiting screen: a guest of a waiting-room meeting waits here, with
// their camera preview and mic / camera toggles, until a host lets them in
// (the call then starts) or turns them away. It says whether a host is in
// the meeting at all.
import type { CallSession } from "../call/session";
import { h, initials, setText } from "./dom";
import { brand } from "./brand";
import { micButton, cameraButton } from "./controls";

export interface WaitingView {
  destroy(): void;
}

export function renderWaiting(root: HTMLElement, session: CallSession, onLeave: () => void): WaitingView {
  const media = session.media;
  const video = h("video", { class: "preview-video mirror", attrs: { autoplay: true, playsinline: true, muted: true } });
  video.muted = true;
  video.srcObject = media.stream;
  const avatar = h("div", { class: "avatar avatar-large" }, initials(session.displayName));
  const preview = h(
    "div",
    { class: "preview waiting-preview" },
    video,
    h("div", { class: "preview-off" }, avatar, h("div", { class: "preview-off-text" }, "Camera is off")),
  );
  const mic = micButton(() => media.setAudioMuted(!media.audioMuted));
  const cam = cameraButton(() => media.setVideoMuted(!media.videoMuted));
  preview.append(h("div", { class: "preview-controls" }, mic.el, cam.el));
  const status = h("p", { class: "waiting-status" });
  const title = h("p", { class: "meeting-title" });
  root.replaceChildren(
    h(
      "div",
      { class: "page waiting-page" },
      h("header", { class: "topbar" }, brand()),
      h(
        "main",
        { class: "prejoin waiting" },
        h("section", { class: "prejoin-media" }, preview),
        h(
          "section",
          { class: "prejoin-side waiting-side", attrs: { role: "status", "aria-live": "polite" } },
          h("div", { class: "waiting-dots", attrs: { "aria-hidden": "true" } }, h("span", {}), h("span", {}), h("span", {})),
          h("h1", {}, "Waiting for a host to let you in"),
          title,
          status,
          h("p", { class: "waiting-name" }, "You are asking to join as ", h("strong", {}, session.displayName)),
          h("button", { class: "btn btn-outline", attrs: { type: "button" }, on: { click: onLeave } }, "Leave"),
        ),
      ),
    ),
  );
  const refresh = () => {
    setText(title, session.meetingTitle || "");
    setText(status, session.hostPresent ? "A host is in the meeting. You'll join as soon as they let you in." : "No host has joined yet");
    status.classList.toggle("waiting-nohost", !session.hostPresent);
    mic.set(media.audioMuted || !media.audio);
    cam.set(media.videoMuted || !media.camera);
    preview.classList.toggle("video-off", media.videoMuted || !media.camera);
  };
  const unsubscribe = session.onChange(refresh);
  const unsubscribeMedia = media.onChange(refresh);
  refresh();
  return {
    destroy() {
      unsubscribe();
      unsubscribeMedia();
      video.srcObject = null;
    },
  };
}
