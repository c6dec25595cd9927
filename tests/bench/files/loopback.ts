// The loopback row of make bench-files (run.ts builds this page with the web
// app's Vite config): two RTCPeerConnections in one page, connected to each
// other directly (host candidates on 127.0.0.1, no server), and the web
// client's own OutgoingTransfer / IncomingTransfer moving one file of
// ?mib= MiB across: what the transfer code and Chromium's SCTP stack do with
// no network and no other process in between. Result in window.benchResult:
// ms from the receiver's accept to its verified end.
import { IncomingTransfer, OutgoingTransfer } from "../../../web/src/files/transfer";

declare global {
  interface Window {
    benchResult?: { bytes: number; ms: number; sha256: string };
    benchError?: string;
  }
}

const MiB = 1024 * 1024;
const mib = Number(new URLSearchParams(location.search).get("mib") ?? 128);

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

run().catch((e) => (window.benchError = e instanceof Error ? e.message : String(e)));
