// writer.c: group commit of document appends and snapshots on one writer
// thread, then their events on the PUB socket.
#include "notes/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/batch.h"
#include "common/log.h"
#include "common/rpc.h"
#include "huddle/v1/notes.pb-c.h"
#include "notes/notes.h"

enum item_kind { ITEM_APPEND, ITEM_SNAPSHOT };

// item is what a worker hands in (the arg of its hd_batch_item): an append
// or a snapshot, and on HD_OK what the store said.
struct item {
	enum item_kind kind;
	struct hd_doc_update *u;      // ITEM_APPEND: the worker's; the stored update on HD_OK
	struct hd_doc_snapshot *snap; // ITEM_SNAPSHOT: the worker's
	bool flag;                    // duplicate (append) or stored (snapshot)
	hd_err err;
};

// round counts one round's outcomes, added to the stats at its end.
struct round {
	uint64_t batches, appends, stored, duplicates, failed, max_batch, snapshots;
};

struct notes_writer {
	struct hd_store *store;
	nng_socket pub;
	bool events;
	struct hd_batch *batches; // the hand-off from the workers to the writer thread

	pthread_mutex_t mtx; // guards stats
	struct notes_writer_stats stats;

	// The writer thread's own working space, batch_max entries each.
	struct item **items;         // this round's, in queue order
	struct hd_doc_update *batch; // one run of appends
	bool *dup;
	hd_err *errs;
	struct item **order; // a run's stored appends, in publishing order
	nng_msg **ev;        // this round's packed events, in publishing order
	size_t n_ev;
};

// append stores the run in w->batch: one call; if the store refuses the run
// as a whole (an update it rejects would sink the others), each update
// alone, so only the bad one fails. errs[i] gets each update's outcome.
static void append(struct notes_writer *w, size_t n, hd_err *errs)
{
	hd_err err = hd_doc_append(w->store, w->batch, n, w->dup);
	for (size_t i = 0; i < n; i++)
		errs[i] = err;
	if ((err != HD_EBADREQUEST && err != HD_ETOOLARGE) || n == 1)
		return;
	HD_WARN("the store refused a batch of %zu appends; storing them one by one", n);
	for (size_t i = 0; i < n; i++)
		errs[i] = hd_doc_append(w->store, &w->batch[i], 1, &w->dup[i]);
}

// event_add packs ev for the topic meeting_id into the round's events; a
// lost event is logged (the write is stored; gateways catch up by reading).
static void event_add(struct notes_writer *w, Huddle__V1__NotesEvent *ev, const char *meeting_id, const char *document)
{
	nng_msg *m;
	ev->meeting_id = (char *)meeting_id;
	ev->document = notes_document_kind(document);
	if (hd_pub_pack(meeting_id, &ev->base, &m) != HD_OK) {
		HD_WARN("notes event for %s/%s not published: out of memory", meeting_id, document);
		return;
	}
	w->ev[w->n_ev++] = m;
}

static int by_document_seq(const void *a, const void *b)
{
	const struct hd_doc_update *x = (*(const struct item *const *)a)->u;
	const struct hd_doc_update *y = (*(const struct item *const *)b)->u;
	int c = strcmp(x->meeting_id, y->meeting_id);
	if (c == 0)
		c = strcmp(x->document, y->document);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

// store_run stores n appends (run[0..n-1]) with one hd_doc_append, sets each
// item's outcome, and adds the stored ones' events in (meeting, document,
// seq) order (duplicates too: a gateway that missed one catches up).
static void store_run(struct notes_writer *w, struct item **run, size_t n, struct round *r)
{
	size_t k = 0, failed = 0;
	hd_err why = HD_OK; // the first failure
	for (size_t i = 0; i < n; i++)
		w->batch[i] = *run[i]->u;
	append(w, n, w->errs);
	for (size_t i = 0; i < n; i++) {
		struct item *it = run[i];
		it->err = w->errs[i];
		if (it->err != HD_OK) {
			if (failed++ == 0)
				why = it->err;
			continue;
		}
		// The bytes stay the caller's whatever the store did with the copy.
		uint8_t *data = it->u->data;
		size_t len = it->u->len;
		*it->u = w->batch[i];
		it->u->data = data;
		it->u->len = len;
		it->flag = w->dup[i];
		if (it->flag)
			r->duplicates++;
		else
			r->stored++;
		w->order[k++] = it;
	}
	r->batches++;
	r->appends += n;
	r->failed += failed;
	if (n > r->max_batch)
		r->max_batch = n;
	if (failed > 0)
		HD_WARN("batch of %zu appends: %zu not stored: %s", n, failed, hd_strerror(why));
	HD_DEBUG("batch of %zu appends: %zu stored (new or duplicate), %zu failed", n, k, failed);
	if (!w->events)
		return;
	qsort(w->order, k, sizeof(w->order[0]), by_document_seq);
	for (size_t i = 0; i < k; i++) {
		Huddle__V1__NotesEvent ev = HUDDLE__V1__NOTES_EVENT__INIT;
		Huddle__V1__NotesUpdate pb;
		notes_update_to_pb(w->order[i]->u, &pb);
		ev.body_case = HUDDLE__V1__NOTES_EVENT__BODY_UPDATE;
		ev.update = &pb;
		event_add(w, &ev, w->order[i]->u->meeting_id, w->order[i]->u->document);
	}
}

// store_snapshot stores one snapshot and adds its event when it is new.
static void store_snapshot(struct notes_writer *w, struct item *it, struct round *r)
{
	struct hd_doc_snapshot *s = it->snap;
	it->err = hd_doc_snapshot_put(w->store, s, &it->flag);
	if (it->err != HD_OK) {
		if (it->err == HD_EUNAVAILABLE)
			HD_WARN("snapshot of %s/%s not stored: %s", s->meeting_id, s->document, hd_strerror(it->err));
		return;
	}
	if (!it->flag)
		return;
	r->snapshots++;
	HD_DEBUG("snapshot of %s/%s: version %lld at seq %lld", s->meeting_id, s->document,
		 (long long)s->version.version, (long long)s->version.seq);
	if (!w->events)
		return;
	Huddle__V1__NotesEvent ev = HUDDLE__V1__NOTES_EVENT__INIT;
	Huddle__V1__NotesVersion pb;
	notes_version_to_pb(&s->version, &pb);
	ev.body_case = HUDDLE__V1__NOTES_EVENT__BODY_SNAPSHOT;
	ev.snapshot = &pb;
	event_add(w, &ev, s->meeting_id, s->document);
}

// store_round runs on the writer thread: the round's items in queue order,
// each run of appends in one call, each snapshot on its own; their events
// are packed now, while the workers' requests they point into are alive.
static void store_round(void *ctx, struct hd_batch_item **batch_items, size_t n)
{
	struct notes_writer *w = ctx;
	struct round r = {0};
	w->n_ev = 0;
	for (size_t i = 0; i < n; i++)
		w->items[i] = batch_items[i]->arg;
	for (size_t i = 0; i < n;) {
		if (w->items[i]->kind == ITEM_SNAPSHOT) {
			store_snapshot(w, w->items[i++], &r);
			continue;
		}
		size_t j = i;
		while (j < n && w->items[j]->kind == ITEM_APPEND)
			j++;
		store_run(w, &w->items[i], j - i, &r);
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		batch_items[i]->err = w->items[i]->err;
	pthread_mutex_lock(&w->mtx);
	w->stats.batches += r.batches;
	w->stats.appends += r.appends;
	w->stats.stored += r.stored;
	w->stats.duplicates += r.duplicates;
	w->stats.failed += r.failed;
	w->stats.snapshots += r.snapshots;
	if (r.max_batch > w->stats.max_batch)
		w->stats.max_batch = r.max_batch;
	pthread_mutex_unlock(&w->mtx);
}

// send_events runs on the writer thread once the round's workers are
// answered: the events packed by store_round, in order.
static void send_events(void *ctx)
{
	struct notes_writer *w = ctx;
	size_t sent = 0;
	for (size_t i = 0; i < w->n_ev; i++) {
		hd_err err = hd_pub_send_msg(w->pub, w->ev[i]);
		if (err == HD_OK)
			sent++;
		else
			HD_WARN("notes event not published: %s", hd_strerror(err));
	}
	w->n_ev = 0;
	pthread_mutex_lock(&w->mtx);
	w->stats.published += sent;
	pthread_mutex_unlock(&w->mtx);
}

static void writer_free(struct notes_writer *w)
{
	free(w->ev);
	free(w->order);
	free(w->errs);
	free(w->dup);
	free(w->batch);
	free(w->items);
	free(w);
}

hd_err notes_writer_open(struct notes_writer **out, struct hd_store *store, nng_socket pub, size_t batch_max)
{
	struct notes_writer *w;
	if (batch_max == 0)
		return HD_EBADREQUEST;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return HD_ENOMEM;
	w->store = store;
	w->pub = pub;
	w->events = nng_socket_id(pub) > 0;
	if ((w->items = calloc(batch_max, sizeof(*w->items))) == NULL ||
	    (w->batch = calloc(batch_max, sizeof(*w->batch))) == NULL ||
	    (w->dup = calloc(batch_max, sizeof(*w->dup))) == NULL ||
	    (w->errs = calloc(batch_max, sizeof(*w->errs))) == NULL ||
	    (w->order = calloc(batch_max, sizeof(*w->order))) == NULL ||
	    (w->ev = calloc(batch_max, sizeof(*w->ev))) == NULL)
		goto fail;
	pthread_mutex_init(&w->mtx, NULL);
	if (hd_batch_open(&w->batches, batch_max, store_round, send_events, w) != HD_OK) {
		pthread_mutex_destroy(&w->mtx);
		goto fail;
	}
	*out = w;
	return HD_OK;
fail:
	writer_free(w);
	return HD_ENOMEM;
}

// submit hands it to the writer and waits until it is stored (or failed).
static hd_err submit(struct notes_writer *w, struct item *it)
{
	struct hd_batch_item bi = {.arg = it};
	return hd_batch_submit(w->batches, &bi);
}

hd_err notes_writer_append(struct notes_writer *w, struct hd_doc_update *u, bool *duplicate)
{
	struct item it = {.kind = ITEM_APPEND, .u = u};
	hd_err err = submit(w, &it);
	if (err == HD_OK)
		*duplicate = it.flag;
	return err;
}

hd_err notes_writer_snapshot(struct notes_writer *w, struct hd_doc_snapshot *snap, bool *stored)
{
	struct item it = {.kind = ITEM_SNAPSHOT, .snap = snap};
	hd_err err = submit(w, &it);
	if (err == HD_OK)
		*stored = it.flag;
	return err;
}

void notes_writer_get_stats(struct notes_writer *w, struct notes_writer_stats *out)
{
	pthread_mutex_lock(&w->mtx);
	*out = w->stats;
	pthread_mutex_unlock(&w->mtx);
	out->queued = hd_batch_queued(w->batches);
}

void notes_writer_close(struct notes_writer *w)
{
	if (w == NULL)
		return;
	hd_batch_close(w->batches); // stores what was handed in first
	pthread_mutex_destroy(&w->mtx);
	writer_free(w);
}
