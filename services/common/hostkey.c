// hostkey.c: host and space keys (random, hashed with SHA-256, compared in
// constant time).
#include "common/hostkey.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "common/util.h"

#define KEY_BYTES 32 // 256 random bits

hd_err hd_key_new(char key[HD_KEY_LEN + 1], char hash[HD_KEY_HASH_LEN + 1])
{
	uint8_t raw[KEY_BYTES];
	char buf[4 * ((KEY_BYTES + 2) / 3) + 1];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n <= 0)
			return HD_EINTERNAL;
		got += (size_t)n;
	}
	hd_base64url_encode(raw, sizeof(raw), buf);
	memcpy(key, buf, HD_KEY_LEN);
	key[HD_KEY_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(buf, sizeof(buf));
	hd_key_hash(key, hash);
	return HD_OK;
}

void hd_key_hash(const char *key, char hash[HD_KEY_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL) != 1 || n * 2 != HD_KEY_HASH_LEN) {
		hash[0] = '\0'; // matches nothing (hd_key_hash_equal needs the full length)
		return;
	}
	for (size_t i = 0; i < n; i++) {
		hash[2 * i] = hex[md[i] >> 4];
		hash[2 * i + 1] = hex[md[i] & 15];
	}
	hash[HD_KEY_HASH_LEN] = '\0';
}

bool hd_key_hash_equal(const char *a, const char *b)
{
	if (strlen(a) != HD_KEY_HASH_LEN || strlen(b) != HD_KEY_HASH_LEN)
		return false;
	return CRYPTO_memcmp(a, b, HD_KEY_HASH_LEN) == 0;
}

bool hd_key_matches(const char *key, const char *stored_hash)
{
	char h[HD_KEY_HASH_LEN + 1];
	if (key == NULL || key[0] == '\0' || stored_hash == NULL)
		return false;
	hd_key_hash(key, h);
	return hd_key_hash_equal(h, stored_hash);
}
