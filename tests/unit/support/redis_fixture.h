// redis_fixture.h: a real redis-server for C tests. Uses HUDDLE_TEST_REDIS_URL
// when set (make test starts one), otherwise starts a private redis-server on
// a free 127.0.0.1 port and stops it at exit.
#ifndef HD_TEST_REDIS_FIXTURE_H
#define HD_TEST_REDIS_FIXTURE_H

// hd_test_redis_url returns a redis:// URL of a running server (static
// storage), or aborts the test program with a message when none can be had.
const char *hd_test_redis_url(void);

// hd_test_redis_restart stops and restarts the private server on the same
// port (for reconnect tests). Returns 0, or -1 when the server is external.
int hd_test_redis_restart(int down_ms);

#endif
