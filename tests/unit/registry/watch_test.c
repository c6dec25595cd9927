// watch_test.c: the shared player ("Watch together") against a real Redis
// and a real store, with the room events read back from a real PUB socket:
// the state machine and its positions, validation that changes nothing,
// who may change it, racing changes (compare-and-set on seq), and the end of
// the state when the call empties (leave, expiry, end for all) or a joiner
// finds a stale one.
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
#include "registry/hosts.h"
#include "registry/presence.h"
#include "registry/watch.h"

#define WATCHED HUDDLE__V1__ROOM_EVENT__BODY_WATCH_STATE
#define START HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_START
#define PLAY HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_PLAY
#define PAUSE HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_PAUSE
#define SEEK HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_SEEK
#define RATE HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_RATE
#define STOP HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_STOP
#define VIDEO "https://videos.example.org/a.webm"
#define EVENT_MS 2000
#define QUIET_MS 150
#define RACERS 8

static struct reg_test T;

static void join_ok(const char *meeting, const char *name, const char *host_key, int64_t now, struct reg_join *j)
{
	Huddle__V1__RegistryJoinRequest req = HUDDLE__V1__REGISTRY_JOIN_REQUEST__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.display_name = (char *)name;
	req.gateway_id = "gw-1";
	req.host_key = (char *)(host_key != NULL ? host_key : "");
	hd_err err = reg_presence_join(&T.ctx, &req, now, j, &why);
	if (err != HD_OK)
		fail_msg("join %s: %s (%s)", name, hd_err_name(err), why);
}

static hd_err act_on(struct reg_ctx *c, const char *meeting, const char *pid, Huddle__V1__WatchAction action,
		     const char *url, int64_t position_ms, double rate, int64_t now, struct reg_watch *out)
{
	Huddle__V1__RegistryWatchRequest req = HUDDLE__V1__REGISTRY_WATCH_REQUEST__INIT;
	const char *why = NULL;
	req.meeting_id = (char *)meeting;
	req.participant_id = (char *)pid;
	req.action = action;
	req.url = (char *)(url != NULL ? url : "");
	req.position_ms = position_ms;
	req.rate = rate;
	hd_err err = reg_watch_apply(c, &req, now, out, &why);
	if (err != HD_OK)
		assert_true(why != NULL && why[0] != '\0');
	return err;
}

static hd_err act(const char *meeting, const char *pid, Huddle__V1__WatchAction action, const char *url,
		  int64_t position_ms, double rate, int64_t now, struct reg_watch *out)
{
	return act_on(&T.ctx, meeting, pid, action, url, position_ms, rate, now, out);
}

static void read_state(const char *meeting, struct reg_watch *w)
{
	const char *why = NULL;
	assert_int_equal(reg_watch_read(&T.ctx, meeting, w, &why), HD_OK);
}

// event_seq waits for the meeting's watch_state event with this seq.
static const Huddle__V1__WatchState *event_seq(const char *meeting, uint64_t seq)
{
	int64_t until = hd_mono_ms() + EVENT_MS;
	do {
		const Huddle__V1__RoomEvent *ev = reg_test_last(&T, meeting, WATCHED, NULL);
		if (ev != NULL && ev->watch_state->state != NULL && ev->watch_state->state->seq >= seq) {
			assert_int_equal(ev->watch_state->state->seq, seq);
			return ev->watch_state->state;
		}
		usleep(5 * 1000);
	} while (hd_mono_ms() < until);
	fail_msg("no watch_state event with seq %llu", (unsigned long long)seq);
	return NULL;
}

static void url_rules(void **state)
{
	(void)state;
	const char *good[] = {"https://a.example/v.mp4",
			      "http://127.0.0.1:8080/x.webm",
			      "HTTPS://EXAMPLE.ORG/live.m3u8",
			      "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
			      "https://example.org/caf\xc3\xa9.mp4",
			      NULL};
	const char *bad[] = {"",
			     "ftp://a.example/v.mp4",
			     "javascript:alert(1)",
			     "https://",
			     "http:///v.mp4",
			     "https://?x",
			     "https://a b/",
			     "https://a.example/\x01",
			     "data:video/mp4;base64,AAAA",
			     "/v.mp4",
			     "https://a.example/\xff",
			     NULL};
	for (int i = 0; good[i] != NULL; i++)
		if (!reg_watch_url_valid(good[i]))
			fail_msg("refused %s", good[i]);
	for (int i = 0; bad[i] != NULL; i++)
		if (reg_watch_url_valid(bad[i]))
			fail_msg("accepted %s", bad[i]);
	char long_url[REG_WATCH_URL_MAX + 2];
	memset(long_url, 'a', sizeof(long_url));
	memcpy(long_url, "https://", 8);
	long_url[REG_WATCH_URL_MAX] = '\0';
	assert_true(reg_watch_url_valid(long_url));
	long_url[REG_WATCH_URL_MAX] = 'a';
	long_url[REG_WATCH_URL_MAX + 1] = '\0';
	assert_false(reg_watch_url_valid(long_url));
}

static void positions(void **state)
{
	(void)state;
	struct reg_watch w = {.position_ms = 10000, .rate = 1.5, .updated_at_ms = 1000, .playing = false};
	assert_int_equal(reg_watch_position_at(&w, 5000), 10000); // paused: where it was
	w.playing = true;
	assert_int_equal(reg_watch_position_at(&w, 5000), 16000); // 4 s at 1.5x
	assert_int_equal(reg_watch_position_at(&w, 500), 10000);  // a clock behind: never backwards
	w.position_ms = REG_WATCH_POSITION_MAX_MS;
	assert_int_equal(reg_watch_position_at(&w, 5000), REG_WATCH_POSITION_MAX_MS);
}

static void state_machine(void **state)
{
	(void)state;
	char id[23];
	struct reg_join a, b, c;
	struct reg_watch w, r;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, id);
	join_ok(id, "Ada", NULL, t0, &a);
	join_ok(id, "Bob", NULL, t0, &b);
	read_state(id, &w);
	assert_string_equal(w.url, "");
	assert_int_equal(w.seq, 0);

	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, t0 + 10, &w), HD_OK);
	assert_string_equal(w.url, VIDEO);
	assert_false(w.playing);
	assert_int_equal(w.position_ms, 0);
	assert_true(w.rate == 1.0);
	assert_int_equal(w.seq, 1);
	assert_string_equal(w.by, a.self.id);
	assert_string_equal(w.by_name, "Ada");
	const Huddle__V1__WatchState *ev = event_seq(id, 1);
	assert_string_equal(ev->url, VIDEO);
	assert_int_equal(ev->updated_at_ms, t0 + 10);
	assert_int_equal(ev->action, START);

	assert_int_equal(act(id, b.self.id, PLAY, NULL, 2000, 0, t0 + 100, &w), HD_OK);
	assert_true(w.playing);
	assert_int_equal(w.position_ms, 2000);
	assert_int_equal(w.seq, 2);
	assert_string_equal(event_seq(id, 2)->by_name, "Bob");

	// Rate: from where it is then (2 s + 1 s at 1x), at the new rate.
	assert_int_equal(act(id, a.self.id, RATE, NULL, 0, 2.0, t0 + 1100, &w), HD_OK);
	assert_int_equal(w.position_ms, 3000);
	assert_true(w.rate == 2.0);
	assert_true(w.playing);
	assert_int_equal(reg_watch_position_at(&w, t0 + 2100), 5000);

	// Seek keeps playing and the rate; pause freezes.
	assert_int_equal(act(id, b.self.id, SEEK, NULL, 60000, 0, t0 + 1200, &w), HD_OK);
	assert_true(w.playing && w.rate == 2.0 && w.position_ms == 60000);
	assert_int_equal(act(id, b.self.id, PAUSE, NULL, 60500, 0, t0 + 1500, &w), HD_OK);
	assert_false(w.playing);
	assert_int_equal(reg_watch_position_at(&w, t0 + 99999), 60500);
	assert_int_equal(w.seq, 5);
	event_seq(id, 5);

	// A late joiner reads it (what op_join puts in the reply).
	join_ok(id, "Cy", NULL, t0 + 2000, &c);
	reg_watch_for_join(&T.ctx, id, c.others.n == 0, &r);
	assert_string_equal(r.url, VIDEO);
	assert_int_equal(r.seq, 5);
	assert_int_equal(r.position_ms, 60500);

	// Stop: nothing watched, the sequence kept; stopping again changes nothing.
	assert_int_equal(act(id, c.self.id, STOP, NULL, 0, 0, t0 + 3000, &w), HD_OK);
	assert_string_equal(w.url, "");
	assert_int_equal(w.seq, 6);
	assert_int_equal(event_seq(id, 6)->action, STOP);
	assert_int_equal(act(id, c.self.id, STOP, NULL, 0, 0, t0 + 3100, &w), HD_OK);
	assert_int_equal(w.seq, 6);
	usleep(QUIET_MS * 1000);
	assert_int_equal(reg_test_count(&T, id, WATCHED, NULL), 6);
	assert_int_equal(act(id, a.self.id, PLAY, NULL, 0, 0, t0 + 3200, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, START, "http://127.0.0.1/b.mp4", 0, 0, t0 + 3300, &w), HD_OK);
	assert_int_equal(w.seq, 7);

	reg_join_fini(&a);
	reg_join_fini(&b);
	reg_join_fini(&c);
}

static void refused_changes_nothing(void **state)
{
	(void)state;
	char id[23], first[23], host_key[HD_KEY_LEN + 1];
	struct reg_join a, w8;
	struct reg_watch w, before, after;
	int64_t t0 = hd_now_ms();
	reg_test_meeting(&T, id);
	join_ok(id, "Ada", NULL, t0, &a);

	// Nothing to change yet.
	assert_int_equal(act(id, a.self.id, PLAY, NULL, 0, 0, t0, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, SEEK, NULL, 5, 0, t0, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, RATE, NULL, 0, 1.0, t0, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, START, "ftp://x.example/a", 0, 0, t0, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, t0, &w), HD_OK);
	read_state(id, &before);
	memcpy(first, id, sizeof(first));

	const double bad_rates[] = {0, 0.2, 2.5, -1, 0.0 / 0.0, 1.0 / 0.0};
	for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++)
		assert_int_equal(act(id, a.self.id, RATE, NULL, 0, bad_rates[i], t0 + 1, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, SEEK, NULL, -1, 0, t0 + 1, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, PAUSE, NULL, REG_WATCH_POSITION_MAX_MS + 1, 0, t0 + 1, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, 0, NULL, 0, 0, t0 + 1, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, 42, NULL, 0, 0, t0 + 1, &w), HD_EBADREQUEST);
	assert_int_equal(act(id, a.self.id, START, "", 0, 0, t0 + 1, &w), HD_EBADREQUEST);

	// Not a member, another meeting, no meeting.
	char other[23], ghost[HD_ID_LEN + 1];
	reg_test_meeting(&T, other);
	assert_int_equal(hd_id_random(ghost), HD_OK);
	assert_int_equal(act(id, ghost, PLAY, NULL, 0, 0, t0 + 1, &w), HD_EUNKNOWNPARTICIPANT);
	assert_int_equal(act(other, a.self.id, START, VIDEO, 0, 0, t0 + 1, &w), HD_EUNKNOWNPARTICIPANT);
	assert_int_equal(act(ghost, a.self.id, START, VIDEO, 0, 0, t0 + 1, &w), HD_EUNKNOWNMEETING);
	assert_int_equal(act("not an id", a.self.id, START, VIDEO, 0, 0, t0 + 1, &w), HD_EUNKNOWNMEETING);

	// Waiting participants may not touch it.
	reg_test_host_meeting(&T, 2, id, host_key); // waiting room
	struct reg_join host;
	join_ok(id, "Host", host_key, t0, &host);
	assert_int_equal(act(id, host.self.id, START, VIDEO, 0, 0, t0, &w), HD_OK);
	join_ok(id, "Wendy", NULL, t0, &w8);
	assert_int_equal(w8.self.admission, HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING);
	assert_int_equal(act(id, w8.self.id, PAUSE, NULL, 0, 0, t0 + 1, &w), HD_EFORBIDDEN);
	assert_int_equal(act(id, w8.self.id, STOP, NULL, 0, 0, t0 + 1, &w), HD_EFORBIDDEN);
	read_state(id, &after);
	assert_int_equal(after.seq, 1);
	assert_string_equal(after.url, VIDEO);

	// The first meeting's state is as it was.
	read_state(first, &after);
	assert_int_equal(after.seq, before.seq);
	assert_true(after.rate == 1.0 && !after.playing && after.position_ms == 0);
	reg_join_fini(&a);
	reg_join_fini(&w8);
	reg_join_fini(&host);
}

// racer runs one change on its own Redis connection when the barrier opens.
struct racer {
	struct reg_ctx ctx;
	const char *meeting, *pid;
	int64_t position_ms;
	pthread_barrier_t *go;
	hd_err err;
	struct reg_watch out;
};

static void *racer_thread(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->go);
	r->err = act_on(&r->ctx, r->meeting, r->pid, SEEK, NULL, r->position_ms, 0, hd_now_ms(), &r->out);
	return NULL;
}

static void racing_changes(void **state)
{
	(void)state;
	char id[23];
	struct reg_join a;
	struct reg_watch w;
	struct racer racers[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t go;
	reg_test_meeting(&T, id);
	join_ok(id, "Ada", NULL, hd_now_ms(), &a);
	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, hd_now_ms(), &w), HD_OK);
	pthread_barrier_init(&go, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		memset(&racers[i], 0, sizeof(racers[i]));
		reg_test_ctx_open(&T, &racers[i].ctx);
		racers[i].meeting = id;
		racers[i].pid = a.self.id;
		racers[i].position_ms = 1000 * (i + 1);
		racers[i].go = &go;
	}
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer_thread, &racers[i]), 0);
	bool seen[RACERS + 2] = {false};
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(racers[i].err, HD_OK);
		// Every change got its own seq: none lost, none twice.
		uint64_t s = racers[i].out.seq;
		assert_true(s >= 2 && s <= RACERS + 1);
		assert_false(seen[s]);
		seen[s] = true;
		reg_test_ctx_close(&racers[i].ctx);
	}
	pthread_barrier_destroy(&go);
	read_state(id, &w);
	assert_int_equal(w.seq, RACERS + 1);
	// The stored state is the change that got the last seq.
	for (int i = 0; i < RACERS; i++)
		if (racers[i].out.seq == w.seq)
			assert_int_equal(w.position_ms, racers[i].position_ms);
	reg_join_fini(&a);
}

static void ends_with_the_call(void **state)
{
	(void)state;
	char id[23], host_key[HD_KEY_LEN + 1];
	struct reg_join a, b, c;
	struct reg_watch w;
	const char *why = NULL;
	int64_t t0 = hd_now_ms();

	// Leaves: the state lives while someone is in the call.
	reg_test_meeting(&T, id);
	join_ok(id, "Ada", NULL, t0, &a);
	join_ok(id, "Bob", NULL, t0, &b);
	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, t0, &w), HD_OK);
	assert_int_equal(reg_presence_leave(&T.ctx, id, a.self.id, &why), HD_OK);
	read_state(id, &w);
	assert_string_equal(w.url, VIDEO);
	assert_int_equal(reg_presence_leave(&T.ctx, id, b.self.id, &why), HD_OK);
	read_state(id, &w);
	assert_string_equal(w.url, "");
	assert_int_equal(w.seq, 0); // gone from Redis
	reg_join_fini(&a);
	reg_join_fini(&b);

	// Expiry: the sweeper's removal of the last member ends it too.
	reg_test_meeting(&T, id);
	join_ok(id, "Ada", NULL, t0, &a);
	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, t0, &w), HD_OK);
	size_t expired = 0;
	assert_int_equal(reg_presence_sweep(&T.ctx, t0 + REG_TEST_TTL_MS + 1, &expired), HD_OK);
	assert_true(expired >= 1);
	read_state(id, &w);
	assert_int_equal(w.seq, 0);
	reg_join_fini(&a);

	// End for all.
	reg_test_host_meeting(&T, 1, id, host_key);
	join_ok(id, "Host", host_key, t0, &a);
	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, t0, &w), HD_OK);
	Huddle__V1__RegistryEndMeetingRequest end = HUDDLE__V1__REGISTRY_END_MEETING_REQUEST__INIT;
	Huddle__V1__Actor actor = HUDDLE__V1__ACTOR__INIT;
	actor.participant_id = a.self.id;
	end.meeting_id = id;
	end.actor = &actor;
	assert_int_equal(reg_host_end(&T.ctx, &end, &why), HD_OK);
	read_state(id, &w);
	assert_int_equal(w.seq, 0);
	reg_join_fini(&a);

	// A state left behind (a crash between the last leave and its
	// clean-up): whoever finds the call empty starts without it; someone
	// joining a call with others in it gets it.
	reg_test_meeting(&T, id);
	join_ok(id, "Ada", NULL, t0, &a);
	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, t0, &w), HD_OK);
	join_ok(id, "Bob", NULL, t0, &b);
	reg_watch_for_join(&T.ctx, id, b.others.n == 0, &w);
	assert_string_equal(w.url, VIDEO);
	char members[REG_KEY_MAX];
	redisReply *rep;
	reg_key_members(members, id);
	const char *del[] = {"DEL", members};
	assert_int_equal(hd_redis_command(T.ctx.redis, &rep, 2, del, NULL), HD_OK);
	freeReplyObject(rep);
	join_ok(id, "Cy", NULL, t0, &c);
	assert_int_equal(c.others.n, 0);
	reg_watch_for_join(&T.ctx, id, c.others.n == 0, &w);
	assert_string_equal(w.url, "");
	read_state(id, &w);
	assert_int_equal(w.seq, 0);
	reg_join_fini(&a);
	reg_join_fini(&b);
	reg_join_fini(&c);
}

static void keys_expire(void **state)
{
	(void)state;
	char id[23], key[REG_KEY_MAX];
	struct reg_join a;
	struct reg_watch w;
	redisReply *rep;
	reg_test_meeting(&T, id);
	join_ok(id, "Ada", NULL, hd_now_ms(), &a);
	assert_int_equal(act(id, a.self.id, START, VIDEO, 0, 0, hd_now_ms(), &w), HD_OK);
	snprintf(key, sizeof(key), "huddle:{%s}:watch", id);
	const char *ttl[] = {"TTL", key};
	assert_int_equal(hd_redis_command(T.ctx.redis, &rep, 2, ttl, NULL), HD_OK);
	assert_true(rep->type == REDIS_REPLY_INTEGER && rep->integer > REG_WATCH_TTL_S - 60 &&
		    rep->integer <= REG_WATCH_TTL_S);
	freeReplyObject(rep);
	assert_int_equal(act(id, a.self.id, STOP, NULL, 0, 0, hd_now_ms(), &w), HD_OK);
	assert_int_equal(hd_redis_command(T.ctx.redis, &rep, 2, ttl, NULL), HD_OK);
	assert_true(rep->type == REDIS_REPLY_INTEGER && rep->integer > REG_WATCH_STOPPED_TTL_S - 60 &&
		    rep->integer <= REG_WATCH_STOPPED_TTL_S);
	freeReplyObject(rep);
	reg_join_fini(&a);
}

static int group_setup(void **state)
{
	(void)state;
	reg_test_open(&T, 14);
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
		cmocka_unit_test(url_rules),      cmocka_unit_test(positions),
		cmocka_unit_test(state_machine),  cmocka_unit_test(refused_changes_nothing),
		cmocka_unit_test(racing_changes), cmocka_unit_test(ends_with_the_call),
		cmocka_unit_test(keys_expire),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
