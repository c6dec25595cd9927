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

static void uri_redaction(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{"sqlite://run/huddle.db", "sqlite://run/huddle.db"},
		{"mongodb://app:pw@db1:27017,db2/huddle?replicaSet=rs0",
		 "mongodb://app:***@db1:27017,db2/huddle?replicaSet=rs0"},
		{"mongodb://app:p@ss@db/x", "mongodb://app:***@db/x"}, // unescaped '@': the last one ends the userinfo
		{"redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"},
		{"mongodb://x509user@db/?authMechanism=MONGODB-X509",
		 "mongodb://x509user@db/?authMechanism=MONGODB-X509"},
		{"mongodb://db/?tlsCertificateKeyFilePassword=k&w=1",
		 "mongodb://db/?tlsCertificateKeyFilePassword=***&w=1"},
		{"mongodb://db/?a=1;apiKey=s#frag", "mongodb://db/?a=1;apiKey=***#frag"},
		{"tcp://127.0.0.1:7001", "tcp://127.0.0.1:7001"},
		{"not a uri", "not a uri"},
		{"", ""},
	};
	char out[HD_URI_LOG_MAX];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_string_equal(hd_uri_redact(v[i].in, out, sizeof(out)), v[i].want);
	// Cut short, still terminated, never past cap.
	char small[12];
	memset(small, 'z', sizeof(small));
	assert_string_equal(hd_uri_redact("mongodb://app:pw@db", small, sizeof(small)), "mongodb://a");
	assert_ptr_equal(hd_uri_redact("x", small, 0), small);
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
		cmocka_unit_test(uri_redaction),
		cmocka_unit_test(clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
