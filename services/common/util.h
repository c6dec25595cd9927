// util.h: ids, clocks and small string checks shared by every daemon.
#ifndef HD_UTIL_H
#define HD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

// HD_ID_LEN is the length of an id: 128 random bits as base64url without
// padding (RFC 4648 section 5) is 22 characters.
#define HD_ID_LEN 22
#define HD_ID_BYTES 16

// hd_id_random writes a fresh unguessable id (22 chars + NUL) into out, from
// the kernel CSPRNG (getrandom). Returns HD_OK, or HD_EINTERNAL if the kernel
// gave no randomness.
hd_err hd_id_random(char out[HD_ID_LEN + 1]);

// hd_id_valid tells whether s is exactly HD_ID_LEN base64url characters.
bool hd_id_valid(const char *s);

// hd_base64url_encode encodes len bytes into out (RFC 4648 section 5, no
// padding); out must hold 4 * ceil(len / 3) + 1 bytes. Returns the length.
size_t hd_base64url_encode(const uint8_t *in, size_t len, char *out);

// hd_utf8_valid tells whether len bytes are well-formed UTF-8 (RFC 3629) with
// no NUL bytes.
bool hd_utf8_valid(const char *s, size_t len);

// hd_now_ms is Unix time in milliseconds; hd_mono_ms a monotonic clock in ms.
int64_t hd_now_ms(void);
int64_t hd_mono_ms(void);

#endif
