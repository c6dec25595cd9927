// ChatPanel is the meeting's chat: the message list (history with scroll-up
// paging, sender and time, consecutive messages of one sender grouped, our
// own posts dimmed while pending), and the composer (Enter sends, Shift+Enter
// is a new line, 4096-byte limit). Beside the call it is a toggled side panel;
// on the pre-join page it is always shown.
//
// Message text is user data: it goes into the DOM only as text nodes, and
// http(s) URLs become <a> elements whose href is set from a parsed URL.
import { ChatClient, MAX_TEXT_BYTES, byteLength, trimText, type ChatChange, type PendingPost } from "../chat/client";
import type { ChatMessage } from "../proto";
import { h, setText } from "./dom";
import { icon } from "./icons";

const GROUP_GAP_MS = 5 * 60_000;
const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 48;
const COUNTER_FROM_BYTES = 3000;
const ANNOUNCE_MAX = 3;
const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;

export interface ChatPanelOptions {
  chat: ChatClient;
  mode: "call" | "page";
  // The sender name for posts; "" while there is none (the composer says so).
  getName: () => string;
  onClose?: () => void;
  onUnread?: (count: number) => void;
}

let panelSeq = 0;

// linkify turns text into text nodes and links for its http(s) URLs.
export function linkify(text: string): Node[] {
  const out: Node[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    // Trailing punctuation belongs to the sentence, not the URL ("see https://x.org/.").
    const trail = /[.,;:!?'")\]}]+$/.exec(raw);
    if (trail) {
      // Keep a closing paren that has an opening one in the URL (Wikipedia links).
      let cut = trail[0];
      if (cut.startsWith(")") && raw.slice(0, -cut.length).includes("(")) cut = cut.slice(1);
      raw = raw.slice(0, raw.length - cut.length);
    }
    const start = m.index ?? 0;
    let href = "";
    try {
      const u = new URL(raw);
      if (u.protocol === "http:" || u.protocol === "https:") href = u.href;
    } catch {
      /* not a URL after all */
    }
    if (!href) continue;
    if (start > last) out.push(document.createTextNode(text.slice(last, start)));
    const a = document.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.className = "chat-link";
    a.textContent = raw;
    out.push(a);
    last = start + raw.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// formatTime: "14:05" today, "3 Nov, 14:05" earlier this year, else with the year.
export function formatTime(ms: number, now = new Date()): string {
  const d = new Date(ms);
  const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (sameDay(d, now)) return t;
  const date = d.toLocaleDateString([], d.getFullYear() === now.getFullYear() ? { day: "numeric", month: "short" } : { day: "numeric", month: "short", year: "numeric" });
  return `${date}, ${t}`;
}

interface Row {
  key: string;
  senderName: string;
  senderId: string;
  atMs: number;
  text: string;
  seq: number;
  own: boolean;
  pending?: PendingPost;
}

export class ChatPanel {
  readonly el: HTMLElement;
  readonly id: string;
  unread = 0;
  private open: boolean;
  private readonly list: HTMLOListElement;
  private readonly scroller: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly older: HTMLElement;
  private readonly status: HTMLElement;
  private readonly live: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly send: HTMLButtonElement;
  private readonly counter: HTMLElement;
  private readonly hint: HTMLElement;
  private readonly jump: HTMLButtonElement;
  private readonly unsubscribe: () => void;
  private readonly chat: ChatClient;
  private stickToBottom = true;

  constructor(private readonly opts: ChatPanelOptions) {
    this.chat = opts.chat;
    this.id = `chat-${++panelSeq}`;
    this.open = opts.mode === "page";
    const titleId = `${this.id}-title`;
    const inputId = `${this.id}-input`;
    const counterId = `${this.id}-counter`;
    const hintId = `${this.id}-hint`;

    const close =
      opts.mode === "call"
        ? h(
            "button",
            { class: "icon-btn chat-close", attrs: { type: "button", "aria-label": "Close chat", title: "Close chat" }, on: { click: () => opts.onClose?.() } },
            icon("close", 20),
          )
        : null;
    this.status = h("p", { class: "chat-status", attrs: { role: "status" } });
    this.older = h("p", { class: "chat-older", attrs: { hidden: true } }, "Loading older messages…");
    this.list = h("ol", { class: "chat-list", attrs: { "aria-label": "Messages" } });
    this.empty = h("p", { class: "chat-empty", attrs: { hidden: true } });
    this.scroller = h("div", { class: "chat-scroll", attrs: { tabindex: 0, "aria-labelledby": titleId } }, this.older, this.list, this.empty);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.jump = h(
      "button",
      { class: "chat-jump", attrs: { type: "button", hidden: true }, on: { click: () => this.scrollToBottom() } },
      icon("arrowDown", 16),
      h("span", {}, "New messages"),
    );
    // New messages from others are read out once, as text (the list itself is re-rendered).
    this.live = h("div", { class: "sr-only", attrs: { "aria-live": "polite", "aria-atomic": "false" } });

    this.input = h("textarea", {
      class: "chat-input",
      attrs: { id: inputId, rows: 1, placeholder: "Send a message", "aria-describedby": `${hintId} ${counterId}`, enterkeyhint: "send" },
    });
    this.send = h(
      "button",
      { class: "icon-btn chat-send", attrs: { type: "submit", "aria-label": "Send message", title: "Send message" } },
      icon("send", 20),
    );
    this.counter = h("p", { class: "chat-counter", attrs: { id: counterId, "aria-live": "polite" } });
    this.hint = h("p", { class: "chat-hint", attrs: { id: hintId } });
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.updateComposer());
    const form = h(
      "form",
      {
        class: "chat-compose",
        on: {
          submit: (ev) => {
            ev.preventDefault();
            this.submit();
          },
        },
      },
      h("label", { class: "sr-only", attrs: { for: inputId } }, "Send a message to everyone"),
      h("div", { class: "chat-compose-row" }, this.input, this.send),
      this.counter,
      this.hint,
    );

    this.el = h(
      "aside",
      { class: `chat-panel chat-${opts.mode}`, attrs: { id: this.id, "aria-labelledby": titleId, hidden: !this.open } },
      h(
        "header",
        { class: "chat-head" },
        h("h2", { class: "chat-title", attrs: { id: titleId } }, opts.mode === "call" ? "In-call messages" : "Meeting chat"),
        close,
      ),
      h("p", { class: "chat-note" }, "Messages stay with this meeting's link: anyone who has it can read them, now and later."),
      this.status,
      h("div", { class: "chat-body" }, this.scroller, this.jump),
      this.live,
      form,
    );

    this.unsubscribe = this.chat.onChange((c) => this.onChange(c));
    this.render();
    this.updateComposer();
    this.updateStatus();
  }

  isOpen(): boolean {
    return this.open;
  }

  setOpen(open: boolean): void {
    if (this.open === open) return;
    this.open = open;
    this.el.hidden = !open;
    if (open) {
      this.unread = 0;
      this.opts.onUnread?.(0);
      this.render();
      this.scrollToBottom();
      this.input.focus();
    }
  }

  // refreshName re-checks the sender name (the pre-join name field changed).
  refreshName(): void {
    this.updateComposer();
  }

  focusInput(): void {
    this.input.focus();
  }

  destroy(): void {
    this.unsubscribe();
  }

  // ---- events ----

  private onChange(c: ChatChange): void {
    if (c.kind === "state") {
      this.updateStatus();
      this.older.hidden = !this.chat.loadingOlder;
      if (this.chat.loaded) this.render();
      this.updateComposer();
      return;
    }
    if (c.kind === "messages" && c.live) {
      const others = c.added.filter((m) => !this.chat.ownIds.has(m.clientMessageId));
      if (others.length) {
        if (!this.open) {
          this.unread += others.length;
          this.opts.onUnread?.(this.unread);
        } else {
          this.announce(others);
        }
      }
    }
    const older = c.kind === "messages" && c.older;
    this.render(older);
  }

  private announce(msgs: ChatMessage[]): void {
    for (const m of msgs.slice(-ANNOUNCE_MAX)) {
      this.live.appendChild(h("p", {}, `${m.senderName}: ${m.text}`));
    }
    while (this.live.childElementCount > ANNOUNCE_MAX) this.live.firstElementChild?.remove();
  }

  private onScroll(): void {
    const s = this.scroller;
    this.stickToBottom = s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
    if (this.stickToBottom) this.jump.hidden = true;
    if (s.scrollTop < NEAR_TOP_PX) void this.chat.loadOlder();
  }

  private scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.stickToBottom = true;
    this.jump.hidden = true;
  }

  private submit(): void {
    if (this.send.disabled) {
      if (!this.opts.getName()) this.hint.classList.add("chat-hint-alert");
      return;
    }
    const err = this.chat.post(this.input.value, this.opts.getName());
    if (err) {
      setText(this.hint, err);
      return;
    }
    this.input.value = "";
    this.updateComposer();
    this.scrollToBottom();
  }

  private updateComposer(): void {
    const name = this.opts.getName();
    const text = trimText(this.input.value);
    const n = byteLength(text);
    const over = n > MAX_TEXT_BYTES;
    const usable = this.chat.state !== "unavailable" && this.chat.state !== "closed";
    this.input.disabled = !usable;
    this.send.disabled = !usable || !name || !text || over;
    this.counter.hidden = n < COUNTER_FROM_BYTES;
    this.counter.classList.toggle("chat-counter-over", over);
    setText(this.counter, over ? `Too long: ${n} of ${MAX_TEXT_BYTES} bytes` : `${n} / ${MAX_TEXT_BYTES} bytes`);
    this.hint.classList.remove("chat-hint-alert");
    setText(this.hint, name || !usable ? "" : this.opts.mode === "page" ? "Enter your name to send messages." : "");
    this.hint.hidden = !this.hint.textContent;
    // Grow with the text up to a few lines.
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 144)}px`;
  }

  private updateStatus(): void {
    const s = this.chat.state;
    const text =
      s === "unavailable" ? this.chat.unavailable || "Chat is unavailable." : s === "closed" ? "" : s === "connecting" ? (this.chat.loaded ? "Reconnecting to chat…" : "Connecting to chat…") : "";
    setText(this.status, text);
    this.status.hidden = !text;
  }

  // ---- rendering ----

  private rows(): Row[] {
    const rows: Row[] = this.chat.messages.map((m) => ({
      key: `s${m.seq}`,
      senderName: m.senderName,
      senderId: m.senderId,
      atMs: Number(m.sentAtMs),
      text: m.text,
      seq: Number(m.seq),
      own: this.chat.ownIds.has(m.clientMessageId),
    }));
    for (const p of this.chat.pending) {
      rows.push({ key: `p${p.cid}`, senderName: p.senderName, senderId: "", atMs: p.createdAtMs, text: p.text, seq: 0, own: true, pending: p });
    }
    return rows;
  }

  // render rebuilds the list (text nodes only) and keeps the reader's place:
  // at the bottom if they were there, else where they were (also when older
  // messages are put above).
  private render(older = false): void {
    if (!this.open) return;
    const s = this.scroller;
    const prevHeight = s.scrollHeight;
    const prevTop = s.scrollTop;
    const wasAtBottom = this.stickToBottom;
    const rows = this.rows();
    const now = new Date();
    const items: HTMLLIElement[] = [];
    let group: HTMLLIElement | null = null;
    let prev: Row | null = null;
    for (const r of rows) {
      const startsGroup =
        !prev || !group || prev.senderName !== r.senderName || prev.senderId !== r.senderId || prev.own !== r.own || r.atMs - prev.atMs > GROUP_GAP_MS || !sameDay(new Date(prev.atMs), new Date(r.atMs));
      if (startsGroup) {
        group = h(
          "li",
          { class: `chat-group${r.own ? " chat-own" : ""}` },
          h(
            "div",
            { class: "chat-meta" },
            h("span", { class: "chat-sender" }, r.senderName),
            h("time", { class: "chat-time", attrs: { datetime: new Date(r.atMs).toISOString(), title: new Date(r.atMs).toLocaleString() } }, formatTime(r.atMs, now)),
          ),
        );
        items.push(group);
      }
      group!.appendChild(this.messageEl(r));
      prev = r;
    }
    this.list.replaceChildren(...items);
    const loaded = this.chat.loaded;
    const emptyText = rows.length > 0 || this.chat.state === "unavailable" ? "" : loaded ? "No messages yet" : "Loading messages…";
    setText(this.empty, emptyText);
    this.empty.hidden = !emptyText;
    if (older) {
      s.scrollTop = prevTop + (s.scrollHeight - prevHeight);
    } else if (wasAtBottom) {
      s.scrollTop = s.scrollHeight;
    } else if (s.scrollHeight > prevHeight) {
      this.jump.hidden = false;
    }
    // A first page that does not fill the panel: read older ones right away.
    if (loaded && this.chat.olderMore && s.scrollHeight <= s.clientHeight + NEAR_TOP_PX) void this.chat.loadOlder();
  }

  private messageEl(r: Row): HTMLElement {
    const text = h("p", { class: "chat-text" }, ...linkify(r.text));
    const el = h("div", { class: "chat-msg", attrs: { "data-seq": r.seq || undefined, title: new Date(r.atMs).toLocaleString() } }, text);
    if (r.pending) {
      const p = r.pending;
      el.classList.add(p.fatal ? "chat-failed" : "chat-pending");
      el.dataset.pending = "true";
      const state = h("span", { class: "chat-state" }, p.fatal ? `Not sent: ${p.error || "refused"}` : p.error ? "Not sent yet, retrying…" : "Sending…");
      const row = h("div", { class: "chat-msg-status" }, state);
      if (p.fatal) {
        row.append(
          h("button", { class: "link-btn", attrs: { type: "button" }, on: { click: () => this.chat.retry(p.cid) } }, "Retry"),
          h("button", { class: "link-btn", attrs: { type: "button" }, on: { click: () => this.chat.discard(p.cid) } }, "Delete"),
        );
      }
      el.appendChild(row);
    }
    return el;
  }
}
