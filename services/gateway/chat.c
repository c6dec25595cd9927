// chat.c: chat rooms, in-order delivery of chat events, and the chat
// requests of WebSocket sessions.
#include "gateway/chat.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "common/log.h"
#include "gateway/callerr.h"
#include "gateway/session.h"
#include "gateway/topics.h"

#define CHAT_TICK_MS 100
#define CHAT_ACK_GRACE_MS 250 // a post's event may trail its reply this long before we read it back
#define CHAT_RETRY_MS 500     // a failed read-back is tried again after this long
#define CHAT_HELD_MAX 4096    // early events kept per room; later ones are read back from history
#define CHAT_FILL_PAGE 200

// chat_held is an event that arrived ahead of a gap (seq > last_seq + 1).
struct chat_held {
	struct chat_held *next;
	Huddle__V1__ChatEvent *ev; // unpacked, owned; ev->message is set
};

// gw_chat_room is one meeting's chat on this gateway.
struct gw_chat_room {
	char meeting_id[HD_ID_LEN + 1];
	uint64_t id;                // names the room in pending calls
	bool ready;                 // last_seq is known (the INIT call answered)
	int64_t last_seq;           // newest seq delivered to the members
	struct gw_session *waiting; // subscribers until ready
	struct gw_session *members; // subscribed sessions
	struct chat_held *held;     // ascending seq, each > last_seq + 1
	size_t n_held;
	bool fill_inflight; // a History(after_seq = last_seq) call is out
	bool fill_wanted;   // another read-back is due (at fill_at_ms)
	int64_t fill_at_ms; // monotonic ms
	int64_t expect_seq; // highest seq a post here was acknowledged with
	int64_t expect_at;  // monotonic ms when expect_seq's event is overdue
	UT_hash_handle hh;  // gw.chat_rooms, by meeting id
};

static lws_sorted_usec_list_t chat_timer;
static unsigned chat_connections_seen; // hd_sub_connections at the last tick

// ---- helpers ----

static const struct gw_service_words chat_words = {
	.timeout = "the chat service did not answer in time",
	.bad_reply = "bad reply from the chat service",
	.unavailable = "the chat service is unavailable",
};

hd_err gw_chat_failed(hd_err err, const Huddle__V1__ChatReply *r, Huddle__V1__ChatReply__BodyCase want,
		      const char **message)
{
	if (err != HD_OK) {
		gw.stats.chat_failures++;
		return gw_call_failed(err, &chat_words, message);
	}
	if (r->error != NULL && r->error->code != HUDDLE__V1__ERROR_CODE__ERROR_CODE_OK) {
		*message = r->error->message;
		return (hd_err)r->error->code;
	}
	if (r->body_case != want || (want == HUDDLE__V1__CHAT_REPLY__BODY_POST && r->post->message == NULL)) {
		*message = chat_words.bad_reply;
		return HD_EINTERNAL;
	}
	return HD_OK;
}

static struct gw_chat_room *room_find(const char *meeting_id)
{
	struct gw_chat_room *r = NULL;
	HASH_FIND_STR(gw.chat_rooms, meeting_id, r);
	return r;
}

static struct gw_chat_room *room_find_id(uint64_t id)
{
	struct gw_chat_room *r, *tmp;
	HASH_ITER(hh, gw.chat_rooms, r, tmp)
	{
		if (r->id == id)
			return r;
	}
	return NULL;
}

static void held_pop(struct gw_chat_room *r)
{
	struct chat_held *h = r->held;
	r->held = h->next;
	r->n_held--;
	huddle__v1__chat_event__free_unpacked(h->ev, NULL);
	free(h);
}

// room_maybe_free frees r once no session waits in it or subscribes to it.
static void room_maybe_free(struct gw_chat_room *r)
{
	if (r->members != NULL || r->waiting != NULL)
		return;
	while (r->held != NULL)
		held_pop(r);
	if (gw.chat_events != NULL) // NULL while shutting down
		hd_sub_unsubscribe(gw.chat_events, r->meeting_id);
	gw_topics_unwatch(r->meeting_id);
	HASH_DEL(gw.chat_rooms, r);
	HD_DEBUG("chat room %s closed", r->meeting_id);
	free(r);
}

static void reply_subscribed(struct gw_session *s, uint32_t request_id, int64_t last_seq)
{
	Huddle__V1__Meeting meeting = HUDDLE__V1__MEETING__INIT;
	Huddle__V1__ChatSubscribeReply reply = HUDDLE__V1__CHAT_SUBSCRIBE_REPLY__INIT;
	meeting.id = s->chat_meeting_id;
	meeting.title = s->chat_title;
	meeting.created_at_ms = s->chat_created_at_ms;
	reply.meeting = &meeting;
	reply.last_seq = last_seq;
	gw_session_send_body(s, request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_CHAT_SUBSCRIBE, &reply);
}

// ---- delivery ----

// deliver sends message m (the room's next seq) to every member.
static void deliver(struct gw_chat_room *r, Huddle__V1__ChatMessage *m)
{
	struct gw_session *s;
	r->last_seq = m->seq;
	DL_FOREACH2(r->members, s, chat_next)
	{
		if (!gw_session_may_read(s, r->meeting_id, s->chat_access_mode))
			continue; // left, removed or waiting in a meeting that is not open
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_CHAT_MESSAGE, m);
		gw.stats.chat_delivered++;
	}
}

// flush_held delivers the held events that follow last_seq and drops the
// ones already delivered. Returns whether a gap remains before the rest.
static bool flush_held(struct gw_chat_room *r)
{
	while (r->held != NULL) {
		int64_t seq = r->held->ev->message->seq;
		if (seq == r->last_seq + 1)
			deliver(r, r->held->ev->message);
		else if (seq > r->last_seq)
			return true;
		held_pop(r);
	}
	return false;
}

// hold keeps ev (taking ownership) in seq order; duplicates and events
// beyond CHAT_HELD_MAX are dropped (history has them).
static void hold(struct gw_chat_room *r, Huddle__V1__ChatEvent *ev)
{
	struct chat_held **at = &r->held;
	int64_t seq = ev->message->seq;
	while (*at != NULL && (*at)->ev->message->seq < seq)
		at = &(*at)->next;
	struct chat_held *h = NULL;
	if ((*at != NULL && (*at)->ev->message->seq == seq) || r->n_held >= CHAT_HELD_MAX ||
	    (h = malloc(sizeof(*h))) == NULL) {
		huddle__v1__chat_event__free_unpacked(ev, NULL);
		return;
	}
	h->ev = ev;
	h->next = *at;
	*at = h;
	r->n_held++;
}

// room_fill asks huddle-chat for the messages after last_seq (one page; the
// reply asks for the next). While one is out, another is only noted.
static void room_fill(struct gw_chat_room *r)
{
	if (!r->ready)
		return;
	if (r->fill_inflight) {
		r->fill_wanted = true;
		return;
	}
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServiceHistoryRequest h = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
	h.meeting_id = r->meeting_id;
	h.after_seq = r->last_seq;
	h.limit = CHAT_FILL_PAGE;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
	req.history = &h;
	if (gw_chat_call(GW_OP_CHAT_FILL, r->id, 0, &req) != HD_OK) {
		r->fill_wanted = true;
		r->fill_at_ms = hd_mono_ms() + CHAT_RETRY_MS;
		return;
	}
	r->fill_inflight = true;
	r->fill_wanted = false;
	gw.stats.chat_fills++;
	HD_DEBUG("chat room %s: reading back after seq %lld", r->meeting_id, (long long)r->last_seq);
}

void gw_chat_on_event(const uint8_t *data, size_t len)
{
	Huddle__V1__ChatEvent *ev = huddle__v1__chat_event__unpack(NULL, len, data);
	if (ev == NULL || ev->message == NULL) {
		HD_WARN("malformed chat event (%zu bytes) dropped", len);
		if (ev != NULL)
			huddle__v1__chat_event__free_unpacked(ev, NULL);
		return;
	}
	gw.stats.chat_events_in++;
	struct gw_chat_room *r = room_find(ev->message->meeting_id);
	int64_t seq = ev->message->seq;
	if (r == NULL || (r->ready && seq <= r->last_seq)) {
		huddle__v1__chat_event__free_unpacked(ev, NULL);
		return; // not ours, or a duplicate
	}
	if (!r->ready) {
		hold(r, ev); // sorted out when the room learns its last_seq
		return;
	}
	if (seq == r->last_seq + 1) {
		deliver(r, ev->message);
		huddle__v1__chat_event__free_unpacked(ev, NULL);
		if (flush_held(r))
			room_fill(r);
		return;
	}
	hold(r, ev);
	room_fill(r);
}

// on_init makes r ready with the last_seq huddle-chat reported, answers its
// waiting subscribers, then delivers what arrived meanwhile.
static void on_init(struct gw_chat_room *r, hd_err err, Huddle__V1__ChatReply *reply)
{
	const char *why = NULL;
	struct gw_session *s, *tmp;
	hd_err code = gw_chat_failed(err, reply, HUDDLE__V1__CHAT_REPLY__BODY_HISTORY, &why);
	if (code != HD_OK) {
		HD_WARN("chat room %s: cannot read its last seq: %s", r->meeting_id, why);
		// Detach the whole list, then walk it (no unlinking one by one).
		struct gw_session *waiting = r->waiting;
		r->waiting = NULL;
		for (s = waiting; s != NULL; s = tmp) {
			tmp = s->chat_next;
			s->chat_prev = s->chat_next = NULL;
			s->chat_room = NULL;
			s->chat_state = GW_CHAT_NONE;
			gw_session_send_error(s, s->chat_request_id, code, why);
		}
		room_maybe_free(r);
		return;
	}
	r->ready = true;
	r->last_seq = reply->history->last_seq;
	struct gw_session *waiting = r->waiting;
	r->waiting = NULL;
	for (s = waiting; s != NULL; s = tmp) {
		tmp = s->chat_next;
		s->chat_prev = s->chat_next = NULL;
		DL_APPEND2(r->members, s, chat_prev, chat_next);
		s->chat_state = GW_CHAT_SUBSCRIBED;
		reply_subscribed(s, s->chat_request_id, r->last_seq);
	}
	HD_DEBUG("chat room %s open at seq %lld", r->meeting_id, (long long)r->last_seq);
	// A bus reconnect while we were asking may have lost events after the
	// seq we were told: read back then too.
	if (flush_held(r) || r->fill_wanted)
		room_fill(r);
}

// on_fill delivers a page read back after last_seq and decides whether to
// read on.
static void on_fill(struct gw_chat_room *r, hd_err err, Huddle__V1__ChatReply *reply)
{
	const char *why = NULL;
	r->fill_inflight = false;
	if (gw_chat_failed(err, reply, HUDDLE__V1__CHAT_REPLY__BODY_HISTORY, &why) != HD_OK) {
		HD_WARN("chat room %s: read-back failed (%s); retrying", r->meeting_id, why);
		r->fill_wanted = true;
		r->fill_at_ms = hd_mono_ms() + CHAT_RETRY_MS;
		return;
	}
	Huddle__V1__ChatServiceHistoryReply *h = reply->history;
	int64_t before = r->last_seq;
	for (size_t i = 0; i < h->n_messages; i++) {
		Huddle__V1__ChatMessage *m = h->messages[i];
		if (m == NULL || m->seq <= r->last_seq)
			continue;
		if (m->seq != r->last_seq + 1 || strcmp(m->meeting_id, r->meeting_id) != 0)
			break; // not contiguous: read again from last_seq
		deliver(r, m);
	}
	bool gap = flush_held(r);
	if (r->expect_seq <= r->last_seq)
		r->expect_seq = 0;
	else
		r->expect_at = hd_mono_ms() + CHAT_ACK_GRACE_MS;
	bool behind = h->more || h->last_seq > r->last_seq || gap;
	// A page the bus overtook (all of it delivered meanwhile) is progress too.
	bool overtaken = h->n_messages > 0 && h->messages[h->n_messages - 1] != NULL &&
			 h->messages[h->n_messages - 1]->seq <= before;
	if (r->last_seq == before && !overtaken && behind) {
		// No progress: held events the store does not have, or a store
		// answering inconsistently. Do not spin; try again later.
		if (h->last_seq <= r->last_seq)
			while (r->held != NULL)
				held_pop(r);
		r->fill_wanted = true;
		r->fill_at_ms = hd_mono_ms() + CHAT_RETRY_MS;
		return;
	}
	if (behind || r->fill_wanted)
		room_fill(r);
}

// ---- timer ----

// chat_tick reads back missed events: every room after the chat bus
// reconnected, a room whose read-back failed earlier, and a room where a
// post's event is overdue.
static void chat_tick(lws_sorted_usec_list_t *sul)
{
	int64_t now = hd_mono_ms();
	bool reconnected = false;
	if (gw.chat_events != NULL) {
		unsigned c = hd_sub_connections(gw.chat_events);
		if (c != chat_connections_seen) {
			chat_connections_seen = c;
			reconnected = true;
		}
	}
	struct gw_chat_room *r, *tmp;
	HASH_ITER(hh, gw.chat_rooms, r, tmp)
	{
		if (!r->ready) {
			if (reconnected) // read back once its last_seq is known
				r->fill_wanted = true;
			continue;
		}
		if (reconnected) {
			HD_DEBUG("chat room %s: event bus reconnected", r->meeting_id);
			room_fill(r);
		} else if (r->fill_wanted && !r->fill_inflight && now >= r->fill_at_ms) {
			room_fill(r);
		} else if (r->expect_seq > r->last_seq && now >= r->expect_at) {
			HD_DEBUG("chat room %s: event for seq %lld overdue", r->meeting_id, (long long)r->expect_seq);
			r->expect_at = now + CHAT_ACK_GRACE_MS;
			room_fill(r);
		}
	}
	lws_sul_schedule(gw.ctx, 0, &chat_timer, chat_tick, CHAT_TICK_MS * LWS_US_PER_MS);
}

void gw_chat_start(void)
{
	lws_sul_schedule(gw.ctx, 0, &chat_timer, chat_tick, CHAT_TICK_MS * LWS_US_PER_MS);
}

void gw_chat_stop(void)
{
	lws_sul_cancel(&chat_timer);
}

// ---- subscriptions ----

void gw_chat_op_subscribe(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	const char *id = cm->chat_subscribe->meeting_id;
	gw.stats.chat_subscribes++;
	if (s->chat_state == GW_CHAT_SUBSCRIBED && strcmp(id, s->chat_meeting_id) == 0) {
		reply_subscribed(s, cm->request_id, s->chat_room->last_seq);
		return;
	}
	if (s->chat_state != GW_CHAT_NONE) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST,
				      s->chat_state == GW_CHAT_SUBSCRIBED
					      ? "this connection already has another meeting's chat"
					      : "a chat subscription is already in progress");
		return;
	}
	if (!hd_id_valid(id)) {
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNMEETING, "no meeting has that id");
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__GetMeetingRequest gm = HUDDLE__V1__GET_MEETING_REQUEST__INIT;
	gm.meeting_id = (char *)id;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING;
	req.get_meeting = &gm;
	if (gw_registry_call(GW_OP_CHAT_MEETING, s->id, cm->request_id, &req) != HD_OK) {
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, "the registry is unavailable");
		return;
	}
	s->chat_state = GW_CHAT_MEETING;
	s->chat_request_id = cm->request_id;
	snprintf(s->chat_meeting_id, sizeof(s->chat_meeting_id), "%s", id);
}

// room_open creates the chat room of meeting_id: subscribed to its topic
// first, so nothing published after the INIT call's read is missed.
static struct gw_chat_room *room_open(const char *meeting_id)
{
	struct gw_chat_room *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	snprintf(r->meeting_id, sizeof(r->meeting_id), "%s", meeting_id);
	r->id = gw_next_id();
	if (gw.chat_events == NULL || hd_sub_subscribe(gw.chat_events, r->meeting_id) != HD_OK) {
		free(r);
		return NULL;
	}
	// The meeting's access mode may change while it is open (meeting_updated).
	if (gw_topics_watch(r->meeting_id) != HD_OK) {
		hd_sub_unsubscribe(gw.chat_events, r->meeting_id);
		free(r);
		return NULL;
	}
	HASH_ADD_STR(gw.chat_rooms, meeting_id, r);
	return r;
}

// room_init asks huddle-chat for the new room's last_seq. Returns HD_OK or
// why it could not be asked.
static hd_err room_init(struct gw_chat_room *r)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServiceHistoryRequest h = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
	h.meeting_id = r->meeting_id;
	h.limit = 1;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
	req.history = &h;
	return gw_chat_call(GW_OP_CHAT_INIT, r->id, 0, &req);
}

void gw_chat_on_meeting(struct gw_session *s, const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	if (s->chat_state != GW_CHAT_MEETING || s->chat_request_id != p->request_id)
		return;
	s->chat_state = GW_CHAT_NONE;
	if (gw_session_registry_failed(s, p->request_id, err, r))
		return;
	if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING || r->get_meeting->meeting == NULL ||
	    strcmp(r->get_meeting->meeting->id, s->chat_meeting_id) != 0) {
		gw_session_send_error(s, p->request_id, HD_EINTERNAL, "bad reply from the registry");
		return;
	}
	if (!gw_session_may_read(s, s->chat_meeting_id, r->get_meeting->meeting->access_mode)) {
		gw_session_send_error(s, p->request_id, HD_EFORBIDDEN,
				      "the chat of this meeting is for the participants a host let in");
		return;
	}
	s->chat_access_mode = r->get_meeting->meeting->access_mode;
	snprintf(s->chat_title, sizeof(s->chat_title), "%s", r->get_meeting->meeting->title);
	s->chat_created_at_ms = r->get_meeting->meeting->created_at_ms;

	struct gw_chat_room *room = room_find(s->chat_meeting_id);
	if (room != NULL && room->ready) {
		DL_APPEND2(room->members, s, chat_prev, chat_next);
		s->chat_room = room;
		s->chat_state = GW_CHAT_SUBSCRIBED;
		reply_subscribed(s, p->request_id, room->last_seq);
		return;
	}
	bool fresh = room == NULL;
	if (fresh && (room = room_open(s->chat_meeting_id)) == NULL) {
		gw_session_send_error(s, p->request_id, HD_ENOMEM, NULL);
		return;
	}
	DL_APPEND2(room->waiting, s, chat_prev, chat_next);
	s->chat_room = room;
	s->chat_state = GW_CHAT_WAITING;
	if (fresh && room_init(room) != HD_OK)
		on_init(room, HD_EUNAVAILABLE, NULL); // answers and frees
}

void gw_chat_detach(struct gw_session *s)
{
	struct gw_chat_room *r = s->chat_room;
	if (r != NULL) {
		if (s->chat_state == GW_CHAT_WAITING)
			DL_DELETE2(r->waiting, s, chat_prev, chat_next);
		else
			DL_DELETE2(r->members, s, chat_prev, chat_next);
		s->chat_room = NULL;
		room_maybe_free(r);
	}
	s->chat_state = GW_CHAT_NONE;
}

// ---- posts and history ----

static bool require_subscribed(struct gw_session *s, uint32_t request_id)
{
	if (s->chat_state == GW_CHAT_SUBSCRIBED)
		return true;
	gw_session_send_error(s, request_id, HD_ENOTJOINED, "subscribe to the meeting's chat first");
	return false;
}

void gw_chat_op_post(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__ChatPostRequest *cp = cm->chat_post;
	if (!require_subscribed(s, cm->request_id))
		return;
	gw.stats.chat_posts++;
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServicePostRequest post = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
	bool in_call = s->state == GW_SESSION_JOINED && strcmp(s->meeting_id, s->chat_meeting_id) == 0;
	post.meeting_id = s->chat_meeting_id;
	post.client_message_id = cp->client_message_id;
	post.sender_id = in_call ? s->participant_id : "";
	post.sender_name = cp->sender_name;
	post.text = cp->text;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
	req.post = &post;
	if (gw_chat_call(GW_OP_CHAT_POST, s->id, cm->request_id, &req) != HD_OK)
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, "the chat service is unavailable");
}

void gw_chat_op_history(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__ChatHistoryRequest *ch = cm->chat_history;
	if (!require_subscribed(s, cm->request_id))
		return;
	gw.stats.chat_history++;
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServiceHistoryRequest h = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
	h.meeting_id = s->chat_meeting_id;
	h.after_seq = ch->after_seq;
	h.before_seq = ch->before_seq;
	h.limit = ch->limit;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
	req.history = &h;
	if (gw_chat_call(GW_OP_CHAT_HISTORY, s->id, cm->request_id, &req) != HD_OK)
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, "the chat service is unavailable");
}

// on_posted answers a post and, when its seq has not been delivered yet,
// starts the grace period for its event.
static void on_posted(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *reply)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	const char *why = NULL;
	hd_err code = gw_chat_failed(err, reply, HUDDLE__V1__CHAT_REPLY__BODY_POST, &why);
	if (code != HD_OK) {
		if (s != NULL)
			gw_session_send_error(s, p->request_id, code, why);
		return;
	}
	Huddle__V1__ChatMessage *m = reply->post->message;
	if (s != NULL) {
		Huddle__V1__ChatPostReply ok = HUDDLE__V1__CHAT_POST_REPLY__INIT;
		ok.message = m;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_CHAT_POST, &ok);
	}
	struct gw_chat_room *r = room_find(m->meeting_id);
	if (r == NULL || !r->ready || m->seq <= r->last_seq || m->seq <= r->expect_seq)
		return;
	if (r->expect_seq <= r->last_seq) // no earlier post is overdue: start the clock
		r->expect_at = hd_mono_ms() + CHAT_ACK_GRACE_MS;
	r->expect_seq = m->seq;
}

static void on_history(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *reply)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	const char *why = NULL;
	if (s == NULL)
		return;
	hd_err code = gw_chat_failed(err, reply, HUDDLE__V1__CHAT_REPLY__BODY_HISTORY, &why);
	if (code != HD_OK) {
		gw_session_send_error(s, p->request_id, code, why);
		return;
	}
	Huddle__V1__ChatHistoryReply ok = HUDDLE__V1__CHAT_HISTORY_REPLY__INIT;
	ok.n_messages = reply->history->n_messages;
	ok.messages = reply->history->messages;
	ok.more = reply->history->more;
	ok.last_seq = reply->history->last_seq;
	gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_CHAT_HISTORY, &ok);
}

void gw_chat_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *r)
{
	struct gw_chat_room *room;
	switch (p->op) {
	case GW_OP_CHAT_INIT:
		if ((room = room_find_id(p->conn_id)) != NULL && !room->ready)
			on_init(room, err, r);
		break;
	case GW_OP_CHAT_FILL:
		if ((room = room_find_id(p->conn_id)) != NULL)
			on_fill(room, err, r);
		break;
	case GW_OP_CHAT_POST:
		on_posted(p, err, r);
		break;
	case GW_OP_CHAT_HISTORY:
		on_history(p, err, r);
		break;
	default:
		break;
	}
}

void gw_chat_count(size_t *rooms, size_t *subscribers)
{
	struct gw_chat_room *r, *tmp;
	struct gw_session *s;
	size_t n = 0;
	HASH_ITER(hh, gw.chat_rooms, r, tmp)
	{
		DL_FOREACH2(r->members, s, chat_next)
		n++;
	}
	*rooms = HASH_CNT(hh, gw.chat_rooms);
	*subscribers = n;
}
