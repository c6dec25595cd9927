// util.h: ids, clocks and small string checks shared by every daemon.
#ifndef HD_UTIL_H
#define HD_UTIL_H

// HD_XSTR(X) is the macro X expanded and made a string literal, so a
// message can name a limit that is a plain number without repeating it.
#define HD_STR(x) #x
#define HD_XSTR(x) HD_STR(x)

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

// HD_ID_LEN is the length of an id: 128 random bits as base64url without
// padding (RFC 4648 section 5) is 22 characters.
#define HD_ID_LEN 22
#define HD_ID_BYTES 16

// HD_WS_MESSAGE_MAX is the largest browser-protocol message (a packed
// ClientMessage or ServerMessage), bytes: one over a frame travels as
// FrameChunk frames (proto/huddle/v1/client.proto).
#define HD_WS_MESSAGE_MAX ((size_t)4 * 1024 * 1024)

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

// HD_URI_REDACTED replaces a credential in a URI that is logged;
// HD_URI_LOG_MAX is the size (bytes, with the NUL) of a buffer that holds a
// redacted URI for a log line (a longer one is cut short).
#define HD_URI_REDACTED "***"
#define HD_URI_LOG_MAX 512

// hd_uri_redact copies uri into out (cap bytes; always NUL-terminated when
// cap > 0, cut short if it does not fit) for a log line or an error message:
// the password of the userinfo (RFC 3986 section 3.2.1, "user:password@") and
// the value of every query parameter whose name contains "password",
// "secret", "token" or "key" (case-insensitive) become HD_URI_REDACTED. The
// userinfo ends at the authority's last '@', so a password holding an
// unescaped '@' is still hidden whole. Returns out.
const char *hd_uri_redact(const char *uri, char *out, size_t cap);

// hd_now_ms is Unix time in milliseconds; hd_mono_ms a monotonic clock in ms.
int64_t hd_now_ms(void);
int64_t hd_mono_ms(void);

#endif
