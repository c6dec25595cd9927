// store_conformance.c: one suite every history-store backend must pass
// (the recording cases are in store_conformance_rec.c), chosen by argv[1]:
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
#include "store_conformance.h"

static char store_uri[1024];
static char sqlite_path[256]; // "" unless the backend is SQLite

static struct hd_store *open_store(void)
{
	struct hd_store *s = NULL;
	assert_int_equal(hd_store_open(&s, store_uri), HD_OK);
	assert_non_null(s);
	return s;
}

struct hd_store *conformance_open_store(void)
{
	return open_store();
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

// Shared documents.

// doc_fill sets u to a valid update of (meeting, document) with client id
// "<prefix><i>"; its data is the bytes of that id (the struct's own array,
// so it lives as long as u).
static void doc_fill(struct hd_doc_update *u, const char *meeting, const char *document, const char *prefix, int i)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->meeting_id, sizeof(u->meeting_id), "%s", meeting);
	snprintf(u->document, sizeof(u->document), "%s", document);
	snprintf(u->client_update_id, sizeof(u->client_update_id), "%s%d", prefix, i);
	snprintf(u->author_name, sizeof(u->author_name), "Grace Hopper");
	u->stored_at_ms = 1700000000000 + i;
	u->data = (uint8_t *)u->client_update_id;
	u->len = strlen(u->client_update_id);
}

// doc_append1 appends one update and returns its duplicate flag.
static bool doc_append1(struct hd_store *s, struct hd_doc_update *u)
{
	bool dup = true;
	assert_int_equal(hd_doc_append(s, u, 1, &dup), HD_OK);
	return dup;
}

// doc_append_run appends updates "<prefix>from".."<prefix>(to-1)" one batch
// and checks they are new and numbered first, first + 1, ...
static void doc_append_run(struct hd_store *s, const char *meeting, const char *document, const char *prefix, int from,
			   int to, int64_t first)
{
	struct hd_doc_update u[64];
	bool dup[64];
	assert_true(to > from && to - from <= 64);
	for (int i = from; i < to; i++)
		doc_fill(&u[i - from], meeting, document, prefix, i);
	assert_int_equal(hd_doc_append(s, u, (size_t)(to - from), dup), HD_OK);
	for (int i = 0; i < to - from; i++) {
		assert_false(dup[i]);
		assert_int_equal(u[i].seq, first + i);
	}
}

// doc_page reads one page, checks it is ascending and contiguous and each
// update's data is its client id, then frees the data (the fields stay).
static size_t doc_page(struct hd_store *s, const char *meeting, const char *document, int64_t after, uint32_t limit,
		       struct hd_doc_update *out, bool *more, int64_t *last)
{
	size_t n = 99999;
	assert_int_equal(hd_doc_read(s, meeting, document, after, limit, out, &n, more, last), HD_OK);
	assert_true(n <= limit);
	for (size_t i = 0; i < n; i++) {
		assert_true(out[i].seq > after && out[i].seq <= *last);
		if (i > 0)
			assert_int_equal(out[i].seq, out[i - 1].seq + 1);
		assert_string_equal(out[i].meeting_id, meeting);
		assert_string_equal(out[i].document, document);
		assert_int_equal(out[i].len, strlen(out[i].client_update_id));
		assert_memory_equal(out[i].data, out[i].client_update_id, out[i].len);
	}
	hd_doc_updates_free(out, n);
	for (size_t i = 0; i < n; i++)
		assert_null(out[i].data);
	return n;
}

// doc_snap puts a snapshot at seq whose state and text name it; returns the
// result, *stored and the version it reports.
static hd_err doc_snap(struct hd_store *s, const char *meeting, const char *document, int64_t seq, bool *stored,
		       struct hd_doc_version *v)
{
	struct hd_doc_snapshot snap = {0};
	char text[64];
	snprintf(snap.meeting_id, sizeof(snap.meeting_id), "%s", meeting);
	snprintf(snap.document, sizeof(snap.document), "%s", document);
	snprintf(text, sizeof(text), "# notes up to %lld ✓", (long long)seq);
	snap.version.seq = seq;
	snap.version.created_at_ms = 1700000000000 + seq;
	snprintf(snap.version.author_name, sizeof(snap.version.author_name), "Snapper");
	snprintf(snap.version.language, sizeof(snap.version.language), "c++");
	snap.state = (uint8_t *)text;
	snap.state_len = strlen(text);
	snap.text = text;
	snap.version.text_len = strlen(text);
	*stored = seq % 2 == 0; // whatever it was, the call sets it
	hd_err err = hd_doc_snapshot_put(s, &snap, stored);
	if (v != NULL)
		*v = snap.version;
	return err;
}

// doc_get_check reads version (0: the newest) and checks it is the one
// doc_snap made at seq, numbered want.
static void doc_get_check(struct hd_store *s, const char *meeting, const char *document, int64_t version, int64_t want,
			  int64_t seq)
{
	struct hd_doc_snapshot got;
	char text[64];
	snprintf(text, sizeof(text), "# notes up to %lld ✓", (long long)seq);
	assert_int_equal(hd_doc_snapshot_get(s, meeting, document, version, &got), HD_OK);
	assert_string_equal(got.meeting_id, meeting);
	assert_string_equal(got.document, document);
	assert_int_equal(got.version.version, want);
	assert_int_equal(got.version.seq, seq);
	assert_int_equal(got.version.created_at_ms, 1700000000000 + seq);
	assert_string_equal(got.version.author_name, "Snapper");
	assert_string_equal(got.version.language, "c++");
	assert_int_equal(got.version.text_len, strlen(text));
	assert_int_equal(got.state_len, strlen(text));
	assert_memory_equal(got.state, text, got.state_len);
	assert_string_equal(got.text, text);
	hd_doc_snapshot_fini(&got);
	assert_null(got.state);
	assert_null(got.text);
}

static void doc_append_read_isolation(void **state)
{
	struct hd_store *s = open_store();
	char m1[HD_ID_LEN + 1], m2[HD_ID_LEN + 1];
	new_meeting_id(m1);
	new_meeting_id(m2);
	struct hd_doc_update out[HD_DOC_PAGE_MAX];
	bool more = true;
	int64_t last = -1;
	assert_int_equal(doc_page(s, m1, "notes", 0, 10, out, &more, &last), 0); // nothing yet
	assert_false(more);
	assert_int_equal(last, 0);

	// batches of 1, 2, 3, 4: seqs 1..10 in the order given
	for (int size = 1, next = 0; size <= 4; next += size, size++)
		doc_append_run(s, m1, "notes", "n", next, next + size, next + 1);
	// one batch interleaving three (meeting, document) pairs with the same ids
	static const struct {
		int meeting; // 1 or 2
		const char *document;
		int64_t seq;
	} mix[] = {{1, "code", 1}, {2, "notes", 1}, {1, "code", 2}, {1, "notes", 11}, {2, "notes", 2}, {2, "code", 1}};
	struct hd_doc_update batch[6];
	bool dup[6];
	for (int i = 0; i < 6; i++)
		doc_fill(&batch[i], mix[i].meeting == 1 ? m1 : m2, mix[i].document, "x", i);
	new_meeting_id(batch[0].author_id); // a participant id
	batch[1].author_name[0] = '\0';     // a name may be empty
	assert_int_equal(hd_doc_append(s, batch, 6, dup), HD_OK);
	for (int i = 0; i < 6; i++) {
		assert_false(dup[i]);
		assert_int_equal(batch[i].seq, mix[i].seq);
	}

	// paging through m1/notes: 3 + 3 + 3 + 2
	static const struct {
		int64_t after;
		uint32_t limit;
		uint32_t n;
		bool more;
	} pages[] = {{0, 3, 3, true},   {3, 3, 3, true},    {6, 3, 3, true},
		     {9, 3, 2, false},  {0, 11, 11, false}, {0, HD_DOC_PAGE_MAX, 11, false},
		     {11, 5, 0, false}, {50, 5, 0, false}};
	for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
		size_t n = doc_page(s, m1, "notes", pages[p].after, pages[p].limit, out, &more, &last);
		assert_int_equal(n, pages[p].n);
		assert_int_equal(more, pages[p].more);
		assert_int_equal(last, 11);
		if (n > 0)
			assert_int_equal(out[0].seq, pages[p].after + 1);
	}
	// fields as stored
	assert_int_equal(doc_page(s, m1, "notes", 0, 10, out, &more, &last), 10);
	for (int i = 0; i < 10; i++) {
		assert_string_equal(out[i].author_name, "Grace Hopper");
		assert_string_equal(out[i].author_id, "");
		assert_int_equal(out[i].stored_at_ms, 1700000000000 + i);
	}
	assert_int_equal(doc_page(s, m1, "code", 0, 10, out, &more, &last), 2);
	assert_int_equal(last, 2);
	assert_string_equal(out[0].author_id, batch[0].author_id);
	assert_string_equal(out[1].client_update_id, "x2");
	assert_int_equal(doc_page(s, m2, "notes", 0, 10, out, &more, &last), 2);
	assert_string_equal(out[0].author_name, "");
	assert_int_equal(doc_page(s, m2, "code", 0, 10, out, &more, &last), 1);
	assert_int_equal(doc_page(s, m2, "other", 0, 10, out, &more, &last), 0); // unknown document
	assert_int_equal(last, 0);
	hd_store_close(s);
}

static void doc_idempotency_and_reopen(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_doc_update a, again, batch[5], out[8];
	bool dup[5], more;
	int64_t last;
	doc_fill(&a, mid, "notes", "a", 0);
	new_meeting_id(a.author_id);
	assert_false(doc_append1(s, &a));
	assert_int_equal(a.seq, 1);

	// same id, other author and bytes: the stored seq, time and author come
	// back; data and len stay the caller's
	uint8_t other[3] = {0, 1, 2};
	doc_fill(&again, mid, "notes", "a", 0);
	snprintf(again.author_name, sizeof(again.author_name), "Someone else");
	again.stored_at_ms = 42;
	again.data = other;
	again.len = sizeof(other);
	assert_true(doc_append1(s, &again));
	assert_int_equal(again.seq, 1);
	assert_int_equal(again.stored_at_ms, a.stored_at_ms);
	assert_string_equal(again.author_name, "Grace Hopper");
	assert_string_equal(again.author_id, a.author_id);
	assert_ptr_equal(again.data, other);
	assert_int_equal(again.len, sizeof(other));

	// within one batch: b, c, b again, a (stored earlier), d
	static const struct {
		const char *prefix;
		bool dup;
		int64_t seq;
	} want[] = {{"b", false, 2}, {"c", false, 3}, {"b", true, 2}, {"a", true, 1}, {"d", false, 4}};
	for (int i = 0; i < 5; i++)
		doc_fill(&batch[i], mid, "notes", want[i].prefix, 0);
	assert_int_equal(hd_doc_append(s, batch, 5, dup), HD_OK);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(dup[i], want[i].dup);
		assert_int_equal(batch[i].seq, want[i].seq);
	}
	assert_int_equal(doc_page(s, mid, "notes", 0, 8, out, &more, &last), 4);
	assert_int_equal(last, 4);
	hd_store_close(s);

	// after reopen: all there, ids still deduplicate, seq goes on
	s = open_store();
	assert_int_equal(doc_page(s, mid, "notes", 0, 8, out, &more, &last), 4);
	assert_string_equal(out[3].client_update_id, "d0");
	doc_fill(&again, mid, "notes", "c", 0);
	assert_true(doc_append1(s, &again));
	assert_int_equal(again.seq, 3);
	doc_fill(&again, mid, "code", "c", 0); // the same id in the other document is new
	assert_false(doc_append1(s, &again));
	assert_int_equal(again.seq, 1);
	doc_append_run(s, mid, "notes", "e", 0, 1, 5);
	hd_store_close(s);
}

static void doc_snapshots(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_doc_update u, out[16];
	struct hd_doc_version v, vs[HD_DOC_VERSIONS_KEPT];
	struct hd_doc_snapshot got;
	bool more, stored;
	int64_t last;
	size_t n;

	// none yet: newest is "version 0", no versions, nothing to snapshot
	assert_int_equal(hd_doc_snapshot_get(s, mid, "notes", 0, &got), HD_OK);
	assert_int_equal(got.version.version, 0);
	assert_null(got.state);
	assert_null(got.text);
	hd_doc_snapshot_fini(&got);
	assert_int_equal(hd_doc_snapshot_get(s, mid, "notes", 1, &got), HD_EBADREQUEST);
	assert_int_equal(hd_doc_versions(s, mid, "notes", vs, &n), HD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(doc_snap(s, mid, "notes", 1, &stored, NULL), HD_EBADREQUEST); // last_seq is 0

	doc_append_run(s, mid, "notes", "u", 1, 11, 1); // seqs 1..10
	doc_append_run(s, mid, "code", "u", 1, 4, 1);   // another document, untouched by notes' snapshots
	assert_int_equal(doc_snap(s, mid, "notes", 11, &stored, NULL), HD_EBADREQUEST); // above last_seq
	assert_int_equal(doc_snap(s, mid, "notes", 0, &stored, NULL), HD_EBADREQUEST);
	assert_int_equal(doc_snap(s, mid, "notes", 4, &stored, &v), HD_OK);
	assert_true(stored);
	assert_int_equal(v.version, 1);
	assert_int_equal(v.seq, 4);

	// updates <= 4 are gone, the later ones stay; last_seq is unchanged
	n = doc_page(s, mid, "notes", 0, 16, out, &more, &last);
	assert_int_equal(n, 6);
	assert_int_equal(out[0].seq, 5);
	assert_int_equal(last, 10);
	assert_int_equal(doc_page(s, mid, "code", 0, 16, out, &more, &last), 3);

	// stale: not above the newest snapshot's seq; the reply names it
	for (int64_t seq = 4; seq >= 1; seq -= 3) {
		assert_int_equal(doc_snap(s, mid, "notes", seq, &stored, &v), HD_OK);
		assert_false(stored);
		assert_int_equal(v.version, 1);
		assert_int_equal(v.seq, 4);
		assert_string_equal(v.author_name, "Snapper");
	}
	// a dropped update's id is new again; a kept one's is a duplicate
	doc_fill(&u, mid, "notes", "u", 2);
	assert_false(doc_append1(&*s, &u));
	assert_int_equal(u.seq, 11);
	doc_fill(&u, mid, "notes", "u", 7);
	assert_true(doc_append1(s, &u));
	assert_int_equal(u.seq, 7);

	// a snapshot of everything drops every update; seq still goes on
	assert_int_equal(doc_snap(s, mid, "notes", 11, &stored, &v), HD_OK);
	assert_true(stored);
	assert_int_equal(v.version, 2);
	assert_int_equal(doc_page(s, mid, "notes", 0, 16, out, &more, &last), 0);
	assert_int_equal(last, 11);
	assert_int_equal(doc_snap(s, mid, "notes", 12, &stored, NULL), HD_EBADREQUEST);
	doc_append_run(s, mid, "notes", "after", 0, 2, 12);
	hd_store_close(s);

	s = open_store(); // reopen keeps snapshots, updates and numbering
	doc_append_run(s, mid, "notes", "reopen", 0, 1, 14);
	n = doc_page(s, mid, "notes", 0, 16, out, &more, &last);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].seq, 12);
	assert_int_equal(last, 14);
	doc_get_check(s, mid, "notes", 0, 2, 11);
	doc_get_check(s, mid, "notes", 2, 2, 11);
	doc_get_check(s, mid, "notes", 1, 1, 4);
	assert_int_equal(hd_doc_snapshot_get(s, mid, "notes", 3, &got), HD_EBADREQUEST);
	assert_int_equal(hd_doc_snapshot_get(s, mid, "code", 1, &got), HD_EBADREQUEST);
	assert_int_equal(hd_doc_versions(s, mid, "notes", vs, &n), HD_OK);
	assert_int_equal(n, 2);
	assert_int_equal(vs[0].version, 2);
	assert_int_equal(vs[0].seq, 11);
	assert_int_equal(vs[1].version, 1);
	assert_string_equal(vs[1].language, "c++");
	assert_int_equal(vs[1].text_len, strlen("# notes up to 4 ✓"));

	// an empty text is a text: read back as ""
	struct hd_doc_snapshot empty = {0};
	snprintf(empty.meeting_id, sizeof(empty.meeting_id), "%s", mid);
	snprintf(empty.document, sizeof(empty.document), "code");
	empty.version.seq = 3;
	empty.state = (uint8_t *)"\0";
	empty.state_len = 1;
	assert_int_equal(hd_doc_snapshot_put(s, &empty, &stored), HD_OK);
	assert_true(stored);
	assert_int_equal(empty.version.version, 1);
	assert_int_equal(hd_doc_snapshot_get(s, mid, "code", 0, &got), HD_OK);
	assert_int_equal(got.state_len, 1);
	assert_int_equal(got.state[0], 0);
	assert_non_null(got.text);
	assert_string_equal(got.text, "");
	assert_int_equal(got.version.text_len, 0);
	assert_string_equal(got.version.author_name, "");
	hd_doc_snapshot_fini(&got);
	hd_store_close(s);
}

static void doc_versions_capped(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_doc_version v, vs[HD_DOC_VERSIONS_KEPT];
	struct hd_doc_snapshot got;
	bool stored;
	size_t n;
	enum { SNAPS = HD_DOC_VERSIONS_KEPT + 5 };
	for (int i = 1; i <= SNAPS; i++) { // update i, then a snapshot at seq i
		doc_append_run(s, mid, "notes", "c", i, i + 1, i);
		assert_int_equal(doc_snap(s, mid, "notes", i, &stored, &v), HD_OK);
		assert_true(stored);
		assert_int_equal(v.version, i);
	}
	assert_int_equal(hd_doc_versions(s, mid, "notes", vs, &n), HD_OK);
	assert_int_equal(n, HD_DOC_VERSIONS_KEPT);
	for (size_t i = 0; i < n; i++) { // newest first
		assert_int_equal(vs[i].version, SNAPS - (int64_t)i);
		assert_int_equal(vs[i].seq, SNAPS - (int64_t)i);
		assert_int_equal(vs[i].created_at_ms, 1700000000000 + vs[i].seq);
	}
	int64_t oldest = SNAPS - HD_DOC_VERSIONS_KEPT + 1;
	assert_int_equal(hd_doc_snapshot_get(s, mid, "notes", oldest - 1, &got), HD_EBADREQUEST); // dropped
	doc_get_check(s, mid, "notes", oldest, oldest, oldest);
	doc_get_check(s, mid, "notes", 0, SNAPS, SNAPS);
	hd_store_close(s);
}

static void doc_limits_and_validation(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct hd_doc_update u, out[4];
	bool dup[2], more, stored;
	int64_t last;
	size_t n;
	uint8_t *big = malloc(HD_DOC_STATE_MAX + 1);
	char *text = malloc(HD_DOC_TEXT_MAX + 2);
	assert_non_null(big);
	assert_non_null(text);
	for (size_t i = 0; i <= HD_DOC_STATE_MAX; i++)
		big[i] = (uint8_t)(i * 7); // binary, with NULs
	memset(text, 'x', HD_DOC_TEXT_MAX + 1);
	text[HD_DOC_TEXT_MAX + 1] = '\0';

	static const struct {
		hd_err want;
		int what; // which field mutate() breaks
	} appends[] = {
		{HD_ETOOLARGE, 0},    {HD_EBADREQUEST, 1},  {HD_EBADREQUEST, 2},  {HD_EBADREQUEST, 3},
		{HD_EBADREQUEST, 4},  {HD_EBADREQUEST, 5},  {HD_EBADREQUEST, 6},  {HD_EBADREQUEST, 7},
		{HD_EBADREQUEST, 8},  {HD_EBADREQUEST, 9},  {HD_EBADREQUEST, 10}, {HD_EBADREQUEST, 11},
		{HD_EBADREQUEST, 12}, {HD_EBADREQUEST, 13}, {HD_EBADREQUEST, 14},
	};
	for (size_t i = 0; i < sizeof(appends) / sizeof(appends[0]); i++) {
		doc_fill(&u, mid, "notes", "v", 0);
		switch (appends[i].what) {
		case 0:
			u.data = big, u.len = HD_DOC_UPDATE_MAX + 1;
			break;
		case 1:
			u.len = 0;
			break;
		case 2:
			u.data = NULL;
			break;
		case 3:
			u.document[0] = '\0';
			break;
		case 4:
			snprintf(u.document, sizeof(u.document), "Notes");
			break;
		case 5:
			snprintf(u.document, sizeof(u.document), "no-tes");
			break;
		case 6:
			memset(u.document, 'a', sizeof(u.document));
			break; // 17 bytes, no NUL
		case 7:
			snprintf(u.meeting_id, sizeof(u.meeting_id), "short");
			break;
		case 8:
			snprintf(u.meeting_id, sizeof(u.meeting_id), "AAAAAAAAAAAAAAAAAAAAA!");
			break;
		case 9:
			u.client_update_id[0] = '\0';
			break;
		case 10:
			snprintf(u.client_update_id, sizeof(u.client_update_id), "has space");
			break;
		case 11:
			snprintf(u.client_update_id, sizeof(u.client_update_id), "~1");
			break;
		case 12:
			snprintf(u.author_id, sizeof(u.author_id), "not-an-id");
			break;
		case 13:
			snprintf(u.author_name, sizeof(u.author_name), "\xc3\x28");
			break;
		case 14:
			u.stored_at_ms = -1;
			break;
		}
		assert_int_equal(hd_doc_append(s, &u, 1, dup), appends[i].want);
	}
	// one bad update rejects the whole batch
	struct hd_doc_update batch[2];
	doc_fill(&batch[0], mid, "notes", "ok", 0);
	doc_fill(&batch[1], mid, "notes", "ok", 1);
	batch[1].len = 0;
	assert_int_equal(hd_doc_append(s, batch, 2, dup), HD_EBADREQUEST);
	assert_int_equal(hd_doc_append(s, batch, 0, dup), HD_EBADREQUEST);

	// exactly HD_DOC_UPDATE_MAX bytes of binary is fine and reads back whole
	doc_fill(&u, mid, "notes", "big", 0);
	u.data = big;
	u.len = HD_DOC_UPDATE_MAX;
	assert_false(doc_append1(s, &u));
	assert_int_equal(u.seq, 1);
	assert_int_equal(hd_doc_read(s, mid, "notes", 0, 4, out, &n, &more, &last), HD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].len, HD_DOC_UPDATE_MAX);
	assert_memory_equal(out[0].data, big, HD_DOC_UPDATE_MAX);
	hd_doc_updates_free(out, n);

	// reads and lists
	static const struct {
		const char *meeting; // NULL: mid
		const char *document;
		int64_t after;
		uint32_t limit;
	} reads[] = {{NULL, "notes", 0, 0},
		     {NULL, "notes", 0, HD_DOC_PAGE_MAX + 1},
		     {NULL, "notes", -1, 1},
		     {NULL, "", 0, 1},
		     {NULL, "NOTES", 0, 1},
		     {"short", "notes", 0, 1},
		     {NULL, "abcdefghijklmnopq", 0, 1}};
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		const char *m = reads[i].meeting != NULL ? reads[i].meeting : mid;
		struct hd_doc_version vs[HD_DOC_VERSIONS_KEPT];
		struct hd_doc_snapshot got;
		n = 7;
		assert_int_equal(
			hd_doc_read(s, m, reads[i].document, reads[i].after, reads[i].limit, out, &n, &more, &last),
			HD_EBADREQUEST);
		assert_int_equal(n, 0);
		if (reads[i].after != 0 || reads[i].limit != 1)
			continue; // a good name: only the read was bad
		assert_int_equal(hd_doc_versions(s, m, reads[i].document, vs, &n), HD_EBADREQUEST);
		assert_int_equal(hd_doc_snapshot_get(s, m, reads[i].document, 0, &got), HD_EBADREQUEST);
	}
	struct hd_doc_snapshot got;
	assert_int_equal(hd_doc_snapshot_get(s, mid, "notes", -1, &got), HD_EBADREQUEST);
	assert_null(got.state);

	// snapshots: a valid one at the limits, then each field broken
	struct hd_doc_snapshot snap;
#define SNAP_RESET()                                                                                                   \
	do {                                                                                                           \
		memset(&snap, 0, sizeof(snap));                                                                        \
		snprintf(snap.meeting_id, sizeof(snap.meeting_id), "%s", mid);                                         \
		snprintf(snap.document, sizeof(snap.document), "notes");                                               \
		snap.version.seq = 1;                                                                                  \
		snprintf(snap.version.language, sizeof(snap.version.language), "c#");                                  \
		snap.state = big;                                                                                      \
		snap.state_len = HD_DOC_STATE_MAX;                                                                     \
		snap.text = text;                                                                                      \
		snap.version.text_len = HD_DOC_TEXT_MAX;                                                               \
	} while (0)
	static const struct {
		hd_err want;
		int what;
	} snaps[] = {{HD_ETOOLARGE, 0},   {HD_ETOOLARGE, 1},   {HD_EBADREQUEST, 2}, {HD_EBADREQUEST, 3},
		     {HD_EBADREQUEST, 4}, {HD_EBADREQUEST, 5}, {HD_EBADREQUEST, 6}, {HD_EBADREQUEST, 7},
		     {HD_EBADREQUEST, 8}, {HD_EBADREQUEST, 9}, {HD_EBADREQUEST, 10}};
	for (size_t i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++) {
		SNAP_RESET();
		switch (snaps[i].what) {
		case 0:
			snap.state_len = HD_DOC_STATE_MAX + 1;
			break;
		case 1:
			snap.version.text_len = HD_DOC_TEXT_MAX + 1;
			break;
		case 2:
			snap.state_len = 0;
			break;
		case 3:
			snap.state = NULL;
			break;
		case 4:
			snap.text = NULL;
			break;
		case 5:
			snprintf(snap.version.language, sizeof(snap.version.language), "C");
			break;
		case 6:
			snprintf(snap.version.author_name, sizeof(snap.version.author_name), "\xff");
			break;
		case 7:
			snap.text = "a\0b", snap.version.text_len = 3;
			break; // a NUL is not text
		case 8:
			snap.text = "\xc0\xaf", snap.version.text_len = 2;
			break;
		case 9:
			snap.document[0] = '\0';
			break;
		case 10:
			snap.version.created_at_ms = -1;
			break;
		}
		assert_int_equal(hd_doc_snapshot_put(s, &snap, &stored), snaps[i].want);
		assert_false(stored);
	}
	SNAP_RESET();
	assert_int_equal(hd_doc_snapshot_put(s, &snap, &stored), HD_OK);
	assert_true(stored);
	assert_int_equal(hd_doc_snapshot_get(s, mid, "notes", 0, &got), HD_OK);
	assert_int_equal(got.state_len, HD_DOC_STATE_MAX);
	assert_memory_equal(got.state, big, HD_DOC_STATE_MAX);
	assert_int_equal(got.version.text_len, HD_DOC_TEXT_MAX);
	assert_int_equal(strlen(got.text), HD_DOC_TEXT_MAX);
	assert_string_equal(got.version.language, "c#");
	hd_doc_snapshot_fini(&got);
#undef SNAP_RESET
	free(text);
	free(big);
	hd_store_close(s);
}

#define DOC_WRITERS 4
#define DOC_PER_WRITER 50

struct doc_writer {
	struct hd_store *s;
	const char *meeting;
	int index; // DOC_WRITERS: the snapshotter
	int failures;
	int snapshots;
	int64_t seqs[DOC_PER_WRITER];
};

// doc_write_all appends DOC_PER_WRITER updates in batches of 1..3, each also
// re-sending the previous batch's first update (a duplicate: its update is
// either kept, then the same seq comes back, or dropped by a snapshot, then
// it is new again). No cmocka asserts here: they are not thread-safe.
static void *doc_write_all(void *arg)
{
	struct doc_writer *w = arg;
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "w%d-", w->index);
	for (int i = 0; i < DOC_PER_WRITER;) {
		struct hd_doc_update batch[4];
		bool dup[4];
		int size = 1 + (i + w->index) % 3;
		if (size > DOC_PER_WRITER - i)
			size = DOC_PER_WRITER - i;
		for (int k = 0; k < size; k++)
			doc_fill(&batch[k], w->meeting, "notes", prefix, i + k);
		if (i > 0)
			doc_fill(&batch[size], w->meeting, "notes", prefix, i - 1);
		if (hd_doc_append(w->s, batch, (size_t)size + (i > 0), dup) != HD_OK) {
			w->failures++;
			continue;
		}
		for (int k = 0; k < size; k++) {
			if (dup[k])
				w->failures++;
			w->seqs[i + k] = batch[k].seq;
		}
		if (i > 0 && dup[size] && batch[size].seq != w->seqs[i - 1])
			w->failures++;
		i += size;
	}
	return NULL;
}

// doc_snapshot_all snapshots the document at its last seq while writers run.
static void *doc_snapshot_all(void *arg)
{
	struct doc_writer *w = arg;
	for (int i = 0; i < 40; i++) {
		struct hd_doc_update page[1];
		size_t n;
		bool more, stored = false;
		int64_t last;
		if (hd_doc_read(w->s, w->meeting, "notes", 0, 1, page, &n, &more, &last) != HD_OK) {
			w->failures++;
			continue;
		}
		hd_doc_updates_free(page, n);
		if (last > 0) {
			if (doc_snap(w->s, w->meeting, "notes", last, &stored, NULL) != HD_OK)
				w->failures++;
			else if (stored)
				w->snapshots++;
		}
		struct timespec ts = {0, 2000000L};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void doc_concurrency(void **state)
{
	// two handles on the same store, as two huddle-notes replicas
	struct hd_store *s1 = open_store(), *s2 = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	struct doc_writer w[DOC_WRITERS + 1];
	pthread_t th[DOC_WRITERS + 1];
	for (int t = 0; t <= DOC_WRITERS; t++) {
		w[t] = (struct doc_writer){.s = t % 2 ? s2 : s1, .meeting = mid, .index = t};
		assert_int_equal(
			pthread_create(&th[t], NULL, t < DOC_WRITERS ? doc_write_all : doc_snapshot_all, &w[t]), 0);
	}
	for (int t = 0; t <= DOC_WRITERS; t++)
		pthread_join(th[t], NULL);

	// every seq told exactly once, each writer's in its order
	enum { TOTAL = DOC_WRITERS * DOC_PER_WRITER };
	static int told[TOTAL + 1];
	memset(told, 0, sizeof(told));
	int64_t top = 0;
	for (int t = 0; t <= DOC_WRITERS; t++)
		assert_int_equal(w[t].failures, 0);
	for (int t = 0; t < DOC_WRITERS; t++) {
		for (int i = 0; i < DOC_PER_WRITER; i++) {
			int64_t q = w[t].seqs[i];
			assert_true(q >= 1);
			if (q <= TOTAL)
				told[q]++;
			top = q > top ? q : top;
			if (i > 0)
				assert_true(q > w[t].seqs[i - 1]);
		}
	}
	// Re-sent updates that a snapshot had dropped were stored again, so
	// the log can be longer than TOTAL; no seq was told twice.
	for (int q = 1; q <= TOTAL; q++)
		assert_true(told[q] <= 1);

	// what is left: contiguous from just after the newest snapshot to last_seq
	struct hd_doc_snapshot newest;
	assert_int_equal(hd_doc_snapshot_get(s1, mid, "notes", 0, &newest), HD_OK);
	hd_doc_snapshot_fini(&newest);
	struct hd_doc_update *out = calloc(HD_DOC_PAGE_MAX, sizeof(*out));
	assert_non_null(out);
	bool more;
	int64_t last;
	size_t n = doc_page(s2, mid, "notes", newest.version.seq, HD_DOC_PAGE_MAX, out, &more, &last);
	assert_false(more);
	assert_true(last >= top);
	assert_int_equal(newest.version.seq + (int64_t)n, last);
	if (n > 0)
		assert_int_equal(out[0].seq, newest.version.seq + 1);
	print_message("doc concurrency: last_seq %lld, %d snapshots stored\n", (long long)last,
		      w[DOC_WRITERS].snapshots);
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

// sqlite_doc_old_file: a file made by the schema before shared documents
// (meetings and chat only) opens, keeps its chat, and gains the documents.
static void sqlite_doc_old_file(void **state)
{
	char path[300], uri[320], mid[HD_ID_LEN + 1];
	snprintf(path, sizeof(path), "%s.old", sqlite_path);
	snprintf(uri, sizeof(uri), "sqlite://%s", path);
	unlink(path);
	new_meeting_id(mid);
	sqlite3 *db;
	char sql[1024];
	snprintf(
		sql, sizeof(sql),
		"PRAGMA journal_mode=WAL;"
		"CREATE TABLE meetings (id TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, title TEXT NOT NULL"
		" DEFAULT '');"
		"CREATE TABLE chat_messages (meeting_id TEXT NOT NULL, seq INTEGER NOT NULL, client_message_id TEXT NOT"
		" NULL, sender_id TEXT NOT NULL DEFAULT '', sender_name TEXT NOT NULL, text TEXT NOT NULL, sent_at_ms"
		" INTEGER NOT NULL, PRIMARY KEY (meeting_id, seq), UNIQUE (meeting_id, client_message_id));"
		"INSERT INTO chat_messages VALUES('%s', 1, 'old', '', 'Ada', 'from before', 5);",
		mid);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct hd_store *s = NULL;
	assert_int_equal(hd_store_open(&s, uri), HD_OK);
	struct hd_chat_message msgs[2];
	bool more, stored;
	int64_t last;
	assert_int_equal(page(s, mid, 0, 0, 2, msgs, &more, &last), 1);
	assert_string_equal(msgs[0].text, "from before");
	doc_append_run(s, mid, "notes", "n", 0, 3, 1);
	assert_int_equal(doc_snap(s, mid, "notes", 2, &stored, NULL), HD_OK);
	assert_true(stored);
	hd_store_close(s);
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(sql, sizeof(sql), "%s%s", path, suffixes[i]);
		unlink(sql);
	}
}

// sqlite_doc_fails_whole_write: when a step inside fails (a trigger), a
// snapshot stores nothing and drops nothing, and a batch of updates stores
// none; the caller's structs come back as passed, and a retry works.
static void sqlite_doc_fails_whole_write(void **state)
{
	struct hd_store *s = open_store();
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	doc_append_run(s, mid, "notes", "f", 0, 4, 1);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(sqlite_path, &other), SQLITE_OK);

	// the snapshot's drop of covered updates fails after its insert
	assert_int_equal(
		sqlite3_exec(other,
			     "CREATE TRIGGER boom BEFORE DELETE ON doc_updates BEGIN SELECT RAISE(ABORT, 'boom'); END",
			     NULL, NULL, NULL),
		SQLITE_OK);
	bool stored = true;
	struct hd_doc_version v;
	assert_int_equal(doc_snap(s, mid, "notes", 3, &stored, &v), HD_EUNAVAILABLE);
	assert_false(stored);
	assert_int_equal(v.version, 0); // as passed
	assert_int_equal(v.seq, 3);
	assert_int_equal(sqlite3_exec(other, "DROP TRIGGER boom", NULL, NULL, NULL), SQLITE_OK);

	// the third update of a batch fails after two went in
	assert_int_equal(
		sqlite3_exec(other,
			     "CREATE TRIGGER boom BEFORE INSERT ON doc_updates WHEN NEW.client_update_id = 'f5'"
			     " BEGIN SELECT RAISE(ABORT, 'boom'); END",
			     NULL, NULL, NULL),
		SQLITE_OK);
	struct hd_doc_update batch[3];
	bool dup[3] = {true, true, true};
	doc_fill(&batch[0], mid, "notes", "f", 4);
	doc_fill(&batch[1], mid, "notes", "f", 0); // a duplicate, not handed back on failure
	doc_fill(&batch[2], mid, "notes", "f", 5);
	batch[1].stored_at_ms = 9;
	assert_int_equal(hd_doc_append(s, batch, 3, dup), HD_EUNAVAILABLE);
	for (int i = 0; i < 3; i++) {
		assert_false(dup[i]);
		assert_int_equal(batch[i].seq, 0);
	}
	assert_int_equal(batch[1].stored_at_ms, 9);
	assert_int_equal(sqlite3_exec(other, "DROP TRIGGER boom", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);

	struct hd_doc_update out[8];
	struct hd_doc_version vs[HD_DOC_VERSIONS_KEPT];
	bool more;
	int64_t last;
	size_t n;
	assert_int_equal(hd_doc_versions(s, mid, "notes", vs, &n), HD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(doc_page(s, mid, "notes", 0, 8, out, &more, &last), 4);
	assert_int_equal(last, 4);
	// the retries: seq goes on from 5, the duplicate is found
	assert_int_equal(hd_doc_append(s, batch, 3, dup), HD_OK);
	assert_int_equal(batch[0].seq, 5);
	assert_true(dup[1]);
	assert_int_equal(batch[1].seq, 1);
	assert_int_equal(batch[2].seq, 6);
	assert_int_equal(doc_snap(s, mid, "notes", 3, &stored, &v), HD_OK);
	assert_true(stored);
	assert_int_equal(v.version, 1);
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

// mongo_access_old_document: a meetings document stored before access
// modes (only _id, created_at_ms, title) reads as OPEN, unscheduled, with
// no host key and no space, and its mode can be set.
static void mongo_access_old_document(void **state)
{
	struct hd_store *s = open_store(); // also runs mongoc_init
	char mid[HD_ID_LEN + 1];
	new_meeting_id(mid);
	bson_error_t error;
	mongoc_uri_t *uri = mongoc_uri_new_with_error(store_uri, &error);
	assert_non_null(uri);
	mongoc_client_t *client = mongoc_client_new_from_uri(uri);
	assert_non_null(client);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, mongoc_uri_get_database(uri), "meetings");
	bson_t doc = BSON_INITIALIZER;
	BSON_APPEND_UTF8(&doc, "_id", mid);
	BSON_APPEND_INT64(&doc, "created_at_ms", 42);
	BSON_APPEND_UTF8(&doc, "title", "From before");
	assert_true(mongoc_collection_insert_one(coll, &doc, NULL, NULL, &error));
	bson_destroy(&doc);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(client);
	mongoc_uri_destroy(uri);

	struct hd_meeting got;
	assert_int_equal(hd_meeting_get(s, mid, &got), HD_OK);
	assert_string_equal(got.title, "From before");
	assert_int_equal(got.created_at_ms, 42);
	assert_int_equal(got.access_mode, HD_ACCESS_OPEN);
	assert_int_equal(got.starts_at_ms, 0);
	assert_string_equal(got.host_key_hash, "");
	assert_string_equal(got.space_id, "");
	assert_int_equal(hd_meeting_set_access(s, mid, HD_ACCESS_LOCKED), HD_OK);
	assert_int_equal(hd_meeting_get(s, mid, &got), HD_OK);
	assert_int_equal(got.access_mode, HD_ACCESS_LOCKED);
	hd_store_close(s);
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
	cmocka_unit_test(doc_append_read_isolation),
	cmocka_unit_test(doc_idempotency_and_reopen),
	cmocka_unit_test(doc_snapshots),
	cmocka_unit_test(doc_versions_capped),
	cmocka_unit_test(doc_limits_and_validation),
	cmocka_unit_test(doc_concurrency),
	cmocka_unit_test(rec_create_get_list),
	cmocka_unit_test(rec_chunks_order_and_duplicates),
	cmocka_unit_test(rec_state_changes),
	cmocka_unit_test(rec_resumable_bytes_delete),
	cmocka_unit_test(rec_concurrency),
	cmocka_unit_test(access_meeting_fields),
	cmocka_unit_test(access_set_mode),
	cmocka_unit_test(access_spaces),
	cmocka_unit_test(access_space_meetings),
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
		cmocka_unit_test(sqlite_doc_old_file),
		cmocka_unit_test(sqlite_doc_fails_whole_write),
		cmocka_unit_test(sqlite_access_old_file),
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
	const struct CMUnitTest only_mongo[] = {
		cmocka_unit_test(mongo_access_old_document),
	};
	failed += cmocka_run_group_tests_name("store mongodb specifics", only_mongo, NULL, NULL);

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
