// rpc_test.c: huddle-chat's calls over real sockets (REQ/REP and PUB/SUB on
// ipc://) against a real SQLite file, served in-process as main.c serves
// them: posts, duplicates, validation, history pages, events, and group
// commit under 32 concurrent posters.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "chat/rpc.h"
#include "chat/writer.h"
#include "client.h"
#include "common/util.h"

#define WORKERS 8
#define BATCH_MAX 256
#define EVENT_MS 10000

// fixture is one huddle-chat served in-process, in its own temp folder.
struct fixture {
	char dir[64];
	char url[128], events_url[128];
	struct hd_store *store;
	nng_socket pub;
	struct chat_writer *writer;
	struct chat_ctx ctx[WORKERS];
	void *states[WORKERS];
	struct hd_rpc_server *server;
	struct hd_rpc_client *client;
	struct chat_test_events events;
};

static struct fixture F;

static int setup(void **state)
{
	char uri[128];
	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/hd-chat-rpc-XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", F.dir);
	snprintf(F.url, sizeof(F.url), "ipc://%s/chat.ipc", F.dir);
	snprintf(F.events_url, sizeof(F.events_url), "ipc://%s/events.ipc", F.dir);
	assert_int_equal(hd_store_open(&F.store, uri), HD_OK);
	assert_int_equal(hd_pub_open(&F.pub, F.events_url), HD_OK);
	assert_int_equal(chat_writer_open(&F.writer, F.store, F.pub, BATCH_MAX), HD_OK);
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(chat_ctx_init(&F.ctx[i], F.store, F.writer), HD_OK);
		F.states[i] = &F.ctx[i];
	}
	assert_int_equal(hd_rpc_server_open(&F.server, F.url, WORKERS, chat_rpc_handle, F.states), HD_OK);
	assert_int_equal(hd_rpc_client_open(&F.client, F.url), HD_OK);
	chat_test_events_open(&F.events, F.events_url, F.pub);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	chat_test_events_close(&F.events);
	hd_rpc_client_close(F.client);
	hd_rpc_server_close(F.server);
	chat_writer_close(F.writer);
	for (int i = WORKERS - 1; i >= 0; i--)
		chat_ctx_fini(&F.ctx[i]);
	nng_close(F.pub);
	hd_store_close(F.store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void new_meeting(char id[HD_ID_LEN + 1])
{
	assert_int_equal(hd_id_random(id), HD_OK);
	chat_test_events_subscribe(&F.events, id);
}

// post_ok posts and returns the stored message's seq, checking the reply.
static int64_t post_ok(const char *meeting, const char *client_id, const char *text, bool want_duplicate)
{
	Huddle__V1__ChatReply *r = chat_test_post(F.client, meeting, client_id, "Ada", text);
	if (chat_test_code(r) != HD_OK)
		fail_msg("post %s: %d %s", client_id, chat_test_code(r), r->error->message);
	assert_int_equal(r->body_case, HUDDLE__V1__CHAT_REPLY__BODY_POST);
	assert_non_null(r->post->message);
	assert_int_equal(r->post->duplicate, want_duplicate);
	assert_string_equal(r->post->message->client_message_id, client_id);
	int64_t seq = r->post->message->seq;
	huddle__v1__chat_reply__free_unpacked(r, NULL);
	return seq;
}

// expect_error posts and checks the code and that the message names field.
static void expect_error(Huddle__V1__ChatReply *r, int code, const char *field)
{
	int got = chat_test_code(r);
	if (got != code || strstr(r->error->message, field) == NULL)
		fail_msg("want code %d naming '%s', got %d '%s'", code, field, got,
			 r->error != NULL ? r->error->message : "");
	huddle__v1__chat_reply__free_unpacked(r, NULL);
}

static int64_t last_seq(const char *meeting)
{
	Huddle__V1__ChatReply *r = chat_test_history(F.client, meeting, 0, 0, 1);
	assert_int_equal(chat_test_code(r), HD_OK);
	int64_t last = r->history->last_seq;
	huddle__v1__chat_reply__free_unpacked(r, NULL);
	return last;
}

static void post_stores(void **state)
{
	char m[HD_ID_LEN + 1], sender[HD_ID_LEN + 1];
	new_meeting(m);
	assert_int_equal(hd_id_random(sender), HD_OK);
	int64_t before = hd_now_ms();

	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServicePostRequest body = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
	body.meeting_id = m;
	body.client_message_id = "c-1_A";
	body.sender_id = sender;
	body.sender_name = "  Grace Hopper\t";
	body.text = " \n hello, wörld \r\n";
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
	req.post = &body;
	Huddle__V1__ChatReply *r = chat_test_call(F.client, &req);
	assert_int_equal(chat_test_code(r), HD_OK);
	const Huddle__V1__ChatMessage *msg = r->post->message;
	assert_false(r->post->duplicate);
	assert_string_equal(msg->meeting_id, m);
	assert_int_equal(msg->seq, 1);
	assert_string_equal(msg->client_message_id, "c-1_A");
	assert_string_equal(msg->sender_id, sender);
	assert_string_equal(msg->sender_name, "Grace Hopper");
	assert_string_equal(msg->text, "hello, wörld");
	assert_true(msg->sent_at_ms >= before && msg->sent_at_ms <= hd_now_ms());
	huddle__v1__chat_reply__free_unpacked(r, NULL);

	assert_int_equal(post_ok(m, "c-2", "second", false), 2);
	r = chat_test_history(F.client, m, 0, 0, 0);
	assert_int_equal(chat_test_code(r), HD_OK);
	assert_int_equal(r->history->n_messages, 2);
	assert_string_equal(r->history->messages[0]->text, "hello, wörld");
	assert_string_equal(r->history->messages[0]->sender_name, "Grace Hopper");
	assert_string_equal(r->history->messages[1]->text, "second");
	assert_int_equal(r->history->last_seq, 2);
	assert_false(r->history->more);
	huddle__v1__chat_reply__free_unpacked(r, NULL);
}

static void duplicate_stores_nothing(void **state)
{
	char m[HD_ID_LEN + 1], other[HD_ID_LEN + 1];
	struct chat_writer_stats before, after;
	new_meeting(m);
	new_meeting(other);
	assert_int_equal(post_ok(m, "same", "first text", false), 1);
	chat_writer_get_stats(F.writer, &before);
	// A retry (even with other text) answers the stored message.
	Huddle__V1__ChatReply *r = chat_test_post(F.client, m, "same", "Bob", "retried text");
	assert_int_equal(chat_test_code(r), HD_OK);
	assert_true(r->post->duplicate);
	assert_int_equal(r->post->message->seq, 1);
	assert_string_equal(r->post->message->text, "first text");
	assert_string_equal(r->post->message->sender_name, "Ada");
	huddle__v1__chat_reply__free_unpacked(r, NULL);
	chat_writer_get_stats(F.writer, &after);
	assert_int_equal(after.duplicates, before.duplicates + 1);
	assert_int_equal(after.stored, before.stored);
	assert_int_equal(last_seq(m), 1);
	// The id is per meeting.
	assert_int_equal(post_ok(other, "same", "elsewhere", false), 1);
	assert_int_equal(post_ok(m, "next", "next", false), 2);
	assert_int_equal(last_seq(m), 2);
}

static void text_limits(void **state)
{
	char m[HD_ID_LEN + 1];
	static char text[HD_CHAT_TEXT_MAX + 16];
	new_meeting(m);

	memset(text, 'x', HD_CHAT_TEXT_MAX);
	text[HD_CHAT_TEXT_MAX] = '\0';
	assert_int_equal(post_ok(m, "max", text, false), 1);
	// Surrounding whitespace does not count.
	text[0] = ' ';
	memset(text + 1, 'y', HD_CHAT_TEXT_MAX);
	memcpy(text + 1 + HD_CHAT_TEXT_MAX, "\n\t ", 4);
	assert_int_equal(post_ok(m, "max-padded", text, false), 2);
	// 4096 bytes of two-byte characters.
	for (int i = 0; i < HD_CHAT_TEXT_MAX; i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[HD_CHAT_TEXT_MAX] = '\0';
	assert_int_equal(post_ok(m, "max-utf8", text, false), 3);
	Huddle__V1__ChatReply *r = chat_test_history(F.client, m, 2, 0, 1);
	assert_int_equal(chat_test_code(r), HD_OK);
	assert_int_equal(strlen(r->history->messages[0]->text), HD_CHAT_TEXT_MAX);
	huddle__v1__chat_reply__free_unpacked(r, NULL);
}

static void validation_errors(void **state)
{
	char m[HD_ID_LEN + 1], long_id[HD_CHAT_CLIENT_ID_MAX + 2], long_name[HD_CHAT_NAME_MAX + 2];
	static char text[HD_CHAT_TEXT_MAX + 2];
	new_meeting(m);
	memset(text, 'x', HD_CHAT_TEXT_MAX + 1);
	memset(long_id, 'a', HD_CHAT_CLIENT_ID_MAX + 1);
	long_id[HD_CHAT_CLIENT_ID_MAX + 1] = '\0';
	memset(long_name, 'n', HD_CHAT_NAME_MAX + 1);
	long_name[HD_CHAT_NAME_MAX + 1] = '\0';

	expect_error(chat_test_post(F.client, m, "e1", "Ada", ""), HD_EBADREQUEST, "text");
	expect_error(chat_test_post(F.client, m, "e2", "Ada", " \t\r\n\v\f "), HD_EBADREQUEST, "text");
	expect_error(chat_test_post(F.client, m, "e3", "Ada", text), HD_ETOOLARGE, "text");
	expect_error(chat_test_post(F.client, m, "e4", "Ada", "bad \xff byte"), HD_EBADREQUEST, "UTF-8");
	expect_error(chat_test_post(F.client, m, "e5", "Ada", "overlong \xc0\xaf"), HD_EBADREQUEST, "UTF-8");
	expect_error(chat_test_post(F.client, m, "e6", "Ada", "cut \xe2\x82"), HD_EBADREQUEST, "UTF-8");
	expect_error(chat_test_post(F.client, m, "e7", "Ada", "surrogate \xed\xa0\x80"), HD_EBADREQUEST, "UTF-8");

	expect_error(chat_test_post(F.client, m, "", "Ada", "hi"), HD_EBADREQUEST, "client_message_id");
	expect_error(chat_test_post(F.client, m, "a b", "Ada", "hi"), HD_EBADREQUEST, "client_message_id");
	expect_error(chat_test_post(F.client, m, "a/b", "Ada", "hi"), HD_EBADREQUEST, "client_message_id");
	expect_error(chat_test_post(F.client, m, "\xc3\xa9", "Ada", "hi"), HD_EBADREQUEST, "client_message_id");
	expect_error(chat_test_post(F.client, m, long_id, "Ada", "hi"), HD_ETOOLARGE, "client_message_id");

	expect_error(chat_test_post(F.client, "", "e8", "Ada", "hi"), HD_EBADREQUEST, "meeting_id");
	expect_error(chat_test_post(F.client, "short", "e9", "Ada", "hi"), HD_EBADREQUEST, "meeting_id");
	expect_error(chat_test_post(F.client, "AAAAAAAAAAAAAAAAAAAAA*", "e9", "Ada", "hi"), HD_EBADREQUEST,
		     "meeting_id");

	expect_error(chat_test_post(F.client, m, "e10", "", "hi"), HD_EBADREQUEST, "sender_name");
	expect_error(chat_test_post(F.client, m, "e11", "   ", "hi"), HD_EBADREQUEST, "sender_name");
	expect_error(chat_test_post(F.client, m, "e12", long_name, "hi"), HD_ETOOLARGE, "sender_name");
	expect_error(chat_test_post(F.client, m, "e13", "\xff", "hi"), HD_EBADREQUEST, "sender_name");

	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServicePostRequest body = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
	body.meeting_id = m;
	body.client_message_id = "e14";
	body.sender_id = "not-a-participant";
	body.sender_name = "Ada";
	body.text = "hi";
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
	req.post = &body;
	expect_error(chat_test_call(F.client, &req), HD_EBADREQUEST, "sender_id");

	expect_error(chat_test_history(F.client, m, 0, 0, HD_CHAT_PAGE_MAX + 1), HD_EBADREQUEST, "limit");
	expect_error(chat_test_history(F.client, m, -1, 0, 10), HD_EBADREQUEST, "after_seq");
	expect_error(chat_test_history(F.client, m, 0, -5, 10), HD_EBADREQUEST, "before_seq");
	expect_error(chat_test_history(F.client, "nope", 0, 0, 10), HD_EBADREQUEST, "meeting_id");

	// A request without a body, and bytes that are no ChatRequest.
	Huddle__V1__ChatRequest empty = HUDDLE__V1__CHAT_REQUEST__INIT;
	expect_error(chat_test_call(F.client, &empty), HD_EUNKNOWNTYPE, "body");
	nng_msg *msg, *rep;
	assert_int_equal(nng_msg_alloc(&msg, 3), 0);
	memcpy(nng_msg_body(msg), "\xff\xff\xff", 3);
	assert_int_equal(hd_rpc_call(F.client, msg, CHAT_TEST_CALL_MS, &rep), HD_OK);
	Huddle__V1__ChatReply *r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	assert_int_equal(r->request_id, 0);
	expect_error(r, HD_EMALFORMED, "ChatRequest");

	// Nothing was stored, nothing published.
	assert_int_equal(last_seq(m), 0);
	assert_int_equal(chat_test_events_seqs(&F.events, m, NULL, 0), 0);
}

// seed stores n messages in meeting directly (the daemon's store).
static void seed(const char *meeting, int n)
{
	static struct hd_chat_message msgs[50];
	bool dup[50];
	for (int done = 0; done < n;) {
		int k = n - done < 50 ? n - done : 50;
		for (int i = 0; i < k; i++) {
			memset(&msgs[i], 0, sizeof(msgs[i]));
			memcpy(msgs[i].meeting_id, meeting, HD_ID_LEN + 1);
			snprintf(msgs[i].client_message_id, sizeof(msgs[i].client_message_id), "s%d", done + i);
			snprintf(msgs[i].sender_name, sizeof(msgs[i].sender_name), "Seeder");
			snprintf(msgs[i].text, sizeof(msgs[i].text), "message %d", done + i + 1);
			msgs[i].sent_at_ms = hd_now_ms();
		}
		assert_int_equal(hd_chat_append(F.store, msgs, (size_t)k, dup), HD_OK);
		done += k;
	}
}

// page checks a history reply: messages first..last (ascending), more.
static void page(const char *m, int64_t after, int64_t before, uint32_t limit, int64_t first, int64_t last, bool more,
		 int64_t last_seq_want)
{
	Huddle__V1__ChatReply *r = chat_test_history(F.client, m, after, before, limit);
	assert_int_equal(chat_test_code(r), HD_OK);
	const Huddle__V1__ChatServiceHistoryReply *h = r->history;
	size_t want = last >= first ? (size_t)(last - first + 1) : 0;
	if (h->n_messages != want || h->more != more || h->last_seq != last_seq_want)
		fail_msg("after %lld before %lld limit %u: %zu messages (want %zu), more %d (want %d), last %lld",
			 (long long)after, (long long)before, limit, h->n_messages, want, h->more, more,
			 (long long)h->last_seq);
	for (size_t i = 0; i < h->n_messages; i++) {
		char text[32];
		long long seq = (long long)first + (long long)i;
		assert_int_equal(h->messages[i]->seq, seq);
		snprintf(text, sizeof(text), "message %lld", seq);
		assert_string_equal(h->messages[i]->text, text);
		assert_string_equal(h->messages[i]->meeting_id, m);
	}
	huddle__v1__chat_reply__free_unpacked(r, NULL);
}

static void history_pages(void **state)
{
	char m[HD_ID_LEN + 1], other[HD_ID_LEN + 1], empty[HD_ID_LEN + 1];
	new_meeting(m);
	new_meeting(other);
	new_meeting(empty);
	seed(m, 120);
	seed(other, 3);
	// Paging down (oldest first), default limit 50.
	page(m, 0, 0, 0, 1, 50, true, 120);
	page(m, 50, 0, 50, 51, 100, true, 120);
	page(m, 100, 0, 50, 101, 120, false, 120);
	page(m, 120, 0, 50, 1, 0, false, 120);
	page(m, 0, 0, HD_CHAT_PAGE_MAX, 1, 120, false, 120);
	// Paging up (newest first, still ascending in the page).
	page(m, 0, 121, 50, 71, 120, true, 120);
	page(m, 0, 71, 50, 21, 70, true, 120);
	page(m, 0, 21, 50, 1, 20, false, 120);
	page(m, 0, 1, 50, 1, 0, false, 120);
	// Both bounds.
	page(m, 10, 30, 50, 11, 29, false, 120);
	page(m, 10, 30, 5, 25, 29, true, 120);
	// Other meetings are apart; unknown ones are empty.
	page(other, 0, 0, 50, 1, 3, false, 3);
	page(empty, 0, 0, 50, 1, 0, false, 0);
}

static void events_in_seq_order(void **state)
{
	char m[HD_ID_LEN + 1], unsubscribed[HD_ID_LEN + 1];
	int64_t seqs[8];
	new_meeting(m);
	assert_int_equal(hd_id_random(unsubscribed), HD_OK);
	assert_int_equal(post_ok(m, "a", "one", false), 1);
	assert_int_equal(post_ok(unsubscribed, "a", "elsewhere", false), 1);
	assert_int_equal(post_ok(m, "b", "two", false), 2);
	assert_int_equal(post_ok(m, "c", "three", false), 3);
	assert_int_equal(chat_test_events_wait(&F.events, m, 3, EVENT_MS), 3);
	// A duplicate post is published again (a gateway that missed it catches up).
	assert_int_equal(post_ok(m, "b", "two again", true), 2);
	assert_int_equal(chat_test_events_wait(&F.events, m, 4, EVENT_MS), 4);
	assert_int_equal(chat_test_events_seqs(&F.events, m, seqs, 8), 4);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[1], 2);
	assert_int_equal(seqs[2], 3);
	assert_int_equal(seqs[3], 2);
	pthread_mutex_lock(&F.events.mtx);
	const Huddle__V1__ChatMessage *last = F.events.ev[F.events.n - 1]->message;
	assert_string_equal(last->text, "two");
	assert_string_equal(last->client_message_id, "b");
	assert_string_equal(last->sender_name, "Ada");
	assert_true(last->sent_at_ms > 0);
	assert_int_equal(F.events.mismatched, 0);
	pthread_mutex_unlock(&F.events.mtx);
	assert_int_equal(chat_test_events_seqs(&F.events, unsubscribed, NULL, 0), 0);
}

#define POSTERS 32
#define PER_POSTER 8

struct poster {
	pthread_t thread;
	int index;
	const char *meeting;
	int64_t seqs[PER_POSTER];
	int failures;
};

// poster_main posts PER_POSTER messages through its own REQ socket, each
// call blocking until acknowledged.
static void *poster_main(void *p)
{
	struct poster *po = p;
	struct hd_rpc_client *c;
	if (hd_rpc_client_open(&c, F.url) != HD_OK) {
		po->failures = PER_POSTER;
		return NULL;
	}
	for (int i = 0; i < PER_POSTER; i++) {
		char id[32], text[64];
		Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
		Huddle__V1__ChatServicePostRequest body = HUDDLE__V1__CHAT_SERVICE_POST_REQUEST__INIT;
		nng_msg *msg, *rep;
		snprintf(id, sizeof(id), "p%d-%d", po->index, i);
		snprintf(text, sizeof(text), "poster %d message %d", po->index, i);
		body.meeting_id = (char *)po->meeting;
		body.client_message_id = id;
		body.sender_name = "Poster";
		body.text = text;
		req.request_id = (uint64_t)po->index * 1000 + (uint64_t)i + 1;
		req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_POST;
		req.post = &body;
		po->seqs[i] = -1;
		if (hd_msg_pack(&req.base, &msg) != HD_OK || hd_rpc_call(c, msg, CHAT_TEST_CALL_MS, &rep) != HD_OK) {
			po->failures++;
			continue;
		}
		Huddle__V1__ChatReply *r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
		nng_msg_free(rep);
		if (r != NULL && r->body_case == HUDDLE__V1__CHAT_REPLY__BODY_POST && !r->post->duplicate)
			po->seqs[i] = r->post->message->seq;
		else
			po->failures++;
		huddle__v1__chat_reply__free_unpacked(r, NULL);
	}
	hd_rpc_client_close(c);
	return NULL;
}

static void concurrent_posters_group_commit(void **state)
{
	enum { N = POSTERS * PER_POSTER };
	static struct poster posters[POSTERS];
	static int seen[N + 1];
	static int64_t events[N + 16];
	char m[HD_ID_LEN + 1];
	struct chat_writer_stats before, after;
	new_meeting(m);
	memset(seen, 0, sizeof(seen));
	chat_writer_get_stats(F.writer, &before);
	for (int i = 0; i < POSTERS; i++) {
		posters[i] = (struct poster){.index = i, .meeting = m};
		assert_int_equal(pthread_create(&posters[i].thread, NULL, poster_main, &posters[i]), 0);
	}
	for (int i = 0; i < POSTERS; i++)
		pthread_join(posters[i].thread, NULL);
	chat_writer_get_stats(F.writer, &after);

	// Every acknowledged post has its own seq, and together they are 1..N.
	for (int i = 0; i < POSTERS; i++) {
		assert_int_equal(posters[i].failures, 0);
		for (int j = 0; j < PER_POSTER; j++) {
			int64_t s = posters[i].seqs[j];
			assert_true(s >= 1 && s <= N);
			assert_int_equal(seen[s]++, 0);
			// One poster's posts are stored in the order it made them.
			if (j > 0)
				assert_true(s > posters[i].seqs[j - 1]);
		}
	}
	assert_int_equal(last_seq(m), N);
	uint64_t batches = after.batches - before.batches, posts = after.posts - before.posts;
	assert_int_equal(posts, N);
	assert_int_equal(after.stored - before.stored, N);
	if (batches >= posts)
		fail_msg("%llu posts took %llu batches: no group commit", (unsigned long long)posts,
			 (unsigned long long)batches);
	assert_true(after.max_batch > 1 && after.max_batch <= WORKERS);
	print_message("%d posts from %d posters in %llu batches (largest %llu)\n", N, POSTERS,
		      (unsigned long long)batches, (unsigned long long)after.max_batch);

	// The events came once each, in seq order.
	assert_int_equal(chat_test_events_wait(&F.events, m, N, EVENT_MS), N);
	assert_int_equal(chat_test_events_seqs(&F.events, m, events, N + 16), N);
	for (int i = 0; i < N; i++)
		assert_int_equal(events[i], i + 1);
}

static void health(void **state)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatHealthRequest body = HUDDLE__V1__CHAT_HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HEALTH;
	req.health = &body;
	Huddle__V1__ChatReply *r = chat_test_call(F.client, &req);
	assert_int_equal(chat_test_code(r), HD_OK);
	assert_int_equal(r->body_case, HUDDLE__V1__CHAT_REPLY__BODY_HEALTH);
	huddle__v1__chat_reply__free_unpacked(r, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(post_stores, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_stores_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(text_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(validation_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(history_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(events_in_seq_order, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_posters_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(health, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
