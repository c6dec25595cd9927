// /dashboard: a professional's space. Create a space (its key is shown once)
// or open one with its key (kept in this browser's localStorage, sent only
// in an Authorization header). The page lists the space's meetings and shows,
// live (GET /api/space every DASHBOARD_POLL_MS), who is in each call and who
// is waiting, with Admit / Deny right there; per meeting a signed guest link
// (optionally for a named client) is minted and copied, and "Open as host"
// opens the meeting with the space key in the URL fragment.
import {
  ApiError,
  admit,
  createSpace,
  createSpaceMeeting,
  getSpace,
  mintLink,
  type AccessModeName,
  type SpaceInfo,
  type SpaceMeeting,
  type SpaceWaiting,
} from "../api";
import { setSpaceKey, spaceKey } from "../access/keys";
import { brand } from "./brand";
import { copyText } from "./clipboard";
import { avatarColor, h, initials, setText } from "./dom";
import { beep, sinceText } from "./host";
import { icon } from "./icons";
import { toast } from "./toast";

export const DASHBOARD_POLL_MS = 2000;
const TITLE_MAX_BYTES = 256;

export interface DashboardView {
  destroy(): void;
}

const MODE_TEXT: Record<AccessModeName, string> = {
  open: "Open",
  waiting_room: "Waiting room",
  locked: "Locked",
  token_only: "Signed links only",
};

function errText(e: unknown): string {
  if (e instanceof ApiError) return e.message || `HTTP ${e.status}`;
  return e instanceof Error ? e.message : String(e);
}

function whenText(m: SpaceMeeting): string {
  const fmt = (ms: number) =>
    new Date(ms).toLocaleString([], { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  if (m.startsAtMs > 0) return fmt(m.startsAtMs);
  return m.createdAtMs > 0 ? `Created ${fmt(m.createdAtMs)}` : "";
}

export function renderDashboard(root: HTMLElement): DashboardView {
  let destroyed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = h("main", { class: "dash-main" });
  const headRight = h("div", { class: "dash-head-right" });
  root.replaceChildren(
    h(
      "div",
      { class: "page dash-page" },
      h("header", { class: "topbar dash-topbar" }, brand(), h("span", { class: "dash-crumb" }, "Dashboard"), headRight),
      body,
    ),
  );

  function showStart(message = ""): void {
    clearTimeout(timer);
    headRight.replaceChildren();
    const createName = h("input", { class: "text-input", attrs: { id: "space-name", type: "text", maxlength: 120, autocomplete: "organization" } });
    const createErr = h("p", { class: "form-error", attrs: { role: "alert" } });
    const createBtn = h("button", { class: "btn btn-primary", attrs: { type: "submit" } }, "Create space");
    const keyInput = h("input", { class: "text-input", attrs: { id: "space-key", type: "password", autocomplete: "current-password", spellcheck: "false" } });
    const openErr = h("p", { class: "form-error", attrs: { role: "alert" } }, message);
    const openBtn = h("button", { class: "btn btn-outline", attrs: { type: "submit" } }, "Open space");
    const create = h(
      "form",
      {
        class: "dash-card dash-start-card",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            const title = createName.value.trim();
            if (!title) {
              createErr.textContent = "Give your space a name.";
              return;
            }
            createBtn.disabled = true;
            createErr.textContent = "";
            try {
              const sp = await createSpace(title);
              setSpaceKey(sp.spaceKey);
              showSpace(sp.spaceKey, sp.spaceKey);
            } catch (e) {
              createErr.textContent = `Could not create the space: ${errText(e)}`;
              createBtn.disabled = false;
            }
          },
        },
      },
      h("div", { class: "dash-card-icon", attrs: { "aria-hidden": "true" } }, icon("add", 28)),
      h("h2", {}, "Create a space"),
      h("p", { class: "dash-help" }, "A space holds your meetings. Its key lets you host every one of them and see who is waiting, from here."),
      h("label", { class: "field-label", attrs: { for: "space-name" } }, "Space name"),
      createName,
      createBtn,
      createErr,
    );
    const open = h(
      "form",
      {
        class: "dash-card dash-start-card",
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const key = keyInput.value.trim();
            if (!key) {
              openErr.textContent = "Paste the space key you were given when the space was created.";
              return;
            }
            setSpaceKey(key);
            showSpace(key, "");
          },
        },
      },
      h("div", { class: "dash-card-icon", attrs: { "aria-hidden": "true" } }, icon("lock", 28)),
      h("h2", {}, "Open your space"),
      h("p", { class: "dash-help" }, "Already have a space? Open it with its key. The key stays in this browser only."),
      h("label", { class: "field-label", attrs: { for: "space-key" } }, "Space key"),
      keyInput,
      openBtn,
      openErr,
    );
    body.replaceChildren(
      h(
        "section",
        { class: "dash-start" },
        h("h1", {}, "Your meetings, your clients, one place"),
        h("p", { class: "lede" }, "See who is waiting in every meeting of your space and let them in."),
        h("div", { class: "dash-start-cards" }, create, open),
      ),
    );
  }

  // showSpace shows the space of key; newKey is set right after creating it
  // (the key is shown once).
  function showSpace(key: string, newKey: string): void {
    clearTimeout(timer);
    const title = h("h1", { class: "dash-title" });
    const status = h("p", { class: "dash-status", attrs: { role: "status" } });
    const list = h("ul", { class: "dash-meetings", attrs: { "aria-label": "Meetings" } });
    const empty = h("p", { class: "dash-empty", attrs: { hidden: true } }, "No meetings yet. Create one with New meeting.");
    const cards = new Map<string, MeetingCard>();
    const seenWaiting = new Set<string>();
    let first = true;

    const closeBtn = h(
      "button",
      {
        class: "btn btn-text",
        attrs: { type: "button" },
        on: {
          click: () => {
            setSpaceKey("");
            showStart();
          },
        },
      },
      "Close space",
    );
    headRight.replaceChildren(closeBtn);

    let keyCard: HTMLElement | null = null;
    if (newKey) {
      const keyField = h("input", { class: "text-input dash-key", attrs: { id: "new-space-key", type: "text", readonly: true, spellcheck: "false" } });
      keyField.value = newKey;
      keyCard = h(
        "section",
        { class: "dash-keycard", attrs: { "aria-labelledby": "keycard-title" } },
        h("div", { class: "dash-keycard-icon", attrs: { "aria-hidden": "true" } }, icon("lock", 24)),
        h(
          "div",
          { class: "dash-keycard-body" },
          h("h2", { attrs: { id: "keycard-title" } }, "Your space key"),
          h("p", {}, "Keep it safe: it is shown only once, and whoever holds it hosts every meeting of this space. This browser remembers it."),
          h(
            "div",
            { class: "dash-keyrow" },
            h("label", { class: "sr-only", attrs: { for: "new-space-key" } }, "Space key"),
            keyField,
            h(
              "button",
              {
                class: "btn btn-primary",
                attrs: { type: "button" },
                on: {
                  click: async () => toast((await copyText(newKey)) ? "Space key copied" : "Select the key and copy it"),
                },
              },
              icon("copy", 18),
              "Copy space key",
            ),
            h("button", { class: "btn btn-text", attrs: { type: "button" }, on: { click: () => keyCard?.remove() } }, "Done"),
          ),
        ),
      );
    }

    // The New meeting form.
    const mTitle = h("input", { class: "text-input", attrs: { id: "meeting-title", type: "text", maxlength: 120, placeholder: "Consultation with …" } });
    const mStarts = h("input", { class: "text-input", attrs: { id: "meeting-starts", type: "datetime-local" } });
    const mErr = h("p", { class: "form-error", attrs: { role: "alert" } });
    const mBtn = h("button", { class: "btn btn-primary", attrs: { type: "submit" } }, icon("videoCall", 20), "New meeting");
    const form = h(
      "form",
      {
        class: "dash-card dash-new",
        attrs: { "aria-labelledby": "new-title" },
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            const t = mTitle.value.trim();
            if (new TextEncoder().encode(t).length > TITLE_MAX_BYTES) {
              mErr.textContent = "The title is too long.";
              return;
            }
            const starts = mStarts.value ? new Date(mStarts.value).getTime() : 0;
            mBtn.disabled = true;
            mErr.textContent = "";
            try {
              await createSpaceMeeting(key, t, Number.isFinite(starts) ? starts : 0);
              mTitle.value = "";
              mStarts.value = "";
              toast("Meeting created");
              await poll();
            } catch (e) {
              mErr.textContent = `Could not create the meeting: ${errText(e)}`;
            } finally {
              mBtn.disabled = false;
            }
          },
        },
      },
      h("h2", { attrs: { id: "new-title" } }, "Schedule a meeting"),
      h("label", { class: "field-label", attrs: { for: "meeting-title" } }, "Title"),
      mTitle,
      h("label", { class: "field-label", attrs: { for: "meeting-starts" } }, "Starts at"),
      mStarts,
      mBtn,
      mErr,
      h("p", { class: "dash-help" }, "Meetings of a space have a waiting room: guests wait until you let them in."),
    );

    body.replaceChildren(
      h(
        "div",
        { class: "dash-space" },
        h("div", { class: "dash-space-head" }, title, status),
        keyCard,
        h("div", { class: "dash-cols" }, h("section", { class: "dash-list", attrs: { "aria-label": "Meetings of this space" } }, list, empty), h("aside", { class: "dash-side" }, form)),
      ),
    );

    async function poll(): Promise<void> {
      let sp: SpaceInfo;
      try {
        sp = await getSpace(key);
      } catch (e) {
        if (destroyed) return;
        if (e instanceof ApiError && (e.status === 403 || e.status === 401)) {
          setSpaceKey("");
          showStart("This space key is not valid.");
          return;
        }
        setText(status, `Can't reach the server (${errText(e)}). Retrying…`);
        status.classList.add("dash-status-bad");
        return;
      }
      if (destroyed) return;
      status.classList.remove("dash-status-bad");
      const waitingNow = sp.meetings.reduce((n, m) => n + m.waiting.length, 0);
      setText(status, waitingNow === 0 ? "Nobody is waiting" : waitingNow === 1 ? "1 person is waiting" : `${waitingNow} people are waiting`);
      status.classList.toggle("dash-status-waiting", waitingNow > 0);
      setText(title, sp.title || "Your space");
      document.title = waitingNow > 0 ? `(${waitingNow}) Huddle — ${sp.title || "Dashboard"}` : `Huddle — ${sp.title || "Dashboard"}`;
      const ids = new Set(sp.meetings.map((m) => m.id));
      for (const [id, card] of cards) {
        if (!ids.has(id)) {
          card.el.remove();
          cards.delete(id);
        }
      }
      sp.meetings.forEach((m, i) => {
        let card = cards.get(m.id);
        if (!card) {
          card = new MeetingCard(key, m.id, () => void poll());
          cards.set(m.id, card);
        }
        card.update(m);
        if (list.children[i] !== card.el) list.insertBefore(card.el, list.children[i] ?? null);
      });
      empty.hidden = sp.meetings.length > 0;
      // A new arrival anywhere: a short sound (not for those already waiting
      // when the page opened).
      let arrived = false;
      for (const m of sp.meetings) {
        for (const w of m.waiting) {
          if (!seenWaiting.has(w.id)) {
            seenWaiting.add(w.id);
            if (!first) arrived = true;
          }
        }
      }
      if (arrived) beep();
      first = false;
    }

    const loop = async () => {
      await poll();
      if (!destroyed && body.contains(list)) timer = setTimeout(loop, DASHBOARD_POLL_MS);
    };
    void loop();
  }

  const stored = spaceKey();
  if (stored) showSpace(stored, "");
  else showStart();

  return {
    destroy() {
      destroyed = true;
      clearTimeout(timer);
    },
  };
}

// MeetingCard is one meeting of the space: its time and access mode, who is
// in the call, who waits (Admit / Deny), a guest link and Open as host. It is
// updated in place on every poll, so a field being typed in keeps its text.
class MeetingCard {
  readonly el: HTMLLIElement;
  private readonly titleEl: HTMLElement;
  private readonly when: HTMLElement;
  private readonly mode: HTMLElement;
  private readonly inCall: HTMLElement;
  private readonly waiting: HTMLUListElement;
  private readonly waitingBlock: HTMLElement;
  private readonly waitingCount: HTMLElement;
  private readonly hostLink: HTMLAnchorElement;
  private readonly linkOut: HTMLInputElement;
  private title = "";
  private waitingKey = "\u0000"; // nothing rendered yet
  private inCallKey = "\u0000";

  constructor(
    private readonly key: string,
    readonly id: string,
    private readonly refresh: () => void,
  ) {
    this.titleEl = h("h3", { class: "mc-title" });
    this.when = h("span", { class: "mc-when" });
    this.mode = h("span", { class: "mc-mode" });
    this.inCall = h("div", { class: "mc-incall" });
    this.waiting = h("ul", { class: "mc-waiting" });
    this.waitingCount = h("span", { class: "mc-count" });
    this.waitingBlock = h(
      "div",
      { class: "mc-block mc-waiting-block" },
      h("h4", { class: "mc-label" }, icon("hourglass", 16), h("span", {}, "Waiting"), this.waitingCount),
      this.waiting,
    );
    const clientName = h("input", { class: "text-input mc-client", attrs: { type: "text", maxlength: 64, placeholder: "Optional", autocomplete: "off" } });
    const copyBtn = h("button", { class: "btn btn-outline btn-small", attrs: { type: "button" } }, icon("link", 18), "Copy guest link");
    this.linkOut = h("input", { class: "text-input mc-link", attrs: { type: "text", readonly: true, hidden: true, "aria-label": "Guest link" } });
    copyBtn.addEventListener("click", async () => {
      copyBtn.disabled = true;
      try {
        const link = await mintLink(this.key, this.id, { name: clientName.value.trim() || undefined, role: "guest" });
        const url = `${location.origin}${link.path || `/m/${this.id}#jwt=${link.token}`}`;
        this.linkOut.value = url;
        this.linkOut.hidden = false;
        const who = clientName.value.trim();
        toast((await copyText(url)) ? (who ? `Guest link for ${who} copied` : "Guest link copied") : "Copy the link from the field");
      } catch (e) {
        toast(`Could not make a guest link: ${errText(e)}`, 5000);
      } finally {
        copyBtn.disabled = false;
      }
    });
    const nameId = `client-${id}`;
    clientName.id = nameId;
    this.hostLink = h(
      "a",
      { class: "btn btn-primary btn-small", attrs: { href: `/m/${id}`, target: "_blank", rel: "noopener noreferrer" } },
      icon("openInNew", 18),
      "Open as host",
    );
    this.hostLink.href = `/m/${encodeURIComponent(id)}#host=${encodeURIComponent(key)}`;
    this.el = h(
      "li",
      { class: "dash-card mc", attrs: { "data-meeting-id": id } },
      h("div", { class: "mc-head" }, h("div", { class: "mc-heading" }, this.titleEl, h("div", { class: "mc-meta" }, icon("schedule", 16), this.when, this.mode)), this.hostLink),
      h("div", { class: "mc-block" }, h("h4", { class: "mc-label" }, icon("people", 16), h("span", {}, "In the call")), this.inCall),
      this.waitingBlock,
      h(
        "div",
        { class: "mc-invite" },
        h("label", { class: "mc-invite-label", attrs: { for: nameId } }, "Client name"),
        clientName,
        copyBtn,
        this.linkOut,
      ),
    );
  }

  update(m: SpaceMeeting): void {
    const title = m.title || "Untitled meeting";
    if (title !== this.title) {
      this.title = title;
      this.el.setAttribute("aria-label", title);
      setText(this.titleEl, title);
    }
    setText(this.when, whenText(m));
    setText(this.mode, MODE_TEXT[m.accessMode]);
    this.mode.dataset.mode = m.accessMode;
    const inKey = m.participants.map((p) => `${p.id}:${p.displayName}:${p.role}`).join("|");
    if (inKey !== this.inCallKey) {
      this.inCallKey = inKey;
      this.inCall.replaceChildren(
        ...(m.participants.length
          ? m.participants.map((p) => {
              const host = /host|2/i.test(p.role);
              return h(
                "span",
                { class: "mc-person" },
                this.avatar(p.id, p.displayName),
                h("span", { class: "mc-person-name" }, p.displayName || "Someone"),
                host ? h("span", { class: "mc-host" }, "Host") : null,
              );
            })
          : [h("span", { class: "mc-none" }, "Nobody yet")]),
      );
    }
    const wKey = m.waiting.map((w) => `${w.id}:${w.displayName}`).join("|");
    if (wKey !== this.waitingKey) {
      this.waitingKey = wKey;
      this.waiting.setAttribute("aria-label", `Waiting in ${title}`);
      this.waiting.replaceChildren(...m.waiting.map((w) => this.waitingRow(w)));
    }
    for (const row of this.waiting.querySelectorAll<HTMLElement>("[data-since]")) setText(row, sinceText(Number(row.dataset.since)));
    this.el.classList.toggle("mc-has-waiting", m.waiting.length > 0);
    this.waitingBlock.hidden = m.waiting.length === 0;
    setText(this.waitingCount, String(m.waiting.length));
  }

  private avatar(id: string, name: string): HTMLElement {
    const a = h("span", { class: "avatar avatar-small" }, initials(name || "?"));
    a.style.background = avatarColor(id);
    return a;
  }

  private waitingRow(w: SpaceWaiting): HTMLElement {
    const name = w.displayName || "Guest";
    const act = (deny: boolean) => async (ev: Event) => {
      const b = ev.currentTarget as HTMLButtonElement;
      b.disabled = true;
      try {
        await admit(this.key, this.id, [w.id], deny);
        toast(deny ? `${name} was not let in` : `${name} was let in`);
        this.refresh();
      } catch (e) {
        b.disabled = false;
        toast(`Could not ${deny ? "deny" : "admit"} ${name}: ${errText(e)}`, 5000);
      }
    };
    return h(
      "li",
      { class: "mc-wait", attrs: { "aria-label": name, "data-participant-id": w.id } },
      this.avatar(w.id, name),
      h("span", { class: "mc-wait-who" }, h("span", { class: "mc-wait-name" }, name), h("span", { class: "mc-wait-since", attrs: { "data-since": String(w.waitingSinceMs) } }, sinceText(w.waitingSinceMs))),
      h("button", { class: "btn btn-text btn-small", attrs: { type: "button" }, on: { click: act(true) } }, "Deny"),
      h("button", { class: "btn btn-primary btn-small", attrs: { type: "button" }, on: { click: act(false) } }, "Admit"),
    );
  }
}
