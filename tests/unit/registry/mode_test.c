// mode_test.c: a meeting's media mode (MESH or SFU) against a real Redis and
// a real store, with the media_mode room events read back from a real PUB
// socket: the switch at MESH_MAX+1, no switch back before SFU_DOWN_SECONDS,
// the switch back after it (by the sweep), the clock starting again when the
// count rises in between, one epoch per change, racing joins on separate
// contexts making one switch, and SFU_ENABLED off never leaving MESH.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "common/util.h"
#include "registry/mode.h"
#include "registry/presence.h"

#define MODE_EVENT HUDDLE__V1__ROOM_EVENT__BODY_MEDIA_MODE
#define MESH HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH
#define SFU HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU
#define TEST_MESH_MAX 4
#define TEST_DOWN_MAX 3
#define TEST_DOWN_MS 2000 // SFU_DOWN_SECONDS in these tests (times are given, not waited for)
#define EVENT_MS 2000     // wait for an expected event
#define QUIET_MS 200      // wait for an event that must not come
#define RACERS 8          // joins racing past MESH_MAX
#define RACE_ROUNDS 5
#define RESTART_GAP_MS 300 // between two drops to SFU_DOWN_MAX in clock_restarts

static struct reg_test T;
static const struct reg_mode_policy enabled = {true, TEST_MESH_MAX, TEST_DOWN_MAX, TEST_DOWN_MS};

static void join_on(struct reg_ctx *c, const char *meeting, const char *name, int64_t now, struct reg_join *j)
{
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.display_name = (char *)name;
	req.gateway_id = "gw-1";
	hd_err err = reg_presence_join(c, &req, now, j, &why);
	if (err != HD_OK)
		fail_msg("join %s: %s (%s)", name, hd_err_name(err), why);
}

// join_n joins n participants at now, keeping their ids in ids.
static void join_n(const char *meeting, size_t n, int64_t now, char ids[][HD_ID_LEN + 1], struct reg_mode *last)
{
	for (size_t i = 0; i < n; i++) {
		struct reg_join j;
		join_on(&T.ctx, meeting, "Someone", now, &j);
		snprintf(ids[i], HD_ID_LEN + 1, "%s", j.self.id);
		if (last != NULL)
			*last = j.mode;
		reg_join_fini(&j);
	}
}

static void leave(const char *meeting, const char *pid)
{
	const char *why = NULL;
	assert_int_equal(reg_presence_leave(&T.ctx, meeting, pid, &why), HD_OK);
}

static struct reg_mode mode_of(const char *meeting)
{
	struct reg_mode m;
	const char *why = NULL;
	assert_int_equal(reg_mode_read(&T.ctx, meeting, &m, &why), HD_OK);
	return m;
}

static void sweep(int64_t now)
{
	size_t expired = 0;
	assert_int_equal(reg_presence_sweep(&T.ctx, now, &expired), HD_OK);
	assert_int_equal(expired, 0); // nobody here is stale: only the mode may change
}

// events waits for the meeting's want-th media_mode event, or with want 0
// lets QUIET_MS pass (for an event that must not come), and returns how
// many there are.
static size_t events(const char *meeting, size_t want)
{
	if (want == 0) {
		usleep(QUIET_MS * 1000);
		return reg_test_count(&T, meeting, MODE_EVENT, NULL);
	}
	return reg_test_wait(&T, meeting, MODE_EVENT, NULL, want, EVENT_MS);
}

static void last_event_is(const char *meeting, int mode, uint64_t epoch)
{
	const Huddle__V1__RoomEvent *ev = reg_test_last(&T, meeting, MODE_EVENT, NULL);
	assert_non_null(ev);
	assert_non_null(ev->media_mode);
	assert_int_equal(ev->media_mode->mode, mode);
	assert_int_equal(ev->media_mode->epoch, epoch);
}

// The policy alone, step by step.
static void decide_rules(void **state)
{
	(void)state;
	struct reg_mode cur = {MESH, 0, 0}, next;
	assert_false(reg_mode_decide(&enabled, &cur, TEST_MESH_MAX, 1000, &next));
	assert_true(reg_mode_decide(&enabled, &cur, TEST_MESH_MAX + 1, 1000, &next));
	assert_int_equal(next.mode, SFU);
	assert_int_equal(next.epoch, 1);
	cur = next;
	assert_false(reg_mode_decide(&enabled, &cur, TEST_DOWN_MAX + 1, 2000, &next)); // 4: stays, no clock
	assert_true(reg_mode_decide(&enabled, &cur, TEST_DOWN_MAX, 3000, &next));      // 3: the clock starts
	assert_int_equal(next.mode, SFU);
	assert_int_equal(next.low_since_ms, 3000);
	cur = next;
	assert_false(reg_mode_decide(&enabled, &cur, 1, 3000 + TEST_DOWN_MS - 1, &next)); // not yet
	assert_true(reg_mode_decide(&enabled, &cur, TEST_DOWN_MAX + 1, 3000 + TEST_DOWN_MS - 1, &next));
	assert_int_equal(next.low_since_ms, 0); // back above: the clock stops
	assert_true(reg_mode_decide(&enabled, &cur, 0, 3000 + TEST_DOWN_MS, &next));
	assert_int_equal(next.mode, MESH);
	assert_int_equal(next.epoch, 2);
	assert_int_equal(next.low_since_ms, 0);
	// Off: MESH always; an SFU left from before moves back at once.
	struct reg_mode_policy off = enabled;
	off.sfu_enabled = false;
	cur = (struct reg_mode){MESH, 2, 0};
	assert_false(reg_mode_decide(&off, &cur, 12, 1000, &next));
	cur = (struct reg_mode){SFU, 3, 0};
	assert_true(reg_mode_decide(&off, &cur, 12, 1000, &next));
	assert_int_equal(next.mode, MESH);
	assert_int_equal(next.epoch, 4);
}

// MESH up to MESH_MAX, SFU from the next joiner on, in its JoinReply and in
// one event; later joiners get the same mode and epoch and no new event.
static void switch_at_mesh_max_plus_one(void **state)
{
	(void)state;
	char id[23], ids[8][HD_ID_LEN + 1];
	struct reg_mode m;
	T.ctx.mode = enabled;
	reg_test_meeting(&T, id);
	int64_t now = hd_now_ms();
	join_n(id, TEST_MESH_MAX, now, ids, &m);
	assert_int_equal(m.mode, MESH);
	assert_int_equal(m.epoch, 0);
	assert_int_equal(events(id, 0), 0);
	join_n(id, 1, now, ids + TEST_MESH_MAX, &m);
	assert_int_equal(m.mode, SFU);
	assert_int_equal(m.epoch, 1);
	assert_int_equal(events(id, 1), 1);
	last_event_is(id, SFU, 1);
	join_n(id, 2, now, ids + TEST_MESH_MAX + 1, &m); // late joiners
	assert_int_equal(m.mode, SFU);
	assert_int_equal(m.epoch, 1);
	sweep(now + 1);
	assert_int_equal(events(id, 0), 1);
	assert_int_equal(mode_of(id).epoch, 1);
}

// SFU stays until the count has been <= SFU_DOWN_MAX for SFU_DOWN_SECONDS
// without a break; the sweep moves it back then, once.
static void switch_back_after_down_seconds(void **state)
{
	(void)state;
	char id[23], ids[8][HD_ID_LEN + 1];
	struct reg_mode m;
	T.ctx.mode = enabled;
	reg_test_meeting(&T, id);
	int64_t now = hd_now_ms();
	join_n(id, TEST_MESH_MAX + 1, now, ids, &m);
	assert_int_equal(m.mode, SFU);
	leave(id, ids[0]); // 4 left: more than SFU_DOWN_MAX, no clock
	assert_int_equal(mode_of(id).low_since_ms, 0);
	leave(id, ids[1]); // 3 left: the clock starts
	int64_t low = mode_of(id).low_since_ms;
	assert_true(low > 0);
	sweep(low + TEST_DOWN_MS - 1);
	assert_int_equal(mode_of(id).mode, SFU);
	assert_int_equal(events(id, 0), 1); // still only the switch to SFU
	sweep(low + TEST_DOWN_MS);
	m = mode_of(id);
	assert_int_equal(m.mode, MESH);
	assert_int_equal(m.epoch, 2);
	assert_int_equal(events(id, 2), 2);
	last_event_is(id, MESH, 2);
	sweep(low + 2 * TEST_DOWN_MS);
	assert_int_equal(events(id, 0), 2); // nothing more
	// And up again: epoch 3.
	join_n(id, 2, hd_now_ms(), ids + 6, &m);
	assert_int_equal(m.mode, SFU);
	assert_int_equal(m.epoch, 3);
	assert_int_equal(events(id, 3), 3);
}

// The clock restarts: 3 from T1, 4 for a moment, 3 again from T2 (at
// least RESTART_GAP_MS later): at T1 + SFU_DOWN_SECONDS it stays SFU, at
// T2 + SFU_DOWN_SECONDS it moves.
static void clock_restarts(void **state)
{
	(void)state;
	char id[23], ids[8][HD_ID_LEN + 1];
	struct reg_mode m;
	T.ctx.mode = enabled;
	reg_test_meeting(&T, id);
	join_n(id, TEST_MESH_MAX + 1, hd_now_ms(), ids, &m);
	leave(id, ids[0]);
	leave(id, ids[1]);
	int64_t t1 = mode_of(id).low_since_ms;
	assert_true(t1 > 0);
	join_n(id, 1, t1 + 1, ids + 5, &m); // 4: the clock stops
	assert_int_equal(m.low_since_ms, 0);
	usleep(RESTART_GAP_MS * 1000);
	leave(id, ids[5]); // 3 again, stamped now
	int64_t t2 = mode_of(id).low_since_ms;
	assert_true(t2 >= t1 + RESTART_GAP_MS);
	sweep(t1 + TEST_DOWN_MS);
	assert_int_equal(mode_of(id).mode, SFU);
	sweep(t2 + TEST_DOWN_MS);
	m = mode_of(id);
	assert_int_equal(m.mode, MESH);
	assert_int_equal(m.epoch, 2);
	assert_int_equal(events(id, 2), 2);
}

// racer joins one participant on a context of its own once the gate opens.
struct racer {
	struct reg_ctx ctx;
	const char *meeting;
	pthread_barrier_t *gate;
	struct reg_join j;
	hd_err err;
};

static void *racer_main(void *p)
{
	struct racer *r = p;
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)r->meeting;
	req.display_name = "Racer";
	req.gateway_id = "gw-2";
	pthread_barrier_wait(r->gate);
	r->err = reg_presence_join(&r->ctx, &req, hd_now_ms(), &r->j, &why);
	return NULL;
}

// RACERS joins at once past MESH_MAX on separate contexts (as separate
// workers or registry replicas): one switch, one event, epoch 1 everywhere.
static void racing_joins_switch_once(void **state)
{
	(void)state;
	for (int round = 0; round < RACE_ROUNDS; round++) {
		char id[23], ids[8][HD_ID_LEN + 1];
		struct racer r[RACERS];
		pthread_t th[RACERS];
		pthread_barrier_t gate;
		T.ctx.mode = enabled;
		reg_test_meeting(&T, id);
		join_n(id, TEST_MESH_MAX - 1, hd_now_ms(), ids, NULL);
		pthread_barrier_init(&gate, NULL, RACERS);
		for (int i = 0; i < RACERS; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			reg_test_ctx_open(&T, &r[i].ctx);
			r[i].ctx.mode = enabled;
			r[i].meeting = id;
			r[i].gate = &gate;
			assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
		}
		int sfu_replies = 0;
		for (int i = 0; i < RACERS; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(r[i].err, HD_OK);
			// Each reply's mode is the one decided with that joiner counted:
			// MESH epoch 0 or SFU epoch 1, never anything else.
			assert_true((r[i].j.mode.mode == MESH && r[i].j.mode.epoch == 0) ||
				    (r[i].j.mode.mode == SFU && r[i].j.mode.epoch == 1));
			sfu_replies += r[i].j.mode.mode == SFU;
			reg_join_fini(&r[i].j);
			reg_test_ctx_close(&r[i].ctx);
		}
		pthread_barrier_destroy(&gate);
		assert_true(sfu_replies >= 1); // the last one to decide counted everyone
		struct reg_mode m = mode_of(id);
		assert_int_equal(m.mode, SFU);
		assert_int_equal(m.epoch, 1);
		assert_int_equal(events(id, 1), 1);
		assert_int_equal(events(id, 0), 1); // and no second one comes late
		last_event_is(id, SFU, 1);
	}
}

// SFU_ENABLED=0: however many join, MESH with epoch 0 and no event; an SFU
// left from when it was on moves back at the next sweep.
static void disabled_never_switches(void **state)
{
	(void)state;
	char id[23], ids[12][HD_ID_LEN + 1];
	struct reg_mode m;
	T.ctx.mode = enabled;
	T.ctx.mode.sfu_enabled = false;
	reg_test_meeting(&T, id);
	int64_t now = hd_now_ms();
	join_n(id, 12, now, ids, &m);
	assert_int_equal(m.mode, MESH);
	assert_int_equal(m.epoch, 0);
	sweep(now + 1);
	assert_int_equal(events(id, 0), 0);
	assert_int_equal(mode_of(id).epoch, 0);

	char id2[23];
	T.ctx.mode = enabled;
	reg_test_meeting(&T, id2);
	join_n(id2, TEST_MESH_MAX + 1, now, ids, &m);
	assert_int_equal(m.mode, SFU);
	T.ctx.mode.sfu_enabled = false;
	sweep(now + 1);
	m = mode_of(id2);
	assert_int_equal(m.mode, MESH);
	assert_int_equal(m.epoch, 2);
	assert_int_equal(events(id2, 2), 2);
	last_event_is(id2, MESH, 2);
	T.ctx.mode = enabled;
}

static int group_setup(void **state)
{
	(void)state;
	reg_test_open(&T, 15);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	reg_test_close(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decide_rules),
		cmocka_unit_test(switch_at_mesh_max_plus_one),
		cmocka_unit_test(switch_back_after_down_seconds),
		cmocka_unit_test(clock_restarts),
		cmocka_unit_test(racing_joins_switch_once),
		cmocka_unit_test(disabled_never_switches),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
