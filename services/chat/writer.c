// writer.c: group commit of chat posts on one writer thread, then their
// events on the PUB socket.
#include "chat/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "common/batch.h"
#include "common/log.h"
#include "common/rpc.h"
#include "huddle/v1/chat.pb-c.h"

// chat_post is what a worker hands in: its message and, on HD_OK, whether
// the store had it already.
struct chat_post {
	struct hd_chat_message *msg; // the worker's; the stored message on HD_OK
	bool duplicate;
};

struct chat_writer {
	struct hd_store *store;
	nng_socket pub;
	bool events;
	struct hd_batch *batches; // the hand-off from the workers to the writer thread

	pthread_mutex_t mtx; // guards stats
	struct chat_writer_stats stats;

	// The writer thread's own working space, batch_max entries each.
	struct hd_chat_message *batch;
	bool *dup;
	hd_err *errs;                         // each post's outcome
	size_t n;                             // posts in the last round
	const struct hd_chat_message **order; // for publishing in seq order
	uint8_t *event_buf;                   // one packed ChatEvent
	size_t event_cap;
};

// append stores the batch: one call; if the store refuses the batch as a
// whole (a message it rejects would sink the others), each message alone,
// so only the bad one fails. errs[i] gets each message's outcome.
static void append(struct chat_writer *w, size_t n, hd_err *errs)
{
	hd_err err = hd_chat_append(w->store, w->batch, n, w->dup);
	for (size_t i = 0; i < n; i++)
		errs[i] = err;
	if (err != HD_EBADREQUEST || n == 1)
		return;
	HD_WARN("the store refused a batch of %zu posts; storing them one by one", n);
	for (size_t i = 0; i < n; i++)
		errs[i] = hd_chat_append(w->store, &w->batch[i], 1, &w->dup[i]);
}

static int by_meeting_seq(const void *a, const void *b)
{
	const struct hd_chat_message *x = *(const struct hd_chat_message *const *)a;
	const struct hd_chat_message *y = *(const struct hd_chat_message *const *)b;
	int c = strcmp(x->meeting_id, y->meeting_id);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

// publish sends one ChatEvent per stored message of the batch (duplicates
// too), each meeting's in seq order. A lost event is logged: the message is
// stored, and gateways fill gaps from history.
static size_t publish(struct chat_writer *w, size_t n, const hd_err *errs)
{
	size_t k = 0, sent = 0;
	for (size_t i = 0; i < n; i++)
		if (errs[i] == HD_OK)
			w->order[k++] = &w->batch[i];
	qsort(w->order, k, sizeof(w->order[0]), by_meeting_seq);
	for (size_t i = 0; i < k; i++) {
		const struct hd_chat_message *m = w->order[i];
		Huddle__V1__ChatEvent ev = HUDDLE__V1__CHAT_EVENT__INIT;
		Huddle__V1__ChatMessage pb;
		chat_message_to_pb(m, &pb);
		ev.message = &pb;
		size_t len = huddle__v1__chat_event__get_packed_size(&ev);
		hd_err err = HD_ENOMEM;
		if (len <= w->event_cap) { // always, with the store's field limits
			huddle__v1__chat_event__pack(&ev, w->event_buf);
			err = hd_pub_send(w->pub, m->meeting_id, w->event_buf, len);
		}
		if (err == HD_OK)
			sent++;
		else
			HD_WARN("chat event %s/%lld not published: %s", m->meeting_id, (long long)m->seq,
				hd_strerror(err));
	}
	return sent;
}

// store_round runs on the writer thread: one hd_chat_append for the round,
// each post's outcome, the counters.
static void store_round(void *ctx, struct hd_batch_item **items, size_t n)
{
	struct chat_writer *w = ctx;
	size_t stored = 0, dups = 0, failed = 0;
	hd_err why = HD_OK; // the first failure
	for (size_t i = 0; i < n; i++)
		w->batch[i] = *((struct chat_post *)items[i]->arg)->msg;
	append(w, n, w->errs);
	for (size_t i = 0; i < n; i++) {
		struct chat_post *post = items[i]->arg;
		items[i]->err = w->errs[i];
		if (w->errs[i] == HD_OK) {
			*post->msg = w->batch[i];
			post->duplicate = w->dup[i];
			if (w->dup[i])
				dups++;
			else
				stored++;
		} else if (failed++ == 0) {
			why = w->errs[i];
		}
	}
	w->n = n;
	pthread_mutex_lock(&w->mtx);
	w->stats.batches++;
	w->stats.posts += n;
	w->stats.stored += stored;
	w->stats.duplicates += dups;
	w->stats.failed += failed;
	if (n > w->stats.max_batch)
		w->stats.max_batch = n;
	pthread_mutex_unlock(&w->mtx);
	if (failed > 0)
		HD_WARN("batch of %zu posts: %zu not stored: %s", n, failed, hd_strerror(why));
	HD_DEBUG("batch of %zu posts: %zu new, %zu duplicates, %zu failed", n, stored, dups, failed);
}

// after_round runs on the writer thread once the round's posters are
// answered: their events, from the writer's own copies.
static void after_round(void *ctx)
{
	struct chat_writer *w = ctx;
	if (!w->events)
		return;
	size_t sent = publish(w, w->n, w->errs);
	pthread_mutex_lock(&w->mtx);
	w->stats.published += sent;
	pthread_mutex_unlock(&w->mtx);
}

static void writer_free(struct chat_writer *w)
{
	free(w->event_buf);
	free(w->order);
	free(w->errs);
	free(w->dup);
	free(w->batch);
	free(w);
}

hd_err chat_writer_open(struct chat_writer **out, struct hd_store *store, nng_socket pub, size_t batch_max)
{
	struct chat_writer *w;
	if (batch_max == 0)
		return HD_EBADREQUEST;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return HD_ENOMEM;
	w->store = store;
	w->pub = pub;
	w->events = nng_socket_id(pub) > 0;
	// A ChatEvent is the message's fields plus a few bytes of framing each.
	w->event_cap = sizeof(struct hd_chat_message) + 64;
	if ((w->batch = calloc(batch_max, sizeof(*w->batch))) == NULL ||
	    (w->dup = calloc(batch_max, sizeof(*w->dup))) == NULL ||
	    (w->errs = calloc(batch_max, sizeof(*w->errs))) == NULL ||
	    (w->order = calloc(batch_max, sizeof(*w->order))) == NULL || (w->event_buf = malloc(w->event_cap)) == NULL)
		goto fail;
	pthread_mutex_init(&w->mtx, NULL);
	if (hd_batch_open(&w->batches, batch_max, store_round, after_round, w) != HD_OK) {
		pthread_mutex_destroy(&w->mtx);
		goto fail;
	}
	*out = w;
	return HD_OK;
fail:
	writer_free(w);
	return HD_ENOMEM;
}

hd_err chat_writer_post(struct chat_writer *w, struct hd_chat_message *msg, bool *duplicate)
{
	struct chat_post post = {.msg = msg};
	struct hd_batch_item it = {.arg = &post};
	hd_err err = hd_batch_submit(w->batches, &it);
	if (err == HD_OK)
		*duplicate = post.duplicate;
	return err;
}

void chat_writer_get_stats(struct chat_writer *w, struct chat_writer_stats *out)
{
	pthread_mutex_lock(&w->mtx);
	*out = w->stats;
	pthread_mutex_unlock(&w->mtx);
	out->queued = hd_batch_queued(w->batches);
}

void chat_writer_close(struct chat_writer *w)
{
	if (w == NULL)
		return;
	hd_batch_close(w->batches); // stores what was handed in first
	pthread_mutex_destroy(&w->mtx);
	writer_free(w);
}
