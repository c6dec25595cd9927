// range.c: one byte range of a Range header (RFC 9110 section 14.1.2).
#include "gateway/range.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

// digits reads 1*DIGIT at *s into *v (saturating at UINT64_MAX) and moves
// *s past them; false when there is no digit.
static bool digits(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t n = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
	}
	*s = p;
	*v = n;
	return true;
}

enum gw_range_result gw_range_parse(const char *header, uint64_t size, uint64_t *first, uint64_t *last)
{
	uint64_t a = 0, b = 0;
	bool has_a, has_b;
	if (header == NULL)
		return GW_RANGE_NONE;
	const char *s = skip_ows(header);
	if (strncasecmp(s, "bytes", 5) != 0)
		return GW_RANGE_NONE; // a unit we do not know: ignored (section 14.2)
	s = skip_ows(s + 5);
	if (*s != '=')
		return GW_RANGE_NONE;
	s = skip_ows(s + 1);
	if (strchr(s, ',') != NULL)
		return GW_RANGE_NONE; // several ranges: the whole file instead
	has_a = digits(&s, &a);
	if (*s != '-')
		return GW_RANGE_UNSATISFIABLE;
	s++;
	has_b = digits(&s, &b);
	if (*skip_ows(s) != '\0' || (!has_a && !has_b) || (has_a && has_b && b < a) || size == 0)
		return GW_RANGE_UNSATISFIABLE;
	if (!has_a) { // suffix: the last b bytes
		if (b == 0)
			return GW_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return GW_RANGE_PARTIAL;
	}
	if (a >= size)
		return GW_RANGE_UNSATISFIABLE;
	*first = a;
	*last = !has_b || b >= size ? size - 1 : b;
	return GW_RANGE_PARTIAL;
}
