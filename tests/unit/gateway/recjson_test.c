// recjson_test.c: recordings as the API's JSON, and the create and finish
// bodies: what is taken, what is refused and why.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/recjson.h"

static const char *parse_create(const char *body, struct gw_recjson_create *out)
{
	return gw_recjson_parse_create(body, strlen(body), out);
}

static const char *parse_finish(const char *body, uint32_t *chunks)
{
	return gw_recjson_parse_finish(body, strlen(body), chunks);
}

static void recording(void **state)
{
	Huddle__V1__Recording x = HUDDLE__V1__RECORDING__INIT;
	x.meeting_id = "AAAAAAAAAAAAAAAAAAAAAA";
	x.id = "BBBBBBBBBBBBBBBBBBBBBB";
	x.kind = HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_MEETING;
	x.state = HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY;
	x.recorder_id = "CCCCCCCCCCCCCCCCCCCCCC";
	x.recorder_name = "Zoë \"Z\"";
	x.created_at_ms = 1700000000123;
	x.updated_at_ms = 1700000009999;
	x.chunks = 3;
	x.bytes = 5000000000ULL; // over 32 bits
	x.duration_ms = 6021;
	x.error = "chunk 3 missing";
	x.mime_type = "video/webm;codecs=vp8,opus";
	cJSON *o = gw_recjson_recording(&x);
	char *s = cJSON_PrintUnformatted(o);
	assert_string_equal(
		s, "{\"id\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"meetingId\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"kind\":\"meeting\","
		   "\"state\":\"ready\",\"recorderId\":\"CCCCCCCCCCCCCCCCCCCCCC\",\"recorderName\":\"Zoë \\\"Z\\\"\","
		   "\"createdAtMs\":1700000000123,\"updatedAtMs\":1700000009999,\"chunks\":3,\"bytes\":5000000000,"
		   "\"durationMs\":6021,\"error\":\"chunk 3 missing\",\"mimeType\":\"video/webm;codecs=vp8,opus\","
		   "\"url\":\"/api/meetings/AAAAAAAAAAAAAAAAAAAAAA/recordings/BBBBBBBBBBBBBBBBBBBBBB/file\"}");
	cJSON_free(s);
	cJSON_Delete(o);

	o = gw_recjson_chunk(7, true, &x);
	assert_int_equal(cJSON_GetObjectItem(o, "index")->valuedouble, 7);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "duplicate")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "recording"), "id")->valuestring, x.id);
	cJSON_Delete(o);
}

static void names(void **state)
{
	assert_string_equal(gw_recjson_kind(HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_CAMERA), "camera");
	assert_string_equal(gw_recjson_kind(HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_SCREEN), "screen");
	assert_string_equal(gw_recjson_kind(HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_UNSPECIFIED), "unspecified");
	assert_string_equal(gw_recjson_kind((Huddle__V1__RecordingKind)99), "unspecified");
	assert_string_equal(gw_recjson_state(HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_RECORDING), "recording");
	assert_string_equal(gw_recjson_state(HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_ASSEMBLING), "assembling");
	assert_string_equal(gw_recjson_state(HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_FAILED), "failed");
	assert_string_equal(gw_recjson_state((Huddle__V1__RecordingState)-1), "unspecified");
}

static void create_bodies(void **state)
{
	struct gw_recjson_create c;
	assert_null(parse_create("{\"kind\":\"camera\",\"name\":\"Alice\"}", &c));
	assert_int_equal(c.kind, HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_CAMERA);
	assert_string_equal(c.name, "Alice");
	assert_string_equal(c.mime, "video/webm");
	assert_null(parse_create("{\"kind\":\"meeting\",\"name\":\"Zoë\",\"mimeType\":\"video/webm;codecs=vp9,opus\","
				 "\"extra\":1}",
				 &c));
	assert_int_equal(c.kind, HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_MEETING);
	assert_string_equal(c.mime, "video/webm;codecs=vp9,opus");
	assert_null(parse_create("{\"kind\":\"screen\",\"name\":\"B\",\"mimeType\":null}", &c));
	assert_string_equal(c.mime, "video/webm");
	char name64[128];
	snprintf(name64, sizeof(name64), "{\"kind\":\"camera\",\"name\":\"%064d\"}", 0);
	assert_null(parse_create(name64, &c));
	assert_int_equal(strlen(c.name), 64);

	const char *bad[] = {
		"",
		"[]",
		"\"camera\"",
		"{not json",
		"{}",
		"{\"kind\":\"webcam\",\"name\":\"A\"}",
		"{\"kind\":\"Camera\",\"name\":\"A\"}",
		"{\"kind\":1,\"name\":\"A\"}",
		"{\"kind\":\"camera\"}",
		"{\"kind\":\"camera\",\"name\":\"\"}",
		"{\"kind\":\"camera\",\"name\":5}",
		"{\"kind\":\"camera\",\"name\":\"\\u00ff\\ud800\"}",
		"{\"kind\":\"camera\",\"name\":\"A\",\"mimeType\":5}",
		"{\"kind\":\"camera\",\"name\":\"A\",\"mimeType\":\"\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_create(bad[i], &c) == NULL)
			fail_msg("create body %s was taken", bad[i]);
	snprintf(name64, sizeof(name64), "{\"kind\":\"camera\",\"name\":\"%065d\"}", 0);
	assert_non_null(parse_create(name64, &c));
	char mime[300];
	snprintf(mime, sizeof(mime), "{\"kind\":\"camera\",\"name\":\"A\",\"mimeType\":\"video/webm;%0129d\"}", 0);
	assert_non_null(parse_create(mime, &c));
	// Only len bytes are read.
	assert_non_null(gw_recjson_parse_create("{\"kind\":\"camera\",\"name\":\"A\"}", 10, &c));
}

static void finish_bodies(void **state)
{
	uint32_t n = 99;
	assert_null(parse_finish("{\"chunks\":0}", &n));
	assert_int_equal(n, 0);
	assert_null(parse_finish("{\"chunks\":4294967295}", &n));
	assert_int_equal(n, 4294967295u);
	assert_null(parse_finish("{\"chunks\":12,\"other\":true}", &n));
	assert_int_equal(n, 12);
	const char *bad[] = {
		"",
		"[]",
		"{}",
		"{\"chunks\":-1}",
		"{\"chunks\":1.5}",
		"{\"chunks\":\"3\"}",
		"{\"chunks\":4294967296}",
		"{\"chunks\":null}",
		"{\"chunks\":1e300}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 7;
		if (parse_finish(bad[i], &n) == NULL)
			fail_msg("finish body %s was taken", bad[i]);
		assert_int_equal(n, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recording),
		cmocka_unit_test(names),
		cmocka_unit_test(create_bodies),
		cmocka_unit_test(finish_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
