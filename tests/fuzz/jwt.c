// jwt.c: fuzzes hd_jwt_verify (common/jwt.c), the signed join link check the
// gateway runs on every JoinRequest.join_token, and hd_jwt_check_config.
// Input: one byte picks the configuration (HS256 secret, RS256 or ES256
// public key, none; issuer and audience checked or not; bit 7: the rest is a
// PEM public key given to hd_jwt_check_config and then used to verify a
// fixed token), one byte the meeting asked for, the rest the token as the
// gateway passes it (NUL-terminated, at most HD_JWT_MAX bytes).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jwt.h"
#include "common/log.h"
#include "support/input.h"

#define FZ_NOW_S 1800000000LL // the clock of every verification (the seeds are valid then)
#define FZ_SECRET "fuzz-secret-0123456789abcdef0123456789abcdef"
#define FZ_MEETING "abcdefghijklmnopqrstuv"

static const char ec_pub[] = "-----BEGIN PUBLIC KEY-----\n"
			     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+bJvl0XY9ZEDPCvFsS8oECDKCFR0\n"
			     "f9INCGEanYu31T7CnE/sGomuH//5XM8Dc1Oa8ZivN2ShTeSTtwGp9IrIkA==\n"
			     "-----END PUBLIC KEY-----\n";

static const char rsa_pub[] = "-----BEGIN PUBLIC KEY-----\n"
			      "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAshBY7pUEz+ARV3U8L/EC\n"
			      "dqzp01fSOl1pyERbvmsyND/tdUD9qzhDiyr2IvI8kKz8K6f/x/p/q9T5cS9pmh4f\n"
			      "nf6WnOYZDZESZB/HKEsktMIfj4kJZv+vYVtmAdUbpmIIMF0LUUjL5EVEPOmJQE9W\n"
			      "J0LFyet+Tg6/Dzx9Te0XtS80qkItD7nffKaTvedy37BvsRpKnMsCrnGKmIFMIOFd\n"
			      "78G3XqYRT8jfTrPEOjxnSnkkv3FYYX7qGp8YiSYeKMNYPMR1SgRMwmmQCuADh+kL\n"
			      "cNpqcgpLa+7nHmU6JXUJMfqTn7PAJw114Y550vbcqrVBdFALOdrko0aKXvIZ3d5f\n"
			      "NQIDAQAB\n"
			      "-----END PUBLIC KEY-----\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	hd_log_level = -1; // quiet: a log line per input would dominate the run
	return 0;
}

static void verify(const struct hd_jwt_config *cfg, const char *token, const char *meeting)
{
	struct hd_jwt_claims claims;
	const char *why = NULL;
	memset(&claims, 0xa5, sizeof(claims));
	hd_err err = hd_jwt_verify(cfg, token, meeting, FZ_NOW_S, &claims, &why);
	if (err == HD_OK) {
		// What the gateway then reads must be terminated and in range.
		if (strlen(claims.room) > HD_ID_LEN || strlen(claims.name) > HD_JWT_NAME_MAX ||
		    (claims.role != HD_JWT_GUEST && claims.role != HD_JWT_HOST))
			abort();
		if (strcmp(claims.room, "*") != 0 && strcmp(claims.room, meeting) != 0)
			abort(); // verified for another meeting
	} else if (why == NULL && err == HD_ETOKENINVALID) {
		abort(); // the contract: a reason for every refusal
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_init(&in, data, size);
	uint8_t how = fz_u8(&in), which = fz_u8(&in);
	// The gateway verifies only for a valid meeting id (hd_id_valid).
	const char *meeting = (which & 1) == 0 ? FZ_MEETING : "vutsrqponmlkjihgfedcba";
	size_t n;
	const uint8_t *rest = fz_rest(&in, &n);
	char *text = malloc(n + 1);
	if (text == NULL)
		return 0;
	memcpy(text, rest, n);
	text[n] = '\0';
	struct hd_jwt_config cfg = {0};
	cfg.issuer = (how & 4) ? "https://lms.example.com" : "";
	cfg.audience = (how & 8) ? "huddle" : "";
	if (how & 0x80) {
		// The rest is a public key (JOIN_TOKEN_PUBLIC_KEY's contents).
		const char *why = NULL;
		cfg.public_key_pem = text;
		if (hd_jwt_check_config(&cfg, &why) == HD_OK)
			verify(&cfg,
			       "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoiKiIsImV4cCI6MTgwMDAwMDA2MH0.c2ln",
			       meeting);
		free(text);
		return 0;
	}
	switch (how & 3) {
	case 0:
		cfg.secret = FZ_SECRET;
		break;
	case 1:
		cfg.public_key_pem = rsa_pub;
		break;
	case 2:
		cfg.public_key_pem = ec_pub;
		break;
	default:
		break; // neither: UNAVAILABLE
	}
	if (strlen(text) <= HD_JWT_MAX) // as the gateway bounds it before verifying
		verify(&cfg, text, meeting);
	free(text);
	return 0;
}
