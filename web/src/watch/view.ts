// WatchView is "Watch together" in the call: the control bar's Watch
// together button, the dialog that takes a link (Video URL, Start watching),
// and the shared player on the stage with who did what last and Stop
// watching. The call view (ui/call.ts) places el on the stage and moves the
// tiles beside it while `active`, as for a presentation.
import type { CallSession } from "../call/session";
import { WatchAction, type WatchState } from "../proto";
import { h, setText } from "../ui/dom";
import { toast } from "../ui/toast";
import { ServerClock } from "./clock";
import { FilePlayer, YouTubePlayer, canPlayHls, type WatchPlayer } from "./players";
import { classify, normalizeUrl } from "./source";
import { WatchSync } from "./sync";
import "./watch.css";

export const CLOCK_PING_INTERVAL_MS = 5000; // server clock samples while a video is open
export const CLOCK_PING_BURST = 3; // samples taken right away when one opens
const CLOCK_PING_TIMEOUT_MS = 5000;
const SVG_NS = "http://www.w3.org/2000/svg";
// Material "smart_display" (Apache-2.0).
const WATCH_ICON =
  "M20 4H4c-1.1 0-2 .9-2 2v12c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V6c0-1.1-.9-2-2-2zM9.5 16.5v-9l7 4.5-7 4.5z";

function watchIcon(): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "24");
  svg.setAttribute("height", "24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", WATCH_ICON);
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

// formatTime: 65000 -> "1:05", 3725000 -> "1:02:05".
export function formatTime(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const s = String(t % 60).padStart(2, "0");
  const m = Math.floor(t / 60) % 60;
  const hrs = Math.floor(t / 3600);
  return hrs > 0 ? `${hrs}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// describeChange says who did what last ("Ada paused at 1:05").
function describeChange(s: WatchState, selfId: string): string {
  const who = s.by === selfId ? "You" : s.byName || "Someone";
  const at = formatTime(Number(s.positionMs));
  switch (s.action) {
    case WatchAction.START:
      return `${who} started watching together`;
    case WatchAction.PLAY:
      return `${who} played from ${at}`;
    case WatchAction.PAUSE:
      return `${who} paused at ${at}`;
    case WatchAction.SEEK:
      return `${who} moved to ${at}`;
    case WatchAction.RATE:
      return `${who} set the speed to ${s.rate}×`;
    default:
      return "";
  }
}

// videoTitle is a short name for the link: YouTube, or the file name and host.
function videoTitle(url: string): string {
  try {
    const u = new URL(url);
    if (classify(url).kind === "youtube") return "YouTube video";
    const file = decodeURIComponent(u.pathname.split("/").filter(Boolean).pop() ?? "");
    return file ? `${file} · ${u.host}` : u.host;
  } catch {
    return url;
  }
}

export class WatchView {
  readonly el: HTMLElement;
  readonly button: HTMLButtonElement;
  readonly dialog: HTMLDialogElement;
  readonly clock = new ServerClock();
  private readonly screen: HTMLElement;
  private readonly title: HTMLElement;
  private readonly status: HTMLElement;
  private readonly message: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly formError: HTMLElement;
  private readonly submit: HTMLButtonElement;
  private player: WatchPlayer | null = null;
  private sync: WatchSync | null = null;
  private url = "";
  private pingTimer?: ReturnType<typeof setInterval>;
  private readonly unsubscribe: () => void;
  private built = false; // onLayout only after the constructor (the call view is not built yet)

  constructor(
    private readonly session: CallSession,
    private readonly onLayout: () => void,
  ) {
    this.button = h(
      "button",
      {
        class: "ctl watch-toggle",
        attrs: { type: "button", "aria-label": "Watch together", title: "Watch together", "aria-pressed": "false", "aria-haspopup": "dialog" },
        on: { click: () => this.openDialog() },
      },
      watchIcon(),
    );

    this.title = h("span", { class: "watch-title" });
    this.status = h("span", { class: "watch-status", attrs: { role: "status", "aria-live": "polite" } });
    const stop = h(
      "button",
      { class: "btn watch-stop", attrs: { type: "button" }, on: { click: () => this.stop() } },
      "Stop watching",
    );
    this.screen = h("div", { class: "watch-screen" });
    this.message = h("p", { class: "watch-message", attrs: { role: "alert", hidden: true } });
    this.el = h(
      "section",
      { class: "watch", attrs: { "aria-label": "Watching together", hidden: true } },
      h("div", { class: "watch-bar" }, h("div", { class: "watch-info" }, this.title, this.status), stop),
      this.screen,
      this.message,
    );

    // The dialog: a link, and Start watching.
    this.input = h("input", {
      class: "text-input",
      attrs: { id: "watch-url", type: "url", inputmode: "url", autocomplete: "off", spellcheck: "false", required: true, placeholder: "https://…" },
    });
    this.formError = h("p", { class: "form-error", attrs: { role: "alert" } });
    this.submit = h("button", { class: "btn btn-primary", attrs: { type: "submit" } }, "Start watching");
    const cancel = h("button", { class: "btn", attrs: { type: "button" }, on: { click: () => this.dialog.close() } }, "Cancel");
    const form = h(
      "form",
      { on: { submit: (e) => this.onSubmit(e) } },
      h("h2", { class: "dialog-title", attrs: { id: "watch-dialog-title" } }, "Watch together"),
      h(
        "p",
        { class: "watch-help", attrs: { id: "watch-help" } },
        "Paste a link to a video file (MP4, WebM, or an HLS stream where your browser plays it) or a YouTube video. Everyone in the call watches it with you: play, pause, seek and speed are shared.",
      ),
      h("label", { class: "field-label", attrs: { for: "watch-url" } }, "Video URL"),
      this.input,
      this.formError,
      h("div", { class: "dialog-actions watch-actions" }, cancel, this.submit),
    );
    this.input.setAttribute("aria-describedby", "watch-help");
    this.dialog = h("dialog", { class: "dialog watch-dialog", attrs: { "aria-labelledby": "watch-dialog-title" } }, form);

    this.unsubscribe = session.onWatchState((s) => {
      this.clock.addStamp(Number(s.serverTimeMs), Date.now());
      this.apply(s);
    });
    if (session.watchState) {
      this.clock.addStamp(Number(session.watchState.serverTimeMs), Date.now());
      this.apply(session.watchState);
    }
    this.built = true;
  }

  get active(): boolean {
    return this.url !== "";
  }

  // stats: the sync's counters (tests, console).
  get stats(): { url: string; drift: number; seeks: number; nudges: number; sent: number; offsetMs: number } | null {
    if (!this.sync) return null;
    return { url: this.url, ...this.sync.stats, offsetMs: this.clock.offsetMs() };
  }

  private openDialog(): void {
    this.formError.textContent = "";
    this.submit.disabled = false;
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
    this.input.select();
  }

  private async onSubmit(e: Event): Promise<void> {
    e.preventDefault();
    const checked = normalizeUrl(this.input.value);
    if ("error" in checked) {
      this.formError.textContent = checked.error;
      return;
    }
    this.submit.disabled = true;
    try {
      await this.session.sendWatch({ action: WatchAction.START, url: checked.url });
      this.dialog.close();
      this.input.value = "";
    } catch (err) {
      this.formError.textContent = `Could not start: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.submit.disabled = false;
    }
  }

  private stop(): void {
    this.session.sendWatch({ action: WatchAction.STOP }).catch((e: unknown) => toast(`Could not stop: ${e instanceof Error ? e.message : e}`, 5000));
  }

  // apply shows state: opens, changes or closes the player.
  private apply(s: WatchState): void {
    if (s.url !== this.url) {
      this.close();
      if (s.url) this.open(s);
      if (this.built) this.onLayout();
      if (!s.url && s.action === WatchAction.STOP) {
        const who = s.by === this.session.participantId ? "You" : s.byName || "Someone";
        toast(`${who} stopped watching together`, 4000);
      }
      return;
    }
    if (s.url) {
      this.sync?.update(s);
      setText(this.status, describeChange(s, this.session.participantId));
    }
  }

  private open(s: WatchState): void {
    this.url = s.url;
    this.el.hidden = false;
    this.button.setAttribute("aria-pressed", "true");
    this.button.classList.add("ctl-active");
    setText(this.title, videoTitle(s.url));
    setText(this.status, describeChange(s, this.session.participantId));
    this.showMessage("");
    const src = classify(s.url);
    if (src.kind === "hls" && !canPlayHls()) {
      this.showMessage("This browser cannot play HLS streams by itself (Safari and some others can). A link to an MP4 or WebM file plays everywhere.", true);
      return;
    }
    const player: WatchPlayer = src.kind === "youtube" ? new YouTubePlayer(src.videoId) : new FilePlayer(s.url);
    player.on((ev, detail) => {
      if (ev === "error") this.showMessage(`The video cannot play here: ${(detail ?? "unknown error").replace(/\.$/, "")}.`, true);
      else if (ev === "ready") this.showMessage("");
    });
    this.player = player;
    this.screen.replaceChildren(player.el);
    this.sync = new WatchSync(player, s, {
      clock: this.clock,
      send: (c) => this.session.sendWatch(c),
      onError: (msg) => toast(`Not shared: ${msg}`, 5000),
      onAutoplayBlocked: () => toast("The video plays muted until you unmute it in the player", 5000),
    });
    this.samplePings(CLOCK_PING_BURST);
    this.pingTimer = setInterval(() => this.samplePings(1), CLOCK_PING_INTERVAL_MS);
  }

  private close(): void {
    clearInterval(this.pingTimer);
    this.sync?.destroy();
    this.player?.destroy();
    this.sync = null;
    this.player = null;
    this.url = "";
    this.el.hidden = true;
    this.screen.replaceChildren();
    this.showMessage("");
    this.button.setAttribute("aria-pressed", "false");
    this.button.classList.remove("ctl-active");
  }

  // showMessage shows a line under the player, or instead of it (failed:
  // nothing to watch here, say why where the video would be).
  private showMessage(text: string, failed = false): void {
    setText(this.message, text);
    this.message.hidden = text === "";
    this.el.classList.toggle("watch-failed", failed && text !== "");
  }

  // samplePings measures the server clock n times, one after the other.
  private async samplePings(n: number): Promise<void> {
    for (let i = 0; i < n && this.active; i++) {
      const sent = Date.now();
      try {
        const msg = await this.session.signaling.request(
          { case: "ping", value: { clientTimeMs: BigInt(sent) } },
          { queue: false, timeoutMs: CLOCK_PING_TIMEOUT_MS },
        );
        if (msg.body.case === "pong") this.clock.addPing(sent, Number(msg.body.value.serverTimeMs), Date.now());
      } catch {
        return; // not connected: the next round tries again
      }
    }
  }

  destroy(): void {
    this.unsubscribe();
    this.close();
    if (this.dialog.open) this.dialog.close();
  }
}
