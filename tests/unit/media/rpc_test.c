// rpc_test.c: huddle-media's op table with Janus unreachable (a closed
// loopback port): ids that are not ids get BAD_REQUEST naming the field, a
// cleanup over its limit TOO_LARGE, valid requests UNAVAILABLE (never a
// hang), bytes that do not decode MALFORMED; media_janus_open refuses a
// URL that is not ws://, and closing while reconnecting is clean (ASan).
// MediaRequest.sfu: an offer over MEDIA_SDP_MAX is BAD_REQUEST naming the
// limit, no request BAD_REQUEST, a valid publish UNAVAILABLE at once.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/media.pb-c.h"
#include "media/janus.h"
#include "media/rooms.h"
#include "media/rpc.h"

#define ID "AAAAAAAAAAAAAAAAAAAAAA"
// A loopback port nothing listens on (the discard port, never bound here).
#define CLOSED_URL "ws://127.0.0.1:9/"

static struct media_janus *J;
static struct media_rooms R;
static struct media_ctx C;
static struct media_sfu *S;

static int setup(void **state)
{
	struct media_janus_config cfg = {
		.url = CLOSED_URL,
		.api_secret = "unit-test-secret-0123",
		.keepalive_ms = 1000,
		.timeout_ms = 500,
		.reconnect_min_ms = 10,
		.reconnect_max_ms = 50,
		.message_max = 1 << 20,
	};
	assert_int_equal(media_janus_open(&J, &cfg), HD_OK);
	R.janus = J;
	R.key = cfg.api_secret;
	R.publishers_max = 12;
	C.rooms = &R;
	nng_socket none = NNG_SOCKET_INITIALIZER;
	assert_int_equal(media_sfu_open(&S, &R, none), HD_OK);
	C.sfu = S;
	return 0;
}

static int teardown(void **state)
{
	media_janus_close(J);
	media_sfu_close(S);
	return 0;
}

// call serves req and returns the unpacked reply (the caller frees it).
static Huddle__V1__MediaReply *call(Huddle__V1__MediaRequest *req)
{
	nng_msg *in = NULL;
	assert_int_equal(hd_msg_pack(&req->base, &in), HD_OK);
	nng_msg *out = media_rpc_handle(&C, in);
	nng_msg_free(in);
	assert_non_null(out);
	Huddle__V1__MediaReply *r = huddle__v1__media_reply__unpack(NULL, nng_msg_len(out), nng_msg_body(out));
	nng_msg_free(out);
	assert_non_null(r);
	return r;
}

static int code_of(Huddle__V1__MediaReply *r)
{
	int code = r->error != NULL ? (int)r->error->code : 0;
	return code;
}

static void test_bad_ids(void **state)
{
	Huddle__V1__MediaRequest req = HUDDLE__V1__MEDIA_REQUEST__INIT;
	Huddle__V1__MediaAllowRequest allow = HUDDLE__V1__MEDIA_ALLOW_REQUEST__INIT;
	req.request_id = 7;
	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_ALLOW;
	req.allow = &allow;
	allow.meeting_id = ID;
	allow.participant_id = "short";
	Huddle__V1__MediaReply *r = call(&req);
	assert_int_equal(r->request_id, 7);
	assert_int_equal(code_of(r), HD_EBADREQUEST);
	assert_non_null(strstr(r->error->message, "participant_id"));
	huddle__v1__media_reply__free_unpacked(r, NULL);

	Huddle__V1__MediaEnsureRoomRequest ensure = HUDDLE__V1__MEDIA_ENSURE_ROOM_REQUEST__INIT;
	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_ENSURE_ROOM;
	req.ensure_room = &ensure;
	ensure.meeting_id = ID;
	ensure.publishers = 13; // over publishers_max
	r = call(&req);
	assert_int_equal(code_of(r), HD_EBADREQUEST);
	assert_non_null(strstr(r->error->message, "MEDIA_PUBLISHERS_MAX"));
	huddle__v1__media_reply__free_unpacked(r, NULL);
}

static void test_cleanup_limit(void **state)
{
	Huddle__V1__MediaRequest req = HUDDLE__V1__MEDIA_REQUEST__INIT;
	Huddle__V1__MediaCleanupRequest cleanup = HUDDLE__V1__MEDIA_CLEANUP_REQUEST__INIT;
	size_t n = MEDIA_CLEANUP_ACTIVE_MAX + 1;
	char **ids = calloc(n, sizeof(*ids));
	assert_non_null(ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = ID;
	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_CLEANUP;
	req.cleanup = &cleanup;
	cleanup.active_meeting_ids = ids;
	cleanup.n_active_meeting_ids = n;
	Huddle__V1__MediaReply *r = call(&req);
	assert_int_equal(code_of(r), HD_ETOOLARGE);
	huddle__v1__media_reply__free_unpacked(r, NULL);
	free(ids);
}

static void test_unavailable(void **state)
{
	Huddle__V1__MediaRequest req = HUDDLE__V1__MEDIA_REQUEST__INIT;
	Huddle__V1__MediaDestroyRoomRequest destroy = HUDDLE__V1__MEDIA_DESTROY_ROOM_REQUEST__INIT;
	Huddle__V1__MediaHealthRequest health = HUDDLE__V1__MEDIA_HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_DESTROY_ROOM;
	req.destroy_room = &destroy;
	destroy.meeting_id = ID;
	int64_t t0 = hd_mono_ms();
	Huddle__V1__MediaReply *r = call(&req);
	assert_int_equal(code_of(r), HD_EUNAVAILABLE);
	assert_true(hd_mono_ms() - t0 < 500); // refused at once, not after the timeout
	huddle__v1__media_reply__free_unpacked(r, NULL);

	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_HEALTH;
	req.health = &health;
	r = call(&req);
	assert_int_equal(code_of(r), HD_EUNAVAILABLE);
	huddle__v1__media_reply__free_unpacked(r, NULL);
}

static void test_malformed(void **state)
{
	nng_msg *in = NULL;
	assert_int_equal(nng_msg_alloc(&in, 0), 0);
	assert_int_equal(nng_msg_append(in, "\xff\xff\xff", 3), 0);
	nng_msg *out = media_rpc_handle(&C, in);
	nng_msg_free(in);
	assert_non_null(out);
	Huddle__V1__MediaReply *r = huddle__v1__media_reply__unpack(NULL, nng_msg_len(out), nng_msg_body(out));
	nng_msg_free(out);
	assert_non_null(r);
	assert_int_equal(code_of(r), HD_EMALFORMED);
	huddle__v1__media_reply__free_unpacked(r, NULL);
}

static void test_sfu(void **state)
{
	Huddle__V1__MediaRequest req = HUDDLE__V1__MEDIA_REQUEST__INIT;
	Huddle__V1__MediaSfuRequest sfu = HUDDLE__V1__MEDIA_SFU_REQUEST__INIT;
	Huddle__V1__SfuRequest sr = HUDDLE__V1__SFU_REQUEST__INIT;
	Huddle__V1__SfuPublish pub = HUDDLE__V1__SFU_PUBLISH__INIT;
	req.body_case = HUDDLE__V1__MEDIA_REQUEST__BODY_SFU;
	req.sfu = &sfu;
	sfu.meeting_id = ID;
	sfu.participant_id = ID;
	Huddle__V1__MediaReply *r = call(&req); // no request
	assert_int_equal(code_of(r), HD_EBADREQUEST);
	huddle__v1__media_reply__free_unpacked(r, NULL);

	sfu.request = &sr;
	sr.body_case = HUDDLE__V1__SFU_REQUEST__BODY_PUBLISH;
	sr.publish = &pub;
	char *big = malloc(MEDIA_SDP_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', MEDIA_SDP_MAX + 1);
	big[MEDIA_SDP_MAX + 1] = '\0';
	pub.offer_sdp = big;
	r = call(&req);
	assert_int_equal(code_of(r), HD_EBADREQUEST);
	assert_non_null(strstr(r->error->message, "MEDIA_SDP_MAX"));
	huddle__v1__media_reply__free_unpacked(r, NULL);
	free(big);

	pub.offer_sdp = "v=0\r\n";
	int64_t t0 = hd_mono_ms();
	r = call(&req);
	assert_int_equal(code_of(r), HD_EUNAVAILABLE);
	assert_true(hd_mono_ms() - t0 < 500);
	huddle__v1__media_reply__free_unpacked(r, NULL);

	sfu.participant_id = "short";
	r = call(&req);
	assert_int_equal(code_of(r), HD_EBADREQUEST);
	assert_non_null(strstr(r->error->message, "participant_id"));
	huddle__v1__media_reply__free_unpacked(r, NULL);
}

static void test_bad_url(void **state)
{
	struct media_janus *j = NULL;
	struct media_janus_config cfg = {.url = "http://127.0.0.1:8188/",
					 .api_secret = "x",
					 .keepalive_ms = 1000,
					 .timeout_ms = 100,
					 .reconnect_min_ms = 10,
					 .reconnect_max_ms = 50,
					 .message_max = 1024};
	assert_int_equal(media_janus_open(&j, &cfg), HD_EBADREQUEST);
	cfg.url = "ws://";
	assert_int_equal(media_janus_open(&j, &cfg), HD_EBADREQUEST);
	assert_null(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_ids),     cmocka_unit_test(test_cleanup_limit),
		cmocka_unit_test(test_unavailable), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_url),     cmocka_unit_test(test_sfu),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
