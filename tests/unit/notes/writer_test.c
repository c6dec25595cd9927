// writer_test.c: the group-commit writer against a scripted store: an append
// is answered only once hd_doc_append returned, everything waiting goes into
// the next call (at most batch_max), a snapshot is stored after the appends
// queued before it and splits the run, a storage failure fails the whole
// run, a run the store refuses is retried update by update, and a duplicate
// keeps the caller's bytes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "gate.h"
#include "notes/writer.h"

#define MAX_CALLS 64
#define MEETING "AAAAAAAAAAAAAAAAAAAAAB"

// fake_store scripts doc_append and doc_snapshot_put: it can hold calls at
// a gate and fail them, and records each call (n appends, or 0 for a
// snapshot). Seqs are per store, not per document.
struct fake_store {
	struct hd_store base;
	struct hd_test_gate g; // holds the call; g.mtx guards every field here
	hd_err result;
	size_t calls[MAX_CALLS];
	int ncalls;
	int64_t seq;
	const char *duplicate_id; // an id stored before: answered as seq 1
};

static struct fake_store S;

static void fake_close(struct hd_store *s)
{
}

// enter waits at the gate and records a call of n (0: snapshot).
static hd_err enter(size_t n)
{
	hd_test_gate_pass(&S.g);
	if (S.ncalls < MAX_CALLS)
		S.calls[S.ncalls++] = n;
	return S.result;
}

static hd_err fake_append(struct hd_store *s, struct hd_doc_update *u, size_t n, bool *duplicate)
{
	pthread_mutex_lock(&S.g.mtx);
	hd_err err = enter(n);
	if (err == HD_OK)
		for (size_t i = 0; i < n; i++) {
			duplicate[i] = S.duplicate_id != NULL && strcmp(u[i].client_update_id, S.duplicate_id) == 0;
			u[i].seq = duplicate[i] ? 1 : ++S.seq;
			if (duplicate[i])
				snprintf(u[i].author_name, sizeof(u[i].author_name), "First Author");
		}
	pthread_mutex_unlock(&S.g.mtx);
	return err;
}

static hd_err fake_snapshot_put(struct hd_store *s, struct hd_doc_snapshot *snap, bool *stored)
{
	pthread_mutex_lock(&S.g.mtx);
	hd_err err = enter(0);
	if (err == HD_OK) {
		*stored = true;
		snap->version.version = 1;
	}
	pthread_mutex_unlock(&S.g.mtx);
	return err;
}

static const struct hd_store_ops fake_ops = {
	.close = fake_close, .doc_append = fake_append, .doc_snapshot_put = fake_snapshot_put};

static void gate(bool closed)
{
	hd_test_gate_set(&S.g, closed);
}

// wait_inside waits (bounded) until a call is held at the gate.
static void wait_inside(void)
{
	hd_test_gate_wait_inside(&S.g, 5000);
}

// job is one worker's append or snapshot on its own thread.
struct job {
	pthread_t thread;
	struct notes_writer *w;
	bool snapshot;
	struct hd_doc_update u;
	struct hd_doc_snapshot snap;
	char data[64];
	bool flag; // duplicate or stored
	hd_err err;
	atomic_bool done;
};

static void *job_main(void *p)
{
	struct job *j = p;
	if (j->snapshot)
		j->err = notes_writer_snapshot(j->w, &j->snap, &j->flag);
	else
		j->err = notes_writer_append(j->w, &j->u, &j->flag);
	atomic_store(&j->done, true);
	return NULL;
}

// append_start appends text (as its bytes) under client_id on a new thread.
static void append_start(struct job *j, struct notes_writer *w, const char *client_id, const char *text)
{
	memset(j, 0, sizeof(*j));
	j->w = w;
	memcpy(j->u.meeting_id, MEETING, HD_ID_LEN + 1);
	memcpy(j->u.document, "notes", 6);
	snprintf(j->u.client_update_id, sizeof(j->u.client_update_id), "%s", client_id);
	snprintf(j->data, sizeof(j->data), "%s", text);
	j->u.data = (uint8_t *)j->data;
	j->u.len = strlen(text);
	j->u.stored_at_ms = hd_now_ms();
	assert_int_equal(pthread_create(&j->thread, NULL, job_main, j), 0);
}

static void snapshot_start(struct job *j, struct notes_writer *w, int64_t seq)
{
	memset(j, 0, sizeof(*j));
	j->w = w;
	j->snapshot = true;
	memcpy(j->snap.meeting_id, MEETING, HD_ID_LEN + 1);
	memcpy(j->snap.document, "notes", 6);
	j->snap.version.seq = seq;
	j->snap.version.created_at_ms = hd_now_ms();
	j->snap.state = (uint8_t *)"state";
	j->snap.state_len = 5;
	j->snap.text = "";
	assert_int_equal(pthread_create(&j->thread, NULL, job_main, j), 0);
}

// settle waits (bounded) until n items are queued behind the one held at
// the gate.
static void settle(struct notes_writer *w, uint64_t n)
{
	struct notes_writer_stats st;
	int64_t until = hd_mono_ms() + 10000;
	do {
		usleep(1000);
		notes_writer_get_stats(w, &st);
	} while (st.queued < n && hd_mono_ms() < until);
	assert_int_equal(st.queued, n);
}

static int setup(void **state)
{
	memset(&S, 0, sizeof(S));
	S.base.ops = &fake_ops;
	hd_test_gate_init(&S.g);
	return 0;
}

static int teardown(void **state)
{
	hd_test_gate_fini(&S.g);
	return 0;
}

static nng_socket no_pub(void)
{
	nng_socket s = NNG_SOCKET_INITIALIZER;
	return s;
}

static void answered_only_after_store(void **state)
{
	struct notes_writer *w;
	static struct job a;
	assert_int_equal(notes_writer_open(&w, &S.base, no_pub(), 8), HD_OK);
	gate(true);
	append_start(&a, w, "a", "hello");
	wait_inside();
	usleep(100 * 1000);
	assert_false(atomic_load(&a.done)); // the store has not returned yet
	gate(false);
	pthread_join(a.thread, NULL);
	assert_int_equal(a.err, HD_OK);
	assert_int_equal(a.u.seq, 1);
	assert_false(a.flag);
	struct notes_writer_stats st;
	notes_writer_get_stats(w, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.appends, 1);
	assert_int_equal(st.stored, 1);
	assert_int_equal(st.published, 0); // no PUB socket
	notes_writer_close(w);
}

static void waiting_appends_share_a_batch(void **state)
{
	struct notes_writer *w;
	static struct job first, rest[10];
	assert_int_equal(notes_writer_open(&w, &S.base, no_pub(), 4), HD_OK);
	gate(true);
	append_start(&first, w, "first", "x");
	wait_inside();
	for (int i = 0; i < 10; i++) {
		char id[8];
		snprintf(id, sizeof(id), "r%d", i);
		append_start(&rest[i], w, id, "y");
		settle(w, (uint64_t)i + 1); // queued in this order
	}
	gate(false);
	pthread_join(first.thread, NULL);
	for (int i = 0; i < 10; i++) {
		pthread_join(rest[i].thread, NULL);
		assert_int_equal(rest[i].err, HD_OK);
		assert_int_equal(rest[i].u.seq, i + 2);
	}
	// One held call, then the ten waiting in batches of at most 4.
	assert_int_equal(S.ncalls, 4);
	assert_int_equal(S.calls[0], 1);
	assert_int_equal(S.calls[1], 4);
	assert_int_equal(S.calls[2], 4);
	assert_int_equal(S.calls[3], 2);
	struct notes_writer_stats st;
	notes_writer_get_stats(w, &st);
	assert_int_equal(st.batches, 4);
	assert_int_equal(st.appends, 11);
	assert_int_equal(st.max_batch, 4);
	notes_writer_close(w);
}

static void snapshot_splits_the_run(void **state)
{
	struct notes_writer *w;
	static struct job first, before[2], snap, after[3];
	assert_int_equal(notes_writer_open(&w, &S.base, no_pub(), 256), HD_OK);
	gate(true);
	append_start(&first, w, "first", "x");
	wait_inside();
	append_start(&before[0], w, "b0", "y");
	settle(w, 1);
	append_start(&before[1], w, "b1", "y");
	settle(w, 2);
	snapshot_start(&snap, w, 3);
	settle(w, 3);
	for (int i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof(id), "a%d", i);
		append_start(&after[i], w, id, "z");
		settle(w, (uint64_t)i + 4);
	}
	gate(false);
	pthread_join(first.thread, NULL);
	pthread_join(snap.thread, NULL);
	assert_int_equal(snap.err, HD_OK);
	assert_true(snap.flag);
	assert_int_equal(snap.snap.version.version, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(before[i].thread, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(after[i].thread, NULL);
	// The held append, the two before the snapshot, the snapshot, the three after.
	assert_int_equal(S.ncalls, 4);
	assert_int_equal(S.calls[0], 1);
	assert_int_equal(S.calls[1], 2);
	assert_int_equal(S.calls[2], 0);
	assert_int_equal(S.calls[3], 3);
	struct notes_writer_stats st;
	notes_writer_get_stats(w, &st);
	assert_int_equal(st.snapshots, 1);
	assert_int_equal(st.appends, 6);
	notes_writer_close(w);
}

static void storage_failure_fails_the_run(void **state)
{
	struct notes_writer *w;
	static struct job first, rest[5];
	assert_int_equal(notes_writer_open(&w, &S.base, no_pub(), 256), HD_OK);
	gate(true);
	append_start(&first, w, "first", "x");
	wait_inside();
	for (int i = 0; i < 5; i++) {
		char id[8];
		snprintf(id, sizeof(id), "r%d", i);
		append_start(&rest[i], w, id, "y");
	}
	settle(w, 5);
	pthread_mutex_lock(&S.g.mtx);
	S.result = HD_EUNAVAILABLE;
	pthread_mutex_unlock(&S.g.mtx);
	gate(false);
	pthread_join(first.thread, NULL);
	assert_int_equal(first.err, HD_EUNAVAILABLE);
	for (int i = 0; i < 5; i++) {
		pthread_join(rest[i].thread, NULL);
		assert_int_equal(rest[i].err, HD_EUNAVAILABLE);
	}
	assert_int_equal(S.ncalls, 2);
	assert_int_equal(S.calls[1], 5);
	struct notes_writer_stats st;
	notes_writer_get_stats(w, &st);
	assert_int_equal(st.failed, 6);
	assert_int_equal(st.stored, 0);

	// The store is back: the same append goes through.
	pthread_mutex_lock(&S.g.mtx);
	S.result = HD_OK;
	pthread_mutex_unlock(&S.g.mtx);
	append_start(&first, w, "first", "x");
	pthread_join(first.thread, NULL);
	assert_int_equal(first.err, HD_OK);
	notes_writer_close(w);
}

static void refused_run_is_split(void **state)
{
	struct notes_writer *w;
	static struct job first, good[3], bad;
	assert_int_equal(notes_writer_open(&w, &S.base, no_pub(), 256), HD_OK);
	gate(true);
	append_start(&first, w, "first", "x");
	wait_inside();
	append_start(&good[0], w, "g0", "fine");
	append_start(&bad, w, "bad id", "fine"); // hd_doc_append refuses the space
	append_start(&good[1], w, "g1", "fine");
	append_start(&good[2], w, "g2", "fine");
	settle(w, 4);
	gate(false);
	pthread_join(first.thread, NULL);
	pthread_join(bad.thread, NULL);
	assert_int_equal(bad.err, HD_EBADREQUEST);
	for (int i = 0; i < 3; i++) {
		pthread_join(good[i].thread, NULL);
		assert_int_equal(good[i].err, HD_OK);
	}
	struct notes_writer_stats st;
	notes_writer_get_stats(w, &st);
	assert_int_equal(st.stored, 4);
	assert_int_equal(st.failed, 1);
	notes_writer_close(w);
}

static void duplicate_keeps_the_callers_bytes(void **state)
{
	struct notes_writer *w;
	static struct job a;
	S.duplicate_id = "again";
	assert_int_equal(notes_writer_open(&w, &S.base, no_pub(), 8), HD_OK);
	append_start(&a, w, "again", "retried bytes");
	pthread_join(a.thread, NULL);
	assert_int_equal(a.err, HD_OK);
	assert_true(a.flag);
	assert_int_equal(a.u.seq, 1);
	assert_string_equal(a.u.author_name, "First Author"); // the stored update's
	assert_ptr_equal(a.u.data, (uint8_t *)a.data);        // the caller's
	assert_int_equal(a.u.len, strlen("retried bytes"));
	struct notes_writer_stats st;
	notes_writer_get_stats(w, &st);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.stored, 0);
	notes_writer_close(w);
}

static void open_refuses_zero_batch(void **state)
{
	struct notes_writer *w = NULL;
	assert_int_equal(notes_writer_open(&w, &S.base, no_pub(), 0), HD_EBADREQUEST);
	assert_null(w);
	notes_writer_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(answered_only_after_store, setup, teardown),
		cmocka_unit_test_setup_teardown(waiting_appends_share_a_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_splits_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(storage_failure_fails_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_run_is_split, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_keeps_the_callers_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(open_refuses_zero_batch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
