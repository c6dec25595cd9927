// RecordingsPanel lists the meeting's recordings (newest first): kind, who,
// when, duration, size, and for a finished one an inline <video> (the file
// is read with Range, so it seeks) and a Download link; the recorder can
// delete theirs (this browser keeps the token of each recording it made).
// Recordings of this browser that the server does not list yet, or still
// uploading, are shown with their progress. Beside the call it is a side
// panel toggled from the control bar; on the pre-join and "You left" pages
// a dialog opened by a Recordings button.
//
// The list is read when the panel opens and then every few seconds while it
// is open (sooner while something is recording or being processed); items
// are updated in place, so a video that plays keeps playing.
import { RecordingKind, RecordingState } from "../proto";
import { h, setText } from "../ui/dom";
import { icon, type IconName } from "../ui/icons";
import { formatTime } from "../ui/chat";
import { deleteRecording, fileUrl, listRecordings, type RecordingInfo } from "./api";
import type { QueueEntry } from "./queue";
import type { Uploader } from "./uploader";

const POLL_BUSY_MS = 3_000;
const POLL_IDLE_MS = 15_000;

const KIND_LABEL: Record<RecordingKind, { label: string; icon: IconName }> = {
  [RecordingKind.UNSPECIFIED]: { label: "Recording", icon: "videocam" },
  [RecordingKind.CAMERA]: { label: "Camera", icon: "videocam" },
  [RecordingKind.SCREEN]: { label: "Screen", icon: "screenShare" },
  [RecordingKind.MEETING]: { label: "Whole meeting", icon: "gridView" },
};

export interface RecordingsPanelOptions {
  meetingId: string;
  uploader: Uploader;
  mode: "call" | "page";
  onClose?: () => void;
}

export interface RecordingsDebug {
  loaded: boolean;
  error: string;
  items: Array<{ id: string; state: string; kind: string; recorderName: string; durationMs: number; bytes: number; own: boolean }>;
}

let panelSeq = 0;

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

// Item is one recording's <li>, updated in place.
interface Item {
  el: HTMLLIElement;
  title: HTMLElement;
  meta: HTMLElement;
  state: HTMLElement;
  media: HTMLElement; // holds the <video> once READY
  actions: HTMLElement;
  ready: boolean;
  own: boolean;
  confirming: boolean;
}

export class RecordingsPanel {
  readonly el: HTMLElement;
  readonly id: string;
  private readonly list: HTMLOListElement;
  private readonly status: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly items = new Map<string, Item>();
  private server: RecordingInfo[] = [];
  private loaded = false;
  private error = "";
  private open: boolean;
  private timer?: ReturnType<typeof setTimeout>;
  private loading: AbortController | null = null;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: RecordingsPanelOptions) {
    this.id = `recordings-${++panelSeq}`;
    const titleId = `${this.id}-title`;
    this.open = false;
    this.status = h("p", { class: "rec-status", attrs: { role: "status" } });
    this.list = h("ol", { class: "rec-list", attrs: { "aria-labelledby": titleId } });
    this.empty = h("p", { class: "rec-empty", attrs: { hidden: true } }, "No recordings yet. Record from the call with the Record button.");
    const close = h(
      "button",
      { class: "icon-btn rec-close", attrs: { type: "button", "aria-label": "Close recordings", title: "Close recordings" }, on: { click: () => this.close() } },
      icon("close", 20),
    );
    const content = [
      h("header", { class: "rec-head" }, h("h2", { class: "rec-title", attrs: { id: titleId } }, "Recordings"), close),
      h("p", { class: "rec-note" }, "Recordings stay with this meeting's link: anyone who has it can watch and download them."),
      this.status,
      h("div", { class: "rec-scroll" }, this.list, this.empty),
    ];
    if (opts.mode === "call") {
      this.el = h("aside", { class: "rec-panel rec-call", attrs: { id: this.id, "aria-labelledby": titleId, hidden: true } }, ...content);
    } else {
      const dialog = h("dialog", { class: "rec-panel rec-dialog", attrs: { id: this.id, "aria-labelledby": titleId } }, ...content);
      dialog.addEventListener("close", () => this.closed());
      this.el = dialog;
    }
    this.unsubscribe = opts.uploader.onChange((e) => {
      if (!this.open) return;
      if (e.kind === "finished" || e.kind === "failed") void this.refresh();
      else this.render();
    });
  }

  isOpen(): boolean {
    return this.open;
  }

  setOpen(open: boolean): void {
    if (open === this.open) return;
    if (!open) {
      this.close();
      return;
    }
    this.open = true;
    if (this.el instanceof HTMLDialogElement) this.el.showModal();
    else this.el.hidden = false;
    this.render();
    void this.refresh();
  }

  close(): void {
    if (!this.open) return;
    if (this.el instanceof HTMLDialogElement) this.el.close(); // fires "close"
    else this.closed();
  }

  // refresh reads the list now (and schedules the next read while open).
  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    this.loading?.abort();
    const ac = new AbortController();
    this.loading = ac;
    try {
      this.server = await listRecordings(this.opts.meetingId, ac.signal);
      this.loaded = true;
      this.error = "";
    } catch (e) {
      if (ac.signal.aborted) return;
      console.warn("huddle: recordings list", e);
      this.error = "Can't load the recordings. Trying again…";
    }
    if (this.loading === ac) this.loading = null;
    this.render();
    if (this.open) this.timer = setTimeout(() => void this.refresh(), this.busy() ? POLL_BUSY_MS : POLL_IDLE_MS);
  }

  destroy(): void {
    this.unsubscribe();
    clearTimeout(this.timer);
    this.loading?.abort();
    for (const item of this.items.values()) this.stopVideo(item);
    if (this.el instanceof HTMLDialogElement && this.el.open) this.el.close();
    this.el.remove();
  }

  debug(): RecordingsDebug {
    return {
      loaded: this.loaded,
      error: this.error,
      items: this.rows().map(({ info, own }) => ({
        id: info.id,
        state: RecordingState[info.state] ?? String(info.state),
        kind: RecordingKind[info.kind] ?? String(info.kind),
        recorderName: info.recorderName,
        durationMs: info.durationMs,
        bytes: info.bytes,
        own: own !== undefined,
      })),
    };
  }

  private closed(): void {
    this.open = false;
    clearTimeout(this.timer);
    this.loading?.abort();
    this.loading = null;
    if (!(this.el instanceof HTMLDialogElement)) this.el.hidden = true;
    for (const item of this.items.values()) item.el.querySelector("video")?.pause();
    this.opts.onClose?.();
  }

  private busy(): boolean {
    return this.rows().some(({ info, own }) => info.state === RecordingState.RECORDING || info.state === RecordingState.ASSEMBLING || (own && !own.finished && !own.failed));
  }

  // rows: the server's list, then this browser's recordings it lacks, newest first.
  private rows(): Array<{ info: RecordingInfo; own?: QueueEntry }> {
    const mine = new Map([...this.opts.uploader.entries.values()].filter((e) => e.meetingId === this.opts.meetingId).map((e) => [e.rid, e]));
    const rows: Array<{ info: RecordingInfo; own?: QueueEntry }> = this.server.map((info) => ({ info, own: mine.get(info.id) }));
    const listed = new Set(this.server.map((r) => r.id));
    for (const e of mine.values()) {
      if (listed.has(e.rid) || e.finished || e.failed) continue;
      rows.push({
        info: {
          id: e.rid,
          kind: e.kind,
          state: RecordingState.RECORDING,
          recorderId: "",
          recorderName: e.name,
          createdAtMs: e.createdAtMs,
          updatedAtMs: e.createdAtMs,
          chunks: e.uploaded,
          bytes: 0,
          durationMs: 0,
          error: "",
          mimeType: e.mimeType,
        },
        own: e,
      });
    }
    return rows.sort((a, b) => b.info.createdAtMs - a.info.createdAtMs);
  }

  private render(): void {
    const rows = this.rows();
    setText(this.status, this.error || (this.loaded ? "" : "Loading…"));
    this.empty.hidden = !this.loaded || rows.length > 0;
    const keep = new Set(rows.map((r) => r.info.id));
    for (const [id, item] of this.items) {
      if (!keep.has(id)) {
        this.stopVideo(item);
        item.el.remove();
        this.items.delete(id);
      }
    }
    rows.forEach(({ info, own }, i) => {
      let item = this.items.get(info.id);
      if (!item) {
        item = this.makeItem(info.id);
        this.items.set(info.id, item);
      }
      this.updateItem(item, info, own);
      if (this.list.children[i] !== item.el) this.list.insertBefore(item.el, this.list.children[i] ?? null);
    });
  }

  private makeItem(id: string): Item {
    const title = h("h3", { class: "rec-item-title" });
    const meta = h("p", { class: "rec-item-meta" });
    const state = h("p", { class: "rec-item-state" });
    const media = h("div", { class: "rec-item-media" });
    const actions = h("div", { class: "rec-item-actions" });
    const el = h("li", { class: "rec-item", attrs: { "data-recording-id": id } }, title, meta, state, media, actions);
    return { el, title, meta, state, media, actions, ready: false, own: false, confirming: false };
  }

  private updateItem(item: Item, info: RecordingInfo, own: QueueEntry | undefined): void {
    const kind = KIND_LABEL[info.kind] ?? KIND_LABEL[RecordingKind.UNSPECIFIED];
    const name = info.recorderName || "Someone";
    if (!item.title.firstChild) item.title.append(icon(kind.icon, 18), h("span", {}, ""));
    setText(item.title.lastElementChild!, `${kind.label} · ${name}${own ? " (you)" : ""}`);
    const meta = [formatTime(info.createdAtMs)];
    if (info.state === RecordingState.READY && info.durationMs > 0) meta.push(formatDuration(info.durationMs));
    if (info.bytes > 0) meta.push(formatSize(info.bytes));
    setText(item.meta, meta.join(" · "));
    item.el.setAttribute("data-state", RecordingState[info.state] ?? "");

    let state = "";
    if (own && !own.finished && !own.failed) {
      state = own.ended ? `Uploading… ${own.uploaded} of ${own.chunks} parts sent` : `Recording… ${own.uploaded} of ${own.chunks} parts sent`;
    } else if (own?.failed) {
      state = `Upload failed: ${own.failed}`;
    } else if (info.state === RecordingState.RECORDING) {
      state = "Recording…";
    } else if (info.state === RecordingState.ASSEMBLING) {
      state = "Processing…";
    } else if (info.state === RecordingState.FAILED) {
      state = `Failed${info.error ? `: ${info.error}` : ""}`;
    } else if (info.state === RecordingState.READY && info.error) {
      state = info.error; // a gap: which parts were missing
    }
    setText(item.state, state);
    item.state.hidden = state === "";

    const ready = info.state === RecordingState.READY;
    if (ready && !item.ready) {
      const url = fileUrl(this.opts.meetingId, info.id);
      const video = h("video", {
        class: "rec-video",
        attrs: { controls: true, preload: "metadata", playsinline: true, src: url, "aria-label": `${kind.label} recording by ${name}, ${formatTime(info.createdAtMs)}` },
      });
      item.media.replaceChildren(video);
    } else if (!ready && item.ready) {
      this.stopVideo(item);
      item.media.replaceChildren();
    }
    const ownChanged = item.own !== (own !== undefined);
    if (ready !== item.ready || ownChanged) {
      item.ready = ready;
      item.own = own !== undefined;
      item.confirming = false;
      this.renderActions(item, info, own);
    }
  }

  private renderActions(item: Item, info: RecordingInfo, own: QueueEntry | undefined): void {
    const buttons: HTMLElement[] = [];
    if (item.ready) {
      buttons.push(
        h(
          "a",
          { class: "btn btn-outline btn-small", attrs: { href: fileUrl(this.opts.meetingId, info.id, true), download: downloadName(info) } },
          icon("download", 18),
          h("span", {}, "Download"),
        ),
      );
    }
    if (own && !item.confirming) {
      buttons.push(
        h(
          "button",
          {
            class: "btn btn-text btn-small",
            attrs: { type: "button" },
            on: {
              click: () => {
                item.confirming = true;
                this.renderActions(item, info, own);
              },
            },
          },
          icon("delete", 18),
          h("span", {}, "Delete"),
        ),
      );
    } else if (own) {
      const err = h("span", { class: "rec-item-error", attrs: { role: "alert" } });
      const yes = h("button", { class: "btn btn-danger btn-small", attrs: { type: "button" } }, "Delete for everyone");
      const no = h("button", { class: "btn btn-text btn-small", attrs: { type: "button" } }, "Cancel");
      yes.addEventListener("click", () => {
        yes.disabled = true;
        void this.remove(info.id, own).catch((e: unknown) => {
          yes.disabled = false;
          err.textContent = e instanceof Error ? e.message : String(e);
        });
      });
      no.addEventListener("click", () => {
        item.confirming = false;
        this.renderActions(item, info, own);
      });
      buttons.push(h("span", { class: "rec-confirm" }, "Delete this recording?"), yes, no, err);
    }
    item.actions.replaceChildren(...buttons);
    item.actions.hidden = buttons.length === 0;
  }

  private async remove(rid: string, own: QueueEntry): Promise<void> {
    try {
      await deleteRecording(this.opts.meetingId, rid, own.token);
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 401 || status === 403) throw new Error("You can no longer delete this recording (the permission expired).");
      if (status !== 404) throw new Error("Could not delete the recording. Try again.");
    }
    await this.opts.uploader.forget(rid);
    this.server = this.server.filter((r) => r.id !== rid);
    this.render();
  }

  private stopVideo(item: Item): void {
    const v = item.el.querySelector("video");
    if (v) {
      v.pause();
      v.removeAttribute("src");
      v.load();
    }
  }
}

// recordingsButton opens and closes panel: a control-bar toggle in the call,
// a plain button on the pages.
export function recordingsButton(panel: RecordingsPanel, mode: "call" | "page"): { el: HTMLButtonElement; sync(): void } {
  const el =
    mode === "call"
      ? h("button", { class: "ctl rec-toggle", attrs: { type: "button", "aria-label": "Recordings", title: "Recordings" } }, icon("videoLibrary"))
      : h("button", { class: "btn btn-outline rec-open", attrs: { type: "button" } }, icon("videoLibrary", 18), h("span", {}, "Recordings"));
  el.setAttribute("aria-controls", panel.id);
  const sync = () => {
    el.setAttribute(mode === "call" ? "aria-pressed" : "aria-expanded", String(panel.isOpen()));
    el.classList.toggle("ctl-active", mode === "call" && panel.isOpen());
  };
  el.addEventListener("click", () => {
    panel.setOpen(!panel.isOpen());
    sync();
  });
  sync();
  return { el, sync };
}

function downloadName(info: RecordingInfo): string {
  const d = new Date(info.createdAtMs || Date.now());
  const p = (n: number) => String(n).padStart(2, "0");
  const kind = { [RecordingKind.CAMERA]: "camera", [RecordingKind.SCREEN]: "screen", [RecordingKind.MEETING]: "meeting" }[info.kind as number] ?? "recording";
  return `huddle-${kind}-${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}.webm`;
}
