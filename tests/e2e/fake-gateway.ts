// A stand-in for huddle-gateway + huddle-registry in one Node process, for
// developing and screenshotting the web client without the C daemons. It
// implements the browser-visible behaviour of the brief (HTTP API, SPA
// fallback, /ws join/resume/signal/media_state/leave/ping) in memory. The e2e
// tests never use it: they run the real daemons through tests/lib/stack.ts.
//
//   npx tsx e2e/fake-gateway.ts [port]     (serves $HUDDLE_WEB_ROOT or ../web/dist)
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { create, toBinary, fromBinary, ClientMessageSchema, ServerMessageSchema, ErrorCode, LeaveReason } from "../lib/proto.ts";

type ServerInit = NonNullable<Parameters<typeof create<typeof ServerMessageSchema>>[1]>;

interface Member {
  id: string;
  name: string;
  token: string;
  media: { audioMuted: boolean; videoMuted: boolean; screenSharing: boolean };
  joinedAtMs: number;
  ws: WebSocket | null;
  goneTimer?: NodeJS.Timeout;
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export interface FakeGateway {
  url: string;
  // Closes every WebSocket (as a gateway crash would) but keeps presence.
  dropAll(): void;
  // Stops listening for downMs (every connection cut), then listens again on
  // the same port with presence kept, like a gateway SIGKILL + restart.
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeGateway(port = 0, ttlMs = 30_000): Promise<FakeGateway> {
  const webRoot = resolve(process.env.HUDDLE_WEB_ROOT ?? "../web/dist");
  const meetings = new Map<string, { id: string; title: string; createdAtMs: number; members: Map<string, Member> }>();
  const id = () => randomBytes(16).toString("base64url");

  const send = (ws: WebSocket | null, msg: ServerInit) => {
    if (ws && ws.readyState === ws.OPEN) ws.send(toBinary(ServerMessageSchema, create(ServerMessageSchema, msg)));
  };
  const meetingJson = (m: { id: string; title: string; createdAtMs: number }) =>
    JSON.stringify({ id: m.id, url: `/m/${m.id}`, title: m.title, createdAtMs: m.createdAtMs });
  const participant = (m: Member) => ({ id: m.id, displayName: m.name, media: m.media, joinedAtMs: BigInt(m.joinedAtMs) });

  const http = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST" && url.pathname === "/api/meetings") {
      const m = { id: id(), title: "", createdAtMs: Date.now(), members: new Map() };
      meetings.set(m.id, m);
      res.writeHead(201, { "content-type": "application/json" }).end(meetingJson(m));
      return;
    }
    const api = /^\/api\/meetings\/([^/]+)$/.exec(url.pathname);
    if (api) {
      const m = meetings.get(api[1]);
      if (!m) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "UNKNOWN_MEETING", message: "no such meeting" } }));
      } else res.writeHead(200, { "content-type": "application/json" }).end(meetingJson(m));
      return;
    }
    let path = url.pathname === "/" || url.pathname.startsWith("/m/") ? "/index.html" : url.pathname;
    path = normalize(path).replace(/^(\.\.[/\\])+/, "");
    try {
      const body = await readFile(join(webRoot, path));
      res.writeHead(200, { "content-type": MIME[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });

  const wss = new WebSocketServer({ server: http, path: "/ws", handleProtocols: (p) => (p.has("huddle.v1") ? "huddle.v1" : false) });
  wss.on("connection", (ws) => {
    let me: Member | null = null;
    let meeting: { id: string; members: Map<string, Member> } | null = null;
    const others = () => [...(meeting?.members.values() ?? [])].filter((x) => x !== me);
    ws.on("message", (data, isBinary) => {
      if (!isBinary) return ws.close(1003);
      let msg;
      try {
        msg = fromBinary(ClientMessageSchema, new Uint8Array(data as Buffer));
      } catch {
        return send(ws, { requestId: 0, body: { case: "error", value: { code: ErrorCode.MALFORMED, message: "bad frame" } } });
      }
      const rid = msg.requestId;
      const err = (code: ErrorCode, message: string) => send(ws, { requestId: rid, body: { case: "error", value: { code, message } } });
      const b = msg.body;
      switch (b.case) {
        case "join": {
          if (me) return err(ErrorCode.ALREADY_JOINED, "already joined");
          const m = meetings.get(b.value.meetingId);
          if (!m) return err(ErrorCode.UNKNOWN_MEETING, "no such meeting");
          let resumed = false;
          if (b.value.participantId) {
            const prev = m.members.get(b.value.participantId);
            if (!prev || prev.token !== b.value.resumeToken) return err(ErrorCode.RESUME_REJECTED, "bad token");
            clearTimeout(prev.goneTimer);
            if (prev.ws && prev.ws !== ws) prev.ws.close(4000, "resumed elsewhere");
            prev.ws = ws;
            me = prev;
            resumed = true;
          } else {
            me = { id: id(), name: b.value.displayName, token: id(), media: { audioMuted: false, videoMuted: false, screenSharing: false, ...b.value.media }, joinedAtMs: Date.now(), ws };
            m.members.set(me.id, me);
          }
          meeting = m;
          if (b.value.media) me.media = { audioMuted: b.value.media.audioMuted, videoMuted: b.value.media.videoMuted, screenSharing: b.value.media.screenSharing };
          send(ws, {
            requestId: rid,
            body: {
              case: "join",
              value: {
                participantId: me.id,
                resumeToken: me.token,
                participants: others().map(participant),
                iceServers: [],
                resumed,
                meeting: { id: m.id, title: m.title, createdAtMs: BigInt(m.createdAtMs) },
                presenceTtlMs: ttlMs,
              },
            },
          });
          if (!resumed) for (const o of others()) send(o.ws, { requestId: 0, body: { case: "participantJoined", value: { participant: participant(me) } } });
          return;
        }
        case "ping":
          return send(ws, { requestId: rid, body: { case: "pong", value: { clientTimeMs: b.value.clientTimeMs, serverTimeMs: BigInt(Date.now()) } } });
        default:
          break;
      }
      if (!me || !meeting) return err(ErrorCode.NOT_JOINED, "join first");
      switch (b.case) {
        case "signal": {
          const to = meeting.members.get(b.value.to);
          if (!to) return err(ErrorCode.UNKNOWN_PARTICIPANT, "no such participant");
          send(to.ws, { requestId: 0, body: { case: "signalDelivery", value: { from: me.id, signal: b.value.signal } } });
          return send(ws, { requestId: rid, body: { case: "signal", value: {} } });
        }
        case "mediaState": {
          if (b.value.media) me.media = { ...b.value.media };
          for (const o of others()) send(o.ws, { requestId: 0, body: { case: "participantUpdated", value: { participant: participant(me) } } });
          return send(ws, { requestId: rid, body: { case: "mediaState", value: {} } });
        }
        case "leave": {
          meeting.members.delete(me.id);
          for (const o of others()) send(o.ws, { requestId: 0, body: { case: "participantLeft", value: { participantId: me.id, reason: LeaveReason.LEFT } } });
          send(ws, { requestId: rid, body: { case: "leave", value: {} } });
          me = null;
          return;
        }
        default:
          return err(ErrorCode.UNKNOWN_TYPE, "unknown body");
      }
    });
    ws.on("close", () => {
      const m = me;
      const mt = meeting;
      if (!m || !mt || m.ws !== ws) return;
      m.ws = null;
      m.goneTimer = setTimeout(() => {
        if (m.ws) return;
        mt.members.delete(m.id);
        for (const o of mt.members.values()) send(o.ws, { requestId: 0, body: { case: "participantLeft", value: { participantId: m.id, reason: LeaveReason.TIMED_OUT } } });
      }, ttlMs);
    });
  });

  await new Promise<void>((r) => http.listen(port, "127.0.0.1", r));
  const addr = http.address();
  const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : port}`;
  return {
    url,
    dropAll() {
      for (const c of wss.clients) c.terminate();
    },
    async restart(downMs: number) {
      const p = typeof addr === "object" && addr ? addr.port : port;
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => {
        http.close(() => r());
        http.closeAllConnections();
      });
      await new Promise((r) => setTimeout(r, downMs));
      await new Promise<void>((r) => http.listen(p, "127.0.0.1", r));
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => r());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const g = await startFakeGateway(Number(process.argv[2] ?? 8080));
  console.log(`fake gateway on ${g.url}`);
}
