// App routes by location.pathname: "/" is the landing page, "/m/<id>" the
// pre-join screen and then the call. It also installs window.huddle, a debug
// hook the browser tests read ({ participantId, peers, state, ... }).
import { ApiError, getMeeting } from "./api";
import { LocalMedia } from "./call/media";
import { CallSession } from "./call/session";
import { ChatClient } from "./chat/client";
import { NotesClient } from "./notes/client";
import { Recorder, type RecorderDebug } from "./recording/recorder";
import { Uploader, type UploadDebug } from "./recording/uploader";
import { renderLanding } from "./ui/landing";
import { renderPrejoin } from "./ui/prejoin";
import { renderCall, type CallView } from "./ui/call";
import { renderLeft } from "./ui/left";
import { renderMessage } from "./ui/notfound";
import { toast } from "./ui/toast";
import type { CameraFilterDebug } from "./filters/camera";

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
    this.notes?.close();
    this.notes = null;
  }

  private async showPrejoin(meetingId: string): Promise<void> {
    this.page = "prejoin";
    document.title = "Huddle — Ready to join?";
    const media = new LocalMedia();
    this.media = media;
    // The chat opens at once, before (and whether or not) the call is joined.
    const chat = new ChatClient({ meetingId });
    this.chat = chat;
    chat.connect();
    // The shared documents connect when first shown (or at once when edits
    // of this meeting wait to be sent from an earlier visit).
    const notes = new NotesClient({ meetingId });
    this.notes = notes;
    // Recordings this browser left unfinished in this meeting (a closed tab)
    // are uploaded and finished now.
    const uploader = this.uploads();
    void uploader.adopt(meetingId);
    const view = renderPrejoin(this.root, meetingId, media, (name) => void this.join(meetingId, name, media, view), chat, notes, uploader);
    this.view = view;
    view.setMeetingTitle("");
    const [meeting] = await Promise.allSettled([getMeeting(meetingId), media.start()]);
    if (this.media !== media) return; // navigated away meanwhile
    if (meeting.status === "rejected") {
      const e = meeting.reason;
      if (e instanceof ApiError && e.status === 404) {
        this.teardown();
        this.page = "unknown-meeting";
        document.title = "Huddle — Meeting not found";
        renderMessage(this.root, "This meeting doesn't exist", "Check the link you were given, or start a new meeting.");
      } else {
        view.setError("Can't reach the server. Check your connection and try again.");
      }
      return;
    }
    view.setMeetingTitle(meeting.value.title);
  }

  private async join(meetingId: string, name: string, media: LocalMedia, prejoin?: { setBusy(b: boolean): void; setError(t: string): void }): Promise<void> {
    prejoin?.setBusy(true);
    prejoin?.setError("");
    const relayOnly = new URLSearchParams(location.search).get("relay") === "1";
    const session = new CallSession({ meetingId, displayName: name, media, relayOnly });
    this.session = session;
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
      prejoin?.setBusy(false);
      prejoin?.setError(`Could not join: ${e instanceof Error ? e.message : String(e)}`);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (this.session !== session) return;
    this.view?.destroy();
    this.page = "call";
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
    if (!this.session) toast("Could not rejoin the meeting");
  }
}
