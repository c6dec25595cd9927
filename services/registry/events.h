// events.h: room events on the registry's PUB socket
// (proto/huddle/v1/events.proto). Each is published under the meeting id as
// topic (hd_pub_send adds the NUL) with RoomEvent.meeting_id set, so a
// gateway subscribes to exactly the meetings it holds sessions of.
//
// A lost event is logged, not returned: presence has already changed in
// Redis by then, and heartbeats' `gone` lists let gateways catch up. All
// arguments are borrowed. Thread-safe (NNG sockets are).
#ifndef REG_EVENTS_H
#define REG_EVENTS_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stddef.h>

#include "huddle/v1/client.pb-c.h"
#include "huddle/v1/events.pb-c.h"

// reg_event_joined publishes participant_joined: a participant is in the
// call (joined admitted, or admitted from the waiting room; not for a resume).
void reg_event_joined(nng_socket pub, const char *meeting_id, Huddle__V1__Participant *p);

// reg_event_updated publishes participant_updated (media, role or hand changed).
void reg_event_updated(nng_socket pub, const char *meeting_id, Huddle__V1__Participant *p);

// reg_event_left publishes participant_left (LEFT, TIMED_OUT, REMOVED, ENDED).
void reg_event_left(nng_socket pub, const char *meeting_id, const char *participant_id, Huddle__V1__LeaveReason reason);

// reg_event_signal publishes SignalRelayed for the gateway holding `to`.
void reg_event_signal(nng_socket pub, const char *meeting_id, const char *from, const char *to,
		      Huddle__V1__Signal *signal);

// reg_event_admission publishes admission (ADMITTED or DENIED) for the
// gateway holding participant_id.
void reg_event_admission(nng_socket pub, const char *meeting_id, const char *participant_id,
			 Huddle__V1__AdmissionState state);

// reg_event_waiting publishes waiting_changed: the whole waiting room (n
// entries, ordered by waiting_since_ms) and whether a host is present.
void reg_event_waiting(nng_socket pub, const char *meeting_id, Huddle__V1__WaitingParticipant **waiting, size_t n,
		       bool host_present);

// reg_event_moderated publishes moderated: host by_participant_id ("" for a
// host key) named by_name ("" likewise) did action to participant_id.
void reg_event_moderated(nng_socket pub, const char *meeting_id, const char *participant_id,
			 Huddle__V1__ModerationAction action, const char *by_participant_id, const char *by_name);

// reg_event_meeting_updated publishes meeting_updated (access mode changed).
void reg_event_meeting_updated(nng_socket pub, Huddle__V1__Meeting *meeting);

// reg_event_meeting_ended publishes meeting_ended (by_name "" for a host key).
void reg_event_meeting_ended(nng_socket pub, const char *meeting_id, const char *by_name);

// reg_event_reaction publishes a reaction of participant_id.
void reg_event_reaction(nng_socket pub, const char *meeting_id, const char *participant_id, const char *emoji);

// reg_event_watch publishes the meeting's shared player after a change (state borrowed).
void reg_event_watch(nng_socket pub, const char *meeting_id, Huddle__V1__WatchState *state);

#endif
