// App routes by location.pathname: "/" is the landing page, "/m/<id>" the
// pre-join screen, then the waiting screen (a guest of a waiting-room
// meeting) and the call, "/dashboard" a space's dashboard. It also installs
// window.huddle, a debug hook the browser tests read ({ participantId,
// peers, state, ... }).
import { ApiError, getMeeting, type MeetingInfo } from "./api";
import { clientKey, hostKeyFor, joinTokenFor, setHostKey, takeLinkSecrets, tokenClaims } from "./access/keys";
import { AccessMode, ErrorCode } from "./proto";
import { RequestError } from "./signaling/client";
import type { SessionNotice } from "./call/session";
import { renderWaiting } from "./ui/waiting";
import { renderDashboard } from "./ui/dashboard";
import { icon } from "./ui/icons";
import { LocalMedia } from "./call/media";
import { CallSession } from "./call/session";
import { ChatClient } from "./chat/client";
import { NotesClient } from "./notes/client";
import { Recorder, type RecorderDebug } from "./recording/recorder";
import { Uploader, type UploadDebug } from "./recording/uploader";
import { renderLanding } from "./ui/landing";
import { renderPrejoin, type PrejoinView } from "./ui/prejoin";
import { renderCall, callScreenDebug, type CallView } from "./ui/call";
import { renderLeft } from "./ui/left";
import { renderMessage } from "./ui/notfound";
import { toast } from "./ui/toast";
import type { CameraFilterDebug } from "./filters/camera";
import { filesDebug, type FilesDebug } from "./files/manager";

// HuddleDebug is window.huddle: read-only state for tests and the console.
export interface HuddleDebug {
  readonly participantId: string;
  readonly peers: Map<string, RTCPeerConnection>;
  readonly state: string;
  readonly connection: string;
  readonly session: CallSession | null;
  // ms from the Join click to the first painted frame of each remote participant
  readonly firstFrameMs: Record<string, number>;
  // The meeting's chat on this page (pre-join, call, after leaving), or null.
  readonly chat: ReturnType<ChatClient["debug"]> | null;
  readonly chatClient: ChatClient | null;
  // The meeting's shared documents on this page (state, text, seq), or null.
  readonly notes: ReturnType<NotesClient["debug"]> | null;
  readonly notesClient: NotesClient | null;
  // The video filter on this page's camera (pre-join and call), or null.
  readonly filters: CameraFilterDebug | null;
  // This page's recorder in the call (state "idle" outside it), and the
  // recordings this browser is uploading or keeps the token of (IndexedDB).
  readonly recording: RecorderDebug;
  readonly recordingQueue: UploadDebug[];
  // The call's file transfers (web/src/files/manager.ts), or null outside a call.
  readonly files: FilesDebug | null;
  // The call screen: tiles made, tile updates that changed something, layout
  // runs, the arrangement, layout (grid / speaker), pinned and featured tile.
  readonly callScreen: ReturnType<typeof callScreenDebug>;
  // The SFU link (call/sfu.ts) while the meeting is in SFU mode, else null:
  // its peer connections (tests read getStats), which path the tiles show,
  // subscriber mid -> whose track, and the layer asked for per mid.
  readonly sfu: SfuDebug | null;
}

export interface SfuDebug {
  readonly publisher: RTCPeerConnection;
  readonly subscriber: RTCPeerConnection | null;
  readonly path: string;
  // How the last switch completed and how long it took (CallSession.lastSwitch).
  readonly lastSwitch: { how: string; ms: number };
  readonly tracks: Record<string, { participantId: string; kind: string; screen: boolean }>;
  readonly layers: Record<string, string>;
  readonly talking: string[];
}

declare global {
  interface Window {
    huddle: HuddleDebug;
  }
}

const emptyPeers = new Map<string, RTCPeerConnection>();
const idleRecorder: RecorderDebug = { state: "idle", kind: "", rid: "", mimeType: "", chunks: 0, startedAtMs: 0, error: "" };
const JOIN_TIMEOUT_MS = 20_000;

export class App {
  private session: CallSession | null = null;
  private chat: ChatClient | null = null;
  private notes: NotesClient | null = null;
  private media: LocalMedia | null = null;
  private recorder: Recorder | null = null;
  // One uploader for the page's life: recordings go on uploading after Leave
  // and on other pages of the app (made on the first meeting page).
  private uploader: Uploader | null = null;
  private view: { destroy(): void } | null = null;
  private page = "landing";
  private chatInCall = false; // this.chat rides on the call's connection
  private notesInCall = false; // so does this.notes
  private meetingMode = ""; // the access mode the pre-join screen was shown for

  constructor(private readonly root: HTMLElement) {
    const app = this;
    window.huddle = {
      get participantId() {
        return app.session?.participantId ?? "";
      },
      get peers() {
        return app.session?.peerConnections ?? emptyPeers;
      },
      get state() {
        return app.session?.state ?? app.page;
      },
      get connection() {
        return app.session?.connection ?? "closed";
      },
      get session() {
        return app.session;
      },
      get sfu() {
        const s = app.session;
        const link = s?.sfu;
        if (!s || !link) return null;
        return {
          publisher: link.publisher,
          subscriber: link.subscriber,
          path: s.mediaPath,
          lastSwitch: s.lastSwitch,
          tracks: Object.fromEntries(link.tracks),
          layers: Object.fromEntries(link.layers),
          talking: [...link.talking],
        };
      },
      get firstFrameMs() {
        const s = app.session;
        const out: Record<string, number> = {};
        if (s) for (const [id, t] of s.firstFrameAt) out[id] = Math.round(t - s.joinStartedAt);
        return out;
      },
      get chat() {
        return app.chat?.debug() ?? null;
      },
      get chatClient() {
        return app.chat;
      },
      get notes() {
        return app.notes?.debug() ?? null;
      },
      get notesClient() {
        return app.notes;
      },
      get filters() {
        return app.media?.filter.debug() ?? null;
      },
      get recording() {
        return app.recorder?.debug() ?? idleRecorder;
      },
      get recordingQueue() {
        return app.uploader?.debug() ?? [];
      },
      get files() {
        return filesDebug();
      },
      get callScreen() {
        return callScreenDebug();
      },
    };
    addEventListener("popstate", () => this.route());
    // Closing the tab now would cut a recording short or leave its upload for
    // the next visit: ask first.
    addEventListener("beforeunload", (ev) => {
      if (this.recorder?.state === "recording" || this.uploader?.busy) ev.preventDefault();
    });
  }

  private uploads(): Uploader {
    this.uploader ??= new Uploader();
    return this.uploader;
  }

  navigate(path: string): void {
    if (location.pathname !== path) history.pushState(null, "", path);
    this.route();
  }

  route(): void {
    this.teardown();
    const m = /^\/m\/([A-Za-z0-9_-]+)\/?$/.exec(location.pathname);
    if (m) {
      void this.showPrejoin(m[1]);
    } else if (location.pathname === "/dashboard" || location.pathname === "/dashboard/") {
      this.page = "dashboard";
      document.title = "Huddle — Dashboard";
      this.view = renderDashboard(this.root);
    } else if (location.pathname === "/" || location.pathname === "/index.html") {
      this.page = "landing";
      document.title = "Huddle";
      renderLanding(this.root, (p) => this.navigate(p));
    } else {
      this.page = "not-found";
      renderMessage(this.root, "Page not found", "There is nothing at this address.");
    }
  }

  private teardown(): void {
    void this.recorder?.stop();
    this.recorder = null;
    this.view?.destroy();
    this.view = null;
    if (this.session && this.session.state !== "left") void this.session.leave();
    this.session = null;
    this.media?.stop();
    this.media = null;
    this.chat?.close();
    this.chat = null;
    this.chatInCall = false;
    this.notesInCall = false;
    this.notes?.close();
    this.notes = null;
  }

  private async showPrejoin(meetingId: string): Promise<void> {
    this.page = "prejoin";
    document.title = "Huddle — Ready to join?";
    // A host link's key and a join link's token leave the address bar at once.
    takeLinkSecrets(meetingId);
    const token = joinTokenFor(meetingId);
    const claims = token ? tokenClaims(token) : null;
    const media = new LocalMedia();
    this.media = media;
    const started = media.start().catch((e: unknown) => console.warn("huddle: media", e));
    // The meeting's access mode decides the button (Join now / Ask to join)
    // and whether its chat and notes can be opened before joining.
    let meeting: MeetingInfo | null = null;
    let unreachable = false;
    try {
      meeting = await getMeeting(meetingId);
    } catch (e) {
      if (this.media !== media) return;
      if (e instanceof ApiError && e.status === 404) {
        this.teardown();
        this.page = "unknown-meeting";
        document.title = "Huddle — Meeting not found";
        renderMessage(this.root, "This meeting doesn't exist", "Check the link you were given, or start a new meeting.");
        return;
      }
      unreachable = true;
    }
    if (this.media !== media) return; // navigated away meanwhile
    const open = !meeting || meeting.accessMode === "open";
    // The chat opens at once, before (and whether or not) the call is joined.
    // Meetings that are not open show it only to admitted participants.
    const chat = open ? new ChatClient({ meetingId }) : null;
    this.chat = chat;
    chat?.connect();
    // The shared documents connect when first shown (or at once when edits
    // of this meeting wait to be sent from an earlier visit).
    const notes = open ? new NotesClient({ meetingId }) : null;
    this.notes = notes;
    // Recordings this browser left unfinished in this meeting (a closed tab)
    // are uploaded and finished now.
    const uploader = this.uploads();
    void uploader.adopt(meetingId);
    const view = renderPrejoin(
      this.root,
      meetingId,
      media,
      (name) => void this.join(meetingId, name, media, view),
      chat ?? undefined,
      notes ?? undefined,
      open ? uploader : undefined,
    );
    this.view = view;
    view.setMeetingTitle(meeting?.title ?? "");
    this.meetingMode = meeting?.accessMode ?? "";
    view.setJoinLabel(this.joinLabel(meetingId));
    if (claims?.name) view.setFixedName(claims.name);
    if (unreachable) view.setError("Can't reach the server. Check your connection and try again.");
    await started;
  }

  private async join(meetingId: string, name: string, media: LocalMedia, prejoin?: PrejoinView): Promise<void> {
    prejoin?.setBusy(true);
    prejoin?.setError("");
    const relayOnly = new URLSearchParams(location.search).get("relay") === "1";
    const session = new CallSession({
      meetingId,
      displayName: name,
      media,
      relayOnly,
      hostKey: hostKeyFor(meetingId),
      joinToken: joinTokenFor(meetingId),
      clientKey: clientKey(),
    });
    this.session = session;
    session.onNotice((n) => this.onNotice(session, meetingId, name, n));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        session.join(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("the meeting server did not answer. Check your connection and try again.")), JOIN_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      void session.leave();
      if (this.session === session) this.session = null;
      if (e instanceof RequestError && this.showRefusal(meetingId, name, e)) return;
      if (e instanceof RequestError && e.code === ErrorCode.FORBIDDEN && hostKeyFor(meetingId)) {
        // A stale or mistyped host link: forget its key, so a join as a guest works.
        setHostKey(meetingId, "");
        prejoin?.setBusy(false);
        prejoin?.setJoinLabel(this.joinLabel(meetingId));
        prejoin?.setError("This host link is not valid for this meeting. You can join as a guest.");
        if (!prejoin) toast("This host link is not valid for this meeting.", 5000);
        return;
      }
      if (!prejoin) toast(`Could not rejoin the meeting: ${e instanceof Error ? e.message : String(e)}`, 5000);
      prejoin?.setBusy(false);
      prejoin?.setError(`Could not join: ${e instanceof Error ? e.message : String(e)}`);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (this.session !== session) return;
    if (session.state === "waiting") this.showWaiting(meetingId, session);
    else this.showCall(meetingId, session.displayName, session);
  }

  // joinLabel: "Ask to join" for a guest of a waiting-room meeting, else "Join now".
  private joinLabel(meetingId: string): string {
    const claims = tokenClaims(joinTokenFor(meetingId));
    const host = hostKeyFor(meetingId) !== "" || claims?.role === "host";
    return !host && this.meetingMode === "waiting_room" ? "Ask to join" : "Join now";
  }

  // showWaiting: in the waiting room until a host lets us in (onNotice).
  private showWaiting(meetingId: string, session: CallSession): void {
    this.view?.destroy();
    this.page = "waiting";
    document.title = "Huddle — Waiting to join";
    this.view = renderWaiting(this.root, session, () => {
      // Leave the waiting room: back to the pre-join screen.
      void session.leave();
      this.route();
    });
    void meetingId;
  }

  private onNotice(session: CallSession, meetingId: string, name: string, n: SessionNotice): void {
    if (this.session !== session) return;
    const muted = { audio: session.media.audioMuted, video: session.media.videoMuted };
    const home = { label: "Home", onClick: () => this.navigate("/") };
    switch (n.kind) {
      case "admitted":
        if (this.page === "waiting") this.showCall(meetingId, session.displayName, session);
        break;
      case "denied":
        this.endPage("denied", "A host did not let you in", "You can ask to join again.", [
          { label: "Ask to join again", onClick: () => void this.rejoin(meetingId, name, muted), primary: true },
          home,
        ]);
        break;
      case "removed":
        if (n.blocked) {
          this.endPage("removed", "You were removed from the meeting", "A host blocked you from joining this meeting again.", [home]);
        } else {
          this.endPage("removed", "You were removed from the meeting", "If you rejoin, a host will have to let you in.", [
            { label: "Rejoin", onClick: () => void this.rejoin(meetingId, name, muted) },
            { ...home, primary: true },
          ]);
        }
        break;
      case "ended":
        this.endPage("ended", "The host ended the meeting for everyone", n.byName ? `${n.byName} ended the meeting.` : "", [{ ...home, primary: true }]);
        break;
      case "failed":
        if (!(n.error instanceof RequestError) || !this.showRefusal(meetingId, name, n.error)) {
          this.endPage("failed", "You lost the connection to the meeting", n.error.message, [
            { label: "Rejoin", onClick: () => void this.rejoin(meetingId, name, muted), primary: true },
            home,
          ]);
        }
        break;
      default:
        break;
    }
  }

  // showRefusal shows the page for a join the server refused for access
  // reasons; returns false for other errors (shown on the pre-join screen).
  private showRefusal(meetingId: string, name: string, e: RequestError): boolean {
    const why = e.message.replace(/^[A-Z_]+: /, "");
    const home = { label: "Home", onClick: () => this.navigate("/"), primary: true };
    const retry = { label: "Try again", onClick: () => this.navigate(`/m/${meetingId}`) };
    switch (e.code) {
      case ErrorCode.TOKEN_INVALID:
        this.endPage("token-error", "This join link cannot be used", why || "The link is not valid for this meeting.", [home]);
        return true;
      case ErrorCode.MEETING_LOCKED:
        this.endPage("locked", "This meeting is locked", "A host locked the meeting: nobody new can join.", [retry, home]);
        return true;
      case ErrorCode.BLOCKED:
        this.endPage("blocked", "You can't join this meeting", "A host removed you and blocked you from joining again.", [home]);
        return true;
      case ErrorCode.DENIED:
        this.endPage("denied", "A host did not let you in", "", [retry, home]);
        return true;
      case ErrorCode.MEETING_FULL:
        // The server names the limit: "this meeting is full (12 people)".
        this.endPage("full", fullTitle(why), "Someone has to leave before you can join. Try again in a moment.", [retry, home]);
        return true;
      default:
        void name;
        return false;
    }
  }

  // endPage ends everything of the meeting on this page and shows why.
  private endPage(page: string, title: string, detail: string, actions: { label: string; onClick: () => void; primary?: boolean }[]): void {
    this.teardown();
    this.page = page;
    document.title = `Huddle — ${title}`;
    const ic = page === "ended" ? icon("callEnd", 40) : page === "locked" || page === "blocked" ? icon("lock", 40) : icon("shield", 40);
    renderMessage(this.root, title, detail, actions, ic);
  }

  private showCall(meetingId: string, name: string, session: CallSession): void {
    this.view?.destroy();
    this.page = "call";
    // A meeting that is not open has its chat only in the call, on the call's
    // admitted connection.
    if (session.accessMode !== AccessMode.OPEN) {
      if (!this.chat) {
        this.chat = new ChatClient({ meetingId, via: session.signaling });
        this.chatInCall = true;
        this.chat.connect();
      }
      if (!this.notes) {
        this.notes = new NotesClient({ meetingId, via: session.signaling });
        this.notesInCall = true;
      }
    }
    document.title = `Huddle — ${session.meetingTitle || "Meeting"}`;
    this.notes?.setName(name);
    this.recorder = new Recorder({ session, uploader: this.uploads(), chat: this.chat });
    this.view = renderCall(this.root, session, () => void this.leave(meetingId, name), this.chat, this.notes, { recorder: this.recorder, uploader: this.uploads() });
  }

  private async leave(meetingId: string, name: string): Promise<void> {
    const session = this.session;
    const view = this.view as CallView | null;
    if (!session) return;
    // The recording ends with the call (its last chunk is queued first).
    await this.recorder?.stop();
    this.recorder = null;
    // A chat and documents that rode on the call's connection end with the
    // call (the documents send what they hold first).
    if (this.chatInCall) {
      this.chat?.close();
      this.chat = null;
      this.chatInCall = false;
    }
    if (this.notesInCall) {
      this.notes?.close();
      this.notes = null;
      this.notesInCall = false;
    }
    await session.leave();
    view?.destroy();
    this.view = null;
    const muted = { audio: session.media.audioMuted, video: session.media.videoMuted };
    this.media?.stop();
    this.media = null;
    this.page = "left";
    document.title = "Huddle — You left the meeting";
    // The chat stays connected: shown here, and beside the call after Rejoin
    // (join() destroys this view once the call is up).
    this.view = renderLeft(
      this.root,
      () => void this.rejoin(meetingId, name, muted),
      () => this.navigate("/"),
      this.chat,
      name,
      this.notes,
      this.uploads(),
      meetingId,
    );
  }

  private async rejoin(meetingId: string, name: string, muted: { audio: boolean; video: boolean }): Promise<void> {
    this.session = null;
    const media = new LocalMedia();
    media.audioMuted = muted.audio;
    media.videoMuted = muted.video;
    this.media = media;
    await media.start();
    if (this.media !== media) return;
    await this.join(meetingId, name, media);
  }
}

// fullTitle makes the page title of a MEETING_FULL refusal from the server's
// message, which names the limit ("this meeting is full (12 people)").
export function fullTitle(message: string): string {
  const m = /\((\d+) people\)/.exec(message);
  return m ? `This meeting is full (${m[1]} people)` : "This meeting is full";
}
