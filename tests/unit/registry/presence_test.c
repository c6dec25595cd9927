// presence_test.c: join, resume, leave, heartbeat and expiry against a real
// Redis (directly, or through a proxy that loses a reply), with the clock
// given explicitly (no sleeps for the TTL) and the room events read back
// from a real PUB socket.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "../support/redis_proxy.h"
#include "common/util.h"
#include "registry/presence.h"

#define LEFT HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT
#define JOINED HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED
#define UPDATED HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED
#define QUIET_MS 150 // how long we listen for an event that must not come

static struct reg_test T;

static hd_err join(struct reg_ctx *c, const char *meeting, const char *name, const char *pid, const char *token,
		   int64_t now, struct reg_join *j)
{
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.display_name = (char *)name;
	req.gateway_id = pid != NULL ? "gw-2" : "gw-1";
	req.participant_id = (char *)(pid != NULL ? pid : "");
	req.resume_token = (char *)(token != NULL ? token : "");
	hd_err err = reg_presence_join(c, &req, now, j, &why);
	if (err != HD_OK)
		assert_non_null(why);
	return err;
}

static void join_ok(const char *meeting, const char *name, int64_t now, struct reg_join *j)
{
	hd_err err = join(&T.ctx, meeting, name, NULL, NULL, now, j);
	if (err != HD_OK)
		fail_msg("join %s: %s", name, hd_err_name(err));
}

// redis_int runs a command on the test database and returns its integer
// reply, or the score of a ZSCORE (-1 for nil).
static long long redis_int(int argc, const char **argv)
{
	redisReply *rep;
	long long v = -1;
	assert_int_equal(hd_redis_command(T.ctx.redis, &rep, argc, argv, NULL), HD_OK);
	if (rep->type == REDIS_REPLY_INTEGER)
		v = rep->integer;
	else if (rep->type == REDIS_REPLY_STRING)
		v = strtoll(rep->str, NULL, 10);
	freeReplyObject(rep);
	return v;
}

static long long seen_of(const char *meeting, const char *pid)
{
	char key[64];
	snprintf(key, sizeof(key), "huddle:{%s}:seen", meeting);
	const char *argv[] = {"ZSCORE", key, pid};
	return redis_int(3, argv);
}

static long long is_member(const char *meeting, const char *pid)
{
	char key[64];
	snprintf(key, sizeof(key), "huddle:{%s}:members", meeting);
	const char *argv[] = {"HEXISTS", key, pid};
	return redis_int(3, argv);
}

static long long active_of(const char *meeting)
{
	const char *argv[] = {"ZSCORE", "huddle:meetings:active", meeting};
	return redis_int(3, argv);
}

static void sweep(struct reg_ctx *c, int64_t now, size_t *expired)
{
	size_t n;
	assert_int_equal(reg_presence_sweep(c, now, expired != NULL ? expired : &n), HD_OK);
}

// proxy_ctx gives *c, a context like T.ctx whose Redis connection goes
// through a new proxy *p, to lose a reply on demand. Undo with proxy_ctx_close.
static void proxy_ctx(struct reg_ctx *c, struct hd_test_proxy **p)
{
	if (hd_test_proxy_open(p, T.redis_url) != 0)
		skip(); // the fixture Redis is not at an IPv4 address
	*c = T.ctx;
	assert_int_equal(hd_redis_open(&c->redis, hd_test_proxy_url(*p), 2000), HD_OK);
}

static void proxy_ctx_close(struct reg_ctx *c, struct hd_test_proxy *p)
{
	hd_redis_close(c->redis);
	hd_test_proxy_close(p);
}

static int flush(void **state)
{
	reg_test_flush(&T);
	return 0;
}

// ---- tests ----

static void join_list_leave(void **state)
{
	char m[23];
	struct reg_join a, b, c;
	struct reg_roster r;
	const char *why;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, m);

	join_ok(m, "  Alice \t", t0, &a);
	assert_string_equal(a.self.display_name, "Alice"); // trimmed
	assert_true(hd_id_valid(a.self.id));
	assert_true(hd_id_valid(a.self.resume_token));
	assert_string_not_equal(a.self.id, a.self.resume_token);
	assert_int_equal(a.self.joined_at_ms, t0);
	assert_false(a.resumed);
	assert_int_equal(a.others.n, 0);
	assert_string_equal(a.meeting.id, m);
	assert_string_equal(a.meeting.title, "test");

	join_ok(m, "Bob", t0 + 1, &b);
	assert_int_equal(b.others.n, 1);
	assert_string_equal(b.others.members[0].id, a.self.id);
	assert_string_equal(b.others.members[0].display_name, "Alice");
	assert_string_equal(b.others.members[0].resume_token, a.self.resume_token); // server-side only

	assert_int_equal(reg_test_wait(&T, m, JOINED, a.self.id, 1, 2000), 1);
	assert_int_equal(reg_test_wait(&T, m, JOINED, b.self.id, 1, 2000), 1);
	const Huddle__V1__RoomEvent *ev = reg_test_find(&T, m, JOINED, b.self.id);
	assert_string_equal(ev->meeting_id, m);
	assert_string_equal(ev->participant_joined->participant->display_name, "Bob");
	assert_int_equal(ev->participant_joined->participant->joined_at_ms, t0 + 1);

	assert_int_equal(reg_presence_list(&T.ctx, m, &r, &why), HD_OK);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.members[0].id, a.self.id); // by joined_at
	assert_string_equal(r.members[1].id, b.self.id);
	reg_roster_fini(&r);

	assert_int_equal(reg_presence_leave(&T.ctx, m, a.self.id, &why), HD_OK);
	assert_int_equal(reg_test_wait(&T, m, LEFT, a.self.id, 1, 2000), 1);
	ev = reg_test_find(&T, m, LEFT, a.self.id);
	assert_int_equal(ev->participant_left->reason, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_LEFT);
	assert_int_equal(is_member(m, a.self.id), 0);
	assert_int_equal(seen_of(m, a.self.id), -1);

	// Leaving again is fine and tells nobody.
	assert_int_equal(reg_presence_leave(&T.ctx, m, a.self.id, &why), HD_OK);
	assert_int_equal(reg_presence_leave(&T.ctx, m, "not-an-id", &why), HD_OK);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, LEFT, a.self.id), 1);

	join_ok(m, "Carol", t0 + 2, &c);
	assert_int_equal(c.others.n, 1);
	assert_string_equal(c.others.members[0].id, b.self.id);
	assert_int_equal(reg_presence_list(&T.ctx, m, &r, &why), HD_OK);
	assert_int_equal(r.n, 2);
	reg_roster_fini(&r);

	// An unknown meeting has no roster.
	assert_int_equal(reg_presence_list(&T.ctx, "AAAAAAAAAAAAAAAAAAAAAA", &r, &why), HD_EUNKNOWNMEETING);
	reg_join_fini(&a);
	reg_join_fini(&b);
	reg_join_fini(&c);
}

static void join_validation(void **state)
{
	char m[23], name64[65], name65[66];
	struct reg_join j;
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	const char *why = NULL;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, m);
	memset(name64, 'x', 64);
	name64[64] = '\0';
	memset(name65, 'x', 65);
	name65[65] = '\0';

	const char *bad[] = {"", "   ", " \t\n ", name65, "\xff\xfe", "caf\xc3", "a\xed\xa0\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(join(&T.ctx, m, bad[i], NULL, NULL, t0, &j), HD_EBADREQUEST);
	join_ok(m, name64, t0, &j);
	assert_string_equal(j.self.display_name, name64);
	reg_join_fini(&j);
	join_ok(m, "  Zoë 🎉  ", t0, &j);
	assert_string_equal(j.self.display_name, "Zoë 🎉");
	reg_join_fini(&j);

	assert_int_equal(join(&T.ctx, "AAAAAAAAAAAAAAAAAAAAAA", "Al", NULL, NULL, t0, &j), HD_EUNKNOWNMEETING);
	assert_int_equal(join(&T.ctx, "../../etc", "Al", NULL, NULL, t0, &j), HD_EUNKNOWNMEETING);

	req.meeting_id = m;
	req.display_name = "Al";
	assert_int_equal(reg_presence_join(&T.ctx, &req, t0, &j, &why), HD_EBADREQUEST);
	assert_non_null(strstr(why, "gateway_id"));
}

static void resume(void **state)
{
	char m[23], other[HD_ID_LEN + 1];
	struct reg_join a, r;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	assert_int_equal(reg_test_wait(&T, m, JOINED, a.self.id, 1, 2000), 1);

	// The right token keeps the id, moves the participant to the new
	// gateway, refreshes last-seen and tells nobody.
	assert_int_equal(join(&T.ctx, m, "ignored", a.self.id, a.self.resume_token, t0 + 1000, &r), HD_OK);
	assert_true(r.resumed);
	assert_string_equal(r.self.id, a.self.id);
	assert_string_equal(r.self.resume_token, a.self.resume_token);
	assert_string_equal(r.self.display_name, "Alice");
	assert_string_equal(r.self.gateway_id, "gw-2");
	assert_int_equal(r.self.joined_at_ms, t0);
	assert_int_equal(r.others.n, 0);
	assert_string_equal(r.meeting.id, m);
	assert_int_equal(seen_of(m, a.self.id), t0 + 1000);
	reg_join_fini(&r);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, JOINED, a.self.id), 1);

	// Wrong, short, missing tokens and unknown participants are rejected.
	assert_int_equal(hd_id_random(other), HD_OK);
	assert_int_equal(join(&T.ctx, m, "A", a.self.id, other, t0 + 1000, &r), HD_ERESUMEREJECTED);
	assert_int_equal(join(&T.ctx, m, "A", a.self.id, "short", t0 + 1000, &r), HD_ERESUMEREJECTED);
	assert_int_equal(join(&T.ctx, m, "A", a.self.id, "", t0 + 1000, &r), HD_ERESUMEREJECTED);
	assert_int_equal(join(&T.ctx, m, "A", other, a.self.resume_token, t0 + 1000, &r), HD_ERESUMEREJECTED);
	// The participant's meeting only.
	char m2[23];
	reg_test_meeting(&T, m2);
	assert_int_equal(join(&T.ctx, m2, "A", a.self.id, a.self.resume_token, t0 + 1000, &r), HD_ERESUMEREJECTED);

	// Past the TTL the token is no good, even before the sweeper ran.
	assert_int_equal(join(&T.ctx, m, "A", a.self.id, a.self.resume_token, t0 + 1000 + REG_TEST_TTL_MS + 1, &r),
			 HD_ERESUMEREJECTED);
	// Within it, still fine.
	assert_int_equal(join(&T.ctx, m, "A", a.self.id, a.self.resume_token, t0 + 1000 + REG_TEST_TTL_MS, &r), HD_OK);
	reg_join_fini(&r);
	reg_join_fini(&a);
}

static void heartbeat_refreshes(void **state)
{
	char m[23], unknown[HD_ID_LEN + 1];
	struct reg_join a, b;
	int64_t t0 = hd_now_ms();
	bool gone[4];
	const char *why;
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	join_ok(m, "Bob", t0, &b);
	assert_int_equal(hd_id_random(unknown), HD_OK);

	Huddle__V1__PresenceRef refs[4], *ptrs[4];
	const char *pids[] = {a.self.id, unknown, a.self.id, "x"};
	const char *meetings[] = {m, m, "bad meeting", m};
	for (int i = 0; i < 4; i++) {
		huddle__v1__presence_ref__init(&refs[i]);
		refs[i].meeting_id = (char *)meetings[i];
		refs[i].participant_id = (char *)pids[i];
		ptrs[i] = &refs[i];
	}
	assert_int_equal(reg_presence_heartbeat(&T.ctx, ptrs, 4, t0 + 20000, gone, &why), HD_OK);
	assert_false(gone[0]);
	assert_true(gone[1]);
	assert_true(gone[2]);
	assert_true(gone[3]);
	assert_int_equal(seen_of(m, a.self.id), t0 + 20000);
	assert_int_equal(seen_of(m, unknown), -1); // a heartbeat never adds
	assert_int_equal(active_of(m), t0 + 20000);

	// One TTL after the join, Bob (silent) goes and Alice (heard of) stays.
	sweep(&T.ctx, t0 + REG_TEST_TTL_MS + 1, NULL);
	assert_int_equal(reg_test_wait(&T, m, LEFT, b.self.id, 1, 2000), 1);
	assert_int_equal(is_member(m, a.self.id), 1);
	// One TTL after her heartbeat, Alice goes too.
	sweep(&T.ctx, t0 + 20000 + REG_TEST_TTL_MS, NULL);
	assert_int_equal(is_member(m, a.self.id), 1);
	sweep(&T.ctx, t0 + 20000 + REG_TEST_TTL_MS + 1, NULL);
	assert_int_equal(reg_test_wait(&T, m, LEFT, a.self.id, 1, 2000), 1);
	assert_int_equal(is_member(m, a.self.id), 0);

	assert_int_equal(reg_presence_heartbeat(&T.ctx, ptrs, 0, t0, gone, &why), HD_OK);
	reg_join_fini(&a);
	reg_join_fini(&b);
}

static void heartbeat_batch(void **state)
{
	enum { MEMBERS = 300, REFS = 2000 };
	char m[23], m2[23];
	static struct reg_join j[MEMBERS];
	static Huddle__V1__PresenceRef refs[REG_HEARTBEAT_MAX + 1], *ptrs[REG_HEARTBEAT_MAX + 1];
	static char unknown[REFS][HD_ID_LEN + 1];
	static bool gone[REG_HEARTBEAT_MAX + 1];
	const char *why;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, m);
	reg_test_meeting(&T, m2);
	for (int i = 0; i < MEMBERS; i++)
		join_ok(i % 2 ? m : m2, "member", t0, &j[i]);
	// Members and strangers interleaved, as a gateway's hash order gives.
	for (int i = 0; i < REFS; i++) {
		huddle__v1__presence_ref__init(&refs[i]);
		ptrs[i] = &refs[i];
		if (i % 5 == 0 && i / 5 < MEMBERS) {
			refs[i].meeting_id = (i / 5) % 2 ? m : m2;
			refs[i].participant_id = j[i / 5].self.id;
		} else {
			assert_int_equal(hd_id_random(unknown[i]), HD_OK);
			refs[i].meeting_id = i % 3 ? m : m2;
			refs[i].participant_id = unknown[i];
		}
	}
	int64_t before = hd_mono_ms();
	assert_int_equal(reg_presence_heartbeat(&T.ctx, ptrs, REFS, t0 + 5000, gone, &why), HD_OK);
	int64_t took = hd_mono_ms() - before;
	size_t n_gone = 0;
	for (int i = 0; i < REFS; i++) {
		n_gone += gone[i];
		assert_int_equal(gone[i], !(i % 5 == 0 && i / 5 < MEMBERS));
	}
	assert_int_equal(n_gone, REFS - MEMBERS);
	for (int i = 0; i < MEMBERS; i++)
		assert_int_equal(seen_of(i % 2 ? m : m2, j[i].self.id), t0 + 5000);
	print_message("heartbeat of %d refs: %lld ms\n", REFS, (long long)took);

	for (int i = REFS; i <= REG_HEARTBEAT_MAX; i++) {
		refs[i] = refs[0];
		ptrs[i] = &refs[i];
	}
	assert_int_equal(reg_presence_heartbeat(&T.ctx, ptrs, REG_HEARTBEAT_MAX + 1, t0, gone, &why), HD_ETOOLARGE);
	for (int i = 0; i < MEMBERS; i++)
		reg_join_fini(&j[i]);
}

static void expiry(void **state)
{
	char m[23];
	struct reg_join a, b, r;
	bool gone[2];
	const char *why;
	size_t expired;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	join_ok(m, "Bob", t0 + 10, &b);
	assert_int_equal(active_of(m), t0 + 10);

	// Exactly one TTL of silence is still present; a millisecond more is not.
	sweep(&T.ctx, t0 + REG_TEST_TTL_MS, &expired);
	assert_int_equal(expired, 0);
	sweep(&T.ctx, t0 + REG_TEST_TTL_MS + 1, &expired);
	assert_int_equal(expired, 1);
	assert_int_equal(reg_test_wait(&T, m, LEFT, a.self.id, 1, 2000), 1);
	const Huddle__V1__RoomEvent *ev = reg_test_find(&T, m, LEFT, a.self.id);
	assert_string_equal(ev->meeting_id, m);
	assert_int_equal(ev->participant_left->reason, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_TIMED_OUT);
	assert_int_equal(reg_test_count(&T, m, LEFT, b.self.id), 0);

	struct reg_roster roster;
	assert_int_equal(reg_presence_list(&T.ctx, m, &roster, &why), HD_OK);
	assert_int_equal(roster.n, 1);
	assert_string_equal(roster.members[0].id, b.self.id);
	reg_roster_fini(&roster);

	// The gateway still holding Alice learns she is gone; Bob is not.
	Huddle__V1__PresenceRef refs[2] = {HUDDLE__V1__PRESENCE_REF__INIT, HUDDLE__V1__PRESENCE_REF__INIT};
	Huddle__V1__PresenceRef *ptrs[2] = {&refs[0], &refs[1]};
	refs[0].meeting_id = refs[1].meeting_id = m;
	refs[0].participant_id = a.self.id;
	refs[1].participant_id = b.self.id;
	int64_t t1 = t0 + REG_TEST_TTL_MS + 2;
	assert_int_equal(reg_presence_heartbeat(&T.ctx, ptrs, 2, t1, gone, &why), HD_OK);
	assert_true(gone[0]);
	assert_false(gone[1]);
	assert_int_equal(seen_of(m, a.self.id), -1);
	assert_int_equal(join(&T.ctx, m, "A", a.self.id, a.self.resume_token, t1, &r), HD_ERESUMEREJECTED);

	// Sweeping again publishes nothing new.
	sweep(&T.ctx, t0 + REG_TEST_TTL_MS + 1, &expired);
	assert_int_equal(expired, 0);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, LEFT, a.self.id), 1);

	// Bob leaves. The empty meeting stays in the active set until it has
	// been idle for a TTL, then the sweeper drops it.
	assert_int_equal(reg_presence_leave(&T.ctx, m, b.self.id, &why), HD_OK);
	sweep(&T.ctx, t1 + 1, &expired);
	assert_int_equal(active_of(m), t1);
	sweep(&T.ctx, t1 + REG_TEST_TTL_MS, &expired);
	assert_int_equal(active_of(m), t1);
	sweep(&T.ctx, t1 + REG_TEST_TTL_MS + 1, &expired);
	assert_int_equal(expired, 0);
	assert_int_equal(active_of(m), -1);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, LEFT, b.self.id), 1);
	const Huddle__V1__RoomEvent *left = reg_test_find(&T, m, LEFT, b.self.id);
	assert_int_equal(left->participant_left->reason, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_LEFT);

	// A join brings it back.
	join_ok(m, "Carol", t1 + 1, &r);
	assert_int_equal(active_of(m), t1 + 1);
	reg_join_fini(&r);
	reg_join_fini(&a);
	reg_join_fini(&b);
}

struct sweeper_arg {
	struct reg_ctx ctx;
	int64_t now;
	pthread_barrier_t *go;
	size_t expired;
	hd_err err;
};

static void *sweeper_thread(void *p)
{
	struct sweeper_arg *s = p;
	pthread_barrier_wait(s->go);
	s->err = reg_presence_sweep(&s->ctx, s->now, &s->expired);
	return NULL;
}

static void concurrent_sweepers(void **state)
{
	enum { ROUNDS = 4, MEMBERS = 200 };
	static struct reg_join j[MEMBERS];
	struct sweeper_arg s[2];
	pthread_t th[2];
	pthread_barrier_t go;
	for (int round = 0; round < ROUNDS; round++) {
		char m[23];
		int64_t t0 = hd_now_ms();
		reg_test_meeting(&T, m);
		for (int i = 0; i < MEMBERS; i++)
			join_ok(m, "member", t0 + i % 3, &j[i]);
		if (round % 2 == 1) {
			// Writes wait, reads go on: both sweepers surely read the
			// same stale members before either removes one.
			const char *pause[] = {"CLIENT", "PAUSE", "300", "WRITE"};
			assert_int_equal(redis_int(4, pause), -1);
		}
		pthread_barrier_init(&go, NULL, 2);
		for (int k = 0; k < 2; k++) {
			reg_test_ctx_open(&T, &s[k].ctx);
			s[k].now = t0 + REG_TEST_TTL_MS + 10;
			s[k].go = &go;
			assert_int_equal(pthread_create(&th[k], NULL, sweeper_thread, &s[k]), 0);
		}
		for (int k = 0; k < 2; k++) {
			pthread_join(th[k], NULL);
			assert_int_equal(s[k].err, HD_OK);
			reg_test_ctx_close(&s[k].ctx);
		}
		pthread_barrier_destroy(&go);
		// Each member was removed once, by one of the two.
		assert_int_equal(s[0].expired + s[1].expired, MEMBERS);
		assert_int_equal(reg_test_wait(&T, m, LEFT, NULL, MEMBERS, 3000), MEMBERS);
		usleep(QUIET_MS * 1000);
		assert_int_equal(reg_test_count(&T, m, LEFT, NULL), MEMBERS);
		for (int i = 0; i < MEMBERS; i++) {
			assert_int_equal(reg_test_count(&T, m, LEFT, j[i].self.id), 1);
			reg_join_fini(&j[i]);
		}
		// And once more from this thread: nothing left to publish.
		size_t again;
		sweep(&T.ctx, t0 + REG_TEST_TTL_MS + 10, &again);
		assert_int_equal(again, 0);
	}
}

// Alice's leave runs in Redis but the connection is lost before its reply:
// hd_redis_pipeline reconnects and sends MULTI HDEL ZREM EXEC again, and that
// second run removes nothing. Bob must still hear that she left, once.
static void leave_after_lost_reply(void **state)
{
	char m[23];
	struct reg_join a, b;
	struct reg_ctx via;
	struct hd_test_proxy *p;
	const char *why;
	int64_t t0 = hd_now_ms();
	proxy_ctx(&via, &p);
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	join_ok(m, "Bob", t0, &b);

	hd_test_proxy_drop_exec_reply(p);
	assert_int_equal(reg_presence_leave(&via, m, a.self.id, &why), HD_OK);
	assert_int_equal(hd_test_proxy_cuts(p), 1);
	assert_int_equal(is_member(m, a.self.id), 0);
	assert_int_equal(seen_of(m, a.self.id), -1);
	assert_int_equal(reg_test_wait(&T, m, LEFT, a.self.id, 1, 2000), 1);
	const Huddle__V1__RoomEvent *ev = reg_test_find(&T, m, LEFT, a.self.id);
	assert_int_equal(ev->participant_left->reason, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_LEFT);

	// A repeated leave whose reply arrives still tells nobody.
	assert_int_equal(reg_presence_leave(&via, m, a.self.id, &why), HD_OK);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, LEFT, a.self.id), 1);
	assert_int_equal(reg_test_count(&T, m, LEFT, b.self.id), 0);
	assert_int_equal(is_member(m, b.self.id), 1);
	proxy_ctx_close(&via, p);
	reg_join_fini(&a);
	reg_join_fini(&b);
}

// The same for the sweeper: the EXEC that expires Alice runs, its reply is
// lost, and the batch sent again removes nothing. TIMED_OUT must still go
// out, once; Bob, seen later, stays.
static void sweep_after_lost_reply(void **state)
{
	char m[23];
	struct reg_join a, b;
	struct reg_ctx via;
	struct hd_test_proxy *p;
	size_t expired;
	int64_t t0 = hd_now_ms();
	proxy_ctx(&via, &p);
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	join_ok(m, "Bob", t0 + 10, &b);

	hd_test_proxy_drop_exec_reply(p);
	sweep(&via, t0 + REG_TEST_TTL_MS + 1, &expired);
	assert_int_equal(hd_test_proxy_cuts(p), 1);
	assert_int_equal(is_member(m, a.self.id), 0);
	assert_int_equal(seen_of(m, a.self.id), -1);
	assert_int_equal(expired, 1);
	assert_int_equal(reg_test_wait(&T, m, LEFT, a.self.id, 1, 2000), 1);
	const Huddle__V1__RoomEvent *ev = reg_test_find(&T, m, LEFT, a.self.id);
	assert_int_equal(ev->participant_left->reason, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_TIMED_OUT);

	// Sweeping again with the replies arriving publishes nothing new.
	sweep(&via, t0 + REG_TEST_TTL_MS + 1, &expired);
	assert_int_equal(expired, 0);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, LEFT, a.self.id), 1);
	assert_int_equal(reg_test_count(&T, m, LEFT, b.self.id), 0);
	assert_int_equal(is_member(m, b.self.id), 1);
	proxy_ctx_close(&via, p);
	reg_join_fini(&a);
	reg_join_fini(&b);
}

static void update_media(void **state)
{
	char m[23], unknown[HD_ID_LEN + 1];
	struct reg_join a, b;
	struct reg_member out;
	const char *why;
	int64_t t0 = hd_now_ms();
	Huddle__V1__MediaState media = HUDDLE__V1__MEDIA_STATE__INIT;
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	join_ok(m, "Bob", t0, &b);

	media.audio_muted = true;
	media.screen_sharing = true;
	assert_int_equal(reg_presence_update_media(&T.ctx, m, a.self.id, &media, t0 + 5, &out, &why), HD_OK);
	assert_true(out.audio_muted);
	assert_false(out.video_muted);
	assert_true(out.screen_sharing);
	assert_string_equal(out.id, a.self.id);
	assert_string_equal(out.resume_token, a.self.resume_token);
	assert_int_equal(reg_test_wait(&T, m, UPDATED, a.self.id, 1, 2000), 1);
	const Huddle__V1__RoomEvent *ev = reg_test_find(&T, m, UPDATED, a.self.id);
	assert_true(ev->participant_updated->participant->media->audio_muted);
	assert_true(ev->participant_updated->participant->media->screen_sharing);
	assert_int_equal(seen_of(m, a.self.id), t0 + 5);

	struct reg_roster r;
	assert_int_equal(reg_presence_list(&T.ctx, m, &r, &why), HD_OK);
	assert_int_equal(r.n, 2);
	for (size_t i = 0; i < r.n; i++)
		assert_int_equal(r.members[i].audio_muted, strcmp(r.members[i].id, a.self.id) == 0);
	reg_roster_fini(&r);

	// recording travels like the others: the stored record, the event,
	// the roster, and the record a resume reads back.
	Huddle__V1__MediaState rec = HUDDLE__V1__MEDIA_STATE__INIT;
	rec.recording = true;
	assert_int_equal(reg_presence_update_media(&T.ctx, m, b.self.id, &rec, t0 + 6, &out, &why), HD_OK);
	assert_true(out.recording);
	assert_false(out.audio_muted);
	assert_int_equal(reg_test_wait(&T, m, UPDATED, b.self.id, 1, 2000), 1);
	ev = reg_test_find(&T, m, UPDATED, b.self.id);
	assert_true(ev->participant_updated->participant->media->recording);
	assert_false(ev->participant_updated->participant->media->audio_muted);
	assert_int_equal(reg_presence_list(&T.ctx, m, &r, &why), HD_OK);
	for (size_t i = 0; i < r.n; i++)
		assert_int_equal(r.members[i].recording, strcmp(r.members[i].id, b.self.id) == 0);
	reg_roster_fini(&r);
	struct reg_join resumed, c;
	assert_int_equal(join(&T.ctx, m, "Bob", b.self.id, b.self.resume_token, t0 + 7, &resumed), HD_OK);
	assert_true(resumed.self.recording);
	reg_join_fini(&resumed);
	join_ok(m, "Carol", t0 + 8, &c);
	assert_int_equal(c.others.n, 2);
	for (size_t i = 0; i < c.others.n; i++)
		assert_int_equal(c.others.members[i].recording, strcmp(c.others.members[i].id, b.self.id) == 0);
	reg_join_fini(&c);

	assert_int_equal(reg_presence_update_media(&T.ctx, m, a.self.id, NULL, t0 + 9, &out, &why), HD_OK);
	assert_false(out.audio_muted);
	assert_false(out.screen_sharing);
	assert_int_equal(reg_presence_update_media(&T.ctx, m, b.self.id, NULL, t0 + 9, &out, &why), HD_OK);
	assert_false(out.recording);

	assert_int_equal(hd_id_random(unknown), HD_OK);
	assert_int_equal(reg_presence_update_media(&T.ctx, m, unknown, &media, t0, &out, &why), HD_EUNKNOWNPARTICIPANT);
	assert_int_equal(reg_presence_update_media(&T.ctx, "bad", a.self.id, &media, t0, &out, &why),
			 HD_EUNKNOWNPARTICIPANT);
	// After a leave nothing comes back to life.
	assert_int_equal(reg_presence_leave(&T.ctx, m, b.self.id, &why), HD_OK);
	assert_int_equal(reg_presence_update_media(&T.ctx, m, b.self.id, &media, t0, &out, &why),
			 HD_EUNKNOWNPARTICIPANT);
	assert_int_equal(is_member(m, b.self.id), 0);
	reg_join_fini(&a);
	reg_join_fini(&b);
}

// ---- MAX_PARTICIPANTS ----

struct racer {
	struct reg_ctx ctx;
	const char *meeting;
	int64_t now;
	hd_err err;
	pthread_t thread;
};

static void *racer_main(void *p)
{
	struct racer *r = p;
	struct reg_join j;
	r->err = join(&r->ctx, r->meeting, "Racer", NULL, NULL, r->now, &j);
	if (r->err == HD_OK)
		reg_join_fini(&j);
	return NULL;
}

static long long members_of(const char *meeting)
{
	char key[64];
	snprintf(key, sizeof(key), "huddle:{%s}:members", meeting);
	const char *argv[] = {"HLEN", key};
	return redis_int(2, argv);
}

static void meeting_full(void **state)
{
	enum { MAX = 3, RACERS = 8 };
	char m[23];
	struct reg_join a, b, c, r;
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	const char *why = NULL;
	int64_t t0 = hd_now_ms();
	T.ctx.max_participants = MAX;
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	join_ok(m, "Bob", t0, &b);
	join_ok(m, "Carol", t0, &c);

	// The fourth is refused, naming the limit; nothing is stored or published.
	req.meeting_id = m;
	req.display_name = "Dave";
	req.gateway_id = "gw-1";
	req.participant_id = req.resume_token = "";
	assert_int_equal(reg_presence_join(&T.ctx, &req, t0 + 1, &r, &why), HD_EMEETINGFULL);
	assert_string_equal(why, "this meeting is full (3 people)");
	assert_int_equal(members_of(m), MAX);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, m, JOINED, NULL), MAX);

	// A resume takes no new place.
	assert_int_equal(join(&T.ctx, m, "Alice", a.self.id, a.self.resume_token, t0 + 2, &r), HD_OK);
	reg_join_fini(&r);

	// Eight contexts (workers or registry replicas) race for one place left.
	assert_int_equal(reg_presence_leave(&T.ctx, m, b.self.id, &why), HD_OK);
	struct racer racers[RACERS];
	for (int i = 0; i < RACERS; i++) {
		reg_test_ctx_open(&T, &racers[i].ctx);
		racers[i].ctx.max_participants = MAX;
		racers[i].meeting = m;
		racers[i].now = t0 + 3;
	}
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&racers[i].thread, NULL, racer_main, &racers[i]), 0);
	int won = 0;
	for (int i = 0; i < RACERS; i++) {
		pthread_join(racers[i].thread, NULL);
		if (racers[i].err == HD_OK)
			won++;
		else
			assert_int_equal(racers[i].err, HD_EMEETINGFULL);
		reg_test_ctx_close(&racers[i].ctx);
	}
	assert_int_equal(won, 1);
	assert_int_equal(members_of(m), MAX);

	// Members silent past the TTL no longer count, even before a sweep.
	join_ok(m, "Erin", t0 + 3 + REG_TEST_TTL_MS + 1, &r);
	reg_join_fini(&r);

	// 0: no limit.
	T.ctx.max_participants = 0;
	for (int i = 0; i < 2 * MAX; i++) {
		join_ok(m, "Many", t0 + 4 + REG_TEST_TTL_MS, &r);
		reg_join_fini(&r);
	}
	reg_join_fini(&a);
	reg_join_fini(&b);
	reg_join_fini(&c);
}

static void redis_down(void **state)
{
	char m[23];
	struct reg_ctx down;
	struct reg_join j;
	struct reg_roster r;
	struct reg_member out;
	const char *why = NULL;
	size_t expired;
	bool gone[1];
	Huddle__V1__PresenceRef ref = HUDDLE__V1__PRESENCE_REF__INIT, *ptrs[1] = {&ref};
	reg_test_meeting(&T, m);
	down = T.ctx;
	assert_int_equal(hd_redis_open(&down.redis, "redis://127.0.0.1:1", 200), HD_OK);
	assert_int_equal(join(&down, m, "Al", NULL, NULL, hd_now_ms(), &j), HD_EUNAVAILABLE);
	assert_int_equal(reg_presence_list(&down, m, &r, &why), HD_EUNAVAILABLE);
	assert_non_null(strstr(why, "Redis"));
	ref.meeting_id = m;
	ref.participant_id = m;
	assert_int_equal(reg_presence_heartbeat(&down, ptrs, 1, hd_now_ms(), gone, &why), HD_EUNAVAILABLE);
	assert_int_equal(reg_presence_leave(&down, m, m, &why), HD_EUNAVAILABLE);
	assert_int_equal(reg_presence_update_media(&down, m, m, NULL, hd_now_ms(), &out, &why), HD_EUNAVAILABLE);
	assert_int_equal(reg_presence_sweep(&down, hd_now_ms(), &expired), HD_EUNAVAILABLE);
	hd_redis_close(down.redis);
}

// A join refused because Redis hung (SIGSTOP) must not be stored when Redis
// resumes and runs what waited in its socket: that was a member nobody was
// told of, in every later roster until the sweeper took it (issue 13, "Redis
// or the store unreachable").
static void late_join_not_stored(void **state)
{
	enum { TIMEOUT_MS = 200, SETTLE_MS = 500 };
	char m[23];
	struct reg_ctx c;
	struct hd_test_proxy *p;
	struct reg_join a, late;
	reg_test_meeting(&T, m);
	if (hd_test_proxy_open(&p, T.redis_url) != 0)
		skip(); // the fixture Redis is not at an IPv4 address
	c = T.ctx;
	assert_int_equal(hd_redis_open(&c.redis, hd_test_proxy_url(p), TIMEOUT_MS), HD_OK);
	assert_int_equal(join(&c, m, "Ada", NULL, NULL, hd_now_ms(), &a), HD_OK);
	reg_join_fini(&a);

	hd_test_proxy_hold(p, true);
	int64_t t0 = hd_mono_ms();
	assert_int_equal(join(&c, m, "Late", NULL, NULL, hd_now_ms(), &late), HD_EUNAVAILABLE);
	assert_true(hd_mono_ms() - t0 < 4 * TIMEOUT_MS); // timed out, did not block
	hd_test_proxy_hold(p, false);
	for (int64_t until = hd_mono_ms() + SETTLE_MS; hd_mono_ms() < until;)
		usleep(10000); // the proxy forwards what waited; Redis runs it
	assert_int_equal(members_of(m), 1);
	proxy_ctx_close(&c, p);
}

// After Redis was unreachable, nobody is expired for a TTL: the heartbeats
// it missed must have a chance to come again (issue 13: a 30 s outage with a
// 30 s TTL ended every call when Redis came back with its data).
static void sweep_held_after_outage(void **state)
{
	char m[23];
	struct reg_ctx down = T.ctx;
	struct reg_join a;
	struct reg_sweep_hold hold = {.down = false};
	size_t expired = 99;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, m);
	join_ok(m, "Alice", t0, &a);
	reg_join_fini(&a);

	assert_int_equal(hd_redis_open(&down.redis, "redis://127.0.0.1:1", 200), HD_OK);
	assert_int_equal(reg_presence_sweep_held(&down, &hold, t0 + 1, &expired), HD_EUNAVAILABLE);
	assert_true(hold.down);
	assert_int_equal(reg_presence_sweep_held(&down, &hold, t0 + 2, &expired), HD_EUNAVAILABLE);
	hd_redis_close(down.redis);

	// Redis answers again two TTLs later: Alice is stale but stays for a TTL.
	int64_t back = t0 + 2 * REG_TEST_TTL_MS;
	assert_int_equal(reg_presence_sweep_held(&T.ctx, &hold, back, &expired), HD_OK);
	assert_int_equal(expired, 0);
	assert_false(hold.down);
	assert_int_equal(reg_presence_sweep_held(&T.ctx, &hold, back + REG_TEST_TTL_MS - 1, &expired), HD_OK);
	assert_int_equal(expired, 0);
	assert_int_equal(is_member(m, a.self.id), 1);
	// Still silent a TTL after Redis came back: expired.
	assert_int_equal(reg_presence_sweep_held(&T.ctx, &hold, back + REG_TEST_TTL_MS, &expired), HD_OK);
	assert_int_equal(expired, 1);
	assert_int_equal(is_member(m, a.self.id), 0);
}

static int group_setup(void **state)
{
	reg_test_open(&T, 11);
	return 0;
}

static int group_teardown(void **state)
{
	reg_test_close(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(join_list_leave),
		cmocka_unit_test(join_validation),
		cmocka_unit_test(resume),
		cmocka_unit_test_setup(heartbeat_refreshes, flush),
		cmocka_unit_test(heartbeat_batch),
		cmocka_unit_test_setup(expiry, flush),
		cmocka_unit_test_setup(concurrent_sweepers, flush),
		cmocka_unit_test_setup(leave_after_lost_reply, flush),
		cmocka_unit_test_setup(sweep_after_lost_reply, flush),
		cmocka_unit_test(update_media),
		cmocka_unit_test_setup(meeting_full, flush),
		cmocka_unit_test(redis_down),
		cmocka_unit_test(late_join_not_stored),
		cmocka_unit_test_setup(sweep_held_after_outage, flush),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
