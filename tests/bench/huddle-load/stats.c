// stats.c: latency histograms (log-linear, see load.h). Each worker writes
// its own with relaxed atomics; the main thread merges them (the run's
// figures) and diffs snapshots (the soak's per-interval figures).
#include <string.h>

#include "load.h"

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

static size_t bin_of(uint64_t us)
{
	if (us < 2 * HL_HIST_SUB)
		return (size_t)us;
	int msb = 63 - __builtin_clzll(us); // >= HL_HIST_SUB_BITS + 1
	int shift = msb - HL_HIST_SUB_BITS;
	if (shift > HL_HIST_OCTAVES)
		return HL_HIST_BINS - 1;
	uint64_t sub = us >> shift; // HL_HIST_SUB .. 2 * HL_HIST_SUB - 1
	return 2 * HL_HIST_SUB + (size_t)(shift - 1) * HL_HIST_SUB + (size_t)(sub - HL_HIST_SUB);
}

// bin_lo returns the smallest value of bin i and its width (microseconds).
static uint64_t bin_lo(size_t i, uint64_t *width)
{
	if (i < 2 * HL_HIST_SUB) {
		*width = 1;
		return i;
	}
	size_t k = i - 2 * HL_HIST_SUB;
	int shift = (int)(k / HL_HIST_SUB) + 1;
	uint64_t sub = HL_HIST_SUB + k % HL_HIST_SUB;
	*width = (uint64_t)1 << shift;
	return sub << shift;
}

void hl_hist_add(struct hl_hist *h, int64_t ns)
{
	uint64_t us = ns < 0 ? 0 : (uint64_t)ns / 1000;
	atomic_fetch_add_explicit(&h->bin[bin_of(us)], 1, memory_order_relaxed);
	if (us > LD(h->max_us))
		ST(h->max_us, us); // one writer per histogram
	atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
}

void hl_hist_merge(struct hl_hist *dst, const struct hl_hist *src)
{
	for (size_t i = 0; i < HL_HIST_BINS; i++) {
		uint64_t v = LD(src->bin[i]);
		if (v != 0)
			ST(dst->bin[i], LD(dst->bin[i]) + v);
	}
	ST(dst->n, LD(dst->n) + LD(src->n));
	if (LD(src->max_us) > LD(dst->max_us))
		ST(dst->max_us, LD(src->max_us));
}

void hl_hist_diff(struct hl_hist *out, const struct hl_hist *cur, const struct hl_hist *prev)
{
	uint64_t n = 0;
	size_t top = 0;
	for (size_t i = 0; i < HL_HIST_BINS; i++) {
		uint64_t a = LD(cur->bin[i]), b = LD(prev->bin[i]);
		uint64_t d = a > b ? a - b : 0;
		ST(out->bin[i], d);
		n += d;
		if (d != 0)
			top = i;
	}
	uint64_t width, lo = bin_lo(top, &width);
	ST(out->n, n);
	ST(out->max_us, n ? lo + width - 1 : 0);
}

uint64_t hl_hist_n(const struct hl_hist *h)
{
	uint64_t n = 0;
	for (size_t i = 0; i < HL_HIST_BINS; i++)
		n += LD(h->bin[i]);
	return n;
}

double hl_hist_pct(const struct hl_hist *h, double p)
{
	uint64_t n = hl_hist_n(h); // the bins, not h->n: consistent with what is summed below
	if (n == 0)
		return 0;
	if (p >= 100)
		return (double)LD(h->max_us) / 1000.0;
	uint64_t rank = (uint64_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	uint64_t seen = 0;
	for (size_t i = 0; i < HL_HIST_BINS; i++) {
		seen += LD(h->bin[i]);
		if (seen >= rank) {
			uint64_t width, lo = bin_lo(i, &width);
			double v = (double)lo + (double)(width - 1) / 2.0;
			double max = (double)LD(h->max_us);
			return (v > max && max > 0 ? max : v) / 1000.0;
		}
	}
	return (double)LD(h->max_us) / 1000.0;
}
