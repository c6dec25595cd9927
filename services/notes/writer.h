// writer.h: group commit of document writes. REP workers hand their appends
// and snapshots to one writer thread, which stores everything waiting (up to
// batch_max items) in queue order: each run of appends with one
// hd_doc_append call (one durable transaction), each snapshot with
// hd_doc_snapshot_put. Then it answers each worker and publishes the
// NotesEvents on the PUB socket: a run's updates in (meeting, document, seq)
// order, duplicates again, a stored snapshot after the updates before it.
// Every write of a document goes through this one thread, so its events
// leave in the order the store took the writes.
#ifndef NOTES_WRITER_H
#define NOTES_WRITER_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/store.h"

struct notes_writer;

// notes_writer_stats counts the writer's work since open.
struct notes_writer_stats {
	uint64_t batches;    // hd_doc_append calls that stored a run of appends (or failed)
	uint64_t appends;    // appends answered (stored, duplicate or failed)
	uint64_t stored;     // new updates
	uint64_t duplicates; // appends answered with an update stored before
	uint64_t failed;     // appends answered with an error
	uint64_t max_batch;  // most appends in one hd_doc_append call
	uint64_t snapshots;  // snapshots stored (not counting ones that added nothing)
	uint64_t published;  // NotesEvents handed to the PUB socket
	uint64_t queued;     // appends and snapshots waiting for the next batch now
};

// notes_writer_open starts the writer thread. store (thread-safe) and pub are
// borrowed and must outlive the writer; a pub with id 0 (never opened) means
// no events. batch_max >= 1 bounds the items taken per round and so the
// appends per hd_doc_append call. Returns HD_OK, HD_EBADREQUEST for
// batch_max 0, HD_ENOMEM.
hd_err notes_writer_open(struct notes_writer **out, struct hd_store *store, nng_socket pub, size_t batch_max);

// notes_writer_append stores u through the next batch and blocks until that
// batch is durable (or failed). The caller fills u as for hd_doc_append
// (already validated: a run the store refuses as HD_EBADREQUEST or
// HD_ETOOLARGE is retried update by update); u->data is borrowed until this
// returns. On HD_OK u->seq, stored_at_ms and the author fields are the stored
// update's and *duplicate tells whether it had been stored before; u->data
// and u->len stay the caller's (a retry carries the same bytes). Returns
// HD_OK, HD_EBADREQUEST or HD_ETOOLARGE (the store refused this update),
// HD_EUNAVAILABLE (storage failure: nothing of the run is acknowledged),
// HD_ECLOSED (the writer is closing). Thread-safe; runs on the calling
// (worker) thread.
hd_err notes_writer_append(struct notes_writer *w, struct hd_doc_update *u, bool *duplicate);

// notes_writer_snapshot stores snap as hd_doc_snapshot_put does (the caller
// fills it the same way; state and text borrowed until this returns), after
// the appends queued before it, and blocks until that is done. On HD_OK
// *stored tells whether a new version was stored (then its NotesEvent is
// published) and snap->version describes it, or the newest one. Returns
// hd_doc_snapshot_put's errors, or HD_ECLOSED. Thread-safe.
hd_err notes_writer_snapshot(struct notes_writer *w, struct hd_doc_snapshot *snap, bool *stored);

// notes_writer_get_stats copies the counters. Thread-safe.
void notes_writer_get_stats(struct notes_writer *w, struct notes_writer_stats *out);

// notes_writer_close finishes every item already handed in, stops and joins
// the thread, and frees w. Items arriving meanwhile get HD_ECLOSED. NULL is
// a no-op. Call it after the REP workers are joined.
void notes_writer_close(struct notes_writer *w);

#endif
