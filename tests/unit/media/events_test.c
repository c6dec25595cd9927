// events_test.c: events.c over a real PUB/SUB pair (ipc://): the messages
// Janus's VideoRoom sends (as JSON text, the way they arrive) become one
// MediaEvent each time something changes and none when every handle of the
// room repeats the same event: the publisher list (data streams left out, a
// stream described "screen" typed SCREEN, "unpublished"/"leaving" by id or
// "ok"), talking changes, a subscriber offer for its own participant only,
// media stopped.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rpc.h"
#include "events.h"
#include "huddle/v1/media.pb-c.h"
#include "media/events.h"

#define M "MMMMMMMMMMMMMMMMMMMMMM"
#define A "AAAAAAAAAAAAAAAAAAAAAA"
#define B "BBBBBBBBBBBBBBBBBBBBBB"
#define C "CCCCCCCCCCCCCCCCCCCCCC"
// WAIT_MS bounds waiting for an event; QUIET_MS is how long "no more event" is watched.
#define WAIT_MS 5000
#define QUIET_MS 200

static char dir[64];
static nng_socket pub;
static struct media_events *E;
static struct hd_test_events ev;
static size_t seen; // events of M checked so far

static int setup(void **state)
{
	char url[128];
	snprintf(dir, sizeof(dir), "/tmp/hd-media-events-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/events.ipc", dir);
	assert_int_equal(hd_pub_open(&pub, url), HD_OK);
	assert_int_equal(media_events_open(&E, pub), HD_OK);
	hd_test_events_open(&ev, url, pub, &huddle__v1__media_event__descriptor);
	hd_test_events_subscribe(&ev, M);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	hd_test_events_close(&ev);
	media_events_close(E);
	nng_close(pub);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

// next waits for M's next event and returns it (owned by ev).
static const Huddle__V1__MediaEvent *next(void)
{
	assert_int_equal(hd_test_events_wait(&ev, M, seen + 1, WAIT_MS), seen + 1);
	const Huddle__V1__MediaEvent *found = NULL;
	size_t k = 0;
	pthread_mutex_lock(&ev.mtx);
	for (size_t i = 0; i < ev.n && found == NULL; i++)
		if (strcmp(ev.ev[i].topic, M) == 0 && k++ == seen)
			found = (const Huddle__V1__MediaEvent *)ev.ev[i].msg;
	pthread_mutex_unlock(&ev.mtx);
	seen++;
	assert_non_null(found);
	assert_string_equal(found->meeting_id, M);
	assert_non_null(found->event);
	return found;
}

// quiet asserts that no further event of M comes.
static void quiet(void)
{
	assert_int_equal(hd_test_events_wait(&ev, M, seen + 1, QUIET_MS), seen);
}

// janus feeds one Janus message (JSON text) heard on participant's handle.
static void janus(const char *participant, bool subscriber, const char *json)
{
	cJSON *msg = cJSON_Parse(json);
	assert_non_null(msg);
	media_events_janus(E, M, participant, subscriber, msg);
	cJSON_Delete(msg);
}

// publishers checks a publisher list event: n entries, ids in any order.
static const Huddle__V1__SfuPublishers *publishers(const Huddle__V1__MediaEvent *e, size_t n)
{
	assert_int_equal(e->event->body_case, HUDDLE__V1__SFU_EVENT__BODY_PUBLISHERS);
	assert_string_equal(e->participant_id, "");
	assert_int_equal(e->event->publishers->n_publishers, n);
	return e->event->publishers;
}

static const Huddle__V1__SfuPublisher *find(const Huddle__V1__SfuPublishers *l, const char *id)
{
	for (size_t i = 0; i < l->n_publishers; i++)
		if (strcmp(l->publishers[i]->participant_id, id) == 0)
			return l->publishers[i];
	return NULL;
}

static void test_publishers(void **state)
{
	cJSON *list =
		cJSON_Parse("[{\"id\":\"" B "\",\"display\":\"" B "\",\"streams\":[{\"type\":\"audio\",\"mid\":\"0\"},"
			    "{\"type\":\"video\",\"mid\":\"1\",\"codec\":\"vp8\"}]}]");
	assert_non_null(list);
	media_events_joined(E, M, list);
	const Huddle__V1__SfuPublishers *l = publishers(next(), 1);
	assert_non_null(find(l, B));
	assert_int_equal(find(l, B)->n_streams, 2);
	assert_string_equal(find(l, B)->streams[0]->kind, "audio");
	assert_string_equal(find(l, B)->streams[1]->mid, "1");
	assert_int_equal(find(l, B)->streams[1]->type, HUDDLE__V1__SFU_STREAM_TYPE__SFU_STREAM_TYPE_CAMERA);
	media_events_joined(E, M, list); // another handle's join lists the same
	cJSON_Delete(list);
	quiet();

	cJSON *streams = cJSON_Parse("[{\"type\":\"audio\",\"mid\":\"0\"},{\"type\":\"video\",\"mid\":\"1\","
				     "\"description\":\"screen\"},{\"type\":\"data\",\"mid\":\"2\"}]");
	assert_non_null(streams);
	media_events_publisher(E, M, A, streams, false);
	cJSON_Delete(streams);
	l = publishers(next(), 2);
	assert_non_null(find(l, A));
	assert_int_equal(find(l, A)->n_streams, 2); // no data stream
	assert_int_equal(find(l, A)->streams[1]->type, HUDDLE__V1__SFU_STREAM_TYPE__SFU_STREAM_TYPE_SCREEN);
	media_events_publisher(E, M, A, NULL, false); // a renegotiation that names no streams keeps them
	quiet();

	// A unpublishes: B's and C's handles both hear it; one event.
	const char *unpub = "{\"janus\":\"event\",\"plugindata\":{\"plugin\":\"janus.plugin.videoroom\",\"data\":{"
			    "\"videoroom\":\"event\",\"room\":\"" M "\",\"unpublished\":\"" A "\"}}}";
	janus(B, false, unpub);
	janus(C, false, unpub);
	l = publishers(next(), 1);
	assert_null(find(l, A));
	quiet();

	// B leaves, heard on B's own handle ("ok"), then on C's (by id): the empty list once.
	janus(B, false,
	      "{\"janus\":\"event\",\"plugindata\":{\"data\":{\"videoroom\":\"event\",\"room\":\"" M
	      "\",\"leaving\":\"ok\"}}}");
	publishers(next(), 0);
	janus(C, false,
	      "{\"janus\":\"event\",\"plugindata\":{\"data\":{\"videoroom\":\"event\",\"room\":\"" M
	      "\",\"leaving\":\"" B "\"}}}");
	quiet();
}

static void test_talking_offer_stopped(void **state)
{
	const char *talk = "{\"janus\":\"event\",\"plugindata\":{\"data\":{\"videoroom\":\"talking\",\"room\":\"" M
			   "\",\"id\":\"" A "\",\"audio-level-dBov-avg\":12.5}}}";
	janus(A, false, talk);
	janus(B, false, talk); // the same, heard on another handle
	const Huddle__V1__MediaEvent *e = next();
	assert_int_equal(e->event->body_case, HUDDLE__V1__SFU_EVENT__BODY_TALKING);
	assert_string_equal(e->event->talking->participant_id, A);
	assert_true(e->event->talking->talking);
	quiet();
	janus(B, false,
	      "{\"janus\":\"event\",\"plugindata\":{\"data\":{\"videoroom\":\"stopped-talking\",\"room\":\"" M
	      "\",\"id\":\"" A "\"}}}");
	e = next();
	assert_int_equal(e->event->body_case, HUDDLE__V1__SFU_EVENT__BODY_TALKING);
	assert_false(e->event->talking->talking);

	// A renegotiation Janus starts on C's subscriber handle goes to C only;
	// the same message on a publisher handle is no offer.
	const char *offer = "{\"janus\":\"event\",\"plugindata\":{\"data\":{\"videoroom\":\"updated\",\"room\":\"" M
			    "\"}},\"jsep\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}}";
	janus(C, true, offer);
	e = next();
	assert_int_equal(e->event->body_case, HUDDLE__V1__SFU_EVENT__BODY_SUBSCRIBER_OFFER);
	assert_string_equal(e->participant_id, C);
	assert_string_equal(e->event->subscriber_offer->offer_sdp, "v=0\r\n");
	janus(C, false, offer);
	janus(C, true, "{\"janus\":\"webrtcup\"}"); // not VideoRoom's
	quiet();

	media_events_stopped(E, M);
	e = next();
	assert_int_equal(e->event->body_case, HUDDLE__V1__SFU_EVENT__BODY_MEDIA_STOPPED);
	assert_true(e->event->media_stopped->reconnecting);
	assert_string_equal(e->participant_id, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publishers),
		cmocka_unit_test(test_talking_offer_stopped),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
