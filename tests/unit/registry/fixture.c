// fixture.c: store, Redis, PUB socket and event collector for registry tests.
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../support/redis_fixture.h"
#include "common/util.h"
#include "registry/meetings.h"

static void on_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	struct reg_test_events *e = arg;
	pthread_mutex_lock(&e->mtx);
	if (strcmp(topic, "probe") == 0) {
		e->probes++;
	} else if (e->n < REG_TEST_EVENTS_MAX) {
		Huddle__V1__RoomEvent *ev = huddle__v1__room_event__unpack(NULL, len, data);
		if (ev != NULL && strcmp(ev->meeting_id, topic) != 0) {
			fprintf(stderr, "event for %s under topic %s\n", ev->meeting_id, topic);
			huddle__v1__room_event__free_unpacked(ev, NULL);
			ev = NULL; // not counted: the test then fails on counts
		}
		if (ev != NULL)
			e->ev[e->n++] = ev;
	}
	pthread_mutex_unlock(&e->mtx);
}

static void redis_flush(const char *url)
{
	struct hd_redis *r;
	redisReply *rep;
	const char *flush[] = {"FLUSHDB"};
	assert_int_equal(hd_redis_open(&r, url, 2000), HD_OK);
	assert_int_equal(hd_redis_command(r, &rep, 1, flush, NULL), HD_OK);
	freeReplyObject(rep);
	hd_redis_close(r);
}

void reg_test_open(struct reg_test *t, int db)
{
	char uri[128];
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/hd-reg-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	// The fixture's URL has no database unless one was given from outside.
	const char *base = hd_test_redis_url();
	if (strncmp(base, "redis://", 8) == 0 && strchr(base + 8, '/') == NULL)
		snprintf(t->redis_url, sizeof(t->redis_url), "%s/%d", base, db);
	else
		snprintf(t->redis_url, sizeof(t->redis_url), "%s", base);
	redis_flush(t->redis_url);

	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", t->dir);
	assert_int_equal(hd_store_open(&t->store, uri), HD_OK);
	snprintf(t->events_url, sizeof(t->events_url), "ipc://%s/events.ipc", t->dir);
	assert_int_equal(hd_pub_open(&t->pub, t->events_url), HD_OK);
	// As main.c does: hd_pub_open's SENDBUF does not take (see there).
	assert_int_equal(nng_socket_set_int(t->pub, NNG_OPT_SENDBUF, 8192), 0);
	reg_test_ctx_open(t, &t->ctx);

	struct reg_test_events *e = &t->events;
	pthread_mutex_init(&e->mtx, NULL);
	assert_int_equal(hd_sub_open(&e->sub, t->events_url, on_event, e), HD_OK);
	assert_int_equal(hd_sub_subscribe(e->sub, "probe"), HD_OK);
	// PUB drops what it sends before the subscriber is connected: probe
	// until one arrives, then every later event is delivered.
	int got = 0;
	for (int i = 0; i < 300 && !got; i++) {
		hd_pub_send(t->pub, "probe", (const uint8_t *)"", 0);
		usleep(10 * 1000);
		pthread_mutex_lock(&e->mtx);
		got = e->probes;
		pthread_mutex_unlock(&e->mtx);
	}
	assert_true(got > 0);
	hd_sub_unsubscribe(e->sub, "probe");
}

void reg_test_close(struct reg_test *t)
{
	char cmd[128];
	hd_sub_close(t->events.sub);
	for (size_t i = 0; i < t->events.n; i++)
		huddle__v1__room_event__free_unpacked(t->events.ev[i], NULL);
	pthread_mutex_destroy(&t->events.mtx);
	reg_test_ctx_close(&t->ctx);
	nng_close(t->pub);
	hd_store_close(t->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t->dir);
}

void reg_test_flush(struct reg_test *t)
{
	redis_flush(t->redis_url);
}

void reg_test_ctx_open(struct reg_test *t, struct reg_ctx *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(hd_redis_open(&c->redis, t->redis_url, 2000), HD_OK);
	c->store = t->store;
	c->pub = t->pub;
	c->presence_ttl_ms = REG_TEST_TTL_MS;
}

void reg_test_ctx_close(struct reg_ctx *c)
{
	hd_redis_close(c->redis);
	c->redis = NULL;
}

void reg_test_subscribe(struct reg_test *t, const char *meeting_id)
{
	assert_int_equal(hd_sub_subscribe(t->events.sub, meeting_id), HD_OK);
}

static bool event_matches(const Huddle__V1__RoomEvent *ev, const char *meeting_id, int body_case, const char *who)
{
	const char *subject = NULL;
	if (strcmp(ev->meeting_id, meeting_id) != 0 || (int)ev->body_case != body_case)
		return false;
	switch (ev->body_case) {
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_JOINED:
		subject = ev->participant_joined->participant != NULL ? ev->participant_joined->participant->id : "";
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_UPDATED:
		subject = ev->participant_updated->participant != NULL ? ev->participant_updated->participant->id : "";
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_PARTICIPANT_LEFT:
		subject = ev->participant_left->participant_id;
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_SIGNAL:
		subject = ev->signal->to;
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_ADMISSION:
		subject = ev->admission->participant_id;
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_MODERATED:
		subject = ev->moderated->participant_id;
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_REACTION:
		subject = ev->reaction->participant_id;
		break;
	case HUDDLE__V1__ROOM_EVENT__BODY_WAITING_CHANGED:
	case HUDDLE__V1__ROOM_EVENT__BODY_MEETING_UPDATED:
	case HUDDLE__V1__ROOM_EVENT__BODY_MEETING_ENDED:
	case HUDDLE__V1__ROOM_EVENT__BODY_WATCH_STATE:
	case HUDDLE__V1__ROOM_EVENT__BODY_MEDIA_MODE:
		return who == NULL; // about the meeting, not one participant
	default:
		return false;
	}
	return who == NULL || strcmp(subject, who) == 0;
}

size_t reg_test_count(struct reg_test *t, const char *meeting_id, int body_case, const char *who)
{
	size_t n = 0;
	pthread_mutex_lock(&t->events.mtx);
	for (size_t i = 0; i < t->events.n; i++)
		n += event_matches(t->events.ev[i], meeting_id, body_case, who);
	pthread_mutex_unlock(&t->events.mtx);
	return n;
}

size_t reg_test_wait(struct reg_test *t, const char *meeting_id, int body_case, const char *who, size_t want,
		     int timeout_ms)
{
	int64_t until = hd_mono_ms() + timeout_ms;
	size_t n;
	while ((n = reg_test_count(t, meeting_id, body_case, who)) < want && hd_mono_ms() < until)
		usleep(5 * 1000);
	return n;
}

const Huddle__V1__RoomEvent *reg_test_find(struct reg_test *t, const char *meeting_id, int body_case, const char *who)
{
	const Huddle__V1__RoomEvent *found = NULL;
	pthread_mutex_lock(&t->events.mtx);
	for (size_t i = 0; i < t->events.n && found == NULL; i++)
		if (event_matches(t->events.ev[i], meeting_id, body_case, who))
			found = t->events.ev[i];
	pthread_mutex_unlock(&t->events.mtx);
	return found; // events are never removed before reg_test_close
}

const Huddle__V1__RoomEvent *reg_test_last(struct reg_test *t, const char *meeting_id, int body_case, const char *who)
{
	const Huddle__V1__RoomEvent *found = NULL;
	pthread_mutex_lock(&t->events.mtx);
	for (size_t i = t->events.n; i > 0 && found == NULL; i--)
		if (event_matches(t->events.ev[i - 1], meeting_id, body_case, who))
			found = t->events.ev[i - 1];
	pthread_mutex_unlock(&t->events.mtx);
	return found;
}

void reg_test_host_meeting(struct reg_test *t, int access_mode, char id[23], char host_key[HD_KEY_LEN + 1])
{
	struct reg_meeting_spec spec = {.title = "hosted", .access_mode = access_mode};
	struct hd_meeting m;
	const char *why = NULL;
	assert_int_equal(reg_meeting_new(t->store, &spec, hd_now_ms(), &m, host_key, &why), HD_OK);
	assert_int_equal(m.access_mode, access_mode);
	memcpy(id, m.id, HD_ID_LEN + 1);
	reg_test_subscribe(t, id);
}

void reg_test_meeting(struct reg_test *t, char id[23])
{
	struct hd_meeting m;
	const char *why = NULL;
	assert_int_equal(reg_meeting_create(t->store, "test", hd_now_ms(), &m, &why), HD_OK);
	memcpy(id, m.id, HD_ID_LEN + 1);
	reg_test_subscribe(t, id);
}
