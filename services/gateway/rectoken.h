// rectoken.h: recording tokens, what lets a participant create, upload,
// finish and delete recordings over HTTP (proto/huddle/v1/recording.proto,
// JoinReply.recording_token). A token is minted at join and resume and
// checked statelessly by any gateway that knows RECORDING_TOKEN_SECRET.
#ifndef GW_RECTOKEN_H
#define GW_RECTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"

// GW_RECTOKEN_MAX is the size of a token buffer, bytes with the NUL: up to
// 19 digits of expiry, '.', a 22-character id, '.', 43 characters of MAC.
#define GW_RECTOKEN_MAX 88
#define GW_RECTOKEN_MAC_LEN 43 // base64url without padding of 32 bytes

// gw_rectoken_mint writes "<expiry>.<participant_id>.<mac>" into out, where
// expiry = now_s + ttl_s (Unix seconds, decimal, no leading zeros) and mac
// is base64url without padding (RFC 4648 section 5) of
// HMAC-SHA256(secret, "<meeting_id>|<participant_id>|<expiry>") (RFC 2104).
// The meeting id is not in the token: the URL names it, and a token only
// verifies for the meeting it was minted for. Returns HD_OK, HD_EBADREQUEST
// when an id is not an id or the expiry is not positive, HD_EINTERNAL when
// OpenSSL fails.
hd_err gw_rectoken_mint(const char *secret, const char *meeting_id, const char *participant_id, int64_t now_s,
			int64_t ttl_s, char out[GW_RECTOKEN_MAX]);

// gw_rectoken_result is what checking a token found.
enum gw_rectoken_result {
	GW_RECTOKEN_OK,        // minted by us for this meeting, not expired
	GW_RECTOKEN_MALFORMED, // not of the token's form
	GW_RECTOKEN_FORGED,    // the MAC does not match: another meeting, another secret, altered
	GW_RECTOKEN_EXPIRED,   // genuine, but now_s is at or past its expiry
};

// gw_rectoken_verify checks token (len bytes, no NUL needed) for meeting_id
// at now_s. The MAC is compared in constant time (CRYPTO_memcmp), before the
// expiry is looked at. On GW_RECTOKEN_OK (and only then) participant_id
// holds the participant the token was minted for.
enum gw_rectoken_result gw_rectoken_verify(const char *secret, const char *meeting_id, const char *token, size_t len,
					   int64_t now_s, char participant_id[HD_ID_LEN + 1]);

// gw_rectoken_strerror is a static text for the client: why a token was
// refused ("the recording token has expired", ...).
const char *gw_rectoken_strerror(enum gw_rectoken_result r);

#endif
