// Connection quality of each peer connection from getStats(): round-trip
// time and available outgoing bitrate of the selected candidate pair, packet
// loss and jitter of what we receive (inbound-rtp) and of what the other
// side receives from us (remote-inbound-rtp), graded good / fair / poor;
// the candidate pair's types (host, srflx, prflx, relay) for the details
// popover ("Connection details for <name>"); and whether our own uplink is
// poor (a warning on the call screen).
import { h, setText } from "./dom";

export type QualityGrade = "good" | "fair" | "poor";

// How often the stats are read (ms).
export const QUALITY_POLL_MS = 2000;
// Thresholds: above FAIR is fair, above POOR is poor (RTT in ms, loss in %
// of packets over the last poll, jitter in ms).
export const RTT_FAIR_MS = 250;
export const RTT_POOR_MS = 500;
export const LOSS_FAIR_PCT = 2;
export const LOSS_POOR_PCT = 8;
export const JITTER_FAIR_MS = 30;
export const JITTER_POOR_MS = 80;
// Available outgoing bitrate (kbit/s): below FAIR is fair, below POOR is poor.
export const BITRATE_FAIR_KBPS = 300;
export const BITRATE_POOR_KBPS = 120;
// The uplink warning shows after this many poor polls in a row (and goes
// after as many good ones), so one bad sample does not flash it.
export const UPLINK_POOR_POLLS = 2;

export interface LinkQuality {
  grade: QualityGrade;
  rttMs: number | null;
  lossPct: number | null; // received packets lost, last poll
  jitterMs: number | null; // received, the worse of audio and video
  outBitrateKbps: number | null; // available outgoing bitrate (bandwidth estimate)
  uplinkLossPct: number | null; // what the other side lost of ours (remote-inbound-rtp)
  uplinkPoor: boolean; // our side of this link is the poor one
  localType: string; // candidate types of the selected pair: host, srflx, prflx, relay
  remoteType: string;
  protocol: string; // udp / tcp (and the relay's protocol when relayed)
}

interface Counters {
  lost: number;
  received: number;
}

function worse(a: QualityGrade, b: QualityGrade): QualityGrade {
  const rank = { good: 0, fair: 1, poor: 2 };
  return rank[a] >= rank[b] ? a : b;
}

function gradeAbove(v: number | null, fair: number, poor: number): QualityGrade {
  if (v === null) return "good";
  return v > poor ? "poor" : v > fair ? "fair" : "good";
}

function gradeBelow(v: number | null, fair: number, poor: number): QualityGrade {
  if (v === null) return "good";
  return v < poor ? "poor" : v < fair ? "fair" : "good";
}

type Stat = Record<string, unknown> & { type: string; id: string };

// readLinkQuality reads one peer connection's stats; prev holds the packet
// counters of the last read (updated in place). null: not connected yet.
export async function readLinkQuality(pc: RTCPeerConnection, prev: Counters): Promise<LinkQuality | null> {
  const report = await pc.getStats();
  const all = new Map<string, Stat>();
  report.forEach((s: Stat) => all.set(s.id, s));
  let pair: Stat | undefined;
  for (const s of all.values()) {
    if (s.type === "transport" && typeof s.selectedCandidatePairId === "string") pair = all.get(s.selectedCandidatePairId);
  }
  if (!pair) {
    for (const s of all.values()) if (s.type === "candidate-pair" && s.state === "succeeded" && s.nominated) pair = s;
  }
  if (!pair) return null;
  const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
  let lost = 0;
  let received = 0;
  let jitter: number | null = null;
  let uplinkLoss: number | null = null;
  let uplinkRtt: number | null = null;
  for (const s of all.values()) {
    if (s.type === "inbound-rtp") {
      lost += num(s.packetsLost) ?? 0;
      received += num(s.packetsReceived) ?? 0;
      const j = num(s.jitter);
      if (j !== null) jitter = Math.max(jitter ?? 0, j * 1000);
    } else if (s.type === "remote-inbound-rtp") {
      const f = num(s.fractionLost);
      if (f !== null) uplinkLoss = Math.max(uplinkLoss ?? 0, f * 100);
      const r = num(s.roundTripTime);
      if (r !== null) uplinkRtt = Math.max(uplinkRtt ?? 0, r * 1000);
    }
  }
  const dLost = Math.max(0, lost - prev.lost);
  const dRecv = Math.max(0, received - prev.received);
  prev.lost = lost;
  prev.received = received;
  const lossPct = dLost + dRecv > 0 ? (dLost / (dLost + dRecv)) * 100 : null;
  const pairRtt = num(pair.currentRoundTripTime);
  const rttMs = pairRtt !== null ? pairRtt * 1000 : uplinkRtt;
  const out = num(pair.availableOutgoingBitrate);
  const outBitrateKbps = out !== null ? out / 1000 : null;
  const local = all.get(String(pair.localCandidateId));
  const remote = all.get(String(pair.remoteCandidateId));
  const relayProtocol = typeof local?.relayProtocol === "string" ? local.relayProtocol : "";
  const protocol = String(local?.protocol ?? "") + (relayProtocol ? ` via ${relayProtocol} relay` : "");
  const uplinkGrade = worse(
    gradeAbove(uplinkLoss, LOSS_FAIR_PCT, LOSS_POOR_PCT),
    gradeBelow(outBitrateKbps, BITRATE_FAIR_KBPS, BITRATE_POOR_KBPS),
  );
  let grade = worse(gradeAbove(rttMs, RTT_FAIR_MS, RTT_POOR_MS), gradeAbove(lossPct, LOSS_FAIR_PCT, LOSS_POOR_PCT));
  grade = worse(grade, gradeAbove(jitter, JITTER_FAIR_MS, JITTER_POOR_MS));
  grade = worse(grade, uplinkGrade);
  return {
    grade,
    rttMs,
    lossPct,
    jitterMs: jitter,
    outBitrateKbps,
    uplinkLossPct: uplinkLoss,
    uplinkPoor: uplinkGrade === "poor",
    localType: String(local?.candidateType ?? "?"),
    remoteType: String(remote?.candidateType ?? "?"),
    protocol,
  };
}

// QualityMonitor polls every peer connection of a session and reports the
// qualities (participant id -> quality) and whether our uplink is poor.
export class QualityMonitor {
  readonly qualities = new Map<string, LinkQuality>();
  uplinkPoor = false;
  private counters = new Map<string, Counters>();
  private poorPolls = 0;
  private goodPolls = 0;
  private timer: ReturnType<typeof setInterval>;
  private busy = false;

  constructor(
    private readonly peers: () => Map<string, RTCPeerConnection>,
    private readonly onUpdate: () => void,
  ) {
    this.timer = setInterval(() => void this.poll(), QUALITY_POLL_MS);
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const peers = this.peers();
      for (const id of [...this.qualities.keys()]) if (!peers.has(id)) this.qualities.delete(id);
      for (const id of [...this.counters.keys()]) if (!peers.has(id)) this.counters.delete(id);
      await Promise.all(
        [...peers].map(async ([id, pc]) => {
          let c = this.counters.get(id);
          if (!c) this.counters.set(id, (c = { lost: 0, received: 0 }));
          const q = await readLinkQuality(pc, c).catch(() => null);
          if (q) this.qualities.set(id, q);
          else this.qualities.delete(id);
        }),
      );
      // Our uplink is poor when it is on most links (one poor peer is theirs).
      const qs = [...this.qualities.values()];
      const poor = qs.length > 0 && qs.filter((q) => q.uplinkPoor).length * 2 > qs.length;
      if (poor) {
        this.goodPolls = 0;
        if (++this.poorPolls >= UPLINK_POOR_POLLS) this.uplinkPoor = true;
      } else {
        this.poorPolls = 0;
        if (++this.goodPolls >= UPLINK_POOR_POLLS) this.uplinkPoor = false;
      }
      this.onUpdate();
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const ROUTE: Record<string, string> = {
  host: "direct (host)",
  srflx: "through NAT (srflx)",
  prflx: "through NAT (prflx)",
  relay: "through a TURN relay (relay)",
};

function fmt(v: number | null, unit: string, digits = 0): string {
  return v === null ? "—" : `${v.toFixed(digits)} ${unit}`;
}

function fmtBitrate(kbps: number | null): string {
  if (kbps === null) return "—";
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(kbps)} kbit/s`;
}

// QualityPopover is the "Connection details for <name>" dialog next to a
// tile's quality button; one at a time, closed by Escape, Close or a click
// elsewhere, refreshed while open.
export class QualityPopover {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly rows: HTMLElement;
  private anchor: HTMLElement | null = null;
  participantId = "";
  private readonly outside = (ev: Event) => {
    const t = ev.target as Node;
    if (!this.el.contains(t) && this.anchor && t !== this.anchor && !this.anchor.contains(t)) this.close();
  };
  private readonly key = (ev: KeyboardEvent) => {
    if (ev.key === "Escape") {
      const a = this.anchor;
      this.close();
      a?.focus();
    }
  };

  constructor() {
    this.title = h("h2", { class: "qp-title", attrs: { id: "qp-title" } });
    this.rows = h("dl", { class: "qp-rows" });
    const close = h("button", { class: "btn btn-text qp-close", attrs: { type: "button" }, on: { click: () => this.close() } }, "Close");
    this.el = h("div", { class: "quality-popover", attrs: { role: "dialog", "aria-labelledby": "qp-title", hidden: true } }, this.title, this.rows, close);
  }

  get isOpen(): boolean {
    return !this.el.hidden;
  }

  open(anchor: HTMLElement, participantId: string, name: string, q: LinkQuality | undefined): void {
    this.close();
    this.anchor = anchor;
    this.participantId = participantId;
    setText(this.title, `Connection details for ${name}`);
    this.el.hidden = false;
    this.show(q);
    document.body.appendChild(this.el);
    const r = anchor.getBoundingClientRect();
    const pr = this.el.getBoundingClientRect();
    const left = Math.min(Math.max(8, r.right - pr.width), innerWidth - pr.width - 8);
    const top = r.bottom + 6 + pr.height > innerHeight - 8 ? Math.max(8, r.top - pr.height - 6) : r.bottom + 6;
    this.el.style.left = `${Math.round(left)}px`;
    this.el.style.top = `${Math.round(top)}px`;
    anchor.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", this.outside, true);
    document.addEventListener("keydown", this.key);
    this.el.querySelector<HTMLButtonElement>(".qp-close")?.focus();
  }

  // show fills in the numbers (undefined: not connected yet).
  show(q: LinkQuality | undefined): void {
    const row = (k: string, v: string) => [h("dt", {}, k), h("dd", {}, v)];
    const items: HTMLElement[] = [];
    if (!q) {
      items.push(...row("Status", "Connecting…"));
    } else {
      items.push(
        ...row("Quality", q.grade[0].toUpperCase() + q.grade.slice(1)),
        ...row("Round-trip time", fmt(q.rttMs, "ms")),
        ...row("Packet loss", fmt(q.lossPct, "%", 1)),
        ...row("Jitter", fmt(q.jitterMs, "ms")),
        ...row("Available outgoing bitrate", fmtBitrate(q.outBitrateKbps)),
        ...row("Their loss of ours", fmt(q.uplinkLossPct, "%", 1)),
        ...row("Candidate pair", `${q.localType} ↔ ${q.remoteType}`),
        ...row("Route", `${ROUTE[q.localType === "relay" || q.remoteType === "relay" ? "relay" : q.localType] ?? q.localType}${q.protocol ? `, ${q.protocol}` : ""}`),
      );
    }
    this.rows.replaceChildren(...items);
    this.el.dataset.candidateType = q ? q.localType : "";
  }

  close(): void {
    if (this.el.hidden) return;
    this.el.hidden = true;
    this.el.remove();
    this.anchor?.setAttribute("aria-expanded", "false");
    this.anchor = null;
    this.participantId = "";
    document.removeEventListener("pointerdown", this.outside, true);
    document.removeEventListener("keydown", this.key);
  }
}
