// notes.h: the gateway's side of a meeting's shared documents (the notes
// and the code pad; proto/huddle/v1/notes.proto). A notes room is a meeting
// whose documents some sessions of this gateway subscribe to (joined to the
// call or not). Per document it delivers huddle-notes' stored updates
// strictly in seq order, each once, reading what the event bus lost back
// with Open(after_seq) (gaps, an update's overdue event, a reconnected bus);
// it relays awareness to every subscriber but the connection it came from,
// and tells of new versions. Service thread only.
#ifndef GW_NOTES_H
#define GW_NOTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"
#include "huddle/v1/client.pb-c.h"

struct gw_session;

// gw_notes_start starts the notes timer (missed-event checks, every 100 ms)
// on gw.ctx; gw_notes_stop cancels it (before lws_context_destroy).
void gw_notes_start(void);
void gw_notes_stop(void);

// gw_notes_op_subscribe serves a client's notes_subscribe (cm borrowed):
// the reply, or an Error naming cm->request_id: UNKNOWN_MEETING,
// BAD_REQUEST (another meeting's documents on this connection, or a
// subscription in progress), UNAVAILABLE / TIMEOUT when the registry or
// huddle-notes cannot answer. notes_ops.h serves the other requests.
void gw_notes_op_subscribe(struct gw_session *s, Huddle__V1__ClientMessage *cm);

// gw_notes_on_meeting continues a notes_subscribe with the registry's
// GetMeeting reply (r NULL on transport error err).
void gw_notes_on_meeting(struct gw_session *s, const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r);

// gw_notes_on_reply finishes a room's huddle-notes call, of op
// GW_OP_NOTES_INIT or _FILL (r NULL on transport error err; borrowed).
void gw_notes_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r);

// gw_notes_expect tells the room of meeting_id (if this gateway has one)
// that huddle-notes acknowledged seq of document kind: when its event has
// not come within a grace period, the room reads it back.
void gw_notes_expect(const char *meeting_id, uint32_t kind, int64_t seq);

// gw_notes_kind_valid tells whether kind is a DocumentKind a meeting has
// (notes or code).
bool gw_notes_kind_valid(uint32_t kind);

// gw_notes_on_event takes a packed NotesEvent from huddle-notes' bus.
// Malformed events are logged and dropped.
void gw_notes_on_event(const uint8_t *data, size_t len);

// gw_notes_detach takes s out of its notes room (if any); the last one out
// frees the room and unsubscribes its topic.
void gw_notes_detach(struct gw_session *s);

// gw_notes_failed tells how a huddle-notes call ended: HD_OK when r is a
// reply with body `want` and no error; otherwise the error code for the
// client (TIMEOUT, UNAVAILABLE, huddle-notes' own code, or INTERNAL for a bad
// reply), with *message set to a static or r-owned description.
hd_err gw_notes_failed(hd_err err, const Huddle__V1__NotesReply *r, Huddle__V1__NotesReply__BodyCase want,
		       const char **message);

// gw_notes_count returns the number of notes rooms and of subscribed
// sessions.
void gw_notes_count(size_t *rooms, size_t *subscribers);

#endif
