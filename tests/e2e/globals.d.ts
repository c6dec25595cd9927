// window.huddle, the web client's debug hook (web/src/app.ts), as the
// browser tests read it inside page.evaluate().
interface HuddleSessionDebug {
  resumeCount: number;
  freshJoinCount: number;
  activeSpeakerId: string;
  speakingIds: Set<string>;
  media: { audio: MediaStreamTrack | null; camera: MediaStreamTrack | null; screen: MediaStreamTrack | null };
  // Watch together: the shared player's state as the page last received it (web/src/call/session.ts).
  watchState: { seq: bigint; url: string; playing: boolean } | null;
}

interface HuddleDocDebug {
  loaded: boolean;
  text: string;
  language: string;
  appliedSeq: number;
  lastSeq: number;
  pending: number;
  snapshotsSent: number;
  peers: string[];
}

interface Window {
  huddle: {
    readonly participantId: string;
    readonly peers: Map<string, RTCPeerConnection>;
    readonly state: string;
    readonly connection: string;
    readonly session: HuddleSessionDebug | null;
    readonly firstFrameMs: Record<string, number>;
    // The meeting chat of the page (web/src/chat/client.ts debug()), or null.
    readonly chat: {
      state: string;
      lastSeq: number;
      loaded: boolean;
      pending: number;
      messages: Array<{ seq: number; senderName: string; text: string; own: boolean }>;
    } | null;
    readonly chatClient: { dropConnection(): void } | null;
    // This page's recorder in the call (web/src/recording/recorder.ts debug()).
    readonly recording: { state: string; kind: string; rid: string; mimeType: string; chunks: number; startedAtMs: number; error: string };
    // The recordings this browser queues or uploads (web/src/recording/uploader.ts debug()).
    readonly recordingQueue: Array<{ rid: string; meetingId: string; chunks: number; uploaded: number; ended: boolean; finished: boolean; failed: string; working: boolean }>;
    // The meeting's shared documents (web/src/notes/client.ts debug()), or null.
    readonly notes: {
      state: string;
      notes: HuddleDocDebug | null;
      code: HuddleDocDebug | null;
    } | null;
    readonly notesClient: { dropConnection(): void } | null;
    // The call's file transfers (web/src/files/manager.ts debug()), or null outside a call.
    readonly files: {
      transfers: Array<{
        id: string;
        direction: "send" | "receive";
        peerId: string;
        name: string;
        size: number;
        bytes: number;
        state: string;
        error: string;
        sha256: string;
        speed: number;
        elapsedMs: number;
        samples: number[];
      }>;
      saved: Array<{ id: string; name: string; size: number; sha256: string; from: string }>;
    } | null;
    // The video filter on the page's camera (web/src/filters/camera.ts debug()), or null.
    // The call screen (web/src/ui/call.ts callScreenDebug()).
    readonly callScreen: {
      tileCreates: number;
      tileRenders: number;
      layouts: number;
      arrangement: string;
      layout: "grid" | "speaker";
      pinned: string;
      featured: string;
    };
    // The SFU link (web/src/app.ts SfuDebug) while the meeting is in SFU mode, else null.
    readonly sfu: {
      readonly publisher: RTCPeerConnection;
      readonly subscriber: RTCPeerConnection | null;
      readonly path: string;
      readonly lastSwitch: { how: string; ms: number };
      readonly tracks: Record<string, { participantId: string; kind: string; screen: boolean }>;
      readonly layers: Record<string, string>;
      readonly talking: string[];
    } | null;
    readonly filters: {
      choice: string;
      active: boolean;
      path: string;
      frames: number;
      frameMs: number;
      segmenter: "off" | "loading" | "ready" | "failed";
      masks: number;
      segmentMs: number;
      error: string | null;
    } | null;
  };
}
