// The SFU's parts for tests: Janus started with Huddle's own configuration
// (deploy/janus/render.sh), huddle-media, an NNG REQ client that speaks
// MediaRequest/MediaReply to it (the SP-over-TCP wire protocol, as libnng
// does), and a client of Janus's WebSocket API that a test uses to check
// what huddle-media did (list, exists, a publisher's join) directly.
//
// Janus ignores the loopback interface for media, so tests using it run in
// their own network namespace with a veth pair (tests/lib/netns-veth.sh,
// registered by tests/CMakeLists.txt): nothing here leaves that namespace.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import WebSocket from "ws";
import { createHmac } from "node:crypto";
import { create, fromBinary, toBinary } from "./proto.ts";
import {
	MediaEventSchema,
	MediaReplySchema,
	MediaRequestSchema,
	type MediaEvent,
	type MediaReply,
} from "../../web/src/gen/huddle/v1/media_pb.ts";
import { freePort, sleep, waitFor } from "./stack.ts";

const SOURCE_DIR = process.env.HUDDLE_SOURCE_DIR ?? resolve(import.meta.dirname, "../..");
const BIN_DIR = process.env.HUDDLE_BIN_DIR ?? join(SOURCE_DIR, "build-asan/bin");
/** Bound on a process becoming ready (ASan builds, a cold Janus). */
const START_MS = 20000;
/** Bound on a process exiting after SIGTERM before it is SIGKILLed. */
const STOP_MS = 10000;

/** The environment without the SFU's settings a developer may have exported (each test sets its own). */
function cleanEnv(): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(JANUS_|MEDIA_|LOG_LEVEL$)/.test(k)) env[k] = v;
	return env;
}

/** A child process with its output in a log file. */
export class Child {
	child: ChildProcess | undefined;
	exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

	constructor(
		readonly name: string,
		readonly cmd: string,
		readonly args: string[],
		readonly env: Record<string, string>,
		readonly log: string,
	) {}

	start(): void {
		const fd = openSync(this.log, "a");
		const child = spawn(this.cmd, this.args, { env: { ...cleanEnv(), ...this.env }, stdio: ["ignore", fd, fd] });
		closeSync(fd);
		this.child = child;
		this.exit = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));
	}

	alive(): boolean {
		return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
	}

	/** Sends signal, waits (bounded), SIGKILLs if needed; returns how it ended. */
	async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
		if (!this.child || !this.exit) return { code: 0, signal: null };
		if (!this.alive()) return this.exit;
		this.child.kill(signal);
		const r = await Promise.race([this.exit, sleep(STOP_MS).then(() => undefined)]);
		if (r) return r;
		this.child.kill("SIGKILL");
		return this.exit;
	}

	tail(lines = 30): string {
		try {
			const all = readFileSync(this.log, "utf8").split("\n");
			return all.slice(-lines).join("\n");
		} catch {
			return "(no log)";
		}
	}
}

/** Waits until something accepts TCP connections on 127.0.0.1:port (bounded), failing early if proc died. */
async function waitTcp(port: number, proc: Child): Promise<void> {
	await waitFor(`${proc.name} listening on ${port}`, async () => {
		if (!proc.alive()) throw new Error(`${proc.name} exited; log:\n${proc.tail()}`);
		return new Promise<boolean>((res) => {
			const s = netConnect(port, "127.0.0.1");
			s.once("connect", () => {
				s.destroy();
				res(true);
			});
			s.once("error", () => res(false));
		});
	}, START_MS, 50);
}

/**
 * A TCP relay from a loopback port to Janus's API port: huddle-media dials it,
 * so a test can cut huddle-media's WebSocket while Janus (and the session)
 * stays up.
 */
export class Relay {
	private conns = new Set<Socket>();
	cuts = 0;

	private constructor(
		private server: Server,
		readonly port: number,
	) {}

	static async open(target: number): Promise<Relay> {
		const server = createServer();
		const relay: Relay = await new Promise((res, rej) => {
			server.once("error", rej);
			server.listen(0, "127.0.0.1", () => {
				const a = server.address();
				res(new Relay(server, typeof a === "object" && a ? a.port : 0));
			});
		});
		server.on("connection", (c) => {
			const up = netConnect(target, "127.0.0.1");
			relay.conns.add(c).add(up);
			const drop = () => {
				c.destroy();
				up.destroy();
				relay.conns.delete(c);
				relay.conns.delete(up);
			};
			c.on("error", drop).on("close", drop);
			up.on("error", drop).on("close", drop);
			c.pipe(up);
			up.pipe(c);
		});
		return relay;
	}

	/** Resets every relayed connection (both sides see it close). */
	cut(): void {
		this.cuts++;
		for (const c of this.conns) c.resetAndDestroy();
		this.conns.clear();
	}

	close(): void {
		this.cut();
		this.server.close();
	}
}

export interface Sfu {
	dir: string;
	relay: Relay;
	apiSecret: string;
	janusPort: number;
	janus: Child;
	media: Child;
	mediaUrl: string;
	/** huddle-media's MEDIA_EVENTS_LISTEN (tcp://127.0.0.1:port). */
	eventsUrl: string;
	startMedia(): Promise<void>;
	stop(): Promise<void>;
}

/**
 * Starts Janus (Huddle's configuration, API on 127.0.0.1, RTP ports from
 * rtpRange, candidates on the namespace's veth) and huddle-media driving it.
 */
export async function startSfu(opts: { rtpRange?: string; mediaEnv?: Record<string, string> } = {}): Promise<Sfu> {
	const dir = mkdtempSync(join(tmpdir(), "huddle-sfu-"));
	const apiSecret = `test-${Math.random().toString(36).slice(2)}-${Date.now()}`;
	const janusPort = await freePort();
	const mediaPort = await freePort();
	const eventsPort = await freePort();
	const env = {
		JANUS_API_SECRET: apiSecret,
		JANUS_WS_IP: "127.0.0.1",
		JANUS_WS_PORT: String(janusPort),
		JANUS_RTP_PORT_RANGE: opts.rtpRange ?? "41000-41099",
		JANUS_ICE_ENFORCE_LIST: process.env.HUDDLE_SFU_IFACE ?? "",
		JANUS_SESSION_TIMEOUT: "30",
		JANUS_RECLAIM_TIMEOUT: "10",
	};
	const render = spawnSync(join(SOURCE_DIR, "deploy/janus/render.sh"), [join(dir, "janus")], {
		env: { ...cleanEnv(), ...env },
		encoding: "utf8",
	});
	if (render.status !== 0) throw new Error(`render.sh failed: ${render.stderr}`);
	const janus = new Child("janus", "janus", ["-F", join(dir, "janus"), "-C", join(dir, "janus/janus.jcfg")], {}, join(dir, "janus.log"));
	janus.start();
	await waitTcp(janusPort, janus);
	const bin = join(BIN_DIR, "huddle-media");
	if (!existsSync(bin)) throw new Error(`${bin} does not exist: build the daemons first`);
	const mediaUrl = `tcp://127.0.0.1:${mediaPort}`;
	const eventsUrl = `tcp://127.0.0.1:${eventsPort}`;
	const relay = await Relay.open(janusPort);
	const mediaEnv = {
		MEDIA_LISTEN: mediaUrl,
		MEDIA_EVENTS_LISTEN: eventsUrl,
		JANUS_URL: `ws://127.0.0.1:${relay.port}`,
		JANUS_API_SECRET: apiSecret,
		MEDIA_KEEPALIVE_SECONDS: "2",
		LOG_LEVEL: process.env.HUDDLE_TEST_LOG_LEVEL ?? "info",
		...opts.mediaEnv,
	};
	const sfu: Sfu = {
		dir,
		relay,
		apiSecret,
		janusPort,
		janus,
		media: new Child("huddle-media", bin, [], mediaEnv, join(dir, "media.log")),
		mediaUrl,
		eventsUrl,
		async startMedia() {
			this.media = new Child("huddle-media", bin, [], mediaEnv, join(dir, "media.log"));
			this.media.start();
			await waitTcp(mediaPort, this.media);
		},
		async stop() {
			const m = await this.media.stop();
			const j = await janus.stop();
			relay.close();
			const keep = process.env.HUDDLE_KEEP_LOGS !== undefined;
			if (m.code !== 0 && m.signal !== "SIGKILL") {
				throw new Error(`huddle-media did not exit 0 on SIGTERM (${JSON.stringify(m)}); log:\n${this.media.tail(60)}`);
			}
			if (!keep) rmSync(dir, { recursive: true, force: true });
			void j;
		},
	};
	await sfu.startMedia();
	return sfu;
}

// ---- NNG REQ over TCP (the SP protocol libnng speaks) ----

/** SP protocol numbers (nng/protocol/reqrep0): REQ 0x30, REP 0x31. */
const SP_REQ = 0x30;
const SP_REP = 0x31;
/** A REQ client's reply wait, ms. */
const REQ_TIMEOUT_MS = 15000;

/** Connects to a tcp:// NNG address and sends the SP header for our protocol. */
async function spConnect(url: string, ours: number): Promise<Socket> {
	const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(url);
	if (!m) throw new Error(`not a tcp:// URL: ${url}`);
	const sock = netConnect(Number(m[2]), m[1]);
	await new Promise<void>((res, rej) => {
		sock.once("connect", () => res());
		sock.once("error", rej);
	});
	// SP header: 0x00 'S' 'P' 0x00, our protocol (BE u16), reserved.
	sock.write(Buffer.from([0, 0x53, 0x50, 0, 0, ours, 0, 0]));
	return sock;
}

/**
 * SP over TCP framing: the peer's 8-byte header, then messages each led by
 * a 64-bit big-endian length. push() returns the whole messages received so
 * far, or null when the peer's header does not name protocol `peer`.
 */
class SpFramer {
	private buf = Buffer.alloc(0);
	private handshook = false;

	constructor(private readonly peer: number) {}

	push(d: Buffer): Buffer[] | null {
		this.buf = Buffer.concat([this.buf, d]);
		if (!this.handshook) {
			if (this.buf.length < 8) return [];
			if (this.buf[1] !== 0x53 || this.buf[2] !== 0x50 || this.buf.readUInt16BE(4) !== this.peer) return null;
			this.buf = this.buf.subarray(8);
			this.handshook = true;
		}
		const out: Buffer[] = [];
		while (this.buf.length >= 8) {
			const len = Number(this.buf.readBigUInt64BE(0));
			if (this.buf.length < 8 + len) break;
			out.push(this.buf.subarray(8, 8 + len));
			this.buf = this.buf.subarray(8 + len);
		}
		return out;
	}
}

/** One REQ socket to huddle-media: call() sends a MediaRequest and returns its MediaReply. */
export class MediaClient {
	private sock: Socket | undefined;
	private framer = new SpFramer(SP_REP);
	private nextId = 1;
	private pending = new Map<number, (b: Buffer) => void>();

	constructor(readonly url: string) {}

	private async open(): Promise<Socket> {
		if (this.sock && !this.sock.destroyed) return this.sock;
		const sock = await spConnect(this.url, SP_REQ);
		this.framer = new SpFramer(SP_REP);
		sock.on("data", (d) => this.onData(d));
		sock.on("error", () => undefined);
		sock.on("close", () => {
			for (const [, cb] of this.pending) cb(Buffer.alloc(0));
			this.pending.clear();
		});
		this.sock = sock;
		return sock;
	}

	private onData(d: Buffer): void {
		const msgs = this.framer.push(d);
		if (msgs === null) {
			this.sock?.destroy();
			return;
		}
		for (const msg of msgs) {
			if (msg.length < 4) continue;
			const id = msg.readUInt32BE(0) & 0x7fffffff;
			const cb = this.pending.get(id);
			this.pending.delete(id);
			cb?.(msg.subarray(4));
		}
	}

	/** Sends req (request_id set here) and waits (bounded) for the reply. */
	async call(body: { case: string; value: object }): Promise<MediaReply> {
		const sock = await this.open();
		const id = this.nextId++;
		// body is a MediaRequest oneof member in init form ({case, value}).
		const req = create(MediaRequestSchema, { requestId: BigInt(id), body: body as never });
		const payload = toBinary(MediaRequestSchema, req);
		const head = Buffer.alloc(12);
		head.writeBigUInt64BE(BigInt(4 + payload.length), 0);
		head.writeUInt32BE((id | 0x80000000) >>> 0, 8);
		const reply = new Promise<Buffer>((res, rej) => {
			const t = setTimeout(() => {
				this.pending.delete(id);
				rej(new Error(`huddle-media: no reply to ${body.case} within ${REQ_TIMEOUT_MS} ms`));
			}, REQ_TIMEOUT_MS);
			this.pending.set(id, (b) => {
				clearTimeout(t);
				if (b.length === 0 && this.sock?.destroyed) rej(new Error("huddle-media closed the connection"));
				else res(b);
			});
		});
		sock.write(Buffer.concat([head, Buffer.from(payload)]));
		const r = fromBinary(MediaReplySchema, new Uint8Array(await reply));
		if (r.requestId !== BigInt(id)) throw new Error(`reply for request ${r.requestId}, expected ${id}`);
		return r;
	}

	close(): void {
		this.sock?.destroy();
		this.sock = undefined;
	}
}

/** SP protocol numbers (nng/protocol/pubsub0): PUB 0x20, SUB 0x21. */
const SP_PUB = 0x20;
const SP_SUB = 0x21;

/**
 * A SUB socket on huddle-media's MEDIA_EVENTS_LISTEN: every MediaEvent it
 * publishes (SUB filters locally in libnng, so the wire carries them all:
 * topic, a NUL, the packed MediaEvent), kept in order in events.
 */
export class MediaEvents {
	readonly events: MediaEvent[] = [];
	private framer = new SpFramer(SP_PUB);

	private constructor(private sock: Socket) {
		sock.on("data", (d) => this.onData(d));
		sock.on("error", () => undefined);
	}

	static async open(url: string): Promise<MediaEvents> {
		return new MediaEvents(await spConnect(url, SP_SUB));
	}

	private onData(d: Buffer): void {
		const msgs = this.framer.push(d);
		if (msgs === null) {
			this.sock.destroy();
			return;
		}
		for (const msg of msgs) {
			const nul = msg.indexOf(0);
			if (nul < 0) continue;
			const ev = fromBinary(MediaEventSchema, new Uint8Array(msg.subarray(nul + 1)));
			if (ev.meetingId !== msg.subarray(0, nul).toString()) throw new Error(`event topic ${msg.subarray(0, nul)} is not its meeting ${ev.meetingId}`);
			this.events.push(ev);
		}
	}

	close(): void {
		this.sock.destroy();
	}
}

// ---- Janus's WebSocket API, spoken directly ----

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A client of Janus's API with one session and one VideoRoom handle (what a browser's SDK would hold). */
export class JanusClient {
	private txn = 0;
	private waiting = new Map<string, (m: Json) => void>();
	readonly events: Json[] = [];
	session = 0;
	handle = 0;

	private constructor(
		private ws: WebSocket,
		private secret: string,
	) {
		ws.on("message", (d) => {
			const m = JSON.parse(String(d)) as Json;
			if (m.janus === "ack" && m.transaction && this.waiting.has(`ack:${m.transaction}`)) {
				this.waiting.get(`ack:${m.transaction}`)!(m);
				return;
			}
			if (m.janus === "ack") return; // an asynchronous answer follows
			const cb = m.transaction ? this.waiting.get(m.transaction) : undefined;
			if (cb) {
				this.waiting.delete(m.transaction);
				cb(m);
			} else this.events.push(m);
		});
	}

	static async open(port: number, secret: string): Promise<JanusClient> {
		const ws = new WebSocket(`ws://127.0.0.1:${port}/`, "janus-protocol");
		await new Promise<void>((res, rej) => {
			ws.once("open", () => res());
			ws.once("error", rej);
		});
		const c = new JanusClient(ws, secret);
		const s = await c.send({ janus: "create" });
		if (s.janus !== "success") throw new Error(`janus create: ${JSON.stringify(s)}`);
		c.session = s.data.id;
		const h = await c.send({ janus: "attach", session_id: c.session, plugin: "janus.plugin.videoroom" });
		if (h.janus !== "success") throw new Error(`janus attach: ${JSON.stringify(h)}`);
		c.handle = h.data.id;
		return c;
	}

	/** Sends m (transaction and apisecret added) and waits (bounded) for its answer. */
	send(m: Json, timeoutMs = 5000): Promise<Json> {
		const transaction = `t${++this.txn}`;
		return new Promise((res, rej) => {
			const t = setTimeout(() => {
				this.waiting.delete(transaction);
				rej(new Error(`janus: no answer to ${m.janus} ${m.body?.request ?? ""} in ${timeoutMs} ms`));
			}, timeoutMs);
			this.waiting.set(transaction, (a) => {
				clearTimeout(t);
				res(a);
			});
			this.ws.send(JSON.stringify({ ...m, transaction, apisecret: this.secret }));
		});
	}

	/** A VideoRoom request on our handle; returns plugindata.data (sync) or the event's (async). */
	async videoroom(body: Json): Promise<Json> {
		const a = await this.send({ janus: "message", session_id: this.session, handle_id: this.handle, body });
		if (a.janus === "error") return { error_code: a.error.code, error: a.error.reason };
		return a.plugindata?.data ?? {};
	}

	close(): void {
		this.ws.close();
	}
}

/** The room secret / pin / token huddle-media derives (services/media/rooms.c media_derive). */
export function derive(key: string, label: string, room: string, participant: string | undefined, len: number): string {
	const msg = participant === undefined ? `${label}:${room}` : `${label}:${room}:${participant}`;
	return createHmac("sha256", key).update(msg).digest("base64url").slice(0, len);
}

/** Chromium's flags for the SFU browser tests: fake devices, autoplay, and
 * real host addresses in candidates (Janus cannot resolve mDNS names). */
export const SFU_CHROMIUM_ARGS = [
	"--use-fake-device-for-media-stream",
	"--use-fake-ui-for-media-stream",
	"--no-sandbox",
	"--disable-gpu",
	"--no-first-run",
	"--autoplay-policy=no-user-gesture-required",
	"--disable-features=WebRtcHideLocalIpsWithMdns",
];
