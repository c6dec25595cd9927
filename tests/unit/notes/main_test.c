// main_test.c: the huddle-notes executable: --help, refusing bad settings,
// an unopenable store and busy or invalid addresses (with their exit
// statuses), serving appends, a snapshot and awareness with their events on
// a store file this process also reads, and exiting 0 on SIGTERM/SIGINT
// (under ASan, a leak at exit would make that exit status non-zero).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
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

#ifndef HUDDLE_NOTES_BIN
#error "HUDDLE_NOTES_BIN must name the huddle-notes executable"
#endif

#define WAIT_MS 15000 // bound on any one start or stop (ASan builds are slow)

static char dir[64];
static char log_path[128];

static const char *const settings[] = {"NOTES_LISTEN",  "NOTES_EVENTS_LISTEN", "STORE_URI",
				       "NOTES_WORKERS", "NOTES_BATCH_MAX",     "LOG_LEVEL"};

static const struct hd_test_daemon notes = {HUDDLE_NOTES_BIN, settings, sizeof(settings) / sizeof(settings[0]),
					    log_path};

// run starts huddle-notes with env ("NAME=value" strings, NULL-terminated)
// and arg on a clean environment and returns its exit status (-1: killed).
static int run(const char *const *env, const char *arg)
{
	return hd_test_daemon_finish(hd_test_daemon_start(&notes, env, arg), WAIT_MS);
}

static const char *output(void)
{
	return hd_test_daemon_output(&notes);
}

// expect_said fails unless the last run printed every word and no sanitizer report.
static void expect_said(const char *word, const char *also)
{
	const char *out = output();
	if (strstr(out, word) == NULL || (also != NULL && strstr(out, also) == NULL) ||
	    strstr(out, "Sanitizer") != NULL)
		fail_msg("want '%s'%s%s in:\n%s", word, also != NULL ? " and " : "", also != NULL ? also : "", out);
}

static void help(void **state)
{
	assert_int_equal(run(NULL, "--help"), 0);
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		expect_said(settings[i], NULL);
	expect_said("tcp://127.0.0.1:7005", "tcp://127.0.0.1:7006");
	assert_int_equal(run(NULL, "--bogus"), 2);
}

static void bad_settings(void **state)
{
	const char *workers[] = {"NOTES_WORKERS=0", NULL};
	const char *workers_text[] = {"NOTES_WORKERS=four", NULL};
	const char *batch[] = {"NOTES_BATCH_MAX=0", NULL};
	const char *batch_high[] = {"NOTES_BATCH_MAX=5000", NULL};
	const char *level[] = {"LOG_LEVEL=chatty", NULL};
	assert_int_equal(run(workers, NULL), 2);
	expect_said("NOTES_WORKERS", NULL);
	assert_int_equal(run(workers_text, NULL), 2);
	expect_said("NOTES_WORKERS", NULL);
	assert_int_equal(run(batch, NULL), 2);
	expect_said("NOTES_BATCH_MAX", NULL);
	assert_int_equal(run(batch_high, NULL), 2);
	expect_said("NOTES_BATCH_MAX", "4096");
	assert_int_equal(run(level, NULL), 2);
	expect_said("LOG_LEVEL", NULL);
}

static void cannot_start(void **state)
{
	static char listen[160], events[160], store[160], bad_store[160], bad_url[160], bad_events[160];
	snprintf(listen, sizeof(listen), "NOTES_LISTEN=ipc://%s/n.ipc", dir);
	snprintf(events, sizeof(events), "NOTES_EVENTS_LISTEN=ipc://%s/n.ipc", dir); // the same address
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/h.db", dir);
	snprintf(bad_store, sizeof(bad_store), "STORE_URI=sqlite://%s/no/such/dir/h.db", dir);
	snprintf(bad_url, sizeof(bad_url), "NOTES_LISTEN=carrier-pigeon://%s", dir);
	snprintf(bad_events, sizeof(bad_events), "NOTES_EVENTS_LISTEN=carrier-pigeon://%s", dir);

	const char *busy[] = {listen, events, store, NULL};
	assert_int_equal(run(busy, NULL), 1);
	expect_said("cannot listen on NOTES_LISTEN", "address in use?");

	const char *no_store[] = {bad_store, NULL};
	assert_int_equal(run(no_store, NULL), 1);
	expect_said("cannot open STORE_URI", NULL);
	const char *scheme[] = {"STORE_URI=nosuch://x", NULL};
	assert_int_equal(run(scheme, NULL), 2);
	expect_said("STORE_URI", NULL);

	const char *url[] = {bad_url, store, NULL};
	assert_int_equal(run(url, NULL), 2);
	expect_said("NOTES_LISTEN", "not a valid address");
	const char *events_url[] = {bad_events, store, NULL};
	assert_int_equal(run(events_url, NULL), 2);
	expect_said("NOTES_EVENTS_LISTEN", "not a valid address");
}

// secrets_stay_out_of_logs: a password inside STORE_URI never reaches
// stderr, neither in the effective-config lines nor in the errors.
static void secrets_stay_out_of_logs(void **state)
{
	const char *mongo[] = {"STORE_URI=mongodb://huddle:Pw-in-uri-1@127.0.0.1:1/huddle?serverSelectionTimeoutMS=200",
			       NULL};
	assert_true(run(mongo, NULL) > 0);
	expect_said("STORE_URI", NULL);
	if (strstr(output(), "Pw-in-uri-1") != NULL)
		fail_msg("the MongoDB password reached the log:\n%s", output());
	const char *scheme[] = {"STORE_URI=nosuch://huddle:Pw-in-uri-2@x", NULL};
	assert_true(run(scheme, NULL) > 0);
	if (strstr(output(), "Pw-in-uri-2") != NULL)
		fail_msg("the password of a bad STORE_URI reached the log:\n%s", output());
}

// health calls Health on c; returns the reply's error code, or -1 when no
// reply came.
static int health(struct hd_rpc_client *c)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesHealthRequest h = HUDDLE__V1__NOTES_HEALTH_REQUEST__INIT;
	nng_msg *msg, *rep;
	int code = -1;
	req.request_id = 1;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_HEALTH;
	req.health = &h;
	assert_int_equal(hd_msg_pack(&req.base, &msg), HD_OK);
	if (hd_rpc_call(c, msg, 1000, &rep) == HD_OK) {
		Huddle__V1__NotesReply *r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
		nng_msg_free(rep);
		if (r != NULL) {
			code = r->error != NULL ? (int)r->error->code : 0;
			huddle__v1__notes_reply__free_unpacked(r, NULL);
		}
	}
	return code;
}

// serve_then_stop starts huddle-notes on a store file this process also
// reads, appends, snapshots and sends awareness through it, checks the
// events and what the file holds, then sends sig and expects exit 0 with
// nothing from the sanitizers.
static void serve_then_stop(int sig)
{
	static char listen[200], events[200], store[200];
	static struct hd_test_events ev;
	static struct hd_doc_update page[8];
	char url[160], events_url[160], uri[160], meeting[HD_ID_LEN + 1];
	struct hd_store *mine;
	struct hd_rpc_client *c;
	snprintf(url, sizeof(url), "ipc://%s/serve.ipc", dir);
	snprintf(events_url, sizeof(events_url), "ipc://%s/events.ipc", dir);
	snprintf(uri, sizeof(uri), "sqlite://%s/shared-%d.db", dir, sig); // a fresh file per run
	snprintf(listen, sizeof(listen), "NOTES_LISTEN=%s", url);
	snprintf(events, sizeof(events), "NOTES_EVENTS_LISTEN=%s", events_url);
	snprintf(store, sizeof(store), "STORE_URI=%s", uri);
	const char *env[] = {listen, events, store, "NOTES_WORKERS=3", "NOTES_BATCH_MAX=16", NULL};
	assert_int_equal(hd_store_open(&mine, uri), HD_OK);
	pid_t pid = hd_test_daemon_start(&notes, env, NULL);
	assert_int_equal(hd_rpc_client_open(&c, url), HD_OK);
	int got = -1;
	int64_t until = hd_mono_ms() + WAIT_MS;
	while (got != 0 && hd_mono_ms() < until && waitpid(pid, NULL, WNOHANG) == 0)
		if ((got = health(c)) != 0)
			usleep(50 * 1000);
	if (got != 0) {
		kill(pid, SIGKILL);
		hd_test_daemon_finish(pid, WAIT_MS);
		fail_msg("huddle-notes did not answer Health: %d\n%s", got, output());
	}

	assert_int_equal(hd_id_random(meeting), HD_OK);
	hd_test_events_open(&ev, events_url, (nng_socket)NNG_SOCKET_INITIALIZER, &huddle__v1__notes_event__descriptor);
	hd_test_events_subscribe(&ev, meeting);
	usleep(100 * 1000); // the subscription reaches the publisher
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof(id), "u%d", i);
		Huddle__V1__NotesReply *r = notes_test_append(c, meeting, NOTES_TEST_NOTES, id, id, strlen(id));
		assert_int_equal(notes_test_code(r), HD_OK);
		assert_int_equal(r->append->update->seq, i + 1);
		huddle__v1__notes_reply__free_unpacked(r, NULL);
	}
	Huddle__V1__NotesReply *r = notes_test_snapshot(c, meeting, NOTES_TEST_NOTES, 2, "s2", 2, "two", "");
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_true(r->snapshot->stored);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	r = notes_test_awareness(c, meeting, NOTES_TEST_NOTES, "conn", "cursor", 6);
	assert_int_equal(notes_test_code(r), HD_OK);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	assert_int_equal(hd_test_events_wait(&ev, meeting, 7, WAIT_MS), 7);
	// What the file holds: the snapshot dropped updates 1 and 2.
	size_t n;
	bool more;
	int64_t last;
	assert_int_equal(hd_doc_read(mine, meeting, "notes", 0, 8, page, &n, &more, &last), HD_OK);
	assert_int_equal(n, 3);
	assert_int_equal(page[0].seq, 3);
	assert_int_equal(last, 5);
	hd_doc_updates_free(page, n);
	hd_test_events_close(&ev);
	hd_rpc_client_close(c);
	hd_store_close(mine);

	kill(pid, sig);
	int rc = hd_test_daemon_finish(pid, WAIT_MS);
	const char *out = output();
	if (rc != 0 || strstr(out, "Sanitizer") != NULL)
		fail_msg("exit %d:\n%s", rc, out);
	expect_said("shutting down", "5 appends in");
	expect_said("1 snapshots", "NOTES_BATCH_MAX"); // effective settings are logged
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
	snprintf(listen, sizeof(listen), "NOTES_LISTEN=ipc://%s/idle.ipc", dir);
	snprintf(events, sizeof(events), "NOTES_EVENTS_LISTEN=ipc://%s/idle-events.ipc", dir);
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/idle.db", dir);
	const char *env[] = {listen, events, store, NULL};
	pid_t pid = hd_test_daemon_start(&notes, env, NULL);
	int64_t until = hd_mono_ms() + WAIT_MS;
	while (strstr(output(), "serving") == NULL && hd_mono_ms() < until)
		usleep(20 * 1000);
	kill(pid, SIGTERM);
	int rc = hd_test_daemon_finish(pid, WAIT_MS);
	if (rc != 0)
		fail_msg("exit %d:\n%s", rc, output());
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hd-notes-main-XXXXXX");
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
