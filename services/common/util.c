// util.c: ids, base64url, UTF-8 checks and clocks.
#include "common/util.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

size_t hd_base64url_encode(const uint8_t *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	size_t m = 0;
	for (int i = 0; i < n; i++) {
		char c = out[i];
		if (c == '=')
			break;
		out[m++] = c == '+' ? '-' : c == '/' ? '_' : c;
	}
	out[m] = '\0';
	return m;
}

hd_err hd_id_random(char out[HD_ID_LEN + 1])
{
	uint8_t raw[HD_ID_BYTES];
	char buf[4 * ((HD_ID_BYTES + 2) / 3) + 1];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n <= 0)
			return HD_EINTERNAL;
		got += (size_t)n;
	}
	hd_base64url_encode(raw, sizeof(raw), buf);
	memcpy(out, buf, HD_ID_LEN);
	out[HD_ID_LEN] = '\0';
	return HD_OK;
}

bool hd_id_valid(const char *s)
{
	if (s == NULL)
		return false;
	size_t i;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (i >= HD_ID_LEN)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_'))
			return false;
	}
	return i == HD_ID_LEN;
}

bool hd_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned min;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false; // truncated sequence
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (s[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

int64_t hd_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hd_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// uri_out appends len bytes of s to out (cap bytes), cutting at the end.
static void uri_out(char *out, size_t cap, size_t *used, const char *s, size_t len)
{
	while (len-- > 0 && *used + 1 < cap)
		out[(*used)++] = *s++;
	out[*used] = '\0';
}

// uri_secret_name tells whether the query parameter name[0..len) may hold a
// credential.
static bool uri_secret_name(const char *name, size_t len)
{
	static const char *const words[] = {"password", "secret", "token", "key"};
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= len; i++)
			if (strncasecmp(name + i, words[w], wl) == 0)
				return true;
	}
	return false;
}

const char *hd_uri_redact(const char *uri, char *out, size_t cap)
{
	size_t used = 0;
	if (cap == 0)
		return out;
	out[0] = '\0';
	const char *p = uri;
	const char *scheme_end = strstr(p, "://");
	if (scheme_end != NULL) {
		const char *auth = scheme_end + 3;
		size_t auth_len = strcspn(auth, "/?#");
		const char *at = NULL;
		for (size_t i = 0; i < auth_len; i++)
			if (auth[i] == '@')
				at = auth + i;
		uri_out(out, cap, &used, p, (size_t)(auth - p));
		if (at != NULL) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon != NULL) {
				uri_out(out, cap, &used, auth, (size_t)(colon + 1 - auth));
				uri_out(out, cap, &used, HD_URI_REDACTED, strlen(HD_URI_REDACTED));
				auth = at;
			}
		}
		p = auth;
	}
	const char *q = strchr(p, '?');
	if (q == NULL) {
		uri_out(out, cap, &used, p, strlen(p));
		return out;
	}
	uri_out(out, cap, &used, p, (size_t)(q + 1 - p));
	for (p = q + 1; *p != '\0' && *p != '#';) {
		size_t param = strcspn(p, "&;#");
		const char *eq = memchr(p, '=', param);
		if (eq != NULL && uri_secret_name(p, (size_t)(eq - p))) {
			uri_out(out, cap, &used, p, (size_t)(eq + 1 - p));
			uri_out(out, cap, &used, HD_URI_REDACTED, strlen(HD_URI_REDACTED));
		} else {
			uri_out(out, cap, &used, p, param);
		}
		p += param;
		if (*p == '&' || *p == ';')
			uri_out(out, cap, &used, p++, 1);
	}
	uri_out(out, cap, &used, p, strlen(p));
	return out;
}
