// room.h: the meetings that have sessions on this gateway, their local
// members, and the room events delivered to them. Service thread only.
#ifndef GW_ROOM_H
#define GW_ROOM_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "common/util.h"
#include "huddle/v1/common.pb-c.h"

struct gw_session;

// gw_room is one meeting with local sessions; while it exists the gateway
// is subscribed to the meeting's events.
struct gw_room {
	char meeting_id[HD_ID_LEN + 1];
	struct gw_session *members; // joined sessions, by participant id
	struct gw_session *joining; // sessions waiting for the registry's join reply
	unsigned refs;              // joining + joined sessions
	UT_hash_handle hh;
};

// gw_room_attach puts s (state JOINING) in the room of meeting_id, creating
// the room and subscribing to its events first; events arriving before the
// registry's reply are buffered for s (see gw_room_replay). Returns HD_OK or
// HD_ENOMEM.
hd_err gw_room_attach(struct gw_session *s, const char *meeting_id);

// gw_room_add_member makes the attached s a member under participant_id. A
// local session that held the same participant (a resume on this gateway)
// is detached and closed (4001 "replaced").
void gw_room_add_member(struct gw_session *s, const char *participant_id);

// gw_room_replay delivers to the just-joined s the room events buffered
// while it was joining, leaving out what its roster (the n participants of
// the join reply) already reflects. Frees the buffer, and keeps the roster
// (replacing an earlier join's) to suppress late participant_joined events.
void gw_room_replay(struct gw_session *s, Huddle__V1__Participant *const *roster, size_t n);

// gw_room_buffer makes the member s keep the room's events in its early
// buffer again (a host admitted it and its roster is being read);
// gw_room_replay delivers them after that roster.
void gw_room_buffer(struct gw_session *s);

// gw_room_detach takes s out of its room (member or joining); the last one
// out frees the room and unsubscribes. Forgets s's join roster. No registry
// call is made.
void gw_room_detach(struct gw_session *s);

// gw_room_find_member returns the joined local session of participant_id in
// room, or NULL.
struct gw_session *gw_room_find_member(struct gw_room *room, const char *participant_id);

// gw_room_deliver_signal queues a signal_delivery from `from` to the joined
// session `to` (borrowing signal).
void gw_room_deliver_signal(struct gw_session *to, const char *from, Huddle__V1__Signal *signal);

// gw_room_on_event delivers a packed RoomEvent from the bus to the local
// members it concerns. Malformed events are logged and dropped.
void gw_room_on_event(const uint8_t *data, size_t len);

// gw_room_count returns the number of rooms and of joined members.
void gw_room_count(size_t *rooms, size_t *members);

#endif
