// Active speaker: who is speaking now, from the audio level WebRTC reports
// for each remote participant (RTCRtpReceiver.getSynchronizationSources(),
// RFC 6464 levels as 0..1 linear) and for ourselves (the "media-source"
// getStats() entry of our audio sender). SpeakerDetector is fed levels and
// decides with hysteresis, so a breath or a click does not flicker the
// highlight and the speaker layout does not jump between two people talking
// over each other.

// How often the levels are read (ms).
export const SPEAKER_POLL_MS = 250;
// A level above this starts "speaking" (0..1, linear; about -34 dBov).
export const SPEAKING_ON_LEVEL = 0.02;
// Below this (and after SPEAKING_HOLD_MS) "speaking" ends.
export const SPEAKING_OFF_LEVEL = 0.008;
// Speaking survives pauses between words this long (ms).
export const SPEAKING_HOLD_MS = 900;
// Someone louder than the active speaker, while the active speaker still
// speaks, takes over after this long (ms).
export const ACTIVE_SWITCH_MS = 1500;
// Each poll keeps this share of the previous level (peak hold with decay).
export const LEVEL_DECAY = 0.6;

interface Voice {
  level: number; // smoothed
  speaking: boolean;
  quietSince: number; // ms; 0 while loud
}

// SpeakerDetector turns audio levels into who speaks and who is the active
// speaker. update() takes one reading per participant and returns whether
// anything changed (speaking set or activeId).
export class SpeakerDetector {
  private voices = new Map<string, Voice>();
  // The active speaker: the last one who spoke (kept while nobody speaks).
  activeId = "";
  private challenger = "";
  private challengerSince = 0;

  // speaking: the ids speaking now.
  get speaking(): Set<string> {
    const out = new Set<string>();
    for (const [id, v] of this.voices) if (v.speaking) out.add(id);
    return out;
  }

  level(id: string): number {
    return this.voices.get(id)?.level ?? 0;
  }

  // update: levels maps participant id -> raw audio level (0..1), muted
  // participants at 0; ids missing from it are gone. now in ms.
  update(levels: Map<string, number>, now: number): boolean {
    let changed = false;
    for (const id of [...this.voices.keys()]) {
      if (!levels.has(id)) {
        if (this.voices.get(id)?.speaking) changed = true;
        this.voices.delete(id);
      }
    }
    for (const [id, raw] of levels) {
      let v = this.voices.get(id);
      if (!v) {
        v = { level: 0, speaking: false, quietSince: now };
        this.voices.set(id, v);
      }
      v.level = Math.max(raw, v.level * LEVEL_DECAY);
      if (v.level >= SPEAKING_ON_LEVEL) {
        v.quietSince = 0;
        if (!v.speaking) {
          v.speaking = true;
          changed = true;
        }
      } else if (v.level < SPEAKING_OFF_LEVEL) {
        if (v.quietSince === 0) v.quietSince = now;
        if (v.speaking && now - v.quietSince >= SPEAKING_HOLD_MS) {
          v.speaking = false;
          changed = true;
        }
      }
    }
    // The loudest of those speaking may become the active speaker.
    let loudest = "";
    for (const [id, v] of this.voices) {
      if (v.speaking && (!loudest || v.level > this.level(loudest))) loudest = id;
    }
    const active = this.voices.get(this.activeId);
    if (this.activeId && !active) {
      this.activeId = ""; // left
      changed = true;
    }
    if (loudest && loudest !== this.activeId) {
      if (!active?.speaking) {
        this.setActive(loudest);
        changed = true;
      } else {
        if (this.challenger !== loudest) {
          this.challenger = loudest;
          this.challengerSince = now;
        } else if (now - this.challengerSince >= ACTIVE_SWITCH_MS) {
          this.setActive(loudest);
          changed = true;
        }
      }
    } else {
      this.challenger = "";
    }
    return changed;
  }

  private setActive(id: string): void {
    this.activeId = id;
    this.challenger = "";
  }
}

// receiverLevel: the latest audio level of the audio a peer connection
// receives (0 when none yet).
export function receiverLevel(pc: RTCPeerConnection): number {
  let level = 0;
  for (const r of pc.getReceivers()) {
    if (r.track.kind !== "audio") continue;
    for (const s of r.getSynchronizationSources()) level = Math.max(level, s.audioLevel ?? 0);
  }
  return level;
}

// senderLevel: our own microphone's level as one peer connection's audio
// sender reports it (media-source stats; 0 when not available).
export async function senderLevel(pc: RTCPeerConnection): Promise<number> {
  const sender = pc.getSenders().find((s) => s.track?.kind === "audio");
  if (!sender) return 0;
  const stats = await sender.getStats();
  let level = 0;
  stats.forEach((s: { type: string; kind?: string; audioLevel?: number }) => {
    if (s.type === "media-source" && s.kind === "audio") level = Math.max(level, s.audioLevel ?? 0);
  });
  return level;
}
