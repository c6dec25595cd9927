// main_test.c: the huddle-registry executable: --help, refusing bad
// settings, starting against a real Redis and exiting 0 on SIGTERM (under
// ASan, a leak at exit would make that exit status non-zero).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/redis_fixture.h"
#include "common/rpc.h"
#include "common/util.h"
#include "daemon.h"
#include "huddle/v1/registry.pb-c.h"

#ifndef HUDDLE_REGISTRY_BIN
#error "HUDDLE_REGISTRY_BIN must name the huddle-registry executable"
#endif

#define WAIT_MS 15000 // bound on any one start or stop (ASan builds are slow)

static char dir[64];
static char log_path[128];

static const char *const settings[] = {"REGISTRY_LISTEN",  "REGISTRY_EVENTS_LISTEN", "REDIS_URL",
				       "STORE_URI",        "PRESENCE_TTL_MS",        "SWEEP_INTERVAL_MS",
				       "REGISTRY_WORKERS", "REDIS_TIMEOUT_MS",       "LOG_LEVEL"};

static const struct hd_test_daemon under_test = {HUDDLE_REGISTRY_BIN, settings, sizeof(settings) / sizeof(settings[0]),
						 log_path};

// start runs the daemon with env ("NAME=value" strings, NULL-terminated) on
// top of a clean environment, output to log_path.
static pid_t start(const char *const *env, const char *arg)
{
	return hd_test_daemon_start(&under_test, env, arg);
}

// finish waits (bounded) for pid: its exit status, or -1 (signal, killed).
static int finish(pid_t pid)
{
	return hd_test_daemon_finish(pid, WAIT_MS);
}

// output returns what the last run printed (static buffer).
static const char *output(void)
{
	return hd_test_daemon_output(&under_test);
}

static int run(const char *const *env, const char *arg)
{
	return finish(start(env, arg));
}

static void help(void **state)
{
	assert_int_equal(run(NULL, "--help"), 0);
	const char *out = output();
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strstr(out, settings[i]) == NULL)
			fail_msg("--help does not list %s:\n%s", settings[i], out);
	assert_non_null(strstr(out, "30000"));
	assert_int_equal(run(NULL, "--bogus"), 2);
}

static void bad_settings(void **state)
{
	const char *ttl_low[] = {"PRESENCE_TTL_MS=5", NULL};
	const char *ttl_text[] = {"PRESENCE_TTL_MS=30s", NULL};
	const char *workers[] = {"REGISTRY_WORKERS=0", NULL};
	const char *level[] = {"LOG_LEVEL=chatty", NULL};
	assert_int_equal(run(ttl_low, NULL), 2);
	assert_non_null(strstr(output(), "PRESENCE_TTL_MS"));
	assert_int_equal(run(ttl_text, NULL), 2);
	assert_non_null(strstr(output(), "PRESENCE_TTL_MS"));
	assert_int_equal(run(workers, NULL), 2);
	assert_non_null(strstr(output(), "REGISTRY_WORKERS"));
	assert_int_equal(run(level, NULL), 2);
	assert_non_null(strstr(output(), "LOG_LEVEL"));
}

static void cannot_start(void **state)
{
	static char listen[160], events[160], store[160], bad_store[160];
	snprintf(listen, sizeof(listen), "REGISTRY_LISTEN=ipc://%s/r.ipc", dir);
	snprintf(events, sizeof(events), "REGISTRY_EVENTS_LISTEN=ipc://%s/r.ipc", dir); // the same address
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/h.db", dir);
	snprintf(bad_store, sizeof(bad_store), "STORE_URI=sqlite://%s/no/such/dir/h.db", dir);
	const char *busy[] = {listen, events, store, "REDIS_URL=redis://127.0.0.1:1", NULL};
	int rc = run(busy, NULL);
	assert_true(rc > 0);
	assert_non_null(strstr(output(), "cannot listen"));
	assert_null(strstr(output(), "Sanitizer"));

	const char *no_store[] = {bad_store, "REDIS_URL=redis://127.0.0.1:1", NULL};
	rc = run(no_store, NULL);
	assert_true(rc > 0);
	assert_non_null(strstr(output(), "STORE_URI"));
	const char *scheme[] = {"STORE_URI=nosuch://x", NULL};
	assert_true(run(scheme, NULL) > 0);
	assert_non_null(strstr(output(), "STORE_URI"));
	const char *redis[] = {store, "REDIS_URL=http://x", NULL};
	assert_true(run(redis, NULL) > 0);
	assert_non_null(strstr(output(), "REDIS_URL"));
}

// secrets_stay_out_of_logs: a password inside STORE_URI or REDIS_URL never
// reaches stderr, neither in the effective-config lines nor in the errors
// about an unreachable or malformed URI (issue 8, defect 3).
static void secrets_stay_out_of_logs(void **state)
{
	static char store[160];
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/h.db", dir);
	const char *mongo[] = {"STORE_URI=mongodb://huddle:Pw-in-uri-1@127.0.0.1:1/huddle?serverSelectionTimeoutMS=200",
			       "REDIS_URL=redis://127.0.0.1:1", NULL};
	assert_true(run(mongo, NULL) > 0);
	assert_non_null(strstr(output(), "STORE_URI"));
	if (strstr(output(), "Pw-in-uri-1") != NULL)
		fail_msg("the MongoDB password reached the log:\n%s", output());
	const char *scheme[] = {"STORE_URI=nosuch://huddle:Pw-in-uri-2@x", NULL};
	assert_true(run(scheme, NULL) > 0);
	assert_non_null(strstr(output(), "STORE_URI"));
	if (strstr(output(), "Pw-in-uri-2") != NULL)
		fail_msg("the password of a bad STORE_URI reached the log:\n%s", output());
	const char *redis[] = {store, "REDIS_URL=redis://:Pw-in-uri-3@127.0.0.1:1:x", NULL};
	assert_true(run(redis, NULL) > 0);
	assert_non_null(strstr(output(), "REDIS_URL"));
	if (strstr(output(), "Pw-in-uri-3") != NULL)
		fail_msg("the Redis password reached the log:\n%s", output());
}

// health calls Health on url; returns the reply's error code, or -1 when no
// reply came.
static int health(const char *url)
{
	struct hd_rpc_client *c;
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__HealthRequest h = HUDDLE__V1__HEALTH_REQUEST__INIT;
	nng_msg *msg, *rep;
	int code = -1;
	req.request_id = 1;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HEALTH;
	req.health = &h;
	assert_int_equal(hd_rpc_client_open(&c, url), HD_OK);
	assert_int_equal(hd_msg_pack(&req.base, &msg), HD_OK);
	if (hd_rpc_call(c, msg, 3000, &rep) == HD_OK) {
		Huddle__V1__RegistryReply *r =
			huddle__v1__registry_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
		nng_msg_free(rep);
		if (r != NULL) {
			code = r->error != NULL ? (int)r->error->code : 0;
			huddle__v1__registry_reply__free_unpacked(r, NULL);
		}
	}
	hd_rpc_client_close(c);
	return code;
}

// serve_then_stop starts the registry, waits until Health answers `want`,
// sends sig and expects exit status 0 with nothing from the sanitizers.
static void serve_then_stop(const char *redis_url, int want, int sig)
{
	static char listen[200], events[200], store[200], redis[200];
	char url[160];
	snprintf(url, sizeof(url), "ipc://%s/serve.ipc", dir);
	snprintf(listen, sizeof(listen), "REGISTRY_LISTEN=%s", url);
	snprintf(events, sizeof(events), "REGISTRY_EVENTS_LISTEN=ipc://%s/events.ipc", dir);
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/h.db", dir);
	snprintf(redis, sizeof(redis), "REDIS_URL=%s", redis_url);
	const char *env[] = {
		listen, events, store, redis, "REGISTRY_WORKERS=2", "SWEEP_INTERVAL_MS=100", "REDIS_TIMEOUT_MS=300",
		NULL};
	pid_t pid = start(env, NULL);
	int got = -1;
	int64_t until = hd_mono_ms() + WAIT_MS;
	while (got != want && hd_mono_ms() < until && waitpid(pid, NULL, WNOHANG) == 0)
		if ((got = health(url)) != want)
			usleep(50 * 1000);
	usleep(300 * 1000); // a few sweeps
	kill(pid, sig);
	int rc = finish(pid);
	const char *out = output();
	if (got != want || rc != 0 || strstr(out, "Sanitizer") != NULL)
		fail_msg("health %d (want %d), exit %d:\n%s", got, want, rc, out);
	assert_non_null(strstr(out, "shutting down"));
}

static void serves_and_stops(void **state)
{
	serve_then_stop(hd_test_redis_url(), 0, SIGTERM);
	serve_then_stop(hd_test_redis_url(), 0, SIGINT);
}

static void redis_down_at_start(void **state)
{
	// Starts anyway, answers UNAVAILABLE, says so once, and still stops cleanly.
	serve_then_stop("redis://127.0.0.1:1", 12, SIGTERM);
	const char *out = output(), *first = strstr(out, "Redis is unavailable");
	assert_non_null(first);
	assert_null(strstr(first + 1, "Redis is unavailable"));
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hd-reg-main-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(log_path, sizeof(log_path), "%s/out.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help),
		cmocka_unit_test(bad_settings),
		cmocka_unit_test(cannot_start),
		cmocka_unit_test(secrets_stay_out_of_logs),
		cmocka_unit_test(serves_and_stops),
		cmocka_unit_test(redis_down_at_start),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
