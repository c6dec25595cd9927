// ServerClock estimates the server's clock (Unix ms) from this browser, so
// that everyone computes the same position of the shared player from the
// registry's updated_at_ms. Samples: ping round trips (PongReply carries the
// gateway's time; the offset is taken at the middle of the round trip, the
// sample with the shortest round trip of the last CLOCK_SAMPLES wins, its
// error is at most half that round trip), and every WatchState the gateway
// sends (server_time_ms, stamped when sent: the server clock is at least
// that when it arrives, a lower bound on the offset).
export const CLOCK_SAMPLES = 8;

interface Sample {
  offsetMs: number; // server - local
  rttMs: number;
}

export class ServerClock {
  private samples: Sample[] = [];
  private lowerBoundMs = Number.NEGATIVE_INFINITY;

  // addPing records a ping sent at sentMs and answered at receivedMs (local
  // Date.now()) with the server's serverMs.
  addPing(sentMs: number, serverMs: number, receivedMs: number): void {
    const rttMs = receivedMs - sentMs;
    if (!(rttMs >= 0) || !Number.isFinite(serverMs) || serverMs <= 0) return;
    this.samples.push({ offsetMs: serverMs - (sentMs + receivedMs) / 2, rttMs });
    if (this.samples.length > CLOCK_SAMPLES) this.samples.shift();
  }

  // addStamp records a message the server stamped with serverMs that arrived at receivedMs.
  addStamp(serverMs: number, receivedMs: number): void {
    if (!Number.isFinite(serverMs) || serverMs <= 0) return;
    this.lowerBoundMs = serverMs - receivedMs;
  }

  get synced(): boolean {
    return this.samples.length > 0 || Number.isFinite(this.lowerBoundMs);
  }

  // offsetMs is server time minus local time, as best known (0 before any sample).
  offsetMs(): number {
    let best: Sample | undefined;
    for (const s of this.samples) if (!best || s.rttMs < best.rttMs) best = s;
    const est = best ? best.offsetMs : this.lowerBoundMs;
    if (!Number.isFinite(est)) return 0;
    return Math.max(est, this.lowerBoundMs);
  }

  // now is the server's clock now, Unix ms.
  now(): number {
    return Date.now() + this.offsetMs();
  }
}
