// remux.c: a recording's chunks into one seekable WebM (remux.h), with
// libavformat 59 (FFmpeg 5.1, Debian 12).
#include "recording/remux.h"

#include <errno.h>
#include <fcntl.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "recording/files.h"

#define IO_BUFFER 65536 // bytes libavformat reads from the chunks at a time

// chunk_reader feeds chunks 0..count-1 of dir to libavformat as one stream.
struct chunk_reader {
	const char *dir;
	uint32_t next, count;
	int fd;  // the chunk being read, -1 between chunks
	int err; // errno of a failed open or read (a disk error)
	const atomic_bool *stop;
};

// read_chunks is the AVIOContext read callback: the next bytes of the
// chunks, back to back. A chunk that is gone (deleted meanwhile) ends the
// stream there.
static int read_chunks(void *opaque, uint8_t *buf, int size)
{
	struct chunk_reader *r = opaque;
	for (;;) {
		if (r->stop != NULL && atomic_load(r->stop))
			return AVERROR_EXIT;
		if (r->fd < 0) {
			char path[REC_PATH_MAX];
			if (r->next >= r->count)
				return AVERROR_EOF;
			if (snprintf(path, sizeof(path), "%s/%u.part", r->dir, r->next) >= (int)sizeof(path))
				return AVERROR(ENAMETOOLONG);
			r->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (r->fd < 0) {
				if (errno == ENOENT)
					return AVERROR_EOF;
				r->err = errno;
				return AVERROR(errno);
			}
			r->next++;
		}
		ssize_t n = read(r->fd, buf, (size_t)size);
		if (n > 0)
			return (int)n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->err = errno;
			return AVERROR(errno);
		}
		close(r->fd);
		r->fd = -1;
	}
}

// webm_codec tells whether the webm muxer takes codec (else: matroska).
static bool webm_codec(enum AVCodecID id)
{
	return id == AV_CODEC_ID_VP8 || id == AV_CODEC_ID_VP9 || id == AV_CODEC_ID_AV1 || id == AV_CODEC_ID_OPUS ||
	       id == AV_CODEC_ID_VORBIS;
}

// remux_job is one remux's state, undone by job_fini.
struct remux_job {
	struct chunk_reader reader;
	AVIOContext *in_io;
	AVFormatContext *in, *out;
	AVPacket *pkt;
	int *map; // input stream -> output stream, -1: left out
};

static void job_fini(struct remux_job *j)
{
	av_packet_free(&j->pkt);
	if (j->out != NULL) {
		avio_closep(&j->out->pb);
		avformat_free_context(j->out);
	}
	avformat_close_input(&j->in);
	if (j->in_io != NULL) {
		av_freep(&j->in_io->buffer);
		avio_context_free(&j->in_io);
	}
	if (j->reader.fd >= 0)
		close(j->reader.fd);
	av_free(j->map);
}

static void av_why(struct rec_remux_result *res, const char *what, int averr)
{
	char e[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(averr, e, sizeof(e));
	snprintf(res->why, sizeof(res->why), "%s (%s)", what, e);
}

// open_input opens the chunks as a WebM stream. Returns HD_OK,
// HD_EMALFORMED, HD_EUNAVAILABLE, HD_ENOMEM.
static hd_err open_input(struct remux_job *j, struct rec_remux_result *res)
{
	uint8_t *buf = av_malloc(IO_BUFFER);
	if (buf == NULL ||
	    (j->in_io = avio_alloc_context(buf, IO_BUFFER, 0, &j->reader, read_chunks, NULL, NULL)) == NULL) {
		av_free(buf);
		return HD_ENOMEM;
	}
	j->in_io->seekable = 0; // read once, front to back: the chunks are a stream
	if ((j->in = avformat_alloc_context()) == NULL)
		return HD_ENOMEM;
	j->in->pb = j->in_io;
	int rv = avformat_open_input(&j->in, NULL, av_find_input_format("matroska"), NULL);
	if (rv < 0) { // j->in is freed
		if (rv == AVERROR_EXIT || (j->reader.stop != NULL && atomic_load(j->reader.stop)))
			return HD_ECLOSED;
		if (j->reader.err != 0)
			return HD_EUNAVAILABLE;
		av_why(res, "chunk 0 does not start a WebM stream", rv);
		return HD_EMALFORMED;
	}
	avformat_find_stream_info(j->in, NULL); // parameters the header lacks; a damaged start still has streams
	if (j->reader.err != 0)
		return HD_EUNAVAILABLE;
	return HD_OK;
}

// open_output adds the audio and video streams to out_path's muxer (webm
// when every codec is WebM's, else matroska) and writes the header.
static hd_err open_output(struct remux_job *j, const char *out_path, struct rec_remux_result *res)
{
	bool webm = true;
	unsigned n = j->in->nb_streams, kept = 0;
	if ((j->map = av_calloc(n > 0 ? n : 1, sizeof(*j->map))) == NULL)
		return HD_ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const AVCodecParameters *p = j->in->streams[i]->codecpar;
		if (p->codec_type == AVMEDIA_TYPE_AUDIO || p->codec_type == AVMEDIA_TYPE_VIDEO)
			webm = webm && webm_codec(p->codec_id);
	}
	if (avformat_alloc_output_context2(&j->out, NULL, webm ? "webm" : "matroska", out_path) < 0)
		return HD_ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const AVStream *is = j->in->streams[i];
		j->map[i] = -1;
		if (is->codecpar->codec_type != AVMEDIA_TYPE_AUDIO && is->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
			continue;
		AVStream *os = avformat_new_stream(j->out, NULL);
		if (os == NULL || avcodec_parameters_copy(os->codecpar, is->codecpar) < 0)
			return HD_ENOMEM;
		os->codecpar->codec_tag = 0;
		os->time_base = is->time_base;
		j->map[i] = (int)kept++;
	}
	if (kept == 0) {
		snprintf(res->why, sizeof(res->why), "the WebM stream has no audio or video track");
		return HD_EMALFORMED;
	}
	int rv = avio_open(&j->out->pb, out_path, AVIO_FLAG_WRITE);
	if (rv < 0) {
		av_why(res, "cannot create the file", rv);
		HD_ERROR("remux: %s: %s", out_path, res->why);
		return HD_EUNAVAILABLE;
	}
	if ((rv = avformat_write_header(j->out, NULL)) < 0) {
		av_why(res, "cannot write the file's header", rv);
		HD_ERROR("remux: %s: %s", out_path, res->why);
		return rv == AVERROR(EINVAL) ? HD_EMALFORMED : HD_EUNAVAILABLE;
	}
	return HD_OK;
}

// copy_packets copies every packet until the input ends, is damaged, or
// passes max_ms. Returns HD_OK, HD_EUNAVAILABLE, HD_ECLOSED.
static hd_err copy_packets(struct remux_job *j, int64_t max_ms, const atomic_bool *stop, struct rec_remux_result *res)
{
	const AVRational ms = {1, 1000};
	int64_t first = INT64_MIN, end = INT64_MIN;
	int rv;
	while ((rv = av_read_frame(j->in, j->pkt)) >= 0) {
		AVPacket *p = j->pkt;
		int out_index = p->stream_index < (int)j->in->nb_streams ? j->map[p->stream_index] : -1;
		int64_t ts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
		if (out_index < 0 || ts == AV_NOPTS_VALUE) {
			av_packet_unref(p);
			continue;
		}
		AVStream *is = j->in->streams[p->stream_index], *os = j->out->streams[out_index];
		int64_t at = av_rescale_q(ts, is->time_base, ms);
		if (first == INT64_MIN)
			first = at;
		if (at - first > max_ms) {
			res->cut = true;
			snprintf(res->why, sizeof(res->why),
				 "the media after %lld min was left out (the longest length)",
				 (long long)(max_ms / 60000));
			av_packet_unref(p);
			break;
		}
		int64_t stop_at = at + (p->duration > 0 ? av_rescale_q(p->duration, is->time_base, ms) : 0);
		av_packet_rescale_ts(p, is->time_base, os->time_base);
		p->stream_index = out_index;
		p->pos = -1;
		int w = av_interleaved_write_frame(j->out, p); // takes the packet's data
		if (w == AVERROR(EINVAL))
			continue; // a timestamp going backwards: that packet is dropped
		if (w < 0) {
			av_why(res, "cannot write the file", w);
			HD_ERROR("remux: %s", res->why);
			return HD_EUNAVAILABLE;
		}
		res->packets++;
		if (stop_at > end)
			end = stop_at;
		if (stop != NULL && atomic_load(stop))
			return HD_ECLOSED;
	}
	if (rv == AVERROR_EXIT)
		return HD_ECLOSED;
	if (j->reader.err != 0) {
		HD_ERROR("remux: reading chunk %u: %s", j->reader.next > 0 ? j->reader.next - 1 : 0,
			 strerror(j->reader.err));
		return HD_EUNAVAILABLE;
	}
	if (rv != AVERROR_EOF && !res->cut) {
		res->cut = true;
		char e[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(rv, e, sizeof(e));
		snprintf(res->why, sizeof(res->why), "the data after %.1f s could not be read (%s) and was left out",
			 end > first ? (double)(end - first) / 1000.0 : 0.0, e);
	}
	res->duration_ms = end > first ? end - first : 0;
	return HD_OK;
}

hd_err rec_remux(const char *chunk_dir, uint32_t chunks, const char *out_path, int64_t max_ms, const atomic_bool *stop,
		 struct rec_remux_result *res)
{
	struct remux_job j;
	memset(&j, 0, sizeof(j));
	memset(res, 0, sizeof(*res));
	j.reader = (struct chunk_reader){.dir = chunk_dir, .count = chunks, .fd = -1, .stop = stop};
	hd_err err;
	if ((j.pkt = av_packet_alloc()) == NULL) {
		err = HD_ENOMEM;
		goto done;
	}
	if ((err = open_input(&j, res)) != HD_OK || (err = open_output(&j, out_path, res)) != HD_OK ||
	    (err = copy_packets(&j, max_ms, stop, res)) != HD_OK)
		goto done;
	int rv = av_write_trailer(j.out); // the cues and the duration
	if (rv >= 0)
		rv = avio_closep(&j.out->pb);
	if (rv < 0) {
		av_why(res, "cannot finish the file", rv);
		HD_ERROR("remux: %s: %s", out_path, res->why);
		err = HD_EUNAVAILABLE;
		goto done;
	}
	if (res->packets == 0) {
		if (!res->cut)
			snprintf(res->why, sizeof(res->why), "the WebM stream holds no audio or video");
		err = HD_EMALFORMED;
		goto done;
	}
	struct stat st;
	if (stat(out_path, &st) != 0) {
		HD_ERROR("remux: %s: %s", out_path, strerror(errno));
		err = HD_EUNAVAILABLE;
		goto done;
	}
	res->bytes = (uint64_t)st.st_size;

done:
	job_fini(&j);
	return err;
}

hd_err rec_probe(const char *path, int64_t *duration_ms, uint64_t *bytes)
{
	AVFormatContext *ctx = NULL;
	struct stat st;
	if (stat(path, &st) != 0)
		return HD_EUNAVAILABLE;
	int rv = avformat_open_input(&ctx, path, NULL, NULL);
	if (rv < 0)
		return rv == AVERROR(ENOENT) || rv == AVERROR(EIO) ? HD_EUNAVAILABLE : HD_EMALFORMED;
	if (ctx->duration == AV_NOPTS_VALUE)
		avformat_find_stream_info(ctx, NULL);
	int64_t d = ctx->duration;
	avformat_close_input(&ctx);
	if (d == AV_NOPTS_VALUE || d <= 0)
		return HD_EMALFORMED;
	*duration_ms = d / (AV_TIME_BASE / 1000);
	*bytes = (uint64_t)st.st_size;
	return HD_OK;
}

// av_log_line routes one libav* log line into our log, a level lower:
// damaged input is expected here and handled by the caller.
static void av_log_line(void *avcl, int level, const char *fmt, va_list vl)
{
	static int print_prefix = 1;
	char line[512];
	if (level > AV_LOG_WARNING)
		return;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0)
		return;
	if (level <= AV_LOG_FATAL)
		HD_ERROR("libav: %s", line);
	else if (level <= AV_LOG_ERROR)
		HD_WARN("libav: %s", line);
	else
		HD_DEBUG("libav: %s", line);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void)
{
	av_log_set_callback(av_log_line);
}

void rec_remux_log_init(void)
{
	pthread_once(&log_once, log_init);
}
