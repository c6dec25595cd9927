// range_test.c: one byte range against a representation's size (RFC 9110
// section 14.1.2 examples), the unsatisfiable and the ignored.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gateway/range.h"

static void partial(const char *header, uint64_t size, uint64_t want_first, uint64_t want_last)
{
	uint64_t first = 12345, last = 12345;
	if (gw_range_parse(header, size, &first, &last) != GW_RANGE_PARTIAL)
		fail_msg("'%s' of %llu bytes: not a partial range", header, (unsigned long long)size);
	if (first != want_first || last != want_last)
		fail_msg("'%s' of %llu bytes: %llu-%llu, want %llu-%llu", header, (unsigned long long)size,
			 (unsigned long long)first, (unsigned long long)last, (unsigned long long)want_first,
			 (unsigned long long)want_last);
}

static enum gw_range_result other(const char *header, uint64_t size)
{
	uint64_t first = 7, last = 7;
	enum gw_range_result r = gw_range_parse(header, size, &first, &last);
	assert_int_equal(first, 7); // untouched unless partial
	assert_int_equal(last, 7);
	return r;
}

static void ranges(void **state)
{
	// RFC 9110 section 14.1.2, a representation of 10000 bytes.
	partial("bytes=0-499", 10000, 0, 499);
	partial("bytes=500-999", 10000, 500, 999);
	partial("bytes=-500", 10000, 9500, 9999);
	partial("bytes=9500-", 10000, 9500, 9999);
	partial("bytes=100-199", 1000, 100, 199);
	partial("bytes=0-0", 1, 0, 0);
	// The last position is clamped; a suffix longer than the file is all of it.
	partial("bytes=100-999999", 1000, 100, 999);
	partial("bytes=-10", 5, 0, 4);
	partial("bytes=-99999999999999999999999", 5, 0, 4);
	partial("bytes=0-99999999999999999999999", 5, 0, 4);
	partial("bytes=999-", 1000, 999, 999);
	// Unit case and optional white space.
	partial("Bytes=1-2", 10, 1, 2);
	partial("bytes = 1-2 ", 10, 1, 2);
	partial("  bytes=\t3-", 10, 3, 9);
}

static void unsatisfiable(void **state)
{
	assert_int_equal(other("bytes=1000-", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=1000-2000", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=99999999999999999999999-", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=-0", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=0-", 0), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=-5", 0), GW_RANGE_UNSATISFIABLE);
	// Invalid ranges are refused too.
	assert_int_equal(other("bytes=200-100", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=-", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=a-b", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=1-2x", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=+1-2", 1000), GW_RANGE_UNSATISFIABLE);
	assert_int_equal(other("bytes=1--2", 1000), GW_RANGE_UNSATISFIABLE);
}

static void ignored(void **state)
{
	assert_int_equal(other(NULL, 1000), GW_RANGE_NONE);
	assert_int_equal(other("", 1000), GW_RANGE_NONE);
	assert_int_equal(other("items=0-5", 1000), GW_RANGE_NONE);
	assert_int_equal(other("bytesx=0-5", 1000), GW_RANGE_NONE);
	assert_int_equal(other("bytes 0-5", 1000), GW_RANGE_NONE);
	// Several ranges: the whole file, no multipart/byteranges.
	assert_int_equal(other("bytes=0-1,5-6", 1000), GW_RANGE_NONE);
	assert_int_equal(other("bytes=0-1, -5", 1000), GW_RANGE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranges),
		cmocka_unit_test(unsatisfiable),
		cmocka_unit_test(ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
