// rpc_test.c: REQ/REP with a worker pool and PUB/SUB topics, over real
// ipc:// and tcp://127.0.0.1 sockets; dispatch through an op table by the
// request's descriptor (with huddle-chat's messages and test ops).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/chat.pb-c.h"

static char url[128];

// echo_handler replies with the request body prefixed by the worker's tag.
static nng_msg *echo_handler(void *state, nng_msg *req)
{
	const char *tag = state;
	nng_msg *rep;
	if (nng_msg_alloc(&rep, 0) != 0)
		return NULL;
	nng_msg_append(rep, tag, 1);
	nng_msg_append(rep, nng_msg_body(req), nng_msg_len(req));
	if (nng_msg_len(req) == 4 && memcmp(nng_msg_body(req), "slow", 4) == 0)
		usleep(300 * 1000);
	if (nng_msg_len(req) == 4 && memcmp(nng_msg_body(req), "drop", 4) == 0) {
		nng_msg_free(rep);
		return NULL;
	}
	return rep;
}

static nng_msg *text_msg(const char *s)
{
	nng_msg *m;
	nng_msg_alloc(&m, 0);
	nng_msg_append(m, s, strlen(s));
	return m;
}

static void sync_calls(void **state)
{
	struct hd_rpc_server *srv;
	struct hd_rpc_client *cli;
	char *tags[] = {"a", "b", "c"};
	snprintf(url, sizeof(url), "ipc:///tmp/hd-rpc-test-%d", (int)getpid());
	assert_int_equal(hd_rpc_server_open(&srv, url, 3, echo_handler, (void **)tags), HD_OK);
	assert_int_equal(hd_rpc_client_open(&cli, url), HD_OK);
	for (int i = 0; i < 20; i++) {
		nng_msg *rep;
		assert_int_equal(hd_rpc_call(cli, text_msg("hello"), 2000, &rep), HD_OK);
		assert_int_equal(nng_msg_len(rep), 6);
		assert_memory_equal((char *)nng_msg_body(rep) + 1, "hello", 5);
		nng_msg_free(rep);
	}
	// A dropped request times out with a clear error.
	nng_msg *rep = NULL;
	assert_int_equal(hd_rpc_call(cli, text_msg("drop"), 200, &rep), HD_ETIMEOUT);
	assert_null(rep);
	hd_rpc_client_close(cli);
	hd_rpc_server_close(srv);
}

struct async_result {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int done, ok, errors;
	hd_err last;
};

static void async_cb(void *arg, hd_err err, nng_msg *reply)
{
	struct async_result *r = arg;
	pthread_mutex_lock(&r->mtx);
	if (err == HD_OK) {
		r->ok++;
		nng_msg_free(reply);
	} else {
		r->errors++;
		r->last = err;
	}
	r->done++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mtx);
}

static void wait_done(struct async_result *r, int n)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;
	pthread_mutex_lock(&r->mtx);
	while (r->done < n && pthread_cond_timedwait(&r->cv, &r->mtx, &deadline) == 0)
		;
	pthread_mutex_unlock(&r->mtx);
}

static void async_concurrent_calls(void **state)
{
	struct hd_rpc_server *srv;
	struct hd_rpc_client *cli;
	char *tags[] = {"a", "b", "c", "d"};
	struct async_result r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, HD_OK};
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", 20000 + (int)(getpid() % 20000));
	assert_int_equal(hd_rpc_server_open(&srv, url, 4, echo_handler, (void **)tags), HD_OK);
	assert_int_equal(hd_rpc_client_open(&cli, url), HD_OK);
	// Four slow requests on four workers finish together, not one after another.
	int64_t t0 = hd_mono_ms();
	for (int i = 0; i < 4; i++)
		assert_int_equal(hd_rpc_call_async(cli, text_msg("slow"), 3000, async_cb, &r), HD_OK);
	wait_done(&r, 4);
	assert_int_equal(r.ok, 4);
	assert_true(hd_mono_ms() - t0 < 1100);
	for (int i = 0; i < 500; i++)
		assert_int_equal(hd_rpc_call_async(cli, text_msg("x"), 3000, async_cb, &r), HD_OK);
	wait_done(&r, 504);
	assert_int_equal(r.ok, 504);
	assert_int_equal(r.errors, 0);
	assert_int_equal(hd_rpc_client_connected(cli), 1);
	// Server gone: calls fail within their timeout instead of hanging.
	hd_rpc_server_close(srv);
	for (int i = 0; i < 200 && hd_rpc_client_connected(cli) > 0; i++)
		usleep(10000);
	assert_int_equal(hd_rpc_client_connected(cli), 0);
	assert_int_equal(hd_rpc_call_async(cli, text_msg("x"), 200, async_cb, &r), HD_OK);
	wait_done(&r, 505);
	assert_int_equal(r.errors, 1);
	assert_true(r.last == HD_EUNAVAILABLE || r.last == HD_ETIMEOUT);
	hd_rpc_client_close(cli);
}

static void bad_addresses(void **state)
{
	struct hd_rpc_server *srv;
	struct hd_rpc_client *cli;
	assert_int_equal(hd_rpc_server_open(&srv, "nope://x", 1, echo_handler, NULL), HD_EBADREQUEST);
	assert_int_equal(hd_rpc_client_open(&cli, "nope://x"), HD_EBADREQUEST);
	assert_int_equal(hd_rpc_client_open(&cli, " , "), HD_EBADREQUEST);
}

struct events {
	pthread_mutex_t mtx;
	int count;
	char last_topic[64];
	char last_data[64];
};

static void on_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	struct events *e = arg;
	pthread_mutex_lock(&e->mtx);
	e->count++;
	snprintf(e->last_topic, sizeof(e->last_topic), "%s", topic);
	snprintf(e->last_data, sizeof(e->last_data), "%.*s", (int)len, (const char *)data);
	pthread_mutex_unlock(&e->mtx);
}

static int event_count(struct events *e)
{
	pthread_mutex_lock(&e->mtx);
	int n = e->count;
	pthread_mutex_unlock(&e->mtx);
	return n;
}

static void pubsub_topics(void **state)
{
	nng_socket pub;
	struct hd_sub *sub;
	struct events e = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""};
	snprintf(url, sizeof(url), "ipc:///tmp/hd-pub-test-%d", (int)getpid());
	assert_int_equal(hd_pub_open(&pub, url), HD_OK);
	assert_int_equal(hd_sub_open(&sub, url, on_event, &e), HD_OK);
	assert_int_equal(hd_sub_subscribe(sub, "meetingA"), HD_OK);
	// The dial is asynchronous: publish until the first event arrives.
	for (int i = 0; i < 200 && event_count(&e) == 0; i++) {
		hd_pub_send(pub, "meetingA", (const uint8_t *)"hello", 5);
		usleep(10 * 1000);
	}
	assert_true(event_count(&e) > 0);
	assert_string_equal(e.last_topic, "meetingA");
	assert_string_equal(e.last_data, "hello");
	usleep(50 * 1000);
	int before = event_count(&e);
	// A topic that is a prefix-extension of a subscribed one is not delivered.
	hd_pub_send(pub, "meetingAB", (const uint8_t *)"no", 2);
	hd_pub_send(pub, "meetingB", (const uint8_t *)"no", 2);
	hd_pub_send(pub, "meetingA", (const uint8_t *)"yes", 3);
	for (int i = 0; i < 100 && event_count(&e) == before; i++)
		usleep(10 * 1000);
	usleep(100 * 1000);
	assert_int_equal(event_count(&e), before + 1);
	assert_string_equal(e.last_data, "yes");
	assert_int_equal(hd_sub_connected(sub), 1);
	// A burst far over NNG's default queue of 16 arrives whole.
	before = event_count(&e);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(hd_pub_send(pub, "meetingA", (const uint8_t *)"burst", 5), HD_OK);
	for (int i = 0; i < 500 && event_count(&e) < before + 2000; i++)
		usleep(10 * 1000);
	assert_int_equal(event_count(&e), before + 2000);
	assert_int_equal(hd_sub_unsubscribe(sub, "meetingA"), HD_OK);
	before = event_count(&e);
	hd_pub_send(pub, "meetingA", (const uint8_t *)"late", 4);
	usleep(150 * 1000);
	assert_int_equal(event_count(&e), before);
	nng_close(pub);
	for (int i = 0; i < 200 && hd_sub_connected(sub) > 0; i++)
		usleep(10 * 1000);
	assert_int_equal(hd_sub_connected(sub), 0);
	assert_int_equal(hd_sub_connections(sub), 1);
	// A publisher that comes back is redialed, and the count shows it.
	assert_int_equal(hd_pub_open(&pub, url), HD_OK);
	for (int i = 0; i < 500 && hd_sub_connected(sub) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(hd_sub_connected(sub), 1);
	assert_int_equal(hd_sub_connections(sub), 2);
	nng_close(pub);
	hd_sub_close(sub);
}

// ---- dispatch ----

// op_echo answers a post with its text as the message text, tagged by the
// worker; "fail" fails naming the field, "unpacked" forgets to pack,
// "wrong" packs a body the reply does not have.
static hd_err op_echo(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	const Huddle__V1__ChatServicePostRequest *p = body;
	Huddle__V1__ChatServicePostReply reply = HUDDLE__V1__CHAT_SERVICE_POST_REPLY__INIT;
	Huddle__V1__ChatMessage m = HUDDLE__V1__CHAT_MESSAGE__INIT;
	if (strcmp(p->text, "fail") == 0) {
		*why = "text says fail";
		return HD_EBADREQUEST;
	}
	if (strcmp(p->text, "unpacked") == 0)
		return HD_OK;
	if (strcmp(p->text, "wrong") == 0)
		return hd_rpc_reply_pack(rep, &m.base);
	m.text = (char *)p->text;
	m.sender_name = worker;
	reply.message = &m;
	return hd_rpc_reply_pack(rep, &reply.base);
}

// Only posts are served: history is beyond the table, health a NULL entry.
static const hd_rpc_op test_ops[] = {
	[HUDDLE__V1__CHAT_REQUEST__BODY_POST] = op_echo,
};

static const struct hd_rpc_service test_service = {
	.name = "the test service",
	.request = &huddle__v1__chat_request__descriptor,
	.reply = &huddle__v1__chat_reply__descriptor,
	.ops = test_ops,
	.n_ops = sizeof(test_ops) / sizeof(test_ops[0]),
};

// dispatch packs req, dispatches it on worker "w1" and returns the reply.
static Huddle__V1__ChatReply *dispatch(const Huddle__V1__ChatRequest *req)
{
	nng_msg *msg;
	assert_int_equal(hd_msg_pack(&req->base, &msg), HD_OK);
	nng_msg *out = hd_rpc_dispatch(&test_service, "w1", msg);
	nng_msg_free(msg);
	assert_non_null(out);
	Huddle__V1__ChatReply *r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(out), nng_msg_body(out));
	nng_msg_free(out);
	assert_non_null(r);
	return r;
}

static Huddle__V1__ChatReply *post(uint64_t id, const char *text)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServicePostRequest body = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
	body.text = (char *)text;
	req.request_id = id;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
	req.post = &body;
	return dispatch(&req);
}

// expect_error checks an error reply: id, code, no body, message containing want.
static void expect_error(Huddle__V1__ChatReply *r, uint64_t id, int code, const char *want)
{
	assert_int_equal(r->request_id, id);
	assert_non_null(r->error);
	assert_int_equal(r->error->code, code);
	if (strstr(r->error->message, want) == NULL)
		fail_msg("error '%s' does not say '%s'", r->error->message, want);
	assert_int_equal(r->body_case, HUDDLE__V1__CHAT_REPLY__BODY__NOT_SET);
	huddle__v1__chat_reply__free_unpacked(r, NULL);
}

static void dispatch_by_descriptor(void **state)
{
	Huddle__V1__ChatReply *r = post(42, "hello");
	assert_int_equal(r->request_id, 42);
	assert_null(r->error);
	assert_int_equal(r->body_case, HUDDLE__V1__CHAT_REPLY__BODY_POST);
	assert_string_equal(r->post->message->text, "hello");
	assert_string_equal(r->post->message->sender_name, "w1"); // the worker's state
	huddle__v1__chat_reply__free_unpacked(r, NULL);

	expect_error(post(43, "fail"), 43, HD_EBADREQUEST, "text says fail");
	expect_error(post(44, "unpacked"), 44, HD_EINTERNAL, "not packed");
	expect_error(post(45, "wrong"), 45, HD_EINTERNAL, "internal");

	// No body, a body past the table, a NULL entry: unknown, id echoed.
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	req.request_id = 46;
	expect_error(dispatch(&req), 46, HD_EUNKNOWNTYPE, "no body the test service knows");
	Huddle__V1__ChatServiceHistoryRequest history = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
	req.history = &history;
	expect_error(dispatch(&req), 46, HD_EUNKNOWNTYPE, "body");

	// Bytes that are no ChatRequest: request_id 0.
	nng_msg *msg, *out;
	assert_int_equal(nng_msg_alloc(&msg, 3), 0);
	memcpy(nng_msg_body(msg), "\xff\xff\xff", 3);
	out = hd_rpc_dispatch(&test_service, "w1", msg);
	nng_msg_free(msg);
	assert_non_null(out);
	r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(out), nng_msg_body(out));
	nng_msg_free(out);
	assert_non_null(r);
	expect_error(r, 0, HD_EMALFORMED, "ChatRequest");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sync_calls),
		cmocka_unit_test(async_concurrent_calls),
		cmocka_unit_test(bad_addresses),
		cmocka_unit_test(pubsub_topics),
		cmocka_unit_test(dispatch_by_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
