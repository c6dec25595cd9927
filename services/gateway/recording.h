// recording.h: recordings over HTTP, the API of proto/huddle/v1/
// recording.proto's header, served from huddle-recording:
//   PUT    /api/meetings/<id>/recordings/<rid>            create: JSON {kind, name[, mimeType]}
//   GET    /api/meetings/<id>/recordings/<rid>            one recording (JSON)
//   PUT    /api/meetings/<id>/recordings/<rid>/chunks/<n> chunk n, a body of 1..4 MiB
//   POST   /api/meetings/<id>/recordings/<rid>/finish     JSON {chunks: N}
//   GET    /api/meetings/<id>/recordings                   the meeting's recordings (JSON array)
//   GET    /api/meetings/<id>/recordings/<rid>/file        the file (video/webm); Range
//   DELETE /api/meetings/<id>/recordings/<rid>             by its recorder
// Writes (PUT, POST, DELETE) need "Authorization: Bearer <recording token>"
// (rectoken.h), minted for the meeting in the URL; reads need only the
// meeting's link, as the exports do. Each request is a sub-protocol of one
// HTTP request (http.c): it reads the body, checks the token, asks
// huddle-recording (the list also the registry) and answers with JSON, or
// streams a download read from huddle-recording 1 MiB at a time.
// Service thread only.
#ifndef GW_RECORDING_H
#define GW_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"
#include "gateway/http.h"

#define GW_REC_CHUNK_MAX ((size_t)4 * 1024 * 1024) // bytes of one chunk's body
#define GW_REC_READ_MAX ((uint32_t)1024 * 1024)    // bytes of one RecordingReadRequest
// GW_REC_DRAIN_MAX: a body declared larger than this is refused without
// being read, and the connection closes; a smaller one over its limit is
// read to its end (and dropped) first, so the client can read the 413.
#define GW_REC_DRAIN_MAX ((size_t)64 * 1024 * 1024)

struct gw_rec;

// gw_rec_start starts the request of method for path, what follows
// "/api/meetings/" ("<id>/recordings/<rid>/chunks/3"). It returns the
// request in progress, which h keeps and frees with gw_rec_free; h's body
// (if any) goes to gw_rec_body and gw_rec_body_end. It returns NULL only
// when it could not allocate it (h is answered, 500, and closes).
struct gw_rec *gw_rec_start(struct gw_http *h, enum gw_http_method method, const char *path);

// gw_rec_body takes len more bytes of the request body (in borrowed);
// gw_rec_body_end says the body is complete, and the request goes on.
void gw_rec_body(struct gw_rec *r, struct gw_http *h, const void *in, size_t len);
void gw_rec_body_end(struct gw_rec *r, struct gw_http *h);

// gw_rec_on_meeting and gw_rec_on_reply continue r with the reply to the
// call it made (reply NULL on transport error err; borrowed).
void gw_rec_on_meeting(struct gw_rec *r, struct gw_http *h, hd_err err, Huddle__V1__RegistryReply *reply);
void gw_rec_on_reply(struct gw_rec *r, struct gw_http *h, hd_err err, Huddle__V1__RecordingReply *reply);

// gw_rec_pull hands http.c the next bytes of r's download: it returns how
// many (at most max) are ready at *data, which has LWS_PRE writable bytes
// before it; 0 when none is ready yet (gw_http_stream_ready wakes the
// writer once there are). *failed turns true when the download cannot go on
// (huddle-recording failed after the status line was sent).
// gw_rec_pulled says n of them were written.
size_t gw_rec_pull(struct gw_rec *r, size_t max, uint8_t **data, bool *failed);
void gw_rec_pulled(struct gw_rec *r, struct gw_http *h, size_t n);

// gw_rec_free frees r and what it holds. NULL is a no-op.
void gw_rec_free(struct gw_rec *r);

// gw_rec_count tells how many recording requests are in progress and how
// many bytes of bodies and download pieces they hold (/metrics).
void gw_rec_count(size_t *requests, size_t *buffered);

// gw_rec_stop frees the per-participant rate limits (at shutdown).
void gw_rec_stop(void);

#endif
