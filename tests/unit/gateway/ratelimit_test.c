// ratelimit_test.c: token bucket refill, burst cap and abuse detection, on
// an explicit clock; the same bucket counting bytes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gateway/ratelimit.h"

static void burst_then_refill(void **state)
{
	struct gw_ratelimit rl;
	gw_ratelimit_init(&rl, 10, 0);
	for (int i = 0; i < 10; i++)
		assert_true(gw_ratelimit_take(&rl, 5, 10, 0));
	assert_false(gw_ratelimit_take(&rl, 5, 10, 0));
	// 5 per second: one token every 200 ms.
	assert_false(gw_ratelimit_take(&rl, 5, 10, 150));
	assert_true(gw_ratelimit_take(&rl, 5, 10, 210));
	assert_false(gw_ratelimit_take(&rl, 5, 10, 220));
	// A long pause refills only up to the burst.
	for (int i = 0; i < 10; i++)
		assert_true(gw_ratelimit_take(&rl, 5, 10, 100000));
	assert_false(gw_ratelimit_take(&rl, 5, 10, 100000));
}

static void abuse_window(void **state)
{
	struct gw_ratelimit rl;
	gw_ratelimit_init(&rl, 1, 0);
	assert_true(gw_ratelimit_take(&rl, 1, 1, 0));
	for (int i = 0; i < 3; i++)
		assert_false(gw_ratelimit_take(&rl, 1, 1, 10));
	assert_false(gw_ratelimit_abusive(&rl, 3));
	assert_false(gw_ratelimit_take(&rl, 1, 1, 20));
	assert_true(gw_ratelimit_abusive(&rl, 3));
	// A new one-second window forgets the refusals.
	assert_true(gw_ratelimit_take(&rl, 1, 1, 1500));
	assert_false(gw_ratelimit_take(&rl, 1, 1, 1500));
	assert_false(gw_ratelimit_abusive(&rl, 3));
}

static void bytes_bucket(void **state)
{
	struct gw_ratelimit rl;
	// 1000 bytes per second, 3000 at once.
	gw_ratelimit_init(&rl, 3000, 0);
	assert_true(gw_ratelimit_take_n(&rl, 2500, 1000, 3000, 0));
	assert_false(gw_ratelimit_take_n(&rl, 600, 1000, 3000, 0));
	assert_true(gw_ratelimit_take_n(&rl, 500, 1000, 3000, 0));
	assert_true(gw_ratelimit_take_n(&rl, 100, 1000, 3000, 100));
	assert_false(gw_ratelimit_take_n(&rl, 1, 1000, 3000, 100));
	// More than the burst never passes, however long one waits.
	assert_false(gw_ratelimit_take_n(&rl, 3001, 1000, 3000, 100000));
	assert_true(gw_ratelimit_take_n(&rl, 3000, 1000, 3000, 100000));
	assert_int_equal(rl.refused_in_window, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_refill),
		cmocka_unit_test(abuse_window),
		cmocka_unit_test(bytes_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
