// batch.c: worker threads hand items to one batch thread (see batch.h).
#include "common/batch.h"

#include <stdlib.h>

struct hd_batch {
	size_t max;
	hd_batch_round_fn round;
	hd_batch_after_fn after;
	void *ctx;
	pthread_t thread;

	pthread_mutex_t mtx; // guards the queue, queued and stop
	pthread_cond_t cv;   // the batch thread waits on it for items
	struct hd_batch_item *head, **tail;
	size_t queued;
	bool stop;

	struct hd_batch_item **items; // the round being stored (max entries; the batch thread's)
};

// batch_main runs on the batch thread: take what is queued, store it,
// answer, run after; until closed with nothing left to do.
static void *batch_main(void *p)
{
	struct hd_batch *b = p;
	pthread_mutex_lock(&b->mtx);
	for (;;) {
		while (b->head == NULL && !b->stop)
			pthread_cond_wait(&b->cv, &b->mtx);
		if (b->head == NULL)
			break; // stopping, and every item handed in is answered
		size_t n = 0;
		while (b->head != NULL && n < b->max) {
			b->items[n++] = b->head;
			b->head = b->head->next;
			b->queued--;
		}
		if (b->head == NULL)
			b->tail = &b->head;
		pthread_mutex_unlock(&b->mtx);

		b->round(b->ctx, b->items, n);

		pthread_mutex_lock(&b->mtx);
		for (size_t i = 0; i < n; i++) {
			b->items[i]->done = true;
			// Signalled under the mutex: the worker cannot wake, return
			// and destroy cv before this call is over.
			pthread_cond_signal(&b->items[i]->cv);
		}
		if (b->after != NULL) {
			pthread_mutex_unlock(&b->mtx);
			b->after(b->ctx);
			pthread_mutex_lock(&b->mtx);
		}
	}
	pthread_mutex_unlock(&b->mtx);
	return NULL;
}

hd_err hd_batch_open(struct hd_batch **out, size_t max, hd_batch_round_fn round, hd_batch_after_fn after, void *ctx)
{
	struct hd_batch *b;
	if (max == 0)
		return HD_EBADREQUEST;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return HD_ENOMEM;
	if ((b->items = calloc(max, sizeof(*b->items))) == NULL) {
		free(b);
		return HD_ENOMEM;
	}
	b->max = max;
	b->round = round;
	b->after = after;
	b->ctx = ctx;
	b->tail = &b->head;
	pthread_mutex_init(&b->mtx, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (pthread_create(&b->thread, NULL, batch_main, b) != 0) {
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mtx);
		free(b->items);
		free(b);
		return HD_ENOMEM;
	}
	*out = b;
	return HD_OK;
}

hd_err hd_batch_submit(struct hd_batch *b, struct hd_batch_item *it)
{
	it->done = false;
	it->next = NULL;
	pthread_cond_init(&it->cv, NULL);
	pthread_mutex_lock(&b->mtx);
	if (b->stop) {
		pthread_mutex_unlock(&b->mtx);
		pthread_cond_destroy(&it->cv);
		return HD_ECLOSED;
	}
	*b->tail = it;
	b->tail = &it->next;
	b->queued++;
	pthread_cond_signal(&b->cv);
	while (!it->done)
		pthread_cond_wait(&it->cv, &b->mtx);
	pthread_mutex_unlock(&b->mtx);
	pthread_cond_destroy(&it->cv);
	return it->err;
}

size_t hd_batch_queued(struct hd_batch *b)
{
	pthread_mutex_lock(&b->mtx);
	size_t n = b->queued;
	pthread_mutex_unlock(&b->mtx);
	return n;
}

void hd_batch_close(struct hd_batch *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->mtx);
	b->stop = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mtx);
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mtx);
	free(b->items);
	free(b);
}
