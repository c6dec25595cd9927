// recording_bench.c: how long huddle-recording takes to turn a 1-hour
// recording into its file (`make bench-recording`).
//
// The recording is synthetic but byte-for-byte what the daemon gets from a
// browser: ffmpeg encodes a clip like a MediaRecorder camera stream (VP8
// 1280x720 30 fps at about 2.5 Mbit/s with noise so the encoder cannot
// cheat, Opus 64 kbit/s), then repeats its packets for the whole length
// with `-stream_loop ... -c copy` (no re-encoding) into a WebM written to a
// pipe: no cues, no duration, as MediaRecorder writes it. That stream is cut
// into chunks of equal bytes, one per 2 s of media (1800 for an hour), at
// arbitrary offsets, as MediaRecorder's timeslices are byte slices.
//
// Measured, each on its own: the chunks written as the daemon writes them
// (fsync + rename each, noted in a SQLite store); the remux alone
// (rec_remux: read back to back, packets copied, cues and duration
// written); and the whole assembly (rec_assemble: remux, fsync, rename,
// READY, chunks removed), the number README's Performance section quotes.
// The files are in a temp folder on the same disk as /tmp (removed at
// the end); the page cache is warm (the chunks were just written).
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/store.h"
#include "common/util.h"
#include "recording/assembler.h"
#include "recording/files.h"
#include "recording/recording.h"
#include "recording/remux.h"

#define CLIP_S 10
#define CHUNK_S 2

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "recording-bench: failed (%d): %s\n", rc, cmd);
	return rc;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--minutes N] [--keep]\n"
		"  --minutes N  length of the synthetic recording (default 60)\n"
		"  --keep       keep the temp folder\n",
		prog);
}

int main(int argc, char **argv)
{
	int minutes = 60;
	bool keep = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--minutes") == 0 && i + 1 < argc) {
			minutes = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = true;
		} else {
			usage(argv[0]);
			return strcmp(argv[i], "--help") == 0 ? 0 : 2;
		}
	}
	if (minutes < 1 || minutes > 600) {
		usage(argv[0]);
		return 2;
	}
	char dir[64] = "/tmp/hd-rec-bench-XXXXXX", cmd[1024], path[512], rec_dir[256], uri[256];
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(rec_dir, sizeof(rec_dir), "%s/recordings", dir);
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", dir);
	int total_s = minutes * 60, loops = total_s / CLIP_S;

	printf("recording-bench: a %d-minute recording (VP8 1280x720 30 fps ~2.5 Mbit/s + Opus 64 kbit/s)\n", minutes);
	double t0 = now_s();
	snprintf(cmd, sizeof(cmd),
		 "ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc2=duration=%d:size=1280x720:rate=30"
		 " -f lavfi -i sine=frequency=440:duration=%d -vf noise=alls=12:allf=t -c:v libvpx -deadline realtime"
		 " -cpu-used 8 -b:v 2500k -minrate 2500k -maxrate 2500k -g 60 -c:a libopus -b:a 64k -f webm pipe:1"
		 " > %s/clip.webm && ffmpeg -nostdin -hide_banner -loglevel error -stream_loop %d -i %s/clip.webm"
		 " -c copy -f webm pipe:1 > %s/long.webm",
		 CLIP_S, CLIP_S, dir, loops - 1, dir, dir);
	if (sh(cmd) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/long.webm", dir);
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	uint64_t size = (uint64_t)st.st_size;
	uint32_t chunks = (uint32_t)(total_s / CHUNK_S);
	size_t chunk = (size_t)((size + chunks - 1) / chunks);
	printf("  source: %.1f MB in %u chunks of %zu bytes (made in %.1f s)\n", (double)size / 1e6, chunks, chunk,
	       now_s() - t0);

	// The chunks, written and noted as huddle-recording does it.
	struct hd_store *store;
	struct hd_recording rec;
	bool created, dup;
	if (hd_store_open(&store, uri) != HD_OK)
		return 1;
	memset(&rec, 0, sizeof(rec));
	hd_id_random(rec.meeting_id);
	hd_id_random(rec.id);
	hd_id_random(rec.recorder_id);
	rec.kind = HD_REC_MEETING;
	snprintf(rec.recorder_name, sizeof(rec.recorder_name), "bench");
	snprintf(rec.mime_type, sizeof(rec.mime_type), "video/webm;codecs=vp8,opus");
	rec.created_at_ms = hd_now_ms();
	if (hd_recording_create(store, &rec, &created) != HD_OK)
		return 1;
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(chunk);
	if (f == NULL || buf == NULL)
		return 1;
	char why[256];
	if (rec_files_open_dir(rec_dir, why, sizeof(why)) != HD_OK) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	t0 = now_s();
	for (uint32_t i = 0; i < chunks; i++) {
		size_t n = fread(buf, 1, chunk, f);
		bool existed;
		uint64_t len;
		struct hd_recording out;
		if (n == 0 ||
		    rec_files_chunk_write(rec_dir, rec.meeting_id, rec.id, i, buf, n, &existed, &len) != HD_OK ||
		    hd_recording_chunk(store, rec.meeting_id, rec.id, i, len, hd_now_ms(), &out, &dup) != HD_OK) {
			fprintf(stderr, "recording-bench: chunk %u failed\n", i);
			return 1;
		}
	}
	double ingest = now_s() - t0;
	fclose(f);
	free(buf);
	printf("  chunks written (fsync + rename + store note each): %.2f s, %.1f ms per chunk\n", ingest,
	       ingest * 1000.0 / chunks);

	// The remux alone, into a scratch file.
	char chunk_dir[REC_PATH_MAX], scratch[600];
	struct rec_remux_result res;
	struct rec_limits limits = {.idle_s = 120, .quota_mb = 1 << 20, .max_minutes = 10080};
	rec_files_chunk_dir(rec_dir, rec.meeting_id, rec.id, chunk_dir);
	snprintf(scratch, sizeof(scratch), "%s/scratch.webm", dir);
	rec_remux_log_init();
	t0 = now_s();
	hd_err err = rec_remux(chunk_dir, chunks, scratch, limits.max_minutes * 60000, NULL, &res);
	double remux = now_s() - t0;
	if (err != HD_OK) {
		fprintf(stderr, "recording-bench: remux failed: %s (%s)\n", hd_strerror(err), res.why);
		return 1;
	}
	unlink(scratch);
	printf("  remux alone: %.2f s (%.0f MB/s), %llu packets, %.1f MB out, %.1f s of media\n", remux,
	       (double)size / 1e6 / remux, (unsigned long long)res.packets, (double)res.bytes / 1e6,
	       (double)res.duration_ms / 1000.0);

	// The whole assembly, as the daemon's thread does it.
	struct rec_service svc;
	struct hd_recording out;
	bool changed;
	rec_service_init(&svc, store, rec_dir, &limits);
	if (rec_begin_assembly(&svc, rec.meeting_id, rec.id, chunks, &out, &changed) != HD_OK || !changed)
		return 1;
	t0 = now_s();
	err = rec_assemble(&svc, rec.meeting_id, rec.id, NULL);
	double assemble = now_s() - t0;
	if (err != HD_OK || hd_recording_get(store, rec.meeting_id, rec.id, &out) != HD_OK ||
	    out.state != HD_REC_READY) {
		fprintf(stderr, "recording-bench: assembly failed: %s (%s)\n", hd_strerror(err), out.error);
		return 1;
	}
	rec_files_final_path(rec_dir, rec.meeting_id, rec.id, path);
	int64_t probed_ms;
	uint64_t probed_bytes;
	rec_probe(path, &probed_ms, &probed_bytes);
	printf("  assembly (remux + fsync + rename + READY + chunks removed): %.2f s (%.0f MB/s); "
	       "file %.1f MB, duration %.1f s (header: %.1f s)\n",
	       assemble, (double)size / 1e6 / assemble, (double)out.bytes / 1e6, (double)out.duration_ms / 1000.0,
	       (double)probed_ms / 1000.0);
	printf("{\"minutes\":%d,\"source_bytes\":%llu,\"chunks\":%u,\"ingest_s\":%.3f,\"remux_s\":%.3f,"
	       "\"assemble_s\":%.3f,\"file_bytes\":%llu,\"duration_ms\":%lld}\n",
	       minutes, (unsigned long long)size, chunks, ingest, remux, assemble, (unsigned long long)out.bytes,
	       (long long)out.duration_ms);
	rec_service_fini(&svc);
	hd_store_close(store);
	if (!keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		sh(cmd);
	} else {
		printf("  kept %s\n", dir);
	}
	return 0;
}
