// stats.c: latency samples and percentiles (exact: every sample is kept, up
// to a cap, and sorted once for the report).
#include <stdlib.h>

#include "load.h"

void hl_samples_add(struct hl_samples *s, int64_t ns)
{
	if (s->n == s->cap) {
		if (s->max != 0 && s->n >= s->max) {
			s->dropped++;
			return;
		}
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL) {
			s->dropped++;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->sorted = false;
	int64_t us = ns < 0 ? 0 : ns / 1000;
	s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

double hl_samples_pct(struct hl_samples *s, double p)
{
	if (s->n == 0)
		return 0;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
		s->sorted = true;
	}
	// Nearest-rank percentile.
	size_t rank = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1] / 1000.0;
}

double hl_samples_max(struct hl_samples *s)
{
	return hl_samples_pct(s, 100);
}

void hl_samples_free(struct hl_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
