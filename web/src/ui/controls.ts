// Round toggle buttons for the call controls. The accessible name says what
// a click does ("Mute microphone" / "Unmute microphone"); aria-pressed says
// whether the toggle is on (muted, camera off, sharing).
import { h } from "./dom";
import { icon, setIcon, type IconName } from "./icons";

export interface Toggle {
  el: HTMLButtonElement;
  set(on: boolean): void;
}

interface ToggleSpec {
  offLabel: string; // label while the toggle is off (what clicking turns on)
  onLabel: string;
  offIcon: IconName;
  onIcon: IconName;
  danger: boolean; // "on" is shown in red (muted, camera off)
}

function toggle(spec: ToggleSpec, onClick: () => void): Toggle {
  const el = h("button", { class: "ctl", attrs: { type: "button" }, on: { click: onClick } });
  let shown: boolean | null = null;
  const set = (on: boolean) => {
    if (on === shown) return; // the call view calls set() on every change: touch nothing then
    shown = on;
    el.setAttribute("aria-pressed", String(on));
    el.setAttribute("aria-label", on ? spec.onLabel : spec.offLabel);
    el.title = on ? spec.onLabel : spec.offLabel;
    el.classList.toggle("ctl-danger", on && spec.danger);
    el.classList.toggle("ctl-active", on && !spec.danger);
    setIcon(el, on ? spec.onIcon : spec.offIcon);
  };
  set(false);
  return { el, set };
}

export function micButton(onClick: () => void): Toggle {
  return toggle({ offLabel: "Mute microphone", onLabel: "Unmute microphone", offIcon: "mic", onIcon: "micOff", danger: true }, onClick);
}

export function cameraButton(onClick: () => void): Toggle {
  return toggle(
    { offLabel: "Turn off camera", onLabel: "Turn on camera", offIcon: "videocam", onIcon: "videocamOff", danger: true },
    onClick,
  );
}

export function shareButton(onClick: () => void): Toggle {
  return toggle(
    { offLabel: "Share screen", onLabel: "Stop sharing", offIcon: "screenShare", onIcon: "stopScreenShare", danger: false },
    onClick,
  );
}

export function actionButton(label: string, iconName: IconName, onClick: () => void, cls = ""): HTMLButtonElement {
  return h(
    "button",
    { class: `ctl ${cls}`.trim(), attrs: { type: "button", "aria-label": label, title: label }, on: { click: onClick } },
    icon(iconName),
  );
}
