// registry.h: what every huddle-registry component works with.
#ifndef REG_REGISTRY_H
#define REG_REGISTRY_H

#include <nng/nng.h>
#include <stdint.h>

#include "common/redis.h"
#include "common/store.h"

// reg_ctx is one thread's view of the registry: a REP worker's or the
// sweeper's. The Redis connection belongs to that thread alone; the store and
// the PUB socket are shared and thread-safe. Owned by main (or a test).
struct reg_ctx {
	struct hd_redis *redis;   // this thread's own connection
	struct hd_store *store;   // meeting records, shared
	nng_socket pub;           // room events, shared
	int64_t presence_ttl_ms;  // a member unseen for longer is swept
	int64_t max_participants; // MAX_PARTICIPANTS: members per meeting, waiting room included; 0: no limit
	char why_buf[96];         // room for an error message with numbers in it (this thread's)
};

#endif
