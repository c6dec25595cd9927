// recording.h: what every huddle-recording component works with: the
// limits, the service the REP workers and the assembler share, and a
// worker's context.
#ifndef RECORDING_RECORDING_H
#define RECORDING_RECORDING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/store.h"
#include "huddle/v1/recording.pb-c.h"

#define REC_READ_MAX (1u << 20)   // bytes one read returns at most (1 MiB), as recording.proto says
#define REC_WHY_MAX 256           // bytes of an error message built from a limit
#define REC_LOCKS 64              // stripes of the per-recording lock
#define REC_FREE_MIN (256u << 20) // bytes RECORDINGS_DIR's file system keeps free: chunks are refused below

// rec_limits are the settings that bound recordings (main.c's config table).
struct rec_limits {
	int64_t idle_s;      // RECORDING_IDLE_S: a RECORDING without a chunk this long is assembled
	int64_t quota_mb;    // RECORDING_QUOTA_MB: bytes of a meeting's recordings, MiB
	int64_t max_minutes; // RECORDING_MAX_MINUTES: longest recording, minutes of media
};

struct rec_assembler;

// rec_service is what the REP workers and the assembler share; every part
// is thread-safe. Owned by main (or a test): rec_service_init/_fini.
struct rec_service {
	struct hd_store *store;
	const char *dir; // RECORDINGS_DIR (borrowed)
	struct rec_limits limits;
	// locks[rec_lock_index(...)] is held while a recording's files and
	// state change together (a chunk written and noted, a finish, the
	// end of an assembly, a delete), so those never interleave.
	pthread_mutex_t locks[REC_LOCKS];
	struct rec_assembler *assembler; // NULL: finished recordings wait for the next idle check
};

// rec_service_init sets svc up over store and dir (both borrowed) with
// limits; rec_service_fini destroys the locks.
void rec_service_init(struct rec_service *svc, struct hd_store *store, const char *dir,
		      const struct rec_limits *limits);
void rec_service_fini(struct rec_service *svc);

// rec_lock / rec_unlock take and release the lock of recording (meeting, id).
void rec_lock(struct rec_service *svc, const char *meeting_id, const char *id);
void rec_unlock(struct rec_service *svc, const char *meeting_id, const char *id);

// rec_ctx is one REP worker's view of huddle-recording: the shared service
// and this worker's buffers. Owned by main (or a test).
struct rec_ctx {
	struct rec_service *svc;
	uint8_t *buf;               // REC_READ_MAX bytes for a read
	struct hd_recording *list;  // HD_REC_LIST_MAX for a list
	Huddle__V1__Recording *pbs; // their protobuf forms
	Huddle__V1__Recording **ptrs;
	char why[REC_WHY_MAX]; // an error message naming a limit
};

// rec_ctx_init gives c its buffers and borrows svc. Returns HD_OK or HD_ENOMEM.
hd_err rec_ctx_init(struct rec_ctx *c, struct rec_service *svc);

// rec_ctx_fini frees the buffers (a zeroed ctx is fine).
void rec_ctx_fini(struct rec_ctx *c);

// rec_to_pb initializes pb as the protobuf form of r (pointing into r).
void rec_to_pb(const struct hd_recording *r, Huddle__V1__Recording *pb);

// rec_state_name is "RECORDING", "ASSEMBLING", "READY", "FAILED" or "UNKNOWN".
const char *rec_state_name(int state);

#endif
