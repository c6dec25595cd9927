// meetings_test.c: meeting creation and lookup against a fake store that
// can collide, fail or be down, so every path is taken; host keys, spaces
// and access modes against a real SQLite store in /tmp.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/hostkey.h"
#include "common/util.h"
#include "registry/meetings.h"

// fake_store answers inserts from a script of results and remembers ids.
struct fake_store {
	struct hd_store base;
	hd_err results[4]; // result of the i-th insert (HD_OK after the script)
	int inserts;
	char ids[4][HD_ID_LEN + 1];
	struct hd_meeting stored;
};

static hd_err fake_insert(struct hd_store *s, const struct hd_meeting *m)
{
	struct fake_store *f = (struct fake_store *)s;
	hd_err err = f->inserts < 4 ? f->results[f->inserts] : HD_OK;
	if (f->inserts < 4)
		memcpy(f->ids[f->inserts], m->id, sizeof(m->id));
	f->inserts++;
	if (err == HD_OK)
		f->stored = *m;
	return err;
}

static hd_err fake_get(struct hd_store *s, const char *id, struct hd_meeting *out)
{
	struct fake_store *f = (struct fake_store *)s;
	if (f->results[0] == HD_EUNAVAILABLE)
		return HD_EUNAVAILABLE;
	if (strcmp(id, f->stored.id) != 0)
		return HD_EUNKNOWNMEETING;
	*out = f->stored;
	return HD_OK;
}

static const struct hd_store_ops fake_ops = {.meeting_insert = fake_insert, .meeting_get = fake_get};

static void create_and_get(void **state)
{
	struct fake_store f = {.base.ops = &fake_ops};
	struct hd_meeting m, got;
	const char *why = NULL;
	assert_int_equal(reg_meeting_create(&f.base, "Standup", 1700000000123, &m, &why), HD_OK);
	assert_int_equal(f.inserts, 1);
	assert_true(hd_id_valid(m.id));
	assert_string_equal(m.title, "Standup");
	assert_int_equal(m.created_at_ms, 1700000000123);
	assert_int_equal(reg_meeting_get(&f.base, m.id, &got, &why), HD_OK);
	assert_string_equal(got.id, m.id);

	Huddle__V1__Meeting pb;
	reg_meeting_to_pb(&m, &pb);
	assert_string_equal(pb.id, m.id);
	assert_string_equal(pb.title, "Standup");
	assert_int_equal(pb.created_at_ms, 1700000000123);

	assert_int_equal(reg_meeting_get(&f.base, "BBBBBBBBBBBBBBBBBBBBBB", &got, &why), HD_EUNKNOWNMEETING);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(reg_meeting_get(&f.base, "not an id", &got, &why), HD_EUNKNOWNMEETING);
	assert_non_null(why);
}

static void titles(void **state)
{
	struct fake_store f = {.base.ops = &fake_ops};
	struct hd_meeting m;
	const char *why = NULL;
	char t[HD_MEETING_TITLE_MAX + 2];
	memset(t, 'x', sizeof(t));
	t[HD_MEETING_TITLE_MAX] = '\0';
	assert_int_equal(reg_meeting_create(&f.base, t, 1, &m, &why), HD_OK);
	assert_int_equal(strlen(m.title), HD_MEETING_TITLE_MAX);
	assert_int_equal(reg_meeting_create(&f.base, "", 1, &m, &why), HD_OK);
	t[HD_MEETING_TITLE_MAX] = 'x';
	t[HD_MEETING_TITLE_MAX + 1] = '\0';
	f.inserts = 0;
	assert_int_equal(reg_meeting_create(&f.base, t, 1, &m, &why), HD_EBADREQUEST);
	assert_non_null(strstr(why, "200"));
	assert_int_equal(reg_meeting_create(&f.base, "\xff", 1, &m, &why), HD_EBADREQUEST);
	assert_non_null(strstr(why, "UTF-8"));
	assert_int_equal(f.inserts, 0); // refused before the store
}

static void collision_retried_once(void **state)
{
	struct fake_store f = {.base.ops = &fake_ops, .results = {HD_EBADREQUEST, HD_OK}};
	struct hd_meeting m;
	const char *why = NULL;
	assert_int_equal(reg_meeting_create(&f.base, "t", 1, &m, &why), HD_OK);
	assert_int_equal(f.inserts, 2);
	assert_string_not_equal(f.ids[0], f.ids[1]);
	assert_string_equal(m.id, f.ids[1]);

	struct fake_store g = {.base.ops = &fake_ops, .results = {HD_EBADREQUEST, HD_EBADREQUEST, HD_OK}};
	assert_int_equal(reg_meeting_create(&g.base, "t", 1, &m, &why), HD_EINTERNAL);
	assert_int_equal(g.inserts, 2);
	assert_non_null(why);
}

static void store_down(void **state)
{
	struct fake_store f = {.base.ops = &fake_ops, .results = {HD_EUNAVAILABLE}};
	struct hd_meeting m;
	const char *why = NULL;
	assert_int_equal(reg_meeting_create(&f.base, "t", 1, &m, &why), HD_EUNAVAILABLE);
	assert_int_equal(f.inserts, 1);
	assert_non_null(strstr(why, "store"));
	why = NULL;
	assert_int_equal(reg_meeting_get(&f.base, "BBBBBBBBBBBBBBBBBBBBBB", &m, &why), HD_EUNAVAILABLE);
	assert_non_null(why);
}

// ---- hosts and access, on a real SQLite store ----

static char sqlite_path[128];

static struct hd_store *real_store(void)
{
	char uri[160];
	struct hd_store *s = NULL;
	snprintf(uri, sizeof(uri), "sqlite://%s", sqlite_path);
	assert_int_equal(hd_store_open(&s, uri), HD_OK);
	return s;
}

static void remove_sqlite(void)
{
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", sqlite_path, suffixes[i]);
		unlink(p);
	}
}

// own_host_key: the key is returned once (HD_KEY_LEN chars), only its hash
// is stored, the default access is OPEN, and the key (not another) is a
// host key of the meeting.
static void own_host_key(void **state)
{
	struct hd_store *s = real_store();
	struct reg_meeting_spec spec = {.title = "Consultation", .starts_at_ms = 1800000000000};
	struct hd_meeting m, stored;
	char key[HD_KEY_LEN + 1], hash[HD_KEY_HASH_LEN + 1];
	const char *why = NULL;
	assert_int_equal(reg_meeting_new(s, &spec, 1700000000000, &m, key, &why), HD_OK);
	assert_int_equal(strlen(key), HD_KEY_LEN);
	assert_int_equal(hd_meeting_get(s, m.id, &stored), HD_OK);
	hd_key_hash(key, hash);
	assert_string_equal(stored.host_key_hash, hash);
	assert_null(strstr(stored.host_key_hash, key)); // the key itself is not stored
	assert_string_equal(stored.space_id, "");
	assert_int_equal(stored.access_mode, HD_ACCESS_OPEN);
	assert_int_equal(stored.starts_at_ms, 1800000000000);
	assert_string_equal(stored.title, "Consultation");

	assert_true(reg_meeting_is_host(s, &stored, key));
	char other[HD_KEY_LEN + 1], other_hash[HD_KEY_HASH_LEN + 1];
	assert_int_equal(hd_key_new(other, other_hash), HD_OK);
	assert_false(reg_meeting_is_host(s, &stored, other));
	assert_false(reg_meeting_is_host(s, &stored, ""));
	assert_false(reg_meeting_is_host(s, &stored, NULL));
	assert_false(reg_meeting_is_host(s, &stored, stored.host_key_hash)); // the hash is not the key
	bool is_host = true;
	assert_int_equal(reg_meeting_host_check(s, &stored, other, &is_host), HD_OK);
	assert_false(is_host);

	// Two meetings get two keys; one's key is not the other's.
	struct hd_meeting m2;
	char key2[HD_KEY_LEN + 1];
	assert_int_equal(reg_meeting_new(s, &spec, 1, &m2, key2, &why), HD_OK);
	assert_string_not_equal(key, key2);
	assert_false(reg_meeting_is_host(s, &m2, key));

	// A stored record from before host keys has none: nobody is its host by key.
	struct hd_meeting old = stored;
	old.host_key_hash[0] = '\0';
	assert_false(reg_meeting_is_host(s, &old, key));
	assert_false(reg_meeting_is_host(s, &old, ""));
	hd_store_close(s);
}

// spaces: a meeting made with a space key belongs to the space, has no key
// of its own (none in the reply either), waits by default, and the space
// key (not a wrong one) is its host key.
static void spaces(void **state)
{
	struct hd_store *s = real_store();
	struct hd_space sp, opened;
	char space_key[HD_KEY_LEN + 1], hash[HD_KEY_HASH_LEN + 1];
	const char *why = NULL;
	assert_int_equal(reg_space_create(s, "Dr. Ada's practice", 1700000000000, &sp, space_key, &why), HD_OK);
	assert_int_equal(strlen(space_key), HD_KEY_LEN);
	hd_key_hash(space_key, hash);
	assert_string_equal(sp.key_hash, hash);
	assert_int_equal(hd_space_get(s, sp.id, &opened), HD_OK);
	assert_string_equal(opened.key_hash, hash);
	assert_string_equal(opened.title, "Dr. Ada's practice");

	assert_int_equal(reg_space_open(s, space_key, &opened), HD_OK);
	assert_string_equal(opened.id, sp.id);
	char wrong[HD_KEY_LEN + 1], wrong_hash[HD_KEY_HASH_LEN + 1];
	assert_int_equal(hd_key_new(wrong, wrong_hash), HD_OK);
	assert_int_equal(reg_space_open(s, wrong, &opened), HD_EFORBIDDEN);
	assert_int_equal(reg_space_open(s, "", &opened), HD_EFORBIDDEN);
	assert_int_equal(reg_space_open(s, NULL, &opened), HD_EFORBIDDEN);
	assert_int_equal(reg_space_open(s, sp.key_hash, &opened), HD_EFORBIDDEN); // the hash is not the key

	struct reg_meeting_spec spec = {.title = "Client A", .space_key = space_key, .starts_at_ms = 5};
	struct hd_meeting m, stored;
	char key[HD_KEY_LEN + 1] = "leftover";
	assert_int_equal(reg_meeting_new(s, &spec, 1700000000001, &m, key, &why), HD_OK);
	assert_string_equal(key, ""); // no host key of its own
	assert_int_equal(hd_meeting_get(s, m.id, &stored), HD_OK);
	assert_string_equal(stored.host_key_hash, "");
	assert_string_equal(stored.space_id, sp.id);
	assert_int_equal(stored.access_mode, HD_ACCESS_WAITING_ROOM);
	assert_true(reg_meeting_is_host(s, &stored, space_key));
	assert_false(reg_meeting_is_host(s, &stored, wrong));
	assert_false(reg_meeting_is_host(s, &stored, ""));

	// an explicit mode wins over the default
	spec.access_mode = HD_ACCESS_TOKEN_ONLY;
	assert_int_equal(reg_meeting_new(s, &spec, 1700000000002, &m, key, &why), HD_OK);
	assert_int_equal(m.access_mode, HD_ACCESS_TOKEN_ONLY);
	struct hd_meeting list[HD_SPACE_MEETINGS_MAX];
	size_t n = 0;
	assert_int_equal(hd_space_meetings(s, sp.id, list, &n), HD_OK);
	assert_int_equal(n, 2);

	// a wrong space key makes nothing
	spec.space_key = wrong;
	why = NULL;
	assert_int_equal(reg_meeting_new(s, &spec, 1, &m, key, &why), HD_EFORBIDDEN);
	assert_non_null(why);
	assert_string_equal(key, "");
	assert_int_equal(hd_space_meetings(s, sp.id, list, &n), HD_OK);
	assert_int_equal(n, 2);

	// another space's key is not a host key of this space's meetings
	struct hd_space sp2;
	char key2[HD_KEY_LEN + 1];
	assert_int_equal(reg_space_create(s, "", 1, &sp2, key2, &why), HD_OK);
	assert_false(reg_meeting_is_host(s, &stored, key2));

	// titles
	char t[HD_MEETING_TITLE_MAX + 2];
	memset(t, 'x', sizeof(t));
	t[HD_MEETING_TITLE_MAX + 1] = '\0';
	assert_int_equal(reg_space_create(s, t, 1, &sp2, key2, &why), HD_EBADREQUEST);
	assert_string_equal(key2, "");
	assert_int_equal(reg_space_create(s, "\xc0\xaf", 1, &sp2, key2, &why), HD_EBADREQUEST);
	hd_store_close(s);
}

static void bad_specs_and_set_access(void **state)
{
	struct hd_store *s = real_store();
	struct hd_meeting m, got;
	char key[HD_KEY_LEN + 1];
	const char *why = NULL;
	struct reg_meeting_spec spec = {.title = "t", .starts_at_ms = -1};
	assert_int_equal(reg_meeting_new(s, &spec, 1, &m, key, &why), HD_EBADREQUEST);
	assert_non_null(strstr(why, "starts_at_ms"));
	spec.starts_at_ms = 0;
	spec.access_mode = 5;
	assert_int_equal(reg_meeting_new(s, &spec, 1, &m, key, &why), HD_EBADREQUEST);
	assert_non_null(strstr(why, "access_mode"));
	spec.access_mode = -1;
	assert_int_equal(reg_meeting_new(s, &spec, 1, &m, key, &why), HD_EBADREQUEST);
	assert_string_equal(key, "");
	spec.access_mode = HD_ACCESS_LOCKED;
	assert_int_equal(reg_meeting_new(s, &spec, 1, &m, key, &why), HD_OK);
	assert_int_equal(m.access_mode, HD_ACCESS_LOCKED);

	assert_int_equal(reg_meeting_set_access(s, m.id, HD_ACCESS_WAITING_ROOM), HD_OK);
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_int_equal(got.access_mode, HD_ACCESS_WAITING_ROOM);
	assert_int_equal(reg_meeting_set_access(s, m.id, 0), HD_EBADREQUEST);
	assert_int_equal(reg_meeting_set_access(s, m.id, 9), HD_EBADREQUEST);
	assert_int_equal(reg_meeting_set_access(s, "BBBBBBBBBBBBBBBBBBBBBB", HD_ACCESS_OPEN), HD_EUNKNOWNMEETING);
	assert_int_equal(hd_meeting_get(s, m.id, &got), HD_OK);
	assert_int_equal(got.access_mode, HD_ACCESS_WAITING_ROOM);

	Huddle__V1__Meeting pb;
	got.starts_at_ms = 1800000000000;
	reg_meeting_to_pb(&got, &pb);
	assert_int_equal(pb.access_mode, HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_WAITING_ROOM);
	assert_int_equal(pb.starts_at_ms, 1800000000000);
	hd_store_close(s);
}

int main(void)
{
	snprintf(sqlite_path, sizeof(sqlite_path), "/tmp/hd-registry-meetings-%d.db", (int)getpid());
	remove_sqlite();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_and_get),
		cmocka_unit_test(titles),
		cmocka_unit_test(collision_retried_once),
		cmocka_unit_test(store_down),
		cmocka_unit_test(own_host_key),
		cmocka_unit_test(spaces),
		cmocka_unit_test(bad_specs_and_set_access),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	remove_sqlite();
	return failed;
}
