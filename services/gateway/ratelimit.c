// ratelimit.c: token bucket with a refused-message counter.
#include "gateway/ratelimit.h"

void gw_ratelimit_init(struct gw_ratelimit *rl, uint32_t burst, int64_t now_ms)
{
	rl->tokens = burst;
	rl->last_ms = now_ms;
	rl->window_start_ms = now_ms;
	rl->refused_in_window = 0;
}

bool gw_ratelimit_take(struct gw_ratelimit *rl, uint32_t rate, uint32_t burst, int64_t now_ms)
{
	return gw_ratelimit_take_n(rl, 1.0, rate, burst, now_ms);
}

bool gw_ratelimit_take_n(struct gw_ratelimit *rl, double n, uint32_t rate, uint32_t burst, int64_t now_ms)
{
	if (now_ms > rl->last_ms) {
		rl->tokens += (double)(now_ms - rl->last_ms) * rate / 1000.0;
		if (rl->tokens > burst)
			rl->tokens = burst;
		rl->last_ms = now_ms;
	}
	if (now_ms - rl->window_start_ms >= 1000) {
		rl->window_start_ms = now_ms;
		rl->refused_in_window = 0;
	}
	if (rl->tokens >= n) {
		rl->tokens -= n;
		return true;
	}
	rl->refused_in_window++;
	return false;
}

bool gw_ratelimit_abusive(const struct gw_ratelimit *rl, uint32_t limit)
{
	return rl->refused_in_window > limit;
}
