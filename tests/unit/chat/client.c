// client.c: ChatRequest calls and a ChatEvent collector for the chat tests.
#include "client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

static pthread_mutex_t id_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_id = 1000;

Huddle__V1__ChatReply *chat_test_call(struct hd_rpc_client *c, Huddle__V1__ChatRequest *req)
{
	nng_msg *msg, *rep;
	pthread_mutex_lock(&id_mtx);
	req->request_id = ++next_id;
	pthread_mutex_unlock(&id_mtx);
	assert_int_equal(hd_msg_pack(&req->base, &msg), HD_OK);
	assert_int_equal(hd_rpc_call(c, msg, CHAT_TEST_CALL_MS, &rep), HD_OK);
	Huddle__V1__ChatReply *r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	assert_int_equal(r->request_id, req->request_id);
	return r;
}

int chat_test_code(const Huddle__V1__ChatReply *r)
{
	if (r->error == NULL || r->error->code == 0)
		return HD_OK;
	assert_true(strlen(r->error->message) > 0);
	assert_int_equal(r->body_case, HUDDLE__V1__CHAT_REPLY__BODY__NOT_SET);
	return (int)r->error->code;
}

Huddle__V1__ChatReply *chat_test_post(struct hd_rpc_client *c, const char *meeting, const char *client_id,
				      const char *sender_name, const char *text)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServicePostRequest body = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.client_message_id = (char *)client_id;
	body.sender_name = (char *)sender_name;
	body.text = (char *)text;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
	req.post = &body;
	return chat_test_call(c, &req);
}

Huddle__V1__ChatReply *chat_test_history(struct hd_rpc_client *c, const char *meeting, int64_t after_seq,
					 int64_t before_seq, uint32_t limit)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServiceHistoryRequest body = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.after_seq = after_seq;
	body.before_seq = before_seq;
	body.limit = limit;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
	req.history = &body;
	return chat_test_call(c, &req);
}

static void on_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	struct chat_test_events *e = arg;
	pthread_mutex_lock(&e->mtx);
	if (strcmp(topic, "probe") == 0) {
		e->probes++;
	} else if (e->n < CHAT_TEST_EVENTS_MAX) {
		Huddle__V1__ChatEvent *ev = huddle__v1__chat_event__unpack(NULL, len, data);
		if (ev != NULL && (ev->message == NULL || strcmp(ev->message->meeting_id, topic) != 0)) {
			e->mismatched++;
			huddle__v1__chat_event__free_unpacked(ev, NULL);
			ev = NULL;
		}
		if (ev != NULL)
			e->ev[e->n++] = ev;
	}
	pthread_mutex_unlock(&e->mtx);
}

void chat_test_events_open(struct chat_test_events *e, const char *url, nng_socket pub)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->mtx, NULL);
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

void chat_test_events_close(struct chat_test_events *e)
{
	hd_sub_close(e->sub);
	for (size_t i = 0; i < e->n; i++)
		huddle__v1__chat_event__free_unpacked(e->ev[i], NULL);
	pthread_mutex_destroy(&e->mtx);
}

void chat_test_events_subscribe(struct chat_test_events *e, const char *meeting)
{
	assert_int_equal(hd_sub_subscribe(e->sub, meeting), HD_OK);
}

size_t chat_test_events_seqs(struct chat_test_events *e, const char *meeting, int64_t *seqs, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&e->mtx);
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->ev[i]->message->meeting_id, meeting) == 0) {
			if (seqs != NULL && n < max)
				seqs[n] = e->ev[i]->message->seq;
			n++;
		}
	pthread_mutex_unlock(&e->mtx);
	return n;
}

size_t chat_test_events_wait(struct chat_test_events *e, const char *meeting, size_t want, int timeout_ms)
{
	int64_t until = hd_mono_ms() + timeout_ms;
	size_t n;
	while ((n = chat_test_events_seqs(e, meeting, NULL, 0)) < want && hd_mono_ms() < until)
		usleep(5 * 1000);
	return n;
}
