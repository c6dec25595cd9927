// client.c: RecordingRequest calls and WebM fixtures for the recording tests.
#include "client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <libavformat/avformat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static pthread_mutex_t id_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_id = 5000;

Huddle__V1__RecordingReply *rec_test_call(struct hd_rpc_client *c, Huddle__V1__RecordingRequest *req, int timeout_ms,
					  bool allow_timeout)
{
	nng_msg *msg, *rep;
	pthread_mutex_lock(&id_mtx);
	req->request_id = ++next_id;
	pthread_mutex_unlock(&id_mtx);
	assert_int_equal(hd_msg_pack(&req->base, &msg), HD_OK);
	hd_err err = hd_rpc_call(c, msg, timeout_ms, &rep);
	if (err != HD_OK && allow_timeout)
		return NULL;
	assert_int_equal(err, HD_OK);
	Huddle__V1__RecordingReply *r = huddle__v1__recording_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	assert_int_equal(r->request_id, req->request_id);
	return r;
}

static Huddle__V1__RecordingReply *call(struct hd_rpc_client *c, Huddle__V1__RecordingRequest *req)
{
	return rec_test_call(c, req, REC_TEST_CALL_MS, false);
}

int rec_test_code(const Huddle__V1__RecordingReply *r)
{
	if (r->error == NULL || r->error->code == 0)
		return HD_OK;
	assert_true(strlen(r->error->message) > 0);
	assert_int_equal(r->body_case, HUDDLE__V1__RECORDING_REPLY__BODY__NOT_SET);
	return (int)r->error->code;
}

const char *rec_test_message(const Huddle__V1__RecordingReply *r)
{
	return r->error != NULL && r->error->message != NULL ? r->error->message : "";
}

Huddle__V1__RecordingReply *rec_test_create(struct hd_rpc_client *c, const char *meeting, const char *id,
					    const char *recorder)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingCreateRequest b = HUDDLE__V1__RECORDING_CREATE_REQUEST__INIT;
	b.meeting_id = (char *)meeting;
	b.id = (char *)id;
	b.kind = HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_MEETING;
	b.recorder_id = (char *)recorder;
	b.recorder_name = "Ada";
	b.mime_type = "video/webm;codecs=vp8,opus";
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_CREATE;
	req.create = &b;
	return call(c, &req);
}

Huddle__V1__RecordingReply *rec_test_chunk(struct hd_rpc_client *c, const char *meeting, const char *id,
					   const char *recorder, uint32_t index, const void *data, size_t len)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingChunkRequest b = HUDDLE__V1__RECORDING_CHUNK_REQUEST__INIT;
	b.meeting_id = (char *)meeting;
	b.id = (char *)id;
	b.recorder_id = (char *)recorder;
	b.index = index;
	b.data.data = (uint8_t *)data;
	b.data.len = len;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_CHUNK;
	req.chunk = &b;
	return call(c, &req);
}

Huddle__V1__RecordingReply *rec_test_finish(struct hd_rpc_client *c, const char *meeting, const char *id,
					    const char *recorder, uint32_t chunks)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingFinishRequest b = HUDDLE__V1__RECORDING_FINISH_REQUEST__INIT;
	b.meeting_id = (char *)meeting;
	b.id = (char *)id;
	b.recorder_id = (char *)recorder;
	b.chunks = chunks;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_FINISH;
	req.finish = &b;
	return call(c, &req);
}

Huddle__V1__RecordingReply *rec_test_get(struct hd_rpc_client *c, const char *meeting, const char *id)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingGetRequest b = HUDDLE__V1__RECORDING_GET_REQUEST__INIT;
	b.meeting_id = (char *)meeting;
	b.id = (char *)id;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_GET;
	req.get = &b;
	return call(c, &req);
}

Huddle__V1__RecordingReply *rec_test_list(struct hd_rpc_client *c, const char *meeting)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingListRequest b = HUDDLE__V1__RECORDING_LIST_REQUEST__INIT;
	b.meeting_id = (char *)meeting;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_LIST;
	req.list = &b;
	return call(c, &req);
}

Huddle__V1__RecordingReply *rec_test_read(struct hd_rpc_client *c, const char *meeting, const char *id, uint64_t offset,
					  uint32_t length)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingReadRequest b = HUDDLE__V1__RECORDING_READ_REQUEST__INIT;
	b.meeting_id = (char *)meeting;
	b.id = (char *)id;
	b.offset = offset;
	b.length = length;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_READ;
	req.read = &b;
	return call(c, &req);
}

Huddle__V1__RecordingReply *rec_test_delete(struct hd_rpc_client *c, const char *meeting, const char *id,
					    const char *recorder)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingDeleteRequest b = HUDDLE__V1__RECORDING_DELETE_REQUEST__INIT;
	b.meeting_id = (char *)meeting;
	b.id = (char *)id;
	b.recorder_id = (char *)recorder;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_DELETE;
	req.delete_ = &b;
	return call(c, &req);
}

bool rec_test_health(struct hd_rpc_client *c, int timeout_ms)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingHealthRequest b = HUDDLE__V1__RECORDING_HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_HEALTH;
	req.health = &b;
	Huddle__V1__RecordingReply *r = rec_test_call(c, &req, timeout_ms, true);
	bool ok = r != NULL && r->body_case == HUDDLE__V1__RECORDING_REPLY__BODY_HEALTH;
	if (r != NULL)
		huddle__v1__recording_reply__free_unpacked(r, NULL);
	return ok;
}

int rec_test_wait_state(struct hd_rpc_client *c, const char *meeting, const char *id, int state, int timeout_ms)
{
	int64_t until = hd_mono_ms() + timeout_ms;
	int seen = -1;
	for (;;) {
		Huddle__V1__RecordingReply *r = rec_test_get(c, meeting, id);
		seen = rec_test_code(r) == HD_OK ? (int)r->get->recording->state : -1;
		huddle__v1__recording_reply__free_unpacked(r, NULL);
		if (seen == state || hd_mono_ms() > until)
			return seen;
		usleep(20 * 1000);
	}
}

uint8_t *rec_test_download(struct hd_rpc_client *c, const char *meeting, const char *id, uint32_t piece, size_t *len)
{
	uint8_t *buf = NULL;
	uint64_t size = 1, got = 0;
	while (got < size) {
		Huddle__V1__RecordingReply *r = rec_test_read(c, meeting, id, got, piece);
		if (rec_test_code(r) != HD_OK)
			fail_msg("read at %llu: %s", (unsigned long long)got, rec_test_message(r));
		if (buf == NULL) {
			size = r->read->size;
			assert_true(size > 0);
			buf = malloc(size);
			assert_non_null(buf);
		}
		assert_int_equal(r->read->size, size);
		assert_true(r->read->data.len > 0 && r->read->data.len <= piece);
		memcpy(buf + got, r->read->data.data, r->read->data.len);
		got += r->read->data.len;
		huddle__v1__recording_reply__free_unpacked(r, NULL);
	}
	*len = (size_t)size;
	return buf;
}

uint32_t rec_test_upload(struct hd_rpc_client *c, const char *meeting, const char *id, const char *recorder,
			 const uint8_t *data, size_t len, size_t chunk, uint32_t first, uint32_t last)
{
	uint32_t n = (uint32_t)((len + chunk - 1) / chunk);
	for (uint32_t i = first; i < n && i <= last; i++) {
		size_t at = (size_t)i * chunk, k = len - at < chunk ? len - at : chunk;
		Huddle__V1__RecordingReply *r = rec_test_chunk(c, meeting, id, recorder, i, data + at, k);
		if (rec_test_code(r) != HD_OK)
			fail_msg("chunk %u: %s", i, rec_test_message(r));
		huddle__v1__recording_reply__free_unpacked(r, NULL);
	}
	return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	assert_true(n > 0);
	uint8_t *buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

void rec_test_write(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

uint8_t *rec_test_clip(const char *path, int seconds, size_t *len)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		char cmd[1024];
		// -f webm to a pipe: not seekable, so no cues and no duration, like MediaRecorder's stream.
		snprintf(cmd, sizeof(cmd),
			 "ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "
			 "testsrc=duration=%d:size=320x240:rate=15"
			 " -f lavfi -i sine=frequency=440:duration=%d -c:v libvpx -deadline realtime -cpu-used 8 -b:v "
			 "400k"
			 " -g 30 -c:a libopus -b:a 48k -f webm pipe:1 > '%s.part' && mv '%s.part' '%s'",
			 seconds, seconds, path, path, path);
		if (system(cmd) != 0)
			fail_msg("ffmpeg could not make the WebM fixture (needs the ffmpeg package with libvpx "
				 "and libopus): %s",
				 cmd);
	}
	return slurp(path, len);
}

// file_write is the AVIOContext write callback of rec_test_loop: no seek.
static int file_write(void *opaque, uint8_t *buf, int size)
{
	return fwrite(buf, 1, (size_t)size, opaque) == (size_t)size ? size : AVERROR(EIO);
}

uint64_t rec_test_loop(const char *clip_path, const char *out_path, int seconds, int64_t *duration_ms)
{
	AVFormatContext *in = NULL, *out = NULL;
	assert_int_equal(avformat_open_input(&in, clip_path, NULL, NULL), 0);
	assert_true(avformat_find_stream_info(in, NULL) >= 0);
	// the clip's packets, in file order
	size_t n = 0, cap = 4096;
	AVPacket **pkts = calloc(cap, sizeof(*pkts));
	assert_non_null(pkts);
	int64_t clip_ms = 0;
	const AVRational ms = {1, 1000};
	for (;;) {
		AVPacket *p = av_packet_alloc();
		assert_non_null(p);
		if (av_read_frame(in, p) < 0) {
			av_packet_free(&p);
			break;
		}
		AVStream *s = in->streams[p->stream_index];
		int64_t end = av_rescale_q(p->pts + p->duration, s->time_base, ms);
		clip_ms = end > clip_ms ? end : clip_ms;
		if (n == cap) {
			cap *= 2;
			pkts = realloc(pkts, cap * sizeof(*pkts));
			assert_non_null(pkts);
		}
		pkts[n++] = p;
	}
	assert_true(n > 0 && clip_ms > 0);

	FILE *f = fopen(out_path, "wb");
	assert_non_null(f);
	uint8_t *buf = av_malloc(65536);
	AVIOContext *io = avio_alloc_context(buf, 65536, 1, f, NULL, file_write, NULL);
	assert_non_null(io);
	io->seekable = 0;
	assert_true(avformat_alloc_output_context2(&out, NULL, "webm", NULL) >= 0);
	out->pb = io;
	for (unsigned i = 0; i < in->nb_streams; i++) {
		AVStream *os = avformat_new_stream(out, NULL);
		assert_non_null(os);
		assert_true(avcodec_parameters_copy(os->codecpar, in->streams[i]->codecpar) >= 0);
		os->codecpar->codec_tag = 0;
		os->time_base = in->streams[i]->time_base;
	}
	assert_true(avformat_write_header(out, NULL) >= 0);
	int reps = (int)((seconds * 1000LL + clip_ms - 1) / clip_ms);
	*duration_ms = clip_ms * reps;
	for (int r = 0; r < reps; r++) {
		for (size_t i = 0; i < n; i++) {
			AVPacket *p = av_packet_clone(pkts[i]);
			assert_non_null(p);
			AVStream *is = in->streams[p->stream_index], *os = out->streams[p->stream_index];
			int64_t shift = av_rescale_q(clip_ms * r, ms, is->time_base);
			p->pts += shift;
			p->dts += shift;
			av_packet_rescale_ts(p, is->time_base, os->time_base);
			p->pos = -1;
			assert_true(av_write_frame(out, p) >= 0);
			av_packet_free(&p);
		}
	}
	assert_true(av_write_trailer(out) >= 0);
	avio_flush(io);
	av_freep(&io->buffer);
	avio_context_free(&io);
	avformat_free_context(out);
	assert_int_equal(fclose(f), 0);
	for (size_t i = 0; i < n; i++)
		av_packet_free(&pkts[i]);
	free(pkts);
	avformat_close_input(&in);
	struct stat st;
	assert_int_equal(stat(out_path, &st), 0);
	return (uint64_t)st.st_size;
}

bool rec_test_probe(const char *path, int64_t *duration_ms, bool *cues)
{
	AVFormatContext *ctx = NULL;
	if (avformat_open_input(&ctx, path, NULL, NULL) < 0)
		return false;
	*duration_ms = ctx->duration == AV_NOPTS_VALUE ? -1 : ctx->duration / (AV_TIME_BASE / 1000);
	// The matroska demuxer turns the Cues of a seekable file into index
	// entries, on the first seek (it defers parsing them until then).
	if (*duration_ms > 0)
		av_seek_frame(ctx, -1, (*duration_ms / 2) * (AV_TIME_BASE / 1000), AVSEEK_FLAG_BACKWARD);
	*cues = false;
	for (unsigned i = 0; i < ctx->nb_streams; i++)
		if (avformat_index_get_entries_count(ctx->streams[i]) > 0)
			*cues = true;
	avformat_close_input(&ctx);
	return true;
}
