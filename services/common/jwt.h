// jwt.h: signed join links (RFC 7519 JWT, RFC 7515 JWS) via libjwt 1.10.
// Claims: room (a meeting id or "*"), name, role ("host" | "guest"), exp and
// nbf (required: exp; RFC 7519 section 4.1.4/4.1.5, HD_JWT_LEEWAY_S of
// leeway), iss and aud (checked when configured). Algorithms: HS256 with a
// shared secret, RS256 or ES256 with a PEM public key; the algorithm comes
// from the configuration, never from the token ("alg": "none" and any other
// algorithm than the configured one are refused).
#ifndef HD_JWT_H
#define HD_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"

#define HD_JWT_LEEWAY_S 30                 // seconds of clock skew allowed on exp and nbf
#define HD_JWT_MAX 4096                    // bytes of one token
#define HD_JWT_NAME_MAX 64                 // bytes of UTF-8 in the name claim
#define HD_JWT_TTL_MAX_S (366 * 24 * 3600) // longest expiry hd_jwt_mint accepts

enum hd_jwt_role { HD_JWT_GUEST = 1, HD_JWT_HOST = 2 }; // = huddle.v1.Role

// hd_jwt_config is what verifies (and, with an HS256 secret, mints) join
// tokens. Fill it from the settings JOIN_TOKEN_SECRET, JOIN_TOKEN_PUBLIC_KEY
// (a PEM file's contents; its key type picks RS256 or ES256),
// JOIN_TOKEN_ISSUER and JOIN_TOKEN_AUDIENCE. Strings are borrowed.
struct hd_jwt_config {
	const char *secret;         // HS256; NULL or "" when unset
	const char *public_key_pem; // RS256/ES256; NULL or "" when unset
	const char *issuer;         // NULL or "": iss not checked (and not minted)
	const char *audience;       // NULL or "": aud not checked (and not minted)
};

// hd_jwt_check_config checks cfg once at start: a public key must be a PEM
// RSA (RS256) or P-256 EC (ES256) public key. Returns HD_OK, or
// HD_EBADREQUEST with *why a static reason.
hd_err hd_jwt_check_config(const struct hd_jwt_config *cfg, const char **why);

// hd_jwt_claims is a verified token's content.
struct hd_jwt_claims {
	char room[HD_ID_LEN + 1]; // the meeting id, or "*"
	char name[HD_JWT_NAME_MAX + 1];
	enum hd_jwt_role role;
	int64_t exp_s; // Unix s
};

// hd_jwt_verify checks token (NUL-terminated) for meeting_id at now_s (Unix
// s) and fills *out. Returns HD_OK; HD_ETOKENINVALID with *why a static,
// human-readable reason ("the join link has expired", "... is not valid
// yet", "... is for another meeting", "... signature is not valid", "...
// algorithm is not allowed", "... is malformed") for any failure;
// HD_EUNAVAILABLE when neither a secret nor a public key is configured
// ("signed join links are not configured"); HD_ENOMEM.
hd_err hd_jwt_verify(const struct hd_jwt_config *cfg, const char *token, const char *meeting_id, int64_t now_s,
		     struct hd_jwt_claims *out, const char **why);

// hd_jwt_mint signs an HS256 token with cfg->secret for meeting_id (or "*"),
// name (may be ""), role, valid from now_s for ttl_s seconds (1 ..
// HD_JWT_TTL_MAX_S), with iss/aud when configured. *out is malloc'd (the
// caller frees it). Returns HD_OK, HD_EBADREQUEST (name, role or ttl out of
// range), HD_EUNAVAILABLE (no secret configured), HD_ENOMEM.
hd_err hd_jwt_mint(const struct hd_jwt_config *cfg, const char *meeting_id, const char *name, enum hd_jwt_role role,
		   int64_t now_s, int64_t ttl_s, char **out, const char **why);

#endif
