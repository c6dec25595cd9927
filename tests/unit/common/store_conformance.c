// store_conformance.c: one suite every history-store backend must pass,
// chosen by argv[1]:
//   sqlite  a fresh SQLite file under /tmp (always runs)
//   mongo   HUDDLE_TEST_MONGODB_URI with a unique database, dropped at the
//           end; exits 77 (ctest: Skipped) with a SKIP line when unset
//   open    store_open's URI handling and an unreachable MongoDB
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/store.h"

static char store_uri[1024];
static char sqlite_path[256]; // "" unless the backend is SQLite

static struct hd_store *open_store(void)
{
	struct hd_store *s = NULL;
	assert_int_equal(hd_store_open(&s, store_uri), HD_OK);
	assert_non_null(s);
	return s;
}

static void new_meeting_id(char id[HD_ID_LEN + 1])
{
	assert_int_equal(hd_id_random(id), HD_OK);
}

// fill sets msg to a valid message for meeting with client id "<prefix><i>".
static void fill(struct hd_chat_message *m, const char *meeting, const char *prefix, int i)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->meeting_id, sizeof(m->meeting_id), "%s", meeting);
	snprintf(m->client_message_id, sizeof(m->client_message_id), "%s%d", prefix, i);
	snprintf(m->sender_name, sizeof(m->sender_name), "Ada Lovelace");
	snprintf(m->text, sizeof(m->text), "message %s%d ünïcødé", prefix, i);
	m->sent_at_ms = 1700000000000 + i;
}

// append1 appends one message and returns its duplicate flag.
static bool append1(struct hd_store *s, struct hd_chat_message *m)
{
	bool dup = true;
	assert_int_equal(hd_chat_append(s, m, 1, &dup), HD_OK);
	return dup;
}

// page reads one history page and checks it is ascending and contiguous from
// first (n == 0 skips the check of first).
static size_t page(struct hd_store *s, const char *meeting, int64_t after, int64_t before, uint32_t limit,
		   struct hd_chat_message *out, bool *more, int64_t *last)
{
	size_t n = 99999;
	assert_int_equal(hd_chat_history(s, meeting, after, before, limit, out, &n, more, last), HD_OK);
	assert_true(n <= limit);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(out[i].seq, out[i - 1].seq + 1);
	return n;
}

static void meetings(void **state)
{
	struct hd_store *s = open_store();
	struct hd_meeting m = {0}, got;
	new_meeting_id(m.id);
	m.created_at_ms = 1700000000123;
	snprintf(m.title, sizeof(m.title), "Standup ☕");
	assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
	assert_int_equal(hd_meeting_insert(s, &m), HD_EBADREQUEST); // id exists
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_string_equal(got.id, m.id);
	assert_int_equal(got.created_at_ms, m.created_at_ms);
	assert_string_equal(got.title, "Standup ☕");

	struct hd_meeting untitled = {0};
	new_meeting_id(untitled.id);
	untitled.created_at_ms = 5;
	assert_int_equal(hd_meeting_insert(s, &untitled), HD_OK);
	assert_int_equal(hd_meeting_get(s, untitled.id, &got), HD_OK);
	assert_string_equal(got.title, "");

	char unknown[HD_ID_LEN + 1];
	new_meeting_id(unknown);
	assert_int_equal(hd_meeting_get(s, unknown, &got), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_meeting_get(s, "'; DROP TABLE meetings; --", &got), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_meeting_get(s, "", &got), HD_EUNKNOWNMEETING);

	struct hd_meeting bad = m;
	snprintf(bad.id, sizeof(bad.id), "short");
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	bad = m;
	new_meeting_id(bad.id);
	snprintf(bad.title, sizeof(bad.title), "\xff\xfe");
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	hd_store_close(s);

	s = open_store(); // reopen keeps it
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_string_equal(got.title, "Standup ☕");
	assert_int_equal(hd_meeting_insert(s, &m), HD_EBADREQUEST);
	hd_store_close(s);
}

static void chat_order_and_fields(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_chat_message batch[4], out[HD_CHAT_PAGE_MAX];
	bool dup[4];
	int next = 0;
	// batches of 1, 2, 3, 4: seqs 1..10, in the order given
	for (int size = 1; size <= 4; size++) {
		for (int i = 0; i < size; i++)
			fill(&batch[i], mid, "m", next + i);
		batch[0].sender_id[0] = '\0';
		if (size > 1)
			new_meeting_id(batch[1].sender_id); // a participant id
		assert_int_equal(hd_chat_append(s, batch, (size_t)size, dup), HD_OK);
		for (int i = 0; i < size; i++) {
			assert_false(dup[i]);
			assert_int_equal(batch[i].seq, next + i + 1);
		}
		next += size;
	}
	bool more = true;
	int64_t last = -1;
	size_t n = page(s, mid, 0, 0, HD_CHAT_PAGE_MAX, out, &more, &last);
	assert_int_equal(n, 10);
	assert_false(more);
	assert_int_equal(last, 10);
	for (int i = 0; i < 10; i++) {
		struct hd_chat_message want;
		fill(&want, mid, "m", i);
		assert_int_equal(out[i].seq, i + 1);
		assert_string_equal(out[i].meeting_id, mid);
		assert_string_equal(out[i].client_message_id, want.client_message_id);
		assert_string_equal(out[i].sender_name, want.sender_name);
		assert_string_equal(out[i].text, want.text);
		assert_int_equal(out[i].sent_at_ms, want.sent_at_ms);
	}
	assert_string_equal(out[0].sender_id, "");
	assert_int_equal(strlen(out[2].sender_id), HD_ID_LEN); // batch of 2: its second message

	// a text of exactly HD_CHAT_TEXT_MAX bytes and a name of HD_CHAT_NAME_MAX
	struct hd_chat_message big;
	fill(&big, mid, "big", 0);
	memset(big.text, 'x', HD_CHAT_TEXT_MAX);
	big.text[HD_CHAT_TEXT_MAX] = '\0';
	memset(big.sender_name, 'n', HD_CHAT_NAME_MAX);
	big.sender_name[HD_CHAT_NAME_MAX] = '\0';
	assert_false(append1(s, &big));
	assert_int_equal(big.seq, 11);
	n = page(s, mid, 10, 0, 5, out, &more, &last);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(out[0].text), HD_CHAT_TEXT_MAX);
	assert_int_equal(strlen(out[0].sender_name), HD_CHAT_NAME_MAX);
	assert_int_equal(last, 11);
	hd_store_close(s);
}

static void chat_paging(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_chat_message m[25], out[HD_CHAT_PAGE_MAX];
	bool dup[25];
	for (int i = 0; i < 25; i++)
		fill(&m[i], mid, "p", i);
	assert_int_equal(hd_chat_append(s, m, 25, dup), HD_OK);

	bool more;
	int64_t last;
	// forward from the start
	size_t n = page(s, mid, 0, 0, 10, out, &more, &last);
	assert_int_equal(n, 10);
	assert_int_equal(out[0].seq, 1);
	assert_true(more);
	assert_int_equal(last, 25);
	n = page(s, mid, 10, 0, 10, out, &more, &last);
	assert_int_equal(n, 10);
	assert_int_equal(out[0].seq, 11);
	assert_true(more);
	n = page(s, mid, 20, 0, 10, out, &more, &last);
	assert_int_equal(n, 5);
	assert_int_equal(out[0].seq, 21);
	assert_false(more);
	assert_int_equal(last, 25);
	n = page(s, mid, 15, 0, 10, out, &more, &last); // exactly the rest
	assert_int_equal(n, 10);
	assert_false(more);
	n = page(s, mid, 25, 0, 10, out, &more, &last);
	assert_int_equal(n, 0);
	assert_false(more);
	assert_int_equal(last, 25);

	// scrolling up from the newest: newest-below, ascending
	n = page(s, mid, 0, last + 1, 10, out, &more, &last);
	assert_int_equal(n, 10);
	assert_int_equal(out[0].seq, 16);
	assert_int_equal(out[9].seq, 25);
	assert_true(more);
	n = page(s, mid, 0, 16, 10, out, &more, &last);
	assert_int_equal(n, 10);
	assert_int_equal(out[0].seq, 6);
	assert_true(more);
	n = page(s, mid, 0, 6, 10, out, &more, &last);
	assert_int_equal(n, 5);
	assert_int_equal(out[0].seq, 1);
	assert_false(more);
	n = page(s, mid, 0, 1, 10, out, &more, &last);
	assert_int_equal(n, 0);
	assert_false(more);
	assert_int_equal(last, 25);

	// both bounds
	n = page(s, mid, 5, 10, 10, out, &more, &last);
	assert_int_equal(n, 4);
	assert_int_equal(out[0].seq, 6);
	assert_false(more);
	n = page(s, mid, 5, 10, 2, out, &more, &last);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].seq, 8);
	assert_true(more);
	n = page(s, mid, 9, 10, 2, out, &more, &last);
	assert_int_equal(n, 0);
	assert_false(more);
	n = page(s, mid, 0, 0, 1, out, &more, &last); // the gateway's last_seq probe
	assert_int_equal(n, 1);
	assert_true(more);
	assert_int_equal(last, 25);

	// an unknown meeting has no messages
	char unknown[HD_ID_LEN + 1];
	new_meeting_id(unknown);
	n = page(s, unknown, 0, 0, 10, out, &more, &last);
	assert_int_equal(n, 0);
	assert_false(more);
	assert_int_equal(last, 0);
	n = page(s, unknown, 0, 100, 10, out, &more, &last);
	assert_int_equal(n, 0);
	hd_store_close(s);
}

static void chat_idempotency_and_reopen(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_chat_message a, again, batch[5], out[HD_CHAT_PAGE_MAX];
	bool dup[5];

	fill(&a, mid, "a", 0);
	assert_false(append1(s, &a));
	assert_int_equal(a.seq, 1);

	// same client id, different content: the stored one comes back
	fill(&again, mid, "a", 0);
	snprintf(again.text, sizeof(again.text), "a retry with other text");
	snprintf(again.sender_name, sizeof(again.sender_name), "Someone else");
	again.sent_at_ms = 42;
	assert_true(append1(s, &again));
	assert_int_equal(again.seq, 1);
	assert_string_equal(again.text, a.text);
	assert_string_equal(again.sender_name, a.sender_name);
	assert_int_equal(again.sent_at_ms, a.sent_at_ms);

	// within one batch: b, c, b (again), a (stored earlier), d
	fill(&batch[0], mid, "b", 0);
	fill(&batch[1], mid, "c", 0);
	fill(&batch[2], mid, "b", 0);
	snprintf(batch[2].text, sizeof(batch[2].text), "b's twin");
	fill(&batch[3], mid, "a", 0);
	fill(&batch[4], mid, "d", 0);
	assert_int_equal(hd_chat_append(s, batch, 5, dup), HD_OK);
	assert_false(dup[0]);
	assert_int_equal(batch[0].seq, 2);
	assert_false(dup[1]);
	assert_int_equal(batch[1].seq, 3);
	assert_true(dup[2]);
	assert_int_equal(batch[2].seq, 2);
	assert_string_equal(batch[2].text, batch[0].text);
	assert_true(dup[3]);
	assert_int_equal(batch[3].seq, 1);
	assert_false(dup[4]);
	assert_int_equal(batch[4].seq, 4);

	bool more;
	int64_t last;
	size_t n = page(s, mid, 0, 0, 50, out, &more, &last);
	assert_int_equal(n, 4);
	assert_int_equal(last, 4);
	assert_string_equal(out[0].client_message_id, "a0");
	assert_string_equal(out[1].client_message_id, "b0");
	assert_string_equal(out[2].client_message_id, "c0");
	assert_string_equal(out[3].client_message_id, "d0");
	hd_store_close(s);

	// after reopen: everything is there, the ids still deduplicate, seq goes on
	s = open_store();
	n = page(s, mid, 0, 0, 50, out, &more, &last);
	assert_int_equal(n, 4);
	assert_int_equal(last, 4);
	assert_string_equal(out[3].text, batch[4].text);
	fill(&again, mid, "c", 0);
	assert_true(append1(s, &again));
	assert_int_equal(again.seq, 3);
	fill(&again, mid, "e", 0);
	assert_false(append1(s, &again));
	assert_int_equal(again.seq, 5);
	hd_store_close(s);
}

static void chat_meeting_isolation(void **state)
{
	struct hd_store *s = open_store();
	char m1[HD_ID_LEN + 1], m2[HD_ID_LEN + 1];
	new_meeting_id(m1);
	new_meeting_id(m2);
	struct hd_chat_message batch[6], out[HD_CHAT_PAGE_MAX];
	bool dup[6];
	// interleaved, and the same client ids in both meetings
	for (int i = 0; i < 6; i++)
		fill(&batch[i], i % 2 ? m2 : m1, "x", i / 2);
	assert_int_equal(hd_chat_append(s, batch, 6, dup), HD_OK);
	for (int i = 0; i < 6; i++) {
		assert_false(dup[i]);
		assert_int_equal(batch[i].seq, i / 2 + 1);
	}
	struct hd_chat_message extra;
	fill(&extra, m2, "y", 0);
	assert_false(append1(s, &extra));
	assert_int_equal(extra.seq, 4);

	bool more;
	int64_t last;
	size_t n = page(s, m1, 0, 0, 50, out, &more, &last);
	assert_int_equal(n, 3);
	assert_int_equal(last, 3);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].meeting_id, m1);
	n = page(s, m2, 0, 0, 50, out, &more, &last);
	assert_int_equal(n, 4);
	assert_int_equal(last, 4);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(out[i].meeting_id, m2);
	hd_store_close(s);
}

static void chat_validation(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_chat_message m, batch[3], out[HD_CHAT_PAGE_MAX];
	bool dup[3];

#define REJECTED(mutate)                                                                                               \
	do {                                                                                                           \
		fill(&m, mid, "v", 0);                                                                                 \
		mutate;                                                                                                \
		assert_int_equal(hd_chat_append(s, &m, 1, dup), HD_EBADREQUEST);                                       \
	} while (0)
	REJECTED(m.text[0] = '\0');
	REJECTED((memset(m.text, 'x', sizeof(m.text)), m.text[HD_CHAT_TEXT_MAX] = 'x')); // no NUL in the array
	REJECTED(snprintf(m.text, sizeof(m.text), "bad \xc3\x28 utf-8"));
	REJECTED(snprintf(m.text, sizeof(m.text), "overlong \xc0\xaf"));
	REJECTED(m.client_message_id[0] = '\0');
	REJECTED(snprintf(m.client_message_id, sizeof(m.client_message_id), "has space"));
	REJECTED(snprintf(m.client_message_id, sizeof(m.client_message_id), "ünï"));
	REJECTED(snprintf(m.client_message_id, sizeof(m.client_message_id), "a/b"));
	REJECTED((memset(m.client_message_id, 'c', sizeof(m.client_message_id)),
		  m.client_message_id[HD_CHAT_CLIENT_ID_MAX] = 'c'));
	REJECTED(m.sender_name[0] = '\0');
	REJECTED((memset(m.sender_name, 'n', sizeof(m.sender_name)), m.sender_name[HD_CHAT_NAME_MAX] = 'n'));
	REJECTED(snprintf(m.sender_name, sizeof(m.sender_name), "\xff"));
	REJECTED(m.meeting_id[0] = '\0');
	REJECTED(snprintf(m.meeting_id, sizeof(m.meeting_id), "short"));
	REJECTED(snprintf(m.meeting_id, sizeof(m.meeting_id), "AAAAAAAAAAAAAAAAAAAAA!"));
	REJECTED(snprintf(m.sender_id, sizeof(m.sender_id), "not-an-id"));
	REJECTED(m.sent_at_ms = -1);
#undef REJECTED

	// 64 characters of the whole alphabet is fine
	fill(&m, mid, "v", 0);
	memset(m.client_message_id, 'A', HD_CHAT_CLIENT_ID_MAX);
	memcpy(m.client_message_id, "az_AZ-09", 8);
	m.client_message_id[HD_CHAT_CLIENT_ID_MAX] = '\0';
	assert_false(append1(s, &m));
	assert_int_equal(m.seq, 1);

	// one bad message rejects the whole batch: nothing stored
	fill(&batch[0], mid, "ok", 1);
	fill(&batch[1], mid, "ok", 2);
	fill(&batch[2], mid, "ok", 3);
	batch[1].text[0] = '\0';
	assert_int_equal(hd_chat_append(s, batch, 3, dup), HD_EBADREQUEST);
	assert_int_equal(hd_chat_append(s, batch, 0, dup), HD_EBADREQUEST);

	size_t n = 7;
	bool more = true;
	int64_t last = -1;
	assert_int_equal(hd_chat_history(s, mid, 0, 0, 0, out, &n, &more, &last), HD_EBADREQUEST);
	assert_int_equal(hd_chat_history(s, mid, 0, 0, HD_CHAT_PAGE_MAX + 1, out, &n, &more, &last), HD_EBADREQUEST);
	assert_int_equal(hd_chat_history(s, "short", 0, 0, 10, out, &n, &more, &last), HD_EBADREQUEST);
	assert_int_equal(hd_chat_history(s, mid, -1, 0, 10, out, &n, &more, &last), HD_EBADREQUEST);
	assert_int_equal(hd_chat_history(s, mid, 0, -1, 10, out, &n, &more, &last), HD_EBADREQUEST);
	n = page(s, mid, 0, 0, HD_CHAT_PAGE_MAX, out, &more, &last);
	assert_int_equal(n, 1);
	assert_int_equal(last, 1);
	hd_store_close(s);
}

#define THREADS 6
#define PER_THREAD 60

struct poster {
	struct hd_store *s;
	const char *meeting;
	int index;
	int failures;
	int64_t seqs[PER_THREAD];
};

// post_all appends PER_THREAD messages in batches of 1..4, each batch also
// re-sending the previous batch's first message (a duplicate). No cmocka
// asserts here: they are not thread-safe.
static void *post_all(void *arg)
{
	struct poster *p = arg;
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "t%d-", p->index);
	int i = 0;
	while (i < PER_THREAD) {
		struct hd_chat_message batch[5];
		bool dup[5];
		int size = 1 + (i + p->index) % 4;
		if (size > PER_THREAD - i)
			size = PER_THREAD - i;
		for (int k = 0; k < size; k++)
			fill(&batch[k], p->meeting, prefix, i + k);
		int total = size;
		if (i > 0)
			fill(&batch[total++], p->meeting, prefix, i - 1);
		if (hd_chat_append(p->s, batch, (size_t)total, dup) != HD_OK) {
			p->failures++;
			continue; // retry the same ids
		}
		for (int k = 0; k < size; k++) {
			if (dup[k])
				p->failures++;
			p->seqs[i + k] = batch[k].seq;
		}
		if (i > 0 && (!dup[size] || batch[size].seq != p->seqs[i - 1]))
			p->failures++;
		i += size;
	}
	return NULL;
}

static void chat_concurrency(void **state)
{
	// two handles on the same store, as the registry and huddle-chat are
	struct hd_store *s1 = open_store(), *s2 = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct poster posters[THREADS];
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++) {
		posters[t] = (struct poster){.s = t % 2 ? s2 : s1, .meeting = mid, .index = t};
		assert_int_equal(pthread_create(&th[t], NULL, post_all, &posters[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);

	static bool seen[THREADS * PER_THREAD + 1];
	memset(seen, 0, sizeof(seen));
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(posters[t].failures, 0);
		for (int i = 0; i < PER_THREAD; i++) {
			int64_t q = posters[t].seqs[i];
			assert_in_range(q, 1, THREADS * PER_THREAD);
			assert_false(seen[q]);
			seen[q] = true;
			if (i > 0)
				assert_true(q > posters[t].seqs[i - 1]); // one poster's order is kept
		}
	}
	// history: 1..N exactly once, each matching what its poster was told
	struct hd_chat_message *out = calloc(HD_CHAT_PAGE_MAX, sizeof(*out));
	assert_non_null(out);
	int64_t after = 0, last = 0;
	bool more = true;
	while (more) {
		size_t n = page(s2, mid, after, 0, HD_CHAT_PAGE_MAX, out, &more, &last);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(out[i].seq, after + 1);
			// client id "t<thread>-<index>"
			char *end;
			assert_int_equal(out[i].client_message_id[0], 't');
			long t = strtol(out[i].client_message_id + 1, &end, 10);
			assert_int_equal(*end, '-');
			long k = strtol(end + 1, &end, 10);
			assert_int_equal(*end, '\0');
			assert_in_range(t, 0, THREADS - 1);
			assert_in_range(k, 0, PER_THREAD - 1);
			assert_int_equal(posters[t].seqs[k], out[i].seq);
			after = out[i].seq;
		}
	}
	assert_int_equal(after, THREADS * PER_THREAD);
	assert_int_equal(last, THREADS * PER_THREAD);
	free(out);
	hd_store_close(s2);
	hd_store_close(s1);
}

// sqlite_append_fails_whole_batch: while another connection holds the write
// lock longer than the busy timeout, an append fails as HD_EUNAVAILABLE,
// leaves the caller's messages alone, and stores nothing.
static void sqlite_append_fails_whole_batch(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_chat_message first, batch[2], out[4];
	bool dup[2] = {true, true};
	fill(&first, mid, "f", 0);
	assert_false(append1(s, &first));

	sqlite3 *other;
	assert_int_equal(sqlite3_open(sqlite_path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	fill(&batch[0], mid, "f", 1);
	fill(&batch[1], mid, "f", 0); // a duplicate, not handed back on failure
	snprintf(batch[1].text, sizeof(batch[1].text), "mine");
	assert_int_equal(hd_chat_append(s, batch, 2, dup), HD_EUNAVAILABLE);
	assert_false(dup[0]);
	assert_false(dup[1]);
	assert_string_equal(batch[1].text, "mine");
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);

	bool more;
	int64_t last;
	assert_int_equal(page(s, mid, 0, 0, 4, out, &more, &last), 1);
	assert_int_equal(last, 1);
	// the retry stores each once
	assert_int_equal(hd_chat_append(s, batch, 2, dup), HD_OK);
	assert_false(dup[0]);
	assert_int_equal(batch[0].seq, 2);
	assert_true(dup[1]);
	assert_int_equal(batch[1].seq, 1);
	hd_store_close(s);
}

// sqlite_append_rolls_back_whole_batch: a failure in the middle of a batch
// (a trigger rejecting one text) leaves none of it stored.
static void sqlite_append_rolls_back_whole_batch(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_chat_message batch[3], out[4];
	bool dup[3];
	sqlite3 *other;
	assert_int_equal(sqlite3_open(sqlite_path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other,
				      "CREATE TRIGGER boom BEFORE INSERT ON chat_messages WHEN NEW.text = 'boom'"
				      " BEGIN SELECT RAISE(ABORT, 'boom'); END",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	fill(&batch[0], mid, "r", 0);
	fill(&batch[1], mid, "r", 1);
	fill(&batch[2], mid, "r", 2);
	snprintf(batch[1].text, sizeof(batch[1].text), "boom");
	assert_int_equal(hd_chat_append(s, batch, 3, dup), HD_EUNAVAILABLE);
	assert_int_equal(batch[0].seq, 0);
	bool more;
	int64_t last;
	assert_int_equal(page(s, mid, 0, 0, 4, out, &more, &last), 0);
	assert_int_equal(last, 0);
	assert_int_equal(sqlite3_exec(other, "DROP TRIGGER boom", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(hd_chat_append(s, batch, 3, dup), HD_OK);
	assert_int_equal(batch[2].seq, 3);
	assert_int_equal(page(s, mid, 0, 0, 4, out, &more, &last), 3);
	hd_store_close(s);
}

static void bad_uris(void **state)
{
	struct hd_store *s = (struct hd_store *)1;
	assert_int_equal(hd_store_open(&s, "postgres://x"), HD_EBADREQUEST);
	assert_null(s);
	assert_int_equal(hd_store_open(&s, "sqlite://"), HD_EBADREQUEST);
	assert_int_equal(hd_store_open(&s, ""), HD_EBADREQUEST);
	assert_int_equal(hd_store_open(&s, "sqlite:///nonexistent-dir/x/y.db"), HD_EUNAVAILABLE);
	assert_null(s);
}

// mongo_unreachable: nothing listens on port 1, so open gives up after
// serverSelectionTimeoutMS, cleanly.
static void mongo_unreachable(void **state)
{
	struct hd_store *s = (struct hd_store *)1;
	int64_t t0 = hd_mono_ms();
	assert_int_equal(hd_store_open(&s, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"), HD_EUNAVAILABLE);
	int64_t took = hd_mono_ms() - t0;
	assert_null(s);
	assert_in_range(took, 250, 3000);
	// again, with a database in the path and a second host
	assert_int_equal(hd_store_open(&s, "mongodb://127.0.0.1:1,127.0.0.1:2/huddle_x?serverSelectionTimeoutMS=200"),
			 HD_EUNAVAILABLE);
	assert_null(s);
}

static void mongo_bad_uris(void **state)
{
	struct hd_store *s = (struct hd_store *)1;
	assert_int_equal(hd_store_open(&s, "mongodb://"), HD_EBADREQUEST);
	assert_null(s);
	assert_int_equal(hd_store_open(&s, "mongodb://127.0.0.1:notaport/"), HD_EBADREQUEST);
	assert_int_equal(hd_store_open(&s, "mongodb://127.0.0.1/?serverSelectionTimeoutMS=abc&w=0&&"), HD_EBADREQUEST);
	assert_null(s);
}

static const struct CMUnitTest suite[] = {
	cmocka_unit_test(meetings),
	cmocka_unit_test(chat_order_and_fields),
	cmocka_unit_test(chat_paging),
	cmocka_unit_test(chat_idempotency_and_reopen),
	cmocka_unit_test(chat_meeting_isolation),
	cmocka_unit_test(chat_validation),
	cmocka_unit_test(chat_concurrency),
};

static void sqlite_cleanup(void)
{
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char p[300];
		snprintf(p, sizeof(p), "%s%s", sqlite_path, suffixes[i]);
		unlink(p);
	}
}

static int run_sqlite(void)
{
	snprintf(sqlite_path, sizeof(sqlite_path), "/tmp/hd-store-conformance-%d.db", (int)getpid());
	snprintf(store_uri, sizeof(store_uri), "sqlite://%s", sqlite_path);
	sqlite_cleanup();
	const struct CMUnitTest only_sqlite[] = {
		cmocka_unit_test(sqlite_append_fails_whole_batch),
		cmocka_unit_test(sqlite_append_rolls_back_whole_batch),
	};
	int failed = cmocka_run_group_tests_name("store conformance (sqlite)", suite, NULL, NULL);
	failed += cmocka_run_group_tests_name("store sqlite specifics", only_sqlite, NULL, NULL);
	sqlite_cleanup();
	return failed;
}

// run_mongo runs the suite in a database of its own, dropped at the end.
static int run_mongo(const char *base_uri)
{
	// Opening the store once first checks the server is there and sets
	// libmongoc up (the store owns mongoc_init/cleanup).
	struct hd_store *probe = NULL;
	if (hd_store_open(&probe, base_uri) != HD_OK) {
		fprintf(stderr, "HUDDLE_TEST_MONGODB_URI: cannot open the store (above)\n");
		return 1;
	}
	hd_store_close(probe);

	bson_error_t error;
	mongoc_uri_t *uri = mongoc_uri_new_with_error(base_uri, &error);
	if (uri == NULL) {
		fprintf(stderr, "HUDDLE_TEST_MONGODB_URI: %s\n", error.message);
		return 1;
	}
	char database[64];
	snprintf(database, sizeof(database), "huddle_test_%d_%lld", (int)getpid(), (long long)hd_now_ms());
	if (!mongoc_uri_set_database(uri, database)) {
		mongoc_uri_destroy(uri);
		return 1;
	}
	snprintf(store_uri, sizeof(store_uri), "%s", mongoc_uri_get_string(uri));
	printf("MongoDB store conformance in database %s\n", database);
	int failed = cmocka_run_group_tests_name("store conformance (mongodb)", suite, NULL, NULL);

	mongoc_client_t *client = mongoc_client_new_from_uri(uri);
	if (client != NULL) {
		mongoc_database_t *db = mongoc_client_get_database(client, database);
		if (!mongoc_database_drop(db, &error)) {
			fprintf(stderr, "dropping test database %s: %s\n", database, error.message);
			failed++;
		}
		mongoc_database_destroy(db);
		mongoc_client_destroy(client);
	}
	mongoc_uri_destroy(uri);
	return failed;
}

static int run_open(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_uris),
		cmocka_unit_test(mongo_bad_uris),
		cmocka_unit_test(mongo_unreachable),
	};
	return cmocka_run_group_tests_name("store open", tests, NULL, NULL);
}

int main(int argc, char **argv)
{
	const char *backend = argc > 1 ? argv[1] : "sqlite";
	if (strcmp(backend, "sqlite") == 0)
		return run_sqlite();
	if (strcmp(backend, "mongo") == 0) {
		const char *uri = getenv("HUDDLE_TEST_MONGODB_URI");
		if (uri == NULL || uri[0] == '\0') {
			printf("SKIP: MongoDB store conformance: set HUDDLE_TEST_MONGODB_URI=mongodb://... to run\n");
			return 77;
		}
		return run_mongo(uri);
	}
	if (strcmp(backend, "open") == 0)
		return run_open();
	fprintf(stderr, "usage: %s sqlite|mongo|open\n", argv[0]);
	return 2;
}
