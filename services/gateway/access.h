// access.h: hosts and access on the WebSocket side (docs: /work/spec
// access.md "Gateway enforcement"): what a waiting session may do, the host
// and participant requests (admit, moderate, set_access, end_meeting, hand,
// reaction), the room events of issue 11 (admission, waiting room,
// moderation, meeting updates and ends, reactions), the JoinReply of an
// admitted or waiting participant, and who may read a meeting's chat and
// notes. Service thread only.
#ifndef GW_ACCESS_H
#define GW_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/gateway.h"
#include "huddle/v1/client.pb-c.h"
#include "huddle/v1/events.pb-c.h"

struct gw_session;

#define GW_WAITING_MESSAGE "waiting for a host to let you in"
#define GW_ADMIT_IDS_MAX 256 // participant ids in one admit request
#define GW_CLIENT_KEY_MAX 64 // bytes of a JoinRequest's client_key, [A-Za-z0-9_-]
#define GW_HOST_KEY_MAX 128  // bytes of a host or space key accepted at all (keys are HD_KEY_LEN)

// gw_access_gate tells whether s may make request cm now. A session in the
// waiting room (or being admitted) may only leave and ping: anything else is
// answered FORBIDDEN "waiting for a host to let you in". Chat and notes
// requests of a subscription to a meeting that is not OPEN need s admitted
// in that meeting (FORBIDDEN). Returns false when it answered.
bool gw_access_gate(struct gw_session *s, const Huddle__V1__ClientMessage *cm);

// gw_access_client_key_valid tells whether key (NUL-terminated) is a
// client_key: 1..GW_CLIENT_KEY_MAX bytes of [A-Za-z0-9_-].
bool gw_access_client_key_valid(const char *key);

// gw_access_join_reply keeps what the registry's join reply r says about s
// (role, admission, meeting, resume token, name) and answers request_id:
// an admitted participant gets the roster (r's participants), ICE servers
// and a recording token; a waiting one gets none of them.
void gw_access_join_reply(struct gw_session *s, uint32_t request_id, const Huddle__V1__RegistryJoinReply *r);

// The client requests of hosts (admit, moderate, set_access, end_meeting)
// and of every admitted participant (hand, reaction); cm borrowed. Each is
// answered by its reply or an Error: NOT_JOINED, BAD_REQUEST, RATE_LIMITED
// (reaction, REACTION_RATE), the registry's FORBIDDEN /
// UNKNOWN_PARTICIPANT / ..., UNAVAILABLE / TIMEOUT.
void gw_access_op_admit(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_access_op_moderate(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_access_op_set_access(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_access_op_end_meeting(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_access_op_hand(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_access_op_reaction(struct gw_session *s, Huddle__V1__ClientMessage *cm);

// gw_access_on_reply finishes a call of op GW_OP_ADMIT ... GW_OP_ADMIT_ROSTER
// with the registry's reply (NULL on transport error err; borrowed).
void gw_access_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r);

// gw_access_is_event tells whether ev is one of the events this file
// delivers (admission, waiting_changed, moderated, meeting_updated,
// meeting_ended, reaction, watch_state: see watch.h).
bool gw_access_is_event(const Huddle__V1__RoomEvent *ev);

// gw_access_on_event delivers such an event to each of the n sessions (the
// room's members that are not buffering; borrowed) it concerns. A session
// may leave its room here (denied, removed, ended), so the room may be gone
// after the call.
void gw_access_on_event(const Huddle__V1__RoomEvent *ev, struct gw_session **sessions, size_t n);

// gw_access_meeting_updated records a meeting's new access mode on every
// session of this gateway that subscribes to its chat or notes.
void gw_access_meeting_updated(const Huddle__V1__Meeting *m);

// gw_access_waiting returns the number of sessions in a waiting room (or
// being admitted) on this gateway.
size_t gw_access_waiting(void);

#endif
