// store_conformance_access.c: the conformance cases of hosts and access
// (issue 11): meetings' access mode, start time, host key hash and space;
// spaces; and, SQLite only, a file from before these fields.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hostkey.h"
#include "common/store.h"
#include "store_conformance.h"

static void new_id(char id[HD_ID_LEN + 1])
{
	assert_int_equal(hd_id_random(id), HD_OK);
}

// new_hash sets hash to the hash of a fresh key.
static void new_hash(char hash[HD_KEY_HASH_LEN + 1])
{
	char key[HD_KEY_LEN + 1];
	assert_int_equal(hd_key_new(key, hash), HD_OK);
}

static void meeting_init(struct hd_meeting *m, const char *title)
{
	memset(m, 0, sizeof(*m));
	new_id(m->id);
	m->created_at_ms = 1700000000000;
	snprintf(m->title, sizeof(m->title), "%s", title);
	m->access_mode = HD_ACCESS_OPEN;
}

void access_meeting_fields(void **state)
{
	(void)state;
	struct hd_store *s = conformance_open_store();
	struct hd_meeting m, got;
	meeting_init(&m, "Consultation");
	m.access_mode = HD_ACCESS_TOKEN_ONLY;
	m.starts_at_ms = 1800000000123;
	new_hash(m.host_key_hash);
	assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
	memset(&got, 0x55, sizeof(got));
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_string_equal(got.id, m.id);
	assert_string_equal(got.title, "Consultation");
	assert_int_equal(got.access_mode, HD_ACCESS_TOKEN_ONLY);
	assert_int_equal(got.starts_at_ms, 1800000000123);
	assert_string_equal(got.host_key_hash, m.host_key_hash);
	assert_string_equal(got.space_id, "");

	// access_mode 0 (a caller from before modes) is stored as OPEN
	struct hd_meeting zero;
	meeting_init(&zero, "");
	zero.access_mode = 0;
	assert_int_equal(hd_meeting_insert(s, &zero), HD_OK);
	assert_int_equal(hd_meeting_get(s, zero.id, &got), HD_OK);
	assert_int_equal(got.access_mode, HD_ACCESS_OPEN);
	assert_int_equal(got.starts_at_ms, 0);
	assert_string_equal(got.host_key_hash, "");

	// invalid fields store nothing
	struct hd_meeting bad = m;
	new_id(bad.id);
	bad.access_mode = 5;
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	bad.access_mode = -1;
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	bad = m;
	new_id(bad.id);
	bad.starts_at_ms = -1;
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	bad = m;
	new_id(bad.id);
	bad.host_key_hash[10] = '\0'; // short
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	bad = m;
	new_id(bad.id);
	bad.host_key_hash[0] = 'G'; // not lower-case hex
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	bad = m;
	new_id(bad.id);
	snprintf(bad.space_id, sizeof(bad.space_id), "not an id");
	bad.host_key_hash[0] = '\0';
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	bad = m;
	new_id(bad.id);
	new_id(bad.space_id); // a meeting of a space has no key of its own
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	assert_int_equal(hd_meeting_get(s, bad.id, &got), HD_EUNKNOWNMEETING);
	hd_store_close(s);
}

void access_set_mode(void **state)
{
	(void)state;
	struct hd_store *s = conformance_open_store();
	struct hd_meeting m, got;
	meeting_init(&m, "Class");
	new_hash(m.host_key_hash);
	assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
	for (int mode = HD_ACCESS_OPEN; mode <= HD_ACCESS_TOKEN_ONLY; mode++) {
		assert_int_equal(hd_meeting_set_access(s, m.id, mode), HD_OK);
		assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
		assert_int_equal(got.access_mode, mode);
		assert_string_equal(got.host_key_hash, m.host_key_hash); // nothing else changes
		assert_string_equal(got.title, "Class");
	}
	assert_int_equal(hd_meeting_set_access(s, m.id, HD_ACCESS_LOCKED), HD_OK);
	assert_int_equal(hd_meeting_set_access(s, m.id, HD_ACCESS_LOCKED), HD_OK); // again: harmless
	// a bad mode changes nothing
	assert_int_equal(hd_meeting_set_access(s, m.id, 0), HD_EBADREQUEST);
	assert_int_equal(hd_meeting_set_access(s, m.id, 5), HD_EBADREQUEST);
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_int_equal(got.access_mode, HD_ACCESS_LOCKED);
	// unknown meetings
	char unknown[HD_ID_LEN + 1];
	new_id(unknown);
	assert_int_equal(hd_meeting_set_access(s, unknown, HD_ACCESS_OPEN), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_meeting_set_access(s, "x'; --", HD_ACCESS_OPEN), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_meeting_get(s, unknown, &got), HD_EUNKNOWNMEETING);
	hd_store_close(s);

	s = conformance_open_store(); // reopen keeps it
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_int_equal(got.access_mode, HD_ACCESS_LOCKED);
	hd_store_close(s);
}

static void space_init(struct hd_space *sp, const char *title)
{
	memset(sp, 0, sizeof(*sp));
	new_id(sp->id);
	sp->created_at_ms = 1700000000456;
	snprintf(sp->title, sizeof(sp->title), "%s", title);
	new_hash(sp->key_hash);
}

void access_spaces(void **state)
{
	(void)state;
	struct hd_store *s = conformance_open_store();
	struct hd_space sp, got;
	space_init(&sp, "Dr. Müller's practice");
	assert_int_equal(hd_space_insert(s, &sp), HD_OK);
	memset(&got, 0x55, sizeof(got));
	assert_int_equal(hd_space_by_key_hash(s, sp.key_hash, &got), HD_OK);
	assert_string_equal(got.id, sp.id);
	assert_string_equal(got.title, "Dr. Müller's practice");
	assert_string_equal(got.key_hash, sp.key_hash);
	assert_int_equal(got.created_at_ms, 1700000000456);
	memset(&got, 0x55, sizeof(got));
	assert_int_equal(hd_space_get(s, sp.id, &got), HD_OK);
	assert_string_equal(got.key_hash, sp.key_hash);
	assert_string_equal(got.title, sp.title);

	// the same id, or the same key hash, is refused
	struct hd_space dup = sp;
	new_hash(dup.key_hash);
	assert_int_equal(hd_space_insert(s, &dup), HD_EBADREQUEST);
	dup = sp;
	new_id(dup.id);
	assert_int_equal(hd_space_insert(s, &dup), HD_EBADREQUEST);
	assert_int_equal(hd_space_get(s, dup.id, &got), HD_EFORBIDDEN);

	// invalid fields
	struct hd_space bad;
	space_init(&bad, "x");
	bad.key_hash[0] = '\0';
	assert_int_equal(hd_space_insert(s, &bad), HD_EBADREQUEST);
	space_init(&bad, "x");
	bad.key_hash[63] = '\0';
	assert_int_equal(hd_space_insert(s, &bad), HD_EBADREQUEST);
	space_init(&bad, "\xff");
	assert_int_equal(hd_space_insert(s, &bad), HD_EBADREQUEST);
	space_init(&bad, "x");
	snprintf(bad.id, sizeof(bad.id), "short");
	assert_int_equal(hd_space_insert(s, &bad), HD_EBADREQUEST);

	// unknown keys and ids: FORBIDDEN
	char other[HD_KEY_HASH_LEN + 1];
	new_hash(other);
	assert_int_equal(hd_space_by_key_hash(s, other, &got), HD_EFORBIDDEN);
	assert_int_equal(hd_space_by_key_hash(s, "", &got), HD_EFORBIDDEN);
	assert_int_equal(hd_space_by_key_hash(s, "' OR 1=1 --", &got), HD_EFORBIDDEN);
	char unknown[HD_ID_LEN + 1];
	new_id(unknown);
	assert_int_equal(hd_space_get(s, unknown, &got), HD_EFORBIDDEN);
	assert_int_equal(hd_space_get(s, "", &got), HD_EFORBIDDEN);
	hd_store_close(s);

	s = conformance_open_store(); // reopen keeps it
	assert_int_equal(hd_space_by_key_hash(s, sp.key_hash, &got), HD_OK);
	assert_string_equal(got.id, sp.id);
	hd_store_close(s);
}

void access_space_meetings(void **state)
{
	(void)state;
	struct hd_store *s = conformance_open_store();
	struct hd_space sp, other;
	space_init(&sp, "Space");
	space_init(&other, "Other");
	assert_int_equal(hd_space_insert(s, &sp), HD_OK);
	assert_int_equal(hd_space_insert(s, &other), HD_OK);
	struct hd_meeting *out = calloc(HD_SPACE_MEETINGS_MAX, sizeof(*out));
	assert_non_null(out);
	size_t n = 99;
	assert_int_equal(hd_space_meetings(s, sp.id, out, &n), HD_OK);
	assert_int_equal(n, 0);

	// Inserted out of order: starts 300, 100, 200, 100 (created later), 0;
	// and one of the other space, one of none.
	const int64_t starts[] = {300, 100, 200, 100, 0};
	const int64_t created[] = {1, 2, 3, 4, 5};
	char ids[5][HD_ID_LEN + 1];
	for (int i = 0; i < 5; i++) {
		struct hd_meeting m;
		meeting_init(&m, "m");
		snprintf(m.title, sizeof(m.title), "m%d", i);
		snprintf(m.space_id, sizeof(m.space_id), "%s", sp.id);
		m.starts_at_ms = starts[i];
		m.created_at_ms = created[i];
		m.access_mode = HD_ACCESS_WAITING_ROOM;
		assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
		snprintf(ids[i], sizeof(ids[i]), "%s", m.id);
	}
	struct hd_meeting m;
	meeting_init(&m, "elsewhere");
	snprintf(m.space_id, sizeof(m.space_id), "%s", other.id);
	assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
	meeting_init(&m, "none");
	assert_int_equal(hd_meeting_insert(s, &m), HD_OK);

	assert_int_equal(hd_space_meetings(s, sp.id, out, &n), HD_OK);
	assert_int_equal(n, 5);
	const int order[] = {4, 1, 3, 2, 0};
	for (int i = 0; i < 5; i++) {
		assert_string_equal(out[i].id, ids[order[i]]);
		assert_string_equal(out[i].space_id, sp.id);
		assert_int_equal(out[i].access_mode, HD_ACCESS_WAITING_ROOM);
		assert_string_equal(out[i].host_key_hash, "");
	}
	assert_int_equal(hd_space_meetings(s, other.id, out, &n), HD_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].title, "elsewhere");
	char unknown[HD_ID_LEN + 1];
	new_id(unknown);
	assert_int_equal(hd_space_meetings(s, unknown, out, &n), HD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(hd_space_meetings(s, "", out, &n), HD_OK);
	assert_int_equal(n, 0);

	// the limit: HD_SPACE_MEETINGS_MAX + 3 meetings, the first MAX by start
	struct hd_space big;
	space_init(&big, "Big");
	assert_int_equal(hd_space_insert(s, &big), HD_OK);
	for (int i = 0; i < HD_SPACE_MEETINGS_MAX + 3; i++) {
		meeting_init(&m, "");
		snprintf(m.space_id, sizeof(m.space_id), "%s", big.id);
		m.starts_at_ms = 10000 - i; // inserted latest-start first
		assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
	}
	assert_int_equal(hd_space_meetings(s, big.id, out, &n), HD_OK);
	assert_int_equal(n, HD_SPACE_MEETINGS_MAX);
	assert_int_equal(out[0].starts_at_ms, 10000 - (HD_SPACE_MEETINGS_MAX + 2));
	for (size_t i = 1; i < n; i++)
		assert_int_equal(out[i].starts_at_ms, out[i - 1].starts_at_ms + 1);
	free(out);
	hd_store_close(s);
}

// sqlite_access_old_file: a file whose meetings table is the first one (id,
// created_at_ms, title) opens, its meetings read as OPEN with no host key
// and no space, can change mode, and new meetings and spaces can be stored.
void sqlite_access_old_file(void **state)
{
	(void)state;
	char path[300], uri[320], mid[HD_ID_LEN + 1], sql[1024];
	snprintf(path, sizeof(path), "/tmp/hd-store-access-old-%d.db", (int)getpid());
	snprintf(uri, sizeof(uri), "sqlite://%s", path);
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(sql, sizeof(sql), "%s%s", path, suffixes[i]);
		unlink(sql);
	}
	new_id(mid);
	snprintf(sql, sizeof(sql),
		 "PRAGMA journal_mode=WAL;"
		 "CREATE TABLE meetings (id TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, title TEXT NOT NULL"
		 " DEFAULT '');"
		 "INSERT INTO meetings VALUES('%s', 42, 'From before');",
		 mid);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct hd_store *s = NULL;
	assert_int_equal(hd_store_open(&s, uri), HD_OK);
	struct hd_meeting got;
	assert_int_equal(hd_meeting_get(s, mid, &got), HD_OK);
	assert_string_equal(got.title, "From before");
	assert_int_equal(got.created_at_ms, 42);
	assert_int_equal(got.access_mode, HD_ACCESS_OPEN);
	assert_int_equal(got.starts_at_ms, 0);
	assert_string_equal(got.host_key_hash, "");
	assert_string_equal(got.space_id, "");
	assert_int_equal(hd_meeting_set_access(s, mid, HD_ACCESS_WAITING_ROOM), HD_OK);

	struct hd_space sp;
	space_init(&sp, "New");
	assert_int_equal(hd_space_insert(s, &sp), HD_OK);
	struct hd_meeting m;
	meeting_init(&m, "New meeting");
	snprintf(m.space_id, sizeof(m.space_id), "%s", sp.id);
	m.starts_at_ms = 7;
	assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
	hd_store_close(s);

	// a second open of the migrated file changes nothing
	assert_int_equal(hd_store_open(&s, uri), HD_OK);
	assert_int_equal(hd_meeting_get(s, mid, &got), HD_OK);
	assert_int_equal(got.access_mode, HD_ACCESS_WAITING_ROOM);
	struct hd_meeting list[HD_SPACE_MEETINGS_MAX];
	size_t n = 0;
	assert_int_equal(hd_space_meetings(s, sp.id, list, &n), HD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].starts_at_ms, 7);
	hd_store_close(s);

	// the index over the new column exists
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(
		sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'meetings_space'",
				   -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(sql, sizeof(sql), "%s%s", path, suffixes[i]);
		unlink(sql);
	}
}
