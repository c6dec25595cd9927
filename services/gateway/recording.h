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
// hands a download to download.c. Service thread only.
#ifndef GW_RECORDING_H
#define GW_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"
#include "gateway/http.h"

#define GW_REC_CHUNK_MAX ((size_t)4194304) // bytes of one chunk's body (4 MiB)
// GW_REC_DRAIN_MAX: a body declared larger than this is refused without
// being read, and the connection closes; a smaller one over its limit is
// read to its end (and dropped) first, so the client can read the 413.
#define GW_REC_DRAIN_MAX ((size_t)67108864)

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

// gw_rec_pull and gw_rec_pulled hand http.c the next bytes of r's
// download, as gw_download_pull and gw_download_pulled do (*failed also
// when r has no download).
size_t gw_rec_pull(struct gw_rec *r, size_t max, uint8_t **data, bool *failed);
void gw_rec_pulled(struct gw_rec *r, struct gw_http *h, size_t n);

// gw_rec_free frees r and what it holds. NULL is a no-op.
void gw_rec_free(struct gw_rec *r);

// gw_rec_count tells how many recording requests are in progress and how
// many bytes of bodies and downloads they hold (/metrics).
void gw_rec_count(size_t *requests, size_t *bytes);

// ---- for downloads (download.c) ----

// gw_rec_send sends req to huddle-recording for h (GW_OP_HTTP_RECORDING:
// the reply comes back through gw_rec_on_reply). Returns HD_OK, or
// HD_EUNAVAILABLE at once while no huddle-recording is connected, rather
// than letting the call wait out RECORDING_TIMEOUT_MS.
hd_err gw_rec_send(struct gw_http *h, Huddle__V1__RecordingRequest *req);

// gw_rec_failed tells how a huddle-recording call ended: HD_OK when reply
// is a reply with body `want` and no error; otherwise the code to answer
// with and *why its message (NULL: the code's own): TIMEOUT, UNAVAILABLE,
// INTERNAL (a reply that does not decode or has another body) or the
// service's own code.
hd_err gw_rec_failed(hd_err err, const Huddle__V1__RecordingReply *reply, Huddle__V1__RecordingReply__BodyCase want,
		     const char **why);

#endif
