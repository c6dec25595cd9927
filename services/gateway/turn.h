// turn.h: TURN credentials for the browser's ICE servers.
#ifndef GW_TURN_H
#define GW_TURN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define GW_TURN_USERNAME_MAX 64
#define GW_TURN_CREDENTIAL_MAX 32 // base64 of a 20-byte SHA-1 MAC is 28 chars

// gw_turn_credentials mints ephemeral TURN credentials following the TURN
// REST API draft (draft-uberti-behave-turn-rest-00 section 2.2) as coturn's
// use-auth-secret expects: username "<expiry unix seconds>:<participant_id>"
// with expiry = now_s + ttl_s, credential = base64(HMAC-SHA1(secret,
// username)) with padding. Writes NUL-terminated strings into username and
// credential. Returns HD_OK, HD_EBADREQUEST when participant_id does not fit,
// HD_EINTERNAL when OpenSSL fails.
hd_err gw_turn_credentials(const char *secret, const char *participant_id, int64_t now_s, int64_t ttl_s,
			   char username[GW_TURN_USERNAME_MAX], char credential[GW_TURN_CREDENTIAL_MAX]);

#endif
