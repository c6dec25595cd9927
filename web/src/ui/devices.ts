// DevicePickers: labelled <select>s for microphone, camera and speaker
// (speaker only where HTMLMediaElement.setSinkId exists), kept in sync with
// LocalMedia and the browser's device list. Used on the pre-join screen and
// in the call's settings dialog.
import { LocalMedia, supportsSinkId } from "../call/media";
import { h } from "./dom";
import { icon } from "./icons";

export interface DevicePickers {
  el: HTMLElement;
  refresh(): void;
  destroy(): void;
}

let nextId = 0;

export function devicePickers(media: LocalMedia, onError: (message: string) => void): DevicePickers {
  const n = nextId++;
  const micSelect = h("select", { class: "select", attrs: { id: `device-mic-${n}` } });
  const camSelect = h("select", { class: "select", attrs: { id: `device-camera-${n}` } });
  const speakerSelect = h("select", { class: "select", attrs: { id: `device-speaker-${n}` } });
  const el = h(
    "div",
    { class: "device-row" },
    picker("Microphone", "mic", micSelect),
    picker("Camera", "videocam", camSelect),
    supportsSinkId() ? picker("Speaker", "speaker", speakerSelect) : null,
  );

  const refresh = async () => {
    try {
      const d = await media.devices();
      fillSelect(micSelect, d.audioInput, media.audio?.getSettings().deviceId ?? media.prefs.audioInput, "Microphone");
      fillSelect(camSelect, d.videoInput, media.camera?.getSettings().deviceId ?? media.prefs.videoInput, "Camera");
      fillSelect(speakerSelect, d.audioOutput, media.prefs.audioOutput, "Speaker");
    } catch (e) {
      console.warn("huddle: enumerateDevices", e);
    }
  };
  const fail = (e: unknown) => onError(`Could not switch device: ${e instanceof Error ? e.message : String(e)}`);
  micSelect.addEventListener("change", () => void media.useDevice("audioInput", micSelect.value).catch(fail));
  camSelect.addEventListener("change", () => void media.useDevice("videoInput", camSelect.value).catch(fail));
  speakerSelect.addEventListener("change", () => media.setAudioOutput(speakerSelect.value));

  const onDeviceChange = () => void refresh();
  navigator.mediaDevices?.addEventListener?.("devicechange", onDeviceChange);
  const unsubscribe = media.onChange(onDeviceChange);
  void refresh();
  return {
    el,
    refresh: () => void refresh(),
    destroy() {
      unsubscribe();
      navigator.mediaDevices?.removeEventListener?.("devicechange", onDeviceChange);
    },
  };
}

function picker(label: string, iconName: "mic" | "videocam" | "speaker", select: HTMLSelectElement): HTMLElement {
  return h(
    "div",
    { class: "picker" },
    h("label", { class: "picker-label", attrs: { for: select.id } }, icon(iconName, 18), h("span", {}, label)),
    select,
  );
}

function fillSelect(select: HTMLSelectElement, list: MediaDeviceInfo[], current: string | undefined, kind: string): void {
  const options = list.map((d, i) =>
    h("option", { value: d.deviceId, selected: d.deviceId === current }, d.label || `${kind} ${i + 1}`),
  );
  if (options.length === 0) options.push(h("option", { value: "" }, `No ${kind.toLowerCase()} found`));
  select.replaceChildren(...options);
  select.disabled = list.length === 0;
  if (current && list.some((d) => d.deviceId === current)) select.value = current;
}
