// Segmenter finds the person in a frame with MediaPipe Selfie Segmentation.
// The package is a classic script that defines window.SelfieSegmentation and
// loads its WASM, graph and model by URL; all of them are served by the app
// (vite.config.ts copies them to __SELFIE_SEGMENTATION_DIR__), so background
// blur works with no other host reachable. Loaded on first use only.
import type { Results, SelfieSegmentation } from "@mediapipe/selfie_segmentation";

declare const __SELFIE_SEGMENTATION_DIR__: string;

declare global {
  interface Window {
    SelfieSegmentation?: typeof SelfieSegmentation;
  }
}

// The landscape model (144×256 input) is the lighter of the two and made for
// video calls.
const LANDSCAPE_MODEL = 1;

let script: Promise<typeof SelfieSegmentation> | null = null;

function loadScript(): Promise<typeof SelfieSegmentation> {
  if (window.SelfieSegmentation) return Promise.resolve(window.SelfieSegmentation);
  script ??= new Promise<typeof SelfieSegmentation>((resolve, reject) => {
    const el = document.createElement("script");
    el.src = `${__SELFIE_SEGMENTATION_DIR__}selfie_segmentation.js`;
    el.async = true;
    el.onload = () => (window.SelfieSegmentation ? resolve(window.SelfieSegmentation) : reject(new Error("selfie_segmentation.js defined nothing")));
    el.onerror = () => reject(new Error(`could not load ${el.src}`));
    document.head.appendChild(el);
  }).catch((e: unknown) => {
    script = null; // a later attempt may succeed (e.g. the server is back)
    throw e;
  });
  return script;
}

export class Segmenter {
  private onMask: (mask: TexImageSource) => void = () => {};

  private constructor(private readonly seg: SelfieSegmentation) {
    seg.onResults((r: Results) => this.onMask(r.segmentationMask));
  }

  // load fetches and starts the model (a few MB of WASM, once per page).
  static async load(): Promise<Segmenter> {
    const Ctor = await loadScript();
    const seg = new Ctor({ locateFile: (file) => `${__SELFIE_SEGMENTATION_DIR__}${file}` });
    seg.setOptions({ modelSelection: LANDSCAPE_MODEL, selfieMode: false });
    try {
      await seg.initialize();
    } catch (e) {
      void seg.close();
      throw e;
    }
    return new Segmenter(seg);
  }

  // segment finds the person in image; onMask runs (synchronously, with a
  // mask that is valid only during the call) before the promise resolves.
  async segment(image: HTMLCanvasElement | HTMLVideoElement, onMask: (mask: TexImageSource) => void): Promise<void> {
    this.onMask = onMask;
    try {
      await this.seg.send({ image });
    } finally {
      this.onMask = () => {};
    }
  }

  close(): void {
    void this.seg.close();
  }
}
