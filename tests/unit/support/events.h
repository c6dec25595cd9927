// events.h: a subscriber for C tests that collects a daemon's events (PUB/SUB,
// topic = meeting id + NUL, then one packed protobuf message) on a real
// socket, decoded with the event's descriptor.
#ifndef HD_TEST_EVENTS_H
#define HD_TEST_EVENTS_H

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stddef.h>

#define HD_TEST_EVENTS_MAX 8192
#define HD_TEST_TOPIC_MAX 64

// hd_test_event is one received event: its topic and the decoded message
// (owned by the collector).
struct hd_test_event {
	char topic[HD_TEST_TOPIC_MAX];
	ProtobufCMessage *msg;
};

// hd_test_events is filled on an NNG thread; read ev[0..n) under mtx.
struct hd_test_events {
	pthread_mutex_t mtx;
	const ProtobufCMessageDescriptor *desc;
	struct hd_test_event ev[HD_TEST_EVENTS_MAX];
	size_t n;
	int probes;      // "probe" topic messages seen while connecting
	int undecodable; // events that did not decode as desc
	struct hd_sub *sub;
};

// hd_test_events_open subscribes to url, decoding events as desc, and waits
// until the subscriber is connected: pub (the publisher, when the test holds
// it) is probed with a "probe" topic; without it (pub id 0) the wait is on
// hd_sub_connected. Failures end the test.
void hd_test_events_open(struct hd_test_events *e, const char *url, nng_socket pub,
			 const ProtobufCMessageDescriptor *desc);
void hd_test_events_close(struct hd_test_events *e);
void hd_test_events_subscribe(struct hd_test_events *e, const char *topic);

// hd_test_events_count counts the events of topic received so far.
size_t hd_test_events_count(struct hd_test_events *e, const char *topic);

// hd_test_events_wait waits up to timeout_ms until want events of topic
// arrived; returns how many did.
size_t hd_test_events_wait(struct hd_test_events *e, const char *topic, size_t want, int timeout_ms);

#endif
