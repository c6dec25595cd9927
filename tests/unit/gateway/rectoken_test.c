// rectoken_test.c: recording tokens against vectors computed with
// `openssl dgst -sha256 -hmac`, expiry, another meeting, forged and
// malformed tokens.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <string.h>

#include "gateway/rectoken.h"

#define MEETING "AAAAAAAAAAAAAAAAAAAAAA"
#define OTHER_MEETING "CCCCCCCCCCCCCCCCCCCCCC"
#define PARTICIPANT "BBBBBBBBBBBBBBBBBBBBBB"
#define SECRET "north-star"

static enum gw_rectoken_result verify(const char *secret, const char *meeting, const char *token, int64_t now_s,
				      char pid[HD_ID_LEN + 1])
{
	return gw_rectoken_verify(secret, meeting, token, strlen(token), now_s, pid);
}

static void known_vector(void **state)
{
	char token[GW_RECTOKEN_MAX], pid[HD_ID_LEN + 1] = "";
	// echo -n "AAAAAAAAAAAAAAAAAAAAAA|BBBBBBBBBBBBBBBBBBBBBB|1700086400" |
	//   openssl dgst -sha256 -hmac north-star -binary | base64 | tr '+/' '-_' | tr -d '='
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, PARTICIPANT, 1700000000, 86400, token), HD_OK);
	assert_string_equal(token, "1700086400." PARTICIPANT ".vnPlp08RjAhE9P4vaDpL_vFdOXWAUu9NC3LigqVGJ4k");
	assert_int_equal(verify(SECRET, MEETING, token, 1700000000, pid), GW_RECTOKEN_OK);
	assert_string_equal(pid, PARTICIPANT);
	// The same participant in another meeting gets another MAC (same input with OTHER_MEETING first).
	assert_int_equal(gw_rectoken_mint(SECRET, OTHER_MEETING, PARTICIPANT, 1700000000, 86400, token), HD_OK);
	assert_string_equal(token, "1700086400." PARTICIPANT ".jWZH94lF6peZGhjmkZN5Kv_o7GlNQuI_v_L0i3kOHCA");
}

static void expiry(void **state)
{
	char token[GW_RECTOKEN_MAX], pid[HD_ID_LEN + 1] = "";
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, PARTICIPANT, 1000, 60, token), HD_OK);
	assert_int_equal(verify(SECRET, MEETING, token, 1059, pid), GW_RECTOKEN_OK);
	pid[0] = '\0';
	assert_int_equal(verify(SECRET, MEETING, token, 1060, pid), GW_RECTOKEN_EXPIRED);
	assert_int_equal(verify(SECRET, MEETING, token, 999999, pid), GW_RECTOKEN_EXPIRED);
	assert_string_equal(pid, ""); // not told unless valid
	// Moving the expiry forward breaks the MAC.
	token[3] = '9'; // "1060" -> "1069"
	assert_int_equal(verify(SECRET, MEETING, token, 1061, pid), GW_RECTOKEN_FORGED);
	// Bad inputs are refused at minting.
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, PARTICIPANT, 1000, 0, token), HD_EBADREQUEST);
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, PARTICIPANT, INT64_MAX, 1, token), HD_EBADREQUEST);
	assert_int_equal(gw_rectoken_mint(SECRET, "short", PARTICIPANT, 1000, 60, token), HD_EBADREQUEST);
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, "not an id at all......", 1000, 60, token), HD_EBADREQUEST);
}

static void wrong_meeting_and_secret(void **state)
{
	char token[GW_RECTOKEN_MAX], pid[HD_ID_LEN + 1] = "";
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, PARTICIPANT, 1000, 60, token), HD_OK);
	assert_int_equal(verify(SECRET, OTHER_MEETING, token, 1000, pid), GW_RECTOKEN_FORGED);
	assert_int_equal(verify("another-secret", MEETING, token, 1000, pid), GW_RECTOKEN_FORGED);
	assert_int_equal(verify(SECRET, "not-a-meeting", token, 1000, pid), GW_RECTOKEN_MALFORMED);
	assert_string_equal(pid, "");
}

static void forged_mac(void **state)
{
	char token[GW_RECTOKEN_MAX], forged[GW_RECTOKEN_MAX], pid[HD_ID_LEN + 1] = "";
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, PARTICIPANT, 1000, 60, token), HD_OK);
	size_t len = strlen(token);
	// Every single-character change of the MAC is refused.
	for (size_t i = len - GW_RECTOKEN_MAC_LEN; i < len; i++) {
		memcpy(forged, token, len + 1);
		forged[i] = forged[i] == 'A' ? 'B' : 'A';
		assert_int_equal(verify(SECRET, MEETING, forged, 1000, pid), GW_RECTOKEN_FORGED);
	}
	// Another participant's id with this MAC: forged.
	memcpy(forged, token, len + 1);
	forged[strchr(token, '.') - token + 1] = 'C';
	assert_int_equal(verify(SECRET, MEETING, forged, 1000, pid), GW_RECTOKEN_FORGED);
	// A MAC computed for another participant does not transfer.
	char other[GW_RECTOKEN_MAX];
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, "DDDDDDDDDDDDDDDDDDDDDD", 1000, 60, other), HD_OK);
	snprintf(forged, sizeof(forged), "1060.%s.%s", PARTICIPANT, strrchr(other, '.') + 1);
	assert_int_equal(verify(SECRET, MEETING, forged, 1000, pid), GW_RECTOKEN_FORGED);
	assert_string_equal(pid, "");
}

static void malformed(void **state)
{
	char token[GW_RECTOKEN_MAX], bad[GW_RECTOKEN_MAX + 8], pid[HD_ID_LEN + 1] = "";
	assert_int_equal(gw_rectoken_mint(SECRET, MEETING, PARTICIPANT, 1000, 60, token), HD_OK);
	const char *mac = strrchr(token, '.') + 1;
	const char *cases[] = {
		"",
		".",
		"..",
		"1060",
		"1060." PARTICIPANT,
		"1060." PARTICIPANT ".",
		"abc." PARTICIPANT ".x",
		"-1060." PARTICIPANT ".x",
		"+1060." PARTICIPANT ".x",
		"01060." PARTICIPANT ".x",
		"99999999999999999999." PARTICIPANT ".x",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(verify(SECRET, MEETING, cases[i], 1000, pid), GW_RECTOKEN_MALFORMED);
	// A leading zero, a short or long MAC, a bad id, a bad separator.
	snprintf(bad, sizeof(bad), "01060.%s.%s", PARTICIPANT, mac);
	assert_int_equal(verify(SECRET, MEETING, bad, 1000, pid), GW_RECTOKEN_MALFORMED);
	snprintf(bad, sizeof(bad), "1060.%s.%.42s", PARTICIPANT, mac);
	assert_int_equal(verify(SECRET, MEETING, bad, 1000, pid), GW_RECTOKEN_MALFORMED);
	snprintf(bad, sizeof(bad), "1060.%s.%sA", PARTICIPANT, mac);
	assert_int_equal(verify(SECRET, MEETING, bad, 1000, pid), GW_RECTOKEN_MALFORMED);
	snprintf(bad, sizeof(bad), "1060.BBBBBBBBBBBBBBBBBBBBB!.%s", mac);
	assert_int_equal(verify(SECRET, MEETING, bad, 1000, pid), GW_RECTOKEN_MALFORMED);
	snprintf(bad, sizeof(bad), "1060.%s:%s", PARTICIPANT, mac);
	assert_int_equal(verify(SECRET, MEETING, bad, 1000, pid), GW_RECTOKEN_MALFORMED);
	// Only len bytes are read: the token cut short is malformed, whatever follows.
	assert_int_equal(gw_rectoken_verify(SECRET, MEETING, token, strlen(token) - 1, 1000, pid),
			 GW_RECTOKEN_MALFORMED);
	assert_string_equal(pid, "");
	assert_int_equal(gw_rectoken_verify(SECRET, MEETING, token, strlen(token), 1000, pid), GW_RECTOKEN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_vector), cmocka_unit_test(expiry),    cmocka_unit_test(wrong_meeting_and_secret),
		cmocka_unit_test(forged_mac),   cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
