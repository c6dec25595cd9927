// WatchSync keeps one player in step with the meeting's shared state, and
// turns what the user does with the player's own controls into requests.
//
// Position: the state says where the video was at updated_at_ms on the
// server's clock and how fast it plays, so the target now is position_ms +
// (server now - updated_at_ms) * rate while playing (ServerClock gives the
// server's now). Every SYNC_INTERVAL_MS the player is compared with it: a
// drift beyond DRIFT_MAX_S is corrected, by nudging playbackRate by
// RATE_NUDGE while it is below SEEK_DRIFT_S (no jump, no rebuffering) until
// it is within DRIFT_SETTLED_S, by seeking beyond that (and always for a
// player that cannot nudge, YouTube, beyond NO_NUDGE_SEEK_S).
//
// No echo: a player event is sent only when it disagrees with the state we
// hold and is not one we caused. Applying remote state makes the player
// agree with it before its events arrive (play when the state plays, pause
// when it does), and every play, pause and seek we start is marked as ours
// until its event comes (a rate we set is remembered), so nothing caused by
// applying remote state goes back to the server, whatever order the events
// come in. While the player is paused or playing and its event has not come
// yet (the user's own pause, say), the player is left alone: the event
// decides. A change we send is
// applied locally at once (optimistically) and replaced by the server's
// state when it comes back (or undone when refused).
import { WatchAction, type WatchState } from "../proto";
import type { ServerClock } from "./clock";
import type { PlayerEvent, WatchPlayer } from "./players";

export const DRIFT_MAX_S = 0.3; // beyond this the player is corrected
export const SEEK_DRIFT_S = 1.5; // beyond this a seek, below it a rate nudge
export const NO_NUDGE_SEEK_S = 1.0; // players without fine rates: seek beyond this
export const DRIFT_SETTLED_S = 0.08; // a nudge ends within this
export const RATE_NUDGE = 0.1; // fraction of the rate added or removed while nudging
export const SYNC_INTERVAL_MS = 250;
export const SEEK_ECHO_S = 0.75; // a seek this close to the shared position changes nothing
export const OWN_SEEK_MS = 3000; // our seek's "seeked" is expected within this
export const OWN_EVENT_MS = 3000; // our play's "play" (our pause's "pause") is expected within this
export const EVENT_PENDING_MAX_MS = 1000; // a play or pause whose event has not come within this is taken as done
export const SEEK_SEND_DELAY_MS = 200; // dragging the timeline sends its last position only
export const END_SLACK_S = 0.25; // this close to the end counts as the end
export const RATE_MIN = 0.25; // the registry's REG_WATCH_RATE_MIN .. MAX
export const RATE_MAX = 2;

// Shared is the part of WatchState the player follows, in plain numbers.
interface Shared {
  playing: boolean;
  positionMs: number;
  rate: number;
  updatedAtMs: number;
}

export interface WatchChange {
  action: WatchAction;
  positionMs?: number;
  rate?: number;
}

export interface WatchSyncOptions {
  clock: ServerClock;
  // send asks the server for a change; the new state comes back through update().
  send(change: WatchChange): Promise<unknown>;
  onError(message: string): void; // a change the server refused
  onAutoplayBlocked(): void; // playing needed a mute (the browser's autoplay policy)
}

export interface WatchSyncStats {
  seeks: number; // corrections by seeking
  nudges: number; // corrections begun by nudging the rate
  sent: number; // changes sent (the user's)
  drift: number; // seconds, last measured (player - target)
}

function shared(s: WatchState): Shared {
  return {
    playing: s.playing,
    positionMs: Number(s.positionMs),
    rate: s.rate > 0 ? s.rate : 1,
    updatedAtMs: Number(s.updatedAtMs),
  };
}

export class WatchSync {
  readonly stats: WatchSyncStats = { seeks: 0, nudges: 0, sent: 0, drift: 0 };
  private confirmed: Shared;
  private local: Shared;
  private nudging = false;
  private rateSet = Number.NaN; // the playbackRate we gave the player last
  private ownSeekUntil = 0; // performance.now() until which a "seeked" is ours
  // performance.now() until which a "play" / "pause" event is ours (0: none expected).
  private ownEventUntil: Record<"play" | "pause", number> = { play: 0, pause: 0 };
  private seenPaused: boolean; // paused or playing, as the player's last play/pause event said
  private pendingSince = 0; // performance.now() since the player differs from seenPaused (0: it does not)
  private seekSend?: ReturnType<typeof setTimeout>;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly player: WatchPlayer,
    state: WatchState,
    private readonly opts: WatchSyncOptions,
  ) {
    this.confirmed = shared(state);
    this.local = { ...this.confirmed };
    this.seenPaused = player.paused();
    player.on((ev) => this.onPlayer(ev));
    this.timer = setInterval(() => this.correct(), SYNC_INTERVAL_MS);
  }

  // update applies the server's state (a newer one than before).
  update(state: WatchState): void {
    this.confirmed = shared(state);
    this.local = { ...this.confirmed };
    this.nudging = false;
    this.correct();
  }

  // targetS is where the shared video is now, in seconds.
  targetS(): number {
    const s = this.local;
    let ms = s.positionMs;
    if (s.playing) ms += Math.max(0, this.opts.clock.now() - s.updatedAtMs) * s.rate;
    let t = ms / 1000;
    const d = this.player.duration();
    if (Number.isFinite(d) && d > 0 && t > d) t = d;
    return Math.max(0, t);
  }

  get playing(): boolean {
    return this.local.playing;
  }

  private atEnd(t: number): boolean {
    const d = this.player.duration();
    return Number.isFinite(d) && d > 0 && t >= d - END_SLACK_S;
  }

  private setRate(rate: number): void {
    if (rate === this.rateSet && this.player.rate() === rate) return;
    this.rateSet = rate;
    this.player.setRate(rate);
  }

  private seek(t: number): void {
    this.ownSeekUntil = performance.now() + OWN_SEEK_MS;
    this.stats.seeks++;
    this.player.seek(t);
  }

  // ownEvent marks the "play" or "pause" event of a change we just asked
  // the player for as ours, if the player took the change.
  private ownEvent(ev: "play" | "pause"): void {
    if (this.player.paused() === (ev === "pause")) this.ownEventUntil[ev] = performance.now() + OWN_EVENT_MS;
  }

  // isOwnEvent: ev is the event of a change we asked for (and no longer expected).
  private isOwnEvent(ev: "play" | "pause"): boolean {
    const own = performance.now() < this.ownEventUntil[ev];
    this.ownEventUntil[ev] = 0;
    return own;
  }

  private startPlaying(): void {
    const p = this.player;
    const asked = p.play();
    this.ownEvent("play");
    asked.catch((e: unknown) => {
      if (!(e instanceof DOMException) || e.name !== "NotAllowedError" || !this.local.playing) return;
      // No user gesture yet: muted playback is always allowed.
      p.setMuted(true);
      this.opts.onAutoplayBlocked();
      const again = p.play();
      this.ownEvent("play");
      again.catch(() => {});
    });
  }

  // eventPending: the player is paused (or playing) and its event has not
  // come yet, for at most EVENT_PENDING_MAX_MS.
  private eventPending(): boolean {
    if (this.player.paused() === this.seenPaused) {
      this.pendingSince = 0;
      return false;
    }
    const now = performance.now();
    if (this.pendingSince === 0) this.pendingSince = now;
    if (now - this.pendingSince < EVENT_PENDING_MAX_MS) return true;
    this.seenPaused = this.player.paused(); // no event is coming
    this.pendingSince = 0;
    return false;
  }

  // correct brings the player to the shared state.
  correct(): void {
    const p = this.player;
    if (!p.ready || this.eventPending()) return;
    const target = this.targetS();
    if (this.local.playing) {
      if (p.paused() && !this.atEnd(target)) this.startPlaying();
    } else if (!p.paused()) {
      p.pause();
      this.ownEvent("pause");
    }
    if (p.seeking() || performance.now() < this.ownSeekUntil) return; // until our seek lands
    const drift = p.position() - target;
    const abs = Math.abs(drift);
    this.stats.drift = drift;
    if (!this.local.playing || this.atEnd(target)) {
      this.nudging = false;
      this.setRate(this.local.rate);
      if (abs > DRIFT_MAX_S) this.seek(target);
      return;
    }
    const seekAt = p.canNudge ? SEEK_DRIFT_S : Math.max(NO_NUDGE_SEEK_S, DRIFT_MAX_S);
    if (abs > seekAt) {
      this.nudging = false;
      this.setRate(this.local.rate);
      this.seek(target);
    } else if (p.canNudge && (abs > DRIFT_MAX_S || (this.nudging && abs > DRIFT_SETTLED_S))) {
      if (!this.nudging) this.stats.nudges++;
      this.nudging = true;
      // Ahead: slower; behind: faster.
      this.setRate(this.local.rate * (drift > 0 ? 1 - RATE_NUDGE : 1 + RATE_NUDGE));
    } else {
      this.nudging = false;
      this.setRate(this.local.rate);
    }
  }

  // change applies the user's change locally and sends it.
  private change(patch: Partial<Shared>, req: WatchChange): void {
    this.local = { ...this.local, ...patch, updatedAtMs: this.opts.clock.now() };
    this.nudging = false;
    this.stats.sent++;
    this.opts.send(req).catch((e: unknown) => {
      this.opts.onError(e instanceof Error ? e.message : String(e));
      this.local = { ...this.confirmed }; // refused: back to what everyone has
      this.correct();
    });
  }

  private onPlayer(ev: PlayerEvent): void {
    const p = this.player;
    switch (ev) {
      case "ready":
        this.correct();
        break;
      case "play":
        this.seenPaused = false;
        if (this.isOwnEvent("play")) break;
        if (!this.local.playing) {
          const positionMs = Math.round(p.position() * 1000);
          this.change({ playing: true, positionMs }, { action: WatchAction.PLAY, positionMs });
        }
        break;
      case "pause":
        this.seenPaused = true;
        if (this.isOwnEvent("pause")) break;
        // The end of the video pauses it too: that is nobody's pause.
        if (this.local.playing && !this.atEnd(p.position())) {
          const positionMs = Math.round(p.position() * 1000);
          this.change({ playing: false, positionMs }, { action: WatchAction.PAUSE, positionMs });
        }
        break;
      case "seeked": {
        if (performance.now() < this.ownSeekUntil) {
          this.ownSeekUntil = 0; // ours has landed
          break;
        }
        if (Math.abs(p.position() - this.targetS()) <= SEEK_ECHO_S) break;
        const positionMs = Math.round(p.position() * 1000);
        this.local = { ...this.local, positionMs, updatedAtMs: this.opts.clock.now() };
        clearTimeout(this.seekSend);
        this.seekSend = setTimeout(() => {
          const at = Math.round(p.position() * 1000);
          this.change({ positionMs: at }, { action: WatchAction.SEEK, positionMs: at });
        }, SEEK_SEND_DELAY_MS);
        break;
      }
      case "ended":
        this.seenPaused = p.paused();
        break;
      case "ratechange": {
        const r = p.rate();
        if (Math.abs(r - this.rateSet) < 1e-3) break; // ours (a nudge, or the shared rate)
        const rate = Math.min(RATE_MAX, Math.max(RATE_MIN, r));
        this.rateSet = r;
        if (Math.abs(rate - this.local.rate) < 1e-3) break;
        const positionMs = Math.round(this.targetS() * 1000);
        this.change({ rate, positionMs }, { action: WatchAction.RATE, rate });
        break;
      }
      default:
        break;
    }
  }

  destroy(): void {
    clearInterval(this.timer);
    clearTimeout(this.seekSend);
  }
}
