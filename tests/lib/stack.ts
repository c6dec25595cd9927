// A real Huddle stack for integration tests: redis-server, optionally coturn,
// huddle-registry, huddle-chat, huddle-notes and huddle-recording (when built)
// and one or more huddle-gateway processes, each on free loopback ports (NNG
// over ipc:// in a private temp dir), with every child's output in a log file.
// The registry, huddle-chat, huddle-notes and huddle-recording share one
// SQLite store file in that dir; the recordings' files are in <dir>/recordings. stop() shuts everything down with SIGTERM and checks
// that our daemons exit 0 (they are built with ASan, so a clean exit also
// means no leak report). Children are killed on any exit of the test process.
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpsRequest } from "node:https";
import { createSocket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { connect as netConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface StackOptions {
	/** Start coturn and point TURN_URLS at it (default false: TURN_URLS name an unused port). */
	coturn?: boolean;
	/** Extra turnserver flags, after the config's (e.g. ["--max-bps", "0"]). */
	coturnArgs?: string[];
	/** PRESENCE_TTL_MS of the registry (default: the daemon's). */
	presenceTtlMs?: number;
	/** HEARTBEAT_INTERVAL_MS of the gateways (default: the daemon's). */
	heartbeatMs?: number;
	/** How many gateways to start against the one registry (default 1). */
	gateways?: number;
	/** Extra environment for every gateway (with TLS_CERT and TLS_KEY a gateway serves https/wss: see Gateway.tls). */
	gatewayEnv?: Record<string, string>;
	/** Extra environment for the registry. */
	registryEnv?: Record<string, string>;
	/** NNG transport between gateway and registry (default "ipc"). */
	transport?: "ipc" | "tcp";
	/** Bound for each readiness wait (default 20 s: ASan builds start slowly). */
	readyTimeoutMs?: number;
	/** Start huddle-chat (default true; skipped, with a log line, when the binary is not built). */
	chat?: boolean;
	/** Extra environment for huddle-chat. */
	chatEnv?: Record<string, string>;
	/** CHAT_TIMEOUT_MS of the gateways (default 3000). */
	chatTimeoutMs?: number;
	/** Start huddle-notes (default true; skipped, with a log line, when the binary is not built). */
	notes?: boolean;
	/** Extra environment for huddle-notes. */
	notesEnv?: Record<string, string>;
	/** NOTES_TIMEOUT_MS of the gateways (default 3000). */
	notesTimeoutMs?: number;
	/** Start huddle-recording (default true; skipped, with a log line, when the binary is not built). */
	recording?: boolean;
	/** Extra environment for huddle-recording (e.g. RECORDING_IDLE_S, RECORDING_QUOTA_MB). */
	recordingEnv?: Record<string, string>;
}

export interface Gateway {
	readonly index: number;
	readonly id: string;
	readonly httpUrl: string;
	readonly wsUrl: string;
	/** With TLS_CERT and TLS_KEY in its environment: https/wss URLs, and the certificate (PEM) to trust. */
	readonly tls?: { cert: string };
	/** The running process (undefined while it is down). */
	readonly pid: number | undefined;
	alive(): boolean;
}

export interface Stack {
	/** First gateway's URLs. */
	readonly httpUrl: string;
	readonly wsUrl: string;
	readonly gateways: readonly Gateway[];
	readonly redisUrl: string;
	readonly turnUrls: string[];
	readonly turnSecret: string;
	readonly turnTtlS: number;
	readonly presenceTtlMs: number | undefined;
	readonly logDir: string;
	/** STORE_URI shared by the registry, huddle-chat and huddle-notes. */
	readonly storeUri: string;
	/** huddle-chat's addresses (the gateways' CHAT_URL / CHAT_EVENTS_URL); set even when chat is not running. */
	readonly chatUrl: string;
	readonly chatEventsUrl: string;
	/** Whether huddle-chat is part of this stack (false when the binary is missing or opts.chat is false). */
	readonly hasChat: boolean;
	/** Whether huddle-chat is running now. */
	chatAlive(): boolean;
	/** huddle-notes' addresses (the gateways' NOTES_URL / NOTES_EVENTS_URL); set even when notes is not running. */
	readonly notesUrl: string;
	readonly notesEventsUrl: string;
	/** Whether huddle-notes is part of this stack (false when the binary is missing or opts.notes is false). */
	readonly hasNotes: boolean;
	/** Whether huddle-notes is running now. */
	notesAlive(): boolean;
	/** huddle-recording's address (the gateways' RECORDING_URL); set even when recording is not running. */
	readonly recordingUrl: string;
	/** huddle-recording's RECORDINGS_DIR. */
	readonly recordingsDir: string;
	/** Whether huddle-recording is part of this stack (false when the binary is missing or opts.recording is false). */
	readonly hasRecording: boolean;
	/** Whether huddle-recording is running now. */
	recordingAlive(): boolean;
	/** Kills gateway `index` (default 0) with `signal`, waits downMs, starts it again on the same port and id. */
	restartGateway(opts?: { signal?: NodeJS.Signals; downMs?: number; index?: number }): Promise<void>;
	/** Starts one more gateway against the same registry. */
	addGateway(env?: Record<string, string>): Promise<Gateway>;
	/** Stops the registry (SIGTERM asserts exit 0; SIGKILL does not). */
	killRegistry(opts?: { signal?: NodeJS.Signals }): Promise<void>;
	restartRegistry(): Promise<void>;
	/** Stops huddle-chat (SIGTERM/SIGINT assert exit 0; SIGKILL does not). No-op without chat. */
	killChat(opts?: { signal?: NodeJS.Signals }): Promise<void>;
	/** Starts huddle-chat again on the same addresses and store; waits until it listens. No-op without chat. */
	startChat(): Promise<void>;
	/** killChat({signal}) (default SIGTERM), waits downMs, then startChat(). No-op without chat. */
	restartChat(opts?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
	/** Stops huddle-notes (SIGTERM/SIGINT assert exit 0; SIGKILL does not). No-op without notes. */
	killNotes(opts?: { signal?: NodeJS.Signals }): Promise<void>;
	/** Starts huddle-notes again on the same addresses and store; waits until it listens and every gateway is connected to its event bus again. No-op without notes. */
	startNotes(): Promise<void>;
	/** killNotes({signal}) (default SIGTERM), waits downMs, then startNotes(). No-op without notes. */
	restartNotes(opts?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
	/** Stops huddle-recording (SIGTERM/SIGINT assert exit 0; SIGKILL does not: a crash mid-upload or mid-assembly). No-op without recording. */
	killRecording(opts?: { signal?: NodeJS.Signals }): Promise<void>;
	/** Starts huddle-recording again on the same address, store and RECORDINGS_DIR (it resumes unfinished assemblies); waits until it listens. No-op without recording. */
	startRecording(): Promise<void>;
	/** killRecording({signal}) (default SIGTERM), waits downMs, then startRecording(). No-op without recording. */
	restartRecording(opts?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
	/** Kills redis-server with `signal` (default SIGKILL), waits downMs, starts it again on the same port (empty: nothing is persisted) and waits for PING. */
	restartRedis(opts?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
	/** Kills coturn with `signal` (default SIGKILL; its allocations are lost), waits downMs, starts it again on the same ports and secret and waits for a STUN binding. No-op without coturn. */
	restartCoturn(opts?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
	/**
	 * Stops every gateway, huddle-recording, huddle-notes, huddle-chat, the registry and Redis (SIGTERM, clean exits asserted),
	 * waits downMs, then starts them all again on the same ports, addresses and store file, and waits until every
	 * gateway is ready. Presence (Redis) is lost; meetings, chat history, documents and recordings survive. coturn keeps running.
	 */
	restartAll(opts?: { downMs?: number }): Promise<void>;
	/**
	 * Signals redis-server: SIGSTOP hangs it (connections are accepted by the kernel and never answered) until
	 * SIGCONT; SIGKILL or SIGTERM stop it (waited for) until startRedis().
	 */
	signalRedis(signal: NodeJS.Signals): Promise<void>;
	/** Starts redis-server again on the same port (empty: it keeps nothing on disk); waits until it answers PING. */
	startRedis(): Promise<void>;
	/** Sends one Redis command, returns the raw RESP reply. */
	redis(...args: string[]): Promise<string>;
	/** The last `lines` lines of every log file, for failure reports. */
	logTail(lines?: number): string;
	/** SIGTERM everything, bounded wait, SIGKILL leftovers; throws if a daemon did not exit 0. Logs are removed unless keepLogs or $HUDDLE_KEEP_LOGS. */
	stop(opts?: { keepLogs?: boolean }): Promise<void>;
}

const BIN_DIR = resolve(process.env.HUDDLE_BIN_DIR ?? "../build/bin");
const WEB_ROOT = resolve(process.env.HUDDLE_WEB_ROOT ?? "../web/dist");
const LOG_LEVEL = process.env.HUDDLE_TEST_LOG_LEVEL ?? "debug";
const TURN_REALM = "huddle.test";

// Every child of this process, so an exit of any kind takes them along.
const live = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
	if (hooked) return;
	hooked = true;
	process.on("exit", () => {
		for (const c of live) {
			try {
				c.kill("SIGKILL");
			} catch {
				/* already gone */
			}
		}
	});
	for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
		process.once(sig, () => process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1)));
	}
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (the kernel's pick; the small race is acceptable on loopback). */
export function freePort(): Promise<number> {
	return new Promise((res, rej) => {
		const s = createServer();
		s.unref();
		s.on("error", rej);
		s.listen(0, "127.0.0.1", () => {
			const addr = s.address();
			if (addr === null || typeof addr === "string") return rej(new Error("no port"));
			s.close(() => res(addr.port));
		});
	});
}

/** A free UDP+TCP port pair start (for coturn). */
async function freeUdpTcpPort(): Promise<number> {
	for (let i = 0; i < 20; i++) {
		const p = await freePort();
		const ok = await new Promise<boolean>((res) => {
			const u = createSocket("udp4");
			u.once("error", () => {
				u.close();
				res(false);
			});
			u.bind(p, "127.0.0.1", () => u.close(() => res(true)));
		});
		if (ok) return p;
	}
	throw new Error("no free UDP/TCP port");
}

/** Thrown by a waitFor check to stop polling at once (e.g. the process died). */
export class Fatal extends Error {}

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes; a Fatal from check ends it early. */
export async function waitFor(
	what: string,
	check: () => Promise<boolean> | boolean,
	timeoutMs: number,
	intervalMs = 100,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			if (await check()) return;
		} catch (e) {
			if (e instanceof Fatal) throw new Error(`${what}: ${e.message}`);
			last = e;
		}
		if (Date.now() >= deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
		}
		await sleep(intervalMs);
	}
}

/** One RESP command over a fresh TCP connection; resolves with the raw reply. */
export function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
	return new Promise((res, rej) => {
		const sock = netConnect({ host: "127.0.0.1", port });
		let buf = "";
		const timer = setTimeout(() => {
			sock.destroy();
			rej(new Error(`redis ${args[0]}: no reply in ${timeoutMs} ms`));
		}, timeoutMs);
		sock.on("error", (e) => {
			clearTimeout(timer);
			rej(e);
		});
		sock.on("connect", () => {
			sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(""));
		});
		sock.on("data", (d) => {
			buf += d.toString("utf8");
			if (respComplete(buf)) {
				clearTimeout(timer);
				sock.end();
				res(buf);
			}
		});
	});
}

// Whether `s` holds one complete RESP value (enough for PING, KEYS, HGETALL...).
function respComplete(s: string): boolean {
	const end = (i: number): number => {
		const nl = s.indexOf("\r\n", i);
		if (nl < 0) return -1;
		const t = s[i];
		const line = s.slice(i + 1, nl);
		if (t === "+" || t === "-" || t === ":") return nl + 2;
		if (t === "$") {
			const n = Number(line);
			if (n < 0) return nl + 2;
			return s.length >= nl + 2 + n + 2 ? nl + 2 + n + 2 : -1;
		}
		if (t === "*") {
			const n = Number(line);
			let j = nl + 2;
			for (let k = 0; k < n; k++) {
				j = end(j);
				if (j < 0) return -1;
			}
			return j;
		}
		return -1;
	};
	return s.length > 0 && end(0) === s.length;
}

/** A STUN Binding request to 127.0.0.1:port over UDP; true when a Binding success response comes back. */
export function stunBinding(port: number, timeoutMs = 1000): Promise<boolean> {
	return new Promise((res) => {
		const u = createSocket("udp4");
		const tid = randomBytes(12);
		const req = Buffer.alloc(20);
		req.writeUInt16BE(0x0001, 0); // Binding request
		req.writeUInt16BE(0, 2);
		req.writeUInt32BE(0x2112a442, 4); // magic cookie (RFC 5389)
		tid.copy(req, 8);
		const timer = setTimeout(() => {
			u.close();
			res(false);
		}, timeoutMs);
		u.on("message", (m) => {
			if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(tid)) {
				clearTimeout(timer);
				u.close();
				res(true);
			}
		});
		u.on("error", () => {
			clearTimeout(timer);
			u.close();
			res(false);
		});
		u.send(req, port, "127.0.0.1");
	});
}

// Whether an NNG listener is up at url: the ipc socket file exists, or the TCP port accepts.
async function listening(url: string): Promise<boolean> {
	if (url.startsWith("ipc://")) return existsSync(url.slice("ipc://".length));
	const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(url);
	if (!m) throw new Fatal(`cannot probe ${url}`);
	return new Promise((res) => {
		const sock = netConnect({ host: m[1], port: Number(m[2]) });
		sock.once("connect", () => {
			sock.destroy();
			res(true);
		});
		sock.once("error", () => res(false));
	});
}

// The daemons' settings a developer may have exported (make run, a shell profile) must
// not leak into a test's stack: each stack sets what it needs and keeps the defaults.
const DAEMON_ENV =
	/^(GATEWAY_|REGISTRY_|CHAT_|NOTES_|RECORDING_|RECORDINGS_DIR$|TURN_|WS_|REDIS_URL$|STORE_URI$|PRESENCE_TTL_MS$|SWEEP_INTERVAL_MS$|HEARTBEAT_INTERVAL_MS$|LOG_LEVEL$|JOIN_TOKEN_|ALLOWED_ORIGINS$|FRAME_ANCESTORS$|TLS_CERT$|TLS_KEY$|MEETINGS_PER_ADDRESS_PER_MINUTE$|MAX_CONNECTIONS_PER_ADDRESS$|MAX_PARTICIPANTS$|TRUST_X_FORWARDED_FOR$|SFU_ENABLED$|MESH_MAX$|SFU_DOWN_MAX$|SFU_DOWN_SECONDS$)/;
function inheritedEnv(): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !DAEMON_ENV.test(k)) env[k] = v;
	return env;
}

// A child process with its output in <logDir>/<name>.log.
class Proc {
	child: ChildProcess | undefined;
	exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
	exited = false;
	restarts = 0;

	constructor(
		readonly name: string,
		readonly cmd: string,
		readonly args: string[],
		readonly env: Record<string, string>,
		readonly cwd: string,
		readonly logDir: string,
	) {}

	get logFile(): string {
		return join(this.logDir, `${this.name}.log`);
	}

	start(): void {
		hookExit();
		const fd = openSync(this.logFile, "a");
		const child = spawn(this.cmd, this.args, {
			cwd: this.cwd,
			env: { ...inheritedEnv(), ...this.env },
			stdio: ["ignore", fd, fd],
		});
		closeSync(fd);
		this.child = child;
		this.exited = false;
		live.add(child);
		this.exit = new Promise((res) => {
			child.once("exit", (code, signal) => {
				this.exited = true;
				live.delete(child);
				res({ code, signal });
			});
			child.once("error", (e) => {
				this.exited = true;
				live.delete(child);
				res({ code: -1, signal: null });
				void e;
			});
		});
	}

	alive(): boolean {
		return this.child !== undefined && !this.exited;
	}

	/** Sends `signal`, waits up to timeoutMs, then SIGKILLs; returns how it ended. */
	async kill(
		signal: NodeJS.Signals,
		timeoutMs = 10000,
	): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; early: boolean }> {
		if (!this.child || !this.exit) return { code: 0, signal: null, killed: false, early: false };
		if (this.exited) return { ...(await this.exit), killed: false, early: true };
		this.child.kill(signal);
		const r = await Promise.race([this.exit, sleep(timeoutMs).then(() => undefined)]);
		if (r) return { ...r, killed: false, early: false };
		this.child.kill("SIGKILL");
		return { ...(await this.exit), killed: true, early: false };
	}
}

function requireBin(name: string): string {
	const p = join(BIN_DIR, name);
	if (!existsSync(p)) {
		throw new Error(`${p} does not exist: build the daemons first (cmake --build build) or set HUDDLE_BIN_DIR`);
	}
	return p;
}

function tail(file: string, lines: number): string {
	try {
		const all = readFileSync(file, "utf8").split("\n");
		return all.slice(Math.max(0, all.length - lines - 1)).join("\n");
	} catch {
		return "(no log)";
	}
}

async function httpStatus(url: string, timeoutMs = 2000, ca?: string): Promise<number> {
	if (ca !== undefined) return (await httpsGet(url, ca, timeoutMs)).status;
	const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
	await r.arrayBuffer();
	return r.status;
}

/** GET over https trusting `ca` (a PEM certificate: a TLS gateway's self-signed one); status, headers and body. */
export function httpsGet(
	url: string,
	ca: string,
	timeoutMs = 2000,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
	return new Promise((res, rej) => {
		const req = httpsRequest(url, { ca, timeout: timeoutMs }, (r) => {
			let body = "";
			r.setEncoding("utf8");
			r.on("data", (d: string) => (body += d));
			r.on("end", () => res({ status: r.statusCode ?? 0, headers: r.headers, body }));
			r.on("error", rej);
		});
		req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
		req.on("error", rej);
		req.end();
	});
}

// A service daemon's binary (huddle-chat, huddle-notes, huddle-recording), or undefined (logged) while it is not built yet.
function serviceBinary(name: string, wanted: boolean): string | undefined {
	if (!wanted) return undefined;
	const p = join(BIN_DIR, name);
	if (existsSync(p)) return p;
	console.log(`# stack: ${p} not found; starting the stack without ${name} (its requests will fail)`);
	return undefined;
}

// Removes a stale ipc:// socket file (left by a SIGKILLed daemon), so a readiness probe sees the new listener.
function removeIpc(url: string): void {
	if (url.startsWith("ipc://")) rmSync(url.slice("ipc://".length), { force: true });
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
	const gatewayBin = requireBin("huddle-gateway");
	const registryBin = requireBin("huddle-registry");
	const chatBin = serviceBinary("huddle-chat", opts.chat ?? true);
	const notesBin = serviceBinary("huddle-notes", opts.notes ?? true);
	const recordingBin = serviceBinary("huddle-recording", opts.recording ?? true);
	const readyMs = opts.readyTimeoutMs ?? 20000;
	const dir = mkdtempSync(join(tmpdir(), "huddle-it-"));
	const logDir = dir;
	const procs: Proc[] = [];
	const turnSecret = "it-" + randomBytes(12).toString("hex");
	const turnTtlS = 600;

	try {
		// Redis: ephemeral, nothing written to disk.
		const redisPort = await freePort();
		const redisReady = () =>
			waitFor(
				"redis PING",
				async () => {
					if (!redis.alive()) throw new Fatal(`redis-server exited: ${JSON.stringify(await redis.exit)}`);
					return (await redisCommand(redisPort, ["PING"], 500)).startsWith("+PONG");
				},
				readyMs,
			);
		const redis = new Proc(
			"redis",
			"redis-server",
			["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
			{},
			dir,
			logDir,
		);
		procs.push(redis);
		redis.start();
		await redisReady();

		// coturn: the infra helper's local config when there is one; flags override what must be per-test.
		let turnPort = 0;
		let turn: Proc | undefined;
		const turnReady = async () => {
			const t = turn;
			if (!t) return;
			await waitFor(
				"coturn STUN binding",
				async () => {
					if (!t.alive()) throw new Fatal(`turnserver exited: ${JSON.stringify(await t.exit)}`);
					return stunBinding(turnPort, 300);
				},
				readyMs,
				50,
			);
		};
		if (opts.coturn) {
			turnPort = await freeUdpTcpPort();
			const relayBase = 40000 + Math.floor(Math.random() * 20000);
			const conf = resolve(process.env.HUDDLE_SOURCE_DIR ?? "..", "deploy/coturn/turnserver-local.conf");
			// coturn accumulates repeated list options (listening-ip...), so the loopback
			// settings come either from the local config or from flags, never both.
			const base = existsSync(conf)
				? ["-c", conf]
				: ["-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1", "--use-auth-secret", "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls"];
			turn = new Proc(
				"coturn",
				"turnserver",
				[
					...base,
					"--listening-port", String(turnPort),
					"--static-auth-secret", turnSecret,
					"--realm", TURN_REALM,
					"--min-port", String(relayBase),
					"--max-port", String(relayBase + 50),
					"--db", join(dir, "turndb"),
					"--pidfile", join(dir, "turnserver.pid"),
					"--log-file", "stdout",
					"--simple-log",
					...(opts.coturnArgs ?? []),
				],
				{},
				dir,
				logDir,
			);
			procs.push(turn);
			turn.start();
			await turnReady();
		}
		const tp = opts.coturn ? turnPort : await freePort();
		const turnUrls = [`stun:127.0.0.1:${tp}`, `turn:127.0.0.1:${tp}?transport=udp`, `turn:127.0.0.1:${tp}?transport=tcp`];

		// Registry.
		let registryUrl: string;
		let eventsUrl: string;
		let chatUrl: string;
		let chatEventsUrl: string;
		let notesUrl: string;
		let notesEventsUrl: string;
		let recordingUrl: string;
		if ((opts.transport ?? "ipc") === "ipc") {
			registryUrl = `ipc://${join(dir, "registry.ipc")}`;
			eventsUrl = `ipc://${join(dir, "events.ipc")}`;
			chatUrl = `ipc://${join(dir, "chat.ipc")}`;
			chatEventsUrl = `ipc://${join(dir, "chat-events.ipc")}`;
			notesUrl = `ipc://${join(dir, "notes.ipc")}`;
			notesEventsUrl = `ipc://${join(dir, "notes-events.ipc")}`;
			recordingUrl = `ipc://${join(dir, "recording.ipc")}`;
		} else {
			registryUrl = `tcp://127.0.0.1:${await freePort()}`;
			eventsUrl = `tcp://127.0.0.1:${await freePort()}`;
			chatUrl = `tcp://127.0.0.1:${await freePort()}`;
			chatEventsUrl = `tcp://127.0.0.1:${await freePort()}`;
			notesUrl = `tcp://127.0.0.1:${await freePort()}`;
			notesEventsUrl = `tcp://127.0.0.1:${await freePort()}`;
			recordingUrl = `tcp://127.0.0.1:${await freePort()}`;
		}
		const recordingsDir = join(dir, "recordings");
		const storeUri = `sqlite://${join(dir, "huddle.db")}`;
		const registryEnv: Record<string, string> = {
			REGISTRY_LISTEN: registryUrl,
			REGISTRY_EVENTS_LISTEN: eventsUrl,
			REDIS_URL: `redis://127.0.0.1:${redisPort}`,
			STORE_URI: storeUri,
			LOG_LEVEL,
			...(opts.presenceTtlMs !== undefined
				? {
						PRESENCE_TTL_MS: String(opts.presenceTtlMs),
						SWEEP_INTERVAL_MS: String(Math.max(100, Math.min(1000, Math.floor(opts.presenceTtlMs / 10)))),
					}
				: {}),
			...opts.registryEnv,
		};
		const registry = new Proc("registry", registryBin, [], registryEnv, dir, logDir);
		procs.push(registry);
		// Gateways start once the registry listens, as an orchestrator would order them: a
		// gateway dialing too early is a separate scenario (registry_down.test.ts covers it).
		const registryListening = () =>
			waitFor(
				"the registry to listen",
				async () => {
					if (!registry.alive()) throw new Fatal(`registry exited: ${JSON.stringify(await registry.exit)}`);
					return (await Promise.all([registryUrl, eventsUrl].map(listening))).every(Boolean);
				},
				readyMs,
				50,
			);
		registry.start();
		await registryListening();

		// huddle-chat: the same store file as the registry (SQLite WAL serves both processes).
		let chat: Proc | undefined;
		const chatListening = async () => {
			const c = chat;
			if (!c) return;
			await waitFor(
				"huddle-chat to listen",
				async () => {
					if (!c.alive()) throw new Fatal(`huddle-chat exited: ${JSON.stringify(await c.exit)}`);
					return (await Promise.all([chatUrl, chatEventsUrl].map(listening))).every(Boolean);
				},
				readyMs,
				50,
			);
		};
		if (chatBin) {
			chat = new Proc(
				"chat",
				chatBin,
				[],
				{ CHAT_LISTEN: chatUrl, CHAT_EVENTS_LISTEN: chatEventsUrl, STORE_URI: storeUri, LOG_LEVEL, ...opts.chatEnv },
				dir,
				logDir,
			);
			procs.push(chat);
			chat.start();
			await chatListening();
		}

		// huddle-notes: the same store file again.
		let notes: Proc | undefined;
		const notesListening = async () => {
			const n = notes;
			if (!n) return;
			await waitFor(
				"huddle-notes to listen",
				async () => {
					if (!n.alive()) throw new Fatal(`huddle-notes exited: ${JSON.stringify(await n.exit)}`);
					return (await Promise.all([notesUrl, notesEventsUrl].map(listening))).every(Boolean);
				},
				readyMs,
				50,
			);
		};
		if (notesBin) {
			notes = new Proc(
				"notes",
				notesBin,
				[],
				{ NOTES_LISTEN: notesUrl, NOTES_EVENTS_LISTEN: notesEventsUrl, STORE_URI: storeUri, LOG_LEVEL, ...opts.notesEnv },
				dir,
				logDir,
			);
			procs.push(notes);
			notes.start();
			await notesListening();
		}

		// huddle-recording: the same store file for its metadata, <dir>/recordings for the files.
		let recording: Proc | undefined;
		const recordingListening = async () => {
			const r = recording;
			if (!r) return;
			await waitFor(
				"huddle-recording to listen",
				async () => {
					if (!r.alive()) throw new Fatal(`huddle-recording exited: ${JSON.stringify(await r.exit)}`);
					return listening(recordingUrl);
				},
				readyMs,
				50,
			);
		};
		if (recordingBin) {
			recording = new Proc(
				"recording",
				recordingBin,
				[],
				{ RECORDING_LISTEN: recordingUrl, STORE_URI: storeUri, RECORDINGS_DIR: recordingsDir, LOG_LEVEL, ...opts.recordingEnv },
				dir,
				logDir,
			);
			procs.push(recording);
			recording.start();
			await recordingListening();
		}

		// Gateways.
		const gateways: (Gateway & { proc: Proc })[] = [];
		const gatewayReady = async (g: Gateway & { proc: Proc }) => {
			await waitFor(
				`${g.proc.name} GET /readyz == 200`,
				async () => {
					for (const p of [g.proc, registry]) {
						if (!p.alive()) throw new Fatal(`${p.name} exited: ${JSON.stringify(await p.exit)}`);
					}
					return (await httpStatus(`${g.httpUrl}/readyz`, 1000, g.tls?.cert)) === 200;
				},
				readyMs,
			);
		};
		const makeGateway = async (extra: Record<string, string> = {}) => {
			const index = gateways.length;
			const port = await freePort();
			const id = `it-gw-${index}`;
			const env: Record<string, string> = {
				GATEWAY_HTTP_ADDR: "127.0.0.1",
				GATEWAY_HTTP_PORT: String(port),
				GATEWAY_WEB_ROOT: WEB_ROOT,
				REGISTRY_URL: registryUrl,
				REGISTRY_EVENTS_URL: eventsUrl,
				CHAT_URL: chatUrl,
				CHAT_EVENTS_URL: chatEventsUrl,
				CHAT_TIMEOUT_MS: String(opts.chatTimeoutMs ?? 3000),
				NOTES_URL: notesUrl,
				NOTES_EVENTS_URL: notesEventsUrl,
				NOTES_TIMEOUT_MS: String(opts.notesTimeoutMs ?? 3000),
				RECORDING_URL: recordingUrl,
				TURN_URLS: turnUrls.join(","),
				TURN_SECRET: turnSecret,
				TURN_TTL: String(turnTtlS),
				GATEWAY_ID: id,
				LOG_LEVEL,
				// Every test client comes from 127.0.0.1, one "address" for a whole
				// test file: the per-address limits are off unless a test sets them
				// (limits_caps.test.ts tests them with their defaults).
				MEETINGS_PER_ADDRESS_PER_MINUTE: "0",
				MAX_CONNECTIONS_PER_ADDRESS: "0",
				...(opts.heartbeatMs !== undefined ? { HEARTBEAT_INTERVAL_MS: String(opts.heartbeatMs) } : {}),
				...opts.gatewayEnv,
				...extra,
			};
			const proc = new Proc(`gateway-${index}`, gatewayBin, [], env, dir, logDir);
			procs.push(proc);
			const tls = env.TLS_CERT && env.TLS_KEY ? { cert: readFileSync(env.TLS_CERT, "utf8") } : undefined;
			const g = {
				index,
				id,
				httpUrl: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
				wsUrl: `${tls ? "wss" : "ws"}://127.0.0.1:${port}/ws`,
				tls,
				get pid() {
					return proc.alive() ? proc.child?.pid : undefined;
				},
				alive: () => proc.alive(),
				proc,
			};
			gateways.push(g);
			proc.start();
			await gatewayReady(g);
			return g;
		};
		for (let i = 0; i < Math.max(1, opts.gateways ?? 1); i++) await makeGateway();

		const expectCleanExit = async (p: Proc) => {
			const r = await p.kill("SIGTERM");
			if (r.early) {
				throw new Error(`${p.name} had died before the test stopped it (code ${r.code}, signal ${r.signal})\n--- ${p.logFile}\n${tail(p.logFile, 40)}`);
			}
			if (r.killed || r.code !== 0) {
				throw new Error(
					`${p.name} did not exit 0 on SIGTERM (code ${r.code}, signal ${r.signal}${r.killed ? ", SIGKILLed after 10 s" : ""})\n--- ${p.logFile}\n${tail(p.logFile, 40)}`,
				);
			}
		};

		// After a service (re)starts, waits (bounded) until every live gateway that reports
		// huddle_gateway_<service>_events_connected in /metrics is connected to its event bus again.
		const busConnected = async (service: "chat" | "notes") => {
			const gauge = new RegExp(`^huddle_gateway_${service}_events_connected (\\d+)`, "m");
			for (const g of gateways) {
				if (!g.proc.alive() || g.tls) continue; // (a TLS gateway's metrics need its certificate)
				await waitFor(
					`${g.proc.name} connected to the ${service} event bus`,
					async () => {
						const r = await fetch(`${g.httpUrl}/metrics`, { signal: AbortSignal.timeout(1000) });
						const m = gauge.exec(await r.text());
						return m === null || Number(m[1]) > 0;
					},
					readyMs,
				);
			}
		};
		const chatConnected = () => busConnected("chat");
		const notesConnected = () => busConnected("notes");
		const stopChat = async (signal: NodeJS.Signals) => {
			if (!chat) return;
			if (signal === "SIGTERM" || signal === "SIGINT") await expectCleanExit(chat);
			else await chat.kill(signal);
		};
		// launchChat starts huddle-chat again on its addresses and waits until it listens.
		const launchChat = async () => {
			if (!chat) return;
			removeIpc(chatUrl);
			removeIpc(chatEventsUrl);
			chat.restarts++;
			chat.start();
			await chatListening();
		};
		const startChat = async () => {
			await launchChat();
			if (chat) await chatConnected();
		};
		const stopNotes = async (signal: NodeJS.Signals) => {
			if (!notes) return;
			if (signal === "SIGTERM" || signal === "SIGINT") await expectCleanExit(notes);
			else await notes.kill(signal);
		};
		// launchNotes starts huddle-notes again on its addresses and waits until it listens.
		const launchNotes = async () => {
			if (!notes) return;
			removeIpc(notesUrl);
			removeIpc(notesEventsUrl);
			notes.restarts++;
			notes.start();
			await notesListening();
		};
		const startNotes = async () => {
			await launchNotes();
			if (notes) await notesConnected();
		};
		const stopRecording = async (signal: NodeJS.Signals) => {
			if (!recording) return;
			if (signal === "SIGTERM" || signal === "SIGINT") await expectCleanExit(recording);
			else await recording.kill(signal);
		};
		// launchRecording starts huddle-recording again on its address and waits until it listens.
		const launchRecording = async () => {
			if (!recording) return;
			removeIpc(recordingUrl);
			recording.restarts++;
			recording.start();
			await recordingListening();
		};
		// launchRegistry starts the registry again on its addresses and waits until it listens.
		const launchRegistry = async () => {
			registry.restarts++;
			removeIpc(registryUrl);
			removeIpc(eventsUrl);
			registry.start();
			await registryListening();
		};

		const self: Stack = {
			get httpUrl() {
				return gateways[0].httpUrl;
			},
			get wsUrl() {
				return gateways[0].wsUrl;
			},
			gateways,
			redisUrl: `redis://127.0.0.1:${redisPort}`,
			turnUrls,
			turnSecret,
			turnTtlS,
			presenceTtlMs: opts.presenceTtlMs,
			logDir,
			storeUri,
			chatUrl,
			chatEventsUrl,
			hasChat: chat !== undefined,
			chatAlive: () => chat?.alive() ?? false,
			notesUrl,
			notesEventsUrl,
			hasNotes: notes !== undefined,
			notesAlive: () => notes?.alive() ?? false,
			recordingUrl,
			recordingsDir,
			hasRecording: recording !== undefined,
			recordingAlive: () => recording?.alive() ?? false,
			async restartGateway({ signal = "SIGTERM", downMs = 0, index = 0 } = {}) {
				const g = gateways[index];
				if (signal === "SIGTERM" || signal === "SIGINT") await expectCleanExit(g.proc);
				else await g.proc.kill(signal);
				await sleep(downMs);
				g.proc.restarts++;
				g.proc.start();
				await gatewayReady(g);
			},
			addGateway: (env) => makeGateway(env),
			async killRegistry({ signal = "SIGTERM" } = {}) {
				if (signal === "SIGTERM" || signal === "SIGINT") await expectCleanExit(registry);
				else await registry.kill(signal);
			},
			async restartRegistry() {
				await launchRegistry();
				for (const g of gateways) if (g.proc.alive()) await gatewayReady(g);
			},
			killChat: ({ signal = "SIGTERM" } = {}) => stopChat(signal),
			startChat,
			async restartChat({ signal = "SIGTERM", downMs = 0 } = {}) {
				if (!chat) return;
				await stopChat(signal);
				await sleep(downMs);
				await startChat();
			},
			killNotes: ({ signal = "SIGTERM" } = {}) => stopNotes(signal),
			startNotes,
			async restartNotes({ signal = "SIGTERM", downMs = 0 } = {}) {
				if (!notes) return;
				await stopNotes(signal);
				await sleep(downMs);
				await startNotes();
			},
			killRecording: ({ signal = "SIGTERM" } = {}) => stopRecording(signal),
			startRecording: launchRecording,
			async restartRecording({ signal = "SIGTERM", downMs = 0 } = {}) {
				if (!recording) return;
				await stopRecording(signal);
				await sleep(downMs);
				await launchRecording();
			},
			async restartRedis({ signal = "SIGKILL", downMs = 0 } = {}) {
				await redis.kill(signal, 5000);
				await sleep(downMs);
				redis.restarts++;
				redis.start();
				await redisReady();
			},
			async restartCoturn({ signal = "SIGKILL", downMs = 0 } = {}) {
				if (!turn) return;
				await turn.kill(signal, 5000);
				rmSync(join(dir, "turnserver.pid"), { force: true });
				await sleep(downMs);
				turn.restarts++;
				turn.start();
				await turnReady();
			},
			async restartAll({ downMs = 0 } = {}) {
				// Stop in the order of stop(): gateways, recording, notes, chat, registry, then Redis.
				for (const g of gateways) if (g.proc.alive()) await expectCleanExit(g.proc);
				if (recording?.alive()) await expectCleanExit(recording);
				if (notes?.alive()) await expectCleanExit(notes);
				if (chat?.alive()) await expectCleanExit(chat);
				if (registry.alive()) await expectCleanExit(registry);
				if (redis.alive()) await redis.kill("SIGTERM", 5000);
				await sleep(downMs);
				redis.restarts++;
				redis.start();
				await redisReady();
				await launchRegistry();
				await launchChat();
				await launchNotes();
				await launchRecording();
				for (const g of gateways) {
					g.proc.restarts++;
					g.proc.start();
				}
				for (const g of gateways) await gatewayReady(g);
				await chatConnected();
				await notesConnected();
			},
			async signalRedis(signal) {
				if (signal === "SIGSTOP" || signal === "SIGCONT") redis.child?.kill(signal);
				else await redis.kill(signal, 5000);
			},
			async startRedis() {
				redis.restarts++;
				redis.start();
				await redisReady();
			},
			redis: (...args) => redisCommand(redisPort, args),
			logTail(lines = 60) {
				return readdirSync(logDir)
					.filter((f) => f.endsWith(".log"))
					.map((f) => `--- ${join(logDir, f)} (last ${lines} lines)\n${tail(join(logDir, f), lines)}`)
					.join("\n");
			},
			async stop({ keepLogs = false } = {}) {
				// Gateways first (they talk to the services), then recording, notes, chat, the registry, then Redis/coturn.
				const failures: string[] = [];
				for (const g of gateways) {
					if (!g.proc.alive()) continue;
					await expectCleanExit(g.proc).catch((e: Error) => failures.push(e.message));
				}
				if (recording?.alive()) await expectCleanExit(recording).catch((e: Error) => failures.push(e.message));
				if (notes?.alive()) await expectCleanExit(notes).catch((e: Error) => failures.push(e.message));
				if (chat?.alive()) await expectCleanExit(chat).catch((e: Error) => failures.push(e.message));
				if (registry.alive()) await expectCleanExit(registry).catch((e: Error) => failures.push(e.message));
				redis.child?.kill("SIGCONT"); // a test may have left it stopped
				for (const p of [turn, redis]) if (p?.alive()) await p.kill("SIGTERM", 5000);
				for (const p of procs) if (p.alive()) await p.kill("SIGKILL");
				if (failures.length > 0) {
					throw new Error(`unclean shutdown (logs kept in ${logDir}):\n${failures.join("\n")}`);
				}
				if (!keepLogs && !process.env.HUDDLE_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
			},
		};
		return self;
	} catch (e) {
		const logs = readdirSync(logDir)
			.filter((f) => f.endsWith(".log"))
			.map((f) => `--- ${join(logDir, f)}\n${tail(join(logDir, f), 40)}`)
			.join("\n");
		for (const p of procs) if (p.alive()) await p.kill("SIGKILL");
		throw new Error(`startStack failed: ${(e as Error).message}\n${logs}`);
	}
}
