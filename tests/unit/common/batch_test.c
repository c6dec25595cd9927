// batch_test.c: the group-commit hand-off: a round takes everything waiting
// (at most max, in the order handed in), workers are answered with what the
// round set, after runs once they are, and close finishes what was handed in.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/batch.h"
#include "common/util.h"
#include "gate.h"

#define MAX_ROUNDS 16
#define MAX_ITEMS 64

// script holds the first round at a gate and records every round.
struct script {
	struct hd_test_gate g; // holds the call; g.mtx guards every field here
	size_t rounds[MAX_ROUNDS];
	int nrounds;
	int order[MAX_ITEMS]; // item values in the order rounds saw them
	int nitems;
	int afters;
};

static struct script S;

static void round_fn(void *ctx, struct hd_batch_item **items, size_t n)
{
	pthread_mutex_lock(&S.g.mtx);
	hd_test_gate_pass(&S.g);
	S.rounds[S.nrounds++] = n;
	for (size_t i = 0; i < n; i++) {
		int v = *(int *)items[i]->arg;
		S.order[S.nitems++] = v;
		items[i]->err = v < 0 ? HD_EBADREQUEST : HD_OK;
	}
	pthread_mutex_unlock(&S.g.mtx);
}

static void after_fn(void *ctx)
{
	pthread_mutex_lock(&S.g.mtx);
	S.afters++;
	pthread_mutex_unlock(&S.g.mtx);
}

static void gate(bool closed)
{
	hd_test_gate_set(&S.g, closed);
}

static void wait_inside(void)
{
	hd_test_gate_wait_inside(&S.g, 5000);
}

struct worker {
	pthread_t thread;
	struct hd_batch *b;
	int value;
	hd_err err;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct hd_batch_item it = {.arg = &w->value};
	w->err = hd_batch_submit(w->b, &it);
	return NULL;
}

static void worker_start(struct worker *w, struct hd_batch *b, int value)
{
	*w = (struct worker){.b = b, .value = value};
	assert_int_equal(pthread_create(&w->thread, NULL, worker_main, w), 0);
}

// settle waits (bounded) until n items wait behind the held round.
static void settle(struct hd_batch *b, size_t n)
{
	int64_t until = hd_mono_ms() + 5000;
	while (hd_batch_queued(b) < n && hd_mono_ms() < until)
		usleep(1000);
	assert_int_equal(hd_batch_queued(b), n);
}

static int setup(void **state)
{
	memset(&S, 0, sizeof(S));
	hd_test_gate_init(&S.g);
	return 0;
}

static int teardown(void **state)
{
	hd_test_gate_fini(&S.g);
	return 0;
}

static void rounds_take_what_waits(void **state)
{
	struct hd_batch *b;
	static struct worker first, rest[7];
	assert_int_equal(hd_batch_open(&b, 3, round_fn, after_fn, NULL), HD_OK);
	gate(true);
	worker_start(&first, b, 0);
	wait_inside();
	for (int i = 0; i < 7; i++) {
		worker_start(&rest[i], b, i == 4 ? -1 : i + 1);
		settle(b, (size_t)i + 1); // handed in in this order
	}
	gate(false);
	pthread_join(first.thread, NULL);
	assert_int_equal(first.err, HD_OK);
	for (int i = 0; i < 7; i++) {
		pthread_join(rest[i].thread, NULL);
		assert_int_equal(rest[i].err, i == 4 ? HD_EBADREQUEST : HD_OK); // each gets its own outcome
	}
	hd_batch_close(b);
	assert_int_equal(S.nrounds, 4);
	assert_int_equal(S.rounds[0], 1);
	assert_int_equal(S.rounds[1], 3);
	assert_int_equal(S.rounds[2], 3);
	assert_int_equal(S.rounds[3], 1);
	static const int want[] = {0, 1, 2, 3, 4, -1, 6, 7};
	assert_memory_equal(S.order, want, sizeof(want));
	assert_int_equal(S.afters, 4);
}

static void close_finishes_what_was_handed_in(void **state)
{
	struct hd_batch *b;
	static struct worker first, rest[2];
	assert_int_equal(hd_batch_open(&b, 8, round_fn, NULL, NULL), HD_OK);
	gate(true);
	worker_start(&first, b, 1);
	wait_inside();
	worker_start(&rest[0], b, 2);
	worker_start(&rest[1], b, 3);
	settle(b, 2);
	gate(false);
	hd_batch_close(b); // joins the thread only once both rounds are stored
	pthread_join(first.thread, NULL);
	pthread_join(rest[0].thread, NULL);
	pthread_join(rest[1].thread, NULL);
	assert_int_equal(first.err, HD_OK);
	assert_int_equal(rest[0].err, HD_OK);
	assert_int_equal(rest[1].err, HD_OK);
	assert_int_equal(S.nitems, 3);
}

static void open_refuses_zero(void **state)
{
	struct hd_batch *b = NULL;
	assert_int_equal(hd_batch_open(&b, 0, round_fn, NULL, NULL), HD_EBADREQUEST);
	assert_null(b);
	hd_batch_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rounds_take_what_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(close_finishes_what_was_handed_in, setup, teardown),
		cmocka_unit_test_setup_teardown(open_refuses_zero, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
