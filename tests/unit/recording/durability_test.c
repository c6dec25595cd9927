// durability_test.c: huddle-recording SIGKILLed while it works. A real WebM
// (VP8 + Opus, made by ffmpeg) is uploaded in chunks cut at arbitrary
// bytes; the daemon is SIGKILLed in the middle of the upload, and, for a
// ten-minute recording, in the middle of its remux (caught while the temp
// file is being written). After each restart the client re-sends what it
// is not sure of, and the recording ends as one file whose ffprobe
// duration is within 1 s of the source's and that has cues. A range read
// returns exactly the bytes asked for. Registered as
// integration.recording_durability (label integration).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "common/store.h"
#include "common/util.h"
#include "daemon.h"

#ifndef HUDDLE_RECORDING_BIN
#error "HUDDLE_RECORDING_BIN must name the huddle-recording executable"
#endif

#define WAIT_MS 60000      // bound on a start, a stop or an assembly (ASan builds are slow)
#define CLIP_S 6           // the short recording
#define LONG_S 600         // the recording killed mid-remux
#define CHUNK 53011        // bytes: an arbitrary cut
#define LONG_CHUNK 1000003 // bytes, for the long one
#define REMUX_TRIES 4      // recordings tried until a kill lands inside a remux

static char dir[64], url[128], uri[128], rec_dir[128], clip[128], long_path[128];
static char listen_env[160], store_env[160], dir_env[160];
static char log_paths[16][128];
static int runs;
static struct hd_test_daemon d;

static const char *const settings[] = {"RECORDING_LISTEN",  "STORE_URI",          "RECORDINGS_DIR",
				       "RECORDING_IDLE_S",  "RECORDING_QUOTA_MB", "RECORDING_MAX_MINUTES",
				       "RECORDING_WORKERS", "LOG_LEVEL"};

// start runs huddle-recording (a new log per run) and waits until it answers.
static pid_t start(struct hd_rpc_client *c)
{
	static const char *env[] = {listen_env, store_env, dir_env, "RECORDING_WORKERS=3", NULL};
	assert_true(runs < 16);
	d = (struct hd_test_daemon){HUDDLE_RECORDING_BIN, settings, sizeof(settings) / sizeof(settings[0]),
				    log_paths[runs++]};
	pid_t pid = hd_test_daemon_start(&d, env, NULL);
	int64_t until = hd_mono_ms() + WAIT_MS;
	bool up = false;
	while (!up && hd_mono_ms() < until && waitpid(pid, NULL, WNOHANG) == 0)
		if (!(up = rec_test_health(c, 1000)))
			usleep(20 * 1000);
	if (!up) {
		kill(pid, SIGKILL);
		hd_test_daemon_finish(pid, WAIT_MS);
		fail_msg("huddle-recording did not answer Health:\n%s", hd_test_daemon_output(&d));
	}
	return pid;
}

static void sigkill(pid_t pid)
{
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(hd_test_daemon_finish(pid, WAIT_MS), -1);
}

static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	int rc = hd_test_daemon_finish(pid, WAIT_MS);
	if (rc != 0 || strstr(hd_test_daemon_output(&d), "Sanitizer") != NULL)
		fail_msg("huddle-recording exited %d:\n%s", rc, hd_test_daemon_output(&d));
}

static void new_ids(char m[HD_ID_LEN + 1], char id[HD_ID_LEN + 1], char who[HD_ID_LEN + 1])
{
	assert_int_equal(hd_id_random(m), HD_OK);
	assert_int_equal(hd_id_random(id), HD_OK);
	assert_int_equal(hd_id_random(who), HD_OK);
}

static void ok(Huddle__V1__RecordingReply *r, const char *what)
{
	if (rec_test_code(r) != HD_OK)
		fail_msg("%s: %s", what, rec_test_message(r));
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

// ffprobe_ms is the file's duration as ffprobe reports it, ms.
static int64_t ffprobe_ms(const char *path)
{
	char cmd[400], out[64] = "";
	snprintf(cmd, sizeof(cmd),
		 "ffprobe -v error -show_entries format=duration -of default=noprint_wrappers=1:nokey=1 '%s'", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(out, sizeof(out), p) == NULL)
		out[0] = '\0';
	assert_int_equal(pclose(p), 0);
	return (int64_t)(atof(out) * 1000.0);
}

// check_complete downloads the READY recording and checks it against the
// source: ffprobe duration within 1 s of want_ms, cues, and Range-style
// reads of bytes 100-199.
static void check_complete(struct hd_rpc_client *c, const char *m, const char *id, int64_t want_ms)
{
	int state = rec_test_wait_state(c, m, id, HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY, WAIT_MS);
	Huddle__V1__RecordingReply *r = rec_test_get(c, m, id);
	if (state != HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY)
		fail_msg("state %d, error '%s':\n%s", state, r->get->recording->error, hd_test_daemon_output(&d));
	assert_string_equal(r->get->recording->error, "");
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	size_t len;
	uint8_t *file = rec_test_download(c, m, id, 1 << 20, &len);
	char path[160];
	snprintf(path, sizeof(path), "%s/%s.webm", dir, id);
	rec_test_write(path, file, len);
	int64_t ms = ffprobe_ms(path), header_ms;
	bool cues;
	assert_true(rec_test_probe(path, &header_ms, &cues));
	print_message("%s: %zu bytes, ffprobe %lld ms (source %lld ms), cues %s\n", id, len, (long long)ms,
		      (long long)want_ms, cues ? "yes" : "no");
	if (ms < want_ms - 1000 || ms > want_ms + 1000 || !cues)
		fail_msg("ffprobe says %lld ms (want %lld ± 1000), cues %d", (long long)ms, (long long)want_ms, cues);
	r = rec_test_read(c, m, id, 100, 100);
	assert_int_equal(rec_test_code(r), HD_OK);
	assert_int_equal(r->read->data.len, 100);
	assert_memory_equal(r->read->data.data, file + 100, 100);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	free(file);
}

static void survives_sigkill_mid_upload(void **state)
{
	struct hd_rpc_client *c;
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1];
	size_t len;
	uint8_t *webm = rec_test_clip(clip, CLIP_S, &len);
	assert_int_equal(hd_rpc_client_open(&c, url), HD_OK);
	pid_t pid = start(c);
	new_ids(m, id, who);
	ok(rec_test_create(c, m, id, who), "create");
	uint32_t n = (uint32_t)((len + CHUNK - 1) / CHUNK);
	rec_test_upload(c, m, id, who, webm, len, CHUNK, 0, n / 2);
	sigkill(pid);
	pid = start(c);
	// The client re-sends from where it is unsure: here, everything.
	rec_test_upload(c, m, id, who, webm, len, CHUNK, 0, UINT32_MAX);
	ok(rec_test_finish(c, m, id, who, n), "finish");
	check_complete(c, m, id, CLIP_S * 1000);
	stop(pid);
	hd_rpc_client_close(c);
	free(webm);
}

// temp_exists tells whether the recording's remux output is being written.
static bool temp_exists(const char *m, const char *id)
{
	char path[300];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s/%s.webm.tmp", rec_dir, m, id);
	return stat(path, &st) == 0 && st.st_size > 0;
}

static int stored_state(const char *m, const char *id)
{
	struct hd_store *s;
	struct hd_recording r;
	assert_int_equal(hd_store_open(&s, uri), HD_OK);
	assert_int_equal(hd_recording_get(s, m, id, &r), HD_OK);
	hd_store_close(s);
	return r.state;
}

static void survives_sigkill_mid_remux(void **state)
{
	struct hd_rpc_client *c;
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1];
	int64_t want_ms;
	size_t len;
	free(rec_test_clip(clip, CLIP_S, &len));
	uint64_t size = rec_test_loop(clip, long_path, LONG_S, &want_ms);
	uint8_t *webm = malloc(size);
	FILE *f = fopen(long_path, "rb");
	assert_non_null(webm);
	assert_non_null(f);
	assert_int_equal(fread(webm, 1, size, f), size);
	fclose(f);
	assert_int_equal(hd_rpc_client_open(&c, url), HD_OK);
	pid_t pid = start(c);
	bool caught = false;
	for (int t = 0; t < REMUX_TRIES && !caught; t++) {
		new_ids(m, id, who);
		ok(rec_test_create(c, m, id, who), "create");
		uint32_t n = rec_test_upload(c, m, id, who, webm, size, LONG_CHUNK, 0, UINT32_MAX);
		ok(rec_test_finish(c, m, id, who, n), "finish");
		int64_t until = hd_mono_ms() + WAIT_MS;
		while (!temp_exists(m, id) && stored_state(m, id) == HD_REC_ASSEMBLING && hd_mono_ms() < until)
			usleep(2000);
		usleep((useconds_t)(t * 50000)); // later into the remux each try
		sigkill(pid);
		caught = temp_exists(m, id) && stored_state(m, id) == HD_REC_ASSEMBLING;
		print_message("try %d: %s\n", t, caught ? "killed in the middle of the remux" : "the remux was done");
		pid = start(c);
		check_complete(c, m, id, want_ms);
		assert_false(temp_exists(m, id));
	}
	if (!caught)
		fail_msg("no SIGKILL landed inside a remux in %d tries", REMUX_TRIES);
	stop(pid);
	hd_rpc_client_close(c);
	free(webm);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hd-rec-durable-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/rec.ipc", dir);
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", dir);
	snprintf(rec_dir, sizeof(rec_dir), "%s/recordings", dir);
	snprintf(clip, sizeof(clip), "%s/clip.webm", dir);
	snprintf(long_path, sizeof(long_path), "%s/long.webm", dir);
	snprintf(listen_env, sizeof(listen_env), "RECORDING_LISTEN=%s", url);
	snprintf(store_env, sizeof(store_env), "STORE_URI=%s", uri);
	snprintf(dir_env, sizeof(dir_env), "RECORDINGS_DIR=%s", rec_dir);
	for (int k = 0; k < 16; k++)
		snprintf(log_paths[k], sizeof(log_paths[k]), "%s/run-%d.log", dir, k);
	return 0;
}

// teardown removes the folder, unless HUDDLE_KEEP_TEST_DIR=1 (to look at the files).
static int teardown(void **state)
{
	char cmd[128];
	const char *keep = getenv("HUDDLE_KEEP_TEST_DIR");
	if (keep != NULL && strcmp(keep, "1") == 0) {
		print_message("kept %s\n", dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(survives_sigkill_mid_upload),
		cmocka_unit_test(survives_sigkill_mid_remux),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
