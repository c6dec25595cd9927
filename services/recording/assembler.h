// assembler.h: huddle-recording's background work: one thread that, every
// REC_CHECK_MS or when kicked, finds the recordings that need it in the
// store (ASSEMBLING ones, and RECORDING ones idle for RECORDING_IDLE_S,
// which it moves to ASSEMBLING) and assembles them one at a time. Every
// step is redone or finished after a crash: the store's state says where a
// recording is, temp files are rewritten, renames commit.
#ifndef RECORDING_ASSEMBLER_H
#define RECORDING_ASSEMBLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/store.h"
#include "recording/recording.h"

#define REC_CHECK_MS 1000   // between two looks at the store for work
#define REC_RETRY_MS 30000  // before an assembly that failed on a disk or store error is tried again
#define REC_BACKOFF_MAX 256 // recordings remembered as waiting for a retry

// rec_assembler_stats counts what the thread did since it started.
struct rec_assembler_stats {
	uint64_t idle;    // RECORDING recordings it moved to ASSEMBLING for want of chunks
	uint64_t ready;   // assembled into a file
	uint64_t failed;  // nothing playable: FAILED
	uint64_t retries; // assemblies that met a disk or store error and wait to be tried again
	uint64_t last_ms; // how long the last assembly took, ms
};

// rec_assembler_open makes an assembler for svc (borrowed) and sets
// svc->assembler; its thread starts with rec_assembler_start. Returns
// HD_OK or HD_ENOMEM.
hd_err rec_assembler_open(struct rec_assembler **out, struct rec_service *svc);

// rec_assembler_start starts the thread; its first look also removes the
// chunk folders that finished recordings left behind. Returns HD_OK or
// HD_ENOMEM.
hd_err rec_assembler_start(struct rec_assembler *a);

// rec_assembler_kick wakes the thread (a recording was finished). Thread-safe.
void rec_assembler_kick(struct rec_assembler *a);

// rec_assembler_stop interrupts an assembly in progress (it is redone
// later) and joins the thread; a no-op when it is not running.
void rec_assembler_stop(struct rec_assembler *a);

// rec_assembler_close stops a and frees it (NULL: no-op).
void rec_assembler_close(struct rec_assembler *a);

// rec_assembler_get_stats copies the counters. Thread-safe.
void rec_assembler_get_stats(struct rec_assembler *a, struct rec_assembler_stats *out);

// rec_begin_assembly moves a RECORDING recording to ASSEMBLING (under its
// lock, so no chunk is noted after), with total_chunks the count its
// recorder named (0: unknown), and kicks the assembler. *out is the
// recording afterwards and *changed whether it moved (false: it had left
// RECORDING before). Errors as hd_recording_set_state.
hd_err rec_begin_assembly(struct rec_service *svc, const char *meeting_id, const char *id, uint32_t total_chunks,
			  struct hd_recording *out, bool *changed);

// rec_assemble assembles one ASSEMBLING recording now, on the calling
// thread: remux chunks 0..chunks-1 into <rid>.webm.tmp, fsync, rename to
// <rid>.webm, READY (error naming missing chunks or a damaged tail left
// out), chunks removed; or FAILED when nothing playable came out. A
// recording in another state (or gone) is left alone. stop (may be NULL)
// interrupts. Returns HD_OK (done, or nothing to do); HD_EUNAVAILABLE or
// HD_ENOMEM (a disk or store error: still ASSEMBLING, try again);
// HD_ECLOSED (stopped: still ASSEMBLING).
hd_err rec_assemble(struct rec_service *svc, const char *meeting_id, const char *id, const atomic_bool *stop);

#endif
