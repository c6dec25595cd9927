// batch.h: the hand-off of group commit. Worker threads hand in items and
// block; one batch thread takes everything waiting (up to max items, in the
// order they came) as one round, has it stored by the daemon's round
// function, answers every worker of the round at once, then runs the
// daemon's after function (publishing). huddle-chat's and huddle-notes'
// writers are their round and after functions over this.
#ifndef HD_BATCH_H
#define HD_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

// hd_batch_item is one worker's item, on that worker's stack while
// hd_batch_submit runs. The round function reads arg and sets err.
struct hd_batch_item {
	void *arg;  // what the worker hands in (the daemon's own type)
	hd_err err; // the outcome, set by the round function

	// The batch's own: the worker sleeps on cv until done is set (under
	// the batch's mutex).
	bool done;
	pthread_cond_t cv;
	struct hd_batch_item *next;
};

// hd_batch_round_fn stores one round on the batch thread: items[0..n-1] in
// the order they were handed in (1 <= n <= max). It sets each item's err;
// the workers are answered when it returns.
typedef void (*hd_batch_round_fn)(void *ctx, struct hd_batch_item **items, size_t n);

// hd_batch_after_fn runs on the batch thread after the round's workers were
// answered: their items (and what arg points at) may be gone by now.
typedef void (*hd_batch_after_fn)(void *ctx);

struct hd_batch;

// hd_batch_open starts the batch thread with rounds of at most max items
// (>= 1); after may be NULL. ctx is handed to both. Returns HD_OK,
// HD_EBADREQUEST for max 0, HD_ENOMEM.
hd_err hd_batch_open(struct hd_batch **out, size_t max, hd_batch_round_fn round, hd_batch_after_fn after, void *ctx);

// hd_batch_submit hands it in (it->arg set by the caller) and blocks until
// its round is stored. Returns it->err, or HD_ECLOSED when the batch is
// closing (then nothing was handed in). Thread-safe; runs on the caller.
hd_err hd_batch_submit(struct hd_batch *b, struct hd_batch_item *it);

// hd_batch_queued is how many items wait for a round now. Thread-safe.
size_t hd_batch_queued(struct hd_batch *b);

// hd_batch_close stores every item already handed in, stops and joins the
// thread, and frees b. Items handed in meanwhile get HD_ECLOSED. NULL is a
// no-op.
void hd_batch_close(struct hd_batch *b);

#endif
