// meetingjson_test.c: a meeting as the HTTP API's JSON (gw_http_meeting_json)
// and the API's names of access modes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/http.h"

static void meeting_json(void **state)
{
	Huddle__V1__Meeting m = HUDDLE__V1__MEETING__INIT;
	m.id = "AAAAAAAAAAAAAAAAAAAAAA";
	m.title = "Lesson \"1\"";
	m.created_at_ms = 1700000000123;
	m.starts_at_ms = 1800000000456;
	m.access_mode = HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_WAITING_ROOM;
	cJSON *o = gw_http_meeting_json(&m);
	char *s = cJSON_PrintUnformatted(o);
	assert_string_equal(s, "{\"id\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"url\":\"/m/AAAAAAAAAAAAAAAAAAAAAA\","
			       "\"title\":\"Lesson \\\"1\\\"\",\"createdAtMs\":1700000000123,"
			       "\"created_at_ms\":1700000000123,\"access_mode\":\"waiting_room\","
			       "\"starts_at_ms\":1800000000456}");
	cJSON_free(s);
	cJSON_Delete(o);

	// a record from before access modes reads as open, unscheduled
	Huddle__V1__Meeting old = HUDDLE__V1__MEETING__INIT;
	old.id = "BBBBBBBBBBBBBBBBBBBBBB";
	o = gw_http_meeting_json(&old);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "access_mode")->valuestring, "open");
	assert_true(cJSON_GetObjectItemCaseSensitive(o, "starts_at_ms")->valuedouble == 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "host_key"));
	cJSON_Delete(o);
}

static void access_mode_names(void **state)
{
	const char *names[] = {"open", "open", "waiting_room", "locked", "token_only"};
	for (int i = 0; i <= 4; i++)
		assert_string_equal(gw_http_access_mode_name(i), names[i]);
	assert_string_equal(gw_http_access_mode_name(5), "open");
	assert_string_equal(gw_http_access_mode_name(-1), "open");
	for (int i = 1; i <= 4; i++)
		assert_int_equal(gw_http_access_mode_parse(names[i]), i);
	assert_int_equal(gw_http_access_mode_parse("OPEN"), 0);
	assert_int_equal(gw_http_access_mode_parse(""), 0);
	assert_int_equal(gw_http_access_mode_parse("waiting room"), 0);
	assert_int_equal(gw_http_access_mode_parse(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(meeting_json),
		cmocka_unit_test(access_mode_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
