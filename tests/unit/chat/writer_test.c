// writer_test.c: the group-commit writer against a scripted store: a post
// is answered only once hd_chat_append returned, everything waiting goes
// into the next call (at most batch_max), a storage failure fails the whole
// batch, a batch the store refuses is retried message by message.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chat/writer.h"
#include "common/util.h"
#include "gate.h"

#define MAX_CALLS 64

// fake_store scripts chat_append: it can hold calls at a gate, fail them,
// and records each call's size. Seqs are per store, not per meeting.
struct fake_store {
	struct hd_store base;
	struct hd_test_gate g; // holds the call; g.mtx guards every field here
	hd_err result;
	size_t calls[MAX_CALLS];
	int ncalls;
	int64_t seq;
};

static struct fake_store S;

static void fake_close(struct hd_store *s)
{
}

static hd_err fake_append(struct hd_store *s, struct hd_chat_message *msgs, size_t n, bool *duplicate)
{
	pthread_mutex_lock(&S.g.mtx);
	hd_test_gate_pass(&S.g);
	if (S.ncalls < MAX_CALLS)
		S.calls[S.ncalls++] = n;
	hd_err err = S.result;
	if (err == HD_OK)
		for (size_t i = 0; i < n; i++) {
			msgs[i].seq = ++S.seq;
			duplicate[i] = false;
		}
	pthread_mutex_unlock(&S.g.mtx);
	return err;
}

static const struct hd_store_ops fake_ops = {.close = fake_close, .chat_append = fake_append};

static void gate(bool closed)
{
	hd_test_gate_set(&S.g, closed);
}

// wait_inside waits (bounded) until a call is held at the gate.
static void wait_inside(void)
{
	hd_test_gate_wait_inside(&S.g, 5000);
}

struct post {
	pthread_t thread;
	struct chat_writer *w;
	struct hd_chat_message msg;
	bool duplicate;
	hd_err err;
	atomic_bool done;
};

static void *post_main(void *p)
{
	struct post *po = p;
	po->err = chat_writer_post(po->w, &po->msg, &po->duplicate);
	atomic_store(&po->done, true);
	return NULL;
}

static void post_start(struct post *po, struct chat_writer *w, const char *client_id, const char *text)
{
	memset(po, 0, sizeof(*po));
	po->w = w;
	memcpy(po->msg.meeting_id, "AAAAAAAAAAAAAAAAAAAAAB", HD_ID_LEN + 1);
	snprintf(po->msg.client_message_id, sizeof(po->msg.client_message_id), "%s", client_id);
	snprintf(po->msg.sender_name, sizeof(po->msg.sender_name), "Ada");
	snprintf(po->msg.text, sizeof(po->msg.text), "%s", text);
	po->msg.sent_at_ms = hd_now_ms();
	assert_int_equal(pthread_create(&po->thread, NULL, post_main, po), 0);
}

// settle waits (bounded) until n posts are queued behind the one held at
// the gate.
static void settle(struct chat_writer *w, uint64_t n)
{
	struct chat_writer_stats st;
	int64_t until = hd_mono_ms() + 10000;
	do {
		usleep(1000);
		chat_writer_get_stats(w, &st);
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
	struct chat_writer *w;
	static struct post a;
	assert_int_equal(chat_writer_open(&w, &S.base, no_pub(), 8), HD_OK);
	gate(true);
	post_start(&a, w, "a", "hello");
	wait_inside();
	usleep(100 * 1000);
	assert_false(atomic_load(&a.done)); // the store has not returned yet
	gate(false);
	pthread_join(a.thread, NULL);
	assert_int_equal(a.err, HD_OK);
	assert_int_equal(a.msg.seq, 1);
	assert_false(a.duplicate);
	struct chat_writer_stats st;
	chat_writer_get_stats(w, &st);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.posts, 1);
	assert_int_equal(st.stored, 1);
	assert_int_equal(st.published, 0); // no PUB socket
	chat_writer_close(w);
}

static void waiting_posts_share_a_batch(void **state)
{
	struct chat_writer *w;
	static struct post first, rest[10];
	assert_int_equal(chat_writer_open(&w, &S.base, no_pub(), 4), HD_OK);
	gate(true);
	post_start(&first, w, "first", "x");
	wait_inside();
	for (int i = 0; i < 10; i++) {
		char id[8];
		snprintf(id, sizeof(id), "r%d", i);
		post_start(&rest[i], w, id, "y");
	}
	settle(w, 10);
	gate(false);
	pthread_join(first.thread, NULL);
	for (int i = 0; i < 10; i++) {
		pthread_join(rest[i].thread, NULL);
		assert_int_equal(rest[i].err, HD_OK);
	}
	// One held call, then the ten waiting in batches of at most 4.
	assert_int_equal(S.ncalls, 4);
	assert_int_equal(S.calls[0], 1);
	assert_int_equal(S.calls[1], 4);
	assert_int_equal(S.calls[2], 4);
	assert_int_equal(S.calls[3], 2);
	struct chat_writer_stats st;
	chat_writer_get_stats(w, &st);
	assert_int_equal(st.batches, 4);
	assert_int_equal(st.posts, 11);
	assert_int_equal(st.max_batch, 4);
	chat_writer_close(w);
}

static void storage_failure_fails_the_batch(void **state)
{
	struct chat_writer *w;
	static struct post first, rest[5];
	assert_int_equal(chat_writer_open(&w, &S.base, no_pub(), 256), HD_OK);
	gate(true);
	post_start(&first, w, "first", "x");
	wait_inside();
	for (int i = 0; i < 5; i++) {
		char id[8];
		snprintf(id, sizeof(id), "r%d", i);
		post_start(&rest[i], w, id, "y");
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
	struct chat_writer_stats st;
	chat_writer_get_stats(w, &st);
	assert_int_equal(st.failed, 6);
	assert_int_equal(st.stored, 0);

	// The store is back: the same posts go through.
	pthread_mutex_lock(&S.g.mtx);
	S.result = HD_OK;
	pthread_mutex_unlock(&S.g.mtx);
	post_start(&first, w, "first", "x");
	pthread_join(first.thread, NULL);
	assert_int_equal(first.err, HD_OK);
	chat_writer_close(w);
}

static void refused_batch_is_split(void **state)
{
	struct chat_writer *w;
	static struct post first, good[3], bad;
	assert_int_equal(chat_writer_open(&w, &S.base, no_pub(), 256), HD_OK);
	gate(true);
	post_start(&first, w, "first", "x");
	wait_inside();
	post_start(&good[0], w, "g0", "fine");
	post_start(&bad, w, "bad", ""); // hd_chat_append refuses empty text
	post_start(&good[1], w, "g1", "fine");
	post_start(&good[2], w, "g2", "fine");
	settle(w, 4);
	gate(false);
	pthread_join(first.thread, NULL);
	pthread_join(bad.thread, NULL);
	assert_int_equal(bad.err, HD_EBADREQUEST);
	for (int i = 0; i < 3; i++) {
		pthread_join(good[i].thread, NULL);
		assert_int_equal(good[i].err, HD_OK);
	}
	struct chat_writer_stats st;
	chat_writer_get_stats(w, &st);
	assert_int_equal(st.stored, 4);
	assert_int_equal(st.failed, 1);
	chat_writer_close(w);
}

static void open_refuses_zero_batch(void **state)
{
	struct chat_writer *w = NULL;
	assert_int_equal(chat_writer_open(&w, &S.base, no_pub(), 0), HD_EBADREQUEST);
	assert_null(w);
	chat_writer_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(answered_only_after_store, setup, teardown),
		cmocka_unit_test_setup_teardown(waiting_posts_share_a_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(storage_failure_fails_the_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_batch_is_split, setup, teardown),
		cmocka_unit_test_setup_teardown(open_refuses_zero_batch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
