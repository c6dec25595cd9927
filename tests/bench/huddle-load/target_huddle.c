// target_huddle.c: huddle.v1 — one binary protobuf ClientMessage /
// ServerMessage per WebSocket frame (proto/huddle/v1/client.proto).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "huddle/v1/client.pb-c.h"
#include "load.h"

// Decoding a ServerMessage takes several small allocations (the message,
// the signal, its candidate, the strings): they come from a per-thread bump
// arena, reset after each message, instead of malloc; larger ones (a big
// roster) fall back to malloc.
#define HL_ARENA_BYTES 16384
struct arena {
	size_t used;
	_Alignas(16) uint8_t buf[HL_ARENA_BYTES];
};
static _Thread_local struct arena arena;

static void *arena_alloc(void *data, size_t size)
{
	struct arena *a = data;
	size_t n = (size + 15) & ~(size_t)15;
	if (n > HL_ARENA_BYTES - a->used)
		return malloc(size);
	void *p = a->buf + a->used;
	a->used += n;
	return p;
}

static void arena_free(void *data, void *p)
{
	struct arena *a = data;
	if ((uint8_t *)p < a->buf || (uint8_t *)p >= a->buf + HL_ARENA_BYTES)
		free(p);
}

static void send_message(struct hl_client *c, Huddle__V1__ClientMessage *m)
{
	uint8_t stack[1024];
	size_t len = huddle__v1__client_message__get_packed_size(m);
	uint8_t *buf = len <= sizeof(stack) ? stack : malloc(len);
	if (buf == NULL)
		return;
	huddle__v1__client_message__pack(m, buf);
	hl_send(c, buf, len, true);
	if (buf != stack)
		free(buf);
}

static void huddle_open(struct hl_client *c)
{
	hl_on_connected(c);
}

static void huddle_join(struct hl_client *c, const char *meeting_id, const char *display_name)
{
	Huddle__V1__ClientMessage m = HUDDLE__V1__CLIENT_MESSAGE__INIT;
	Huddle__V1__JoinRequest j = HUDDLE__V1__JOIN_REQUEST__INIT;
	Huddle__V1__MediaState media = HUDDLE__V1__MEDIA_STATE__INIT;
	j.meeting_id = (char *)meeting_id;
	j.display_name = (char *)display_name;
	j.media = &media;
	m.request_id = c->join_rid = ++c->next_rid;
	m.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_JOIN;
	m.join = &j;
	send_message(c, &m);
}

static void huddle_signal(struct hl_client *c, const char *to, const char *candidate)
{
	Huddle__V1__ClientMessage m = HUDDLE__V1__CLIENT_MESSAGE__INIT;
	Huddle__V1__SignalRequest sr = HUDDLE__V1__SIGNAL_REQUEST__INIT;
	Huddle__V1__Signal sig = HUDDLE__V1__SIGNAL__INIT;
	Huddle__V1__IceCandidate cand = HUDDLE__V1__ICE_CANDIDATE__INIT;
	cand.candidate = (char *)candidate;
	cand.sdp_mid = "0";
	cand.sdp_mline_index = 0;
	cand.username_fragment = "hl4V";
	sig.kind_case = HUDDLE__V1__SIGNAL__KIND_CANDIDATE;
	sig.candidate = &cand;
	sr.to = (char *)to;
	sr.signal = &sig;
	m.request_id = ++c->next_rid;
	m.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_SIGNAL;
	m.signal = &sr;
	send_message(c, &m);
}

static void huddle_leave(struct hl_client *c)
{
	Huddle__V1__ClientMessage m = HUDDLE__V1__CLIENT_MESSAGE__INIT;
	Huddle__V1__LeaveRequest l = HUDDLE__V1__LEAVE_REQUEST__INIT;
	m.request_id = c->leave_rid = ++c->next_rid;
	m.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_LEAVE;
	m.leave = &l;
	send_message(c, &m);
}

static int huddle_message(struct hl_client *c, const uint8_t *data, size_t len, bool binary)
{
	if (!binary)
		return -1;
	ProtobufCAllocator alloc = {.alloc = arena_alloc, .free = arena_free, .allocator_data = &arena};
	arena.used = 0;
	Huddle__V1__ServerMessage *m = huddle__v1__server_message__unpack(&alloc, len, data);
	if (m == NULL)
		return -1;
	switch (m->body_case) {
	case HUDDLE__V1__SERVER_MESSAGE__BODY_JOIN:
		hl_on_join_reply(c, m->join->participant_id, m->join->n_participants);
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_JOINED:
		if (m->participant_joined->participant != NULL)
			hl_on_peer_joined(c, m->participant_joined->participant->display_name);
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_SIGNAL:
		hl_on_signal_reply(c);
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_SIGNAL_DELIVERY: {
		Huddle__V1__Signal *s = m->signal_delivery->signal;
		if (s != NULL && s->kind_case == HUDDLE__V1__SIGNAL__KIND_CANDIDATE)
			hl_on_delivery(c, s->candidate->candidate, strlen(s->candidate->candidate));
		else
			hl_on_delivery(c, "", 0);
		break;
	}
	case HUDDLE__V1__SERVER_MESSAGE__BODY_LEAVE:
		hl_on_leave_reply(c);
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_ERROR: {
		char code[16];
		snprintf(code, sizeof(code), "%d", (int)m->error->code);
		hl_on_error(c, m->request_id, code, m->error->message);
		break;
	}
	default: // participant_left / updated, pong: not measured
		break;
	}
	huddle__v1__server_message__free_unpacked(m, &alloc);
	return 0;
}

const struct hl_target hl_target_huddle = {
	.name = "huddle",
	.path = "/ws",
	.subprotocol = "huddle.v1",
	.on_open = huddle_open,
	.on_message = huddle_message,
	.send_join = huddle_join,
	.send_signal = huddle_signal,
	.send_leave = huddle_leave,
};
