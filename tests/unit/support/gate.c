// gate.c: see gate.h.
#include "gate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <unistd.h>

#include "common/util.h"

void hd_test_gate_init(struct hd_test_gate *g)
{
	pthread_mutex_init(&g->mtx, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->closed = false;
	g->inside = 0;
}

void hd_test_gate_fini(struct hd_test_gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mtx);
}

void hd_test_gate_set(struct hd_test_gate *g, bool closed)
{
	pthread_mutex_lock(&g->mtx);
	g->closed = closed;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mtx);
}

void hd_test_gate_pass(struct hd_test_gate *g)
{
	g->inside++;
	pthread_cond_broadcast(&g->cv);
	while (g->closed)
		pthread_cond_wait(&g->cv, &g->mtx);
	g->inside--;
}

void hd_test_gate_wait_inside(struct hd_test_gate *g, int wait_ms)
{
	int64_t until = hd_mono_ms() + wait_ms;
	pthread_mutex_lock(&g->mtx);
	while (g->inside == 0 && hd_mono_ms() < until) {
		pthread_mutex_unlock(&g->mtx);
		usleep(1000);
		pthread_mutex_lock(&g->mtx);
	}
	int inside = g->inside;
	pthread_mutex_unlock(&g->mtx);
	assert_int_equal(inside, 1);
}
