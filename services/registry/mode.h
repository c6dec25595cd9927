// mode.h: a meeting's media mode (MESH or SFU) with its epoch, and the
// policy that moves it (README, "SFU (Janus VideoRoom)"), kept in Redis in
// the meeting's hash slot beside its members:
//   huddle:{<meeting>}:media  hash: mode (1 MESH, 2 SFU), epoch,
//                             low_since_ms (Unix ms the admitted count last
//                             dropped to <= down_max while SFU; 0: it is not)
// No key reads as MESH, epoch 0.
//
// Policy (struct reg_mode_policy in registry.h): MESH while at most
// mesh_max participants are admitted; the (mesh_max+1)th makes it SFU. SFU
// goes back to MESH only once the count has been <= down_max continuously
// for down_ms: the change that brings it to <= down_max stamps
// low_since_ms, one that raises it above clears it, and whoever looks
// (a join, leave, removal, admission, expiry, or the periodic sweep) after
// low_since_ms + down_ms moves it. With sfu_enabled off the mode is always
// MESH (an SFU left from before moves back at the next look).
//
// Each decision is taken on the roster it is written against: the member
// hash and the mode key are WATCHed, read, and the new mode written in
// MULTI/EXEC, which fails (and is retried on a fresh read) if the roster or
// the mode changed in between, so two registry workers or replicas deciding
// at once make one change, and the epoch grows by exactly one per change.
//
// Calls run on the thread owning c->redis. Errors give a static,
// human-readable *why: HD_EUNAVAILABLE when Redis is down (or still racing
// after REG_MODE_CAS_RETRIES attempts), HD_EINTERNAL for an unexpected
// Redis reply, HD_ENOMEM.
#ifndef REG_MODE_H
#define REG_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "huddle/v1/common.pb-c.h"
#include "registry/registry.h"

#define REG_MODE_CAS_RETRIES 32 // WATCH/EXEC attempts while the roster keeps changing

// reg_mode is a meeting's media mode as stored.
struct reg_mode {
	int mode;             // Huddle__V1__MediaMode: MESH or SFU
	uint64_t epoch;       // grows by one with every change of mode; 0: never changed
	int64_t low_since_ms; // Unix ms; see above; 0 unless SFU with few enough
};

// reg_mode_decide applies policy p to the stored mode cur with `admitted`
// participants in the call at now_ms, writing the mode to store into *next.
// Returns whether *next differs from *cur (then it must be written). Pure.
bool reg_mode_decide(const struct reg_mode_policy *p, const struct reg_mode *cur, size_t admitted, int64_t now_ms,
		     struct reg_mode *next);

// reg_mode_read reads the meeting's mode into *out (MESH, epoch 0 when
// there is none). Returns HD_OK or a Redis error.
hd_err reg_mode_read(struct reg_ctx *c, const char *meeting_id, struct reg_mode *out, const char **why);

// reg_mode_update looks at the meeting's roster and mode, applies c->mode
// and stores and publishes (room event media_mode) a change of mode; *out
// (may be NULL) gets the mode as left. Called after every change to who is
// admitted. Returns HD_OK or an error above (nothing changed then).
hd_err reg_mode_update(struct reg_ctx *c, const char *meeting_id, int64_t now_ms, struct reg_mode *out,
		       const char **why);

// reg_mode_update_logged is reg_mode_update for callers whose own change
// already happened: a failure is logged (the sweep or the next change looks
// again).
void reg_mode_update_logged(struct reg_ctx *c, const char *meeting_id, int64_t now_ms, struct reg_mode *out);

// reg_mode_sweep looks at the meetings ids[0..n-1] (a page of the sweep):
// those SFU with a move back to MESH due at now_ms (or SFU while
// sfu_enabled is off) are updated. Returns HD_OK or a Redis error.
hd_err reg_mode_sweep(struct reg_ctx *c, const char *const *ids, size_t n, int64_t now_ms);

// reg_mode_to_pb fills pb (initialised here) from m.
void reg_mode_to_pb(const struct reg_mode *m, Huddle__V1__MediaModeState *pb);

#endif
