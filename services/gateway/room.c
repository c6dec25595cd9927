// room.c: local rooms, membership and delivery of room events.
#include "gateway/room.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gateway/gateway.h"
#include "gateway/session.h"
#include "huddle/v1/events.pb-c.h"

#define GW_CLOSE_PRESENCE_LOST 4000
#define GW_CLOSE_REPLACED 4001

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
		if (hd_sub_subscribe(gw.events, r->meeting_id) != HD_OK) {
			free(r);
			return HD_ENOMEM;
		}
		HASH_ADD_STR(gw.rooms, meeting_id, r);
	}
	r->refs++;
	s->room = r;
	snprintf(s->meeting_id, sizeof(s->meeting_id), "%s", meeting_id);
	return HD_OK;
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
		gw_room_detach(old);
		gw_session_close(old, GW_CLOSE_REPLACED, "replaced by a resumed connection");
	}
	snprintf(s->participant_id, sizeof(s->participant_id), "%s", participant_id);
	s->state = GW_SESSION_JOINED;
	HASH_ADD_KEYPTR(hh_member, r->members, s->participant_id, strlen(s->participant_id), s);
}

void gw_room_detach(struct gw_session *s)
{
	struct gw_room *r = s->room;
	if (r == NULL)
		return;
	if (s->state == GW_SESSION_JOINED && gw_room_find_member(r, s->participant_id) == s)
		HASH_DELETE(hh_member, r->members, s);
	s->room = NULL;
	s->state = GW_SESSION_CONNECTED;
	s->participant_id[0] = '\0';
	s->meeting_id[0] = '\0';
	if (--r->refs == 0) {
		if (gw.events != NULL) // NULL while shutting down
			hd_sub_unsubscribe(gw.events, r->meeting_id);
		HASH_DEL(gw.rooms, r);
		free(r);
	}
}

// room_broadcast sends m to every member but the one named `except`.
static void room_broadcast(struct gw_room *r, const Huddle__V1__ServerMessage *m, const char *except)
{
	struct gw_session *s, *tmp;
	HASH_ITER(hh_member, r->members, s, tmp)
	{
		if (except == NULL || strcmp(s->participant_id, except) != 0)
			gw_session_send(s, m);
	}
}

void gw_room_on_event(const uint8_t *data, size_t len)
{
	Huddle__V1__RoomEvent *ev = huddle__v1__room_event__unpack(NULL, len, data);
	if (ev == NULL) {
		HD_WARN("malformed room event (%zu bytes) dropped", len);
		return;
	}
	struct gw_room *r = room_find(ev->meeting_id);
	if (r == NULL)
		goto done;
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	switch (ev->body_case) {
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED:
		if (ev->participant_joined->participant == NULL)
			break;
		m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_JOINED;
		m.participant_joined = ev->participant_joined;
		room_broadcast(r, &m, ev->participant_joined->participant->id);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED:
		if (ev->participant_updated->participant == NULL)
			break;
		m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_UPDATED;
		m.participant_updated = ev->participant_updated;
		room_broadcast(r, &m, ev->participant_updated->participant->id);
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT: {
		const char *who = ev->participant_left->participant_id;
		struct gw_session *subject = gw_room_find_member(r, who);
		m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_PARTICIPANT_LEFT;
		m.participant_left = ev->participant_left;
		if (subject != NULL) {
			// Our own session lost its presence (expired while its
			// connection lived): make the client join again.
			gw_room_detach(subject);
			gw_session_close(subject, GW_CLOSE_PRESENCE_LOST, "presence expired");
			r = room_find(ev->meeting_id);
			if (r == NULL)
				break;
		}
		room_broadcast(r, &m, who);
		break;
	}
	case HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL: {
		Huddle__V1__SignalRelayed *sig = ev->signal;
		struct gw_session *to = gw_room_find_member(r, sig->to);
		if (to == NULL || sig->signal == NULL)
			break; // held by another gateway
		Huddle__V1__SignalDelivery d = HUDDLE__V1__SIGNAL_DELIVERY__INIT;
		d.from = sig->from;
		d.signal = sig->signal;
		m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_SIGNAL_DELIVERY;
		m.signal_delivery = &d;
		gw_session_send(to, &m);
		break;
	}
	default:
		HD_DEBUG("room event of unknown kind %d ignored", ev->body_case);
		break;
	}
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
