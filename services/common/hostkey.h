// hostkey.h: host and space keys. A key is 256 random bits as base64url
// without padding (HD_KEY_LEN chars); only its SHA-256 (hex) is stored, and
// stored hashes are compared in constant time (CRYPTO_memcmp).
#ifndef HD_HOSTKEY_H
#define HD_HOSTKEY_H

#include <stdbool.h>

#include "common/err.h"
#include "common/store.h"

#define HD_KEY_LEN 43 // base64url of 32 random bytes, no padding

// hd_key_new writes a fresh key (HD_KEY_LEN chars + NUL) into key and its
// hash (HD_KEY_HASH_LEN hex chars + NUL) into hash. Returns HD_OK, or
// HD_EINTERNAL when the system's random source fails.
hd_err hd_key_new(char key[HD_KEY_LEN + 1], char hash[HD_KEY_HASH_LEN + 1]);

// hd_key_hash writes the lower-case hex SHA-256 of the NUL-terminated key
// into hash. Any string hashes (a wrong key simply matches nothing).
void hd_key_hash(const char *key, char hash[HD_KEY_HASH_LEN + 1]);

// hd_key_hash_equal compares two hex hashes in constant time. False when
// either is not exactly HD_KEY_HASH_LEN characters (an empty stored hash
// matches no key).
bool hd_key_hash_equal(const char *a, const char *b);

// hd_key_matches tells whether key hashes to stored_hash (constant time in
// the hash comparison). False for an empty key or stored hash.
bool hd_key_matches(const char *key, const char *stored_hash);

#endif
