// rec_assembly.c: fuzzes huddle-recording's chunk assembly: uploaded chunks
// (any bytes a recorder sends) written as <index>.part files the way
// rec_files_chunk_write stores them, scanned for their media time
// (rec_webm_last_cluster_ms, run on every chunk upload), then joined and
// remuxed into one WebM (rec_remux with libavformat, what the assembler
// runs) and the result probed (rec_probe). Input: one byte, the chunk count
// (1..8), then that many slices.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "recording/files.h"
#include "recording/remux.h"
#include "recording/webm.h"
#include "support/input.h"
#include "support/rpc.h"

#define FZ_MEETING "fuzzmeeting00000000000"
#define FZ_RECORDING "fuzzrecording000000000"
#define FZ_MAX_MS (10 * 60000) // RECORDING_MAX_MINUTES = 10

static char dir[256], chunk_dir[REC_PATH_MAX], out[REC_PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[256];
	hd_log_level = -1;
	rec_remux_log_init();
	snprintf(dir, sizeof(dir), "%s/recordings", fz_tmpdir("assembly"));
	if (rec_files_open_dir(dir, why, sizeof(why)) != HD_OK ||
	    !rec_files_chunk_dir(dir, FZ_MEETING, FZ_RECORDING, chunk_dir) ||
	    !rec_files_temp_path(dir, FZ_MEETING, FZ_RECORDING, out))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_init(&in, data, size);
	uint32_t chunks = 1 + fz_u8(&in) % 8;
	rec_files_remove(dir, FZ_MEETING, FZ_RECORDING);
	for (uint32_t i = 0; i < chunks; i++) {
		size_t n;
		const uint8_t *p = fz_slice(&in, &n);
		int64_t ms = -1;
		bool existed = false;
		uint64_t stored = 0;
		if (rec_webm_last_cluster_ms(p, n, &ms) && ms < 0)
			abort(); // a media time before the start
		if (n == 0)
			continue; // a chunk is 1..4 MiB: a gap
		if (rec_files_chunk_write(dir, FZ_MEETING, FZ_RECORDING, i, p, n, &existed, &stored) != HD_OK)
			abort();
	}
	struct rec_remux_result res;
	memset(&res, 0, sizeof(res));
	hd_err err = rec_remux(chunk_dir, chunks, out, FZ_MAX_MS, NULL, &res);
	if (err == HD_OK) {
		int64_t duration_ms;
		uint64_t bytes;
		if (res.duration_ms < 0 || res.packets == 0) {
			fprintf(stderr, "rec_remux OK with duration %lld ms, %llu packets\n",
				(long long)res.duration_ms, (unsigned long long)res.packets);
			abort(); // "OK" with nothing playable
		}
		hd_err perr = rec_probe(out, &duration_ms, &bytes);
		// Not checked: that it probes OK. A file whose packets carry a
		// duration but whose timestamps do not advance has no container
		// duration, which rec_probe calls malformed (STATS.md, findings).
		if (perr == HD_OK && bytes != res.bytes) {
			fprintf(stderr, "rec_probe: %llu bytes (remux wrote %llu)\n", (unsigned long long)bytes,
				(unsigned long long)res.bytes);
			abort(); // what we wrote does not read back
		}
	} else if (err != HD_EMALFORMED && err != HD_EUNAVAILABLE && err != HD_ENOMEM) {
		abort();
	}
	if (strnlen(res.why, sizeof(res.why)) >= sizeof(res.why))
		abort();
	return 0;
}
