// rpc_test.c: huddle-notes' calls over real sockets (REQ/REP and PUB/SUB on
// ipc://) against a real SQLite file, served in-process as main.c serves
// them: seqs, duplicates, limits and their messages, open with a snapshot
// and the updates after it (also across a snapshot, and paged to fit one
// reply), versions, awareness published and never stored, events in seq
// order, and group commit under 32 concurrent appenders.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "common/util.h"
#include "notes/notes.h"
#include "notes/rpc.h"
#include "notes/writer.h"

#define WORKERS 8
#define BATCH_MAX 256
#define EVENT_MS 10000

// fixture is one huddle-notes served in-process, in its own temp folder.
struct fixture {
	char dir[64];
	char url[128], events_url[128];
	struct hd_store *store;
	nng_socket pub;
	struct notes_writer *writer;
	struct notes_ctx ctx[WORKERS];
	void *states[WORKERS];
	struct hd_rpc_server *server;
	struct hd_rpc_client *client;
	struct hd_test_events events;
};

static struct fixture F;

static int setup(void **state)
{
	char uri[128];
	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/hd-notes-rpc-XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", F.dir);
	snprintf(F.url, sizeof(F.url), "ipc://%s/notes.ipc", F.dir);
	snprintf(F.events_url, sizeof(F.events_url), "ipc://%s/events.ipc", F.dir);
	assert_int_equal(hd_store_open(&F.store, uri), HD_OK);
	assert_int_equal(hd_pub_open(&F.pub, F.events_url), HD_OK);
	assert_int_equal(notes_writer_open(&F.writer, F.store, F.pub, BATCH_MAX), HD_OK);
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(notes_ctx_init(&F.ctx[i], F.store, F.writer, F.pub), HD_OK);
		F.states[i] = &F.ctx[i];
	}
	assert_int_equal(hd_rpc_server_open(&F.server, F.url, WORKERS, notes_rpc_handle, F.states), HD_OK);
	assert_int_equal(hd_rpc_client_open(&F.client, F.url), HD_OK);
	hd_test_events_open(&F.events, F.events_url, F.pub, &huddle__v1__notes_event__descriptor);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	hd_test_events_close(&F.events);
	hd_rpc_client_close(F.client);
	hd_rpc_server_close(F.server);
	notes_writer_close(F.writer);
	for (int i = WORKERS - 1; i >= 0; i--)
		notes_ctx_fini(&F.ctx[i]);
	nng_close(F.pub);
	hd_store_close(F.store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void new_meeting(char id[HD_ID_LEN + 1])
{
	assert_int_equal(hd_id_random(id), HD_OK);
	hd_test_events_subscribe(&F.events, id);
}

// append_ok appends text's bytes and returns the stored seq, checking the reply.
static int64_t append_ok(const char *meeting, Huddle__V1__DocumentKind doc, const char *client_id, const char *text,
			 bool want_duplicate)
{
	Huddle__V1__NotesReply *r = notes_test_append(F.client, meeting, doc, client_id, text, strlen(text));
	if (notes_test_code(r) != HD_OK)
		fail_msg("append %s: %d %s", client_id, notes_test_code(r), r->error->message);
	assert_int_equal(r->body_case, HUDDLE__V1__NOTES_REPLY__BODY_APPEND);
	assert_int_equal(r->append->duplicate, want_duplicate);
	const Huddle__V1__NotesUpdate *u = r->append->update;
	assert_string_equal(u->meeting_id, meeting);
	assert_int_equal(u->document, doc);
	assert_string_equal(u->client_update_id, client_id);
	assert_int_equal(u->data.len, strlen(text));
	assert_memory_equal(u->data.data, text, strlen(text));
	int64_t seq = u->seq;
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	return seq;
}

// expect_error checks the code and that the message holds each of the
// (NULL-terminated) words: the field, and the limit where there is one.
static void expect_error(Huddle__V1__NotesReply *r, int code, ...)
{
	va_list ap;
	int got = notes_test_code(r);
	const char *msg = r->error != NULL ? r->error->message : "";
	if (got != code)
		fail_msg("want code %d, got %d '%s'", code, got, msg);
	va_start(ap, code);
	for (const char *w = va_arg(ap, const char *); w != NULL; w = va_arg(ap, const char *))
		if (strstr(msg, w) == NULL)
			fail_msg("error '%s' does not say '%s'", msg, w);
	va_end(ap);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
}

// num is n as text (static buffer, one of four in turn).
static const char *num(long long n)
{
	static char buf[4][32];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, sizeof(buf[0]), "%lld", n);
	return b;
}

static void append_assigns_seqs(void **state)
{
	char m[HD_ID_LEN + 1], author[HD_ID_LEN + 1];
	new_meeting(m);
	assert_int_equal(hd_id_random(author), HD_OK);
	int64_t before = hd_now_ms();

	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAppendRequest body = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
	Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
	static const uint8_t bytes[] = {0x01, 0x00, 0xff, 0x80, 0x00};
	u.meeting_id = m;
	u.document = NOTES_TEST_NOTES;
	u.client_update_id = "u-1_A";
	u.data.data = (uint8_t *)bytes;
	u.data.len = sizeof(bytes);
	u.author_id = author;
	u.author_name = "Grace Hopper";
	u.seq = 99; // ignored
	body.update = &u;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
	req.append = &body;
	Huddle__V1__NotesReply *r = notes_test_call(F.client, &req);
	assert_int_equal(notes_test_code(r), HD_OK);
	const Huddle__V1__NotesUpdate *got = r->append->update;
	assert_false(r->append->duplicate);
	assert_int_equal(got->seq, 1);
	assert_string_equal(got->meeting_id, m);
	assert_int_equal(got->document, NOTES_TEST_NOTES);
	assert_string_equal(got->author_id, author);
	assert_string_equal(got->author_name, "Grace Hopper");
	assert_int_equal(got->data.len, sizeof(bytes));
	assert_memory_equal(got->data.data, bytes, sizeof(bytes)); // opaque bytes, NULs and all
	assert_true(got->stored_at_ms >= before && got->stored_at_ms <= hd_now_ms());
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "u-2", "two", false), 2);
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "u-3", "three", false), 3);
	// Each document of a meeting counts on its own; the kind maps to "code".
	assert_int_equal(append_ok(m, NOTES_TEST_CODE, "u-1_A", "code one", false), 1);
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_NOTES), 3);
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_CODE), 1);
	size_t n;
	bool more;
	int64_t last;
	static struct hd_doc_update page[4];
	assert_int_equal(hd_doc_read(F.store, m, "code", 0, 4, page, &n, &more, &last), HD_OK);
	assert_int_equal(n, 1);
	assert_memory_equal(page[0].data, "code one", 8);
	hd_doc_updates_free(page, n);
	assert_int_equal(hd_doc_read(F.store, m, "notes", 0, 4, page, &n, &more, &last), HD_OK);
	assert_int_equal(n, 3);
	hd_doc_updates_free(page, n);
}

static void duplicate_stores_nothing(void **state)
{
	char m[HD_ID_LEN + 1], other[HD_ID_LEN + 1];
	struct notes_writer_stats before, after;
	new_meeting(m);
	new_meeting(other);
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "same", "first", false), 1);
	notes_writer_get_stats(F.writer, &before);
	// A retry answers the stored update's seq, author and time; the bytes
	// are the retry's (the same update).
	Huddle__V1__NotesReply *r = notes_test_append(F.client, m, NOTES_TEST_NOTES, "same", "first", 5);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_true(r->append->duplicate);
	assert_int_equal(r->append->update->seq, 1);
	assert_string_equal(r->append->update->author_name, "Ada");
	assert_memory_equal(r->append->update->data.data, "first", 5);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	notes_writer_get_stats(F.writer, &after);
	assert_int_equal(after.duplicates, before.duplicates + 1);
	assert_int_equal(after.stored, before.stored);
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_NOTES), 1);
	// The id is per (meeting, document).
	assert_int_equal(append_ok(other, NOTES_TEST_NOTES, "same", "elsewhere", false), 1);
	assert_int_equal(append_ok(m, NOTES_TEST_CODE, "same", "other document", false), 1);
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "next", "next", false), 2);
}

static void limits(void **state)
{
	char m[HD_ID_LEN + 1];
	static uint8_t big[HD_DOC_UPDATE_MAX + 1];
	static uint8_t aware[NOTES_AWARENESS_MAX + 1];
	new_meeting(m);
	memset(big, 'x', sizeof(big));
	memset(aware, 'a', sizeof(aware));
	// Up to the limits is fine.
	Huddle__V1__NotesReply *r = notes_test_append(F.client, m, NOTES_TEST_NOTES, "max", big, HD_DOC_UPDATE_MAX);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_int_equal(r->append->update->data.len, HD_DOC_UPDATE_MAX);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	r = notes_test_awareness(F.client, m, NOTES_TEST_NOTES, "conn-1", aware, NOTES_AWARENESS_MAX);
	assert_int_equal(notes_test_code(r), HD_OK);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	// One byte over: TOO_LARGE, naming the field and the limit.
	expect_error(notes_test_append(F.client, m, NOTES_TEST_NOTES, "over", big, HD_DOC_UPDATE_MAX + 1), HD_ETOOLARGE,
		     "data", num(HD_DOC_UPDATE_MAX), NULL);
	expect_error(notes_test_awareness(F.client, m, NOTES_TEST_NOTES, "conn-1", aware, NOTES_AWARENESS_MAX + 1),
		     HD_ETOOLARGE, "data", num(NOTES_AWARENESS_MAX), NULL);
	static char long_id[HD_CHAT_CLIENT_ID_MAX + 2];
	memset(long_id, 'i', HD_CHAT_CLIENT_ID_MAX + 1);
	expect_error(notes_test_append(F.client, m, NOTES_TEST_NOTES, long_id, "x", 1), HD_ETOOLARGE,
		     "client_update_id", num(HD_CHAT_CLIENT_ID_MAX), NULL);
	long_id[HD_CHAT_CLIENT_ID_MAX] = '\0';
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, long_id, "x", false), 2);
	static char origin[NOTES_ORIGIN_MAX + 2];
	memset(origin, 'o', NOTES_ORIGIN_MAX + 1);
	expect_error(notes_test_awareness(F.client, m, NOTES_TEST_NOTES, origin, "a", 1), HD_ETOOLARGE, "origin",
		     num(NOTES_ORIGIN_MAX), NULL);
	expect_error(notes_test_open(F.client, m, NOTES_TEST_NOTES, 0, HD_DOC_PAGE_MAX + 1), HD_EBADREQUEST, "limit",
		     num(HD_DOC_PAGE_MAX), NULL);
	static char lang[HD_DOC_LANGUAGE_MAX + 2];
	memset(lang, 'c', HD_DOC_LANGUAGE_MAX + 1);
	assert_int_equal(append_ok(m, NOTES_TEST_CODE, "c1", "code", false), 1);
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_CODE, 1, "s", 1, "code", lang), HD_ETOOLARGE,
		     "language", num(HD_DOC_LANGUAGE_MAX), NULL);
	lang[HD_DOC_LANGUAGE_MAX] = '\0';
	r = notes_test_snapshot(F.client, m, NOTES_TEST_CODE, 1, "s", 1, "code", lang);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_string_equal(r->snapshot->version->language, lang);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	// A state over HD_DOC_STATE_MAX.
	uint8_t *big_state = calloc(1, HD_DOC_STATE_MAX + 1);
	assert_non_null(big_state);
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 1, big_state, HD_DOC_STATE_MAX + 1, "", ""),
		     HD_ETOOLARGE, "state", num(HD_DOC_STATE_MAX), NULL);
	free(big_state);
	// Nothing of the refused ones was stored.
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_NOTES), 2);
}

static void validation_errors(void **state)
{
	char m[HD_ID_LEN + 1], long_name[HD_CHAT_NAME_MAX + 2];
	new_meeting(m);
	memset(long_name, 'n', HD_CHAT_NAME_MAX + 1);
	long_name[HD_CHAT_NAME_MAX + 1] = '\0';

	expect_error(notes_test_append(F.client, m, NOTES_TEST_NOTES, "e1", "", 0), HD_EBADREQUEST, "data", NULL);
	expect_error(notes_test_append(F.client, m, NOTES_TEST_NOTES, "", "x", 1), HD_EBADREQUEST, "client_update_id",
		     NULL);
	expect_error(notes_test_append(F.client, m, NOTES_TEST_NOTES, "a b", "x", 1), HD_EBADREQUEST,
		     "client_update_id", NULL);
	expect_error(notes_test_append(F.client, m, HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_UNSPECIFIED, "e2", "x", 1),
		     HD_EBADREQUEST, "document", NULL);
	expect_error(notes_test_append(F.client, m, (Huddle__V1__DocumentKind)7, "e3", "x", 1), HD_EBADREQUEST,
		     "document", NULL);
	expect_error(notes_test_append(F.client, "short", NOTES_TEST_NOTES, "e4", "x", 1), HD_EBADREQUEST, "meeting_id",
		     num(HD_ID_LEN), NULL);

	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAppendRequest body = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
	Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
	req.append = &body;
	expect_error(notes_test_call(F.client, &req), HD_EBADREQUEST, "update", NULL);
	body.update = &u;
	u.meeting_id = m;
	u.document = NOTES_TEST_NOTES;
	u.client_update_id = "e5";
	u.data.data = (uint8_t *)"x";
	u.data.len = 1;
	u.author_id = "not-a-participant";
	expect_error(notes_test_call(F.client, &req), HD_EBADREQUEST, "author_id", NULL);
	u.author_id = "";
	u.author_name = long_name;
	expect_error(notes_test_call(F.client, &req), HD_ETOOLARGE, "author_name", num(HD_CHAT_NAME_MAX), NULL);
	u.author_name = "\xff";
	expect_error(notes_test_call(F.client, &req), HD_EBADREQUEST, "author_name", "UTF-8", NULL);
	u.author_name = ""; // may be empty
	Huddle__V1__NotesReply *r = notes_test_call(F.client, &req);
	assert_int_equal(notes_test_code(r), HD_OK);
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	expect_error(notes_test_open(F.client, m, NOTES_TEST_NOTES, -1, 0), HD_EBADREQUEST, "after_seq", NULL);
	expect_error(notes_test_open(F.client, "nope", NOTES_TEST_NOTES, 0, 0), HD_EBADREQUEST, "meeting_id", NULL);
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 0, "s", 1, "", ""), HD_EBADREQUEST, "seq",
		     NULL);
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 1, "", 0, "", ""), HD_EBADREQUEST, "state",
		     NULL);
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 1, "s", 1, "bad \xc0\xaf", ""), HD_EBADREQUEST,
		     "text", "UTF-8", NULL);
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 1, "s", 1, "", "c"), HD_EBADREQUEST, "language",
		     "notes", NULL);
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_CODE, 1, "s", 1, "", "C++"), HD_EBADREQUEST,
		     "language", NULL);
	// Above the document's last seq (1): the store refuses it.
	expect_error(notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 2, "s", 1, "", ""), HD_EBADREQUEST, "seq",
		     NULL);
	expect_error(notes_test_version(F.client, m, NOTES_TEST_NOTES, -1), HD_EBADREQUEST, "version", NULL);
	expect_error(notes_test_version(F.client, m, NOTES_TEST_NOTES, 3), HD_EBADREQUEST, "version 3",
		     num(HD_DOC_VERSIONS_KEPT), NULL);
	expect_error(notes_test_versions(F.client, m, HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_UNSPECIFIED),
		     HD_EBADREQUEST, "document", NULL);
	expect_error(notes_test_awareness(F.client, m, NOTES_TEST_NOTES, "c", "", 0), HD_EBADREQUEST, "data", NULL);
	Huddle__V1__NotesServiceAwarenessRequest aw = HUDDLE__V1__NOTES_SERVICE_AWARENESS_REQUEST__INIT;
	Huddle__V1__NotesRequest areq = HUDDLE__V1__NOTES_REQUEST__INIT;
	areq.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_AWARENESS;
	areq.awareness = &aw;
	expect_error(notes_test_call(F.client, &areq), HD_EBADREQUEST, "awareness", NULL);

	// A request without a body, and bytes that are no NotesRequest.
	Huddle__V1__NotesRequest empty = HUDDLE__V1__NOTES_REQUEST__INIT;
	expect_error(notes_test_call(F.client, &empty), HD_EUNKNOWNTYPE, "body", NULL);
	nng_msg *msg, *rep;
	assert_int_equal(nng_msg_alloc(&msg, 3), 0);
	memcpy(nng_msg_body(msg), "\xff\xff\xff", 3);
	assert_int_equal(hd_rpc_call(F.client, msg, NOTES_TEST_CALL_MS, &rep), HD_OK);
	r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	assert_int_equal(r->request_id, 0);
	expect_error(r, HD_EMALFORMED, "NotesRequest", NULL);

	// Only the one good append was stored and published.
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_NOTES), 1);
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_CODE), 0);
	assert_int_equal(hd_test_events_wait(&F.events, m, 1, EVENT_MS), 1);
}

// expect_updates checks that an open reply holds updates first..last
// ("u<seq>" each), more and last_seq.
static void expect_updates(const Huddle__V1__NotesServiceOpenReply *o, int64_t first, int64_t last, bool more,
			   int64_t last_seq)
{
	size_t want = last >= first ? (size_t)(last - first + 1) : 0;
	if (o->n_updates != want || o->more != more || o->last_seq != last_seq)
		fail_msg("%zu updates (want %zu), more %d (want %d), last_seq %lld (want %lld)", o->n_updates, want,
			 o->more, more, (long long)o->last_seq, (long long)last_seq);
	for (size_t i = 0; i < o->n_updates; i++) {
		char text[32];
		int64_t seq = first + (int64_t)i;
		snprintf(text, sizeof(text), "u%lld", (long long)seq);
		assert_int_equal(o->updates[i]->seq, seq);
		assert_int_equal(o->updates[i]->data.len, strlen(text));
		assert_memory_equal(o->updates[i]->data.data, text, strlen(text));
	}
}

// append_n appends "u<seq>" for seqs first..last to the notes document.
static void append_n(const char *m, int64_t first, int64_t last)
{
	for (int64_t s = first; s <= last; s++) {
		char id[32];
		snprintf(id, sizeof(id), "u%lld", (long long)s);
		assert_int_equal(append_ok(m, NOTES_TEST_NOTES, id, id, false), s);
	}
}

static void open_snapshot_then_updates(void **state)
{
	char m[HD_ID_LEN + 1];
	new_meeting(m);
	// Nothing yet: no snapshot, no updates.
	Huddle__V1__NotesReply *r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 0, 0);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_null(r->open->snapshot);
	expect_updates(r->open, 1, 0, false, 0);
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	append_n(m, 1, 5);
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 0, 0);
	assert_null(r->open->snapshot);
	expect_updates(r->open, 1, 5, false, 5);
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	r = notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 3, "state-3", 7, "# Notes\nthree", "");
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_true(r->snapshot->stored);
	assert_int_equal(r->snapshot->version->version, 1);
	assert_int_equal(r->snapshot->version->seq, 3);
	assert_int_equal(r->snapshot->version->text_bytes, 13);
	assert_string_equal(r->snapshot->version->author_name, "Ada");
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	append_n(m, 6, 7);

	// The newest snapshot, then the updates after it.
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 0, 0);
	assert_int_equal(notes_test_code(r), HD_OK);
	const Huddle__V1__NotesSnapshot *s = r->open->snapshot;
	assert_non_null(s);
	assert_int_equal(s->version->version, 1);
	assert_int_equal(s->version->seq, 3);
	assert_int_equal(s->state.len, 7);
	assert_memory_equal(s->state.data, "state-3", 7);
	assert_string_equal(s->text, "# Notes\nthree");
	expect_updates(r->open, 4, 7, false, 7);
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	// Catching up: the updates after after_seq only.
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 5, 0);
	assert_null(r->open->snapshot);
	expect_updates(r->open, 6, 7, false, 7);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 7, 0);
	expect_updates(r->open, 1, 0, false, 7);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	// Catching up from inside what the snapshot dropped: the snapshot too.
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 2, 0);
	assert_non_null(r->open->snapshot);
	assert_int_equal(r->open->snapshot->version->seq, 3);
	expect_updates(r->open, 4, 7, false, 7);
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	// Pages.
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 0, 2);
	assert_non_null(r->open->snapshot);
	expect_updates(r->open, 4, 5, true, 7);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 5, 2);
	expect_updates(r->open, 6, 7, false, 7);
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	// A snapshot at or below the newest adds nothing and names the newest.
	r = notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 2, "older", 5, "", "");
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_false(r->snapshot->stored);
	assert_int_equal(r->snapshot->version->version, 1);
	assert_int_equal(r->snapshot->version->seq, 3);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	// One covering everything: nothing after it.
	r = notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 7, "state-7", 7, "all", "");
	assert_true(r->snapshot->stored);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 0, 0);
	assert_int_equal(r->open->snapshot->version->version, 2);
	expect_updates(r->open, 1, 0, false, 7);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	// Numbering goes on after the snapshot.
	append_n(m, 8, 8);
	r = notes_test_open(F.client, m, NOTES_TEST_NOTES, 0, 0);
	expect_updates(r->open, 8, 8, false, 8);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
}

// open_fits_one_reply: updates of HD_DOC_UPDATE_MAX bytes fill a reply long
// before the page limit; the reply stops where the next would not fit.
static void open_fits_one_reply(void **state)
{
	enum { N = 24 }; // 6 MiB of updates
	char m[HD_ID_LEN + 1];
	uint8_t *data = malloc(HD_DOC_UPDATE_MAX);
	assert_non_null(data);
	new_meeting(m);
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "big%d", i);
		memset(data, 'a' + i, HD_DOC_UPDATE_MAX);
		Huddle__V1__NotesReply *r =
			notes_test_append(F.client, m, NOTES_TEST_NOTES, id, data, HD_DOC_UPDATE_MAX);
		assert_int_equal(notes_test_code(r), HD_OK);
		huddle__v1__notes_reply__free_unpacked(r, NULL);
	}
	free(data);
	int64_t after = 0;
	int replies = 0;
	bool more = true;
	while (more) {
		Huddle__V1__NotesReply *r = notes_test_open(F.client, m, NOTES_TEST_NOTES, after, 0);
		assert_int_equal(notes_test_code(r), HD_OK);
		const Huddle__V1__NotesServiceOpenReply *o = r->open;
		assert_true(o->n_updates > 0);
		assert_true(huddle__v1__notes_reply__get_packed_size(r) <= HD_RPC_MSG_MAX);
		for (size_t i = 0; i < o->n_updates; i++) {
			assert_int_equal(o->updates[i]->seq, after + 1);
			assert_int_equal(o->updates[i]->data.len, HD_DOC_UPDATE_MAX);
			assert_int_equal(o->updates[i]->data.data[0], 'a' + (int)after);
			after++;
		}
		more = o->more;
		assert_int_equal(o->last_seq, N);
		huddle__v1__notes_reply__free_unpacked(r, NULL);
		replies++;
	}
	assert_int_equal(after, N);
	assert_true(replies >= 2);
}

static void versions(void **state)
{
	char m[HD_ID_LEN + 1];
	new_meeting(m);
	// One more snapshot than are kept.
	for (int v = 1; v <= HD_DOC_VERSIONS_KEPT + 1; v++) {
		char id[16], text[32];
		snprintf(id, sizeof(id), "v%d", v);
		snprintf(text, sizeof(text), "text of version %d", v);
		assert_int_equal(append_ok(m, NOTES_TEST_CODE, id, id, false), v);
		Huddle__V1__NotesReply *r = notes_test_snapshot(F.client, m, NOTES_TEST_CODE, v, id, strlen(id), text,
								v % 2 ? "python" : "c++");
		assert_int_equal(notes_test_code(r), HD_OK);
		assert_true(r->snapshot->stored);
		assert_int_equal(r->snapshot->version->version, v);
		huddle__v1__notes_reply__free_unpacked(r, NULL);
	}
	Huddle__V1__NotesReply *r = notes_test_versions(F.client, m, NOTES_TEST_CODE);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_int_equal(r->versions->n_versions, HD_DOC_VERSIONS_KEPT);
	for (size_t i = 0; i < r->versions->n_versions; i++) { // newest first
		const Huddle__V1__NotesVersion *v = r->versions->versions[i];
		int64_t want = HD_DOC_VERSIONS_KEPT + 1 - (int64_t)i;
		assert_int_equal(v->version, want);
		assert_int_equal(v->seq, want);
		assert_string_equal(v->language, want % 2 ? "python" : "c++");
		assert_true(v->created_at_ms > 0);
	}
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	// The notes document has none.
	r = notes_test_versions(F.client, m, NOTES_TEST_NOTES);
	assert_int_equal(r->versions->n_versions, 0);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	r = notes_test_version(F.client, m, NOTES_TEST_NOTES, 0);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_null(r->version->snapshot);
	huddle__v1__notes_reply__free_unpacked(r, NULL);

	// One version, the newest, and one that was dropped.
	r = notes_test_version(F.client, m, NOTES_TEST_CODE, 5);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_int_equal(r->version->snapshot->version->version, 5);
	assert_memory_equal(r->version->snapshot->state.data, "v5", 2);
	assert_string_equal(r->version->snapshot->text, "text of version 5");
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	r = notes_test_version(F.client, m, NOTES_TEST_CODE, 0);
	assert_int_equal(r->version->snapshot->version->version, HD_DOC_VERSIONS_KEPT + 1);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	expect_error(notes_test_version(F.client, m, NOTES_TEST_CODE, 1), HD_EBADREQUEST, "version 1", NULL);

	// Each stored version was published once.
	assert_int_equal(hd_test_events_wait(&F.events, m, 2 * (HD_DOC_VERSIONS_KEPT + 1), EVENT_MS),
			 2 * (HD_DOC_VERSIONS_KEPT + 1));
	const Huddle__V1__NotesEvent *ev[HD_DOC_VERSIONS_KEPT + 2];
	assert_int_equal(notes_test_events_of(&F.events, m, HUDDLE__V1__NOTES_EVENT__BODY_SNAPSHOT, ev,
					      HD_DOC_VERSIONS_KEPT + 2),
			 HD_DOC_VERSIONS_KEPT + 1);
	for (int i = 0; i < HD_DOC_VERSIONS_KEPT + 1; i++) {
		assert_int_equal(ev[i]->document, NOTES_TEST_CODE);
		assert_int_equal(ev[i]->snapshot->version, i + 1);
	}
}

static void awareness_published_not_stored(void **state)
{
	char m[HD_ID_LEN + 1];
	struct notes_writer_stats before, after;
	static const uint8_t cursor[] = {0x01, 0x02, 0x00, 0x03};
	new_meeting(m);
	notes_writer_get_stats(F.writer, &before);
	Huddle__V1__NotesReply *r =
		notes_test_awareness(F.client, m, NOTES_TEST_CODE, "gw-1/session-7", cursor, sizeof(cursor));
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_int_equal(r->body_case, HUDDLE__V1__NOTES_REPLY__BODY_AWARENESS);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	assert_int_equal(hd_test_events_wait(&F.events, m, 1, EVENT_MS), 1);
	const Huddle__V1__NotesEvent *ev;
	assert_int_equal(notes_test_events_of(&F.events, m, HUDDLE__V1__NOTES_EVENT__BODY_AWARENESS, &ev, 1), 1);
	assert_int_equal(ev->document, NOTES_TEST_CODE);
	assert_string_equal(ev->awareness->meeting_id, m);
	assert_string_equal(ev->awareness->origin, "gw-1/session-7");
	assert_int_equal(ev->awareness->data.len, sizeof(cursor));
	assert_memory_equal(ev->awareness->data.data, cursor, sizeof(cursor));
	// Nothing stored, nothing went through the writer.
	notes_writer_get_stats(F.writer, &after);
	assert_int_equal(after.appends, before.appends);
	assert_int_equal(after.snapshots, before.snapshots);
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_CODE), 0);
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_NOTES), 0);
	r = notes_test_versions(F.client, m, NOTES_TEST_CODE);
	assert_int_equal(r->versions->n_versions, 0);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
}

static void events_in_seq_order(void **state)
{
	char m[HD_ID_LEN + 1], unsubscribed[HD_ID_LEN + 1];
	int64_t seqs[8];
	new_meeting(m);
	assert_int_equal(hd_id_random(unsubscribed), HD_OK);
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "a", "one", false), 1);
	assert_int_equal(append_ok(unsubscribed, NOTES_TEST_NOTES, "a", "elsewhere", false), 1);
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "b", "two", false), 2);
	assert_int_equal(append_ok(m, NOTES_TEST_CODE, "a", "code", false), 1);
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "c", "three", false), 3);
	assert_int_equal(hd_test_events_wait(&F.events, m, 4, EVENT_MS), 4);
	// A duplicate is published again (a gateway that missed it catches up).
	assert_int_equal(append_ok(m, NOTES_TEST_NOTES, "b", "two", true), 2);
	// A new version comes after the updates it covers.
	Huddle__V1__NotesReply *r = notes_test_snapshot(F.client, m, NOTES_TEST_NOTES, 3, "s3", 2, "one two three", "");
	assert_true(r->snapshot->stored);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	assert_int_equal(hd_test_events_wait(&F.events, m, 6, EVENT_MS), 6);

	assert_int_equal(notes_test_update_seqs(&F.events, m, NOTES_TEST_NOTES, seqs, 8), 4);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[1], 2);
	assert_int_equal(seqs[2], 3);
	assert_int_equal(seqs[3], 2);
	assert_int_equal(notes_test_update_seqs(&F.events, m, NOTES_TEST_CODE, seqs, 8), 1);
	const Huddle__V1__NotesEvent *ev[8];
	assert_int_equal(notes_test_events_of(&F.events, m, 0, ev, 8), 6);
	const Huddle__V1__NotesUpdate *dup = ev[4]->update;
	assert_int_equal(ev[4]->body_case, HUDDLE__V1__NOTES_EVENT__BODY_UPDATE);
	assert_string_equal(dup->client_update_id, "b");
	assert_string_equal(dup->author_name, "Ada");
	assert_memory_equal(dup->data.data, "two", 3);
	assert_true(dup->stored_at_ms > 0);
	assert_int_equal(ev[5]->body_case, HUDDLE__V1__NOTES_EVENT__BODY_SNAPSHOT);
	assert_int_equal(ev[5]->document, NOTES_TEST_NOTES);
	assert_int_equal(ev[5]->snapshot->version, 1);
	assert_int_equal(ev[5]->snapshot->seq, 3);
	assert_int_equal(ev[5]->snapshot->text_bytes, 13);
	assert_int_equal(hd_test_events_count(&F.events, unsubscribed), 0);
	assert_int_equal(F.events.undecodable, 0);
}

#define APPENDERS 32
#define PER_APPENDER 8

struct appender {
	pthread_t thread;
	int index;
	const char *meeting;
	int64_t seqs[PER_APPENDER];
	int failures;
};

// appender_main appends PER_APPENDER updates through its own REQ socket,
// each call blocking until acknowledged.
static void *appender_main(void *p)
{
	struct appender *a = p;
	struct hd_rpc_client *c;
	if (hd_rpc_client_open(&c, F.url) != HD_OK) {
		a->failures = PER_APPENDER;
		return NULL;
	}
	for (int i = 0; i < PER_APPENDER; i++) {
		char id[32];
		Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
		Huddle__V1__NotesServiceAppendRequest body = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
		Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
		nng_msg *msg, *rep;
		snprintf(id, sizeof(id), "a%d-%d", a->index, i);
		u.meeting_id = (char *)a->meeting;
		u.document = NOTES_TEST_NOTES;
		u.client_update_id = id;
		u.data.data = (uint8_t *)id;
		u.data.len = strlen(id);
		body.update = &u;
		req.request_id = (uint64_t)a->index * 1000 + (uint64_t)i + 1;
		req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
		req.append = &body;
		a->seqs[i] = -1;
		if (hd_msg_pack(&req.base, &msg) != HD_OK || hd_rpc_call(c, msg, NOTES_TEST_CALL_MS, &rep) != HD_OK) {
			a->failures++;
			continue;
		}
		Huddle__V1__NotesReply *r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
		nng_msg_free(rep);
		if (r != NULL && r->body_case == HUDDLE__V1__NOTES_REPLY__BODY_APPEND && !r->append->duplicate)
			a->seqs[i] = r->append->update->seq;
		else
			a->failures++;
		huddle__v1__notes_reply__free_unpacked(r, NULL);
	}
	hd_rpc_client_close(c);
	return NULL;
}

static void concurrent_appenders_batched(void **state)
{
	enum { N = APPENDERS * PER_APPENDER };
	static struct appender appenders[APPENDERS];
	static int seen[N + 1];
	static int64_t events[N + 16];
	char m[HD_ID_LEN + 1];
	struct notes_writer_stats before, after;
	new_meeting(m);
	memset(seen, 0, sizeof(seen));
	notes_writer_get_stats(F.writer, &before);
	for (int i = 0; i < APPENDERS; i++) {
		appenders[i] = (struct appender){.index = i, .meeting = m};
		assert_int_equal(pthread_create(&appenders[i].thread, NULL, appender_main, &appenders[i]), 0);
	}
	for (int i = 0; i < APPENDERS; i++)
		pthread_join(appenders[i].thread, NULL);
	notes_writer_get_stats(F.writer, &after);

	// Every acknowledged append has its own seq, and together they are 1..N.
	for (int i = 0; i < APPENDERS; i++) {
		assert_int_equal(appenders[i].failures, 0);
		for (int j = 0; j < PER_APPENDER; j++) {
			int64_t s = appenders[i].seqs[j];
			assert_true(s >= 1 && s <= N);
			assert_int_equal(seen[s]++, 0);
			// One appender's updates are stored in the order it made them.
			if (j > 0)
				assert_true(s > appenders[i].seqs[j - 1]);
		}
	}
	assert_int_equal(notes_test_last_seq(F.client, m, NOTES_TEST_NOTES), N);
	uint64_t batches = after.batches - before.batches, appends = after.appends - before.appends;
	assert_int_equal(appends, N);
	assert_int_equal(after.stored - before.stored, N);
	if (batches >= appends)
		fail_msg("%llu appends took %llu batches: no group commit", (unsigned long long)appends,
			 (unsigned long long)batches);
	assert_true(after.max_batch > 1 && after.max_batch <= WORKERS);
	print_message("%d appends from %d appenders in %llu batches (largest %llu)\n", N, APPENDERS,
		      (unsigned long long)batches, (unsigned long long)after.max_batch);

	// The events came once each, in seq order.
	assert_int_equal(hd_test_events_wait(&F.events, m, N, EVENT_MS), N);
	assert_int_equal(notes_test_update_seqs(&F.events, m, NOTES_TEST_NOTES, events, N + 16), N);
	for (int i = 0; i < N; i++)
		assert_int_equal(events[i], i + 1);
}

static void health(void **state)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesHealthRequest body = HUDDLE__V1__NOTES_HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_HEALTH;
	req.health = &body;
	Huddle__V1__NotesReply *r = notes_test_call(F.client, &req);
	assert_int_equal(notes_test_code(r), HD_OK);
	assert_int_equal(r->body_case, HUDDLE__V1__NOTES_REPLY__BODY_HEALTH);
	huddle__v1__notes_reply__free_unpacked(r, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(append_assigns_seqs, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_stores_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(limits, setup, teardown),
		cmocka_unit_test_setup_teardown(validation_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(open_snapshot_then_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(open_fits_one_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(versions, setup, teardown),
		cmocka_unit_test_setup_teardown(awareness_published_not_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(events_in_seq_order, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_appenders_batched, setup, teardown),
		cmocka_unit_test_setup_teardown(health, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
