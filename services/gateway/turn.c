// turn.c: TURN REST API credentials (HMAC-SHA1 via OpenSSL).
#include "gateway/turn.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

hd_err gw_turn_credentials(const char *secret, const char *participant_id, int64_t now_s, int64_t ttl_s,
			   char username[GW_TURN_USERNAME_MAX], char credential[GW_TURN_CREDENTIAL_MAX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	int n = snprintf(username, GW_TURN_USERNAME_MAX, "%" PRId64 ":%s", now_s + ttl_s, participant_id);
	if (n < 0 || n >= GW_TURN_USERNAME_MAX)
		return HD_EBADREQUEST;
	if (HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)username, (size_t)n, mac, &mac_len) ==
		    NULL ||
	    mac_len != 20)
		return HD_EINTERNAL;
	EVP_EncodeBlock((unsigned char *)credential, mac, (int)mac_len);
	return HD_OK;
}
