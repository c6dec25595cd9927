// Just enough STUN/TURN (RFC 5389, RFC 5766) to check that the credentials the
// gateway mints are accepted by coturn: an Allocate over UDP with the
// long-term credential mechanism (key = MD5(username:realm:password)).
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";

const MAGIC = 0x2112a442;
const ALLOCATE_REQUEST = 0x0003;
const ALLOCATE_SUCCESS = 0x0103;
const ALLOCATE_ERROR = 0x0113;
const REFRESH_REQUEST = 0x0004;
const ATTR_USERNAME = 0x0006;
const ATTR_MESSAGE_INTEGRITY = 0x0008;
const ATTR_ERROR_CODE = 0x0009;
const ATTR_LIFETIME = 0x000d;
const ATTR_REALM = 0x0014;
const ATTR_NONCE = 0x0015;
const ATTR_REQUESTED_TRANSPORT = 0x0019;

/** base64(HMAC-SHA1(secret, username)): the TURN REST API password. */
export function turnPassword(secret: string, username: string): string {
	return createHmac("sha1", secret).update(username).digest("base64");
}

function attr(type: number, value: Buffer): Buffer {
	const pad = (4 - (value.length % 4)) % 4;
	const b = Buffer.alloc(4 + value.length + pad);
	b.writeUInt16BE(type, 0);
	b.writeUInt16BE(value.length, 2);
	value.copy(b, 4);
	return b;
}

function message(type: number, tid: Buffer, attrs: Buffer[], integrityKey?: Buffer): Buffer {
	const body = Buffer.concat(attrs);
	const header = Buffer.alloc(20);
	header.writeUInt16BE(type, 0);
	header.writeUInt32BE(MAGIC, 4);
	tid.copy(header, 8);
	if (!integrityKey) {
		header.writeUInt16BE(body.length, 2);
		return Buffer.concat([header, body]);
	}
	// MESSAGE-INTEGRITY covers everything before it, with the length already counting it (RFC 5389 15.4).
	header.writeUInt16BE(body.length + 24, 2);
	const mac = createHmac("sha1", integrityKey).update(Buffer.concat([header, body])).digest();
	return Buffer.concat([header, body, attr(ATTR_MESSAGE_INTEGRITY, mac)]);
}

interface Parsed {
	type: number;
	tid: Buffer;
	attrs: Map<number, Buffer>;
}

function parse(m: Buffer): Parsed | undefined {
	if (m.length < 20 || m.readUInt32BE(4) !== MAGIC) return undefined;
	const len = m.readUInt16BE(2);
	const attrs = new Map<number, Buffer>();
	let i = 20;
	while (i + 4 <= 20 + len && i + 4 <= m.length) {
		const t = m.readUInt16BE(i);
		const l = m.readUInt16BE(i + 2);
		attrs.set(t, m.subarray(i + 4, i + 4 + l));
		i += 4 + l + ((4 - (l % 4)) % 4);
	}
	return { type: m.readUInt16BE(0), tid: m.subarray(8, 20), attrs };
}

// One UDP socket per allocation: coturn binds the nonce to the 5-tuple.
class Session {
	private readonly u = createSocket("udp4");
	private waiting: { tid: Buffer; res: (p: Parsed) => void } | undefined;

	constructor(private readonly port: number) {
		this.u.on("message", (m) => {
			const p = parse(m);
			if (p && this.waiting && p.tid.equals(this.waiting.tid)) this.waiting.res(p);
		});
		this.u.on("error", () => undefined);
	}

	exchange(req: Buffer, tid: Buffer, timeoutMs: number): Promise<Parsed> {
		return new Promise((res, rej) => {
			const timer = setTimeout(() => {
				this.waiting = undefined;
				rej(new Error(`TURN: no answer from 127.0.0.1:${this.port} within ${timeoutMs} ms`));
			}, timeoutMs);
			this.waiting = {
				tid,
				res: (p) => {
					clearTimeout(timer);
					this.waiting = undefined;
					res(p);
				},
			};
			this.u.send(req, this.port, "127.0.0.1");
		});
	}

	close(): void {
		this.u.close();
	}
}

export interface AllocateResult {
	ok: boolean;
	/** STUN error code of the authenticated attempt (e.g. 401), 0 on success. */
	errorCode: number;
	realm: string;
}

/**
 * Allocate on a TURN server at 127.0.0.1:port with the long-term credential
 * mechanism; on success it releases the allocation again (Refresh lifetime 0).
 */
export async function turnAllocate(port: number, username: string, password: string, timeoutMs = 2000): Promise<AllocateResult> {
	const session = new Session(port);
	try {
		return await allocate(session, username, password, timeoutMs);
	} finally {
		session.close();
	}
}

async function allocate(session: Session, username: string, password: string, timeoutMs: number): Promise<AllocateResult> {
	const transport = attr(ATTR_REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])); // UDP
	const tid1 = randomBytes(12);
	const first = await session.exchange(message(ALLOCATE_REQUEST, tid1, [transport]), tid1, timeoutMs);
	if (first.type !== ALLOCATE_ERROR) throw new Error(`TURN: unauthenticated Allocate got type 0x${first.type.toString(16)}, expected a 401 challenge`);
	const realm = first.attrs.get(ATTR_REALM);
	const nonce = first.attrs.get(ATTR_NONCE);
	if (!realm || !nonce) throw new Error("TURN: 401 challenge without REALM/NONCE");
	const key = createHash("md5").update(`${username}:${realm.toString("utf8")}:${password}`).digest();
	const tid2 = randomBytes(12);
	const authAttrs = [attr(ATTR_USERNAME, Buffer.from(username, "utf8")), attr(ATTR_REALM, realm), attr(ATTR_NONCE, nonce)];
	const second = await session.exchange(message(ALLOCATE_REQUEST, tid2, [transport, ...authAttrs], key), tid2, timeoutMs);
	if (second.type === ALLOCATE_SUCCESS) {
		const tid3 = randomBytes(12);
		const lifetime = Buffer.alloc(4); // 0: release
		await session.exchange(message(REFRESH_REQUEST, tid3, [attr(ATTR_LIFETIME, lifetime), ...authAttrs], key), tid3, timeoutMs).catch(() => undefined);
		return { ok: true, errorCode: 0, realm: realm.toString("utf8") };
	}
	const ec = second.attrs.get(ATTR_ERROR_CODE);
	const code = ec && ec.length >= 4 ? (ec[2] & 0x7) * 100 + ec[3] : -1;
	return { ok: false, errorCode: code, realm: realm.toString("utf8") };
}
