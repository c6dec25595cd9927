// download.c: a recording's file, read from huddle-recording piece by
// piece and streamed with Range.
#include "gateway/download.h"

#include <inttypes.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "gateway/http.h"
#include "gateway/range.h"
#include "gateway/recording.h"

// download_piece is one piece of a download: LWS_PRE bytes, then len bytes,
// of which off are written.
struct download_piece {
	uint8_t *buf;
	size_t len, off;
};

// gw_download is one download in progress.
struct gw_download {
	char meeting_id[HD_ID_LEN + 1];
	char id[HD_ID_LEN + 1];
	bool audio;           // audio/webm (sound only), else video/webm
	int status;           // 200 or 206
	uint64_t size;        // of the whole file
	uint64_t first, last; // the bytes served, inclusive (last < first: none)
	uint64_t next_off;    // the next byte to read
	bool started;         // the status line is queued
	bool reading;         // a read is outstanding
	bool failed;          // the download cannot go on
	struct download_piece pieces[GW_DOWNLOAD_PIECES];
	size_t n_pieces;
};

void gw_download_free(struct gw_download *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_pieces; i++)
		free(d->pieces[i].buf);
	free(d);
}

// download_failed stops d: before the status line h is answered with code,
// after it the writer learns the body ends short. Returns NULL.
static void download_failed(struct gw_download *d, struct gw_http *h, hd_err code, const char *why)
{
	gw.stats.rec_failures++;
	if (!d->started) {
		gw_http_respond_error(h, gw_http_status_of(code), code, why);
		d->failed = true;
		return;
	}
	HD_WARN("recording %s of meeting %s: download stopped at byte %" PRIu64 ": %s", d->id, d->meeting_id,
		d->next_off, why != NULL ? why : hd_strerror(code));
	d->failed = true;
	gw_http_stream_ready(h);
}

// download_headers queues the status line and headers of d's response.
static void download_headers(struct gw_download *d, struct gw_http *h)
{
	char disposition[96], arg[8];
	const char *download = lws_get_urlarg_by_name(gw_http_wsi(h), "download=", arg, sizeof(arg));
	bool attachment = download != NULL && strcmp(download, "0") != 0;
	snprintf(disposition, sizeof(disposition), "%s; filename=\"huddle-recording-%s.webm\"",
		 attachment ? "attachment" : "inline", d->id);
	d->started = true;
	gw_http_stream(h, d->status, d->audio ? "audio/webm" : "video/webm", disposition,
		       d->last >= d->first && d->size > 0 ? d->last - d->first + 1 : 0);
}

// download_read asks for the next piece, if one is due and there is room to
// hold it.
static void download_read(struct gw_download *d, struct gw_http *h)
{
	if (d->reading || d->failed || d->next_off > d->last || d->n_pieces >= GW_DOWNLOAD_PIECES)
		return;
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingReadRequest rd = HUDDLE__V1__RECORDING_READ_REQUEST__INIT;
	uint64_t left = d->last - d->next_off + 1;
	rd.meeting_id = d->meeting_id;
	rd.id = d->id;
	rd.offset = d->next_off;
	rd.length = left < GW_REC_READ_MAX ? (uint32_t)left : GW_REC_READ_MAX;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_READ;
	req.read = &rd;
	hd_err err = gw_rec_send(h, &req);
	if (err != HD_OK) {
		download_failed(d, h, err, "the recording service is unavailable");
		return;
	}
	d->reading = true;
}

struct gw_download *gw_download_start(struct gw_http *h, const Huddle__V1__Recording *x, bool head)
{
	struct lws *wsi = gw_http_wsi(h);
	char range[128] = "", value[96];
	struct gw_download *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
		return NULL;
	}
	snprintf(d->meeting_id, sizeof(d->meeting_id), "%s", x->meeting_id);
	snprintf(d->id, sizeof(d->id), "%s", x->id);
	d->audio = strncasecmp(x->mime_type, "audio/webm", 10) == 0;
	d->size = x->bytes;
	// If-Range names a version we have no validator for: the whole file
	// (RFC 9110 section 13.1.5).
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_RANGE);
	if (n > 0 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_IF_RANGE) <= 0 &&
	    (n >= (int)sizeof(range) || lws_hdr_copy(wsi, range, sizeof(range), WSI_TOKEN_HTTP_RANGE) != n))
		range[0] = '\0';
	gw_http_header(h, "accept-ranges:", "bytes");
	switch (gw_range_parse(range[0] != '\0' ? range : NULL, d->size, &d->first, &d->last)) {
	case GW_RANGE_UNSATISFIABLE:
		snprintf(value, sizeof(value), "bytes */%" PRIu64, d->size);
		gw_http_header(h, "content-range:", value);
		gw_http_respond_error(h, HTTP_STATUS_REQ_RANGE_NOT_SATISFIABLE, HD_EBADREQUEST,
				      "the range is not within the file");
		gw_download_free(d);
		return NULL;
	case GW_RANGE_PARTIAL:
		d->status = HTTP_STATUS_PARTIAL_CONTENT;
		snprintf(value, sizeof(value), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, d->first, d->last, d->size);
		gw_http_header(h, "content-range:", value);
		break;
	default:
		d->status = HTTP_STATUS_OK;
		d->first = 0;
		d->last = d->size > 0 ? d->size - 1 : 0;
		break;
	}
	d->next_off = d->first;
	if (head || d->size == 0) {
		d->next_off = d->last + 1; // nothing to read
		download_headers(d, h);
		return d;
	}
	// The first piece before the status line: a failure can still say so.
	download_read(d, h);
	if (d->failed) {
		gw_download_free(d);
		return NULL;
	}
	return d;
}

void gw_download_on_read(struct gw_download *d, struct gw_http *h, hd_err err, Huddle__V1__RecordingReply *reply)
{
	const char *why = NULL;
	hd_err code = gw_rec_failed(err, reply, HUDDLE__V1__RECORDING_REPLY__BODY_READ, &why);
	uint64_t left = d->last - d->next_off + 1;
	d->reading = false;
	if (code == HD_OK) {
		size_t len = reply->read->data.len;
		struct download_piece *p = &d->pieces[d->n_pieces];
		if (reply->read->size != d->size || len == 0 || len > left || len > GW_REC_READ_MAX) {
			code = HD_EINTERNAL;
			why = "the recording's file changed while it was read";
		} else if ((p->buf = malloc(LWS_PRE + len)) == NULL) {
			code = HD_ENOMEM;
			why = NULL;
		} else {
			memcpy(p->buf + LWS_PRE, reply->read->data.data, len);
			p->len = len;
			p->off = 0;
			d->n_pieces++;
			d->next_off += len;
		}
	}
	if (code != HD_OK) {
		download_failed(d, h, code, why);
		return;
	}
	if (!d->started)
		download_headers(d, h);
	else
		gw_http_stream_ready(h);
	download_read(d, h);
}

size_t gw_download_pull(struct gw_download *d, size_t max, uint8_t **data, bool *failed)
{
	if (d->failed) {
		*failed = true;
		return 0;
	}
	if (d->n_pieces == 0)
		return 0;
	struct download_piece *p = &d->pieces[0];
	size_t n = p->len - p->off;
	*data = p->buf + LWS_PRE + p->off;
	return n < max ? n : max;
}

void gw_download_pulled(struct gw_download *d, struct gw_http *h, size_t n)
{
	struct download_piece *p = &d->pieces[0];
	p->off += n;
	gw.stats.rec_file_bytes += n;
	if (p->off < p->len)
		return;
	free(p->buf);
	memmove(&d->pieces[0], &d->pieces[1], sizeof(d->pieces) - sizeof(d->pieces[0]));
	memset(&d->pieces[GW_DOWNLOAD_PIECES - 1], 0, sizeof(d->pieces[0]));
	d->n_pieces--;
	download_read(d, h);
}
