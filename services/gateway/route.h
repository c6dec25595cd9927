// route.h: who takes the reply to each registry, huddle-chat, huddle-notes or huddle-recording call: one
// entry per enum gw_op, so where an op sits in the enum means nothing.
// Service thread only.
#ifndef GW_ROUTE_H
#define GW_ROUTE_H

#include <nng/nng.h>

#include "gateway/gateway.h"

// gw_route_registry_fn, gw_route_chat_fn and gw_route_notes_fn take a
// call's reply: r is the decoded reply (borrowed; NULL when err != HD_OK), p
// the call's pending record (borrowed).
typedef void gw_route_registry_fn(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r);
typedef void gw_route_chat_fn(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *r);
typedef void gw_route_notes_fn(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r);
typedef void gw_route_recording_fn(const struct gw_pending *p, hd_err err, Huddle__V1__RecordingReply *r);
typedef void gw_route_media_fn(const struct gw_pending *p, hd_err err, Huddle__V1__MediaReply *r);

// gw_route is an op's entry: exactly one handler is set, and it also names
// the service the op's calls go to.
struct gw_route {
	gw_route_registry_fn *registry;   // the op is a registry call (gw_registry_call)
	gw_route_chat_fn *chat;           // the op is a huddle-chat call (gw_chat_call)
	gw_route_notes_fn *notes;         // the op is a huddle-notes call (gw_notes_call)
	gw_route_recording_fn *recording; // the op is a huddle-recording call (gw_recording_call)
	gw_route_media_fn *media;         // the op is a huddle-media call (gw_media_call)
};

// gw_route_of returns op's entry, or NULL for a value that is no gw_op.
const struct gw_route *gw_route_of(enum gw_op op);

// gw_route_registry_reply, _chat_reply, _notes_reply, _recording_reply and _media_reply decode a reply to the call
// p describes and hand it to the op's handler. msg is the packed reply, NULL
// when err != HD_OK; an undecodable one reaches the handler as HD_EINTERNAL.
// p and msg are borrowed. A reply from the service the op does not call is
// logged and dropped.
void gw_route_registry_reply(const struct gw_pending *p, hd_err err, nng_msg *msg);
void gw_route_chat_reply(const struct gw_pending *p, hd_err err, nng_msg *msg);
void gw_route_notes_reply(const struct gw_pending *p, hd_err err, nng_msg *msg);
void gw_route_recording_reply(const struct gw_pending *p, hd_err err, nng_msg *msg);
void gw_route_media_reply(const struct gw_pending *p, hd_err err, nng_msg *msg);

#endif
