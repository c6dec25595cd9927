// The reference for `make bench`: the seeds' design — one Node.js process,
// socket.io v4, meetings and participants in memory — serving the same
// operations Huddle's gateway does on the measured paths: POST /api/meetings,
// join (roster in the ack, participant_joined to the others), signal relay
// (offer/answer/candidate to one participant of the same meeting, ack to the
// sender), leave (participant_left to the others). huddle-load drives it over
// a plain WebSocket (tests/bench/huddle-load/target_sio.c).
//
// Env: PORT (default 8090), HOST (default 127.0.0.1).
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { Server } from "socket.io";

const PORT = Number(process.env.PORT ?? 8090);
const HOST = process.env.HOST ?? "127.0.0.1";
const MAX_MESSAGE = 65536; // Huddle's WS_MAX_MESSAGE default

/** @type {Map<string, {id: string, title: string, createdAtMs: number, participants: Map<string, any>}>} */
const meetings = new Map();
const newId = () => randomBytes(16).toString("base64url"); // 128 bits, like Huddle's ids

const meetingJson = (m) => ({ id: m.id, url: `/m/${m.id}`, title: m.title, createdAtMs: m.createdAtMs });
const publicParticipant = (p) => ({ id: p.id, displayName: p.displayName, media: p.media, joinedAtMs: p.joinedAtMs });
const error = (code, message) => ({ error: { code, message } });

function sendJson(res, status, body) {
	const data = JSON.stringify(body);
	res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) });
	res.end(data);
}

const http = createServer((req, res) => {
	const url = req.url ?? "/";
	if (req.method === "GET" && url === "/healthz") {
		res.writeHead(200, { "Content-Type": "text/plain" });
		res.end("ok");
		return;
	}
	if (url === "/api/meetings" && req.method === "POST") {
		let body = "";
		req.setEncoding("utf8");
		req.on("data", (c) => {
			body += c;
			if (body.length > MAX_MESSAGE) req.destroy();
		});
		req.on("end", () => {
			let title = "";
			try {
				const j = body ? JSON.parse(body) : {};
				if (typeof j.title === "string") title = j.title.slice(0, 200);
			} catch {
				sendJson(res, 400, error("BAD_REQUEST", "body is not JSON"));
				return;
			}
			const m = { id: newId(), title, createdAtMs: Date.now(), participants: new Map() };
			meetings.set(m.id, m);
			sendJson(res, 201, meetingJson(m));
		});
		return;
	}
	if (url.startsWith("/api/meetings/") && req.method === "GET") {
		const m = meetings.get(url.slice("/api/meetings/".length));
		if (m) sendJson(res, 200, meetingJson(m));
		else sendJson(res, 404, error("UNKNOWN_MEETING", "no meeting has that id"));
		return;
	}
	sendJson(res, 404, error("BAD_REQUEST", "no such API"));
});

const io = new Server(http, {
	transports: ["websocket"],
	serveClient: false,
	maxHttpBufferSize: MAX_MESSAGE,
	perMessageDeflate: false,
});

io.on("connection", (socket) => {
	/** @type {{meeting: any, participant: any} | null} */
	let joined = null;

	function leave(reason) {
		if (!joined) return;
		const { meeting, participant } = joined;
		meeting.participants.delete(participant.id);
		socket.leave(meeting.id);
		socket.to(meeting.id).emit("participant_left", { participantId: participant.id, reason });
		joined = null;
	}

	socket.on("join", (req, ack) => {
		if (typeof ack !== "function") return;
		if (joined) return ack(error("ALREADY_JOINED", "the session has already joined a meeting"));
		const meeting = typeof req?.meetingId === "string" ? meetings.get(req.meetingId) : undefined;
		if (!meeting) return ack(error("UNKNOWN_MEETING", "no meeting has that id"));
		const name = typeof req.displayName === "string" ? req.displayName.trim() : "";
		if (name.length === 0 || Buffer.byteLength(name) > 64) return ack(error("BAD_REQUEST", "display name must be 1..64 bytes"));
		const participant = {
			id: newId(),
			displayName: name,
			media: { audioMuted: !!req.media?.audioMuted, videoMuted: !!req.media?.videoMuted, screenSharing: !!req.media?.screenSharing },
			joinedAtMs: Date.now(),
			socketId: socket.id,
		};
		const roster = [...meeting.participants.values()].map(publicParticipant);
		meeting.participants.set(participant.id, participant);
		joined = { meeting, participant };
		socket.join(meeting.id);
		ack({ participantId: participant.id, resumeToken: newId(), participants: roster, meeting: meetingJson(meeting), presenceTtlMs: 30000 });
		socket.to(meeting.id).emit("participant_joined", { participant: publicParticipant(participant) });
	});

	socket.on("signal", (req, ack) => {
		if (typeof ack !== "function") return;
		if (!joined) return ack(error("NOT_JOINED", "the request needs a joined session"));
		const signal = req?.signal;
		if (!signal || (typeof signal.description !== "object" && typeof signal.candidate !== "object")) {
			return ack(error("BAD_REQUEST", "signal needs a description or a candidate"));
		}
		const to = typeof req.to === "string" ? joined.meeting.participants.get(req.to) : undefined;
		if (!to || to.id === joined.participant.id) return ack(error("UNKNOWN_PARTICIPANT", "the participant is not in that meeting"));
		io.to(to.socketId).emit("signal", { from: joined.participant.id, signal });
		ack({});
	});

	socket.on("leave", (_req, ack) => {
		if (!joined) return typeof ack === "function" && ack(error("NOT_JOINED", "the request needs a joined session"));
		leave("LEFT");
		if (typeof ack === "function") ack({});
	});

	socket.on("disconnect", () => leave("LEFT"));
});

http.listen(PORT, HOST, () => console.log(`reference: socket.io ${HOST}:${PORT}`));
const stop = () => {
	io.close();
	http.close(() => process.exit(0));
	setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
