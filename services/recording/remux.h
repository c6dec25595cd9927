// remux.h: joining a recording's chunks into one seekable WebM with
// libavformat (FFmpeg 5.1). The chunks are byte slices of one MediaRecorder
// stream, so they are read back to back as one input (no joined copy on
// disk); every packet of the audio and video streams is copied, unchanged,
// into a new WebM written to a seekable file, so the matroska muxer gives it
// a duration and cues (an index for seeking).
#ifndef RECORDING_REMUX_H
#define RECORDING_REMUX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define REC_REMUX_WHY_MAX 200

// rec_remux_result is what a remux made of its input.
struct rec_remux_result {
	int64_t duration_ms; // of the written file: from its first packet to the end of its last
	uint64_t bytes;      // the written file's size
	uint64_t packets;    // packets copied
	bool cut;            // the input ended in bytes that could not be read, or passed max_ms: a prefix was kept
	char why[REC_REMUX_WHY_MAX]; // cut: what was left out; a failure: why
};

// rec_remux reads chunks 0..chunks-1 of chunk_dir (<index>.part files) as one
// WebM stream and writes the remuxed file to out_path (created or
// truncated; the caller fsyncs and renames it). Packets that start after
// max_ms of media are left out. Data that cannot be read ends the input: what
// came before is kept (res->cut, res->why). *stop, when it turns true, ends
// the remux early. Returns HD_OK (res filled); HD_EMALFORMED when nothing
// playable came out (res->why says why: no WebM header, no packets);
// HD_EUNAVAILABLE when reading a chunk or writing out_path failed (a disk
// error: try again later; logged); HD_ECLOSED when stopped; HD_ENOMEM.
hd_err rec_remux(const char *chunk_dir, uint32_t chunks, const char *out_path, int64_t max_ms, const atomic_bool *stop,
		 struct rec_remux_result *res);

// rec_probe reads a finished file's duration (ms) and size; for a file
// committed before a crash cut its assembly short. Returns HD_OK,
// HD_EMALFORMED (not a playable WebM), HD_EUNAVAILABLE.
hd_err rec_probe(const char *path, int64_t *duration_ms, uint64_t *bytes);

// rec_remux_log_init routes libav*'s log lines into ours (once per process).
void rec_remux_log_init(void);

#endif
