// redis_test.c: commands against a real Redis, URL parsing, reconnect after
// the server restarts.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "../support/redis_fixture.h"
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
}

static void down_then_reconnects(void **state)
{
	struct hd_redis *r;
	assert_int_equal(hd_redis_open(&r, hd_test_redis_url(), 500), HD_OK);
	assert_int_equal(hd_redis_ping(r), HD_OK);
	if (hd_test_redis_restart(100) != 0) {
		hd_redis_close(r);
		skip(); // external server: cannot restart it
	}
	// The old connection is dead; the next command reconnects by itself.
	assert_int_equal(hd_redis_ping(r), HD_OK);
	hd_redis_close(r);
	// A server that is not there gives UNAVAILABLE, not a hang.
	assert_int_equal(hd_redis_open(&r, "redis://127.0.0.1:1", 200), HD_OK);
	assert_int_equal(hd_redis_ping(r), HD_EUNAVAILABLE);
	hd_redis_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commands),
		cmocka_unit_test(bad_urls),
		cmocka_unit_test(down_then_reconnects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
