// webm.h: what huddle-recording reads from a chunk's bytes without
// decoding it: the media time it reaches (for RECORDING_MAX_MINUTES).
#ifndef RECORDING_WEBM_H
#define RECORDING_WEBM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// rec_webm_last_cluster_ms finds the largest Cluster timestamp in data (len
// bytes of a WebM stream, cut anywhere): a Cluster element (ID 0x1F43B675,
// Matroska spec RFC 9559 section 5.1.3) whose first child is its Timestamp
// (ID 0xE7), as MediaRecorder writes them, in TimestampScale units, which
// MediaRecorder leaves at the default 1,000,000 ns (1 ms). Returns false
// when data holds no whole Cluster start (then *ms is untouched).
bool rec_webm_last_cluster_ms(const uint8_t *data, size_t len, int64_t *ms);

#endif
