// err_test.c: hd_err stays equal to huddle.v1.ErrorCode, and every code has a name.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <nng/nng.h>

#include "common/err.h"
#include "huddle/v1/common.pb-c.h"

static void codes_match_proto(void **state)
{
	const ProtobufCEnumDescriptor *d = &huddle__v1__error_code__descriptor;
	assert_int_equal(d->n_values, HD_ERR_COUNT);
	for (unsigned i = 0; i < d->n_values; i++) {
		int v = d->values[i].value;
		// "ERROR_CODE_UNKNOWN_MEETING" -> "UNKNOWN_MEETING"
		const char *name = d->values[i].name + strlen("ERROR_CODE_");
		assert_string_equal(hd_err_name(v), name);
	}
	assert_int_equal(HD_EUNKNOWNMEETING, HUDDLE__V1__ERROR_CODE__ERROR_CODE_UNKNOWN_MEETING);
	assert_int_equal(HD_ECLOSED, HUDDLE__V1__ERROR_CODE__ERROR_CODE_CLOSED);
}

static void strerror_covers_all(void **state)
{
	for (int i = 0; i < HD_ERR_COUNT; i++) {
		assert_non_null(hd_strerror(i));
		assert_string_not_equal(hd_strerror(i), "unknown error");
	}
	assert_string_equal(hd_strerror(-1), "unknown error");
	assert_string_equal(hd_strerror(HD_ERR_COUNT), "unknown error");
	assert_string_equal(hd_err_name(999), "UNKNOWN");
}

static void nng_mapping(void **state)
{
	assert_int_equal(hd_err_from_nng(0), HD_OK);
	assert_int_equal(hd_err_from_nng(NNG_ETIMEDOUT), HD_ETIMEOUT);
	assert_int_equal(hd_err_from_nng(NNG_ECLOSED), HD_ECLOSED);
	assert_int_equal(hd_err_from_nng(NNG_ECONNREFUSED), HD_EUNAVAILABLE);
	assert_int_equal(hd_err_from_nng(NNG_EINVAL), HD_EINTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(codes_match_proto),
		cmocka_unit_test(strerror_covers_all),
		cmocka_unit_test(nng_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
