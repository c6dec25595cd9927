// redis_test.c: commands and pipelines against a real Redis, URL parsing,
// reconnect after the server restarts or a reply is lost.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../support/redis_fixture.h"
#include "../support/redis_proxy.h"
#include "common/redis.h"

static void commands(void **state)
{
	struct hd_redis *r;
	redisReply *rep;
	assert_int_equal(hd_redis_open(&r, hd_test_redis_url(), 1000), HD_OK);
	assert_int_equal(hd_redis_ping(r), HD_OK);
	const char *set[] = {"SET", "hd-test:key", "v\0x"};
	size_t setlen[] = {3, 11, 3};
	assert_int_equal(hd_redis_command(r, &rep, 3, set, setlen), HD_OK);
	freeReplyObject(rep);
	const char *get[] = {"GET", "hd-test:key"};
	assert_int_equal(hd_redis_command(r, &rep, 2, get, NULL), HD_OK);
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	assert_int_equal(rep->len, 3);
	assert_memory_equal(rep->str, "v\0x", 3);
	freeReplyObject(rep);
	const char *bad[] = {"NOSUCHCOMMAND"};
	assert_int_equal(hd_redis_command(r, &rep, 1, bad, NULL), HD_EINTERNAL);
	assert_null(rep);
	hd_redis_close(r);
}

static void bad_urls(void **state)
{
	struct hd_redis *r;
	assert_int_equal(hd_redis_open(&r, "http://x", 100), HD_EBADREQUEST);
	assert_int_equal(hd_redis_open(&r, "redis://h:99999", 100), HD_EBADREQUEST);
	assert_int_equal(hd_redis_open(&r, "unix://", 100), HD_EBADREQUEST);
	assert_int_equal(hd_redis_open(&r, "redis://h:abc", 100), HD_EBADREQUEST);
	assert_int_equal(hd_redis_open(&r, "redis://h:1/x", 100), HD_EBADREQUEST);
	assert_int_equal(hd_redis_open(&r, "redis://user:pw@h:1", 100), HD_EBADREQUEST);
	assert_int_equal(hd_redis_open(&r, "redis://:1", 100), HD_EBADREQUEST);
	assert_int_equal(hd_redis_open(&r, "unix:///tmp/x?db=z", 100), HD_EBADREQUEST);
	// Well-formed URLs open (the servers need not be there yet).
	const char *good[] = {"redis://127.0.0.1:1/2", "redis://127.0.0.1", "redis://127.0.0.1:1/",
			      "unix:///nonexistent/redis.sock?db=3"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(hd_redis_open(&r, good[i], 50), HD_OK);
		hd_redis_close(r);
	}
}

static void down_then_reconnects(void **state)
{
	struct hd_redis *r;
	assert_int_equal(hd_redis_open(&r, hd_test_redis_url(), 500), HD_OK);
	assert_int_equal(hd_redis_ping(r), HD_OK);
	assert_int_equal(hd_test_redis_restart(100), 0);
	// The old connection is dead; the next command reconnects by itself.
	assert_int_equal(hd_redis_ping(r), HD_OK);
	hd_redis_close(r);
	// A server that is not there gives UNAVAILABLE, not a hang.
	assert_int_equal(hd_redis_open(&r, "redis://127.0.0.1:1", 200), HD_OK);
	assert_int_equal(hd_redis_ping(r), HD_EUNAVAILABLE);
	hd_redis_close(r);
}

static void pipeline(void **state)
{
	struct hd_redis *r;
	redisReply *rep[4];
	assert_int_equal(hd_redis_open(&r, hd_test_redis_url(), 1000), HD_OK);
	assert_int_equal(hd_redis_pipeline(r, NULL, 0, rep, NULL), HD_OK);

	const char *del[] = {"DEL", "hd-test:pipe"};
	const char *incr[] = {"INCR", "hd-test:pipe"};
	const char *get[] = {"GET", "hd-test:pipe"};
	const struct hd_redis_cmd cmds[] = {{2, del, NULL}, {2, incr, NULL}, {2, incr, NULL}, {2, get, NULL}};
	assert_int_equal(hd_redis_pipeline(r, cmds, 4, rep, NULL), HD_OK);
	assert_int_equal(rep[1]->type, REDIS_REPLY_INTEGER);
	assert_int_equal(rep[1]->integer, 1);
	assert_int_equal(rep[2]->integer, 2);
	assert_int_equal(rep[3]->type, REDIS_REPLY_STRING);
	assert_string_equal(rep[3]->str, "2");
	for (int i = 0; i < 4; i++)
		freeReplyObject(rep[i]);

	// A large batch is still one call, replies in order.
	enum { N = 5000 };
	static struct hd_redis_cmd many[N];
	static redisReply *many_rep[N];
	for (int i = 0; i < N; i++)
		many[i] = (struct hd_redis_cmd){2, incr, NULL};
	assert_int_equal(hd_redis_pipeline(r, many, N, many_rep, NULL), HD_OK);
	for (int i = 0; i < N; i++) {
		assert_int_equal(many_rep[i]->integer, i + 3);
		freeReplyObject(many_rep[i]);
	}

	// MULTI/EXEC inside a batch.
	const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
	const struct hd_redis_cmd tx[] = {{1, multi, NULL}, {2, incr, NULL}, {2, get, NULL}, {1, exec, NULL}};
	assert_int_equal(hd_redis_pipeline(r, tx, 4, rep, NULL), HD_OK);
	assert_int_equal(rep[3]->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep[3]->elements, 2);
	assert_int_equal(rep[3]->element[0]->integer, N + 3);
	for (int i = 0; i < 4; i++)
		freeReplyObject(rep[i]);

	// One error reply fails the batch and leaves nothing to free.
	const char *bad[] = {"NOSUCHCOMMAND"};
	const struct hd_redis_cmd with_error[] = {{2, get, NULL}, {1, bad, NULL}, {2, get, NULL}};
	assert_int_equal(hd_redis_pipeline(r, with_error, 3, rep, NULL), HD_EINTERNAL);
	for (int i = 0; i < 3; i++)
		assert_null(rep[i]);
	// The connection is still in step afterwards.
	assert_int_equal(hd_redis_pipeline(r, cmds + 3, 1, rep, NULL), HD_OK);
	assert_string_equal(rep[0]->str, "5003");
	freeReplyObject(rep[0]);
	hd_redis_close(r);
}

static void pipeline_reconnects(void **state)
{
	struct hd_redis *r;
	redisReply *rep[2];
	const char *ping[] = {"PING"};
	const struct hd_redis_cmd cmds[] = {{1, ping, NULL}, {1, ping, NULL}};
	assert_int_equal(hd_redis_open(&r, hd_test_redis_url(), 500), HD_OK);
	assert_int_equal(hd_redis_pipeline(r, cmds, 2, rep, NULL), HD_OK);
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	if (hd_test_redis_restart(100) != 0) {
		hd_redis_close(r);
		skip();
	}
	// The dead connection took the batch without answering: sent again.
	bool resent = false;
	assert_int_equal(hd_redis_pipeline(r, cmds, 2, rep, &resent), HD_OK);
	assert_true(resent);
	assert_string_equal(rep[1]->str, "PONG");
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	hd_redis_close(r);
	assert_int_equal(hd_redis_open(&r, "redis://127.0.0.1:1", 200), HD_OK);
	assert_int_equal(hd_redis_pipeline(r, cmds, 2, rep, NULL), HD_EUNAVAILABLE);
	assert_null(rep[0]);
	assert_null(rep[1]);
	hd_redis_close(r);
}

// The replies to a batch are lost after its EXEC ran: the batch is sent
// again, runs twice, and *resent says so.
static void pipeline_lost_reply(void **state)
{
	struct hd_test_proxy *p;
	struct hd_redis *r;
	redisReply *rep[3];
	bool resent = true;
	assert_int_equal(hd_test_proxy_open(&p, hd_test_redis_url()), 0);
	assert_int_equal(hd_redis_open(&r, hd_test_proxy_url(p), 1000), HD_OK);
	const char *del[] = {"DEL", "hd-test:resent"};
	const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
	const char *incr[] = {"INCR", "hd-test:resent"};
	const struct hd_redis_cmd tx[] = {{1, multi, NULL}, {2, incr, NULL}, {1, exec, NULL}};
	const struct hd_redis_cmd first[] = {{2, del, NULL}};
	assert_int_equal(hd_redis_pipeline(r, first, 1, rep, &resent), HD_OK);
	assert_false(resent);
	freeReplyObject(rep[0]);

	hd_test_proxy_drop_exec_reply(p);
	assert_int_equal(hd_redis_pipeline(r, tx, 3, rep, &resent), HD_OK);
	assert_int_equal(hd_test_proxy_cuts(p), 1);
	assert_true(resent);
	assert_int_equal(rep[2]->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep[2]->element[0]->integer, 2); // the unseen first run counted too
	for (int i = 0; i < 3; i++)
		freeReplyObject(rep[i]);

	assert_int_equal(hd_redis_pipeline(r, tx, 3, rep, &resent), HD_OK);
	assert_false(resent);
	assert_int_equal(rep[2]->element[0]->integer, 3);
	for (int i = 0; i < 3; i++)
		freeReplyObject(rep[i]);
	hd_redis_close(r);
	hd_test_proxy_close(p);
}

int main(void)
{
	// This test restarts its server, so it never borrows the shared one.
	unsetenv("HUDDLE_TEST_REDIS_URL");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commands),
		cmocka_unit_test(bad_urls),
		cmocka_unit_test(down_then_reconnects),
		cmocka_unit_test(pipeline),
		cmocka_unit_test(pipeline_reconnects),
		cmocka_unit_test(pipeline_lost_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
