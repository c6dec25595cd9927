// client.h: what the huddle-chat tests share: ChatRequest calls over a real
// REQ socket and a subscriber collecting ChatEvents. Failures end the test
// (cmocka asserts); every reply is the caller's
// (huddle__v1__chat_reply__free_unpacked).
#ifndef CHAT_TEST_CLIENT_H
#define CHAT_TEST_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/rpc.h"
#include "huddle/v1/chat.pb-c.h"

#define CHAT_TEST_CALL_MS 15000 // bound on one call (ASan builds, fsync)
#define CHAT_TEST_EVENTS_MAX 4096

// chat_test_call sends req (request_id set here) and returns the decoded
// reply, checking that it echoes the request id.
Huddle__V1__ChatReply *chat_test_call(struct hd_rpc_client *c, Huddle__V1__ChatRequest *req);

// chat_test_code is the reply's error code (0 on success); an error always
// carries a message and no body.
int chat_test_code(const Huddle__V1__ChatReply *r);

// chat_test_post posts one message (sender_id "").
Huddle__V1__ChatReply *chat_test_post(struct hd_rpc_client *c, const char *meeting, const char *client_id,
				      const char *sender_name, const char *text);

// chat_test_history reads one page.
Huddle__V1__ChatReply *chat_test_history(struct hd_rpc_client *c, const char *meeting, int64_t after_seq,
					 int64_t before_seq, uint32_t limit);

// chat_test_events collects ChatEvents of the subscribed meetings, filled on
// an NNG thread.
struct chat_test_events {
	pthread_mutex_t mtx;
	Huddle__V1__ChatEvent *ev[CHAT_TEST_EVENTS_MAX];
	size_t n;
	int probes;
	int mismatched; // events whose topic is not their meeting id
	struct hd_sub *sub;
};

// chat_test_events_open subscribes to url and waits until the subscriber is
// connected: pub (the publisher, when the test holds it) is probed with a
// "probe" topic; without it (pub id 0) the wait is on hd_sub_connected.
void chat_test_events_open(struct chat_test_events *e, const char *url, nng_socket pub);
void chat_test_events_close(struct chat_test_events *e);
void chat_test_events_subscribe(struct chat_test_events *e, const char *meeting);

// chat_test_events_wait waits up to timeout_ms until want events of meeting
// arrived; returns how many did.
size_t chat_test_events_wait(struct chat_test_events *e, const char *meeting, size_t want, int timeout_ms);

// chat_test_events_seqs copies the seqs of meeting's events in arrival order
// into seqs (room for max); returns the count.
size_t chat_test_events_seqs(struct chat_test_events *e, const char *meeting, int64_t *seqs, size_t max);

#endif
