// The file transfer UI of the call: the control bar's "Send file" button and
// its dialog (a file, and one participant or everyone), dropping files on a
// tile (that participant) or anywhere else on the stage (everyone), and the
// transfers list: per transfer its name, size, the other participant,
// progress, speed and time left, Accept / Decline for an incoming offer,
// Cancel while it runs, and Save again / Dismiss once over. Items are built
// once and updated in place.
import { h, setText } from "../ui/dom";
import { toast } from "../ui/toast";
import type { CallSession } from "../call/session";
import { FileTransfers, type FilesChange } from "./manager";
import { MAX_FILE_LABEL, formatBytes, formatDuration } from "./protocol";
import { IncomingTransfer, type Transfer } from "./transfer";
import "./files.css";

const SVG_NS = "http://www.w3.org/2000/svg";
// Material "attach_file".
const ATTACH_PATH =
  "M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5c0-1.38 1.12-2.5 2.5-2.5s2.5 1.12 2.5 2.5v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5c0 1.38 1.12 2.5 2.5 2.5s2.5-1.12 2.5-2.5V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5z";
const DROP_CLASS = "files-drop";
const ERROR_TOAST_MS = 6000;

function attachIcon(size = 24): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ATTACH_PATH);
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

const STATE_TEXT: Record<string, string> = {
  offering: "Waiting for an answer…",
  offered: "Wants to send you a file",
  verifying: "Checking…",
  declined: "Declined",
  cancelled: "Cancelled",
};

// Item is one transfer's row in the list.
class Item {
  readonly el: HTMLElement;
  private readonly status: HTMLElement;
  private readonly progress: HTMLProgressElement;
  private readonly accept: HTMLButtonElement;
  private readonly decline: HTMLButtonElement;
  private readonly cancel: HTMLButtonElement;
  private readonly save: HTMLAnchorElement;
  private readonly dismiss: HTMLButtonElement;

  constructor(
    readonly t: Transfer,
    peerName: string,
    onDismiss: () => void,
  ) {
    const incoming = t.direction === "receive";
    const label = incoming ? `Receiving ${t.name} from ${peerName}` : `Sending ${t.name} to ${peerName}`;
    this.status = h("p", { class: "files-status" });
    this.progress = h("progress", { class: "files-progress", attrs: { max: Math.max(1, t.size), value: 0, "aria-label": `Progress of ${t.name}` } });
    this.accept = h("button", { class: "btn btn-primary", attrs: { type: "button" }, on: { click: () => void this.onAccept() } }, "Accept");
    this.decline = h("button", { class: "btn btn-text", attrs: { type: "button" }, on: { click: () => t instanceof IncomingTransfer && t.decline() } }, "Decline");
    this.cancel = h("button", { class: "btn btn-text", attrs: { type: "button" }, on: { click: () => t.cancel() } }, "Cancel");
    this.save = h("a", { class: "btn btn-text", attrs: { hidden: true } }, "Save again");
    this.dismiss = h("button", { class: "btn btn-text", attrs: { type: "button", "aria-label": `Dismiss ${t.name}` }, on: { click: onDismiss } }, "Dismiss");
    this.el = h(
      "li",
      { class: `files-item files-${t.direction}`, attrs: { role: "group", "aria-label": label, "data-transfer-id": t.id } },
      h(
        "div",
        { class: "files-head" },
        attachIcon(20),
        h("span", { class: "files-name", attrs: { title: t.name } }, t.name),
        h("span", { class: "files-size" }, formatBytes(t.size)),
      ),
      h("p", { class: "files-peer" }, incoming ? `From ${peerName}` : `To ${peerName}`),
      this.progress,
      this.status,
      h("div", { class: "files-actions" }, this.decline, this.accept, this.cancel, this.save, this.dismiss),
    );
    this.update();
  }

  private async onAccept(): Promise<void> {
    if (this.t instanceof IncomingTransfer) await this.t.accept();
  }

  update(): void {
    const t = this.t;
    const offered = t.state === "offered";
    this.el.dataset.state = t.state;
    this.accept.hidden = this.decline.hidden = !offered;
    this.cancel.hidden = offered || t.finished;
    this.dismiss.hidden = !t.finished;
    const url = t instanceof IncomingTransfer && t.state === "done" ? t.url : "";
    this.save.hidden = !url;
    if (url && this.save.getAttribute("href") !== url) {
      this.save.href = url;
      this.save.download = t.name;
    }
    const bytes = t.bytes;
    this.progress.value = t.state === "done" ? Math.max(1, t.size) : bytes;
    this.progress.hidden = offered || t.state === "declined";
    this.el.classList.toggle("files-failed", t.state === "failed");
    setText(this.status, this.statusText(bytes));
  }

  private statusText(bytes: number): string {
    const t = this.t;
    if (t.state === "sending" || t.state === "receiving") {
      const pct = t.size > 0 ? Math.floor((bytes * 100) / t.size) : 100;
      const speed = t.speed;
      const parts = [`${pct}%`, `${formatBytes(bytes)} of ${formatBytes(t.size)}`];
      if (speed > 0) {
        parts.push(`${formatBytes(speed)}/s`);
        parts.push(`${formatDuration((t.size - bytes) / speed)} left`);
      }
      return parts.join(" · ");
    }
    if (t.state === "done") {
      const s = (t.endedAtMs - t.startedAtMs) / 1000;
      const avg = s > 0 ? ` · ${formatBytes(t.size / s)}/s` : "";
      return t.direction === "receive" ? `Saved, SHA-256 verified${avg}` : `Sent, SHA-256 verified by the receiver${avg}`;
    }
    if (t.state === "failed") return t.error || "Failed";
    if (t.state === "cancelled") return t.error || "Cancelled";
    return STATE_TEXT[t.state] ?? "";
  }
}

export interface FilesView {
  readonly button: HTMLButtonElement; // "Send file", for the control bar
  readonly el: HTMLElement; // the transfers list and the dialog
  // attachDrop makes stage a drop target: a tile means its participant.
  attachDrop(stage: HTMLElement): void;
  readonly manager: FileTransfers;
  destroy(): void;
}

// renderFiles builds the file transfer UI for a call.
export function renderFiles(session: CallSession, manager: FileTransfers): FilesView {
  const items = new Map<Transfer, Item>();
  const list = h("ul", { class: "files-list" });
  const live = h("div", { class: "sr-only", attrs: { "aria-live": "polite" } });
  const panel = h("section", { class: "files-panel", attrs: { "aria-label": "File transfers", hidden: true } }, list, live);

  // ---- the Send file dialog ----
  const input = h("input", { class: "files-input", attrs: { type: "file", multiple: true, id: "files-input" } });
  const select = h("select", { class: "select", attrs: { id: "files-to" } });
  const error = h("p", { class: "form-error", attrs: { role: "alert" } });
  const sendButton = h("button", { class: "btn btn-primary", attrs: { type: "submit" } }, "Send");
  const dialog = h(
    "dialog",
    { class: "dialog files-dialog", attrs: { "aria-labelledby": "files-title" } },
    h(
      "form",
      { attrs: { method: "dialog" } },
      h("h2", { class: "dialog-title", attrs: { id: "files-title" } }, "Send a file"),
      h("p", { class: "files-hint" }, `Straight to the others' browsers, up to ${MAX_FILE_LABEL}. You can also drop files on a tile or on the call.`),
      h("label", { class: "field-label", attrs: { for: "files-input" } }, "File"),
      input,
      h("label", { class: "field-label", attrs: { for: "files-to" } }, "Send to"),
      select,
      error,
      h("div", { class: "dialog-actions" }, h("button", { class: "btn btn-text", attrs: { type: "button" }, on: { click: () => dialog.close() } }, "Close"), sendButton),
    ),
  );
  dialog.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const files = [...(input.files ?? [])];
    const why = manager.send(files, select.value || null);
    if (why) {
      error.textContent = why;
      return;
    }
    dialog.close();
  });

  function fillRecipients(preselect: string | null): void {
    const keep = preselect ?? select.value;
    const options = [h("option", { value: "" }, "Everyone")];
    for (const p of session.participants.values()) options.push(h("option", { value: p.id }, p.displayName || "Someone"));
    select.replaceChildren(...options);
    select.value = options.some((o) => o.value === keep) ? keep : "";
  }

  const button = h(
    "button",
    {
      class: "ctl files-button",
      attrs: { type: "button", "aria-label": "Send file", title: "Send file", "aria-haspopup": "dialog" },
      on: {
        click: () => {
          error.textContent = "";
          input.value = "";
          fillRecipients(null);
          dialog.showModal();
        },
      },
    },
    attachIcon(),
  );

  // ---- the list ----
  function onChange(c: FilesChange): void {
    if (c.kind === "added") {
      const t = c.transfer;
      const item = new Item(t, manager.peerName(t.peerId), () => manager.dismiss(t));
      items.set(t, item);
      list.prepend(item.el);
      if (t.direction === "receive" && t.state === "offered") {
        setText(live, `${manager.peerName(t.peerId)} wants to send you ${t.name} (${formatBytes(t.size)})`);
      }
    } else if (c.kind === "removed") {
      items.get(c.transfer)?.el.remove();
      items.delete(c.transfer);
    } else if (c.kind === "updated") {
      const item = items.get(c.transfer);
      item?.update();
      const t = c.transfer;
      if (t.state === "failed" && t.direction === "receive") toast(`${t.name}: ${t.error}`, ERROR_TOAST_MS);
    } else {
      for (const item of items.values()) if (!item.t.finished) item.update();
    }
    panel.hidden = items.size === 0;
  }
  const unsubscribe = manager.onChange(onChange);
  for (const t of manager.transfers) onChange({ kind: "added", transfer: t });

  // ---- drag and drop ----
  let dropTarget: Element | null = null;
  const setDropTarget = (el: Element | null) => {
    if (el === dropTarget) return;
    dropTarget?.classList.remove(DROP_CLASS);
    dropTarget = el;
    dropTarget?.classList.add(DROP_CLASS);
  };
  const hasFiles = (ev: DragEvent) => !!ev.dataTransfer && [...ev.dataTransfer.types].includes("Files");
  // targetOf: the remote participant's tile (camera or screen) under the
  // pointer, else the stage.
  const targetOf = (stage: HTMLElement, ev: DragEvent): { el: Element; to: string | null } => {
    const tile = (ev.target as Element | null)?.closest?.(".tile[data-participant-id], .tile[data-screen-of]") as HTMLElement | null;
    const id = tile?.dataset.participantId ?? tile?.dataset.screenOf ?? "";
    if (tile && session.participants.has(id)) return { el: tile, to: id };
    return { el: stage, to: null };
  };
  const cleanups: Array<() => void> = [];

  return {
    button,
    el: h("div", { class: "files-root" }, panel, dialog),
    manager,
    attachDrop(stage: HTMLElement) {
      const over = (ev: DragEvent) => {
        if (!hasFiles(ev)) return;
        ev.preventDefault();
        if (ev.dataTransfer) ev.dataTransfer.dropEffect = "copy";
        setDropTarget(targetOf(stage, ev).el);
      };
      const leave = (ev: DragEvent) => {
        if (!ev.relatedTarget || !stage.contains(ev.relatedTarget as Node)) setDropTarget(null);
      };
      const drop = (ev: DragEvent) => {
        if (!hasFiles(ev)) return;
        ev.preventDefault();
        const { to } = targetOf(stage, ev);
        setDropTarget(null);
        const why = manager.send([...(ev.dataTransfer?.files ?? [])], to);
        if (why) toast(why, ERROR_TOAST_MS);
      };
      stage.addEventListener("dragover", over);
      stage.addEventListener("dragleave", leave);
      stage.addEventListener("drop", drop);
      cleanups.push(() => {
        stage.removeEventListener("dragover", over);
        stage.removeEventListener("dragleave", leave);
        stage.removeEventListener("drop", drop);
      });
    },
    destroy() {
      unsubscribe();
      for (const c of cleanups) c();
      if (dialog.open) dialog.close();
    },
  };
}
