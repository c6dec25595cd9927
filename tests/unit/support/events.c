// events.c: collect a daemon's events in C tests (see events.h).
#include "events.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/rpc.h"
#include "common/util.h"

static void on_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	struct hd_test_events *e = arg;
	pthread_mutex_lock(&e->mtx);
	if (strcmp(topic, "probe") == 0) {
		e->probes++;
	} else if (e->n < HD_TEST_EVENTS_MAX) {
		ProtobufCMessage *m = protobuf_c_message_unpack(e->desc, NULL, len, data);
		if (m == NULL) {
			e->undecodable++;
		} else {
			snprintf(e->ev[e->n].topic, sizeof(e->ev[e->n].topic), "%s", topic);
			e->ev[e->n++].msg = m;
		}
	}
	pthread_mutex_unlock(&e->mtx);
}

void hd_test_events_open(struct hd_test_events *e, const char *url, nng_socket pub,
			 const ProtobufCMessageDescriptor *desc)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->mtx, NULL);
	e->desc = desc;
	assert_int_equal(hd_sub_open(&e->sub, url, on_event, e), HD_OK);
	if (nng_socket_id(pub) <= 0) {
		for (int i = 0; i < 1000 && hd_sub_connected(e->sub) == 0; i++)
			usleep(10 * 1000);
		assert_true(hd_sub_connected(e->sub) > 0);
		usleep(50 * 1000); // the publisher learns of the pipe a little later
		return;
	}
	// PUB drops what it sends before the subscriber is connected: probe
	// until one arrives, then every later event is delivered.
	assert_int_equal(hd_sub_subscribe(e->sub, "probe"), HD_OK);
	int got = 0;
	for (int i = 0; i < 500 && !got; i++) {
		hd_pub_send(pub, "probe", (const uint8_t *)"", 0);
		usleep(10 * 1000);
		pthread_mutex_lock(&e->mtx);
		got = e->probes;
		pthread_mutex_unlock(&e->mtx);
	}
	assert_true(got > 0);
	hd_sub_unsubscribe(e->sub, "probe");
}

void hd_test_events_close(struct hd_test_events *e)
{
	hd_sub_close(e->sub);
	for (size_t i = 0; i < e->n; i++)
		protobuf_c_message_free_unpacked(e->ev[i].msg, NULL);
	pthread_mutex_destroy(&e->mtx);
}

void hd_test_events_subscribe(struct hd_test_events *e, const char *topic)
{
	assert_int_equal(hd_sub_subscribe(e->sub, topic), HD_OK);
}

size_t hd_test_events_count(struct hd_test_events *e, const char *topic)
{
	size_t n = 0;
	pthread_mutex_lock(&e->mtx);
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->ev[i].topic, topic) == 0)
			n++;
	pthread_mutex_unlock(&e->mtx);
	return n;
}

size_t hd_test_events_wait(struct hd_test_events *e, const char *topic, size_t want, int timeout_ms)
{
	int64_t until = hd_mono_ms() + timeout_ms;
	size_t n;
	while ((n = hd_test_events_count(e, topic)) < want && hd_mono_ms() < until)
		usleep(5 * 1000);
	return n;
}
