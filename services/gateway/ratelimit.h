// ratelimit.h: a token bucket per WebSocket connection.
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

// gw_ratelimit allows `rate` messages (or bytes) per second on average and
// bursts of `burst`. It also counts refused messages per one-second window, so a
// client flooding far beyond the rate can be disconnected.
struct gw_ratelimit {
	double tokens;
	int64_t last_ms;
	int64_t window_start_ms;
	uint32_t refused_in_window;
};

// gw_ratelimit_init fills the bucket (burst tokens) at now_ms.
void gw_ratelimit_init(struct gw_ratelimit *rl, uint32_t burst, int64_t now_ms);

// gw_ratelimit_take takes one token at now_ms (monotonic ms). Returns true
// when the message may pass; false when it must be refused (and counts it).
bool gw_ratelimit_take(struct gw_ratelimit *rl, uint32_t rate, uint32_t burst, int64_t now_ms);

// gw_ratelimit_take_n is gw_ratelimit_take for n tokens at once (a bucket
// of bytes: rate bytes per second, burst bytes); n over burst never passes.
bool gw_ratelimit_take_n(struct gw_ratelimit *rl, double n, uint32_t rate, uint32_t burst, int64_t now_ms);

// gw_ratelimit_abusive tells whether more than `limit` messages were refused
// in the current one-second window.
bool gw_ratelimit_abusive(const struct gw_ratelimit *rl, uint32_t limit);

#endif
