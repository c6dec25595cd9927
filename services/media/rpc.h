// rpc.h: huddle-media's REQ/REP calls (proto/huddle/v1/media.proto).
#ifndef MEDIA_RPC_H
#define MEDIA_RPC_H

#include <nng/nng.h>

#include "media/janus.h"
#include "media/rooms.h"
#include "media/sfu.h"

// MEDIA_CLEANUP_ACTIVE_MAX is the most meeting ids one cleanup request may
// name as still active.
#define MEDIA_CLEANUP_ACTIVE_MAX 65536

// media_ctx is one REP worker's view of huddle-media: the room operations
// (shared, thread-safe) and this worker's message buffer. Owned by main (or
// a test).
struct media_ctx {
	const struct media_rooms *rooms;
	struct media_sfu *sfu;         // participants' handles (shared, thread-safe)
	char why[MEDIA_JANUS_WHY_MAX]; // the reason of the last failure, for its reply
};

// media_rpc_handle is the hd_rpc_handler of huddle-media: it serves one
// packed MediaRequest on a REP worker thread (worker_state a struct
// media_ctx) and returns the packed MediaReply (the caller's). Ids that are
// not HD_ID_LEN base64url characters get BAD_REQUEST naming the field;
// Janus not connected UNAVAILABLE; no answer in time TIMEOUT; Janus refusing
// INTERNAL with its reason; allow on a room that does not exist
// UNKNOWN_MEETING. revoke, destroy_room and cleanup also detach the
// participants' handles (media_sfu_forget). sfu (a participant's JSEP, sfu.h): checked by
// media_sfu_check (SDP over MEDIA_SDP_MAX: BAD_REQUEST), then errors as
// media_sfu_handle (FORBIDDEN for a participant not allowed,
// UNKNOWN_MEETING for a meeting without a room). Bytes that do not decode
// get MALFORMED, an unknown body UNKNOWN_TYPE. Returns NULL only when even an error reply cannot be
// allocated. msg is borrowed.
nng_msg *media_rpc_handle(void *worker_state, nng_msg *msg);

#endif
