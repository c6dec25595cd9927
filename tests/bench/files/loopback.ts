// The loopback row of make bench-files (run.ts builds this page with the web
// app's Vite config): two RTCPeerConnections in one page, connected to each
// other directly (host candidates on 127.0.0.1, no server), and the web
// client's own OutgoingTransfer / IncomingTransfer moving one file of
// ?mib= MiB across: what the transfer code and Chromium's SCTP stack do with
// no network and no other process in between. Result in window.benchResult:
// ms from the receiver's accept to its verified end.
import { IncomingTransfer, OutgoingTransfer } from "../../../web/src/files/transfer";
import { CHUNK_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../../../web/src/files/protocol";

declare global {
  interface Window {
    benchResult?: { bytes: number; ms: number; sha256: string };
    benchError?: string;
  }
}

const MiB = 1024 * 1024;
const params = new URLSearchParams(location.search);
const mib = Number(params.get("mib") ?? 128);

// raw: the same pair and channel, the same chunks and backpressure, but
// no file, no hashing and no sink: what SCTP alone carries (the ceiling).
async function raw(): Promise<void> {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.addEventListener("icecandidate", (e) => void (e.candidate && b.addIceCandidate(e.candidate)));
  b.addEventListener("icecandidate", (e) => void (e.candidate && a.addIceCandidate(e.candidate)));
  const total = mib * MiB;
  const got = new Promise<number>((resolve) => {
    b.addEventListener("datachannel", (ev) => {
      let n = 0;
      let t0 = 0;
      ev.channel.binaryType = "arraybuffer";
      ev.channel.onmessage = (m) => {
        if (!t0) t0 = performance.now();
        n += (m.data as ArrayBuffer).byteLength;
        if (n >= total) resolve(performance.now() - t0);
      };
    });
  });
  const dc = a.createDataChannel("raw", { ordered: true });
  dc.bufferedAmountLowThreshold = LOW_WATER_BYTES;
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription!);
  await new Promise((r) => (dc.onopen = r));
  const chunk = new Uint8Array(CHUNK_BYTES);
  for (let sent = 0; sent < total; sent += CHUNK_BYTES) {
    if (dc.bufferedAmount > HIGH_WATER_BYTES) await new Promise((r) => (dc.onbufferedamountlow = r));
    dc.send(chunk);
  }
  window.benchResult = { bytes: total, ms: await got, sha256: "" };
}

async function run(): Promise<void> {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.addEventListener("icecandidate", (e) => void (e.candidate && b.addIceCandidate(e.candidate)));
  b.addEventListener("icecandidate", (e) => void (e.candidate && a.addIceCandidate(e.candidate)));
  // The file: mib MiB of one 1 MiB part repeated (the sender reads it in slices).
  const part = new Uint8Array(MiB);
  for (let i = 0; i < part.length; i++) part[i] = (i * 2654435761) >>> 24;
  const file = new File(Array.from({ length: mib }, () => part), "loopback.bin");
  const done = new Promise<IncomingTransfer>((resolve, reject) => {
    b.addEventListener("datachannel", (ev) => {
      const t = new IncomingTransfer(ev.channel, "a");
      t.onChange(() => {
        if (t.state === "done") resolve(t);
        else if (t.finished) reject(new Error(`${t.state}: ${t.error}`));
      });
      void t.whenOffered().then((ok) => ok && t.accept());
    });
  });
  // The transfer's channel makes the offer carry an SCTP section.
  const out = new OutgoingTransfer(a, "0123456789abcdef", "b", file);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription!);
  const t = await done;
  window.benchResult = { bytes: t.size, ms: t.endedAtMs - t.startedAtMs, sha256: t.sha256 };
  void out;
  a.close();
  b.close();
}

(params.get("raw") ? raw() : run()).catch((e) => (window.benchError = e instanceof Error ? e.message : String(e)));
