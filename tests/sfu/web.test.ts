// The web client's SFU path end to end (issue 14): the whole stack (registry
// with SFU_ENABLED=1 and MESH_MAX=2, a gateway with MEDIA_URL and
// MEDIA_EVENTS_URL) with Janus and huddle-media, and three Chromium pages
// running the real web client. Two pages join and run a mesh; the third
// join moves the meeting to SFU; every page must then publish (VP8
// simulcast + audio) and subscribe through the gateway, close its mesh
// (make-before-break), and decode the two others' video (inbound-rtp
// framesDecoded growing on window.huddle.sfu.subscriber, mapped to each
// participant) and receive their audio (packets growing).
//
// The gateway vouches for each admitted participant (MediaSfuRequest
// admitted): huddle-media makes the room and allows them on their first
// request, nothing is set up by the test.
//
// Runs in its own network namespace with a veth pair (tests/lib/netns-veth.sh;
// ctest integration.sfu_web): Janus ignores loopback.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { MediaClient, SFU_CHROMIUM_ARGS, startSfu, type Sfu } from "../lib/sfu.ts";
import { startStack, waitFor, sleep, type Stack } from "../lib/stack.ts";

/** The registry's MESH_MAX: the third joiner moves the meeting to SFU. */
const MESH_MAX = 2;
/** Bound on huddle-media reporting a ready Janus session. */
const READY_MS = 20000;
/** Bound on a page switching to the SFU and closing its mesh. */
const SWITCH_MS = 45000;
/** Bound on every page decoding both others over the SFU. */
const MEDIA_MS = 45000;
/** Bound on a talking event reaching the speaker ring. */
const TALKING_MS = 20000;
/** The interval over which the counters must grow. */
const GROW_MS = 2000;

let sfu: Sfu;
let stack: Stack;
let media: MediaClient;
let browser: Browser;
const pages: Participant[] = [];
let failed = false;

before(async () => {
	sfu = await startSfu();
	media = new MediaClient(sfu.mediaUrl);
	await waitFor(
		"huddle-media's Janus session",
		async () => {
			const r = await media.call({ case: "health", value: {} });
			return r.body.case === "health" && r.body.value.janusConnected;
		},
		READY_MS,
		100,
	);
	stack = await startStack({
		// SFU_DOWN_MAX must be below MESH_MAX; SFU_DOWN_SECONDS long enough that it stays on the SFU.
		registryEnv: { SFU_ENABLED: "1", MESH_MAX: String(MESH_MAX), SFU_DOWN_MAX: "1", SFU_DOWN_SECONDS: "600" },
		gatewayEnv: { MEDIA_URL: sfu.mediaUrl, MEDIA_EVENTS_URL: sfu.eventsUrl },
	});
	browser = await chromium.launch({
		executablePath: process.env.HUDDLE_CHROMIUM ?? "/usr/bin/chromium",
		headless: true,
		args: SFU_CHROMIUM_ARGS,
		timeout: 30000,
	});
});

after(async () => {
	for (const p of pages) await p.context.close().catch(() => {});
	await browser?.close();
	media?.close();
	if (failed) {
		for (const p of pages) console.error(`--- page ${p.name}\n${p.console.slice(-40).join("\n")}`);
		if (sfu) console.error(`--- huddle-media\n${sfu.media.tail(60)}\n--- janus\n${sfu.janus.tail(30)}`);
		if (stack) console.error(stack.logTail(40));
	}
	await stack?.stop({ keepLogs: failed });
	await sfu?.stop();
});

interface Participant {
	name: string;
	context: BrowserContext;
	page: Page;
	console: string[];
}

/** A page of its own context (own fake devices) on url; tone: its microphone is a steady loud tone. */
async function openParticipant(name: string, url: string, tone = false): Promise<Participant> {
	const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
	await context.grantPermissions(["camera", "microphone"], { origin: stack.httpUrl });
	const page = await context.newPage();
	const log: string[] = [];
	page.on("console", (m) => log.push(`[${name}] ${m.type()}: ${m.text()}`));
	page.on("pageerror", (e) => log.push(`[${name}] pageerror: ${e.message}`));
	if (tone) {
		// Chromium's fake microphone beeps too briefly for Janus's talking
		// detection: put a steady 440 Hz tone in its place.
		await page.addInitScript(() => {
			const g = globalThis as any; // eslint-disable-line @typescript-eslint/no-explicit-any
			const md = g.navigator.mediaDevices;
			const real = md.getUserMedia.bind(md);
			md.getUserMedia = async (c: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
				const s = await real(c);
				if (!c?.audio) return s;
				const ctx = new g.AudioContext();
				const osc = ctx.createOscillator();
				const gain = ctx.createGain();
				gain.gain.value = 0.5;
				const dst = ctx.createMediaStreamDestination();
				osc.connect(gain).connect(dst);
				osc.start();
				for (const t of s.getAudioTracks()) s.removeTrack(t);
				s.addTrack(dst.stream.getAudioTracks()[0]);
				return s;
			};
		});
	}
	await page.goto(url, { timeout: 20000 });
	const p = { name, context, page, console: log };
	pages.push(p);
	return p;
}

/** New meeting on the landing page; returns its id once the pre-join screen is up. */
async function createMeeting(p: Participant): Promise<string> {
	await p.page.getByRole("button", { name: "New meeting" }).click({ timeout: 10000 });
	await p.page.waitForURL(/\/m\/[A-Za-z0-9_-]{16,}$/, { timeout: 10000 });
	const m = /\/m\/([A-Za-z0-9_-]+)$/.exec(new URL(p.page.url()).pathname);
	assert.ok(m, `${p.name}: a meeting id in ${p.page.url()}`);
	return m[1];
}

/** Name typed, Join clicked, the call screen up. */
async function join(p: Participant): Promise<void> {
	const nameBox = p.page.getByLabel("Your name");
	await nameBox.waitFor({ timeout: 15000 });
	await nameBox.fill(p.name);
	await p.page.getByRole("button", { name: "Join now", exact: true }).click({ timeout: 10000 });
	await p.page.getByRole("button", { name: "Leave" }).waitFor({ timeout: 20000 });
}

/** The page's data-media-mode ("mesh" / "sfu"). */
function mediaModeAttr(p: Participant): Promise<string | undefined> {
	return p.page.evaluate(() => (globalThis as any).document.querySelector(".call-page")?.dataset.mediaMode); // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The page's participant id once joined. */
async function participantId(p: Participant): Promise<string> {
	let id = "";
	await waitFor(`${p.name}'s participant id`, async () => (id = await p.page.evaluate(() => (globalThis as any).huddle.participantId as string)) !== "", 20000, 100); // eslint-disable-line @typescript-eslint/no-explicit-any
	return id;
}

interface SfuCounters {
	path: string;
	mesh: number;
	lastSwitch: { how: string; ms: number };
	// subscriber mid -> "substream/paused" asked for, and whose video that mid carries
	layers: Record<string, string>;
	videoMids: Record<string, string>;
	// participant id -> video frames decoded, audio packets received (over the SFU subscriber)
	video: Record<string, number>;
	audio: Record<string, number>;
}

/** What a page receives over its SFU subscriber, by participant (window.huddle.sfu). */
function sfuCounters(p: Participant): Promise<SfuCounters | null> {
	return p.page.evaluate(async () => {
		const huddle = (globalThis as any).huddle; // eslint-disable-line @typescript-eslint/no-explicit-any
		const link = huddle.sfu;
		if (!link) return null;
		const videoMids: Record<string, string> = {};
		for (const [mid, t] of Object.entries(link.tracks as Record<string, { participantId: string; kind: string }>)) if (t.kind === "video") videoMids[mid] = t.participantId;
		const out = {
			path: link.path as string,
			mesh: huddle.peers.size as number,
			lastSwitch: link.lastSwitch as { how: string; ms: number },
			layers: link.layers as Record<string, string>,
			videoMids,
			video: {} as Record<string, number>,
			audio: {} as Record<string, number>,
		};
		if (!link.subscriber) return out;
		const stats = await link.subscriber.getStats();
		stats.forEach((s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
			if (s.type !== "inbound-rtp" || !s.mid) return;
			const who = link.tracks[s.mid];
			if (!who) return;
			if (s.kind === "video") out.video[who.participantId] = (out.video[who.participantId] ?? 0) + (s.framesDecoded ?? 0);
			else if (s.kind === "audio") out.audio[who.participantId] = (out.audio[who.participantId] ?? 0) + (s.packetsReceived ?? 0);
		});
		return out;
	});
}

test("three pages: the third join moves the meeting to the SFU; everyone decodes the two others and hears them", { timeout: 300000 }, async () => {
	try {
		const a = await openParticipant("Ann", `${stack.httpUrl}/`);
		const meetingId = await createMeeting(a);
		await join(a);
		const ids = new Map<Participant, string>();
		ids.set(a, await participantId(a));
		for (const name of ["Bob", "Cy"]) {
			const p = await openParticipant(name, `${stack.httpUrl}/m/${meetingId}`, name === "Bob");
			await join(p);
			ids.set(p, await participantId(p));
			if (name === "Bob") {
				// Two: still a mesh.
				assert.equal(await mediaModeAttr(a), "mesh", "two participants: a mesh");
			}
		}
		// Every page: SFU mode, the switch completed (mesh closed).
		for (const p of pages) {
			await waitFor(
				`${p.name}: on the SFU with the mesh closed`,
				async () => {
					const c = await sfuCounters(p);
					return c !== null && c.path === "sfu" && c.mesh === 0;
				},
				SWITCH_MS,
				250,
			);
			assert.equal(await mediaModeAttr(p), "sfu", `${p.name}: data-media-mode`);
		}
		// Make-before-break: the two mesh pages closed their mesh because the
		// SFU's media flowed from everyone, not at the deadline.
		for (const p of [a, pages[1]]) {
			const c = await sfuCounters(p);
			console.log(`# ${p.name}: switch ${JSON.stringify(c?.lastSwitch)}`);
			assert.equal(c?.lastSwitch.how, "sfu-flowing", `${p.name}: the mesh closed once the SFU's media flowed`);
		}
		// Every page decodes both others' video and receives their audio, growing.
		for (const p of pages) {
			const others = pages.filter((o) => o !== p).map((o) => ids.get(o)!);
			const seen: SfuCounters[] = [];
			await waitFor(
				`${p.name}: video and audio from ${others.length} others over the SFU`,
				async () => {
					const c = await sfuCounters(p);
					if (!c || !others.every((id) => (c.video[id] ?? 0) > 0 && (c.audio[id] ?? 0) > 0)) return false;
					seen.push(c);
					return true;
				},
				MEDIA_MS,
				250,
			);
			await sleep(GROW_MS);
			const first = seen[0];
			const later = await sfuCounters(p);
			assert.ok(later, `${p.name}: counters`);
			for (const id of others) {
				assert.ok(later.video[id] > first.video[id], `${p.name}: frames decoded from ${id} keep growing (${first.video[id]} -> ${later.video[id]})`);
				assert.ok(later.audio[id] > first.audio[id], `${p.name}: audio packets from ${id} keep growing (${first.audio[id]} -> ${later.audio[id]})`);
			}
		}
		// Each subscribed camera got a layer by its tile's size, not paused (the tiles are on screen).
		for (const p of pages) {
			const c = await sfuCounters(p);
			assert.ok(c);
			const others = pages.filter((o) => o !== p).map((o) => ids.get(o)!);
			for (const id of others) {
				const mids: string[] = Object.keys(c.videoMids).filter((m) => c.videoMids[m] === id);
				assert.equal(mids.length, 1, `${p.name}: one video mid for ${id} (${JSON.stringify(c.videoMids)})`);
				assert.match(c.layers[mids[0]] ?? "", /^[012]\/false$/, `${p.name}: a layer asked for ${id}'s camera (${JSON.stringify(c.layers)})`);
			}
		}
		console.log(`# Ann's subscriber m-lines: ${JSON.stringify(await a.page.evaluate(() => (globalThis as any).huddle.sfu.tracks))}`); // eslint-disable-line @typescript-eslint/no-explicit-any
		// Janus's talking events (the fake microphone beeps) light someone's speaker ring on Ann's page.
		await waitFor(
			"Ann: Bob speaking (talking events)",
			async () =>
				a.page.evaluate(
					(bob: string) => {
						const h = (globalThis as any).huddle; // eslint-disable-line @typescript-eslint/no-explicit-any
						return (h.session.speakingIds as Set<string>).has(bob) && (h.sfu.talking as string[]).includes(bob);
					},
					ids.get(pages[1])!,
				),
			TALKING_MS,
			250,
		);
		// The publisher sends simulcast: three outbound video encodings.
		const rids = await a.page.evaluate(async () => {
			const stats = await (globalThis as any).huddle.sfu.publisher.getStats(); // eslint-disable-line @typescript-eslint/no-explicit-any
			const out: string[] = [];
			stats.forEach((s: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
				if (s.type === "outbound-rtp" && s.kind === "video" && s.rid) out.push(s.rid);
			});
			return out.sort();
		});
		assert.deepEqual(rids, ["h", "l", "m"], "the camera is published as three simulcast layers");
	} catch (e) {
		failed = true;
		for (const p of pages) {
			const state = await p.page
				.evaluate(() => {
					const h = (globalThis as any).huddle; // eslint-disable-line @typescript-eslint/no-explicit-any
					return JSON.stringify({ id: h.participantId, sfu: h.sfu && { path: h.sfu.path, tracks: h.sfu.tracks, layers: h.sfu.layers, pub: h.sfu.publisher.connectionState, sub: h.sfu.subscriber?.connectionState } });
				})
				.catch((err: unknown) => String(err));
			console.error(`--- ${p.name}: ${state} ${JSON.stringify(await sfuCounters(p).catch(() => null))}`);
		}
		throw e;
	}
});
