// FileTransfers is the call's file transfers, both ways: it listens for file
// channels on every peer connection of the session
// (pc.addEventListener("datachannel"), never ondatachannel: others listen
// too), starts outgoing ones (one transfer, so one channel, per file and
// recipient), posts the chat line that says who shared what, samples the
// progress every PROGRESS_TICK_MS and exposes its state to window.huddle.files.
import type { CallSession } from "../call/session";
import type { ChatClient } from "../chat/client";
import { FILE_CHANNEL_PREFIX, MAX_FILE_BYTES, MAX_FILE_LABEL, MAX_PENDING_OFFERS, formatBytes, newTransferId } from "./protocol";
import { IncomingTransfer, OutgoingTransfer, type Transfer } from "./transfer";

export const PROGRESS_TICK_MS = 250;

export type FilesChange =
  | { kind: "added"; transfer: Transfer } // a new transfer (an incoming one once its offer is in)
  | { kind: "updated"; transfer: Transfer } // its state changed
  | { kind: "removed"; transfer: Transfer }
  | { kind: "tick" }; // progress sampled

// FilesDebug is window.huddle.files (tests and the console).
export interface FilesDebug {
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
    speed: number; // bytes/s
    // ms from the accept to the end (received and verified; for the sender,
    // the receiver's "done"), or until now while it runs; 0 before.
    elapsedMs: number;
    samples: number[];
  }>;
  // Files received, verified and saved (saves started), oldest first.
  saved: Array<{ id: string; name: string; size: number; sha256: string; from: string }>;
}

let current: FileTransfers | null = null;

// filesDebug: the transfers of the call on this page, or null outside a call.
export function filesDebug(): FilesDebug | null {
  return current?.debug() ?? null;
}

export class FileTransfers {
  readonly transfers: Transfer[] = [];
  private readonly saved: FilesDebug["saved"] = [];
  private readonly attached = new WeakSet<RTCPeerConnection>();
  private readonly listeners = new Set<(c: FilesChange) => void>();
  private readonly unsubscribe: () => void;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly session: CallSession,
    private readonly chat: ChatClient | null,
  ) {
    // Peer connections come and go with participants: attach to new ones.
    this.unsubscribe = session.onChange(() => this.attach());
    this.attach();
    this.timer = setInterval(() => this.tick(), PROGRESS_TICK_MS);
    current = this;
  }

  onChange(fn: (c: FilesChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(c: FilesChange): void {
    for (const fn of this.listeners) fn(c);
  }

  // peerName: the display name of a participant ("Someone" when unknown).
  peerName(id: string): string {
    return this.session.participants.get(id)?.displayName || "Someone";
  }

  private attach(): void {
    for (const [id, link] of this.session.peers) {
      if (this.attached.has(link.pc)) continue;
      this.attached.add(link.pc);
      link.pc.addEventListener("datachannel", (ev) => this.onChannel(id, ev.channel));
    }
  }

  private onChannel(peerId: string, dc: RTCDataChannel): void {
    if (!dc.label.startsWith(FILE_CHANNEL_PREFIX)) return; // someone else's channel
    const waiting = this.transfers.filter((t) => t.direction === "receive" && t.state === "offered").length;
    if (waiting >= MAX_PENDING_OFFERS) {
      dc.close(); // the sender sees it withdrawn
      return;
    }
    const t = new IncomingTransfer(dc, peerId);
    void t.whenOffered().then((ok) => {
      // Only an offer that is in (a name and size to show) makes an item;
      // one refused as too big is shown too, with why.
      if (ok || t.name) this.add(t);
    });
  }

  private add(t: Transfer): void {
    this.transfers.push(t);
    t.onChange(() => {
      if (t instanceof IncomingTransfer && t.state === "done") {
        this.saved.push({ id: t.id, name: t.name, size: t.size, sha256: t.sha256, from: t.peerId });
      }
      this.emit({ kind: "updated", transfer: t });
    });
    this.emit({ kind: "added", transfer: t });
  }

  // send offers each file to one participant (to) or everyone (to null).
  // Returns "" or why nothing was sent (nothing is sent then).
  send(files: File[], to: string | null): string {
    if (files.length === 0) return "Choose a file to send.";
    const big = files.find((f) => f.size > MAX_FILE_BYTES);
    if (big) return `"${big.name}" is ${formatBytes(big.size)}: files can be at most ${MAX_FILE_LABEL}.`;
    let recipients: string[];
    if (to === null) {
      recipients = [...this.session.peers.keys()].filter((id) => this.session.participants.has(id));
      if (recipients.length === 0) return "Nobody else is in the call yet.";
    } else {
      if (!this.session.peers.has(to)) return `${this.peerName(to)} is no longer in the call.`;
      recipients = [to];
    }
    for (const file of files) {
      for (const id of recipients) {
        const link = this.session.peers.get(id);
        if (link) this.add(new OutgoingTransfer(link.pc, newTransferId(), id, file));
      }
      const whom = to === null ? "everyone" : this.peerName(to);
      this.chat?.post(`📎 Shared "${file.name}" (${formatBytes(file.size)}) with ${whom}`, this.session.displayName);
    }
    return "";
  }

  // dismiss removes a finished transfer from the list.
  dismiss(t: Transfer): void {
    if (!t.finished) return;
    const i = this.transfers.indexOf(t);
    if (i < 0) return;
    this.transfers.splice(i, 1);
    if (t instanceof IncomingTransfer) t.dispose();
    this.emit({ kind: "removed", transfer: t });
  }

  private tick(): void {
    const now = performance.now();
    let any = false;
    for (const t of this.transfers) {
      if (t.finished) continue;
      t.checkLost();
      t.sample(now);
      any = true;
    }
    if (any) this.emit({ kind: "tick" });
  }

  debug(): FilesDebug {
    return {
      transfers: this.transfers.map((t) => ({
        id: t.id,
        direction: t.direction,
        peerId: t.peerId,
        name: t.name,
        size: t.size,
        bytes: t.bytes,
        state: t.state,
        error: t.error,
        sha256: t.sha256,
        speed: Math.round(t.speed),
        elapsedMs: t.startedAtMs ? Math.round((t.endedAtMs || performance.now()) - t.startedAtMs) : 0,
        samples: [...t.samples],
      })),
      saved: [...this.saved],
    };
  }

  // destroy cancels what is still going (leaving the call ends them anyway).
  destroy(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    for (const t of this.transfers) {
      t.cancel();
      if (t instanceof IncomingTransfer) t.dispose();
    }
    this.listeners.clear();
    if (current === this) current = null;
  }
}
