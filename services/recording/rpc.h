// rpc.h: huddle-recording's REQ/REP calls (proto/huddle/v1/recording.proto).
#ifndef RECORDING_RPC_H
#define RECORDING_RPC_H

#include <nng/nng.h>

// rec_rpc_handle is the hd_rpc_handler of huddle-recording: it serves one
// packed RecordingRequest on a REP worker thread, with worker_state that
// worker's struct rec_ctx, and returns the packed RecordingReply (the
// caller's). The reply echoes request_id and carries Error{code, message}
// on failure, the message naming the field or the setting at fault:
// BAD_REQUEST (a field; a chunk or finish by someone other than the
// recorder; a new chunk once the recording is no longer RECORDING; a read
// before it is READY), TOO_LARGE (a chunk over 4 MiB, over
// RECORDING_QUOTA_MB or past RECORDING_MAX_MINUTES; a create in a meeting
// whose quota is used up), UNKNOWN_MEETING (no recording with that id in
// that meeting: the not-found code), UNAVAILABLE (the store or the disk
// failed, or the disk is nearly full). A chunk is on disk (fsync, rename)
// and noted in the store before its reply. Bytes that do not decode get
// MALFORMED with request_id 0, a request without a known body UNKNOWN_TYPE.
// Returns NULL only when even an error reply cannot be allocated. msg is
// borrowed.
nng_msg *rec_rpc_handle(void *worker_state, nng_msg *msg);

#endif
