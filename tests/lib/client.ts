// A huddle.v1 WebSocket client for tests: binary protobuf frames over /ws with
// subprotocol "huddle.v1". Replies are matched to requests by request_id;
// everything else (events, errors with request_id 0, stray replies) lands in an
// inbox that next()/expectNone() read. Every wait is bounded. A message over
// one frame travels as FrameChunk frames both ways, as the browser does it:
// send() cuts, and chunk frames from the gateway are reassembled (and checked:
// in order, nothing between them) before the message is handled.
import WebSocket from "ws";
import {
	create,
	toBinary,
	fromBinary,
	ClientMessageSchema,
	ServerMessageSchema,
	ErrorCode,
	type ClientMessage,
	type ServerMessage,
	type JoinReply,
	type MediaState,
	type Signal,
	type ChatMessage,
	DocumentKind,
	type NotesUpdate,
	type NotesAwareness,
} from "./proto.ts";

export const SUBPROTOCOL = "huddle.v1";
export const DEFAULT_TIMEOUT_MS = 5000;
/** The protocol's frame size: a message that packs larger travels in chunks (client.proto FrameChunk). */
export const FRAME_MAX = 65536;
/** Bytes of one chunk's data at most, and the largest message (HD_WS_MESSAGE_MAX). */
export const CHUNK_PART_MAX = 60 * 1024;
export const MESSAGE_MAX = 4 * 1024 * 1024;

/** The chunk frames (packed ClientMessages) that carry `bytes` as message `messageId`, in order. */
export function chunkFrames(bytes: Uint8Array, messageId: number, partMax = CHUNK_PART_MAX): Uint8Array[] {
	const count = Math.ceil(bytes.length / partMax);
	const frames: Uint8Array[] = [];
	for (let index = 0; index < count; index++) {
		const data = bytes.subarray(index * partMax, Math.min(bytes.length, (index + 1) * partMax));
		frames.push(chunkFrame({ messageId, index, count, data }));
	}
	return frames;
}

/** One chunk frame with the given fields, whatever they say (for malformed sequences). */
export function chunkFrame(chunk: { messageId: number; index: number; count: number; data: Uint8Array }): Uint8Array {
	return toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId: 0, body: { case: "chunk", value: chunk } } as never));
}

export type ClientBody = NonNullable<ClientMessage["body"]>;
export type ServerCase = NonNullable<ServerMessage["body"]["case"]>;

export interface Closed {
	code: number;
	reason: string;
}

/** The Error a request got instead of its reply. */
export class HuddleError extends Error {
	constructor(
		readonly code: ErrorCode,
		readonly serverMessage: string,
		readonly requestId: number,
	) {
		super(`huddle error ${ErrorCode[code] ?? code} (${code}) for request ${requestId}: ${serverMessage}`);
	}
}

/** Short name of a ServerMessage for assertion messages. */
export function describe(m: ServerMessage): string {
	const b = m.body;
	if (b.case === "error") return `#${m.requestId} error ${ErrorCode[b.value.code] ?? b.value.code} "${b.value.message}"`;
	return `#${m.requestId} ${b.case ?? "(no body)"}`;
}

interface Waiter {
	pred: (m: ServerMessage) => boolean;
	resolve: (m: ServerMessage) => void;
}

export class HuddleClient {
	/** Every frame received, in order (for diagnostics). */
	readonly received: ServerMessage[] = [];
	/** Frames not yet consumed by a request or next(). */
	readonly inbox: ServerMessage[] = [];
	readonly closed: Promise<Closed>;
	closeInfo: Closed | undefined;
	/** Frames from the gateway that break the protocol (text, undecodable); tests assert it stays empty. */
	readonly violations: string[] = [];
	/** Set after a successful join(). */
	participantId = "";
	resumeToken = "";
	meetingId = "";

	private nextId = 1;
	private readonly pending = new Map<number, { resolve: (m: ServerMessage) => void; reject: (e: Error) => void }>();
	private readonly waiters = new Set<Waiter>();
	private readonly closeListeners = new Set<(c: Closed) => void>();
	/** A chunked ServerMessage in assembly. */
	private chunkIn: { messageId: number; count: number; next: number; parts: Uint8Array[]; bytes: number } | undefined;
	private nextChunkId = 1;
	/** Chunk frames received, and messages reassembled from them. */
	chunkFramesIn = 0;
	chunkedIn = 0;
	/** Messages this client sent in chunks. */
	chunkedOut = 0;

	private constructor(readonly ws: WebSocket, readonly label: string) {
		this.closed = new Promise((res) => {
			ws.on("close", (code, reason) => {
				const c = { code, reason: reason.toString("utf8") };
				this.closeInfo = c;
				for (const p of this.pending.values()) p.reject(new Error(`${label}: socket closed (${code} ${c.reason}) before the reply`));
				this.pending.clear();
				for (const l of this.closeListeners) l(c);
				res(c);
			});
		});
		ws.on("error", () => {
			/* surfaced through "close" */
		});
		ws.on("message", (data, isBinary) => {
			if (!isBinary) {
				this.violations.push(`text frame: ${String(data).slice(0, 200)}`);
				return;
			}
			const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
			if (buf.length > FRAME_MAX) this.violations.push(`a ${buf.length}-byte frame is over the protocol's ${FRAME_MAX}`);
			let m: ServerMessage;
			try {
				m = fromBinary(ServerMessageSchema, new Uint8Array(buf));
			} catch (e) {
				this.violations.push(`undecodable frame (${buf.length} bytes): ${(e as Error).message}`);
				return;
			}
			const whole = this.reassemble(m);
			if (whole) this.handle(whole);
		});
	}

	// reassemble returns m itself, the message a last chunk completes, or undefined (a part taken, or a violation).
	private reassemble(m: ServerMessage): ServerMessage | undefined {
		if (m.body.case !== "chunk") {
			if (this.chunkIn) {
				this.violations.push(`${describe(m)} came between the parts of chunked message ${this.chunkIn.messageId}`);
				this.chunkIn = undefined;
			}
			return m;
		}
		this.chunkFramesIn++;
		const c = m.body.value;
		const bad = (why: string) => {
			this.violations.push(`chunk ${c.messageId}[${c.index}/${c.count}]: ${why}`);
			this.chunkIn = undefined;
			return undefined;
		};
		if (m.requestId !== 0) return bad("request_id is not 0");
		if (c.count < 2 || c.count > 70 || c.index >= c.count) return bad("count or index out of range");
		if (c.data.length === 0 || c.data.length > CHUNK_PART_MAX) return bad(`${c.data.length} bytes of data`);
		if (c.index === 0) {
			if (this.chunkIn) return bad(`began before message ${this.chunkIn.messageId} ended`);
			this.chunkIn = { messageId: c.messageId, count: c.count, next: 0, parts: [], bytes: 0 };
		}
		const a = this.chunkIn;
		if (!a || a.messageId !== c.messageId || a.next !== c.index || a.count !== c.count) return bad("out of order");
		a.parts.push(c.data);
		a.bytes += c.data.length;
		a.next++;
		if (a.bytes > MESSAGE_MAX) return bad("over 4 MiB");
		if (a.next < a.count) return undefined;
		this.chunkIn = undefined;
		try {
			const whole = fromBinary(ServerMessageSchema, Buffer.concat(a.parts));
			if (whole.body.case === "chunk") return bad("a chunked message holds a chunk");
			this.chunkedIn++;
			return whole;
		} catch (e) {
			return bad(`the message does not decode: ${(e as Error).message}`);
		}
	}

	// handle takes one whole ServerMessage: the reply a request waits for, a waiter's match, or the inbox.
	private handle(m: ServerMessage): void {
		this.received.push(m);
		const p = m.requestId !== 0 ? this.pending.get(m.requestId) : undefined;
		if (p) {
			this.pending.delete(m.requestId);
			p.resolve(m);
			return;
		}
		for (const w of this.waiters) {
			if (w.pred(m)) {
				this.waiters.delete(w);
				w.resolve(m);
				return;
			}
		}
		this.inbox.push(m);
	}

	/** Opens a WebSocket to wsUrl with subprotocol huddle.v1. */
	static connect(
		wsUrl: string,
		opts: { label?: string; timeoutMs?: number; protocol?: string | null; origin?: string; ca?: string; localAddress?: string; headers?: Record<string, string> } = {},
	): Promise<HuddleClient> {
		const label = opts.label ?? "client";
		const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
		return new Promise((res, rej) => {
			const protocols = opts.protocol === null ? [] : [opts.protocol ?? SUBPROTOCOL];
			// No Origin unless asked (as non-browser clients); ca: trust a TLS gateway's own certificate.
			const ws = new WebSocket(wsUrl, protocols, {
				handshakeTimeout: timeoutMs,
				maxPayload: 1 << 20,
				...(opts.origin !== undefined ? { origin: opts.origin } : {}),
				...(opts.ca !== undefined ? { ca: opts.ca } : {}),
				// A client address of its own (127.0.0.x): per-address limits.
				...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
				...(opts.headers !== undefined ? { headers: opts.headers } : {}),
			});
			ws.binaryType = "nodebuffer";
			const c = new HuddleClient(ws, label);
			const timer = setTimeout(() => {
				ws.terminate();
				rej(new Error(`${label}: connect to ${wsUrl} timed out after ${timeoutMs} ms`));
			}, timeoutMs);
			ws.once("open", () => {
				clearTimeout(timer);
				res(c);
			});
			ws.once("error", (e) => {
				clearTimeout(timer);
				rej(new Error(`${label}: connect to ${wsUrl} failed: ${e.message}`));
			});
		});
	}

	get isOpen(): boolean {
		return this.ws.readyState === WebSocket.OPEN;
	}

	/** Allocates a request id, sends the request (in chunks when it packs over one frame), returns the id (no waiting). */
	send(body: ClientBody): number {
		const requestId = this.nextId++;
		this.sendMessage(toBinary(ClientMessageSchema, create(ClientMessageSchema, { requestId, body } as never)));
		return requestId;
	}

	/** Sends a packed ClientMessage: in one frame, or as consecutive chunk frames when it is over FRAME_MAX. */
	sendMessage(bytes: Uint8Array): void {
		if (bytes.length <= FRAME_MAX) {
			this.sendRaw(bytes);
			return;
		}
		this.chunkedOut++;
		for (const f of chunkFrames(bytes, this.nextChunkId++)) this.sendRaw(f);
	}

	/** Sends bytes (a binary frame) or a string (a text frame) as they are. */
	sendRaw(data: Uint8Array | string): void {
		this.ws.send(data, { binary: typeof data !== "string" });
	}

	/** Sends a request and resolves with the ServerMessage echoing its id (a reply or an Error). */
	request(body: ClientBody, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerMessage> {
		if (!this.isOpen) return Promise.reject(new Error(`${this.label}: socket not open`));
		const requestId = this.send(body);
		return this.awaitReply(requestId, body.case, timeoutMs);
	}

	/** Resolves with the frame echoing requestId (sent earlier with send()). */
	awaitReply(requestId: number, what: string | undefined, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerMessage> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(requestId);
				reject(new Error(`${this.label}: no reply to ${what} #${requestId} within ${timeoutMs} ms`));
			}, timeoutMs);
			this.pending.set(requestId, {
				resolve: (m) => {
					clearTimeout(timer);
					resolve(m);
				},
				reject: (e) => {
					clearTimeout(timer);
					reject(e);
				},
			});
		});
	}

	/** Sends a request, returns the reply body of case `expect`; throws HuddleError on an Error. */
	async call<C extends ServerCase>(body: ClientBody, expect: C, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Extract<ServerMessage["body"], { case: C }>["value"]> {
		const m = await this.request(body, timeoutMs);
		if (m.body.case === "error") throw new HuddleError(m.body.value.code, m.body.value.message, m.requestId);
		if (m.body.case !== expect) throw new Error(`${this.label}: expected ${expect} reply, got ${describe(m)}`);
		return m.body.value as never;
	}

	/** Sends a request that must fail; returns the Error (throws if a reply came instead). */
	async expectError(body: ClientBody, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ code: ErrorCode; message: string; requestId: number }> {
		const m = await this.request(body, timeoutMs);
		if (m.body.case !== "error") throw new Error(`${this.label}: expected an Error for ${body.case}, got ${describe(m)}`);
		return { code: m.body.value.code, message: m.body.value.message, requestId: m.requestId };
	}

	/** Next inbox frame matching pred (already received or arriving within timeoutMs); consumes it. */
	next(pred: (m: ServerMessage) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, what = "a matching frame"): Promise<ServerMessage> {
		const i = this.inbox.findIndex(pred);
		if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
		return new Promise((resolve, reject) => {
			const onClose = (c: Closed) => finish(new Error(`${this.label}: socket closed (${c.code} ${c.reason}) while waiting for ${what}`));
			const w: Waiter = { pred, resolve: (m) => finish(undefined, m) };
			const timer = setTimeout(
				() => finish(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; unconsumed: [${this.inbox.map(describe).join(", ")}]`)),
				timeoutMs,
			);
			const finish = (err?: Error, m?: ServerMessage) => {
				clearTimeout(timer);
				this.waiters.delete(w);
				this.closeListeners.delete(onClose);
				if (err) reject(err);
				else resolve(m!);
			};
			this.waiters.add(w);
			if (this.closeInfo) onClose(this.closeInfo);
			else this.closeListeners.add(onClose);
		});
	}

	/** Next event of the given case (request_id 0). */
	nextEvent<C extends ServerCase>(kind: C, timeoutMs = DEFAULT_TIMEOUT_MS, pred: (v: Extract<ServerMessage["body"], { case: C }>["value"]) => boolean = () => true): Promise<Extract<ServerMessage["body"], { case: C }>["value"]> {
		return this.next((m) => m.body.case === kind && pred(m.body.value as never), timeoutMs, `${kind} event`).then((m) => m.body.value as never);
	}

	/** Waits quietMs and returns every inbox frame matching pred that arrived (not consumed). */
	async collect(pred: (m: ServerMessage) => boolean, quietMs: number): Promise<ServerMessage[]> {
		await new Promise((r) => setTimeout(r, quietMs));
		return this.inbox.filter(pred);
	}

	/** Resolves with the close code, or rejects if the socket is still open after timeoutMs. */
	async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Closed> {
		let timer: NodeJS.Timeout | undefined;
		const t = new Promise<never>((_, rej) => {
			timer = setTimeout(() => rej(new Error(`${this.label}: still open after ${timeoutMs} ms; received [${this.received.slice(-10).map(describe).join(", ")}]`)), timeoutMs);
		});
		try {
			return await Promise.race([this.closed, t]);
		} finally {
			clearTimeout(timer);
		}
	}

	// --- protocol helpers ---------------------------------------------------

	/** Joins (or resumes) a meeting; throws HuddleError on an Error reply. */
	async join(
		meetingId: string,
		displayName: string,
		opts: { media?: Partial<MediaState>; participantId?: string; resumeToken?: string; timeoutMs?: number } = {},
	): Promise<JoinReply> {
		const reply = await this.call(
			{
				case: "join",
				value: {
					meetingId,
					displayName,
					media: opts.media,
					participantId: opts.participantId ?? "",
					resumeToken: opts.resumeToken ?? "",
				},
			} as never,
			"join",
			opts.timeoutMs,
		);
		this.participantId = reply.participantId;
		this.resumeToken = reply.resumeToken;
		this.meetingId = meetingId;
		return reply;
	}

	joinBody(meetingId: string, displayName: string, extra: { participantId?: string; resumeToken?: string } = {}): ClientBody {
		return { case: "join", value: { meetingId, displayName, ...extra } } as never;
	}

	signal(to: string, signal: Partial<Signal> | Signal["kind"], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerMessage> {
		const s = "case" in signal ? { kind: signal } : signal;
		return this.request({ case: "signal", value: { to, signal: s } } as never, timeoutMs);
	}

	mediaState(media: Partial<MediaState>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerMessage> {
		return this.request({ case: "mediaState", value: { media } } as never, timeoutMs);
	}

	ping(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerMessage> {
		return this.request({ case: "ping", value: { clientTimeMs: BigInt(Date.now()) } } as never, timeoutMs);
	}

	leave(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerMessage> {
		return this.request({ case: "leave", value: {} } as never, timeoutMs);
	}

	// --- chat ----------------------------------------------------------------

	/** chat_subscribe; returns the reply (meeting, lastSeq) or throws HuddleError. */
	chatSubscribe(meetingId: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
		return this.call({ case: "chatSubscribe", value: { meetingId } } as never, "chatSubscribe", timeoutMs);
	}

	chatPostBody(clientMessageId: string, text: string, senderName = this.label): ClientBody {
		return { case: "chatPost", value: { clientMessageId, text, senderName } } as never;
	}

	/** chat_post; returns the stored ChatMessage or throws HuddleError. */
	async chatPost(clientMessageId: string, text: string, senderName = this.label, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ChatMessage> {
		const r = await this.call(this.chatPostBody(clientMessageId, text, senderName), "chatPost", timeoutMs);
		if (!r.message) throw new Error(`${this.label}: chat_post reply without a message`);
		return r.message;
	}

	chatHistoryBody(page: { beforeSeq?: number | bigint; afterSeq?: number | bigint; limit?: number } = {}): ClientBody {
		return {
			case: "chatHistory",
			value: { beforeSeq: BigInt(page.beforeSeq ?? 0), afterSeq: BigInt(page.afterSeq ?? 0), limit: page.limit ?? 0 },
		} as never;
	}

	/** chat_history; returns {messages, more, lastSeq} or throws HuddleError. */
	chatHistory(page: { beforeSeq?: number | bigint; afterSeq?: number | bigint; limit?: number } = {}, timeoutMs = DEFAULT_TIMEOUT_MS) {
		return this.call(this.chatHistoryBody(page), "chatHistory", timeoutMs);
	}

	/** Every chat_message event received so far (consumed or not), in arrival order. */
	chatMessages(): ChatMessage[] {
		return this.received.flatMap((m) => (m.body.case === "chatMessage" ? [m.body.value] : []));
	}

	// --- shared documents -----------------------------------------------------

	/** notes_subscribe; returns the reply (meeting, notesLastSeq, codeLastSeq) or throws HuddleError. */
	notesSubscribe(meetingId: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
		return this.call({ case: "notesSubscribe", value: { meetingId } } as never, "notesSubscribe", timeoutMs);
	}

	/** notes_open; returns {snapshot, updates, more, lastSeq, document} or throws HuddleError. */
	notesOpen(document: DocumentKind, page: { afterSeq?: number | bigint; limit?: number } = {}, timeoutMs = DEFAULT_TIMEOUT_MS) {
		return this.call(
			{ case: "notesOpen", value: { document, afterSeq: BigInt(page.afterSeq ?? 0), limit: page.limit ?? 0 } } as never,
			"notesOpen",
			timeoutMs,
		);
	}

	notesUpdateBody(document: DocumentKind, clientUpdateId: string, data: Uint8Array, authorName = this.label): ClientBody {
		return { case: "notesUpdate", value: { document, clientUpdateId, data, authorName } } as never;
	}

	/** notes_update; returns the stored NotesUpdate or throws HuddleError. */
	async notesUpdate(document: DocumentKind, clientUpdateId: string, data: Uint8Array, authorName = this.label, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<NotesUpdate> {
		const r = await this.call(this.notesUpdateBody(document, clientUpdateId, data, authorName), "notesUpdate", timeoutMs);
		if (!r.update) throw new Error(`${this.label}: notes_update reply without an update`);
		return r.update;
	}

	/** notes_awareness; resolves once relayed, or throws HuddleError. */
	notesAwareness(document: DocumentKind, data: Uint8Array, timeoutMs = DEFAULT_TIMEOUT_MS) {
		return this.call({ case: "notesAwareness", value: { document, data } } as never, "notesAwareness", timeoutMs);
	}

	/** notes_snapshot; returns {version, stored, document} or throws HuddleError. */
	notesSnapshot(
		document: DocumentKind,
		snap: { seq: number | bigint; state: Uint8Array; text: string; language?: string; authorName?: string },
		timeoutMs = DEFAULT_TIMEOUT_MS,
	) {
		return this.call(
			{
				case: "notesSnapshot",
				value: { document, seq: BigInt(snap.seq), state: snap.state, text: snap.text, language: snap.language ?? "", authorName: snap.authorName ?? this.label },
			} as never,
			"notesSnapshot",
			timeoutMs,
		);
	}

	/** notes_versions; returns {versions (newest first), document} or throws HuddleError. */
	notesVersions(document: DocumentKind, timeoutMs = DEFAULT_TIMEOUT_MS) {
		return this.call({ case: "notesVersions", value: { document } } as never, "notesVersions", timeoutMs);
	}

	/** notes_version (0: the newest); returns {snapshot, document} or throws HuddleError. */
	notesVersion(document: DocumentKind, version: number | bigint = 0, timeoutMs = DEFAULT_TIMEOUT_MS) {
		return this.call({ case: "notesVersion", value: { document, version: BigInt(version) } } as never, "notesVersion", timeoutMs);
	}

	/** Every notes_update_event received so far (consumed or not), in arrival order; of one document if given. */
	notesUpdates(document?: DocumentKind): NotesUpdate[] {
		return this.received.flatMap((m) => (m.body.case === "notesUpdateEvent" && (document === undefined || m.body.value.document === document) ? [m.body.value] : []));
	}

	/** Every notes_awareness_event received so far, in arrival order. */
	notesAwarenessEvents(): NotesAwareness[] {
		return this.received.flatMap((m) => (m.body.case === "notesAwarenessEvent" ? [m.body.value] : []));
	}

	/** Closes politely (1000) and waits (bounded) for the close. */
	async close(timeoutMs = 2000): Promise<void> {
		if (this.ws.readyState === WebSocket.CLOSED) return;
		this.ws.close(1000);
		await this.waitClosed(timeoutMs).catch(() => this.ws.terminate());
	}

	/** Drops the TCP connection without a close frame. */
	terminate(): void {
		this.ws.terminate();
	}
}

export function connect(wsUrl: string, label?: string): Promise<HuddleClient> {
	return HuddleClient.connect(wsUrl, { label });
}

export interface MeetingJson {
	id: string;
	url: string;
	title: string;
	createdAtMs: number;
	created_at_ms: number;
	access_mode: "open" | "waiting_room" | "locked" | "token_only";
	starts_at_ms: number;
	/** Only in the answer of POST /api/meetings: the meeting's host key (secret). */
	host_key?: string;
}

/** fetch with a bound, and the underlying cause in the message when the connection fails. */
export async function fetchBounded(url: string, init: RequestInit = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Response> {
	try {
		return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
	} catch (e) {
		const cause = (e as { cause?: { message?: string; code?: string } }).cause;
		throw new Error(`${init.method ?? "GET"} ${url}: ${(e as Error).message}${cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : ""}`);
	}
}

/**
 * POST /api/meetings with {"title": title}; asserts 201 and returns the meeting JSON.
 * `title: null` sends no body at all (the body is optional).
 */
export async function createMeeting(httpUrl: string, title: string | null = "integration test"): Promise<MeetingJson> {
	const r = await fetchBounded(`${httpUrl}/api/meetings`, {
		method: "POST",
		headers: title === null ? {} : { "content-type": "application/json" },
		body: title === null ? undefined : JSON.stringify({ title }),
	});
	const text = await r.text();
	if (r.status !== 201) throw new Error(`POST /api/meetings: expected 201, got ${r.status}: ${text}`);
	return JSON.parse(text) as MeetingJson;
}

/** GET a URL with a bound; returns status, body text and content type. */
export async function httpGet(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ status: number; body: string; contentType: string }> {
	const r = await fetchBounded(url, {}, timeoutMs);
	return { status: r.status, body: await r.text(), contentType: r.headers.get("content-type") ?? "" };
}

/** Closes every client (bounded), ignoring those already closed. */
export async function closeAll(clients: (HuddleClient | undefined)[]): Promise<void> {
	await Promise.all(clients.map((c) => c?.close().catch(() => undefined)));
}
