// webm.c: a Cluster timestamp scan over a chunk's bytes (webm.h).
#include "recording/webm.h"

#include <string.h>

// vint_len is the length (1..8) of an EBML variable-size integer starting
// with byte b (RFC 8794 section 4), 0 for 0x00.
static size_t vint_len(uint8_t b)
{
	for (size_t n = 1; n <= 8; n++)
		if (b & (0x80u >> (n - 1)))
			return n;
	return 0;
}

bool rec_webm_last_cluster_ms(const uint8_t *data, size_t len, int64_t *ms)
{
	static const uint8_t cluster[4] = {0x1F, 0x43, 0xB6, 0x75};
	bool found = false;
	int64_t best = 0;
	for (size_t i = 0; i + 4 < len; i++) {
		const uint8_t *p = memchr(data + i, cluster[0], len - i - 4);
		if (p == NULL)
			break;
		i = (size_t)(p - data);
		if (memcmp(p, cluster, 4) != 0)
			continue;
		size_t at = i + 4, n = vint_len(data[at]); // the Cluster's size (often "unknown": all ones)
		if (n == 0 || at + n >= len)
			continue;
		at += n;
		if (data[at] != 0xE7 || at + 1 >= len) // Timestamp must come first
			continue;
		at++;
		size_t sn = vint_len(data[at]);
		if (sn != 1 || at + 1 >= len) // its size: one byte, 0x81..0x88
			continue;
		size_t vn = data[at] & 0x7F;
		at++;
		if (vn < 1 || vn > 8 || at + vn > len)
			continue;
		uint64_t v = 0;
		for (size_t k = 0; k < vn; k++)
			v = (v << 8) | data[at + k];
		if (v > INT64_MAX)
			continue;
		if (!found || (int64_t)v > best)
			best = (int64_t)v;
		found = true;
	}
	if (found)
		*ms = best;
	return found;
}
