// websec_test.c: the settings gw_websec_open accepts and refuses, and the
// creation buckets per client address: burst, refill, Retry-After, and the
// bounded table (full buckets are dropped when GW_CREATE_CLIENTS_MAX
// addresses are tracked; otherwise new addresses are refused).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gateway.h"
#include "gateway/websec.h"

struct gw gw;

static void configure(const char *origins, const char *frame_ancestors, int64_t rate)
{
	memset(&gw.cfg, 0, sizeof(gw.cfg));
	gw.cfg.join_token_secret = gw.cfg.join_token_public_key = gw.cfg.join_token_issuer =
		gw.cfg.join_token_audience = gw.cfg.tls_cert = gw.cfg.tls_key = "";
	gw.cfg.allowed_origins = origins;
	gw.cfg.frame_ancestors = frame_ancestors;
	gw.cfg.meetings_per_address_per_minute = rate;
}

static void settings(void **state)
{
	(void)state;
	configure("https://meet.example.com, http://localhost:5173/", "'none'", 60);
	assert_int_equal(gw_websec_open(), HD_OK);
	assert_false(gw_websec_tls());
	gw_websec_close();
	static const char *const bad_origins[] = {"meet.example.com", "https://", "https://a.example/path",
						  "wss://a.example", "https://a b.example"};
	for (size_t i = 0; i < sizeof(bad_origins) / sizeof(bad_origins[0]); i++) {
		configure(bad_origins[i], "'none'", 60);
		assert_int_equal(gw_websec_open(), HD_EBADREQUEST);
		assert_null(gw.websec);
	}
	configure("", "'self'; script-src *", 60);
	assert_int_equal(gw_websec_open(), HD_EBADREQUEST);
	configure("", "'none'", 60);
	gw.cfg.tls_cert = "/nonexistent/cert.pem"; // without TLS_KEY
	assert_int_equal(gw_websec_open(), HD_EBADREQUEST);
	configure("", "'none'", 60);
	gw.cfg.join_token_public_key = "/nonexistent/key.pem";
	assert_int_equal(gw_websec_open(), HD_EBADREQUEST);
	assert_null(gw.websec);
}

static void buckets(void **state)
{
	(void)state;
	int64_t retry = 0;
	configure("", "'none'", 6); // 6 per minute: bursts of 6, one more every 10 s
	assert_int_equal(gw_websec_open(), HD_OK);
	for (int i = 0; i < 6; i++)
		assert_true(gw_websec_create_take("192.0.2.1", 1000, &retry));
	assert_false(gw_websec_create_take("192.0.2.1", 1000, &retry));
	assert_int_equal(retry, 10);
	assert_false(gw_websec_create_take("192.0.2.1", 5000, &retry));
	assert_int_equal(retry, 6);
	assert_true(gw_websec_create_take("192.0.2.2", 5000, &retry)); // another address
	assert_true(gw_websec_create_take("192.0.2.1", 11000, &retry));
	assert_false(gw_websec_create_take("192.0.2.1", 11000, &retry));
	gw_websec_close();
}

static void bounded_table(void **state)
{
	(void)state;
	char addr[32];
	int64_t retry;
	configure("", "'none'", 1);
	assert_int_equal(gw_websec_open(), HD_OK);
	// GW_CREATE_CLIENTS_MAX addresses, each with an empty bucket.
	for (int i = 0; i < GW_CREATE_CLIENTS_MAX; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		assert_true(gw_websec_create_take(addr, 0, &retry));
	}
	assert_int_equal(gw_websec_create_clients(), GW_CREATE_CLIENTS_MAX);
	// Full table, nobody's bucket full again: a new address is refused.
	assert_false(gw_websec_create_take("192.0.2.9", 30000, &retry));
	assert_int_equal(gw_websec_create_clients(), GW_CREATE_CLIENTS_MAX);
	// A minute later every bucket is full: they are dropped, the new one counts.
	assert_true(gw_websec_create_take("192.0.2.9", 60000, &retry));
	assert_int_equal(gw_websec_create_clients(), 1);
	assert_false(gw_websec_create_take("192.0.2.9", 60000, &retry));
	gw_websec_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(settings),
		cmocka_unit_test(buckets),
		cmocka_unit_test(bounded_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
