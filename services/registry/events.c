// events.c: packs RoomEvents and publishes them under their meeting id.
#include "registry/events.h"

#include <stdlib.h>

#include "common/log.h"
#include "common/rpc.h"

static void publish(nng_socket pub, const Huddle__V1__RoomEvent *ev)
{
	size_t len = huddle__v1__room_event__get_packed_size(ev);
	uint8_t *buf = malloc(len > 0 ? len : 1);
	hd_err err = HD_ENOMEM;
	if (buf != NULL) {
		huddle__v1__room_event__pack(ev, buf);
		err = hd_pub_send(pub, ev->meeting_id, buf, len);
		free(buf);
	}
	if (err != HD_OK)
		HD_WARN("room event %d for meeting %s not published: %s", (int)ev->body_case, ev->meeting_id,
			hd_strerror(err));
}

void reg_event_joined(nng_socket pub, const char *meeting_id, Huddle__V1__Participant *p)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__ParticipantJoined j = HUDDLE__V1__PARTICIPANT_JOINED__INIT;
	j.participant = p;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED;
	ev.participant_joined = &j;
	publish(pub, &ev);
}

void reg_event_updated(nng_socket pub, const char *meeting_id, Huddle__V1__Participant *p)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__ParticipantUpdated u = HUDDLE__V1__PARTICIPANT_UPDATED__INIT;
	u.participant = p;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED;
	ev.participant_updated = &u;
	publish(pub, &ev);
}

void reg_event_left(nng_socket pub, const char *meeting_id, const char *participant_id, Huddle__V1__LeaveReason reason)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__ParticipantLeft left = HUDDLE__V1__PARTICIPANT_LEFT__INIT;
	left.participant_id = (char *)participant_id;
	left.reason = reason;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT;
	ev.participant_left = &left;
	publish(pub, &ev);
}

void reg_event_signal(nng_socket pub, const char *meeting_id, const char *from, const char *to,
		      Huddle__V1__Signal *signal)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__SignalRelayed sig = HUDDLE__V1__SIGNAL_RELAYED__INIT;
	sig.from = (char *)from;
	sig.to = (char *)to;
	sig.signal = signal;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL;
	ev.signal = &sig;
	publish(pub, &ev);
}

void reg_event_admission(nng_socket pub, const char *meeting_id, const char *participant_id,
			 Huddle__V1__AdmissionState state)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__Admission a = HUDDLE__V1__ADMISSION__INIT;
	a.participant_id = (char *)participant_id;
	a.state = state;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_ADMISSION;
	ev.admission = &a;
	publish(pub, &ev);
}

void reg_event_waiting(nng_socket pub, const char *meeting_id, Huddle__V1__WaitingParticipant **waiting, size_t n,
		       bool host_present)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__WaitingChanged w = HUDDLE__V1__WAITING_CHANGED__INIT;
	w.waiting = waiting;
	w.n_waiting = n;
	w.host_present = host_present;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_WAITING_CHANGED;
	ev.waiting_changed = &w;
	publish(pub, &ev);
}

void reg_event_moderated(nng_socket pub, const char *meeting_id, const char *participant_id,
			 Huddle__V1__ModerationAction action, const char *by_participant_id, const char *by_name)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__Moderated m = HUDDLE__V1__MODERATED__INIT;
	m.participant_id = (char *)participant_id;
	m.action = action;
	m.by_participant_id = (char *)by_participant_id;
	m.by_name = (char *)by_name;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_MODERATED;
	ev.moderated = &m;
	publish(pub, &ev);
}

void reg_event_meeting_updated(nng_socket pub, Huddle__V1__Meeting *meeting)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__MeetingUpdated u = HUDDLE__V1__MEETING_UPDATED__INIT;
	u.meeting = meeting;
	ev.meeting_id = meeting->id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED;
	ev.meeting_updated = &u;
	publish(pub, &ev);
}

void reg_event_meeting_ended(nng_socket pub, const char *meeting_id, const char *by_name)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__MeetingEnded e = HUDDLE__V1__MEETING_ENDED__INIT;
	e.by_name = (char *)by_name;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_MEETING_ENDED;
	ev.meeting_ended = &e;
	publish(pub, &ev);
}

void reg_event_reaction(nng_socket pub, const char *meeting_id, const char *participant_id, const char *emoji)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__ReactionEvent r = HUDDLE__V1__REACTION_EVENT__INIT;
	r.participant_id = (char *)participant_id;
	r.emoji = (char *)emoji;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_REACTION;
	ev.reaction = &r;
	publish(pub, &ev);
}

void reg_event_watch(nng_socket pub, const char *meeting_id, Huddle__V1__WatchState *state)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__WatchStateEvent w = HUDDLE__V1__WATCH_STATE_EVENT__INIT;
	w.state = state;
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_WATCH_STATE;
	ev.watch_state = &w;
	publish(pub, &ev);
}
