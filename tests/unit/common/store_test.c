// store_test.c: meeting records in the SQLite store, across reopen.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/store.h"

static char path[256];

static void meetings_roundtrip_and_reopen(void **state)
{
	struct hd_store *s;
	struct hd_meeting m = {0}, got;
	char uri[300];
	snprintf(path, sizeof(path), "/tmp/hd-store-test-%d.db", (int)getpid());
	snprintf(uri, sizeof(uri), "sqlite://%s", path);
	assert_int_equal(hd_store_open(&s, uri), HD_OK);
	assert_int_equal(hd_id_random(m.id), HD_OK);
	m.created_at_ms = 1700000000123;
	snprintf(m.title, sizeof(m.title), "Standup ☕");
	assert_int_equal(hd_meeting_insert(s, &m), HD_OK);
	assert_int_equal(hd_meeting_insert(s, &m), HD_EBADREQUEST); // id exists
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_string_equal(got.id, m.id);
	assert_int_equal(got.created_at_ms, m.created_at_ms);
	assert_string_equal(got.title, "Standup ☕");
	assert_int_equal(hd_meeting_get(s, "AAAAAAAAAAAAAAAAAAAAAA", &got), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_meeting_get(s, "'; DROP TABLE meetings; --", &got), HD_EUNKNOWNMEETING);
	struct hd_meeting bad = m;
	snprintf(bad.id, sizeof(bad.id), "short");
	assert_int_equal(hd_meeting_insert(s, &bad), HD_EBADREQUEST);
	hd_store_close(s);

	assert_int_equal(hd_store_open(&s, uri), HD_OK);
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_string_equal(got.title, "Standup ☕");
	hd_store_close(s);
	unlink(path);
	char wal[300];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

static void bad_uris(void **state)
{
	struct hd_store *s;
	assert_int_equal(hd_store_open(&s, "postgres://x"), HD_EBADREQUEST);
	assert_int_equal(hd_store_open(&s, "sqlite://"), HD_EBADREQUEST);
	assert_int_equal(hd_store_open(&s, "sqlite:///nonexistent-dir/x/y.db"), HD_EUNAVAILABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(meetings_roundtrip_and_reopen),
		cmocka_unit_test(bad_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
