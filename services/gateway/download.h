// download.h: a finished recording's file streamed to one HTTP request
// (GET or HEAD /api/meetings/<id>/recordings/<rid>/file): its Range
// (range.h), the status line, then the file read from huddle-recording
// GW_REC_READ_MAX bytes at a time, at most GW_DOWNLOAD_PIECES pieces held,
// handed to http.c's writer as the socket takes them. recording.c starts it
// once huddle-recording's Get found the recording ready, and hands it the
// replies to its reads. Service thread only.
#ifndef GW_DOWNLOAD_H
#define GW_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"

#define GW_REC_READ_MAX ((uint32_t)1048576) // bytes of one RecordingReadRequest (1 MiB)
#define GW_DOWNLOAD_PIECES 2                // pieces held: one being written, one read ahead
// GW_DOWNLOAD_HOLD is what one download may hold in the gateway, bytes.
#define GW_DOWNLOAD_HOLD ((size_t)GW_DOWNLOAD_PIECES * GW_REC_READ_MAX)

struct gw_http;
struct gw_download;

// gw_download_start streams recording x (READY) to h: 416 for an
// unsatisfiable range (Content-Range: bytes */size); otherwise the first
// piece is read, and then the status line (200, or 206 with Content-Range)
// goes out with Accept-Ranges, Content-Length, the recording's type
// (video/webm, or audio/webm for sound only) and Content-Disposition
// (inline; attachment with ?download=1). A HEAD request, or an empty file,
// gets its headers at once. Returns the download in progress, which the
// request keeps and frees with gw_download_free, or NULL once h is answered.
struct gw_download *gw_download_start(struct gw_http *h, const Huddle__V1__Recording *x, bool head);

// gw_download_on_read takes the reply to d's read (reply NULL on transport
// error err; borrowed). A failure before the status line answers h with
// the error; after it, the connection closes (gw_download_pull fails).
void gw_download_on_read(struct gw_download *d, struct gw_http *h, hd_err err, Huddle__V1__RecordingReply *reply);

// gw_download_pull returns how many of the download's next bytes (at most
// max) are ready at *data, which has LWS_PRE writable bytes before it; 0
// when none is yet (gw_http_stream_ready wakes the writer once there are).
// *failed turns true when the download cannot go on.
// gw_download_pulled says n of them were written.
size_t gw_download_pull(struct gw_download *d, size_t max, uint8_t **data, bool *failed);
void gw_download_pulled(struct gw_download *d, struct gw_http *h, size_t n);

// gw_download_free frees d and its pieces. NULL is a no-op.
void gw_download_free(struct gw_download *d);

#endif
