// rpc.h: what the daemon harnesses share: a private folder on tmpfs, and
// serving one request through a daemon's real hd_rpc_handler as a REP
// worker does, checking the reply it returns.
#ifndef FUZZ_RPC_H
#define FUZZ_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rpc.h"

// fz_tmpdir makes a new folder for this process's store and files (on
// /dev/shm when there is one: fsync is then cheap) and returns it (static).
static inline const char *fz_tmpdir(const char *name)
{
	static char dir[128];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/huddle-fuzz-%s-XXXXXX", base, name);
	if (mkdtemp(dir) == NULL)
		abort();
	return dir;
}

// fz_rpc_serve hands data (a request's bytes) to handler with state, as a
// REP worker would, and checks the reply: it must decode as reply_desc
// and, when the request decoded, echo its request_id (field 1 of both).
// Returns the decoded reply (the caller frees it with
// protobuf_c_message_free_unpacked) or NULL when the handler returned none.
static inline ProtobufCMessage *fz_rpc_serve(hd_rpc_handler handler, void *state,
					     const ProtobufCMessageDescriptor *req_desc,
					     const ProtobufCMessageDescriptor *reply_desc, const uint8_t *data,
					     size_t len)
{
	nng_msg *msg;
	if (nng_msg_alloc(&msg, 0) != 0 || nng_msg_append(msg, data, len) != 0)
		abort();
	nng_msg *reply = handler(state, msg);
	nng_msg_free(msg);
	if (reply == NULL)
		return NULL; // only when even an error reply cannot be allocated
	ProtobufCMessage *r = protobuf_c_message_unpack(reply_desc, NULL, nng_msg_len(reply), nng_msg_body(reply));
	nng_msg_free(reply);
	if (r == NULL)
		abort(); // the daemon answered bytes its clients cannot decode
	ProtobufCMessage *q = protobuf_c_message_unpack(req_desc, NULL, len, data);
	if (q != NULL) {
		const ProtobufCFieldDescriptor *qf = protobuf_c_message_descriptor_get_field(req_desc, 1);
		const ProtobufCFieldDescriptor *rf = protobuf_c_message_descriptor_get_field(reply_desc, 1);
		if (qf != NULL && rf != NULL && qf->type == PROTOBUF_C_TYPE_UINT64 &&
		    rf->type == PROTOBUF_C_TYPE_UINT64 &&
		    *(const uint64_t *)((const char *)q + qf->offset) !=
			    *(const uint64_t *)((const char *)r + rf->offset))
			abort(); // the reply does not name its request
		protobuf_c_message_free_unpacked(q, NULL);
	}
	return r;
}

#endif
