// config_test.c: the environment table: defaults, bounds, --help, bad values.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "common/config.h"
#include "common/log.h"

static const char *url;
static const char *secret;
static int64_t ttl;

static const struct hd_config table[] = {
	{"T_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:1", 0, 0, &url, "an address"},
	{"T_SECRET", HD_CONFIG_SECRET, "dev", 0, 0, &secret, "a secret"},
	{"T_TTL_MS", HD_CONFIG_INT, "30000", 100, 600000, &ttl, "a duration in ms"},
};

static enum hd_config_result load(int argc, char **argv)
{
	return hd_config_load("t", "test", table, 3, argc, argv);
}

static void defaults(void **state)
{
	unsetenv("T_URL");
	unsetenv("T_TTL_MS");
	char *argv[] = {"t"};
	assert_int_equal(load(1, argv), HD_CONFIG_OK);
	assert_string_equal(url, "tcp://127.0.0.1:1");
	assert_int_equal(ttl, 30000);
}

static void environment_wins(void **state)
{
	setenv("T_URL", "ipc:///tmp/x", 1);
	setenv("T_TTL_MS", "500", 1);
	char *argv[] = {"t"};
	assert_int_equal(load(1, argv), HD_CONFIG_OK);
	assert_string_equal(url, "ipc:///tmp/x");
	assert_int_equal(ttl, 500);
	unsetenv("T_URL");
	unsetenv("T_TTL_MS");
}

static void bad_values(void **state)
{
	char *argv[] = {"t"};
	setenv("T_TTL_MS", "99", 1); // below min
	assert_int_equal(load(1, argv), HD_CONFIG_ERROR);
	setenv("T_TTL_MS", "12abc", 1);
	assert_int_equal(load(1, argv), HD_CONFIG_ERROR);
	setenv("T_TTL_MS", "99999999999999999999999", 1);
	assert_int_equal(load(1, argv), HD_CONFIG_ERROR);
	unsetenv("T_TTL_MS");
	char *bad[] = {"t", "--port=1"};
	assert_int_equal(load(2, bad), HD_CONFIG_ERROR);
}

static void log_level(void **state)
{
	int level = -1;
	const struct hd_config t[] = {{"T_LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &level, "verbosity"}};
	char *argv[] = {"t"};
	unsetenv("T_LOG_LEVEL");
	assert_int_equal(hd_config_load("t", "test", t, 1, 1, argv), HD_CONFIG_OK);
	assert_int_equal(level, HD_LOG_INFO);
	setenv("T_LOG_LEVEL", "DEBUG", 1);
	assert_int_equal(hd_config_load("t", "test", t, 1, 1, argv), HD_CONFIG_OK);
	assert_int_equal(level, HD_LOG_DEBUG);
	assert_int_equal(hd_log_level, HD_LOG_DEBUG);
	setenv("T_LOG_LEVEL", "loud", 1);
	assert_int_equal(hd_config_load("t", "test", t, 1, 1, argv), HD_CONFIG_ERROR);
	unsetenv("T_LOG_LEVEL");
	hd_log_level = HD_LOG_INFO;
	assert_int_equal(hd_config_exit_status(HD_CONFIG_HELP), 0);
	assert_int_equal(hd_config_exit_status(HD_CONFIG_ERROR), 2);
}

static void optional(void **state)
{
	const char *opt = "x", *key = "x";
	const struct hd_config t[] = {
		{"T_OPT", HD_CONFIG_OPTIONAL, "", 0, 0, &opt, "optional"},
		{"T_KEY", HD_CONFIG_OPTIONAL_SECRET, "", 0, 0, &key, "optional secret"},
	};
	char *argv[] = {"t"};
	unsetenv("T_OPT");
	setenv("T_KEY", "", 1); // set but empty (docker-compose's ${X:-}) reads as unset
	assert_int_equal(hd_config_load("t", "test", t, 2, 1, argv), HD_CONFIG_OK);
	assert_string_equal(opt, "");
	assert_string_equal(key, "");
	setenv("T_OPT", "https://a.example", 1);
	setenv("T_KEY", "s3cret", 1);
	assert_int_equal(hd_config_load("t", "test", t, 2, 1, argv), HD_CONFIG_OK);
	assert_string_equal(opt, "https://a.example");
	assert_string_equal(key, "s3cret");
	unsetenv("T_OPT");
	unsetenv("T_KEY");
}

static void help(void **state)
{
	char *argv[] = {"t", "--help"};
	assert_int_equal(load(2, argv), HD_CONFIG_HELP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),  cmocka_unit_test(environment_wins), cmocka_unit_test(bad_values),
		cmocka_unit_test(log_level), cmocka_unit_test(optional),         cmocka_unit_test(help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
