// durability_test.c: huddle-notes SIGKILLed under load. Several appenders,
// each with its own REQ socket, append updates without pause and retry each
// one (same client_update_id) until it is acknowledged, while the daemon is
// SIGKILLed and started again three times on the same addresses and SQLite
// file. Afterwards every acknowledged update is in the store exactly once,
// under the seq its acknowledgement named, and the seqs are 1..last with no
// gap. Registered as integration.notes_durability (label integration).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

#define WAIT_MS 15000     // bound on a start or a stop (ASan builds are slow)
#define CALL_MS 2000      // one attempt; a killed daemon's calls time out
#define APPENDERS 4       // client threads
#define PER_MAX 20000     // most updates one appender makes
#define KILLS 3           // SIGKILL + restart rounds
#define UP_MS 700         // how long the daemon serves between kills
#define AFTER_LAST_MS 500 // appends after the last restart

static char dir[64], url[128], events_url[128], uri[128];
static char listen_env[160], events_env[160], store_env[160];
static char log_paths[KILLS + 1][128];

static const char *const settings[] = {"NOTES_LISTEN",  "NOTES_EVENTS_LISTEN", "STORE_URI",
				       "NOTES_WORKERS", "NOTES_BATCH_MAX",     "LOG_LEVEL"};

// appender is one client thread and what it was told.
struct appender {
	pthread_t thread;
	int index;
	const char *meeting;
	int64_t acked[PER_MAX]; // the seq each update's acknowledgement named
	int n;                  // updates made (each acknowledged)
	int retries;            // attempts that failed and were made again
	int duplicates;         // acknowledgements of an update stored by an earlier attempt
	int failures;           // replies that were errors other than UNAVAILABLE/CLOSED
	atomic_int progress;    // n, for the main thread to watch
};

static atomic_bool stop_appending;

// append_once sends one attempt; returns the acknowledged seq, 0 to retry,
// -1 for an error that retrying cannot cure.
static int64_t append_once(struct hd_rpc_client *c, struct appender *a, const char *id, bool *duplicate)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAppendRequest body = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
	Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
	nng_msg *msg, *rep;
	int64_t seq = 0;
	u.meeting_id = (char *)a->meeting;
	u.document = NOTES_TEST_NOTES;
	u.client_update_id = (char *)id;
	u.data.data = (uint8_t *)id;
	u.data.len = strlen(id);
	body.update = &u;
	req.request_id = 1;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
	req.append = &body;
	if (hd_msg_pack(&req.base, &msg) != HD_OK || hd_rpc_call(c, msg, CALL_MS, &rep) != HD_OK)
		return 0;
	Huddle__V1__NotesReply *r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	if (r == NULL)
		return -1;
	if (r->body_case == HUDDLE__V1__NOTES_REPLY__BODY_APPEND) {
		seq = r->append->update->seq;
		*duplicate = r->append->duplicate;
	} else if (r->error == NULL || ((int)r->error->code != HD_EUNAVAILABLE && (int)r->error->code != HD_ECLOSED)) {
		seq = -1;
	}
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	return seq;
}

// appender_main appends "t<index>-<i>" for i = 0, 1, ... until told to stop,
// each retried until acknowledged.
static void *appender_main(void *p)
{
	struct appender *a = p;
	struct hd_rpc_client *c;
	if (hd_rpc_client_open(&c, url) != HD_OK) {
		a->failures++;
		return NULL;
	}
	while (!atomic_load(&stop_appending) && a->n < PER_MAX) {
		char id[32];
		bool duplicate = false;
		int64_t seq;
		snprintf(id, sizeof(id), "t%d-%d", a->index, a->n);
		while ((seq = append_once(c, a, id, &duplicate)) == 0) {
			a->retries++;
			usleep(20 * 1000);
		}
		if (seq < 0) {
			a->failures++;
			break;
		}
		a->duplicates += duplicate;
		a->acked[a->n++] = seq;
		atomic_store(&a->progress, a->n);
	}
	hd_rpc_client_close(c);
	return NULL;
}

// health_ok tells whether huddle-notes answers Health at url.
static bool health_ok(struct hd_rpc_client *c)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesHealthRequest h = HUDDLE__V1__NOTES_HEALTH_REQUEST__INIT;
	nng_msg *msg, *rep;
	bool ok = false;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_HEALTH;
	req.health = &h;
	assert_int_equal(hd_msg_pack(&req.base, &msg), HD_OK);
	if (hd_rpc_call(c, msg, 500, &rep) == HD_OK) {
		Huddle__V1__NotesReply *r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
		nng_msg_free(rep);
		ok = r != NULL && r->body_case == HUDDLE__V1__NOTES_REPLY__BODY_HEALTH;
		huddle__v1__notes_reply__free_unpacked(r, NULL);
	}
	return ok;
}

// start runs huddle-notes (round k's log) and waits until it answers.
static pid_t start(int k, struct hd_test_daemon *d)
{
	static const char *env[] = {listen_env, events_env, store_env, "NOTES_WORKERS=4", "LOG_LEVEL=info", NULL};
	struct hd_rpc_client *c;
	*d = (struct hd_test_daemon){HUDDLE_NOTES_BIN, settings, sizeof(settings) / sizeof(settings[0]), log_paths[k]};
	pid_t pid = hd_test_daemon_start(d, env, NULL);
	assert_int_equal(hd_rpc_client_open(&c, url), HD_OK);
	int64_t until = hd_mono_ms() + WAIT_MS;
	bool up = false;
	while (!up && hd_mono_ms() < until && waitpid(pid, NULL, WNOHANG) == 0)
		if (!(up = health_ok(c)))
			usleep(20 * 1000);
	hd_rpc_client_close(c);
	if (!up) {
		kill(pid, SIGKILL);
		hd_test_daemon_finish(pid, WAIT_MS);
		fail_msg("huddle-notes (round %d) did not answer Health:\n%s", k, hd_test_daemon_output(d));
	}
	return pid;
}

// appended sums the updates the appenders made so far (to show that the
// kills happen under load).
static int appended(struct appender *a)
{
	int n = 0;
	for (int i = 0; i < APPENDERS; i++)
		n += atomic_load(&a[i].progress);
	return n;
}

static void acknowledged_updates_survive_sigkill(void **state)
{
	static struct appender appenders[APPENDERS];
	static struct hd_doc_update page[HD_DOC_PAGE_MAX];
	static unsigned char seen[APPENDERS][PER_MAX];
	struct hd_test_daemon d;
	char meeting[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(meeting), HD_OK);

	pid_t pid = start(0, &d);
	atomic_store(&stop_appending, false);
	for (int i = 0; i < APPENDERS; i++) {
		appenders[i] = (struct appender){.index = i, .meeting = meeting};
		assert_int_equal(pthread_create(&appenders[i].thread, NULL, appender_main, &appenders[i]), 0);
	}
	for (int k = 1; k <= KILLS; k++) {
		int before = appended(appenders);
		usleep(UP_MS * 1000);
		if (appended(appenders) == before)
			fail_msg("no append was acknowledged in round %d:\n%s", k, hd_test_daemon_output(&d));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(hd_test_daemon_finish(pid, WAIT_MS), -1);
		pid = start(k, &d);
	}
	usleep(AFTER_LAST_MS * 1000);
	atomic_store(&stop_appending, true);
	int total = 0, retries = 0, duplicates = 0;
	for (int i = 0; i < APPENDERS; i++) {
		pthread_join(appenders[i].thread, NULL);
		assert_int_equal(appenders[i].failures, 0);
		total += appenders[i].n;
		retries += appenders[i].retries;
		duplicates += appenders[i].duplicates;
	}
	kill(pid, SIGTERM);
	int rc = hd_test_daemon_finish(pid, WAIT_MS);
	if (rc != 0 || strstr(hd_test_daemon_output(&d), "Sanitizer") != NULL)
		fail_msg("the last huddle-notes exited %d:\n%s", rc, hd_test_daemon_output(&d));
	print_message("%d updates acknowledged across %d SIGKILLs (%d retried attempts, %d answered as duplicates)\n",
		      total, KILLS, retries, duplicates);

	// Every stored update, in seq order: 1..last, no gap, each acknowledged
	// update once, under the seq it was acknowledged with.
	struct hd_store *store;
	int64_t after = 0, last = 0;
	bool more = true;
	int stored = 0;
	memset(seen, 0, sizeof(seen));
	assert_int_equal(hd_store_open(&store, uri), HD_OK);
	while (more) {
		size_t n;
		assert_int_equal(hd_doc_read(store, meeting, "notes", after, HD_DOC_PAGE_MAX, page, &n, &more, &last),
				 HD_OK);
		for (size_t j = 0; j < n; j++) {
			int t, i;
			if (page[j].seq != after + 1)
				fail_msg("seq %lld follows %lld", (long long)page[j].seq, (long long)after);
			after = page[j].seq;
			assert_int_equal(sscanf(page[j].client_update_id, "t%d-%d", &t, &i), 2);
			assert_true(t >= 0 && t < APPENDERS && i >= 0 && i < appenders[t].n);
			assert_int_equal(seen[t][i]++, 0);
			assert_int_equal(appenders[t].acked[i], page[j].seq);
			assert_int_equal(page[j].len, strlen(page[j].client_update_id));
			assert_memory_equal(page[j].data, page[j].client_update_id, page[j].len);
			stored++;
		}
		hd_doc_updates_free(page, n);
	}
	hd_store_close(store);
	assert_int_equal(last, after);
	assert_int_equal(stored, total);
	for (int t = 0; t < APPENDERS; t++)
		for (int i = 0; i < appenders[t].n; i++)
			if (seen[t][i] != 1)
				fail_msg("update t%d-%d was acknowledged (seq %lld) but is not stored", t, i,
					 (long long)appenders[t].acked[i]);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hd-notes-durable-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/notes.ipc", dir);
	snprintf(events_url, sizeof(events_url), "ipc://%s/events.ipc", dir);
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", dir);
	snprintf(listen_env, sizeof(listen_env), "NOTES_LISTEN=%s", url);
	snprintf(events_env, sizeof(events_env), "NOTES_EVENTS_LISTEN=%s", events_url);
	snprintf(store_env, sizeof(store_env), "STORE_URI=%s", uri);
	for (int k = 0; k <= KILLS; k++)
		snprintf(log_paths[k], sizeof(log_paths[k]), "%s/run-%d.log", dir, k);
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
		cmocka_unit_test(acknowledged_updates_survive_sigkill),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
