// writer.h: group commit. REP workers hand their posts to one writer
// thread, which stores everything waiting (up to batch_max posts) with one
// hd_chat_append call (one durable transaction), answers each worker, then
// publishes a ChatEvent per message, in seq order, on the PUB socket.
#ifndef CHAT_WRITER_H
#define CHAT_WRITER_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/store.h"

struct chat_writer;

// chat_writer_stats counts the writer's work since open.
struct chat_writer_stats {
	uint64_t batches;    // hd_chat_append calls that stored a batch (or failed)
	uint64_t posts;      // posts answered (stored, duplicate or failed)
	uint64_t stored;     // new messages
	uint64_t duplicates; // posts answered with an earlier stored message
	uint64_t failed;     // posts answered with an error
	uint64_t max_batch;  // most posts in one batch
	uint64_t published;  // ChatEvents handed to the PUB socket
	uint64_t queued;     // posts waiting for the next batch now
};

// chat_writer_open starts the writer thread. store (thread-safe) and pub are
// borrowed and must outlive the writer; a pub with id 0 (never opened) means
// no events. batch_max >= 1 bounds the posts per hd_chat_append call.
// Returns HD_OK, HD_EBADREQUEST for batch_max 0, HD_ENOMEM.
hd_err chat_writer_open(struct chat_writer **out, struct hd_store *store, nng_socket pub, size_t batch_max);

// chat_writer_post stores msg through the next batch and blocks until that
// batch is durable (or failed). The caller fills msg as for hd_chat_append
// (already validated: the whole batch is retried one by one if the store
// rejects it as HD_EBADREQUEST). On HD_OK *msg is the stored message and
// *duplicate tells whether it had been stored before. Returns HD_OK,
// HD_EBADREQUEST (the store refused this message), HD_EUNAVAILABLE (storage
// failure: nothing of the batch is acknowledged), HD_ECLOSED (the writer is
// closing). Thread-safe; runs on the calling (worker) thread.
hd_err chat_writer_post(struct chat_writer *w, struct hd_chat_message *msg, bool *duplicate);

// chat_writer_get_stats copies the counters. Thread-safe.
void chat_writer_get_stats(struct chat_writer *w, struct chat_writer_stats *out);

// chat_writer_close finishes every post already handed in, stops and joins
// the thread, and frees w. Posts arriving meanwhile get HD_ECLOSED. NULL is
// a no-op. Call it after the REP workers are joined.
void chat_writer_close(struct chat_writer *w);

#endif
