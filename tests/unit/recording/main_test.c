// main_test.c: the huddle-recording executable: --help, refusing bad
// settings, an unopenable store or RECORDINGS_DIR and busy or invalid
// addresses (with their exit statuses), serving a recording from create to
// READY on a store file this process also reads, and exiting 0 on
// SIGTERM/SIGINT (under ASan, a leak at exit would make that exit status
// non-zero).
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

#ifndef HUDDLE_RECORDING_BIN
#error "HUDDLE_RECORDING_BIN must name the huddle-recording executable"
#endif

#define WAIT_MS 15000 // bound on any one start or stop (ASan builds are slow)

static char dir[64];
static char log_path[128];

static const char *const settings[] = {"RECORDING_LISTEN",  "STORE_URI",          "RECORDINGS_DIR",
				       "RECORDING_IDLE_S",  "RECORDING_QUOTA_MB", "RECORDING_MAX_MINUTES",
				       "RECORDING_WORKERS", "LOG_LEVEL"};

static const struct hd_test_daemon recording = {HUDDLE_RECORDING_BIN, settings, sizeof(settings) / sizeof(settings[0]),
						log_path};

static int run(const char *const *env, const char *arg)
{
	return hd_test_daemon_finish(hd_test_daemon_start(&recording, env, arg), WAIT_MS);
}

static const char *output(void)
{
	return hd_test_daemon_output(&recording);
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
	expect_said("tcp://127.0.0.1:7007", "default 120");
	assert_int_equal(run(NULL, "--bogus"), 2);
}

static void bad_settings(void **state)
{
	const char *const bad[][2] = {
		{"RECORDING_WORKERS=0", "RECORDING_WORKERS"},      {"RECORDING_IDLE_S=0", "RECORDING_IDLE_S"},
		{"RECORDING_QUOTA_MB=lots", "RECORDING_QUOTA_MB"}, {"RECORDING_MAX_MINUTES=0", "RECORDING_MAX_MINUTES"},
		{"RECORDING_MAX_MINUTES=99999", "10080"},          {"LOG_LEVEL=chatty", "LOG_LEVEL"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *env[] = {bad[i][0], NULL};
		assert_int_equal(run(env, NULL), 2);
		expect_said(bad[i][1], NULL);
	}
}

static void cannot_start(void **state)
{
	static char listen[160], store[160], bad_store[160], bad_url[160], rec_dir[160], bad_dir[200], file[160];
	snprintf(listen, sizeof(listen), "RECORDING_LISTEN=ipc://%s/busy.ipc", dir);
	snprintf(store, sizeof(store), "STORE_URI=sqlite://%s/h.db", dir);
	snprintf(bad_store, sizeof(bad_store), "STORE_URI=sqlite://%s/no/such/dir/h.db", dir);
	snprintf(bad_url, sizeof(bad_url), "RECORDING_LISTEN=carrier-pigeon://%s", dir);
	snprintf(rec_dir, sizeof(rec_dir), "RECORDINGS_DIR=%s/recordings", dir);
	snprintf(file, sizeof(file), "%s/a-file", dir);
	rec_test_write(file, (const uint8_t *)"x", 1);
	snprintf(bad_dir, sizeof(bad_dir), "RECORDINGS_DIR=%s/sub", file);

	// the address held by another process
	static char holder_url[160];
	snprintf(holder_url, sizeof(holder_url), "ipc://%s/busy.ipc", dir);
	struct hd_rpc_server *holder;
	assert_int_equal(hd_rpc_server_open(&holder, holder_url, 1, NULL, (void *[]){NULL}), HD_OK);
	const char *busy[] = {listen, store, rec_dir, NULL};
	assert_int_equal(run(busy, NULL), 1);
	expect_said("cannot listen on RECORDING_LISTEN", "address in use?");
	hd_rpc_server_close(holder);

	const char *no_store[] = {bad_store, rec_dir, NULL};
	assert_int_equal(run(no_store, NULL), 1);
	expect_said("cannot open STORE_URI", NULL);
	const char *url[] = {bad_url, store, rec_dir, NULL};
	assert_int_equal(run(url, NULL), 2);
	expect_said("RECORDING_LISTEN", "not a valid address");
	const char *no_dir[] = {store, bad_dir, NULL};
	assert_int_equal(run(no_dir, NULL), 1);
	expect_said("RECORDINGS_DIR", NULL);
}

// serve_then_stop starts huddle-recording, makes a recording of a real
// WebM through it, checks what the store file holds, then sends sig and
// expects exit 0 with nothing from the sanitizers.
static void serve_then_stop(int sig)
{
	static char listen[200], store[200], rec_dir[200];
	char url[160], uri[160], clip[160], meeting[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1];
	struct hd_rpc_client *c;
	snprintf(url, sizeof(url), "ipc://%s/serve.ipc", dir);
	snprintf(uri, sizeof(uri), "sqlite://%s/shared-%d.db", dir, sig);
	snprintf(listen, sizeof(listen), "RECORDING_LISTEN=%s", url);
	snprintf(store, sizeof(store), "STORE_URI=%s", uri);
	snprintf(rec_dir, sizeof(rec_dir), "RECORDINGS_DIR=%s/rec-%d", dir, sig);
	snprintf(clip, sizeof(clip), "%s/clip.webm", dir);
	size_t len;
	uint8_t *webm = rec_test_clip(clip, 3, &len);
	const char *env[] = {listen, store, rec_dir, "RECORDING_WORKERS=2", NULL};
	pid_t pid = hd_test_daemon_start(&recording, env, NULL);
	assert_int_equal(hd_rpc_client_open(&c, url), HD_OK);
	int64_t until = hd_mono_ms() + WAIT_MS;
	bool up = false;
	while (!up && hd_mono_ms() < until && waitpid(pid, NULL, WNOHANG) == 0)
		if (!(up = rec_test_health(c, 1000)))
			usleep(50 * 1000);
	if (!up) {
		kill(pid, SIGKILL);
		hd_test_daemon_finish(pid, WAIT_MS);
		fail_msg("huddle-recording did not answer Health:\n%s", output());
	}

	assert_int_equal(hd_id_random(meeting), HD_OK);
	assert_int_equal(hd_id_random(id), HD_OK);
	assert_int_equal(hd_id_random(who), HD_OK);
	Huddle__V1__RecordingReply *r = rec_test_create(c, meeting, id, who);
	assert_int_equal(rec_test_code(r), HD_OK);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	uint32_t n = rec_test_upload(c, meeting, id, who, webm, len, 20000, 0, UINT32_MAX);
	r = rec_test_finish(c, meeting, id, who, n);
	assert_int_equal(rec_test_code(r), HD_OK);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	assert_int_equal(
		rec_test_wait_state(c, meeting, id, HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY, WAIT_MS),
		HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY);
	free(webm);
	hd_rpc_client_close(c);

	struct hd_store *mine;
	struct hd_recording rec;
	assert_int_equal(hd_store_open(&mine, uri), HD_OK);
	assert_int_equal(hd_recording_get(mine, meeting, id, &rec), HD_OK);
	assert_int_equal(rec.state, HD_REC_READY);
	assert_int_equal(rec.chunks, n);
	assert_true(rec.duration_ms >= 2000 && rec.duration_ms <= 4000);
	hd_store_close(mine);

	kill(pid, sig);
	int rc = hd_test_daemon_finish(pid, WAIT_MS);
	const char *out = output();
	if (rc != 0 || strstr(out, "Sanitizer") != NULL)
		fail_msg("exit %d:\n%s", rc, out);
	expect_said("shutting down", "1 recordings assembled");
	expect_said("RECORDING_QUOTA_MB", "RECORDINGS_DIR"); // effective settings are logged
}

static void serves_and_stops(void **state)
{
	serve_then_stop(SIGTERM);
	serve_then_stop(SIGINT);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hd-rec-main-XXXXXX");
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
		cmocka_unit_test(serves_and_stops),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
