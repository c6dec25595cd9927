// sfu_test.c: media_sfu_check, the part of huddle-media's SFU signaling that
// needs no Janus: each body's limits (MEDIA_SDP_MAX, MEDIA_CANDIDATE_MAX,
// MEDIA_MID_MAX, MEDIA_FEEDS_MAX), missing fields and bad ids, each named in
// the reason; and what is valid passes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "media/sfu.h"

#define ID "AAAAAAAAAAAAAAAAAAAAAA"

// filled returns a malloc'd string of n copies of c (the caller frees it).
static char *filled(size_t n, char c)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

// check runs media_sfu_check and, on an error, asserts its reason names want.
static hd_err check(const Huddle__V1__SfuRequest *req, const char *want)
{
	char why[MEDIA_JANUS_WHY_MAX] = "";
	hd_err err = media_sfu_check(req, why);
	if (want != NULL)
		assert_non_null(strstr(why, want));
	return err;
}

static void test_publish_and_start(void **state)
{
	Huddle__V1__SfuRequest req = HUDDLE__V1__SFU_REQUEST__INIT;
	Huddle__V1__SfuPublish pub = HUDDLE__V1__SFU_PUBLISH__INIT;
	Huddle__V1__SfuStart start = HUDDLE__V1__SFU_START__INIT;
	assert_int_equal(check(&req, "no body"), HD_EBADREQUEST);
	req.body_case = HUDDLE__V1__SFU_REQUEST__BODY_PUBLISH;
	req.publish = &pub;
	assert_int_equal(check(&req, "offer_sdp is empty"), HD_EBADREQUEST);
	char *sdp = filled(MEDIA_SDP_MAX, 'a');
	pub.offer_sdp = sdp;
	assert_int_equal(check(&req, NULL), HD_OK); // exactly the limit
	free(sdp);
	sdp = filled(MEDIA_SDP_MAX + 1, 'a');
	pub.offer_sdp = sdp;
	assert_int_equal(check(&req, "MEDIA_SDP_MAX"), HD_EBADREQUEST);

	req.body_case = HUDDLE__V1__SFU_REQUEST__BODY_START;
	req.start = &start;
	assert_int_equal(check(&req, "answer_sdp is empty"), HD_EBADREQUEST);
	start.answer_sdp = sdp;
	assert_int_equal(check(&req, "MEDIA_SDP_MAX"), HD_EBADREQUEST);
	start.answer_sdp = "v=0\r\n";
	assert_int_equal(check(&req, NULL), HD_OK);
	free(sdp);
}

static void test_trickle(void **state)
{
	Huddle__V1__SfuRequest req = HUDDLE__V1__SFU_REQUEST__INIT;
	Huddle__V1__SfuTrickle t = HUDDLE__V1__SFU_TRICKLE__INIT;
	req.body_case = HUDDLE__V1__SFU_REQUEST__BODY_TRICKLE;
	req.trickle = &t;
	t.completed = true;
	assert_int_equal(check(&req, "handle"), HD_EBADREQUEST);
	t.handle = HUDDLE__V1__SFU_HANDLE__SFU_HANDLE_SUBSCRIBER;
	assert_int_equal(check(&req, NULL), HD_OK);
	t.completed = false;
	assert_int_equal(check(&req, "candidate is empty"), HD_EBADREQUEST);
	char *c = filled(MEDIA_CANDIDATE_MAX + 1, 'c');
	t.candidate = c;
	assert_int_equal(check(&req, "MEDIA_CANDIDATE_MAX"), HD_EBADREQUEST);
	t.candidate = "candidate:1 1 udp 2122260223 10.203.0.1 41000 typ host";
	char *mid = filled(MEDIA_MID_MAX + 1, 'm');
	t.sdp_mid = mid;
	assert_int_equal(check(&req, "MEDIA_MID_MAX"), HD_EBADREQUEST);
	t.sdp_mid = "0";
	assert_int_equal(check(&req, NULL), HD_OK);
	free(c);
	free(mid);
}

static void test_subscribe_and_configure(void **state)
{
	Huddle__V1__SfuRequest req = HUDDLE__V1__SFU_REQUEST__INIT;
	Huddle__V1__SfuSubscribe sub = HUDDLE__V1__SFU_SUBSCRIBE__INIT;
	Huddle__V1__SfuFeed feed = HUDDLE__V1__SFU_FEED__INIT;
	Huddle__V1__SfuFeed *feeds[MEDIA_FEEDS_MAX + 1];
	for (size_t i = 0; i <= MEDIA_FEEDS_MAX; i++)
		feeds[i] = &feed;
	req.body_case = HUDDLE__V1__SFU_REQUEST__BODY_SUBSCRIBE;
	req.subscribe = &sub;
	assert_int_equal(check(&req, "feeds is empty"), HD_EBADREQUEST);
	sub.feeds = feeds;
	sub.n_feeds = 1;
	feed.participant_id = "nope";
	assert_int_equal(check(&req, "participant_id"), HD_EBADREQUEST);
	feed.participant_id = ID;
	assert_int_equal(check(&req, NULL), HD_OK); // mid "" = all the feed's streams
	sub.n_feeds = MEDIA_FEEDS_MAX + 1;
	assert_int_equal(check(&req, "MEDIA_FEEDS_MAX"), HD_ETOOLARGE);

	Huddle__V1__SfuConfigure conf = HUDDLE__V1__SFU_CONFIGURE__INIT;
	Huddle__V1__SfuSubstream st = HUDDLE__V1__SFU_SUBSTREAM__INIT;
	Huddle__V1__SfuSubstream *sts[] = {&st};
	req.body_case = HUDDLE__V1__SFU_REQUEST__BODY_CONFIGURE;
	req.configure = &conf;
	assert_int_equal(check(&req, "streams is empty"), HD_EBADREQUEST);
	conf.streams = sts;
	conf.n_streams = 1;
	assert_int_equal(check(&req, "mid"), HD_EBADREQUEST); // "" names no stream
	st.mid = "1";
	st.substream = 3;
	assert_int_equal(check(&req, "substream"), HD_EBADREQUEST);
	st.substream = 2;
	assert_int_equal(check(&req, NULL), HD_OK);
}

static void test_unpublish_and_leave(void **state)
{
	Huddle__V1__SfuRequest req = HUDDLE__V1__SFU_REQUEST__INIT;
	Huddle__V1__SfuUnpublish u = HUDDLE__V1__SFU_UNPUBLISH__INIT;
	Huddle__V1__SfuLeave l = HUDDLE__V1__SFU_LEAVE__INIT;
	req.body_case = HUDDLE__V1__SFU_REQUEST__BODY_UNPUBLISH;
	req.unpublish = &u;
	assert_int_equal(check(&req, NULL), HD_OK);
	req.body_case = HUDDLE__V1__SFU_REQUEST__BODY_LEAVE;
	req.leave = &l;
	assert_int_equal(check(&req, NULL), HD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_and_start),
		cmocka_unit_test(test_trickle),
		cmocka_unit_test(test_subscribe_and_configure),
		cmocka_unit_test(test_unpublish_and_leave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
