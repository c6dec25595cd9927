// jwt.c: signed join links with libjwt 1.10 (RFC 7519 claims, RFC 7515
// signatures). libjwt verifies the signature; this file picks the key and
// the one algorithm that key allows, and checks the claims (parsed with
// cJSON from libjwt's JSON of them, so every type is checked here).
#include "common/jwt.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <jwt.h>
#include <math.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY_MALFORMED "the join link is malformed"
#define WHY_SIGNATURE "the join link's signature is not valid"

// jwt_pem_alg tells which algorithm a PEM public key verifies: RS256 for an
// RSA key, ES256 for a P-256 key; JWT_ALG_INVAL for anything else.
static jwt_alg_t jwt_pem_alg(const char *pem)
{
	jwt_alg_t alg = JWT_ALG_INVAL;
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	if (key != NULL) {
		char curve[64] = "";
		size_t n = 0;
		if (EVP_PKEY_base_id(key) == EVP_PKEY_RSA)
			alg = JWT_ALG_RS256;
		else if (EVP_PKEY_base_id(key) == EVP_PKEY_EC &&
			 EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), &n) == 1 &&
			 strcmp(curve, SN_X9_62_prime256v1) == 0)
			alg = JWT_ALG_ES256;
	}
	EVP_PKEY_free(key);
	BIO_free(bio);
	return alg;
}

static bool set(const char *s)
{
	return s != NULL && *s != '\0';
}

hd_err hd_jwt_check_config(const struct hd_jwt_config *cfg, const char **why)
{
	*why = NULL;
	if (set(cfg->public_key_pem) && jwt_pem_alg(cfg->public_key_pem) == JWT_ALG_INVAL) {
		*why = "the public key is not a PEM RSA or P-256 (EC) public key";
		return HD_EBADREQUEST;
	}
	return HD_OK;
}

// claim_string returns the string claim name of claims, "" when absent, or
// NULL when it is there but not a string.
static const char *claim_string(const cJSON *claims, const char *name)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(claims, name);
	if (c == NULL)
		return "";
	return cJSON_IsString(c) ? c->valuestring : NULL;
}

// claim_time reads a NumericDate claim (RFC 7519 section 2: a number, maybe
// fractional) into *out. Returns 1 when present, 0 when absent, -1 when not
// a finite number.
static int claim_time(const cJSON *claims, const char *name, double *out)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(claims, name);
	if (c == NULL)
		return 0;
	if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble))
		return -1;
	*out = c->valuedouble;
	return 1;
}

// audience_has tells whether the aud claim (a string or an array of
// strings, RFC 7519 section 4.1.3) names audience.
static bool audience_has(const cJSON *claims, const char *audience)
{
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud"), *a;
	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, audience) == 0;
	if (!cJSON_IsArray(aud))
		return false;
	cJSON_ArrayForEach(a, aud)
	{
		if (cJSON_IsString(a) && strcmp(a->valuestring, audience) == 0)
			return true;
	}
	return false;
}

// check_claims checks the verified claims (JSON text) and fills *out.
static hd_err check_claims(const struct hd_jwt_config *cfg, const char *json, const char *meeting_id, int64_t now_s,
			   struct hd_jwt_claims *out, const char **why)
{
	hd_err err = HD_ETOKENINVALID;
	double exp, nbf;
	int has_nbf;
	cJSON *claims = cJSON_Parse(json);
	if (claims == NULL || !cJSON_IsObject(claims)) {
		*why = WHY_MALFORMED;
		goto out;
	}
	const char *room = claim_string(claims, "room"), *name = claim_string(claims, "name"),
		   *role = claim_string(claims, "role");
	switch (claim_time(claims, "exp", &exp)) {
	case 0:
		*why = "the join link has no expiry";
		goto out;
	case -1:
		*why = WHY_MALFORMED;
		goto out;
	}
	if ((has_nbf = claim_time(claims, "nbf", &nbf)) < 0 || room == NULL || name == NULL || role == NULL) {
		*why = WHY_MALFORMED;
		goto out;
	}
	if ((double)now_s > exp + HD_JWT_LEEWAY_S) {
		*why = "the join link has expired";
		goto out;
	}
	if (has_nbf && (double)now_s + HD_JWT_LEEWAY_S < nbf) {
		*why = "the join link is not valid yet";
		goto out;
	}
	if (*room == '\0') {
		*why = "the join link names no meeting";
		goto out;
	}
	if (strcmp(room, "*") != 0 && strcmp(room, meeting_id) != 0) {
		*why = "the join link is for another meeting";
		goto out;
	}
	if (strcmp(role, "") != 0 && strcmp(role, "guest") != 0 && strcmp(role, "host") != 0) {
		*why = "the join link's role is not host or guest";
		goto out;
	}
	if (strlen(name) > HD_JWT_NAME_MAX || !hd_utf8_valid(name, strlen(name))) {
		*why = "the join link's name is too long or not UTF-8";
		goto out;
	}
	if (set(cfg->issuer)) {
		const char *iss = claim_string(claims, "iss");
		if (iss == NULL || strcmp(iss, cfg->issuer) != 0) {
			*why = "the join link is from another issuer";
			goto out;
		}
	}
	if (set(cfg->audience) && !audience_has(claims, cfg->audience)) {
		*why = "the join link is for another audience";
		goto out;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->room, sizeof(out->room), "%s", room);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->role = strcmp(role, "host") == 0 ? HD_JWT_HOST : HD_JWT_GUEST;
	out->exp_s = exp >= (double)INT64_MAX ? INT64_MAX : (int64_t)exp;
	err = HD_OK;
out:
	cJSON_Delete(claims);
	return err;
}

hd_err hd_jwt_verify(const struct hd_jwt_config *cfg, const char *token, const char *meeting_id, int64_t now_s,
		     struct hd_jwt_claims *out, const char **why)
{
	jwt_t *unverified = NULL, *jwt = NULL;
	const char *key;
	hd_err err = HD_ETOKENINVALID;
	*why = NULL;
	if (!set(cfg->secret) && !set(cfg->public_key_pem)) {
		*why = "signed join links are not configured";
		return HD_EUNAVAILABLE;
	}
	size_t len = strnlen(token, HD_JWT_MAX + 1);
	if (len > HD_JWT_MAX) {
		*why = "the join link is too long";
		return HD_ETOKENINVALID;
	}
	// Parsing without a key checks only the form, and keeps the header:
	// its alg picks the key, and only the algorithm that key allows.
	int rv = jwt_decode(&unverified, token, NULL, 0);
	if (rv == ENOMEM)
		return HD_ENOMEM;
	if (rv != 0 || unverified == NULL) {
		*why = WHY_MALFORMED;
		return HD_ETOKENINVALID;
	}
	const char *alg_name = jwt_get_header(unverified, "alg");
	jwt_alg_t alg = alg_name != NULL ? jwt_str_alg(alg_name) : JWT_ALG_INVAL;
	// jwt_str_alg is case-insensitive; RFC 7518 section 3.1 names are not.
	if (alg == JWT_ALG_HS256 && strcmp(alg_name, "HS256") == 0 && set(cfg->secret)) {
		key = cfg->secret;
	} else if ((alg == JWT_ALG_RS256 || alg == JWT_ALG_ES256) && strcmp(alg_name, jwt_alg_str(alg)) == 0 &&
		   set(cfg->public_key_pem) && jwt_pem_alg(cfg->public_key_pem) == alg) {
		key = cfg->public_key_pem;
	} else {
		*why = "the join link's algorithm is not allowed";
		goto out;
	}
	// With a key, libjwt 1.10 refuses alg "none" (EINVAL) and checks the
	// signature with the header's algorithm, which is the allowed one.
	rv = jwt_decode(&jwt, token, (const unsigned char *)key, (int)strlen(key));
	if (rv == ENOMEM) {
		err = HD_ENOMEM;
		goto out;
	}
	if (rv != 0 || jwt == NULL || jwt_get_alg(jwt) != alg) {
		*why = WHY_SIGNATURE;
		goto out;
	}
	char *json = jwt_get_grants_json(jwt, NULL);
	if (json == NULL) {
		*why = WHY_MALFORMED;
		goto out;
	}
	err = check_claims(cfg, json, meeting_id, now_s, out, why);
	free(json);
out:
	jwt_free(jwt);
	jwt_free(unverified);
	return err;
}

hd_err hd_jwt_mint(const struct hd_jwt_config *cfg, const char *meeting_id, const char *name, enum hd_jwt_role role,
		   int64_t now_s, int64_t ttl_s, char **out, const char **why)
{
	jwt_t *jwt = NULL;
	hd_err err = HD_EBADREQUEST;
	*out = NULL;
	*why = NULL;
	if (!set(cfg->secret)) {
		*why = "signed join links are not configured (JOIN_TOKEN_SECRET)";
		return HD_EUNAVAILABLE;
	}
	if (meeting_id == NULL || (strcmp(meeting_id, "*") != 0 && !hd_id_valid(meeting_id))) {
		*why = "the meeting id is not valid";
		return HD_EBADREQUEST;
	}
	if (name == NULL)
		name = "";
	if (strlen(name) > HD_JWT_NAME_MAX || !hd_utf8_valid(name, strlen(name))) {
		*why = "the name is too long or not UTF-8";
		return HD_EBADREQUEST;
	}
	if (role != HD_JWT_GUEST && role != HD_JWT_HOST) {
		*why = "the role must be host or guest";
		return HD_EBADREQUEST;
	}
	if (ttl_s < 1 || ttl_s > (int64_t)(HD_JWT_TTL_MAX_S)) {
		*why = "the expiry is out of range";
		return HD_EBADREQUEST;
	}
	err = HD_ENOMEM;
	if (jwt_new(&jwt) != 0)
		goto out;
	if (jwt_add_grant(jwt, "room", meeting_id) != 0 || (*name != '\0' && jwt_add_grant(jwt, "name", name) != 0) ||
	    jwt_add_grant(jwt, "role", role == HD_JWT_HOST ? "host" : "guest") != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)now_s) != 0 || jwt_add_grant_int(jwt, "nbf", (long)now_s) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)(now_s + ttl_s)) != 0 ||
	    (set(cfg->issuer) && jwt_add_grant(jwt, "iss", cfg->issuer) != 0) ||
	    (set(cfg->audience) && jwt_add_grant(jwt, "aud", cfg->audience) != 0) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->secret, (int)strlen(cfg->secret)) != 0)
		goto out;
	char *token = jwt_encode_str(jwt); // malloc'd by libjwt's default allocator
	if (token == NULL)
		goto out;
	*out = token;
	err = HD_OK;
out:
	jwt_free(jwt);
	return err;
}
