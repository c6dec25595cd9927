// main_test.c: the huddle-chat executable: --help, refusing bad settings,
// an unopenable store and busy addresses, serving posts and events on a
// store file shared with another process's store handle (as the registry
// shares it), and exiting 0 on SIGTERM/SIGINT (under ASan, a leak at exit
// would make that exit status non-zero).
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

#include "client.h"
#include "common/store.h"
#include "common/util.h"
#include "daemon.h"

#ifndef HUDDLE_CHAT_BIN
#error "HUDDLE_CHAT_BIN must name the huddle-chat executable"
#endif

#define WAIT_MS 15000 // bound on any one start or stop (ASan builds are slow)

static char dir[64];
static char log_path[128];

static const char *const settings[] = {"CHAT_LISTEN",  "CHAT_EVENTS_LISTEN", "STORE_URI",
				       "CHAT_WORKERS", "CHAT_BATCH_MAX",     "LOG_LEVEL"};

static const struct hd_test_daemon under_test = {HUDDLE_CHAT_BIN, settings, sizeof(settings) / sizeof(settings[0]),
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
	assert_non_null(strstr(out, "tcp://127.0.0.1:7003"));
	assert_non_null(strstr(out, "256"));
	assert_int_equal(run(NULL, "--bogus"), 2);
}

static void bad_settings(void **state)
{
	const char *workers[] = {"CHAT_WORKERS=0", NULL};
	const char *workers_text[] = {"CHAT_WORKERS=four", NULL};
	const char *batch[] = {"CHAT_BATCH_MAX=0", NULL};
	const char *level[] = {"LOG_LEVEL=chatty", NULL};
	assert_int_equal(run(workers, NULL), 2);
	assert_non_null(strstr(output(), "CHAT_WORKERS"));
	assert_int_equal(run(workers_text, NULL), 2);
	assert_non_null(strstr(output(), "CHAT_WORKERS"));
	assert_int_equal(run(batch, NULL), 2);
	assert_non_null(strstr(output(), "CHAT_BATCH_MAX"));
	assert_int_equal(run(level, NULL), 2);
	assert_non_null(strstr(output(), "LOG_LEVEL"));
}

static void cannot_start(void **state)
{
	static char listen[160], events[160], store[160], bad_store[160], bad_url[160];
	snprintf(listen, sizeof(listen), "CHAT_LISTEN=ipc://%s/c.ipc", dir);
	snprintf(events, sizeof(events), "CHAT_EVENTS_LISTEN=ipc://%s/c.ipc", dir); // the same address
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/h.db", dir);
	snprintf(bad_store, sizeof(bad_store), "STORE_URI=sqlite://%s/no/such/dir/h.db", dir);
	snprintf(bad_url, sizeof(bad_url), "CHAT_LISTEN=carrier-pigeon://%s", dir);

	const char *busy[] = {listen, events, store, NULL};
	assert_true(run(busy, NULL) > 0);
	assert_non_null(strstr(output(), "cannot listen on CHAT_LISTEN"));
	assert_null(strstr(output(), "Sanitizer"));

	const char *no_store[] = {bad_store, NULL};
	assert_true(run(no_store, NULL) > 0);
	assert_non_null(strstr(output(), "STORE_URI"));
	assert_null(strstr(output(), "Sanitizer"));
	const char *scheme[] = {"STORE_URI=nosuch://x", NULL};
	assert_true(run(scheme, NULL) > 0);
	assert_non_null(strstr(output(), "STORE_URI"));

	const char *url[] = {bad_url, events, store, NULL};
	assert_true(run(url, NULL) > 0);
	assert_non_null(strstr(output(), "CHAT_LISTEN"));
	assert_null(strstr(output(), "Sanitizer"));
}

// secrets_stay_out_of_logs: a password inside STORE_URI never reaches
// stderr, neither in the effective-config lines nor in the errors about an
// unreachable or malformed URI (issue 8, defect 3).
static void secrets_stay_out_of_logs(void **state)
{
	const char *mongo[] = {"STORE_URI=mongodb://huddle:Pw-in-uri-1@127.0.0.1:1/huddle?serverSelectionTimeoutMS=200",
			       NULL};
	assert_true(run(mongo, NULL) > 0);
	assert_non_null(strstr(output(), "STORE_URI"));
	if (strstr(output(), "Pw-in-uri-1") != NULL)
		fail_msg("the MongoDB password reached the log:\n%s", output());
	const char *scheme[] = {"STORE_URI=nosuch://huddle:Pw-in-uri-2@x", NULL};
	assert_true(run(scheme, NULL) > 0);
	assert_non_null(strstr(output(), "STORE_URI"));
	if (strstr(output(), "Pw-in-uri-2") != NULL)
		fail_msg("the password of a bad STORE_URI reached the log:\n%s", output());
}

// health calls Health on c; returns the reply's error code, or -1 when no
// reply came.
static int health(struct hd_rpc_client *c)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatHealthRequest h = HUDDLE__V1__CHAT_HEALTH_REQUEST__INIT;
	nng_msg *msg, *rep;
	int code = -1;
	req.request_id = 1;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HEALTH;
	req.health = &h;
	assert_int_equal(hd_msg_pack(&req.base, &msg), HD_OK);
	if (hd_rpc_call(c, msg, 1000, &rep) == HD_OK) {
		Huddle__V1__ChatReply *r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
		nng_msg_free(rep);
		if (r != NULL) {
			code = r->error != NULL ? (int)r->error->code : 0;
			huddle__v1__chat_reply__free_unpacked(r, NULL);
		}
	}
	return code;
}

// serve_then_stop starts huddle-chat on a store file this process also
// writes meetings to, posts through it, checks the events and what the
// file holds, then sends sig and expects exit 0, with nothing from the
// sanitizers.
static void serve_then_stop(int sig)
{
	static char listen[200], events[200], store[200];
	char url[160], events_url[160], uri[160], meeting[HD_ID_LEN + 1];
	struct hd_store *mine;
	struct hd_rpc_client *c;
	struct chat_test_events ev;
	snprintf(url, sizeof(url), "ipc://%s/serve.ipc", dir);
	snprintf(events_url, sizeof(events_url), "ipc://%s/events.ipc", dir);
	snprintf(uri, sizeof(uri), "sqlite://%s/shared-%d.db", dir, sig); // a fresh file per run
	snprintf(listen, sizeof(listen), "CHAT_LISTEN=%s", url);
	snprintf(events, sizeof(events), "CHAT_EVENTS_LISTEN=%s", events_url);
	snprintf(store, sizeof(store), "STORE_URI=%s", uri);
	const char *env[] = {listen, events, store, "CHAT_WORKERS=3", "CHAT_BATCH_MAX=16", NULL};
	assert_int_equal(hd_store_open(&mine, uri), HD_OK);
	pid_t pid = start(env, NULL);
	assert_int_equal(hd_rpc_client_open(&c, url), HD_OK);
	int got = -1;
	int64_t until = hd_mono_ms() + WAIT_MS;
	while (got != 0 && hd_mono_ms() < until && waitpid(pid, NULL, WNOHANG) == 0)
		if ((got = health(c)) != 0)
			usleep(50 * 1000);
	if (got != 0) {
		kill(pid, SIGKILL);
		finish(pid);
		fail_msg("huddle-chat did not answer Health: %d\n%s", got, output());
	}

	// Posts and meeting records written by two processes into one file.
	assert_int_equal(hd_id_random(meeting), HD_OK);
	chat_test_events_open(&ev, events_url, (nng_socket)NNG_SOCKET_INITIALIZER);
	chat_test_events_subscribe(&ev, meeting);
	usleep(100 * 1000); // the subscription reaches the publisher
	for (int i = 0; i < 5; i++) {
		char id[16], text[32];
		struct hd_meeting m = {.created_at_ms = hd_now_ms()};
		assert_int_equal(hd_id_random(m.id), HD_OK);
		assert_int_equal(hd_meeting_insert(mine, &m), HD_OK);
		snprintf(id, sizeof(id), "m%d", i);
		snprintf(text, sizeof(text), "text %d", i);
		Huddle__V1__ChatReply *r = chat_test_post(c, meeting, id, "Ada", text);
		assert_int_equal(chat_test_code(r), HD_OK);
		assert_int_equal(r->post->message->seq, i + 1);
		huddle__v1__chat_reply__free_unpacked(r, NULL);
	}
	assert_int_equal(chat_test_events_wait(&ev, meeting, 5, WAIT_MS), 5);
	static struct hd_chat_message page[10];
	size_t n;
	bool more;
	int64_t last;
	assert_int_equal(hd_chat_history(mine, meeting, 0, 0, 10, page, &n, &more, &last), HD_OK);
	assert_int_equal(n, 5);
	assert_int_equal(last, 5);
	assert_string_equal(page[4].text, "text 4");
	chat_test_events_close(&ev);
	hd_rpc_client_close(c);
	hd_store_close(mine);

	kill(pid, sig);
	int rc = finish(pid);
	const char *out = output();
	if (rc != 0 || strstr(out, "Sanitizer") != NULL)
		fail_msg("exit %d:\n%s", rc, out);
	assert_non_null(strstr(out, "shutting down"));
	assert_non_null(strstr(out, "5 posts in"));
	assert_non_null(strstr(out, "CHAT_BATCH_MAX")); // effective settings are logged
}

static void serves_and_stops(void **state)
{
	serve_then_stop(SIGTERM);
	serve_then_stop(SIGINT);
}

// A stop request while nothing has been asked still exits cleanly.
static void stops_when_idle(void **state)
{
	static char listen[200], events[200], store[200];
	snprintf(listen, sizeof(listen), "CHAT_LISTEN=ipc://%s/idle.ipc", dir);
	snprintf(events, sizeof(events), "CHAT_EVENTS_LISTEN=ipc://%s/idle-events.ipc", dir);
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/idle.db", dir);
	const char *env[] = {listen, events, store, NULL};
	pid_t pid = start(env, NULL);
	int64_t until = hd_mono_ms() + WAIT_MS;
	while (strstr(output(), "serving") == NULL && hd_mono_ms() < until)
		usleep(20 * 1000);
	kill(pid, SIGTERM);
	int rc = finish(pid);
	if (rc != 0)
		fail_msg("exit %d:\n%s", rc, output());
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hd-chat-main-XXXXXX");
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
		cmocka_unit_test(stops_when_idle),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
