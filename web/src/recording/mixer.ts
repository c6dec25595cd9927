// AudioMixer mixes audio tracks into one (WebAudio): the recording's sound.
// Tracks come and go while it runs (people join and leave, a microphone is
// switched); the output track stays the same, silent when there is nothing.
export class AudioMixer {
  private readonly ctx = new AudioContext();
  private readonly dest = this.ctx.createMediaStreamDestination();
  private readonly sources = new Map<MediaStreamTrack, MediaStreamAudioSourceNode>();

  constructor() {
    // Started from a click (Record), so the autoplay policy lets it run.
    void this.ctx.resume().catch(() => {});
  }

  get track(): MediaStreamTrack {
    return this.dest.stream.getAudioTracks()[0];
  }

  // set makes the mix exactly these tracks (ended ones are left out).
  set(tracks: Array<MediaStreamTrack | null | undefined>): void {
    const want = new Set(tracks.filter((t): t is MediaStreamTrack => !!t && t.kind === "audio" && t.readyState === "live"));
    for (const [t, node] of this.sources) {
      if (!want.has(t)) {
        node.disconnect();
        this.sources.delete(t);
      }
    }
    for (const t of want) {
      if (this.sources.has(t)) continue;
      const node = this.ctx.createMediaStreamSource(new MediaStream([t]));
      node.connect(this.dest);
      this.sources.set(t, node);
    }
  }

  close(): void {
    for (const node of this.sources.values()) node.disconnect();
    this.sources.clear();
    this.track.stop();
    void this.ctx.close().catch(() => {});
  }
}
