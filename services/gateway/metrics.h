// metrics.h: what GET /metrics shows (http.c serves it). Service thread
// only: it reads the gateway's state.
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>

#define GW_METRICS_MAX 16384 // bytes of the text at most

// gw_metrics_format writes the gateway's counters and gauges into buf (cap
// bytes) in the Prometheus text format 0.0.4, one "# TYPE" line per name
// before its first sample; a line that does not fit is left out with
// everything after it. Returns the length written (no NUL counted).
size_t gw_metrics_format(char *buf, size_t cap);

#endif
