// DocPanel is the side panel of one shared document: the editor, and above
// it the document's tools — the Language select (code pad), Preview (notes:
// the Markdown rendered and sanitized), Versions (the kept snapshots by time
// and author, a read-only preview of one, and Restore), Download (notes.md or
// code.<ext>) and Close. A status line says when edits wait for the server.
//
// The panel listens to its document's typed changes: the preview re-renders
// on "text", the select follows "language", the status "state", an open
// version list "versions".
import { h, setText } from "../ui/dom";
import { icon } from "../ui/icons";
import { toast } from "../ui/toast";
import { formatTime } from "../ui/chat";
import { DocumentKind, type NotesVersion } from "../proto";
import type { NotesClient } from "./client";
import type { DocChange, SharedDoc } from "./doc";
import { DocEditor } from "./editor";
import { LANGUAGES, languageById } from "./languages";
import { renderMarkdown } from "./markdown";

const PREVIEW_DEBOUNCE_MS = 150;

export interface DocPanelOptions {
  client: NotesClient;
  kind: "notes" | "code";
  mode: "call" | "page";
  onClose: () => void;
}

let panelSeq = 0;

export class DocPanel {
  readonly el: HTMLElement;
  readonly id: string;
  private readonly doc: SharedDoc;
  private readonly editor: DocEditor;
  private readonly editorBox: HTMLElement;
  private readonly preview: HTMLElement | null;
  private readonly previewButton: HTMLButtonElement | null;
  private readonly versionsButton: HTMLButtonElement;
  private readonly versionsBox: HTMLElement;
  private readonly select: HTMLSelectElement | null;
  private readonly status: HTMLElement;
  private readonly unsubscribe: Array<() => void> = [];
  private previewTimer?: ReturnType<typeof setTimeout>;
  private showing: "editor" | "preview" | "versions" = "editor";
  private versionsLoad = 0;

  constructor(private readonly opts: DocPanelOptions) {
    this.id = `doc-${opts.kind}-${++panelSeq}`;
    this.doc = opts.client.doc(opts.kind);
    const titleId = `${this.id}-title`;
    const notes = opts.kind === "notes";

    this.select = notes ? null : h("select", { class: "doc-select", attrs: { id: `${this.id}-lang` } });
    if (this.select) {
      for (const l of LANGUAGES) this.select.append(h("option", { attrs: { value: l.id } }, l.label));
      this.select.value = this.doc.language;
      this.select.addEventListener("change", () => this.doc.setLanguage(this.select!.value));
    }
    this.previewButton = notes
      ? h("button", { class: "btn btn-text doc-tool", attrs: { type: "button", "aria-pressed": "false" }, on: { click: () => this.show(this.showing === "preview" ? "editor" : "preview") } }, "Preview")
      : null;
    this.versionsButton = h(
      "button",
      { class: "btn btn-text doc-tool", attrs: { type: "button", "aria-pressed": "false", "aria-controls": `${this.id}-versions` }, on: { click: () => this.show(this.showing === "versions" ? "editor" : "versions") } },
      "Versions",
    );
    const download = h("button", { class: "btn btn-text doc-tool", attrs: { type: "button" }, on: { click: () => this.download() } }, "Download");
    const close = h(
      "button",
      { class: "icon-btn doc-close", attrs: { type: "button", "aria-label": "Close panel", title: "Close panel" }, on: { click: () => opts.onClose() } },
      icon("close", 20),
    );
    this.status = h("p", { class: "doc-status", attrs: { role: "status" } });
    this.editorBox = h("div", { class: "doc-editor" });
    this.preview = notes ? h("article", { class: "doc-preview markdown-body", attrs: { hidden: true, "aria-label": "Notes preview", tabindex: 0 } }) : null;
    this.versionsBox = h("div", { class: "doc-versions", attrs: { id: `${this.id}-versions`, hidden: true } });

    this.el = h(
      "aside",
      { class: `doc-panel doc-${opts.mode}`, attrs: { id: this.id, "aria-labelledby": titleId, "data-document": opts.kind } },
      h(
        "header",
        { class: "doc-head" },
        h("h2", { class: "doc-title", attrs: { id: titleId } }, notes ? "Shared notes" : "Code pad"),
        close,
      ),
      h(
        "div",
        { class: "doc-toolbar" },
        this.select ? h("label", { class: "doc-lang", attrs: { for: this.select.id } }, h("span", {}, "Language"), this.select) : null,
        this.previewButton,
        this.versionsButton,
        download,
      ),
      this.status,
      h("div", { class: "doc-body" }, this.editorBox, this.preview, this.versionsBox),
    );
    this.editor = new DocEditor(this.editorBox, this.doc);
    this.unsubscribe.push(this.doc.onChange((c) => this.onDocChange(c)));
    this.unsubscribe.push(opts.client.onChange(() => this.updateStatus()));
    this.updateStatus();
  }

  focus(): void {
    if (this.showing === "editor") this.editor.focus();
  }

  destroy(): void {
    clearTimeout(this.previewTimer);
    for (const u of this.unsubscribe) u();
    this.editor.destroy();
  }

  private onDocChange(c: DocChange): void {
    switch (c.kind) {
      case "text":
        if (this.showing === "preview") {
          clearTimeout(this.previewTimer);
          this.previewTimer = setTimeout(() => this.renderPreview(), PREVIEW_DEBOUNCE_MS);
        }
        return;
      case "language":
        if (this.select) this.select.value = this.doc.language;
        return;
      case "state":
        this.updateStatus();
        return;
      case "versions":
        if (this.showing === "versions" && !this.versionsBox.querySelector(".doc-version-preview")) void this.loadVersions();
        return;
      case "peers":
        return;
    }
  }

  private show(what: "editor" | "preview" | "versions"): void {
    this.showing = what;
    this.editorBox.hidden = what !== "editor";
    if (this.preview) this.preview.hidden = what !== "preview";
    this.versionsBox.hidden = what !== "versions";
    this.previewButton?.setAttribute("aria-pressed", String(what === "preview"));
    if (this.previewButton) setText(this.previewButton, what === "preview" ? "Edit" : "Preview");
    this.versionsButton.setAttribute("aria-pressed", String(what === "versions"));
    if (what === "preview") this.renderPreview();
    if (what === "versions") void this.loadVersions();
    if (what === "editor") this.editor.focus();
  }

  private renderPreview(): void {
    if (!this.preview) return;
    const text = this.doc.text.toString();
    if (!text.trim()) {
      this.preview.replaceChildren(h("p", { class: "doc-empty" }, "Nothing written yet."));
      return;
    }
    this.preview.replaceChildren(renderMarkdown(text));
  }

  private updateStatus(): void {
    const s = this.opts.client.state;
    const pending = this.doc.pending;
    let text = "";
    if (s === "unavailable") text = this.opts.client.unavailable || "Shared documents are unavailable.";
    else if (s === "connecting") text = pending ? "Offline. Your edits are kept here and will be sent when the connection returns." : this.doc.loaded ? "Reconnecting…" : "Connecting…";
    else if (this.doc.error) text = this.doc.error;
    setText(this.status, text);
    this.status.hidden = !text;
  }

  // ---- versions ----

  private async loadVersions(): Promise<void> {
    const load = ++this.versionsLoad;
    const box = this.versionsBox;
    if (!box.firstChild) box.replaceChildren(h("p", { class: "doc-empty" }, "Loading versions…"));
    let versions: NotesVersion[];
    try {
      versions = await this.opts.client.versions(this.doc.kind);
    } catch (e) {
      if (load !== this.versionsLoad) return;
      box.replaceChildren(h("p", { class: "doc-empty" }, "Versions can't be loaded right now."));
      console.warn("huddle: notes versions", e);
      return;
    }
    if (load !== this.versionsLoad || this.showing !== "versions") return;
    if (versions.length === 0) {
      box.replaceChildren(h("p", { class: "doc-empty" }, "No versions yet. One is saved a few seconds after someone stops typing."));
      return;
    }
    const now = new Date();
    const list = h("ul", { class: "doc-version-list", attrs: { "aria-label": "Versions" } });
    for (const v of versions) {
      const at = Number(v.createdAtMs);
      const who = v.authorName || "Someone";
      list.append(
        h(
          "li",
          {},
          h(
            "button",
            { class: "doc-version", attrs: { type: "button", "data-version": String(v.version) }, on: { click: () => void this.openVersion(v) } },
            h("time", { attrs: { datetime: new Date(at).toISOString() } }, `${formatTime(at, now)}:${String(new Date(at).getSeconds()).padStart(2, "0")}`),
            h("span", { class: "doc-version-author" }, who),
            h("span", { class: "doc-version-size" }, `${v.textBytes} bytes${v.language ? ` · ${languageById(v.language)?.label ?? v.language}` : ""}`),
          ),
        ),
      );
    }
    box.replaceChildren(list);
  }

  private async openVersion(v: NotesVersion): Promise<void> {
    const load = ++this.versionsLoad;
    const box = this.versionsBox;
    let text: string;
    let language: string;
    try {
      const snap = await this.opts.client.version(this.doc.kind, v.version);
      text = snap.text;
      language = snap.version?.language ?? v.language;
    } catch (e) {
      console.warn("huddle: notes version", e);
      toast("That version can't be loaded right now");
      return;
    }
    if (load !== this.versionsLoad || this.showing !== "versions") return;
    const at = new Date(Number(v.createdAtMs));
    const restore = h(
      "button",
      {
        class: "btn btn-primary",
        attrs: { type: "button" },
        on: {
          click: () => {
            this.doc.replaceText(text, this.doc.kind === DocumentKind.CODE ? language : "");
            toast(`Restored the version of ${at.toLocaleString()}`);
            this.show("editor");
          },
        },
      },
      "Restore",
    );
    const back = h("button", { class: "btn btn-outline", attrs: { type: "button" }, on: { click: () => void this.loadVersions() } }, "Back to versions");
    box.replaceChildren(
      h(
        "section",
        { class: "doc-version-preview", attrs: { "aria-label": `Version of ${at.toLocaleString()}` } },
        h("p", { class: "doc-version-meta" }, `${at.toLocaleString()} · ${v.authorName || "Someone"}`),
        h("pre", { class: "doc-version-text", attrs: { tabindex: 0, "aria-label": "Version text" } }, text),
        h("div", { class: "doc-version-actions" }, back, restore),
      ),
    );
  }

  // ---- download ----

  private download(): void {
    const name = this.doc.name === "notes" ? "notes.md" : `code.${languageById(this.doc.language)?.ext ?? "txt"}`;
    const type = this.doc.name === "notes" ? "text/markdown" : "text/plain";
    const url = URL.createObjectURL(new Blob([this.doc.text.toString()], { type: `${type};charset=utf-8` }));
    const a = h("a", { attrs: { href: url, download: name } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
