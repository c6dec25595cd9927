// ws.c: the huddle.v1 WebSocket protocol.
#include "gateway/ws.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "gateway/access.h"
#include "gateway/chat.h"
#include "gateway/notes.h"
#include "gateway/notes_ops.h"
#include "gateway/prejoin.h"
#include "gateway/rectoken.h"
#include "gateway/room.h"
#include "gateway/session.h"
#include "gateway/turn.h"
#include "gateway/sfu.h"
#include "gateway/watch.h"
#include "gateway/websec.h"

#define WS_MAX_MALFORMED 3      // the third undecodable frame closes (1007)
#define WS_MAX_LIMIT_ERRORS 20  // RATE_LIMITED errors sent per second at most
#define WS_ABUSE_FACTOR 3       // refusing > 3x the rate per second: close (1008)
#define WS_CHUNK_COST_MIN 16384 // bytes of WS_CHUNK_RATE a chunk frame costs at least: tiny parts are no cheap flood
#define GW_CLOSE_PRESENCE_LOST 4000

struct ws_pss {
	struct gw_session *s;
};

// ---- replies ----

// ---- requests ----

static void op_join(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__JoinRequest *j = cm->join;
	bool resume = j->participant_id[0] != '\0' || j->resume_token[0] != '\0';
	if (s->state != GW_SESSION_CONNECTED) {
		gw_session_send_error(s, cm->request_id, HD_EALREADYJOINED, NULL);
		return;
	}
	if (!hd_id_valid(j->meeting_id)) {
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNMEETING, "no meeting has that id");
		return;
	}
	if (resume && (!hd_id_valid(j->participant_id) || !hd_id_valid(j->resume_token))) {
		gw_session_send_error(s, cm->request_id, HD_ERESUMEREJECTED, "unknown participant or token");
		return;
	}
	// An old client sends no client_key; a host's REMOVE / BLOCK then has
	// nothing to hold on to but the participant itself.
	if (j->client_key[0] != '\0' && !gw_access_client_key_valid(j->client_key)) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST,
				      "client_key must be 1 to 64 characters of A-Z a-z 0-9 _ -");
		return;
	}
	if (strlen(j->host_key) > GW_HOST_KEY_MAX) {
		gw_session_send_error(s, cm->request_id, HD_EFORBIDDEN, "the host key is not valid for this meeting");
		return;
	}
	// A signed join link: verified here, the registry trusts the grant.
	Huddle__V1__JoinGrant grant = HUDDLE__V1__JOIN_GRANT__INIT;
	struct hd_jwt_claims claims;
	if (j->join_token[0] != '\0') {
		const char *why = "the join link is malformed";
		hd_err err = strlen(j->join_token) > HD_JWT_MAX ? HD_ETOKENINVALID
								: hd_jwt_verify(&gw.jwt, j->join_token, j->meeting_id,
										(int64_t)time(NULL), &claims, &why);
		if (err != HD_OK) {
			gw_session_send_error(s, cm->request_id, err == HD_ENOMEM ? HD_ENOMEM : HD_ETOKENINVALID,
					      why != NULL ? why : "the join link cannot be used");
			return;
		}
		grant.role = claims.role == HD_JWT_HOST ? HUDDLE__V1__ROLE__ROLE_HOST : HUDDLE__V1__ROLE__ROLE_GUEST;
		grant.display_name = claims.name;
	}
	if (gw_room_attach(s, j->meeting_id) != HD_OK) {
		gw_session_send_error(s, cm->request_id, HD_ENOMEM, NULL);
		return;
	}
	s->state = GW_SESSION_JOINING;
	s->join_request_id = cm->request_id;

	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryJoinRequest rj = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	rj.meeting_id = j->meeting_id;
	rj.display_name = j->display_name;
	rj.media = j->media;
	rj.gateway_id = (char *)gw.cfg.gateway_id;
	rj.participant_id = j->participant_id;
	rj.resume_token = j->resume_token;
	rj.host_key = j->host_key;
	rj.client_key = j->client_key;
	rj.grant = j->join_token[0] != '\0' ? &grant : NULL;
	if (rj.grant != NULL && rj.display_name[0] == '\0')
		rj.display_name = grant.display_name; // the link names the participant
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN;
	req.join = &rj;
	hd_err err = gw_registry_call(GW_OP_JOIN, s->id, cm->request_id, &req);
	if (err != HD_OK) {
		gw_room_detach(s);
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, NULL);
	}
}

static void on_join(struct gw_session *s, const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	if (s->state != GW_SESSION_JOINING || s->join_request_id != p->request_id)
		return; // the session moved on (closed or replaced)
	if (gw_session_registry_failed(s, p->request_id, err, r)) {
		gw_room_detach(s);
		return;
	}
	if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_JOIN || r->join->participant == NULL ||
	    !hd_id_valid(r->join->participant->id)) {
		gw_session_send_error(s, p->request_id, HD_EINTERNAL, "bad reply from the registry");
		gw_room_detach(s);
		return;
	}
	Huddle__V1__RegistryJoinReply *rj = r->join;
	gw_room_add_member(s, rj->participant->id);
	gw_access_join_reply(s, p->request_id, rj);
	if (s->admission == GW_ADMISSION_ADMITTED)
		gw_room_replay(s, rj->participants, rj->n_participants);
	else
		gw_room_replay(s, NULL, 0); // what a waiting participant may see of the events meanwhile
	if (rj->resumed)
		gw.stats.resumes++;
	else
		gw.stats.joins++;
	HD_DEBUG("session %llu %s meeting %s as %s%s", (unsigned long long)s->id, rj->resumed ? "resumed" : "joined",
		 s->meeting_id, rj->participant->id, s->admission == GW_ADMISSION_WAITING ? " (waiting)" : "");
}

static bool require_joined(struct gw_session *s, uint32_t request_id)
{
	if (s->state == GW_SESSION_JOINED)
		return true;
	gw_session_send_error(s, request_id, HD_ENOTJOINED, NULL);
	return false;
}

static void op_leave(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	if (!require_joined(s, cm->request_id))
		return;
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RegistryLeaveRequest rl = HUDDLE__V1__REGISTRY_LEAVE_REQUEST__INIT;
	rl.meeting_id = s->meeting_id;
	rl.participant_id = s->participant_id;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_LEAVE;
	req.leave = &rl;
	hd_err err = gw_registry_call(GW_OP_LEAVE, s->id, cm->request_id, &req);
	// Stop delivering at once; the registry tells the others.
	gw_room_detach(s);
	if (err != HD_OK)
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, NULL);
}

static void op_signal(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__SignalRequest *sr = cm->signal;
	if (!require_joined(s, cm->request_id))
		return;
	if (sr->signal == NULL || sr->signal->kind_case == HUDDLE__V1__SIGNAL__KIND__NOT_SET) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "signal needs a description or a candidate");
		return;
	}
	if (!hd_id_valid(sr->to) || strcmp(sr->to, s->participant_id) == 0) {
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNPARTICIPANT, NULL);
		return;
	}
	struct gw_session *to = gw_room_find_member(s->room, sr->to);
	if (to != NULL && !gw_session_admitted(to)) {
		// In the waiting room: as far as the call knows, nobody.
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNPARTICIPANT, NULL);
		return;
	}
	if (to != NULL) {
		Huddle__V1__SignalReply ack = HUDDLE__V1__SIGNAL_REPLY__INIT;
		gw_room_deliver_signal(to, s->participant_id, sr->signal);
		gw_session_send_body(s, cm->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_SIGNAL, &ack);
		gw.stats.signals_local++;
		return;
	}
	// Not here: the registry checks membership and publishes it to the
	// gateway that holds the participant.
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__RelaySignalRequest rr = HUDDLE__V1__RELAY_SIGNAL_REQUEST__INIT;
	rr.meeting_id = s->meeting_id;
	rr.from = s->participant_id;
	rr.to = sr->to;
	rr.signal = sr->signal;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_RELAY_SIGNAL;
	req.relay_signal = &rr;
	if (gw_registry_call(GW_OP_RELAY, s->id, cm->request_id, &req) != HD_OK)
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, NULL);
	gw.stats.signals_remote++;
}

static void op_media_state(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	if (!require_joined(s, cm->request_id))
		return;
	Huddle__V1__MediaState none = HUDDLE__V1__MEDIA_STATE__INIT;
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__UpdateMediaRequest um = HUDDLE__V1__UPDATE_MEDIA_REQUEST__INIT;
	um.meeting_id = s->meeting_id;
	um.participant_id = s->participant_id;
	um.media = cm->media_state->media != NULL ? cm->media_state->media : &none;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_UPDATE_MEDIA;
	req.update_media = &um;
	if (gw_registry_call(GW_OP_MEDIA, s->id, cm->request_id, &req) != HD_OK)
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, NULL);
}

static void op_ping(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__PongReply pong = HUDDLE__V1__PONG_REPLY__INIT;
	pong.client_time_ms = cm->ping->client_time_ms;
	pong.server_time_ms = hd_now_ms();
	gw_session_send_body(s, cm->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_PONG, &pong);
}

// op_sfu forwards ClientMessage.sfu to huddle-media (sfu.c; a waiting
// session gets FORBIDDEN from gw_access_gate first).
static void op_sfu(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	gw_sfu_op(s, cm);
}

// ws_ops dispatches a ClientMessage by its body, indexed by field number.
static void (*const ws_ops[])(struct gw_session *, Huddle__V1__ClientMessage *) = {
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_JOIN] = op_join,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_LEAVE] = op_leave,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_SIGNAL] = op_signal,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_MEDIA_STATE] = op_media_state,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_PING] = op_ping,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_SUBSCRIBE] = gw_chat_op_subscribe,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_POST] = gw_chat_op_post,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_CHAT_HISTORY] = gw_chat_op_history,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_SUBSCRIBE] = gw_notes_op_subscribe,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_OPEN] = gw_notes_op_open,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_UPDATE] = gw_notes_op_update,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_AWARENESS] = gw_notes_op_awareness,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_SNAPSHOT] = gw_notes_op_snapshot,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_VERSIONS] = gw_notes_op_versions,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_VERSION] = gw_notes_op_version,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_ADMIT] = gw_access_op_admit,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_MODERATE] = gw_access_op_moderate,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_SET_ACCESS] = gw_access_op_set_access,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_END_MEETING] = gw_access_op_end_meeting,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_HAND] = gw_access_op_hand,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_REACTION] = gw_access_op_reaction,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_WATCH] = gw_watch_op,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_ICE_SERVERS] = gw_prejoin_op_ice_servers,
	[HUDDLE__V1__CLIENT_MESSAGE__BODY_SFU] = op_sfu,
	// FrameChunk (30) is taken apart before dispatch (ws_chunk).
};

void gw_ws_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	if (s == NULL)
		return; // closed meanwhile; a join it made expires with the TTL
	switch (p->op) {
	case GW_OP_JOIN:
		on_join(s, p, err, r);
		break;
	case GW_OP_CHAT_MEETING:
		gw_chat_on_meeting(s, p, err, r);
		break;
	case GW_OP_NOTES_MEETING:
		gw_notes_on_meeting(s, p, err, r);
		break;
	case GW_OP_LEAVE: {
		Huddle__V1__LeaveReply ok = HUDDLE__V1__LEAVE_REPLY__INIT;
		if (!gw_session_registry_failed(s, p->request_id, err, r))
			gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_LEAVE, &ok);
		break;
	}
	case GW_OP_RELAY: {
		Huddle__V1__SignalReply ok = HUDDLE__V1__SIGNAL_REPLY__INIT;
		if (!gw_session_registry_failed(s, p->request_id, err, r))
			gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_SIGNAL, &ok);
		break;
	}
	case GW_OP_MEDIA: {
		Huddle__V1__MediaStateReply ok = HUDDLE__V1__MEDIA_STATE_REPLY__INIT;
		if (!gw_session_registry_failed(s, p->request_id, err, r))
			gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_MEDIA_STATE, &ok);
		break;
	}
	default:
		break;
	}
}

// ---- heartbeat ----

#define WS_HEARTBEAT_BATCH 2000 // presence refs per request

static void heartbeat_send(Huddle__V1__PresenceRef **refs, size_t n)
{
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__HeartbeatRequest hb = HUDDLE__V1__HEARTBEAT_REQUEST__INIT;
	hb.gateway_id = (char *)gw.cfg.gateway_id;
	hb.n_present = n;
	hb.present = refs;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HEARTBEAT;
	req.heartbeat = &hb;
	if (gw_registry_call(GW_OP_HEARTBEAT, 0, 0, &req) != HD_OK)
		HD_WARN("heartbeat not sent: registry unavailable");
}

void gw_ws_heartbeat(void)
{
	static Huddle__V1__PresenceRef refs[WS_HEARTBEAT_BATCH];
	static Huddle__V1__PresenceRef *ptrs[WS_HEARTBEAT_BATCH];
	size_t n = 0;
	struct gw_session *s, *tmp;
	HASH_ITER(hh, gw.sessions, s, tmp)
	{
		if (s->state != GW_SESSION_JOINED)
			continue;
		huddle__v1__presence_ref__init(&refs[n]);
		refs[n].meeting_id = s->meeting_id;
		refs[n].participant_id = s->participant_id;
		ptrs[n] = &refs[n];
		if (++n == WS_HEARTBEAT_BATCH) {
			heartbeat_send(ptrs, n);
			n = 0;
		}
	}
	if (n > 0)
		heartbeat_send(ptrs, n);
}

void gw_ws_keepalive(int64_t now_ms)
{
	struct gw_session *s, *tmp;
	HASH_ITER(hh, gw.sessions, s, tmp)
	{
		if (s->wsi == NULL)
			continue;
		int64_t idle = now_ms - s->last_rx_ms;
		if (idle >= (int64_t)GW_HANGUP_AFTER_S * 1000) {
			HD_DEBUG("session %llu: nothing received for %d s; dropped", (unsigned long long)s->id,
				 GW_HANGUP_AFTER_S);
			gw.stats.idle_closed++;
			s->last_rx_ms = now_ms; // once: the close below is asynchronous
			lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		} else if (idle >= (int64_t)GW_PING_AFTER_S * 1000 && !s->ping_sent) {
			s->ping_sent = s->ping_due = true;
			lws_callback_on_writable(s->wsi);
		}
	}
}

void gw_ws_on_heartbeat(hd_err err, Huddle__V1__RegistryReply *r)
{
	if (err != HD_OK || r == NULL || r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_HEARTBEAT) {
		HD_WARN("heartbeat failed: %s", err != HD_OK ? hd_strerror(err) : "error reply");
		return;
	}
	for (size_t i = 0; i < r->heartbeat->n_gone; i++) {
		Huddle__V1__PresenceRef *g = r->heartbeat->gone[i];
		struct gw_room *room = NULL;
		HASH_FIND_STR(gw.rooms, g->meeting_id, room);
		struct gw_session *s = gw_room_find_member(room, g->participant_id);
		if (s == NULL)
			continue;
		HD_INFO("participant %s of %s is no longer present; closing its session", g->participant_id,
			g->meeting_id);
		gw_room_detach(s);
		gw_session_close(s, GW_CLOSE_PRESENCE_LOST, "presence expired");
	}
}

// ---- lws ----

// ws_malformed answers an undecodable message. Returns 0, or -1 to close
// now (the third one: 1007, close reason set).
static int ws_malformed(struct lws *wsi, struct gw_session *s, const char *why)
{
	gw.stats.malformed++;
	if (++s->malformed >= WS_MAX_MALFORMED) {
		static const char reason[] = "repeated malformed frames";
		lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, (unsigned char *)reason, sizeof(reason) - 1);
		return -1;
	}
	gw_session_send_error(s, 0, HD_EMALFORMED, why);
	return 0;
}

// ws_refused answers a message the rate limiter refused (request_id names
// it, 0 when unknown; tell false: nothing to answer, the message was dropped
// and answered before) and closes a client that floods far beyond the limit.
static void ws_refused(struct gw_session *s, const struct gw_ratelimit *rl, uint32_t request_id, bool tell)
{
	gw.stats.rate_limited++;
	if (s->limit_window_ms != rl->window_start_ms) {
		s->limit_window_ms = rl->window_start_ms;
		s->limit_errors = 0;
	}
	if (gw_ratelimit_abusive(rl, (uint32_t)gw.cfg.rate * WS_ABUSE_FACTOR)) {
		// Close after the replies and errors already queued, so the
		// client learns why; everything it sends meanwhile is dropped.
		gw_session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "rate limit exceeded");
		return;
	}
	if (tell && s->limit_errors++ < WS_MAX_LIMIT_ERRORS)
		gw_session_send_error(s, request_id, HD_ERATELIMITED, "too many messages; slow down");
}

// ws_dispatch serves one decoded ClientMessage (borrowed) that came in one
// frame or in chunks: one message to the rate limiter either way.
static void ws_dispatch(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	if (!gw_ratelimit_take(&s->rl, (uint32_t)gw.cfg.rate, (uint32_t)gw.cfg.burst, hd_mono_ms())) {
		ws_refused(s, &s->rl, cm->request_id, true);
		return;
	}
	size_t op = (size_t)cm->body_case;
	if (cm->request_id == 0)
		gw_session_send_error(s, 0, HD_EBADREQUEST, "request_id must be non-zero");
	else if (op >= sizeof(ws_ops) / sizeof(ws_ops[0]) || ws_ops[op] == NULL)
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNTYPE, "the message has no known body");
	else if (gw_access_gate(s, cm))
		ws_ops[op](s, cm);
}

// ws_chunk takes one FrameChunk frame of frame_len bytes: it counts against
// WS_CHUNK_RATE (at least WS_CHUNK_COST_MIN), not the message rate, and the
// message it completes is dispatched as if it had come in one frame.
// Returns 0, or -1 to close now.
static int ws_chunk(struct lws *wsi, struct gw_session *s, const Huddle__V1__FrameChunk *part, size_t frame_len)
{
	uint32_t request_id = 0;
	bool complete = false;
	const char *why = NULL;
	gw.stats.chunks_in++;
	double cost = frame_len > WS_CHUNK_COST_MIN ? (double)frame_len : WS_CHUNK_COST_MIN;
	if (!gw_ratelimit_take_n(&s->chunk_rl, cost, (uint32_t)gw.cfg.chunk_rate, GW_WS_CHUNK_BURST, hd_mono_ms())) {
		// The message cannot be completed without this part: drop it
		// and its later parts, and say which request failed, once.
		bool tell = !gw_chunk_rx_ignoring(&s->chunk_rx, part);
		ws_refused(s, &s->chunk_rl, gw_chunk_rx_refuse(&s->chunk_rx, part), tell);
		return 0;
	}
	hd_err err = gw_chunk_rx_add(&s->chunk_rx, part, HD_WS_MESSAGE_MAX, &complete, &request_id, &why);
	if (err != HD_OK) {
		gw.stats.chunk_errors++;
		gw_session_send_error(s, request_id, err, why);
	}
	if (!complete)
		return 0;
	gw.stats.chunked_in++;
	Huddle__V1__ClientMessage *cm = huddle__v1__client_message__unpack(NULL, s->chunk_rx.len, s->chunk_rx.buf);
	gw_chunk_rx_reset(&s->chunk_rx);
	if (cm == NULL)
		return ws_malformed(wsi, s, "the chunked message is not a huddle.v1.ClientMessage");
	if (cm->body_case == HUDDLE__V1__CLIENT_MESSAGE__BODY_CHUNK) {
		gw.stats.chunk_errors++;
		gw_session_send_error(s, cm->request_id, HD_EMALFORMED, "a chunked message cannot hold a chunk");
	} else {
		ws_dispatch(s, cm);
	}
	huddle__v1__client_message__free_unpacked(cm, NULL);
	return 0;
}

int gw_ws_message(struct gw_session *s, const uint8_t *data, size_t len)
{
	struct lws *wsi = s->wsi;
	gw.stats.frames_in++;
	if (s->close_code != 0)
		return 0; // closing: nothing more is served
	Huddle__V1__ClientMessage *cm = huddle__v1__client_message__unpack(NULL, len, data);
	if (cm == NULL)
		return ws_malformed(wsi, s, "frame is not a huddle.v1.ClientMessage");
	int rv = 0;
	if (cm->body_case == HUDDLE__V1__CLIENT_MESSAGE__BODY_CHUNK) {
		rv = ws_chunk(wsi, s, cm->chunk, len);
	} else {
		uint32_t dropped = 0;
		if (gw_chunk_rx_abort(&s->chunk_rx, &dropped)) {
			gw.stats.chunk_errors++;
			gw_session_send_error(s, dropped, HD_EMALFORMED,
					      "a frame came between the parts of a chunked message");
		}
		ws_dispatch(s, cm);
	}
	huddle__v1__client_message__free_unpacked(cm, NULL);
	return rv;
}

static int ws_receive(struct lws *wsi, struct gw_session *s, const uint8_t *in, size_t len)
{
	s->last_rx_ms = hd_mono_ms();
	s->ping_sent = false;
	if (s->close_code != 0)
		return 0; // closing: read and drop until the peer is quiet
	size_t remaining = lws_remaining_packet_payload(wsi);
	bool complete = lws_is_final_fragment(wsi) && remaining == 0;
	if (!lws_frame_is_binary(wsi)) {
		static const char why[] = "binary huddle.v1 frames only";
		lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, (unsigned char *)why, sizeof(why) - 1);
		return -1;
	}
	if (s->rx_len + len + remaining > (size_t)gw.cfg.max_message) {
		static const char why[] = "message too large";
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, sizeof(why) - 1);
		return -1;
	}
	if (complete && s->rx_len == 0)
		return gw_ws_message(s, in, len);
	if (s->rx_len + len > s->rx_cap) {
		size_t cap = s->rx_len + len + remaining;
		uint8_t *rx = realloc(s->rx, cap);
		if (rx == NULL)
			return -1;
		s->rx = rx;
		s->rx_cap = cap;
	}
	memcpy(s->rx + s->rx_len, in, len);
	s->rx_len += len;
	if (!complete)
		return 0;
	int rv = gw_ws_message(s, s->rx, s->rx_len);
	s->rx_len = 0;
	if (s->rx_cap > 16384) { // do not keep a large buffer per idle client
		free(s->rx);
		s->rx = NULL;
		s->rx_cap = 0;
	}
	return rv;
}

int gw_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct ws_pss *pss = user;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		char uri[16];
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws") != 0)
			return 1; // WebSocket only on /ws
		return 0;
	}
	case LWS_CALLBACK_ESTABLISHED:
		// HTTP_CONFIRM_UPGRADE (http.c) refused the connection over the
		// limit with 429; this only guards against a gap between the two.
		if (!gw_websec_conn_allowed(wsi)) {
			static const char why[] = "too many connections from this address";
			gw.stats.conn_refused++;
			lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)why, sizeof(why) - 1);
			return -1;
		}
		if ((pss->s = gw_session_alloc(wsi)) == NULL)
			return -1;
		gw_websec_conn_open(wsi, pss->s->addr_key);
		gw.stats.ws_opened++;
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss->s == NULL)
			return -1;
		return ws_receive(wsi, pss->s, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		if (pss->s != NULL) {
			pss->s->last_rx_ms = hd_mono_ms();
			pss->s->ping_sent = false;
		}
		return 0;
	case LWS_CALLBACK_TIMER: // a closing session's quiet check
		if (pss->s != NULL)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (pss->s == NULL)
			return 0;
		return gw_session_writeable(pss->s);
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		gw_drain();
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (pss->s != NULL) {
			HD_DEBUG("session %llu closed (%s)", (unsigned long long)pss->s->id,
				 pss->s->close_code != 0 ? pss->s->close_reason : "by the peer or the network");
			gw_session_free(pss->s);
			pss->s = NULL;
			gw.stats.ws_closed++;
		}
		return 0;
	default:
		return 0;
	}
}
