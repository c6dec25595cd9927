// rpc.h: huddle-registry's REQ/REP calls (proto/huddle/v1/registry.proto).
#ifndef REG_RPC_H
#define REG_RPC_H

#include <nng/nng.h>

// reg_rpc_handle is the hd_rpc_handler of the registry: it serves one packed
// RegistryRequest on a REP worker thread, with worker_state that worker's
// struct reg_ctx, and returns the packed RegistryReply (the caller's). The
// reply echoes request_id and carries Error{code, message} on failure; bytes
// that do not decode get MALFORMED with request_id 0, a request without a
// known body UNKNOWN_TYPE. Returns NULL only when even an error reply cannot
// be allocated (the client then times out). msg is borrowed.
nng_msg *reg_rpc_handle(void *worker_state, nng_msg *msg);

#endif
