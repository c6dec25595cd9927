// registry.h: what every huddle-registry component works with.
#ifndef REG_REGISTRY_H
#define REG_REGISTRY_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/redis.h"
#include "common/store.h"

// reg_mode_policy is when a meeting's media moves between the mesh and the
// SFU (mode.h). All zero: never leaves MESH.
struct reg_mode_policy {
	bool sfu_enabled; // off: always MESH (SFU_ENABLED)
	int64_t mesh_max; // MESH up to this many admitted participants (MESH_MAX)
	int64_t down_max; // SFU back to MESH with at most this many (SFU_DOWN_MAX) ...
	int64_t down_ms;  // ... continuously for this long, ms (SFU_DOWN_SECONDS)
};

// reg_ctx is one thread's view of the registry: a REP worker's or the
// sweeper's. The Redis connection belongs to that thread alone; the store and
// the PUB socket are shared and thread-safe. Owned by main (or a test).
struct reg_ctx {
	struct hd_redis *redis;      // this thread's own connection
	struct hd_store *store;      // meeting records, shared
	nng_socket pub;              // room events, shared
	int64_t presence_ttl_ms;     // a member unseen for longer is swept
	int64_t max_participants;    // MAX_PARTICIPANTS: members per meeting, waiting room included; 0: no limit
	struct reg_mode_policy mode; // media mode policy, shared settings
	char why_buf[96];            // room for an error message with numbers in it (this thread's)
};

#endif
