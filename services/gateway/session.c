// session.c: WebSocket sessions, their index and outgoing queues.
#include "gateway/session.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gateway/chat.h"
#include "gateway/prejoin.h"
#include "gateway/gateway.h"
#include "gateway/notes.h"
#include "gateway/room.h"
#include "gateway/websec.h"

struct gw_session *gw_session_alloc(struct lws *wsi)
{
	struct gw_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->id = gw_next_id();
	s->wsi = wsi;
	s->state = GW_SESSION_CONNECTED;
	s->last_rx_ms = hd_mono_ms(); // the upgrade counts as hearing from the client
	gw_ratelimit_init(&s->rl, (uint32_t)gw.cfg.burst, hd_mono_ms());
	gw_ratelimit_init(&s->chunk_rl, GW_WS_CHUNK_BURST, hd_mono_ms());
	gw_ratelimit_init(&s->reactions, (uint32_t)(gw.cfg.reaction_rate * GW_REACTION_WINDOW_S), hd_mono_ms());
	gw_ratelimit_init(&s->prejoin_rl, (uint32_t)(gw.cfg.prejoin_ice_rate * GW_PREJOIN_WINDOW_S), hd_mono_ms());
	HASH_ADD(hh, gw.sessions, id, sizeof(s->id), s);
	return s;
}

void gw_session_free(struct gw_session *s)
{
	if (s == NULL)
		return;
	gw_room_detach(s);
	gw_chat_detach(s);
	gw_notes_detach(s);
	HASH_DELETE(hh, gw.sessions, s);
	gw_websec_conn_close(s->addr_key);
	struct gw_out *o = s->out_head;
	while (o != NULL) {
		struct gw_out *next = o->next;
		free(o);
		o = next;
	}
	free(s->rx);
	gw_chunk_rx_fini(&s->chunk_rx);
	free(s);
}

struct gw_session *gw_session_find(uint64_t id)
{
	struct gw_session *s = NULL;
	HASH_FIND(hh, gw.sessions, &id, sizeof(id), s);
	return s;
}

// out_alloc returns a queue item with room for len bytes after LWS_PRE.
static struct gw_out *out_alloc(size_t len, bool chunk)
{
	struct gw_out *o = malloc(sizeof(*o) + LWS_PRE + len);
	if (o == NULL)
		return NULL;
	o->next = NULL;
	o->len = len;
	o->chunk = chunk;
	return o;
}

// out_chunks cuts the packed message msg (len bytes) into chunk frames, a
// list returned in *head/*tail. Returns HD_OK or HD_ENOMEM (nothing kept).
static hd_err out_chunks(struct gw_session *s, const uint8_t *msg, size_t len, struct gw_out **head,
			 struct gw_out **tail)
{
	uint32_t count = gw_chunk_count(len), id = ++s->chunk_out_id;
	*head = *tail = NULL;
	for (uint32_t i = 0; i < count; i++) {
		Huddle__V1__ServerMessage frame = HUDDLE__V1__SERVER_MESSAGE__INIT;
		Huddle__V1__FrameChunk part;
		gw_chunk_part(&part, msg, len, id, i);
		frame.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_CHUNK;
		frame.chunk = &part;
		struct gw_out *o = out_alloc(huddle__v1__server_message__get_packed_size(&frame), true);
		if (o == NULL) {
			while (*head != NULL) {
				struct gw_out *next = (*head)->next;
				free(*head);
				*head = next;
			}
			return HD_ENOMEM;
		}
		huddle__v1__server_message__pack(&frame, o->buf + LWS_PRE);
		if (*tail != NULL)
			(*tail)->next = o;
		else
			*head = o;
		*tail = o;
	}
	return HD_OK;
}

hd_err gw_session_send(struct gw_session *s, const Huddle__V1__ServerMessage *m)
{
	struct gw_out *head, *tail;
	if (s->close_code != 0)
		return HD_ECLOSED;
	size_t len = huddle__v1__server_message__get_packed_size(m);
	if (len > HD_WS_MESSAGE_MAX) {
		HD_ERROR("session %llu: a message of %zu bytes is over the protocol's limit; not sent",
			 (unsigned long long)s->id, len);
		return HD_ETOOLARGE;
	}
	if (len <= GW_WS_FRAME_MAX) {
		if ((head = tail = out_alloc(len, false)) == NULL)
			return HD_ENOMEM;
		huddle__v1__server_message__pack(m, head->buf + LWS_PRE);
	} else {
		uint8_t *packed = malloc(len);
		if (packed == NULL)
			return HD_ENOMEM;
		huddle__v1__server_message__pack(m, packed);
		hd_err err = out_chunks(s, packed, len, &head, &tail);
		free(packed);
		if (err != HD_OK)
			return err;
		gw.stats.chunked_out++;
	}
	// Queue the whole list at once: nothing comes between a message's chunks.
	for (struct gw_out *o = head; o != NULL; o = o->next) {
		s->out_bytes += o->len;
		if (o->chunk)
			s->out_chunk_bytes += o->len;
	}
	if (s->out_tail != NULL)
		s->out_tail->next = head;
	else
		s->out_head = head;
	s->out_tail = tail;
	size_t exempt = s->out_chunk_bytes < HD_WS_MESSAGE_MAX ? s->out_chunk_bytes : HD_WS_MESSAGE_MAX;
	if (s->out_bytes - exempt > (size_t)gw.cfg.max_queue) {
		HD_WARN("session %llu: %zu bytes queued, closing a slow client (WS_MAX_QUEUE)",
			(unsigned long long)s->id, s->out_bytes);
		gw.stats.slow_closed++;
		gw_session_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow (WS_MAX_QUEUE)");
		return HD_ECLOSED;
	}
	lws_callback_on_writable(s->wsi);
	return HD_OK;
}

void gw_session_send_error(struct gw_session *s, uint32_t request_id, hd_err code, const char *message)
{
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	Huddle__V1__Error e = HUDDLE__V1__ERROR__INIT;
	e.code = (Huddle__V1__ErrorCode)code;
	e.message = (char *)(message != NULL ? message : hd_strerror(code));
	m.request_id = request_id;
	m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_ERROR;
	m.error = &e;
	gw.stats.errors_sent++;
	gw_session_send(s, &m);
}

void gw_session_send_body(struct gw_session *s, uint32_t request_id, Huddle__V1__ServerMessage__BodyCase c, void *body)
{
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	m.request_id = request_id;
	m.body_case = c;
	// Every body member of the oneof shares one pointer slot.
	m.join = body;
	if (gw_session_send(s, &m) == HD_ETOOLARGE && request_id != 0)
		gw_session_send_error(s, request_id, HD_ETOOLARGE, "the reply is over 4 MiB");
}

bool gw_session_registry_failed(struct gw_session *s, uint32_t request_id, hd_err err,
				const Huddle__V1__RegistryReply *r)
{
	if (err != HD_OK) {
		gw_session_send_error(s, request_id, err == HD_ECLOSED ? HD_EUNAVAILABLE : err,
				      err == HD_ETIMEOUT ? "the registry did not answer in time"
							 : "the registry is unavailable");
		return true;
	}
	if (r->error != NULL && r->error->code != HUDDLE__V1__ERROR_CODE__ERROR_CODE_OK) {
		gw_session_send_error(s, request_id, (hd_err)r->error->code, r->error->message);
		return true;
	}
	return false;
}

void gw_session_close(struct gw_session *s, uint16_t code, const char *reason)
{
	if (s->close_code != 0)
		return;
	s->close_code = code;
	s->close_since_ms = hd_mono_ms();
	snprintf(s->close_reason, sizeof(s->close_reason), "%s", reason);
	HD_DEBUG("session %llu closing with %u: %s", (unsigned long long)s->id, code, reason);
	// A client that stopped reading never makes the socket writeable
	// again: its queue (bounded by WS_MAX_QUEUE) would stay forever.
	lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, GW_CLOSE_KILL_S);
	lws_callback_on_writable(s->wsi);
}

int gw_session_writeable(struct gw_session *s)
{
	if (s->ping_due) {
		// A payload (the session id) for the PONG to echo: lws 4.1.6 reports
		// no LWS_CALLBACK_RECEIVE_PONG for an empty one.
		unsigned char ping[LWS_PRE + sizeof(s->id)];
		s->ping_due = false;
		memcpy(ping + LWS_PRE, &s->id, sizeof(s->id));
		if (lws_write(s->wsi, ping + LWS_PRE, sizeof(s->id), LWS_WRITE_PING) < 0)
			return -1;
		if (s->out_head != NULL || s->close_code != 0)
			lws_callback_on_writable(s->wsi);
		return 0;
	}
	struct gw_out *o = s->out_head;
	if (o != NULL) {
		s->out_head = o->next;
		if (s->out_head == NULL)
			s->out_tail = NULL;
		s->out_bytes -= o->len;
		if (o->chunk)
			s->out_chunk_bytes -= o->len;
		int n = lws_write(s->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_BINARY);
		free(o);
		if (n < 0)
			return -1;
		gw.stats.frames_out++;
		if (s->out_head != NULL || s->close_code != 0)
			lws_callback_on_writable(s->wsi);
		return 0;
	}
	if (s->close_code != 0) {
		int64_t now = hd_mono_ms();
		if (now - s->last_rx_ms < GW_CLOSE_QUIET_MS && now - s->close_since_ms < GW_CLOSE_DRAIN_MS) {
			lws_set_timer_usecs(s->wsi, GW_CLOSE_QUIET_MS * LWS_US_PER_MS);
			return 0;
		}
		lws_close_reason(s->wsi, (enum lws_close_status)s->close_code, (unsigned char *)s->close_reason,
				 strlen(s->close_reason));
		return -1;
	}
	return 0;
}
