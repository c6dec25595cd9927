// notes_ops.h: a subscribed session's requests about its meeting's shared
// documents (notes.h holds the subscription): each is forwarded to
// huddle-notes and its reply mapped to the ServerMessage reply. Service
// thread only.
#ifndef GW_NOTES_OPS_H
#define GW_NOTES_OPS_H

#include "gateway/gateway.h"
#include "huddle/v1/client.pb-c.h"

#define GW_NOTES_AWARENESS_MAX 16384 // bytes of one awareness update (notes.proto)
// GW_NOTES_SNAPSHOT_RESERVE: a snapshot's state and text together stay this
// far under HD_WS_MESSAGE_MAX, so that an open or version reply carrying it
// still fits one browser-protocol message.
#define GW_NOTES_SNAPSHOT_RESERVE 4096

struct gw_session;

// gw_notes_op_open, _update, _awareness, _snapshot, _versions and _version
// serve a client's notes_* request (cm borrowed). Every outcome is a reply
// or an Error naming cm->request_id: NOT_JOINED (before the subscription),
// BAD_REQUEST (an unknown document kind, an empty update or awareness),
// TOO_LARGE (an update over 256 KiB, awareness over 16 KiB, a snapshot too
// large to be read back in one message), RATE_LIMITED (over
// NOTES_UPDATE_RATE or NOTES_AWARENESS_RATE), huddle-notes' own validation
// errors, UNAVAILABLE / TIMEOUT when huddle-notes cannot answer. An update
// carries author_id = the participant id when the connection is in the
// meeting's call, else ""; awareness carries the connection's origin, so
// its event is not echoed back.
void gw_notes_op_open(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_notes_op_update(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_notes_op_awareness(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_notes_op_snapshot(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_notes_op_versions(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_notes_op_version(struct gw_session *s, Huddle__V1__ClientMessage *cm);

// gw_notes_op_on_reply answers the session's request of op GW_OP_NOTES_OPEN
// ... _VERSION with huddle-notes' reply (r NULL on transport error err;
// borrowed). An open reply carries the snapshot and as many updates as fit
// HD_WS_MESSAGE_MAX (more = true when some were left for the next open).
void gw_notes_op_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r);

#endif
