// Backoff is exponential backoff with "equal jitter": each delay is half the
// current step plus a random share of the other half, the step doubling from
// min up to max. Used for reconnects and for re-sending unacknowledged writes.
export class Backoff {
  private step: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.step = minMs;
  }

  // next returns the delay to wait now and doubles the step for the one after.
  next(): number {
    const base = this.step;
    this.step = Math.min(this.maxMs, this.step * 2);
    return base / 2 + Math.random() * (base / 2);
  }

  reset(): void {
    this.step = this.minMs;
  }
}

// newClientId: 128 random bits, base64url (22 characters of [A-Za-z0-9_-]),
// the form of every client-chosen idempotency id (chat posts, notes updates).
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
