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

#include "huddle/v1/events.pb-c.h"

// reg_event_joined publishes participant_joined (not sent for a resume).
void reg_event_joined(nng_socket pub, const char *meeting_id, Huddle__V1__Participant *p);

// reg_event_updated publishes participant_updated (media state changed).
void reg_event_updated(nng_socket pub, const char *meeting_id, Huddle__V1__Participant *p);

// reg_event_left publishes participant_left with reason LEFT or TIMED_OUT.
void reg_event_left(nng_socket pub, const char *meeting_id, const char *participant_id, Huddle__V1__LeaveReason reason);

// reg_event_signal publishes SignalRelayed for the gateway holding `to`.
void reg_event_signal(nng_socket pub, const char *meeting_id, const char *from, const char *to,
		      Huddle__V1__Signal *signal);

#endif
