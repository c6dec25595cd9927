// meetings_test.c: meeting creation and lookup against a fake store that
// can collide, fail or be down, so every path is taken.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_and_get),
		cmocka_unit_test(titles),
		cmocka_unit_test(collision_retried_once),
		cmocka_unit_test(store_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
