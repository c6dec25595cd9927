// rpc.h: huddle-chat's REQ/REP calls (proto/huddle/v1/chat.proto).
#ifndef CHAT_RPC_H
#define CHAT_RPC_H

#include <nng/nng.h>

// chat_rpc_handle is the hd_rpc_handler of huddle-chat: it serves one packed
// ChatRequest on a REP worker thread, with worker_state that worker's struct
// chat_ctx, and returns the packed ChatReply (the caller's). The reply echoes
// request_id and carries Error{code, message} on failure, the message naming
// the field at fault (BAD_REQUEST, TOO_LARGE; UNAVAILABLE when the store
// fails). Bytes that do not decode get MALFORMED with request_id 0, a request
// without a known body UNKNOWN_TYPE. A post blocks until its batch is
// durable. Returns NULL only when even an error reply cannot be allocated
// (the client then times out). msg is borrowed.
nng_msg *chat_rpc_handle(void *worker_state, nng_msg *msg);

#endif
