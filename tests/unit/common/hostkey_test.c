// hostkey_test.c: host and space keys: length, randomness, SHA-256 vectors,
// constant-time comparison rules.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "common/hostkey.h"

static void keys_are_random_and_hash_to_their_hash(void **state)
{
	(void)state;
	char a[HD_KEY_LEN + 1], b[HD_KEY_LEN + 1], ha[HD_KEY_HASH_LEN + 1], hb[HD_KEY_HASH_LEN + 1];
	assert_int_equal(hd_key_new(a, ha), HD_OK);
	assert_int_equal(hd_key_new(b, hb), HD_OK);
	assert_int_equal(strlen(a), HD_KEY_LEN);
	assert_int_equal(strlen(ha), HD_KEY_HASH_LEN);
	assert_string_not_equal(a, b);
	assert_string_not_equal(ha, hb);
	for (size_t i = 0; i < HD_KEY_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
	assert_true(hd_key_matches(a, ha));
	assert_false(hd_key_matches(a, hb));
	assert_false(hd_key_matches(b, ha));
}

static void sha256_vectors(void **state)
{
	(void)state;
	char h[HD_KEY_HASH_LEN + 1];
	// FIPS 180-2 appendix B.1 ("abc") and the empty string.
	hd_key_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hd_key_hash("", h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void comparison_rules(void **state)
{
	(void)state;
	char h[HD_KEY_HASH_LEN + 1];
	hd_key_hash("abc", h);
	assert_true(hd_key_hash_equal(h, h));
	assert_false(hd_key_hash_equal(h, ""));  // a meeting without a host key matches nothing
	assert_false(hd_key_hash_equal("", "")); // not even another empty hash
	char shorter[HD_KEY_HASH_LEN];
	memcpy(shorter, h, HD_KEY_HASH_LEN - 1);
	shorter[HD_KEY_HASH_LEN - 1] = '\0';
	assert_false(hd_key_hash_equal(h, shorter));
	char flipped[HD_KEY_HASH_LEN + 1];
	strcpy(flipped, h);
	flipped[HD_KEY_HASH_LEN - 1] = flipped[HD_KEY_HASH_LEN - 1] == '0' ? '1' : '0';
	assert_false(hd_key_hash_equal(h, flipped));
	assert_false(hd_key_matches("", h));
	assert_false(hd_key_matches(NULL, h));
	assert_false(hd_key_matches("abc", ""));
	assert_true(hd_key_matches("abc", h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_are_random_and_hash_to_their_hash),
		cmocka_unit_test(sha256_vectors),
		cmocka_unit_test(comparison_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
