// rectoken.c: recording tokens (HMAC-SHA256 via OpenSSL).
#include "gateway/rectoken.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define EXPIRY_DIGITS_MAX 19 // INT64_MAX has 19 digits

// token_mac writes the base64url MAC of (meeting_id, participant_id,
// expiry) into mac. Returns HD_OK or HD_EINTERNAL.
static hd_err token_mac(const char *secret, const char *meeting_id, const char *participant_id, int64_t expiry,
			char mac[GW_RECTOKEN_MAC_LEN + 1])
{
	char msg[2 * HD_ID_LEN + EXPIRY_DIGITS_MAX + 3];
	unsigned char raw[EVP_MAX_MD_SIZE];
	char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int raw_len = 0;
	int n = snprintf(msg, sizeof(msg), "%s|%s|%" PRId64, meeting_id, participant_id, expiry);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return HD_EINTERNAL;
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, (size_t)n, raw, &raw_len) ==
		    NULL ||
	    raw_len != 32)
		return HD_EINTERNAL;
	if (hd_base64url_encode(raw, raw_len, b64) != GW_RECTOKEN_MAC_LEN)
		return HD_EINTERNAL;
	memcpy(mac, b64, GW_RECTOKEN_MAC_LEN + 1);
	return HD_OK;
}

hd_err gw_rectoken_mint(const char *secret, const char *meeting_id, const char *participant_id, int64_t now_s,
			int64_t ttl_s, char out[GW_RECTOKEN_MAX])
{
	char mac[GW_RECTOKEN_MAC_LEN + 1];
	hd_err err;
	if (!hd_id_valid(meeting_id) || !hd_id_valid(participant_id) || now_s <= 0 || ttl_s <= 0 ||
	    now_s > INT64_MAX - ttl_s)
		return HD_EBADREQUEST;
	int64_t expiry = now_s + ttl_s;
	if ((err = token_mac(secret, meeting_id, participant_id, expiry, mac)) != HD_OK)
		return err;
	int n = snprintf(out, GW_RECTOKEN_MAX, "%" PRId64 ".%s.%s", expiry, participant_id, mac);
	return n > 0 && n < GW_RECTOKEN_MAX ? HD_OK : HD_EINTERNAL;
}

// parse_expiry reads 1..19 decimal digits without a leading zero (the one
// spelling the MAC covers) that fit an int64.
static bool parse_expiry(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > EXPIRY_DIGITS_MAX || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

enum gw_rectoken_result gw_rectoken_verify(const char *secret, const char *meeting_id, const char *token, size_t len,
					   int64_t now_s, char participant_id[HD_ID_LEN + 1])
{
	char pid[HD_ID_LEN + 1], mac[GW_RECTOKEN_MAC_LEN + 1];
	int64_t expiry;
	const char *dot = memchr(token, '.', len);
	if (dot == NULL || !parse_expiry(token, (size_t)(dot - token), &expiry))
		return GW_RECTOKEN_MALFORMED;
	// The rest is exactly "<22-char id>.<43-char MAC>".
	const char *rest = dot + 1;
	size_t rest_len = len - (size_t)(rest - token);
	if (rest_len != HD_ID_LEN + 1 + GW_RECTOKEN_MAC_LEN || rest[HD_ID_LEN] != '.')
		return GW_RECTOKEN_MALFORMED;
	memcpy(pid, rest, HD_ID_LEN);
	pid[HD_ID_LEN] = '\0';
	if (!hd_id_valid(pid) || !hd_id_valid(meeting_id))
		return GW_RECTOKEN_MALFORMED;
	if (token_mac(secret, meeting_id, pid, expiry, mac) != HD_OK)
		return GW_RECTOKEN_FORGED; // cannot vouch for it
	if (CRYPTO_memcmp(mac, rest + HD_ID_LEN + 1, GW_RECTOKEN_MAC_LEN) != 0)
		return GW_RECTOKEN_FORGED;
	if (now_s >= expiry)
		return GW_RECTOKEN_EXPIRED;
	memcpy(participant_id, pid, HD_ID_LEN + 1);
	return GW_RECTOKEN_OK;
}

const char *gw_rectoken_strerror(enum gw_rectoken_result r)
{
	switch (r) {
	case GW_RECTOKEN_OK:
		return "valid";
	case GW_RECTOKEN_EXPIRED:
		return "the recording token has expired; join the meeting again for a new one";
	case GW_RECTOKEN_FORGED:
		return "the recording token is not valid for this meeting";
	default:
		return "the recording token is malformed";
	}
}
