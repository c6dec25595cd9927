// jwt_test.c: signed join links. Tokens are built here by hand (base64url,
// HMAC and EVP signatures from OpenSSL, ECDSA in the JWS R||S form of RFC
// 7518 section 3.4), not by libjwt, so the verifier is checked against the
// standard rather than against itself. Keys are generated at test time.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jwt.h"

#define MEETING "abcdefghijklmnopqrstuv" // 22 chars, a valid id
#define OTHER "vutsrqponmlkjihgfedcba"
#define SECRET "9f1c2b7e0d4a6c8e1f3b5d7a9c0e2f4b6d8a0c2e4f6b8d0a2c4e6f8b0d2a4c6e"
#define NOW 1800000000LL

enum sig { SIG_HS256, SIG_EVP, SIG_NONE };

struct keys {
	EVP_PKEY *rsa, *rsa_other, *ec, *ec_other, *ec384;
	char *rsa_pem, *ec_pem, *ec384_pem;
};

static struct keys K;

static char *b64(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	assert_non_null(out);
	hd_base64url_encode(data, len, out);
	return out;
}

static char *public_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	long n = BIO_get_mem_data(bio, &data);
	char *pem = strndup(data, (size_t)n);
	BIO_free(bio);
	return pem;
}

// sign_evp signs input with key (SHA-256); an EC signature is turned from
// DER into the 64-byte R||S that JWS uses.
static size_t sign_evp(EVP_PKEY *key, const char *input, unsigned char *out)
{
	unsigned char der[1024];
	size_t n = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &n, (const unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	if (EVP_PKEY_base_id(key) != EVP_PKEY_EC) {
		memcpy(out, der, n);
		return n;
	}
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
	assert_non_null(sig);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32), 32);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32), 32);
	ECDSA_SIG_free(sig);
	return 64;
}

// token builds header.payload.signature; hmac_key for SIG_HS256, key for SIG_EVP.
static char *token(const char *header, const char *payload, enum sig how, const char *hmac_key, EVP_PKEY *key)
{
	char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
	size_t n = strlen(h) + strlen(p) + 2;
	char *input = malloc(n);
	snprintf(input, n, "%s.%s", h, p);
	unsigned char sig[1024];
	size_t sig_len = 0;
	if (how == SIG_HS256) {
		unsigned int l = 0;
		HMAC(EVP_sha256(), hmac_key, (int)strlen(hmac_key), (const unsigned char *)input, strlen(input), sig,
		     &l);
		sig_len = l;
	} else if (how == SIG_EVP) {
		sig_len = sign_evp(key, input, sig);
	}
	char *s = b64(sig, sig_len);
	char *out = malloc(n + strlen(s) + 1);
	snprintf(out, n + strlen(s) + 1, "%s.%s", input, s);
	free(h);
	free(p);
	free(input);
	free(s);
	return out;
}

static const char *HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char *RS = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
static const char *ES = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";

// claims formats a payload valid from NOW - 10 for an hour, with extra
// members appended (or replacing nothing: keys given twice are not used).
static char *claims(const char *room, const char *extra)
{
	static char buf[8][1024];
	static int i;
	char *b = buf[i++ % 8];
	snprintf(b, 1024, "{\"room\":\"%s\",\"nbf\":%lld,\"exp\":%lld%s%s}", room, NOW - 10, NOW + 3600,
		 extra != NULL ? "," : "", extra != NULL ? extra : "");
	return b;
}

static const struct hd_jwt_config HS_CFG = {.secret = SECRET};

// verify checks t for MEETING at now and returns the error; *why set.
static hd_err verify_at(const struct hd_jwt_config *cfg, char *t, int64_t now, struct hd_jwt_claims *c,
			const char **why)
{
	hd_err err = hd_jwt_verify(cfg, t, MEETING, now, c, why);
	free(t);
	return err;
}

#define assert_refused(cfg, t, now, words)                                                                             \
	do {                                                                                                           \
		struct hd_jwt_claims c_;                                                                               \
		const char *why_ = NULL;                                                                               \
		assert_int_equal(verify_at((cfg), (t), (now), &c_, &why_), HD_ETOKENINVALID);                          \
		assert_non_null(why_);                                                                                 \
		if (strstr(why_, (words)) == NULL)                                                                     \
			fail_msg("why is \"%s\", expected it to contain \"%s\"", why_, (words));                       \
	} while (0)

static void good_hs256(void **state)
{
	(void)state;
	struct hd_jwt_claims c;
	const char *why = "x";
	char *t = token(HS, claims(MEETING, "\"name\":\"Ada Lovelace\",\"role\":\"host\""), SIG_HS256, SECRET, NULL);
	assert_int_equal(verify_at(&HS_CFG, t, NOW, &c, &why), HD_OK);
	assert_null(why);
	assert_string_equal(c.room, MEETING);
	assert_string_equal(c.name, "Ada Lovelace");
	assert_int_equal(c.role, HD_JWT_HOST);
	assert_int_equal(c.exp_s, NOW + 3600);
	// Absent role and name: a guest without a name; a fractional exp is a NumericDate too.
	t = token(HS, "{\"room\":\"" MEETING "\",\"exp\":1800000100.5}", SIG_HS256, SECRET, NULL);
	assert_int_equal(verify_at(&HS_CFG, t, NOW, &c, &why), HD_OK);
	assert_int_equal(c.role, HD_JWT_GUEST);
	assert_string_equal(c.name, "");
	assert_int_equal(c.exp_s, NOW + 100);
}

static void expiry_and_not_before_with_leeway(void **state)
{
	(void)state;
	struct hd_jwt_claims c;
	const char *why;
	const char *p = claims(MEETING, NULL);
	// exp = NOW + 3600: refused 31 s after, accepted 29 s after (leeway 30 s).
	assert_refused(&HS_CFG, token(HS, p, SIG_HS256, SECRET, NULL), NOW + 3600 + HD_JWT_LEEWAY_S + 1, "expired");
	assert_int_equal(
		verify_at(&HS_CFG, token(HS, p, SIG_HS256, SECRET, NULL), NOW + 3600 + HD_JWT_LEEWAY_S - 1, &c, &why),
		HD_OK);
	// nbf = NOW - 10: refused 41 s before NOW, accepted 39 s before.
	assert_refused(&HS_CFG, token(HS, p, SIG_HS256, SECRET, NULL), NOW - 10 - HD_JWT_LEEWAY_S - 1, "not valid yet");
	assert_int_equal(
		verify_at(&HS_CFG, token(HS, p, SIG_HS256, SECRET, NULL), NOW - 10 - HD_JWT_LEEWAY_S + 1, &c, &why),
		HD_OK);
	// exp is required.
	assert_refused(&HS_CFG, token(HS, "{\"room\":\"" MEETING "\"}", SIG_HS256, SECRET, NULL), NOW, "no expiry");
}

static void room_must_match(void **state)
{
	(void)state;
	struct hd_jwt_claims c;
	const char *why;
	assert_refused(&HS_CFG, token(HS, claims(OTHER, NULL), SIG_HS256, SECRET, NULL), NOW, "another meeting");
	assert_refused(&HS_CFG, token(HS, "{\"exp\":1900000000}", SIG_HS256, SECRET, NULL), NOW, "no meeting");
	assert_refused(&HS_CFG, token(HS, claims("", NULL), SIG_HS256, SECRET, NULL), NOW, "no meeting");
	assert_int_equal(verify_at(&HS_CFG, token(HS, claims("*", NULL), SIG_HS256, SECRET, NULL), NOW, &c, &why),
			 HD_OK);
	assert_string_equal(c.room, "*");
}

static void wrong_signature(void **state)
{
	(void)state;
	const char *p = claims(MEETING, "\"role\":\"host\"");
	assert_refused(&HS_CFG, token(HS, p, SIG_HS256, "another secret", NULL), NOW, "signature");
	// A payload changed after signing (guest -> host).
	char *good = token(HS, claims(MEETING, "\"role\":\"guest\""), SIG_HS256, SECRET, NULL);
	char *forged = token(HS, p, SIG_HS256, "x", NULL);
	char *dot_good = strrchr(good, '.'), *dot_forged = strrchr(forged, '.');
	char *t = malloc(strlen(good) + strlen(forged));
	sprintf(t, "%.*s%s", (int)(dot_forged - forged), forged, dot_good);
	free(good);
	free(forged);
	assert_refused(&HS_CFG, t, NOW, "signature");
	// No signature at all.
	assert_refused(&HS_CFG, token(HS, p, SIG_NONE, NULL, NULL), NOW, "signature");
}

static void alg_none_refused(void **state)
{
	(void)state;
	const char *p = claims(MEETING, "\"role\":\"host\"");
	assert_refused(&HS_CFG, token("{\"alg\":\"none\",\"typ\":\"JWT\"}", p, SIG_NONE, NULL, NULL), NOW, "algorithm");
	assert_refused(&HS_CFG, token("{\"alg\":\"none\"}", p, SIG_NONE, NULL, NULL), NOW, "algorithm");
	assert_refused(&HS_CFG, token("{\"alg\":\"None\"}", p, SIG_NONE, NULL, NULL), NOW, "algorithm");
	// ... and with a signature that is right for HS256 (a none header does not skip it).
	assert_refused(&HS_CFG, token("{\"alg\":\"none\"}", p, SIG_HS256, SECRET, NULL), NOW, "algorithm");
	// Other algorithms than the configured one, even ones libjwt knows.
	assert_refused(&HS_CFG, token("{\"alg\":\"HS512\"}", p, SIG_HS256, SECRET, NULL), NOW, "algorithm");
	assert_refused(&HS_CFG, token("{\"alg\":\"hs256\"}", p, SIG_HS256, SECRET, NULL), NOW, "algorithm");
	assert_refused(&HS_CFG, token("{\"typ\":\"JWT\"}", p, SIG_HS256, SECRET, NULL), NOW, "");
	// Without the trailing dot (two parts).
	char *t = token("{\"alg\":\"none\"}", p, SIG_NONE, NULL, NULL);
	t[strlen(t) - 1] = '\0';
	assert_refused(&HS_CFG, t, NOW, "");
}

static void alg_confusion_refused(void **state)
{
	(void)state;
	struct hd_jwt_config rs = {.public_key_pem = K.rsa_pem}, es = {.public_key_pem = K.ec_pem};
	const char *p = claims(MEETING, "\"role\":\"host\"");
	// HS256 "signed" with the public key's PEM text as the HMAC secret.
	assert_refused(&rs, token(HS, p, SIG_HS256, K.rsa_pem, NULL), NOW, "algorithm");
	assert_refused(&es, token(HS, p, SIG_HS256, K.ec_pem, NULL), NOW, "algorithm");
	// The other public-key algorithm than the key's own.
	assert_refused(&rs, token(ES, p, SIG_EVP, NULL, K.ec), NOW, "algorithm");
	assert_refused(&es, token(RS, p, SIG_EVP, NULL, K.rsa), NOW, "algorithm");
	// A secret and a public key: each key only with its own algorithm.
	struct hd_jwt_config both = {.secret = SECRET, .public_key_pem = K.rsa_pem};
	assert_refused(&both, token(HS, p, SIG_HS256, K.rsa_pem, NULL), NOW, "signature");
	struct hd_jwt_claims c;
	const char *why;
	assert_int_equal(verify_at(&both, token(HS, p, SIG_HS256, SECRET, NULL), NOW, &c, &why), HD_OK);
	assert_int_equal(verify_at(&both, token(RS, p, SIG_EVP, NULL, K.rsa), NOW, &c, &why), HD_OK);
}

static void rs256_and_es256(void **state)
{
	(void)state;
	struct hd_jwt_config rs = {.public_key_pem = K.rsa_pem}, es = {.public_key_pem = K.ec_pem};
	struct hd_jwt_claims c;
	const char *why;
	const char *p = claims(MEETING, "\"name\":\"Grace\"");
	assert_int_equal(verify_at(&rs, token(RS, p, SIG_EVP, NULL, K.rsa), NOW, &c, &why), HD_OK);
	assert_string_equal(c.name, "Grace");
	assert_int_equal(verify_at(&es, token(ES, p, SIG_EVP, NULL, K.ec), NOW, &c, &why), HD_OK);
	assert_string_equal(c.name, "Grace");
	// Signed by another key of the same kind.
	assert_refused(&rs, token(RS, p, SIG_EVP, NULL, K.rsa_other), NOW, "signature");
	assert_refused(&es, token(ES, p, SIG_EVP, NULL, K.ec_other), NOW, "signature");
	// Claims are checked after the signature as with HS256.
	assert_refused(&es, token(ES, claims(OTHER, NULL), SIG_EVP, NULL, K.ec), NOW, "another meeting");
	// An HS256 token while only a public key is configured.
	assert_refused(&rs, token(HS, p, SIG_HS256, SECRET, NULL), NOW, "algorithm");
}

static void issuer_and_audience(void **state)
{
	(void)state;
	struct hd_jwt_config cfg = {.secret = SECRET, .issuer = "booking.example", .audience = "huddle"};
	struct hd_jwt_claims c;
	const char *why;
	assert_int_equal(verify_at(&cfg,
				   token(HS, claims(MEETING, "\"iss\":\"booking.example\",\"aud\":\"huddle\""),
					 SIG_HS256, SECRET, NULL),
				   NOW, &c, &why),
			 HD_OK);
	assert_int_equal(
		verify_at(&cfg,
			  token(HS, claims(MEETING, "\"iss\":\"booking.example\",\"aud\":[\"lms\",\"huddle\"]"),
				SIG_HS256, SECRET, NULL),
			  NOW, &c, &why),
		HD_OK);
	assert_refused(&cfg, token(HS, claims(MEETING, "\"iss\":\"evil\",\"aud\":\"huddle\""), SIG_HS256, SECRET, NULL),
		       NOW, "issuer");
	assert_refused(&cfg, token(HS, claims(MEETING, "\"aud\":\"huddle\""), SIG_HS256, SECRET, NULL), NOW, "issuer");
	assert_refused(
		&cfg,
		token(HS, claims(MEETING, "\"iss\":\"booking.example\",\"aud\":\"other\""), SIG_HS256, SECRET, NULL),
		NOW, "audience");
	assert_refused(
		&cfg,
		token(HS, claims(MEETING, "\"iss\":\"booking.example\",\"aud\":[\"other\"]"), SIG_HS256, SECRET, NULL),
		NOW, "audience");
	assert_refused(&cfg, token(HS, claims(MEETING, "\"iss\":\"booking.example\""), SIG_HS256, SECRET, NULL), NOW,
		       "audience");
	// Not configured: not checked.
	assert_int_equal(
		verify_at(&HS_CFG,
			  token(HS, claims(MEETING, "\"iss\":\"any\",\"aud\":\"any\""), SIG_HS256, SECRET, NULL), NOW,
			  &c, &why),
		HD_OK);
}

static void bad_claims(void **state)
{
	(void)state;
	char name[HD_JWT_NAME_MAX + 32];
	assert_refused(&HS_CFG, token(HS, claims(MEETING, "\"role\":\"admin\""), SIG_HS256, SECRET, NULL), NOW, "role");
	assert_refused(&HS_CFG, token(HS, claims(MEETING, "\"role\":2"), SIG_HS256, SECRET, NULL), NOW, "malformed");
	assert_refused(&HS_CFG, token(HS, "{\"room\":\"" MEETING "\",\"exp\":\"1900000000\"}", SIG_HS256, SECRET, NULL),
		       NOW, "malformed");
	assert_refused(&HS_CFG, token(HS, claims(MEETING, "\"name\":7"), SIG_HS256, SECRET, NULL), NOW, "malformed");
	snprintf(name, sizeof(name), "\"name\":\"%0*d\"", HD_JWT_NAME_MAX + 1, 0);
	assert_refused(&HS_CFG, token(HS, claims(MEETING, name), SIG_HS256, SECRET, NULL), NOW, "name");
	snprintf(name, sizeof(name), "\"name\":\"%0*d\"", HD_JWT_NAME_MAX, 0);
	struct hd_jwt_claims c;
	const char *why;
	assert_int_equal(verify_at(&HS_CFG, token(HS, claims(MEETING, name), SIG_HS256, SECRET, NULL), NOW, &c, &why),
			 HD_OK);
	assert_int_equal(strlen(c.name), HD_JWT_NAME_MAX);
}

static void malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "abc", "a.b.c", "..", "a..", "eyJhbGciOiJIUzI1NiJ9.!!!.abc", "eyJhbGciOiJIUzI1NiJ9.e30.abc.def"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(&HS_CFG, strdup(bad[i]), NOW, "");
	assert_refused(&HS_CFG, token("not json", claims(MEETING, NULL), SIG_HS256, SECRET, NULL), NOW, "malformed");
	assert_refused(&HS_CFG, token(HS, "[1,2]", SIG_HS256, SECRET, NULL), NOW, "");
	assert_refused(&HS_CFG, token(HS, "not json", SIG_HS256, SECRET, NULL), NOW, "");
}

static void oversize(void **state)
{
	(void)state;
	char pad[HD_JWT_MAX];
	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	char *p = malloc(HD_JWT_MAX + 128);
	snprintf(p, HD_JWT_MAX + 128, "{\"room\":\"%s\",\"exp\":%lld,\"pad\":\"%s\"}", MEETING, NOW + 60, pad);
	assert_refused(&HS_CFG, token(HS, p, SIG_HS256, SECRET, NULL), NOW, "too long");
	free(p);
}

static void not_configured(void **state)
{
	(void)state;
	struct hd_jwt_config none = {.secret = "", .public_key_pem = NULL};
	struct hd_jwt_claims c;
	const char *why;
	assert_int_equal(verify_at(&none, token(HS, claims(MEETING, NULL), SIG_HS256, SECRET, NULL), NOW, &c, &why),
			 HD_EUNAVAILABLE);
	assert_non_null(why);
	char *out = (char *)1;
	assert_int_equal(hd_jwt_mint(&none, MEETING, "", HD_JWT_GUEST, NOW, 60, &out, &why), HD_EUNAVAILABLE);
	assert_null(out);
}

static void mint_round_trip(void **state)
{
	(void)state;
	struct hd_jwt_config cfg = {.secret = SECRET, .issuer = "huddle", .audience = "guests"};
	struct hd_jwt_claims c;
	const char *why;
	char *t = NULL;
	assert_int_equal(hd_jwt_mint(&cfg, MEETING, "Émilie", HD_JWT_HOST, NOW, 600, &t, &why), HD_OK);
	assert_non_null(t);
	assert_int_equal(hd_jwt_verify(&cfg, t, MEETING, NOW + 1, &c, &why), HD_OK);
	assert_string_equal(c.name, "Émilie");
	assert_int_equal(c.role, HD_JWT_HOST);
	assert_int_equal(c.exp_s, NOW + 600);
	assert_int_equal(hd_jwt_verify(&cfg, t, OTHER, NOW + 1, &c, &why), HD_ETOKENINVALID);
	assert_int_equal(hd_jwt_verify(&cfg, t, MEETING, NOW + 600 + HD_JWT_LEEWAY_S + 1, &c, &why), HD_ETOKENINVALID);
	struct hd_jwt_config other = {.secret = "another secret"};
	assert_int_equal(hd_jwt_verify(&other, t, MEETING, NOW + 1, &c, &why), HD_ETOKENINVALID);
	free(t);
	// Any meeting, a guest without a name.
	assert_int_equal(hd_jwt_mint(&HS_CFG, "*", "", HD_JWT_GUEST, NOW, 60, &t, &why), HD_OK);
	assert_int_equal(hd_jwt_verify(&HS_CFG, t, OTHER, NOW, &c, &why), HD_OK);
	assert_int_equal(c.role, HD_JWT_GUEST);
	assert_string_equal(c.name, "");
	free(t);
	// Out of range: nothing minted.
	char long_name[HD_JWT_NAME_MAX + 2];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	t = NULL;
	assert_int_equal(hd_jwt_mint(&HS_CFG, MEETING, long_name, HD_JWT_GUEST, NOW, 60, &t, &why), HD_EBADREQUEST);
	assert_int_equal(hd_jwt_mint(&HS_CFG, MEETING, "\xff", HD_JWT_GUEST, NOW, 60, &t, &why), HD_EBADREQUEST);
	assert_int_equal(hd_jwt_mint(&HS_CFG, MEETING, "", (enum hd_jwt_role)7, NOW, 60, &t, &why), HD_EBADREQUEST);
	assert_int_equal(hd_jwt_mint(&HS_CFG, MEETING, "", HD_JWT_GUEST, NOW, 0, &t, &why), HD_EBADREQUEST);
	assert_int_equal(hd_jwt_mint(&HS_CFG, MEETING, "", HD_JWT_GUEST, NOW, HD_JWT_TTL_MAX_S + 1, &t, &why),
			 HD_EBADREQUEST);
	assert_int_equal(hd_jwt_mint(&HS_CFG, "short", "", HD_JWT_GUEST, NOW, 60, &t, &why), HD_EBADREQUEST);
	assert_null(t);
}

static void check_config(void **state)
{
	(void)state;
	const char *why;
	struct hd_jwt_config cfg = {.public_key_pem = K.rsa_pem};
	assert_int_equal(hd_jwt_check_config(&cfg, &why), HD_OK);
	cfg.public_key_pem = K.ec_pem;
	assert_int_equal(hd_jwt_check_config(&cfg, &why), HD_OK);
	cfg.public_key_pem = K.ec384_pem; // ES384 is not one of ours
	assert_int_equal(hd_jwt_check_config(&cfg, &why), HD_EBADREQUEST);
	assert_non_null(why);
	cfg.public_key_pem = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n";
	assert_int_equal(hd_jwt_check_config(&cfg, &why), HD_EBADREQUEST);
	assert_int_equal(hd_jwt_check_config(&HS_CFG, &why), HD_OK);
}

// readme_example runs README.md's openssl minting example (the sh block
// under "### Signed join links") in a temporary folder with a fresh
// run/join-token-secret and checks that the link it prints verifies.
static void readme_example(void **state)
{
	(void)state;
	const char *src = getenv("HUDDLE_SOURCE_DIR");
	if (src == NULL)
		skip();
	char path[1024], dir[] = "/tmp/huddle-jwt-readme-XXXXXX", cmd[4096], out[HD_JWT_MAX + 256] = "";
	snprintf(path, sizeof(path), "%s/README.md", src);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char readme[1 << 20];
	size_t n = fread(readme, 1, sizeof(readme) - 1, f);
	fclose(f);
	readme[n] = '\0';
	char *section = strstr(readme, "### Signed join links");
	assert_non_null(section);
	char *start = strstr(section, "```sh\n");
	assert_non_null(start);
	start += 6;
	char *end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mint.sh", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "set -eu\nmkdir -p run\nprintf %%s '%s' >run/join-token-secret\nM=%s\n%s", SECRET, MEETING, start);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && bash mint.sh; rv=$?; rm -rf %s; exit $rv", dir, dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t got = fread(out, 1, sizeof(out) - 1, p);
	out[got] = '\0';
	assert_int_equal(pclose(p), 0);
	char *jwt = strstr(out, "#jwt=");
	assert_non_null(jwt);
	jwt += 5;
	jwt[strcspn(jwt, "\n")] = '\0';
	struct hd_jwt_claims c;
	const char *why = NULL;
	if (hd_jwt_verify(&HS_CFG, jwt, MEETING, (int64_t)time(NULL), &c, &why) != HD_OK)
		fail_msg("the README's link does not verify: %s", why);
	assert_string_equal(c.name, "Ada");
	assert_int_equal(c.role, HD_JWT_GUEST);
}

static int setup(void **state)
{
	(void)state;
	K.rsa = EVP_RSA_gen(2048);
	K.rsa_other = EVP_RSA_gen(2048);
	K.ec = EVP_EC_gen("P-256");
	K.ec_other = EVP_EC_gen("P-256");
	K.ec384 = EVP_EC_gen("P-384");
	if (K.rsa == NULL || K.rsa_other == NULL || K.ec == NULL || K.ec_other == NULL || K.ec384 == NULL)
		return -1;
	K.rsa_pem = public_pem(K.rsa);
	K.ec_pem = public_pem(K.ec);
	K.ec384_pem = public_pem(K.ec384);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.rsa_other);
	EVP_PKEY_free(K.ec);
	EVP_PKEY_free(K.ec_other);
	EVP_PKEY_free(K.ec384);
	free(K.rsa_pem);
	free(K.ec_pem);
	free(K.ec384_pem);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_hs256),       cmocka_unit_test(expiry_and_not_before_with_leeway),
		cmocka_unit_test(room_must_match),  cmocka_unit_test(wrong_signature),
		cmocka_unit_test(alg_none_refused), cmocka_unit_test(alg_confusion_refused),
		cmocka_unit_test(rs256_and_es256),  cmocka_unit_test(issuer_and_audience),
		cmocka_unit_test(bad_claims),       cmocka_unit_test(malformed),
		cmocka_unit_test(oversize),         cmocka_unit_test(not_configured),
		cmocka_unit_test(mint_round_trip),  cmocka_unit_test(check_config),
		cmocka_unit_test(readme_example),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
