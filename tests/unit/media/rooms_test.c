// rooms_test.c: media_derive gives the documented HMAC-SHA256 values
// (vectors computed independently with Python's hmac module), the lengths
// asked for, and different values per label, room and participant.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "media/rooms.h"

#define KEY "unit-test-key-0123456789"
#define ROOM "AAAAAAAAAAAAAAAAAAAAAA"
#define PART "BBBBBBBBBBBBBBBBBBBBBB"

static void test_vectors(void **state)
{
	char out[64];
	media_derive(KEY, "secret", ROOM, NULL, out, MEDIA_SECRET_LEN);
	assert_string_equal(out, "RtaSkYE_YWmRhfBQBWp8V5Hs8gSg6_FG");
	media_derive(KEY, "pin", ROOM, NULL, out, MEDIA_PIN_LEN);
	assert_string_equal(out, "MlEjj9LstYL_7ww6");
	media_derive(KEY, "token", ROOM, PART, out, MEDIA_TOKEN_LEN);
	assert_string_equal(out, "M5a5Ro8Y6VUsyG6D-4CSCCOcyOMk8v0S");
}

static void test_distinct_and_bounded(void **state)
{
	char a[64], b[64];
	media_derive(KEY, "token", ROOM, PART, a, MEDIA_TOKEN_LEN);
	media_derive(KEY, "token", ROOM, "CCCCCCCCCCCCCCCCCCCCCC", b, MEDIA_TOKEN_LEN);
	assert_string_not_equal(a, b);
	media_derive("another-key-0123456789", "token", ROOM, PART, b, MEDIA_TOKEN_LEN);
	assert_string_not_equal(a, b);
	media_derive(KEY, "secret", ROOM, NULL, a, MEDIA_SECRET_LEN);
	media_derive(KEY, "pin", ROOM, NULL, b, MEDIA_SECRET_LEN);
	assert_string_not_equal(a, b);
	// More than a digest's 43 base64url characters is cut to them.
	memset(a, 'x', sizeof(a));
	media_derive(KEY, "secret", ROOM, NULL, a, 60);
	assert_int_equal(strlen(a), 43);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_distinct_and_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
