// store_conformance_rec.c: the recording cases of the store conformance
// suite (store_conformance.c runs them on every backend): create is
// idempotent by (meeting, id), chunks count contiguously from 0 whatever
// their order and once each, state changes happen only from the named
// state, list is newest first per meeting, resumable finds ASSEMBLING and
// idle RECORDING ones, a meeting's bytes, delete, and concurrent notes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store.h"
#include "store_conformance.h"

#define KIB 1024u

// rec_fill sets r to a valid new recording of meeting, created at `at`.
static void rec_fill(struct hd_recording *r, const char *meeting, int64_t at)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->meeting_id, sizeof(r->meeting_id), "%s", meeting);
	assert_int_equal(hd_id_random(r->id), HD_OK);
	assert_int_equal(hd_id_random(r->recorder_id), HD_OK);
	r->kind = HD_REC_MEETING;
	snprintf(r->recorder_name, sizeof(r->recorder_name), "Grace Hopper ✓");
	snprintf(r->mime_type, sizeof(r->mime_type), "video/webm;codecs=vp8,opus");
	r->created_at_ms = at;
}

static void rec_create(struct hd_store *s, struct hd_recording *r)
{
	bool created = false;
	assert_int_equal(hd_recording_create(s, r, &created), HD_OK);
	assert_true(created);
}

// note notes chunk index (len bytes) at `at`; returns the duplicate flag.
static bool note(struct hd_store *s, const struct hd_recording *r, uint32_t index, uint64_t len, int64_t at,
		 struct hd_recording *out)
{
	bool dup = true;
	assert_int_equal(hd_recording_chunk(s, r->meeting_id, r->id, index, len, at, out, &dup), HD_OK);
	return dup;
}

static hd_err move(struct hd_store *s, const struct hd_recording *r, int from, int to, int64_t at, bool *changed,
		   struct hd_recording *out)
{
	struct hd_rec_change c = {.state = to,
				  .at_ms = at,
				  .total_chunks = 7,
				  .bytes = 12345,
				  .duration_ms = 6000,
				  .error = to == HD_REC_FAILED ? "no chunk 0" : "chunk 4 was missing"};
	return hd_recording_set_state(s, r->meeting_id, r->id, from, &c, out, changed);
}

void rec_create_get_list(void **state)
{
	struct hd_store *s = conformance_open_store();
	char mid[HD_ID_LEN + 1], other[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(mid), HD_OK);
	assert_int_equal(hd_id_random(other), HD_OK);
	struct hd_recording a, b, c, got, again;
	rec_fill(&a, mid, 1000);
	rec_fill(&b, mid, 3000);
	rec_fill(&c, mid, 2000);
	a.kind = HD_REC_CAMERA;
	rec_create(s, &a);
	assert_int_equal(a.state, HD_REC_RECORDING);
	assert_int_equal(a.updated_at_ms, 1000);
	rec_create(s, &b);
	rec_create(s, &c);

	// again: nothing stored, the stored one handed back
	again = a;
	snprintf(again.recorder_name, sizeof(again.recorder_name), "Someone else");
	again.created_at_ms = 9999;
	bool created = true;
	assert_int_equal(hd_recording_create(s, &again, &created), HD_OK);
	assert_false(created);
	assert_string_equal(again.recorder_name, "Grace Hopper ✓");
	assert_int_equal(again.created_at_ms, 1000);

	assert_int_equal(hd_recording_get(s, mid, a.id, &got), HD_OK);
	assert_string_equal(got.meeting_id, mid);
	assert_string_equal(got.id, a.id);
	assert_int_equal(got.kind, HD_REC_CAMERA);
	assert_int_equal(got.state, HD_REC_RECORDING);
	assert_string_equal(got.recorder_id, a.recorder_id);
	assert_string_equal(got.recorder_name, "Grace Hopper ✓");
	assert_string_equal(got.mime_type, "video/webm;codecs=vp8,opus");
	assert_int_equal(got.created_at_ms, 1000);
	assert_int_equal(got.chunks, 0);
	assert_int_equal(got.bytes, 0);
	assert_string_equal(got.error, "");
	assert_int_equal(hd_recording_get(s, other, a.id, &got), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_recording_get(s, mid, "not-an-id", &got), HD_EUNKNOWNMEETING);

	static struct hd_recording list[HD_REC_LIST_MAX];
	size_t n = 99;
	assert_int_equal(hd_recording_list(s, mid, list, &n), HD_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].id, b.id); // newest first
	assert_string_equal(list[1].id, c.id);
	assert_string_equal(list[2].id, a.id);
	assert_int_equal(hd_recording_list(s, other, list, &n), HD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(hd_recording_list(s, "bad", list, &n), HD_EBADREQUEST);

	// invalid fields store nothing
	struct hd_recording bad;
	rec_fill(&bad, mid, 5);
	bad.kind = 0;
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	rec_fill(&bad, mid, 5);
	bad.kind = 4;
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	rec_fill(&bad, mid, 5);
	bad.recorder_name[0] = '\0';
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	rec_fill(&bad, mid, 5);
	snprintf(bad.recorder_name, sizeof(bad.recorder_name), "\xc3");
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	rec_fill(&bad, mid, 5);
	bad.mime_type[0] = '\0';
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	rec_fill(&bad, mid, 5);
	snprintf(bad.recorder_id, sizeof(bad.recorder_id), "short");
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	rec_fill(&bad, mid, 5);
	snprintf(bad.id, sizeof(bad.id), "a/b/../../etc/passwd.x");
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	rec_fill(&bad, mid, -1);
	assert_int_equal(hd_recording_create(s, &bad, &created), HD_EBADREQUEST);
	assert_int_equal(hd_recording_list(s, mid, list, &n), HD_OK);
	assert_int_equal(n, 3);
	hd_store_close(s);

	s = conformance_open_store(); // kept across a reopen
	assert_int_equal(hd_recording_get(s, mid, b.id, &got), HD_OK);
	assert_int_equal(got.created_at_ms, 3000);
	hd_store_close(s);
}

void rec_chunks_order_and_duplicates(void **state)
{
	struct hd_store *s = conformance_open_store();
	char mid[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(mid), HD_OK);
	struct hd_recording r, out;
	rec_fill(&r, mid, 100);
	rec_create(s, &r);

	assert_false(note(s, &r, 0, 10 * KIB, 200, &out));
	assert_int_equal(out.chunks, 1);
	assert_int_equal(out.bytes, 10 * KIB);
	assert_int_equal(out.updated_at_ms, 200);
	assert_false(note(s, &r, 1, 20 * KIB, 300, &out));
	assert_int_equal(out.chunks, 2);
	// 3 and 4 before 2: counted bytes, not chunks
	assert_false(note(s, &r, 3, 1, 400, &out));
	assert_false(note(s, &r, 4, 2, 500, &out));
	assert_int_equal(out.chunks, 2);
	assert_int_equal(out.bytes, 30 * KIB + 3);
	// an earlier time never moves updated_at back
	assert_false(note(s, &r, 2, 4, 450, &out));
	assert_int_equal(out.chunks, 5);
	assert_int_equal(out.bytes, 30 * KIB + 7);
	assert_int_equal(out.updated_at_ms, 500);
	// again: duplicates change nothing
	assert_true(note(s, &r, 1, 999, 900, &out));
	assert_true(note(s, &r, 4, 999, 900, &out));
	assert_false(note(s, &r, 7, 1, 600, &out));
	assert_true(note(s, &r, 7, 5, 900, &out));
	assert_int_equal(out.chunks, 5);
	assert_int_equal(out.bytes, 30 * KIB + 8);
	assert_int_equal(out.updated_at_ms, 600);
	assert_int_equal(hd_recording_get(s, mid, r.id, &out), HD_OK);
	assert_int_equal(out.bytes, 30 * KIB + 8);

	// limits and unknown recordings
	bool dup = true;
	char unknown[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(unknown), HD_OK);
	assert_int_equal(hd_recording_chunk(s, mid, unknown, 0, 1, 1, &out, &dup), HD_EUNKNOWNMEETING);
	assert_false(dup);
	assert_int_equal(hd_recording_chunk(s, mid, r.id, 8, 0, 1, &out, &dup), HD_EBADREQUEST);
	assert_int_equal(hd_recording_chunk(s, mid, r.id, 8, HD_REC_CHUNK_MAX + 1, 1, &out, &dup), HD_EBADREQUEST);
	assert_int_equal(hd_recording_chunk(s, mid, r.id, HD_REC_INDEX_MAX + 1, 1, 1, &out, &dup), HD_EBADREQUEST);
	assert_int_equal(hd_recording_chunk(s, "x", r.id, 8, 1, 1, &out, &dup), HD_EBADREQUEST);
	assert_false(note(s, &r, 8, HD_REC_CHUNK_MAX, 700, &out));
	assert_int_equal(out.bytes, 30 * KIB + 8 + HD_REC_CHUNK_MAX);
	hd_store_close(s);
}

void rec_state_changes(void **state)
{
	struct hd_store *s = conformance_open_store();
	char mid[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(mid), HD_OK);
	struct hd_recording r, f, out;
	bool changed = true, dup;
	rec_fill(&r, mid, 100);
	rec_create(s, &r);
	for (uint32_t i = 0; i < 4; i++)
		assert_false(note(s, &r, i, 100, 200, &out));
	assert_false(note(s, &r, 5, 100, 200, &out));

	// only RECORDING -> ASSEMBLING -> READY | FAILED, each from the state named
	assert_int_equal(move(s, &r, HD_REC_RECORDING, HD_REC_READY, 300, &changed, &out), HD_EBADREQUEST);
	assert_int_equal(move(s, &r, HD_REC_ASSEMBLING, HD_REC_RECORDING, 300, &changed, &out), HD_EBADREQUEST);
	assert_int_equal(move(s, &r, HD_REC_ASSEMBLING, HD_REC_READY, 300, &changed, &out), HD_OK);
	assert_false(changed); // it is RECORDING
	assert_int_equal(out.state, HD_REC_RECORDING);
	assert_int_equal(move(s, &r, HD_REC_RECORDING, HD_REC_ASSEMBLING, 300, &changed, &out), HD_OK);
	assert_true(changed);
	assert_int_equal(out.state, HD_REC_ASSEMBLING);
	assert_int_equal(out.total_chunks, 7);
	assert_int_equal(out.bytes, 500); // ASSEMBLING keeps the chunks' bytes
	assert_int_equal(out.updated_at_ms, 300);
	assert_int_equal(move(s, &r, HD_REC_RECORDING, HD_REC_ASSEMBLING, 400, &changed, &out), HD_OK);
	assert_false(changed);
	assert_int_equal(out.updated_at_ms, 300);

	// while ASSEMBLING: a chunk noted before is a duplicate, a new one refused
	assert_true(note(s, &r, 2, 100, 500, &out));
	assert_true(note(s, &r, 5, 100, 500, &out));
	dup = true;
	assert_int_equal(hd_recording_chunk(s, mid, r.id, 4, 100, 500, &out, &dup), HD_EBADREQUEST);
	assert_false(dup);
	assert_int_equal(out.state, HD_REC_ASSEMBLING);
	assert_int_equal(out.chunks, 4);
	assert_int_equal(out.bytes, 500);

	struct hd_rec_change bad = {.state = HD_REC_READY, .at_ms = 1, .error = "\xff"};
	assert_int_equal(hd_recording_set_state(s, mid, r.id, HD_REC_ASSEMBLING, &bad, &out, &changed), HD_EBADREQUEST);
	assert_int_equal(move(s, &r, HD_REC_ASSEMBLING, HD_REC_READY, 600, &changed, &out), HD_OK);
	assert_true(changed);
	assert_int_equal(out.state, HD_REC_READY);
	assert_int_equal(out.bytes, 12345);
	assert_int_equal(out.duration_ms, 6000);
	assert_int_equal(out.total_chunks, 7);
	assert_int_equal(out.chunks, 4);
	assert_string_equal(out.error, "chunk 4 was missing");
	// READY forgot the notes: below chunks is still a duplicate, the rest refused
	assert_true(note(s, &r, 3, 100, 700, &out));
	assert_int_equal(hd_recording_chunk(s, mid, r.id, 5, 100, 700, &out, &dup), HD_EBADREQUEST);
	assert_int_equal(move(s, &r, HD_REC_ASSEMBLING, HD_REC_FAILED, 700, &changed, &out), HD_OK);
	assert_false(changed);
	assert_int_equal(out.state, HD_REC_READY);

	// FAILED: bytes 0, the error kept
	rec_fill(&f, mid, 100);
	rec_create(s, &f);
	assert_false(note(s, &f, 1, 100, 200, &out));
	assert_int_equal(move(s, &f, HD_REC_RECORDING, HD_REC_ASSEMBLING, 300, &changed, &out), HD_OK);
	assert_int_equal(move(s, &f, HD_REC_ASSEMBLING, HD_REC_FAILED, 400, &changed, &out), HD_OK);
	assert_true(changed);
	assert_int_equal(out.state, HD_REC_FAILED);
	assert_int_equal(out.bytes, 0);
	assert_int_equal(out.duration_ms, 0);
	assert_string_equal(out.error, "no chunk 0");

	char unknown[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(unknown), HD_OK);
	struct hd_recording u = r;
	memcpy(u.id, unknown, sizeof(u.id));
	assert_int_equal(move(s, &u, HD_REC_RECORDING, HD_REC_ASSEMBLING, 1, &changed, &out), HD_EUNKNOWNMEETING);
	hd_store_close(s);

	s = conformance_open_store();
	assert_int_equal(hd_recording_get(s, mid, r.id, &out), HD_OK);
	assert_int_equal(out.state, HD_REC_READY);
	assert_int_equal(out.duration_ms, 6000);
	hd_store_close(s);
}

// mine copies the recordings of meeting among in[0..n) to out, in order.
static size_t mine(const struct hd_recording *in, size_t n, const char *meeting, struct hd_recording *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(in[i].meeting_id, meeting) == 0)
			out[k++] = in[i];
	return k;
}

void rec_resumable_bytes_delete(void **state)
{
	struct hd_store *s = conformance_open_store();
	char mid[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(mid), HD_OK);
	struct hd_recording idle, busy, assembling, ready, out;
	static struct hd_recording got[HD_REC_RESUME_MAX], my[HD_REC_RESUME_MAX];
	bool changed;
	int64_t base = 1700000000000; // "now" for this case
	rec_fill(&idle, mid, base - 600000);
	rec_fill(&busy, mid, base - 600000);
	rec_fill(&assembling, mid, base - 10);
	rec_fill(&ready, mid, base - 700000);
	rec_create(s, &idle);
	rec_create(s, &busy);
	rec_create(s, &assembling);
	rec_create(s, &ready);
	assert_false(note(s, &idle, 0, 1000, base - 500000, &out));
	assert_false(note(s, &busy, 0, 2000, base - 1000, &out));
	assert_false(note(s, &assembling, 0, 3000, base - 5, &out));
	assert_false(note(s, &ready, 0, 4000, base - 700000, &out));
	assert_int_equal(move(s, &assembling, HD_REC_RECORDING, HD_REC_ASSEMBLING, base, &changed, &out), HD_OK);
	assert_int_equal(move(s, &ready, HD_REC_RECORDING, HD_REC_ASSEMBLING, base - 700000, &changed, &out), HD_OK);
	assert_int_equal(move(s, &ready, HD_REC_ASSEMBLING, HD_REC_READY, base - 700000, &changed, &out), HD_OK);

	size_t n;
	assert_int_equal(hd_recording_resumable(s, base - 120000, got, &n), HD_OK);
	assert_true(n <= HD_REC_RESUME_MAX);
	assert_int_equal(mine(got, n, mid, my), 2);
	assert_string_equal(my[0].id, assembling.id); // ASSEMBLING first
	assert_string_equal(my[1].id, idle.id);       // then idle RECORDING; busy and READY not at all
	assert_int_equal(hd_recording_resumable(s, base - 500000, got, &n), HD_OK);
	assert_int_equal(mine(got, n, mid, my), 1); // updated exactly at the cutoff is not idle
	assert_int_equal(hd_recording_resumable(s, base, got, &n), HD_OK);
	assert_int_equal(mine(got, n, mid, my), 3);
	assert_string_equal(my[1].id, idle.id); // least recently updated first
	assert_string_equal(my[2].id, busy.id);

	uint64_t bytes = 1;
	assert_int_equal(hd_recording_meeting_bytes(s, mid, &bytes), HD_OK);
	assert_int_equal(bytes, 1000 + 2000 + 3000 + 12345);
	char other[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(other), HD_OK);
	assert_int_equal(hd_recording_meeting_bytes(s, other, &bytes), HD_OK);
	assert_int_equal(bytes, 0);
	assert_int_equal(hd_recording_meeting_bytes(s, "nope", &bytes), HD_EBADREQUEST);

	// delete: gone, its bytes and chunk notes with it
	assert_int_equal(hd_recording_delete(s, mid, idle.id), HD_OK);
	assert_int_equal(hd_recording_delete(s, mid, idle.id), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_recording_get(s, mid, idle.id, &out), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_recording_delete(s, mid, "x"), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_recording_meeting_bytes(s, mid, &bytes), HD_OK);
	assert_int_equal(bytes, 2000 + 3000 + 12345);
	static struct hd_recording list[HD_REC_LIST_MAX];
	assert_int_equal(hd_recording_list(s, mid, list, &n), HD_OK);
	assert_int_equal(n, 3);
	struct hd_recording again = idle;
	rec_create(s, &again);
	assert_false(note(s, &again, 0, 10, base, &out));
	assert_int_equal(out.chunks, 1);
	assert_int_equal(out.bytes, 10);
	hd_store_close(s);
}

#define REC_NOTERS 4
#define REC_CHUNKS 120

// rec_noter notes every chunk of one recording in its own order (twice each).
struct rec_noter {
	struct hd_store *s;
	const struct hd_recording *r;
	int index;
	int duplicates, failures;
};

static void *note_all(void *arg)
{
	struct rec_noter *w = arg;
	for (int k = 0; k < REC_CHUNKS; k++) {
		// a different permutation per noter: stride 7 or 11, from its own start
		uint32_t i = (uint32_t)((w->index * 31 + k * (w->index % 2 ? 7 : 11)) % REC_CHUNKS);
		struct hd_recording out;
		bool dup;
		if (hd_recording_chunk(w->s, w->r->meeting_id, w->r->id, i, 1000 + i, 10 + k, &out, &dup) != HD_OK)
			w->failures++;
		else
			w->duplicates += dup;
	}
	return NULL;
}

void rec_concurrency(void **state)
{
	// two handles on one store, noting the same recording's chunks at once
	struct hd_store *s1 = conformance_open_store(), *s2 = conformance_open_store();
	char mid[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(mid), HD_OK);
	struct hd_recording r, out;
	rec_fill(&r, mid, 1);
	rec_create(s1, &r);
	struct rec_noter w[REC_NOTERS];
	pthread_t th[REC_NOTERS];
	for (int t = 0; t < REC_NOTERS; t++) {
		w[t] = (struct rec_noter){.s = t % 2 ? s2 : s1, .r = &r, .index = t};
		assert_int_equal(pthread_create(&th[t], NULL, note_all, &w[t]), 0);
	}
	int duplicates = 0;
	for (int t = 0; t < REC_NOTERS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(w[t].failures, 0);
		duplicates += w[t].duplicates;
	}
	assert_int_equal(duplicates, (REC_NOTERS - 1) * REC_CHUNKS); // each index new exactly once
	assert_int_equal(hd_recording_get(s2, mid, r.id, &out), HD_OK);
	assert_int_equal(out.chunks, REC_CHUNKS);
	uint64_t want = 0;
	for (int i = 0; i < REC_CHUNKS; i++)
		want += 1000 + (uint64_t)i;
	assert_int_equal(out.bytes, want);
	hd_store_close(s2);
	hd_store_close(s1);
}
