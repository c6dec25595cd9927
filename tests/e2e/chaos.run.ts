// Chaos: three real Chromium pages in one meeting (Ada and Bob post to the
// chat, Cy types into the shared notes; Cy's page is relay-only, so its two
// pairs go through coturn), while every process of the stack is SIGKILLed and
// started again, one at a time: the gateway, the registry, huddle-chat,
// huddle-notes, huddle-recording (while Ada's recording uploads), Redis and
// coturn. After each kill:
// - media never stops for more than MEDIA_GAP_MAX_MS on any pair (a sampler
//   in every page reads getStats() inbound-rtp framesDecoded and the audio
//   samples received minus concealed every SAMPLE_MS); coturn: the relay pairs
//   recover by ICE restart within RELAY_RECOVER_MAX_MS, the direct pair keeps
//   the 2 s bound;
// - every page's roster (its tiles and peer connections) is right within
//   ROSTER_MAX_MS of the process being back;
// - no acknowledged chat message or notes update is lost or doubled (the
//   posts each page acknowledged against the chat history; the tokens typed
//   and acknowledged against the notes document) — checked after each kill;
// - the recording in progress ends as one complete file (ffprobe: one video
//   stream, the duration recorded).
// Time to recover per process (SIGKILL until everything above works again:
// signaling resumed, rosters right, a chat post and a notes edit made after
// the kill acknowledged, media decoding on every pair) is printed as METRIC
// lines; CHAOS_ROUNDS (default 1) repeats the cycle, and with more than one
// round p50/p95 per process are printed (`make chaos`).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { useE2E, participantId, peerIds } from "./suite.ts";
import { joinThroughUi, poll, sleep, waitFramesFlowing, selectedCandidateTypes, metric, OUT_DIR, type Participant } from "./browser.ts";
import { connect } from "../lib/client.ts";
import type { Stack } from "../lib/stack.ts";
import { parseRecording } from "../../web/src/recording/api.ts";
import { RecordingState } from "../../web/src/proto.ts";

const ROUNDS = Math.max(1, Number(process.env.CHAOS_ROUNDS ?? 1) || 1);
/** How long a killed process stays down before it is started again (a supervisor's restart delay). */
const DOWN_MS = Number(process.env.CHAOS_DOWN_MS ?? 500);
const SAMPLE_MS = 200;
const MEDIA_GAP_MAX_MS = 2_000;
const RELAY_RECOVER_MAX_MS = 10_000;
const ROSTER_MAX_MS = 3_000;
/** Bound for everything to work again after a kill (a failure, not a measurement). */
const RECOVER_TIMEOUT_MS = 30_000;
/** After recovery, media is watched this long more before the gaps are read. */
const SETTLE_MS = 2_000;
const OBSERVE_MS = 250;
const CHAT_EVERY_MS = 700;
const NOTES_EVERY_MS = 900;
const RECORD_BEFORE_MS = 3_000;
const RECORD_AFTER_MS = 4_000;
const run = promisify(execFile);

type Victim = "gateway" | "registry" | "chat" | "notes" | "recording" | "redis" | "coturn";
const ALL_VICTIMS: Victim[] = ["gateway", "registry", "chat", "notes", "recording", "redis", "coturn"];
/** CHAOS_ONLY=notes,redis: only these processes (to chase one failure); default all. */
const VICTIMS: Victim[] = process.env.CHAOS_ONLY ? ALL_VICTIMS.filter((v) => process.env.CHAOS_ONLY!.split(",").includes(v)) : ALL_VICTIMS;

const e2e = useE2E({ coturn: true });

// The in-page sampler (a string: tsx would wrap named functions in a __name()
// the page does not have). Every SAMPLE_MS it reads getStats() of each peer
// connection; window.__chaos.read() returns, per "<peer>:video" and
// "<peer>:audio", the longest stretch without media since the last reset
// (the one still open included) and when media last progressed (Date.now()).
// The stretches come from the stats themselves, so a sampler that runs late
// (a busy machine) does not count as a gap: video, the freezes and pauses
// Chromium measured between decoded frames (totalFreezesDuration and
// totalPausesDuration grow when a frame ends one); audio, the time of an
// interval not covered by samples really received (totalSamplesReceived
// minus concealedSamples, at the stream's rate). Stats without those fields
// fall back to the sampler's own clock.
const SAMPLER = `(() => {
  if (window.__chaos) return;
  const st = { last: {}, maxGap: {}, busy: null };
  const tick = async () => {
    const now0 = Date.now();
    for (const [id, pc] of window.huddle.peers) {
      const stats = await pc.getStats();
      let frames = 0, freezes = 0, hasFreeze = false, real = 0, dur = 0, rate = 0;
      stats.forEach((s) => {
        if (s.type !== "inbound-rtp") return;
        if (s.kind === "video") {
          frames += s.framesDecoded || 0;
          if (typeof s.totalFreezesDuration === "number") { hasFreeze = true; freezes += s.totalFreezesDuration + (s.totalPausesDuration || 0); }
        } else if (s.kind === "audio") {
          real += (s.totalSamplesReceived || 0) - (s.concealedSamples || 0);
          dur += s.totalSamplesDuration || 0;
          if (s.totalSamplesDuration > 0) rate = s.totalSamplesReceived / s.totalSamplesDuration;
        }
      });
      const now = Date.now();
      const cur = { video: { v: frames, f: freezes, has: hasFreeze }, audio: { v: real, rate } };
      for (const kind of ["video", "audio"]) {
        const k = id + ":" + kind, c = cur[kind], p = st.last[k];
        if (!p || c.v < p.v) { st.last[k] = { v: c.v, f: c.f, t: now, moved: !!p, run: 0 }; if (!(k in st.maxGap)) st.maxGap[k] = 0; continue; }
        if (c.v === p.v || c.v === 0) continue;
        let gap;
        if (kind === "video") gap = c.has ? (c.f - p.f) * 1000 : now - p.t;
        else {
          const missing = c.rate > 0 ? Math.max(0, (now - p.t) - ((c.v - p.v) / c.rate) * 1000) : now - p.t;
          gap = missing;
        }
        st.maxGap[k] = Math.max(st.maxGap[k] || 0, gap);
        st.last[k] = { v: c.v, f: c.f, t: now, moved: true };
      }
    }
  };
  const once = () => { if (!st.busy) st.busy = tick().catch(() => {}).finally(() => { st.busy = null; }); return st.busy; };
  setInterval(once, ${SAMPLE_MS});
  window.__chaos = {
    reset() { for (const k of Object.keys(st.maxGap)) st.maxGap[k] = 0; },
    async read() {
      await once();
      await once();
      const now = Date.now(), out = {};
      for (const [k, p] of Object.entries(st.last)) out[k] = { gap: Math.max(st.maxGap[k] || 0, now - p.t), last: p.t, moved: p.moved };
      return out;
    },
  };
})()`;

/** Every read of a page is bounded: a page that does not answer fails the round, it does not hang the test. */
const EVAL_TIMEOUT_MS = 10_000;
function bounded<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no answer in ${EVAL_TIMEOUT_MS} ms`)), EVAL_TIMEOUT_MS)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

type Gaps = Record<string, { gap: number; last: number; moved: boolean }>;
const readGaps = (p: Participant): Promise<Gaps> => bounded(`${p.name}: media sampler`, p.page.evaluate("window.__chaos.read()") as Promise<Gaps>);
const resetGaps = (p: Participant): Promise<unknown> => bounded(`${p.name}: media sampler`, p.page.evaluate("window.__chaos.reset()"));

interface PageState {
  connection: string;
  state: string;
  tiles: string[];
  peers: string[];
  chatState: string;
  chatOwn: string[];
  notesPending: number;
  notesState: string;
}
function pageState(p: Participant): Promise<PageState> {
  return bounded(`${p.name}: state`, p.page.evaluate(() => ({
    connection: window.huddle.connection,
    state: window.huddle.state,
    tiles: [...document.querySelectorAll(".tile[data-participant-id]")].map((t) => t.getAttribute("data-participant-id") ?? "").sort(),
    peers: [...window.huddle.peers.keys()].sort(),
    chatState: window.huddle.chat?.state ?? "none",
    chatOwn: (window.huddle.chat?.messages ?? []).filter((m) => m.own).map((m) => m.text),
    notesPending: window.huddle.notes?.notes?.pending ?? -1,
    notesState: window.huddle.notes?.state ?? "none",
  })));
}

// A background loop, stopped by stop(); errors are kept to fail the test.
class Loop {
  private running = true;
  readonly errors: string[] = [];
  private done: Promise<void>;
  constructor(name: string, everyMs: number, body: () => Promise<void>) {
    this.done = (async () => {
      while (this.running) {
        const t = Date.now();
        try {
          await body();
        } catch (e) {
          if (this.running) this.errors.push(`${name}: ${(e as Error).message.split("\n")[0]}`);
        }
        await sleep(Math.max(50, everyMs - (Date.now() - t)));
      }
    })();
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

// ChatPoster types a numbered message into a page's chat composer now and then
// and tracks which were acknowledged (shown as its own, with a seq).
class ChatPoster {
  n = 0;
  readonly posted = new Map<string, number>(); // text -> Date.now() at Enter
  readonly acked = new Map<string, number>(); // text -> first seen acknowledged
  private paused = false;
  private busy: Promise<void> | null = null;
  constructor(readonly p: Participant) {}
  /** Runs fn on the page with no post being typed meanwhile (a click elsewhere would close an open menu). */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.paused = true;
    try {
      await this.busy?.catch(() => {});
      return await fn();
    } finally {
      this.paused = false;
    }
  }
  tick(): Promise<void> {
    if (this.paused) return Promise.resolve();
    this.busy = this.post();
    return this.busy;
  }
  private async post(): Promise<void> {
    const box = this.p.page.getByRole("textbox", { name: "Send a message to everyone" });
    const text = `chaos ${this.p.name} ${++this.n}`;
    await box.fill(text, { timeout: 5_000 });
    await box.press("Enter", { timeout: 5_000 });
    this.posted.set(text, Date.now());
  }
  observe(s: PageState): void {
    const now = Date.now();
    for (const t of s.chatOwn) if (t.startsWith(`chaos ${this.p.name} `) && !this.acked.has(t)) this.acked.set(t, now);
  }
  /** Whether a message posted after t was acknowledged. */
  ackedSince(t: number): boolean {
    for (const [text, at] of this.posted) if (at > t && this.acked.has(text)) return true;
    return false;
  }
}

// NotesTyper types a token line at the end of the shared notes now and then; a
// token is acknowledged once the page has no pending update after it was typed.
class NotesTyper {
  n = 0;
  readonly typed = new Map<string, number>();
  readonly acked = new Map<string, number>();
  constructor(readonly p: Participant) {}
  async tick(): Promise<void> {
    const ed = this.p.page.getByRole("textbox", { name: "Meeting notes" });
    await ed.click({ timeout: 5_000 });
    await this.p.page.keyboard.press("Control+End");
    const token = `n${this.p.name}${++this.n}x`;
    await this.p.page.keyboard.type(`${token}\n`);
    this.typed.set(token, Date.now());
  }
  /** s was read starting at readAt: with no pending update then, every token typed before readAt is on the server. */
  observe(s: PageState, readAt: number): void {
    if (s.notesPending !== 0) return;
    for (const [t, at] of this.typed) if (at < readAt && !this.acked.has(t)) this.acked.set(t, Date.now());
  }
  ackedSince(t: number): boolean {
    for (const [tok, at] of this.typed) if (at > t && this.acked.has(tok)) return true;
    return false;
  }
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))];
}

async function ffprobe(file: string): Promise<{ duration: number; streams: Array<{ codec_type: string; codec_name: string }> }> {
  const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name", "-of", "json", file], { timeout: 20_000 });
  const j = JSON.parse(stdout) as { format: { duration: string }; streams: Array<{ codec_type: string; codec_name: string }> };
  return { duration: Number(j.format.duration), streams: j.streams };
}

async function kill(stack: Stack, v: Victim): Promise<void> {
  const o = { signal: "SIGKILL" as const, downMs: DOWN_MS };
  switch (v) {
    case "gateway":
      return stack.restartGateway(o);
    case "registry":
      await stack.killRegistry(o);
      await sleep(DOWN_MS);
      return stack.restartRegistry();
    case "chat":
      return stack.restartChat(o);
    case "notes":
      return stack.restartNotes(o);
    case "recording":
      return stack.restartRecording(o);
    case "redis":
      return stack.restartRedis(o);
    case "coturn":
      return stack.restartCoturn(o);
  }
}

e2e.test(
  `chaos: SIGKILL and restart every process, one at a time (${ROUNDS} round(s)): media, rosters, chat, notes and the recording survive`,
  async ({ stack, open, createMeeting }) => {
    assert.ok(stack.hasChat && stack.hasNotes && stack.hasRecording, "huddle-chat, huddle-notes and huddle-recording must be built");
    const id = await createMeeting();
    const a = await open("Ada", `/m/${id}`);
    const b = await open("Bob", `/m/${id}`);
    const c = await open("Cy", `/m/${id}?relay=1`); // iceTransportPolicy "relay": Cy's pairs go through coturn
    const parts = [a, b, c];
    for (const p of parts) await joinThroughUi(p);
    const ids = await Promise.all(parts.map(participantId));
    const all = [...ids].sort();
    const byId = new Map(parts.map((p, i) => [ids[i], p]));
    for (const [i, p] of parts.entries()) {
      const others = ids.filter((_, j) => j !== i).sort();
      await poll(`${p.name} has both peers`, async () => ((await peerIds(p)).join() === others.join() ? true : undefined), 30_000);
      await waitFramesFlowing(p, others, 40_000);
    }
    // Cy's pairs are relayed (so killing coturn is felt); Ada–Bob is direct.
    for (const p of [a, b]) {
      const pairs = await poll(`${p.name}'s pair with Cy selected`, async () => {
        const t = await selectedCandidateTypes(p.page);
        return t[ids[2]] ? t : undefined;
      }, 15_000);
      const pair = pairs[ids[2]]!;
      assert.ok(pair.local === "relay" || pair.remote === "relay", `${p.name}–Cy uses a relay candidate (${JSON.stringify(pair)})`);
    }
    const relayKey = (viewer: number, other: number) => viewer === 2 || other === 2; // a pair with Cy

    // Traffic: Ada and Bob chat, Cy types notes.
    for (const p of [a, b]) {
      await p.page.getByRole("button", { name: /^Show chat/ }).click({ timeout: 10_000 });
      await poll(`${p.name}: chat ready`, async () => ((await p.page.evaluate(() => window.huddle.chat?.state)) === "ready" ? true : undefined), 20_000);
    }
    await c.page.getByRole("button", { name: "Notes", exact: true }).click({ timeout: 10_000 });
    await poll("Cy: notes loaded", async () => ((await c.page.evaluate(() => window.huddle.notes?.state === "ready" && window.huddle.notes?.notes?.loaded)) ? true : undefined), 20_000);
    for (const p of parts) await p.page.evaluate(SAMPLER);
    await sleep(1_000);

    const posters = [new ChatPoster(a), new ChatPoster(b)];
    const typer = new NotesTyper(c);
    const states = new Map<Participant, PageState>();
    const loops = [
      ...posters.map((cp) => new Loop(`chat ${cp.p.name}`, CHAT_EVERY_MS, () => cp.tick())),
      new Loop("notes Cy", NOTES_EVERY_MS, () => typer.tick()),
      new Loop("observe", OBSERVE_MS, async () => {
        for (const p of parts) {
          const readAt = Date.now();
          const s = await pageState(p);
          states.set(p, s);
          if (p === a) posters[0].observe(s);
          if (p === b) posters[1].observe(s);
          if (p === c) typer.observe(s, readAt);
        }
      }),
    ];
    const failures: string[] = [];
    const ttr = new Map<Victim, number[]>(VICTIMS.map((v) => [v, []]));

    const rosterRight = (p: Participant): boolean => {
      const s = states.get(p);
      if (!s) return false;
      const others = all.filter((x) => byId.get(x) !== p);
      // The own tile is "__self__"; one tile per other participant, and a peer connection to each.
      return s.tiles.join() === [...others, "__self__"].sort().join() && s.peers.join() === others.join();
    };
    const signalingUp = (p: Participant): boolean => {
      const s = states.get(p);
      return s !== undefined && s.connection === "ready" && s.state === "joined";
    };
    const observedAfter = async (t: number) => {
      // A fresh observation of every page, taken after t.
      await poll("a fresh observation", async () => (Date.now() > t + 250 ? true : undefined), 5_000, 50);
    };

    try {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const v of VICTIMS) {
          const tag = `round ${round} ${v}`;
          let rid = "";
          let recT0 = 0;
          try {
            await Promise.all(parts.map(resetGaps));
            if (v === "recording") {
              await posters[0].hold(async () => {
                await a.page.getByRole("button", { name: "Record", exact: true }).click({ timeout: 10_000 });
                await a.page.getByRole("menuitem", { name: "My camera" }).click({ timeout: 5_000 });
              });
              const r = await poll("Ada recording", async () => {
                const s = await a.page.evaluate(() => window.huddle.recording);
                return s.state === "recording" ? s : undefined;
              }, 10_000);
              rid = r.rid;
              recT0 = Date.now();
              await sleep(RECORD_BEFORE_MS);
              await poll("a chunk uploaded", async () => {
                const q = await a.page.evaluate((rid) => window.huddle.recordingQueue.find((e) => e.rid === rid) ?? null, rid);
                return q && q.uploaded >= 1 ? q : undefined;
              }, 10_000, 100);
            }

            const t0 = Date.now();
            await kill(stack, v);
            const tUp = Date.now();

            // Rosters right within ROSTER_MAX_MS of the process being back.
            await observedAfter(tUp);
            const rosterDeadline = tUp + ROSTER_MAX_MS;
            let rosterOk = false;
            while (Date.now() <= rosterDeadline + 100) {
              if (parts.every(rosterRight)) {
                rosterOk = true;
                break;
              }
              await sleep(50);
            }
            if (!rosterOk) {
              failures.push(
                `${tag}: roster not right ${ROSTER_MAX_MS} ms after the restart: ${parts.map((p) => `${p.name} tiles=[${states.get(p)?.tiles}] peers=[${states.get(p)?.peers}]`).join("; ")} (want the others and __self__ of [${all}])`,
              );
            }

            // Everything works again: signaling, rosters, chat and notes acknowledged after the kill, media on every pair.
            let last = "";
            let recovered = 0;
            const deadline = Date.now() + RECOVER_TIMEOUT_MS;
            while (Date.now() < deadline) {
              const gaps = await Promise.all(parts.map(readGaps));
              const why: string[] = [];
              for (const p of parts) if (!signalingUp(p)) why.push(`${p.name} signaling ${states.get(p)?.connection}/${states.get(p)?.state}`);
              for (const p of parts) if (!rosterRight(p)) why.push(`${p.name} roster`);
              for (const cp of posters) if (!cp.ackedSince(t0)) why.push(`${cp.p.name} chat`);
              if (!typer.ackedSince(t0)) why.push("Cy notes");
              for (const [i, g] of gaps.entries())
                for (const [k, s] of Object.entries(g)) if (k.endsWith(":video") && s.last <= t0) why.push(`${parts[i].name} video from ${byId.get(k.split(":")[0])?.name}`);
              if (why.length === 0) {
                recovered = Date.now() - t0;
                break;
              }
              last = why.join(", ");
              await sleep(100);
            }
            if (!recovered) {
              failures.push(`${tag}: not recovered ${RECOVER_TIMEOUT_MS} ms after the kill: ${last}`);
              recovered = NaN;
            } else {
              ttr.get(v)!.push(recovered);
            }
            metric(`chaos_recover_ms process=${v} round=${round} ms=${recovered} restart_ms=${tUp - t0}`);

            // Media gaps over the whole fault (plus SETTLE_MS).
            await sleep(SETTLE_MS);
            const gaps = await Promise.all(parts.map(readGaps));
            for (const [i, g] of gaps.entries()) {
              for (const [k, s] of Object.entries(g)) {
                const other = ids.indexOf(k.split(":")[0]);
                if (other < 0 || !s.moved) continue; // a track that never flowed (e.g. silent audio) says nothing
                const max = v === "coturn" && relayKey(i, other) ? RELAY_RECOVER_MAX_MS : MEDIA_GAP_MAX_MS;
                metric(`chaos_media_gap_ms process=${v} round=${round} viewer=${parts[i].name} from=${parts[other].name} ${k.split(":")[1]}=${Math.round(s.gap)}`);
                if (s.gap > max) failures.push(`${tag}: ${parts[i].name} got no ${k.split(":")[1]} from ${parts[other].name} for ${Math.round(s.gap)} ms (max ${max})`);
              }
            }

            // The recording: stopped, uploaded, assembled into one complete file.
            if (v === "recording") {
              await sleep(RECORD_AFTER_MS);
              await posters[0].hold(() => a.page.getByRole("button", { name: "Stop recording", exact: true }).click({ timeout: 5_000 }));
              const recMs = Date.now() - recT0;
              const q = await poll("Ada's queue finished the recording", async () => {
                const e = await a.page.evaluate((rid) => window.huddle.recordingQueue.find((e) => e.rid === rid) ?? null, rid);
                if (e?.failed) throw new Error(`upload failed: ${e.failed}`);
                return e?.finished ? e : undefined;
              }, 30_000);
              const rec = await poll(`recording ${rid} READY`, async () => {
                const r = await fetch(`${stack.httpUrl}/api/meetings/${id}/recordings`);
                const x = ((await r.json()) as Record<string, unknown>[]).map(parseRecording).find((e) => e.id === rid);
                if (x?.state === RecordingState.FAILED) throw new Error(`recording failed: ${x.error}`);
                return x?.state === RecordingState.READY ? x : undefined;
              }, 60_000, 500);
              const res = await fetch(`${stack.httpUrl}/api/meetings/${id}/recordings/${rid}/file`);
              assert.equal(res.status, 200, "the recording's file is served");
              mkdirSync(OUT_DIR, { recursive: true });
              const file = join(OUT_DIR, `chaos-recording-${round}.webm`);
              writeFileSync(file, Buffer.from(await res.arrayBuffer()));
              const probe = await ffprobe(file);
              const kinds = probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`);
              const want = recMs / 1000;
              if (!kinds.some((k) => /^video:vp[89]$/.test(k))) failures.push(`${tag}: the recording has no video stream (${kinds.join(", ")})`);
              // One complete file: it lasts what was recorded (chunks of 2 s; the last may be cut short at Stop).
              if (!(probe.duration >= want - 3 && probe.duration <= want + 1.5))
                failures.push(`${tag}: the recording lasts ${probe.duration} s, recorded ~${want.toFixed(1)} s (chunks ${q.chunks}, uploaded ${q.uploaded}; server: ${rec.chunks} chunks, ${rec.durationMs} ms)`);
              metric(`chaos_recording round=${round} recorded_s=${want.toFixed(1)} file_s=${probe.duration} chunks=${q.chunks}`);
            }
          } catch (e) {
            failures.push(`${tag}: ${(e as Error).message.split("\n")[0]}`);
            console.log(`# ${tag} failed: ${(e as Error).message}`);
            for (const p of parts) console.log(p.console.slice(-15).join("\n"));
          }
        }
      }
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }
    const loopErrors = loops.flatMap((l) => l.errors);

    // Chat: every acknowledged post is in the history exactly once; nothing is there twice.
    await poll("every page's chat posts settled", async () => {
      for (const p of [a, b]) if ((await p.page.evaluate(() => window.huddle.chat?.pending ?? -1)) !== 0) return undefined;
      return true;
    }, 30_000);
    const reader = await connect(stack.wsUrl, "chaos-reader");
    const history: string[] = [];
    try {
      await reader.chatSubscribe(id);
      let after = 0;
      for (let i = 0; i < 1000; i++) {
        const r = await reader.chatHistory({ afterSeq: after, limit: 200 });
        history.push(...r.messages.map((m) => m.text));
        if (r.messages.length) after = Number(r.messages[r.messages.length - 1].seq);
        if (!r.more || r.messages.length === 0) break;
      }
    } finally {
      await reader.close();
    }
    const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    const inHistory = count(history);
    for (const cp of posters) {
      for (const t of cp.acked.keys()) if ((inHistory.get(t) ?? 0) !== 1) failures.push(`chat: acknowledged "${t}" is in the history ${inHistory.get(t) ?? 0} times`);
    }
    for (const [t, n] of inHistory) if (n > 1) failures.push(`chat: "${t}" stored ${n} times`);

    // Notes: every acknowledged token in the document exactly once, none twice.
    await poll("Cy's notes settled", async () => ((await c.page.evaluate(() => window.huddle.notes?.notes?.pending)) === 0 ? true : undefined), 30_000);
    const doc = await poll("the notes export matches Cy's editor", async () => {
      const want = await c.page.evaluate(() => window.huddle.notes?.notes?.text);
      const r = await fetch(`${stack.httpUrl}/api/meetings/${id}/notes.md`);
      const body = await r.text();
      return r.status === 200 && body === want ? body : undefined;
    }, 30_000, 500);
    const tokens = count(doc.match(/nCy\d+x/g) ?? []);
    for (const t of typer.acked.keys()) if ((tokens.get(t) ?? 0) !== 1) failures.push(`notes: acknowledged ${t} is in the document ${tokens.get(t) ?? 0} times`);
    for (const [t, n] of tokens) if (n > 1) failures.push(`notes: ${t} is in the document ${n} times`);

    const ackedChat = posters.reduce((n, cp) => n + cp.acked.size, 0);
    metric(`chaos_traffic rounds=${ROUNDS} chat_posted=${posters.reduce((n, cp) => n + cp.posted.size, 0)} chat_acked=${ackedChat} notes_typed=${typer.typed.size} notes_acked=${typer.acked.size}`);
    assert.ok(ackedChat >= VICTIMS.length * ROUNDS, `chat traffic went on (${ackedChat} acknowledged posts)`);
    assert.ok(typer.acked.size >= VICTIMS.length * ROUNDS, `notes traffic went on (${typer.acked.size} acknowledged tokens)`);
    if (ROUNDS > 1 || process.env.CHAOS_REPORT) {
      for (const v of VICTIMS) {
        const xs = ttr.get(v)!;
        if (xs.length) metric(`chaos_recover_summary process=${v} n=${xs.length} p50_ms=${pct(xs, 50)} p95_ms=${pct(xs, 95)} max_ms=${Math.max(...xs)}`);
      }
    }
    if (loopErrors.length) console.log(`# traffic loop errors (not failures by themselves): ${loopErrors.slice(0, 10).join(" | ")}`);
    assert.deepEqual(failures, [], `chaos invariants broken:\n${failures.join("\n")}`);
  },
  240_000 + ROUNDS * 240_000,
);
