// util_test.c: ids, base64url and UTF-8 validation.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "common/util.h"

static void ids_are_random_and_valid(void **state)
{
	char a[HD_ID_LEN + 1], b[HD_ID_LEN + 1];
	assert_int_equal(hd_id_random(a), HD_OK);
	assert_int_equal(hd_id_random(b), HD_OK);
	assert_int_equal(strlen(a), 22);
	assert_true(hd_id_valid(a));
	assert_true(hd_id_valid(b));
	assert_string_not_equal(a, b);
	// 1000 ids: no duplicates, and every base64url character position varies.
	static char ids[1000][HD_ID_LEN + 1];
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(hd_id_random(ids[i]), HD_OK);
		assert_true(hd_id_valid(ids[i]));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
}

static void id_validation(void **state)
{
	assert_false(hd_id_valid(NULL));
	assert_false(hd_id_valid(""));
	assert_false(hd_id_valid("abc"));
	assert_true(hd_id_valid("AAAAAAAAAAAAAAAAAAAAA_"));
	assert_false(hd_id_valid("AAAAAAAAAAAAAAAAAAAAA_A")); // 23 chars
	assert_false(hd_id_valid("AAAAAAAAAAAAAAAAAAAAA+"));  // not URL-safe
	assert_false(hd_id_valid("AAAAAAAAAAAAAAAAAAAAA="));  // padding
	assert_false(hd_id_valid("../../etc/passwd00000"));
}

static void base64url_vectors(void **state)
{
	// RFC 4648 section 10 vectors, URL-safe alphabet, no padding.
	char out[32];
	assert_int_equal(hd_base64url_encode((const uint8_t *)"foobar", 6, out), 8);
	assert_string_equal(out, "Zm9vYmFy");
	assert_int_equal(hd_base64url_encode((const uint8_t *)"fo", 2, out), 3);
	assert_string_equal(out, "Zm8");
	const uint8_t raw[] = {0xfb, 0xff, 0xfe};
	hd_base64url_encode(raw, 3, out);
	assert_string_equal(out, "-__-");
}

static void utf8(void **state)
{
	assert_true(hd_utf8_valid("hello", 5));
	assert_true(hd_utf8_valid("Zoë 😀", strlen("Zoë 😀")));
	assert_false(hd_utf8_valid("\xc3", 1));             // truncated
	assert_false(hd_utf8_valid("\xc0\xaf", 2));         // overlong
	assert_false(hd_utf8_valid("\xed\xa0\x80", 3));     // surrogate
	assert_false(hd_utf8_valid("\xf4\x90\x80\x80", 4)); // > U+10FFFF
	assert_false(hd_utf8_valid("a\0b", 3));             // NUL
	assert_false(hd_utf8_valid("\xff", 1));
	assert_true(hd_utf8_valid("", 0));
}

static void clocks(void **state)
{
	int64_t a = hd_mono_ms(), b = hd_mono_ms();
	assert_true(b >= a);
	assert_true(hd_now_ms() > 1700000000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_are_random_and_valid),
		cmocka_unit_test(id_validation),
		cmocka_unit_test(base64url_vectors),
		cmocka_unit_test(utf8),
		cmocka_unit_test(clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
