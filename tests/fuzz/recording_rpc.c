// recording_rpc.c: fuzzes huddle-recording's request handler
// (recording/rpc.c, rec_rpc_handle) over a real SQLite store and
// RECORDINGS_DIR on tmpfs, and the chunk assembly a finish starts
// (rec_assemble: the chunks on disk remuxed into one WebM with libavformat,
// run here on this thread instead of the assembler's). Input: records of a
// 16-bit length and that many bytes, each one packed RecordingRequest
// served in turn (create, chunks, finish, get, read, delete).
#include <unistd.h>

#include "common/log.h"
#include "huddle/v1/recording.pb-c.h"
#include "recording/assembler.h"
#include "recording/files.h"
#include "recording/recording.h"
#include "recording/remux.h"
#include "recording/rpc.h"
#include "support/input.h"
#include "support/rpc.h"

static struct rec_service svc;
static struct rec_ctx ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char rec_dir[256];
	char uri[256], why[256];
	struct hd_store *store;
	static const struct rec_limits limits = {.idle_s = 3600, .quota_mb = 64, .max_minutes = 10};
	hd_log_level = -1;
	rec_remux_log_init();
	const char *dir = fz_tmpdir("recording");
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", dir);
	snprintf(rec_dir, sizeof(rec_dir), "%s/recordings", dir);
	if (rec_files_open_dir(rec_dir, why, sizeof(why)) != HD_OK || hd_store_open(&store, uri) != HD_OK)
		abort();
	rec_service_init(&svc, store, rec_dir, &limits);
	if (rec_ctx_init(&ctx, &svc) != HD_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_init(&in, data, size);
	while (in.left > 0) {
		size_t n;
		const uint8_t *p = fz_slice(&in, &n);
		Huddle__V1__RecordingReply *r = (Huddle__V1__RecordingReply *)fz_rpc_serve(
			rec_rpc_handle, &ctx, &huddle__v1__recording_request__descriptor,
			&huddle__v1__recording_reply__descriptor, p, n);
		if (r == NULL)
			continue;
		// A finished recording is assembled (as the assembler thread would).
		if (r->body_case == HUDDLE__V1__RECORDING_REPLY__BODY_FINISH && r->finish->recording != NULL &&
		    r->finish->recording->state == HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_ASSEMBLING)
			rec_assemble(&svc, r->finish->recording->meeting_id, r->finish->recording->id, NULL);
		huddle__v1__recording_reply__free_unpacked(r, NULL);
	}
	return 0;
}
