// room.c: local rooms, membership and delivery of room events.
#include "gateway/room.h"

#include "gateway/sfu.h"

#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "common/log.h"
#include "gateway/access.h"
#include "gateway/gateway.h"
#include "gateway/session.h"
#include "gateway/topics.h"
#include "huddle/v1/events.pb-c.h"

#define GW_CLOSE_PRESENCE_LOST 4000
#define GW_CLOSE_REPLACED 4001
#define GW_EARLY_EVENTS_MAX 1024 // buffered per joining session

static struct gw_room *room_find(const char *meeting_id)
{
	struct gw_room *r = NULL;
	HASH_FIND_STR(gw.rooms, meeting_id, r);
	return r;
}

hd_err gw_room_attach(struct gw_session *s, const char *meeting_id)
{
	struct gw_room *r = room_find(meeting_id);
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return HD_ENOMEM;
		snprintf(r->meeting_id, sizeof(r->meeting_id), "%s", meeting_id);
		if (gw_topics_watch(r->meeting_id) != HD_OK) {
			free(r);
			return HD_ENOMEM;
		}
		HASH_ADD_STR(gw.rooms, meeting_id, r);
	}
	r->refs++;
	s->room = r;
	DL_APPEND2(r->joining, s, joining_prev, joining_next);
	s->buffering = true;
	snprintf(s->meeting_id, sizeof(s->meeting_id), "%s", meeting_id);
	return HD_OK;
}

// early_drop forgets the events buffered for s and takes it off the
// room's joining list.
static void early_drop(struct gw_room *r, struct gw_session *s)
{
	struct gw_early_event *e = s->early;
	while (e != NULL) {
		struct gw_early_event *next = e->next;
		free(e);
		e = next;
	}
	s->early = NULL;
	s->n_early = 0;
	if (s->buffering)
		DL_DELETE2(r->joining, s, joining_prev, joining_next);
	s->buffering = false;
}

void gw_room_buffer(struct gw_session *s)
{
	if (s->room == NULL || s->buffering)
		return;
	DL_APPEND2(s->room->joining, s, joining_prev, joining_next);
	s->buffering = true;
}

struct gw_session *gw_room_find_member(struct gw_room *room, const char *participant_id)
{
	struct gw_session *m = NULL;
	if (room != NULL)
		HASH_FIND(hh_member, room->members, participant_id, strlen(participant_id), m);
	return m;
}

void gw_room_add_member(struct gw_session *s, const char *participant_id)
{
	struct gw_room *r = s->room;
	struct gw_session *old = gw_room_find_member(r, participant_id);
	if (old != NULL && old != s) {
		HD_INFO("participant %s resumed on session %llu; closing session %llu", participant_id,
			(unsigned long long)s->id, (unsigned long long)old->id);
		old->sfu_used = false; // the participant goes on: no SFU leave for them
		gw_room_detach(old);
		gw_session_close(old, GW_CLOSE_REPLACED, "replaced by a resumed connection");
	}
	if (s->buffering) // its early events stay for gw_room_replay
		DL_DELETE2(r->joining, s, joining_prev, joining_next);
	s->buffering = false;
	snprintf(s->participant_id, sizeof(s->participant_id), "%s", participant_id);
	s->state = GW_SESSION_JOINED;
	HASH_ADD_KEYPTR(hh_member, r->members, s->participant_id, strlen(s->participant_id), s);
}

// roster_forget frees s's join roster and leaves none: a later join's
// roster, or the session's close, must not see the freed one.
static void roster_forget(struct gw_session *s)
{
	free(s->roster_pending);
	s->roster_pending = NULL;
	s->n_roster_pending = 0;
}

void gw_room_detach(struct gw_session *s)
{
	struct gw_room *r = s->room;
	roster_forget(s); // it names participants of the room being left
	if (r == NULL)
		return;
	gw_sfu_left(s, false); // their Janus handles go too
	early_drop(r, s);
	if (s->state == GW_SESSION_JOINED && gw_room_find_member(r, s->participant_id) == s)
		HASH_DELETE(hh_member, r->members, s);
	s->room = NULL;
	s->state = GW_SESSION_CONNECTED;
	s->admission = GW_ADMISSION_NONE;
	s->participant_id[0] = '\0';
	s->meeting_id[0] = '\0';
	if (--r->refs == 0) {
		gw_topics_unwatch(r->meeting_id);
		HASH_DEL(gw.rooms, r);
		free(r);
	}
}

// roster_consume tells whether participant_id came in s's join roster and
// has not been announced since, forgetting it if so.
static bool roster_consume(struct gw_session *s, const char *participant_id)
{
	for (size_t i = 0; i < s->n_roster_pending; i++) {
		if (strcmp(s->roster_pending[i], participant_id) == 0) {
			memcpy(s->roster_pending[i], s->roster_pending[--s->n_roster_pending], HD_ID_LEN + 1);
			return true;
		}
	}
	return false;
}

// room_broadcast sends m, an event about participant `who`, to every member
// but `who` itself; a participant_joined already in a member's join roster
// is not sent to it again.
static void room_broadcast(struct gw_room *r, const Huddle__V1__ServerMessage *m, const char *who)
{
	struct gw_session *s, *tmp;
	bool joined = m->body_case == HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_JOINED;
	HASH_ITER(hh_member, r->members, s, tmp)
	{
		// Waiting sessions get nothing of the call; a session being
		// admitted gets it from its buffer, after its roster.
		if (!gw_session_admitted(s) || s->buffering)
			continue;
		if (strcmp(s->participant_id, who) == 0 || (joined && roster_consume(s, who)))
			continue;
		gw_session_send(s, m);
	}
}

// in_roster tells whether participant_id is one of the n in roster.
static bool in_roster(Huddle__V1__Participant *const *roster, size_t n, const char *participant_id)
{
	for (size_t i = 0; i < n; i++)
		if (roster[i] != NULL && strcmp(roster[i]->id, participant_id) == 0)
			return true;
	return false;
}

// self_updated keeps what a participant_updated about s itself says (its
// role after MAKE_HOST, its hand) and tells the client when either changed.
static void self_updated(struct gw_session *s, const Huddle__V1__ServerMessage *m)
{
	const Huddle__V1__Participant *p = m->participant_updated->participant;
	if (!gw_session_admitted(s) || ((int)p->role == s->role && p->hand_raised_at_ms == s->hand_raised_at_ms))
		return;
	s->role = (int)p->role;
	s->hand_raised_at_ms = p->hand_raised_at_ms;
	gw_session_send(s, m);
}

// self_left_kept tells whether a participant_left about a local session is
// one that leaves it joined for now: REMOVED and ENDED come with a
// moderated or meeting_ended event that tells the client and ends the join.
static bool self_left_kept(const Huddle__V1__RoomEvent *ev)
{
	return ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT &&
	       (ev->participant_left->reason == HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_REMOVED ||
		ev->participant_left->reason == HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_ENDED);
}

void gw_room_deliver_signal(struct gw_session *to, const char *from, Huddle__V1__Signal *signal)
{
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	Huddle__V1__SignalDelivery d = HUDDLE__V1__SIGNAL_DELIVERY__INIT;
	d.from = (char *)from;
	d.signal = signal;
	m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_SIGNAL_DELIVERY;
	m.signal_delivery = &d;
	gw_session_send(to, &m);
}

// event_message fills m with the client-facing form of a membership event
// and returns the participant it is about, or NULL for other events.
static const char *event_message(Huddle__V1__RoomEvent *ev, Huddle__V1__ServerMessage *m)
{
	switch (ev->body_case) {
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED:
		if (ev->participant_joined->participant == NULL)
			return NULL;
		m->body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_JOINED;
		m->participant_joined = ev->participant_joined;
		return ev->participant_joined->participant->id;
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED:
		if (ev->participant_updated->participant == NULL)
			return NULL;
		m->body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_UPDATED;
		m->participant_updated = ev->participant_updated;
		return ev->participant_updated->participant->id;
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT:
		m->body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_LEFT;
		m->participant_left = ev->participant_left;
		return ev->participant_left->participant_id;
	default:
		return NULL;
	}
}

void gw_room_replay(struct gw_session *s, Huddle__V1__Participant *const *roster, size_t n)
{
	if (s->buffering) {
		DL_DELETE2(s->room->joining, s, joining_prev, joining_next);
		s->buffering = false;
	}
	roster_forget(s);
	if (n > 0 && (s->roster_pending = calloc(n, HD_ID_LEN + 1)) != NULL)
		for (size_t i = 0; i < n; i++)
			if (roster[i] != NULL && hd_id_valid(roster[i]->id))
				memcpy(s->roster_pending[s->n_roster_pending++], roster[i]->id, HD_ID_LEN + 1);
	struct gw_early_event *e = s->early;
	s->early = NULL;
	s->n_early = 0;
	while (e != NULL) {
		if (s->state != GW_SESSION_JOINED || s->buffering) {
			// Denied, removed or ended meanwhile: the rest is not for
			// it. Admitted meanwhile: the rest waits for that roster.
			if (s->buffering) {
				s->early = e;
				for (s->n_early = 1, s->early_tail = e; s->early_tail->next != NULL; s->n_early++)
					s->early_tail = s->early_tail->next;
				return;
			}
			while (e != NULL) {
				struct gw_early_event *next = e->next;
				free(e);
				e = next;
			}
			return;
		}
		struct gw_early_event *next = e->next;
		Huddle__V1__RoomEvent *ev = huddle__v1__room_event__unpack(NULL, e->len, e->data);
		free(e);
		e = next;
		if (ev == NULL)
			continue;
		Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
		const char *who = event_message(ev, &m);
		if (gw_access_is_event(ev)) {
			struct gw_session *one[1] = {s};
			if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED &&
			    ev->meeting_updated->meeting != NULL)
				gw_access_meeting_updated(ev->meeting_updated->meeting);
			gw_access_on_event(ev, one, 1);
		} else if (!gw_session_admitted(s)) {
			// the waiting room gets nothing of the call
		} else if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED && who != NULL &&
			   strcmp(who, s->participant_id) == 0) {
			self_updated(s, &m);
		} else if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL) {
			if (ev->signal->signal != NULL && strcmp(ev->signal->to, s->participant_id) == 0)
				gw_room_deliver_signal(s, ev->signal->from, ev->signal->signal);
		} else if (who != NULL && strcmp(who, s->participant_id) != 0) {
			// The roster was read at some point among these events: a
			// join it shows, or a leave of someone it lacks, is old news.
			bool known = in_roster(roster, n, who);
			if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED && known)
				roster_consume(s, who); // announced already, by the roster
			if ((ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED && !known) ||
			    (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT && known) ||
			    ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED)
				gw_session_send(s, &m);
		}
		huddle__v1__room_event__free_unpacked(ev, NULL);
	}
}

// early_keep buffers a copy of an event for every session still joining.
static void early_keep(struct gw_room *r, const uint8_t *data, size_t len)
{
	struct gw_session *s;
	DL_FOREACH2(r->joining, s, joining_next)
	{
		if (s->n_early >= GW_EARLY_EVENTS_MAX) {
			HD_WARN("session %llu: over %d events while joining; dropping", (unsigned long long)s->id,
				GW_EARLY_EVENTS_MAX);
			continue;
		}
		struct gw_early_event *e = malloc(sizeof(*e) + len);
		if (e == NULL)
			continue;
		e->next = NULL;
		e->len = len;
		memcpy(e->data, data, len);
		*(s->n_early == 0 ? &s->early : &s->early_tail->next) = e;
		s->early_tail = e;
		s->n_early++;
	}
}

// room_access_event hands an access event to the room's members that are
// not buffering (those get it replayed). A member may leave the room on it,
// so the list is taken first and r is not used after.
static void room_access_event(struct gw_room *r, const Huddle__V1__RoomEvent *ev)
{
	struct gw_session *s, *tmp, **list;
	size_t n = 0;
	if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED && ev->meeting_updated->meeting != NULL)
		gw_access_meeting_updated(ev->meeting_updated->meeting);
	if ((list = calloc(HASH_CNT(hh_member, r->members) + 1, sizeof(*list))) == NULL) {
		HD_ERROR("room %s: no memory to deliver an event", r->meeting_id);
		return;
	}
	HASH_ITER(hh_member, r->members, s, tmp)
	{
		if (!s->buffering)
			list[n++] = s;
	}
	gw_access_on_event(ev, list, n);
	free(list);
}

void gw_room_on_event(const uint8_t *data, size_t len)
{
	Huddle__V1__RoomEvent *ev = huddle__v1__room_event__unpack(NULL, len, data);
	if (ev == NULL) {
		HD_WARN("malformed room event (%zu bytes) dropped", len);
		return;
	}
	struct gw_room *r = room_find(ev->meeting_id);
	if (r == NULL) {
		// Watched for a chat or notes room only: who may read them.
		if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED &&
		    ev->meeting_updated->meeting != NULL)
			gw_access_meeting_updated(ev->meeting_updated->meeting);
		goto done;
	}
	if (r->joining != NULL)
		early_keep(r, data, len);
	if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL) {
		struct gw_session *to = gw_room_find_member(r, ev->signal->to);
		if (to != NULL && gw_session_admitted(to) && !to->buffering && ev->signal->signal != NULL)
			gw_room_deliver_signal(to, ev->signal->from, ev->signal->signal);
		goto done; // or held by another gateway, or not for the waiting room
	}
	if (gw_access_is_event(ev)) {
		room_access_event(r, ev);
		goto done;
	}
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	const char *who = event_message(ev, &m);
	if (who == NULL) {
		HD_DEBUG("room event of kind %d ignored", ev->body_case);
		goto done;
	}
	struct gw_session *subject = gw_room_find_member(r, who);
	if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED && subject != NULL && !subject->buffering)
		self_updated(subject, &m);
	if (ev->body_case == HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT && subject != NULL && !subject->buffering &&
	    !self_left_kept(ev)) {
		// Our own session lost its presence (expired while its
		// connection lived): make the client join again.
		gw_room_detach(subject);
		gw_session_close(subject, GW_CLOSE_PRESENCE_LOST, "presence expired");
		if ((r = room_find(ev->meeting_id)) == NULL)
			goto done;
	}
	room_broadcast(r, &m, who);
done:
	huddle__v1__room_event__free_unpacked(ev, NULL);
}

void gw_room_count(size_t *rooms, size_t *members)
{
	struct gw_room *r, *tmp;
	size_t n = 0;
	HASH_ITER(hh, gw.rooms, r, tmp)
	n += HASH_CNT(hh_member, r->members);
	*rooms = HASH_CNT(hh, gw.rooms);
	*members = n;
}
