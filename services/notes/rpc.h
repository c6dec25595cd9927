// rpc.h: huddle-notes' REQ/REP calls (proto/huddle/v1/notes.proto).
#ifndef NOTES_RPC_H
#define NOTES_RPC_H

#include <nng/nng.h>

// notes_rpc_handle is the hd_rpc_handler of huddle-notes: it serves one
// packed NotesRequest on a REP worker thread, with worker_state that
// worker's struct notes_ctx, and returns the packed NotesReply (the
// caller's). The reply echoes request_id and carries Error{code, message} on
// failure, the message naming the field at fault and, for a limit, the limit
// (BAD_REQUEST, TOO_LARGE; UNAVAILABLE when the store fails). Bytes that do
// not decode get MALFORMED with request_id 0, a request without a known body
// UNKNOWN_TYPE. An append or a snapshot blocks until the writer has stored
// it; an awareness update is published, never stored. Every reply fits
// HD_RPC_MSG_MAX: an open stops adding updates where the next would not fit
// (more = true). Returns NULL only when even an error reply cannot be
// allocated (the client then times out). msg is borrowed.
nng_msg *notes_rpc_handle(void *worker_state, nng_msg *msg);

#endif
