// rpc_test.c: huddle-recording's calls over a real REQ/REP socket (ipc://)
// against a real SQLite file and a real RECORDINGS_DIR, served in-process
// as main.c serves them, with the assembler thread running: create is
// idempotent, chunks in any order and again, a real WebM cut at arbitrary
// bytes assembled into one file with a duration and cues, a gap stops the
// assembly and is reported, a damaged tail or start, the quota and the
// longest length, idle recordings, ranged reads, delete.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "common/util.h"
#include "recording/assembler.h"
#include "recording/files.h"
#include "recording/recording.h"
#include "recording/remux.h"
#include "recording/rpc.h"

#define WORKERS 4
#define WAIT_MS 30000
#define CLIP_S 6
#define CHUNK 37000 // bytes: cuts anywhere, as MediaRecorder's byte slices do

// fixture is one huddle-recording served in-process, in its own temp folder.
struct fixture {
	char dir[64], rec_dir[128], url[128], clip[128];
	struct hd_store *store;
	struct rec_service svc;
	struct rec_assembler *assembler;
	struct rec_ctx ctx[WORKERS];
	void *states[WORKERS];
	struct hd_rpc_server *server;
	struct hd_rpc_client *client;
	uint8_t *webm; // the clip
	size_t webm_len;
};

static struct fixture F;
static const struct rec_limits limits = {.idle_s = 3600, .quota_mb = 64, .max_minutes = 10};

static int setup(void **state)
{
	char uri[128];
	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/hd-rec-rpc-XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", F.dir);
	snprintf(F.rec_dir, sizeof(F.rec_dir), "%s/recordings", F.dir);
	snprintf(F.url, sizeof(F.url), "ipc://%s/rec.ipc", F.dir);
	snprintf(F.clip, sizeof(F.clip), "%s/clip.webm", F.dir);
	F.webm = rec_test_clip(F.clip, CLIP_S, &F.webm_len);
	char why[256];
	assert_int_equal(rec_files_open_dir(F.rec_dir, why, sizeof(why)), HD_OK);
	assert_int_equal(hd_store_open(&F.store, uri), HD_OK);
	rec_service_init(&F.svc, F.store, F.rec_dir, &limits);
	assert_int_equal(rec_assembler_open(&F.assembler, &F.svc), HD_OK);
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(rec_ctx_init(&F.ctx[i], &F.svc), HD_OK);
		F.states[i] = &F.ctx[i];
	}
	assert_int_equal(hd_rpc_server_open(&F.server, F.url, WORKERS, rec_rpc_handle, F.states), HD_OK);
	assert_int_equal(rec_assembler_start(F.assembler), HD_OK);
	assert_int_equal(hd_rpc_client_open(&F.client, F.url), HD_OK);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	hd_rpc_client_close(F.client);
	rec_assembler_stop(F.assembler);
	hd_rpc_server_close(F.server);
	for (int i = WORKERS - 1; i >= 0; i--)
		rec_ctx_fini(&F.ctx[i]);
	rec_assembler_close(F.assembler);
	rec_service_fini(&F.svc);
	hd_store_close(F.store);
	free(F.webm);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
	return system(cmd) == 0 ? 0 : -1;
}

// ids makes a fresh meeting, recording and recorder id.
static void ids(char meeting[HD_ID_LEN + 1], char id[HD_ID_LEN + 1], char recorder[HD_ID_LEN + 1])
{
	assert_int_equal(hd_id_random(meeting), HD_OK);
	assert_int_equal(hd_id_random(id), HD_OK);
	assert_int_equal(hd_id_random(recorder), HD_OK);
}

static void create(const char *meeting, const char *id, const char *recorder)
{
	Huddle__V1__RecordingReply *r = rec_test_create(F.client, meeting, id, recorder);
	if (rec_test_code(r) != HD_OK)
		fail_msg("create: %s", rec_test_message(r));
	assert_int_equal(r->create->recording->state, HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_RECORDING);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

static void finish(const char *meeting, const char *id, const char *recorder, uint32_t chunks)
{
	Huddle__V1__RecordingReply *r = rec_test_finish(F.client, meeting, id, recorder, chunks);
	if (rec_test_code(r) != HD_OK)
		fail_msg("finish: %s", rec_test_message(r));
	assert_int_not_equal(r->finish->recording->state, HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_RECORDING);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

// expect_code checks r's code and that its message holds word, then frees r.
static void expect_code(Huddle__V1__RecordingReply *r, int code, const char *word)
{
	if (rec_test_code(r) != code || (word != NULL && strstr(rec_test_message(r), word) == NULL))
		fail_msg("want code %d with '%s', got %d: %s", code, word != NULL ? word : "", rec_test_code(r),
			 rec_test_message(r));
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

// get copies the recording's metadata (the test fails when it is unknown).
static Huddle__V1__RecordingReply *get(const char *meeting, const char *id)
{
	Huddle__V1__RecordingReply *r = rec_test_get(F.client, meeting, id);
	if (rec_test_code(r) != HD_OK)
		fail_msg("get: %s", rec_test_message(r));
	return r;
}

// wait_ready waits for READY (or FAILED when want_failed) and returns the recording.
static Huddle__V1__RecordingReply *wait_done(const char *meeting, const char *id, bool want_failed)
{
	int want = want_failed ? HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_FAILED
			       : HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY;
	int got = rec_test_wait_state(F.client, meeting, id, want, WAIT_MS);
	Huddle__V1__RecordingReply *r = get(meeting, id);
	if (got != want)
		fail_msg("state %d, want %d (error '%s')", got, want, r->get->recording->error);
	return r;
}

// check_file downloads the recording and probes it: duration_ms within
// [lo, hi], cues present. Returns the file's size.
static size_t check_file(const char *meeting, const char *id, int64_t lo, int64_t hi)
{
	char path[160];
	size_t len;
	int64_t duration;
	bool cues;
	uint8_t *file = rec_test_download(F.client, meeting, id, 100000, &len);
	snprintf(path, sizeof(path), "%s/download.webm", F.dir);
	rec_test_write(path, file, len);
	free(file);
	assert_true(rec_test_probe(path, &duration, &cues));
	if (duration < lo || duration > hi || !cues)
		fail_msg("duration %lld ms (want %lld..%lld), cues %d", (long long)duration, (long long)lo,
			 (long long)hi, cues);
	return len;
}

static void create_is_idempotent(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1], other[HD_ID_LEN + 1];
	ids(m, id, who);
	assert_int_equal(hd_id_random(other), HD_OK);
	Huddle__V1__RecordingReply *a = rec_test_create(F.client, m, id, who);
	assert_int_equal(rec_test_code(a), HD_OK);
	Huddle__V1__RecordingReply *b = rec_test_create(F.client, m, id, who);
	assert_int_equal(rec_test_code(b), HD_OK);
	assert_int_equal(a->create->recording->created_at_ms, b->create->recording->created_at_ms);
	assert_string_equal(b->create->recording->recorder_name, "Ada");
	assert_string_equal(b->create->recording->mime_type, "video/webm;codecs=vp8,opus");
	assert_int_equal(b->create->recording->kind, HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_MEETING);
	huddle__v1__recording_reply__free_unpacked(a, NULL);
	huddle__v1__recording_reply__free_unpacked(b, NULL);
	expect_code(rec_test_create(F.client, m, id, other), HD_EBADREQUEST, "another recorder");
	expect_code(rec_test_create(F.client, m, "short", who), HD_EBADREQUEST, "id");

	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingCreateRequest body = HUDDLE__V1__RECORDING_CREATE_REQUEST__INIT;
	char id2[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(id2), HD_OK);
	body.meeting_id = m;
	body.id = id2;
	body.recorder_id = who;
	body.recorder_name = "Ada";
	body.mime_type = "video/mp4";
	body.kind = HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_CAMERA;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_CREATE;
	req.create = &body;
	expect_code(rec_test_call(F.client, &req, REC_TEST_CALL_MS, false), HD_EBADREQUEST, "mime_type");
	body.mime_type = "audio/webm";
	body.kind = 0;
	expect_code(rec_test_call(F.client, &req, REC_TEST_CALL_MS, false), HD_EBADREQUEST, "kind");
	body.kind = HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_SCREEN;
	body.recorder_name = "";
	expect_code(rec_test_call(F.client, &req, REC_TEST_CALL_MS, false), HD_EBADREQUEST, "recorder_name");
	body.recorder_name = "Grace";
	expect_code(rec_test_call(F.client, &req, REC_TEST_CALL_MS, false), HD_OK, NULL);

	Huddle__V1__RecordingReply *l = rec_test_list(F.client, m);
	assert_int_equal(rec_test_code(l), HD_OK);
	assert_int_equal(l->list->n_recordings, 2);
	assert_string_equal(l->list->recordings[0]->id, id2); // newest first
	assert_string_equal(l->list->recordings[1]->id, id);
	huddle__v1__recording_reply__free_unpacked(l, NULL);
	char unknown[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(unknown), HD_OK);
	expect_code(rec_test_get(F.client, m, unknown), HD_EUNKNOWNMEETING, "no recording");
}

// chunks_in_any_order_and_again: a real WebM cut every CHUNK bytes, sent
// out of order with re-sends (some with other bytes, which are not kept),
// makes one file as long as the clip, with cues.
static void chunks_in_any_order_and_again(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1], other[HD_ID_LEN + 1];
	ids(m, id, who);
	assert_int_equal(hd_id_random(other), HD_OK);
	create(m, id, who);
	uint32_t n = (uint32_t)((F.webm_len + CHUNK - 1) / CHUNK);
	assert_true(n >= 4);
	static const uint8_t junk[100] = {1, 2, 3};
	// 1 before 0: not counted until 0 is there
	Huddle__V1__RecordingReply *r =
		rec_test_chunk(F.client, m, id, who, 1, F.webm + CHUNK, CHUNK < F.webm_len - CHUNK ? CHUNK : 1);
	assert_int_equal(rec_test_code(r), HD_OK);
	assert_false(r->chunk->duplicate);
	assert_int_equal(r->chunk->recording->chunks, 0);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	r = rec_test_chunk(F.client, m, id, who, 0, F.webm, CHUNK);
	assert_int_equal(rec_test_code(r), HD_OK);
	assert_int_equal(r->chunk->recording->chunks, 2);
	assert_int_equal(r->chunk->recording->bytes, 2 * CHUNK);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	// again, with other bytes: a duplicate, the first bytes stay
	r = rec_test_chunk(F.client, m, id, who, 1, junk, sizeof(junk));
	assert_int_equal(rec_test_code(r), HD_OK);
	assert_true(r->chunk->duplicate);
	assert_int_equal(r->chunk->recording->bytes, 2 * CHUNK);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	// the rest backwards, then all again
	for (uint32_t i = n - 1; i >= 2; i--)
		rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, CHUNK, i, i);
	rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, CHUNK, 0, UINT32_MAX);
	r = get(m, id);
	assert_int_equal(r->get->recording->chunks, n);
	assert_int_equal(r->get->recording->bytes, F.webm_len);
	huddle__v1__recording_reply__free_unpacked(r, NULL);

	// only the recorder, only real chunks
	expect_code(rec_test_chunk(F.client, m, id, other, n, junk, 1), HD_EBADREQUEST, "recorder_id");
	expect_code(rec_test_chunk(F.client, m, id, who, n, junk, 0), HD_EBADREQUEST, "data");
	uint8_t *big = calloc(1, HD_REC_CHUNK_MAX + 1);
	assert_non_null(big);
	expect_code(rec_test_chunk(F.client, m, id, who, n, big, HD_REC_CHUNK_MAX + 1), HD_ETOOLARGE, "4 MiB");
	free(big);
	expect_code(rec_test_finish(F.client, m, id, other, n), HD_EBADREQUEST, "recorder_id");
	expect_code(rec_test_read(F.client, m, id, 0, 10), HD_EBADREQUEST, "RECORDING");

	finish(m, id, who, n);
	finish(m, id, who, n); // again: fine
	r = wait_done(m, id, false);
	assert_string_equal(r->get->recording->error, "");
	assert_true(r->get->recording->duration_ms >= (CLIP_S - 1) * 1000 &&
		    r->get->recording->duration_ms <= (CLIP_S + 1) * 1000);
	size_t size = check_file(m, id, (CLIP_S - 1) * 1000, (CLIP_S + 1) * 1000);
	assert_int_equal(r->get->recording->bytes, size);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	// a late chunk: refused; one it has: a duplicate; the chunks are gone from disk
	expect_code(rec_test_chunk(F.client, m, id, who, n, junk, 1), HD_EBADREQUEST, "READY");
	r = rec_test_chunk(F.client, m, id, who, 0, junk, 1);
	assert_int_equal(rec_test_code(r), HD_OK);
	assert_true(r->chunk->duplicate);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	char chunks[REC_PATH_MAX];
	struct stat st;
	assert_true(rec_files_chunk_dir(F.rec_dir, m, id, chunks));
	assert_int_not_equal(stat(chunks, &st), 0);
}

// a_gap_ends_the_recording: chunk 5 never comes; the file holds chunks 0-4,
// and the error names the missing one.
static void a_gap_ends_the_recording(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1];
	ids(m, id, who);
	create(m, id, who);
	size_t chunk = F.webm_len / 12 + 1; // 12 chunks of about half a second
	uint32_t n = rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, chunk, 0, 4);
	rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, chunk, 6, 9);
	finish(m, id, who, n);
	Huddle__V1__RecordingReply *r = wait_done(m, id, false);
	const Huddle__V1__Recording *rec = r->get->recording;
	print_message("gap: %u chunks kept, %lld ms, error '%s'\n", rec->chunks, (long long)rec->duration_ms,
		      rec->error);
	assert_int_equal(rec->chunks, 5);
	assert_non_null(strstr(rec->error, "chunks 5, 10-11 of 0-11 never arrived"));
	assert_non_null(strstr(rec->error, "ends with chunk 4"));
	assert_true(rec->duration_ms > 500 && rec->duration_ms < CLIP_S * 1000 * 6 / 12 + 1000);
	check_file(m, id, 500, CLIP_S * 1000 * 6 / 12 + 1000);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

// damaged_data: a tail of garbage leaves the playable start; a start of
// garbage (no WebM header) or no chunk at all is FAILED with the reason.
static void damaged_data(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1];
	uint8_t junk[50000];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7919u >> 3);
	ids(m, id, who);
	create(m, id, who);
	size_t half = F.webm_len / 2;
	rec_test_upload(F.client, m, id, who, F.webm, half, CHUNK, 0, UINT32_MAX);
	uint32_t k = (uint32_t)((half + CHUNK - 1) / CHUNK);
	expect_code(rec_test_chunk(F.client, m, id, who, k, junk, sizeof(junk)), HD_OK, NULL);
	finish(m, id, who, k + 1);
	Huddle__V1__RecordingReply *r = wait_done(m, id, false);
	print_message("damaged tail: %lld ms, error '%s'\n", (long long)r->get->recording->duration_ms,
		      r->get->recording->error);
	check_file(m, id, CLIP_S * 1000 / 2 - 1500, CLIP_S * 1000 / 2 + 1000);
	huddle__v1__recording_reply__free_unpacked(r, NULL);

	ids(m, id, who);
	create(m, id, who);
	expect_code(rec_test_chunk(F.client, m, id, who, 0, junk, sizeof(junk)), HD_OK, NULL);
	finish(m, id, who, 1);
	r = wait_done(m, id, true);
	assert_non_null(strstr(r->get->recording->error, "nothing playable"));
	assert_int_equal(r->get->recording->bytes, 0);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	expect_code(rec_test_read(F.client, m, id, 0, 10), HD_EBADREQUEST, "FAILED");

	ids(m, id, who);
	create(m, id, who);
	expect_code(rec_test_chunk(F.client, m, id, who, 1, junk, 10), HD_OK, NULL);
	finish(m, id, who, 2);
	r = wait_done(m, id, true);
	assert_non_null(strstr(r->get->recording->error, "chunk 0 never arrived"));
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

// quota_and_length: RECORDING_QUOTA_MB counts every recording of the
// meeting; RECORDING_MAX_MINUTES reads the chunk's cluster timestamps.
static void quota_and_length(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1], id2[HD_ID_LEN + 1];
	ids(m, id, who);
	assert_int_equal(hd_id_random(id2), HD_OK);
	F.svc.limits.quota_mb = 1;
	create(m, id, who);
	create(m, id2, who);
	uint8_t *data = calloc(1, 400000);
	assert_non_null(data);
	expect_code(rec_test_chunk(F.client, m, id, who, 0, data, 400000), HD_OK, NULL);
	expect_code(rec_test_chunk(F.client, m, id2, who, 0, data, 400000), HD_OK, NULL);
	expect_code(rec_test_chunk(F.client, m, id2, who, 1, data, 400000), HD_ETOOLARGE, "RECORDING_QUOTA_MB");
	expect_code(rec_test_chunk(F.client, m, id2, who, 1, data, 248576), HD_OK, NULL); // exactly 1 MiB
	expect_code(rec_test_chunk(F.client, m, id, who, 1, data, 1), HD_ETOOLARGE, "RECORDING_QUOTA_MB (1 MiB");
	expect_code(rec_test_chunk(F.client, m, id2, who, 0, data, 5), HD_OK, NULL); // a duplicate costs nothing
	char id3[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(id3), HD_OK);
	expect_code(rec_test_create(F.client, m, id3, who), HD_ETOOLARGE, "RECORDING_QUOTA_MB");
	char m2[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(m2), HD_OK);
	create(m2, id3, who); // another meeting has its own quota
	F.svc.limits.quota_mb = limits.quota_mb;
	free(data);

	// A Cluster (unknown size) whose Timestamp is 601000 ms, then one at 599000.
	uint8_t late[] = {0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
			  0xFF, 0xFF, 0xE7, 0x83, 0x09, 0x2B, 0xA8, 0xA3, 0x81, 0x00};
	uint8_t ok[] = {0xA3, 0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF,
			0xFF, 0xFF, 0xFF, 0xE7, 0x83, 0x09, 0x24, 0x38, 0xA3};
	ids(m, id, who);
	create(m, id, who);
	expect_code(rec_test_chunk(F.client, m, id, who, 0, ok, sizeof(ok)), HD_OK, NULL);
	expect_code(rec_test_chunk(F.client, m, id, who, 1, late, sizeof(late)), HD_ETOOLARGE,
		    "RECORDING_MAX_MINUTES (10 min)");
	Huddle__V1__RecordingReply *r = get(m, id);
	assert_int_equal(r->get->recording->chunks, 1);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

// remux_keeps_the_longest_length: packets past the longest length are left out.
static void remux_keeps_the_longest_length(void **state)
{
	char chunks[160], out[160];
	snprintf(chunks, sizeof(chunks), "%s/maxlen", F.dir);
	snprintf(out, sizeof(out), "%s/maxlen.webm", F.dir);
	assert_int_equal(mkdir(chunks, 0700), 0);
	char path[200];
	snprintf(path, sizeof(path), "%s/0.part", chunks);
	rec_test_write(path, F.webm, F.webm_len);
	struct rec_remux_result res;
	assert_int_equal(rec_remux(chunks, 1, out, 2500, NULL, &res), HD_OK);
	assert_true(res.cut);
	assert_non_null(strstr(res.why, "left out"));
	assert_true(res.duration_ms >= 2000 && res.duration_ms <= 2600);
	int64_t d;
	bool cues;
	assert_true(rec_test_probe(out, &d, &cues));
	assert_true(d >= 2000 && d <= 2600);
	assert_true(cues);
	// stopped before it starts: nothing made, still to do
	atomic_bool stop;
	atomic_init(&stop, true);
	assert_int_equal(rec_remux(chunks, 1, out, 60000, &stop, &res), HD_ECLOSED);
}

// idle_recording_is_assembled: no finish, no chunk for RECORDING_IDLE_S.
static void idle_recording_is_assembled(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1];
	ids(m, id, who);
	create(m, id, who);
	rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, CHUNK, 0, UINT32_MAX);
	F.svc.limits.idle_s = 1;
	Huddle__V1__RecordingReply *r = wait_done(m, id, false);
	F.svc.limits.idle_s = limits.idle_s;
	assert_string_equal(r->get->recording->error, "");
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	check_file(m, id, (CLIP_S - 1) * 1000, (CLIP_S + 1) * 1000);
	struct rec_assembler_stats st;
	rec_assembler_get_stats(F.assembler, &st);
	assert_true(st.idle >= 1);
}

// ranged_reads_and_delete: a read gives exactly the bytes asked for, fewer
// at the end; delete by the recorder removes the files and the metadata.
static void ranged_reads_and_delete(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1], other[HD_ID_LEN + 1];
	ids(m, id, who);
	assert_int_equal(hd_id_random(other), HD_OK);
	create(m, id, who);
	uint32_t n = rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, 250000, 0, UINT32_MAX);
	finish(m, id, who, n);
	huddle__v1__recording_reply__free_unpacked(wait_done(m, id, false), NULL);
	char final[REC_PATH_MAX];
	size_t len;
	assert_true(rec_files_final_path(F.rec_dir, m, id, final));
	uint8_t *disk = rec_test_download(F.client, m, id, REC_READ_MAX, &len);

	Huddle__V1__RecordingReply *r = rec_test_read(F.client, m, id, 100, 100);
	assert_int_equal(rec_test_code(r), HD_OK);
	assert_int_equal(r->read->data.len, 100);
	assert_int_equal(r->read->size, len);
	assert_memory_equal(r->read->data.data, disk + 100, 100);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	r = rec_test_read(F.client, m, id, len - 10, 100);
	assert_int_equal(r->read->data.len, 10);
	assert_memory_equal(r->read->data.data, disk + len - 10, 10);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	r = rec_test_read(F.client, m, id, len + 5, 100);
	assert_int_equal(rec_test_code(r), HD_OK);
	assert_int_equal(r->read->data.len, 0);
	assert_int_equal(r->read->size, len);
	huddle__v1__recording_reply__free_unpacked(r, NULL);
	expect_code(rec_test_read(F.client, m, id, 0, 0), HD_EBADREQUEST, "length");
	expect_code(rec_test_read(F.client, m, id, 0, REC_READ_MAX + 1), HD_ETOOLARGE, "1 MiB");
	free(disk);

	expect_code(rec_test_delete(F.client, m, id, other), HD_EBADREQUEST, "recorder_id");
	struct stat st;
	assert_int_equal(stat(final, &st), 0);
	expect_code(rec_test_delete(F.client, m, id, who), HD_OK, NULL);
	assert_int_not_equal(stat(final, &st), 0);
	expect_code(rec_test_get(F.client, m, id), HD_EUNKNOWNMEETING, NULL);
	expect_code(rec_test_delete(F.client, m, id, who), HD_EUNKNOWNMEETING, NULL);
	expect_code(rec_test_read(F.client, m, id, 0, 10), HD_EUNKNOWNMEETING, NULL);
	Huddle__V1__RecordingReply *l = rec_test_list(F.client, m);
	assert_int_equal(l->list->n_recordings, 0);
	huddle__v1__recording_reply__free_unpacked(l, NULL);
}

// resumes_what_a_crash_left: an ASSEMBLING recording with a half-written
// temp file (as a crash leaves it) is assembled by the thread; one whose
// file was committed only needs its state.
static void resumes_what_a_crash_left(void **state)
{
	char m[HD_ID_LEN + 1], id[HD_ID_LEN + 1], who[HD_ID_LEN + 1], temp[REC_PATH_MAX];
	ids(m, id, who);
	create(m, id, who);
	rec_assembler_stop(F.assembler); // nothing happens behind our back
	rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, CHUNK, 0, UINT32_MAX);
	struct hd_recording rec;
	bool changed;
	assert_int_equal(rec_begin_assembly(&F.svc, m, id, 0, &rec, &changed), HD_OK);
	assert_true(changed);
	assert_true(rec_files_temp_path(F.rec_dir, m, id, temp));
	rec_test_write(temp, F.webm, 1000); // a crash in the middle of the remux
	assert_int_equal(rec_assembler_start(F.assembler), HD_OK);
	huddle__v1__recording_reply__free_unpacked(wait_done(m, id, false), NULL);
	check_file(m, id, (CLIP_S - 1) * 1000, (CLIP_S + 1) * 1000);

	// committed, then the crash: the state is all that is left to do
	ids(m, id, who);
	create(m, id, who);
	rec_assembler_stop(F.assembler);
	uint32_t n = rec_test_upload(F.client, m, id, who, F.webm, F.webm_len, CHUNK, 0, UINT32_MAX);
	assert_int_equal(rec_begin_assembly(&F.svc, m, id, n + 2, &rec, &changed), HD_OK);
	char dir[REC_PATH_MAX], final[REC_PATH_MAX];
	struct rec_remux_result res;
	assert_true(rec_files_chunk_dir(F.rec_dir, m, id, dir));
	assert_true(rec_files_temp_path(F.rec_dir, m, id, temp));
	assert_true(rec_files_final_path(F.rec_dir, m, id, final));
	assert_int_equal(rec_remux(dir, n, temp, 60000, NULL, &res), HD_OK);
	assert_int_equal(rec_files_commit(temp, final), HD_OK);
	assert_int_equal(rec_assembler_start(F.assembler), HD_OK);
	Huddle__V1__RecordingReply *r = wait_done(m, id, false);
	assert_int_equal(r->get->recording->bytes, res.bytes);
	assert_non_null(strstr(r->get->recording->error, "never arrived")); // the two it was told of
	huddle__v1__recording_reply__free_unpacked(r, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_is_idempotent),
		cmocka_unit_test(chunks_in_any_order_and_again),
		cmocka_unit_test(a_gap_ends_the_recording),
		cmocka_unit_test(damaged_data),
		cmocka_unit_test(quota_and_length),
		cmocka_unit_test(remux_keeps_the_longest_length),
		cmocka_unit_test(idle_recording_is_assembled),
		cmocka_unit_test(ranged_reads_and_delete),
		cmocka_unit_test(resumes_what_a_crash_left),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
