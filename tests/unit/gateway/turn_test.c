// turn_test.c: TURN REST API credentials against a vector computed with
// `openssl dgst -sha1 -hmac`, and the username format coturn parses.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "gateway/turn.h"

static void known_vector(void **state)
{
	char user[GW_TURN_USERNAME_MAX], cred[GW_TURN_CREDENTIAL_MAX];
	// echo -n "1700086400:AAAAAAAAAAAAAAAAAAAAAA" | openssl dgst -sha1 -hmac north-star -binary | base64
	assert_int_equal(gw_turn_credentials("north-star", "AAAAAAAAAAAAAAAAAAAAAA", 1700000000, 86400, user, cred),
			 HD_OK);
	assert_string_equal(user, "1700086400:AAAAAAAAAAAAAAAAAAAAAA");
	assert_string_equal(cred, "aqFSETLYIRb/lyjUDkt6fpVVess=");
}

static void depends_on_every_input(void **state)
{
	char u1[GW_TURN_USERNAME_MAX], c1[GW_TURN_CREDENTIAL_MAX], u2[GW_TURN_USERNAME_MAX], c2[GW_TURN_CREDENTIAL_MAX];
	gw_turn_credentials("s", "AAAAAAAAAAAAAAAAAAAAAA", 100, 10, u1, c1);
	gw_turn_credentials("t", "AAAAAAAAAAAAAAAAAAAAAA", 100, 10, u2, c2);
	assert_string_equal(u1, u2);
	assert_string_not_equal(c1, c2);
	gw_turn_credentials("s", "AAAAAAAAAAAAAAAAAAAAAB", 100, 10, u2, c2);
	assert_string_not_equal(c1, c2);
	gw_turn_credentials("s", "AAAAAAAAAAAAAAAAAAAAAA", 100, 11, u2, c2);
	assert_string_equal(u2, "111:AAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(strlen(c2), 28);
}

static void oversized_participant(void **state)
{
	char user[GW_TURN_USERNAME_MAX], cred[GW_TURN_CREDENTIAL_MAX];
	char big[100];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(gw_turn_credentials("s", big, 1, 1, user, cred), HD_EBADREQUEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_vector),
		cmocka_unit_test(depends_on_every_input),
		cmocka_unit_test(oversized_participant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
