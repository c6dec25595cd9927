// http.h: the gateway's HTTP side: the web app (/, /m/<id>, assets), the
// API (/api/meetings, the exports /api/meetings/<id>/chat, /notes.md and
// /code through export.c, recordings /api/meetings/<id>/recordings... through
// recording.c), /healthz, /readyz and /metrics. Service thread only.
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <libwebsockets.h>

#include "gateway/gateway.h"

#define GW_HTTP_BODY_MAX 4096 // bytes of request body accepted by the API (a recording chunk aside)

// GW_HTTP_WRITE_MAX is the most of a response body written per writeable
// callback: a large export or download goes out in pieces, each after the
// socket took the one before, instead of lws buffering the rest of one big
// write.
#define GW_HTTP_WRITE_MAX 16384

// GW_HTTP_STATUS_TOO_MANY_REQUESTS is RFC 6585's 429, which lws 4.1 does
// not name.
#define GW_HTTP_STATUS_TOO_MANY_REQUESTS 429

// gw_http_method is a request's method, as the API routes it.
enum gw_http_method {
	GW_HTTP_GET,
	GW_HTTP_HEAD,
	GW_HTTP_POST,
	GW_HTTP_PUT,
	GW_HTTP_DELETE,
	GW_HTTP_OTHER,
};

// gw_http_callback is the lws callback of the "http" protocol (protocol 0).
int gw_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

// gw_http_on_reply answers the HTTP request that waited on the registry.
void gw_http_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *reply);

// gw_http_on_chat_reply continues a chat export with huddle-chat's reply
// (r NULL on transport error err).
void gw_http_on_chat_reply(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *reply);

// gw_http_on_notes_reply continues a notes export with huddle-notes' reply
// (r NULL on transport error err).
void gw_http_on_notes_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *reply);

// gw_http_on_recording_reply continues a recording request with
// huddle-recording's reply (r NULL on transport error err).
void gw_http_on_recording_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RecordingReply *reply);

// ---- for the exports (export.c) and recordings (recording.c) ----

// gw_http_respond queues h's response: status, Content-Type ctype (static),
// Content-Disposition disposition (copied; NULL for none) and body (len
// bytes, copied). It is written when lws says the connection is writeable,
// the body in pieces, each once the socket took the one before.
void gw_http_respond(struct gw_http *h, int status, const char *ctype, const char *disposition, const char *body,
		     size_t len);

// gw_http_respond_error answers with the API's JSON error, {"error":
// {"code": "UNKNOWN_MEETING", "message": ...}} (message NULL: code's own).
void gw_http_respond_error(struct gw_http *h, int status, hd_err code, const char *message);

// gw_http_status_of is the HTTP status for an error code (404 for
// UNKNOWN_MEETING, 503 for UNAVAILABLE, 504 for TIMEOUT, ...).
int gw_http_status_of(hd_err code);

// gw_http_registry_call, gw_http_chat_call and gw_http_notes_call send a
// call for h, which then waits (indexed by id) for the reply that
// gw_http_on_reply, _on_chat_reply or _on_notes_reply hands to h's export.
// Returns as gw_registry_call does; on an error h does not wait.
hd_err gw_http_registry_call(struct gw_http *h, enum gw_op op, Huddle__V1__RegistryRequest *req);
hd_err gw_http_chat_call(struct gw_http *h, enum gw_op op, Huddle__V1__ChatRequest *req);
hd_err gw_http_notes_call(struct gw_http *h, enum gw_op op, uint32_t document, Huddle__V1__NotesRequest *req);
hd_err gw_http_recording_call(struct gw_http *h, enum gw_op op, Huddle__V1__RecordingRequest *req);

// gw_http_wsi is h's connection, to read the request's headers and query.
struct lws *gw_http_wsi(const struct gw_http *h);

// gw_http_header adds a header to h's next response: name with its colon
// ("content-range:") and value, both copied. Returns false when the headers
// added so far leave no room (GW_HTTP_EXTRA_MAX bytes in all).
#define GW_HTTP_EXTRA_MAX 256
bool gw_http_header(struct gw_http *h, const char *name, const char *value);

// gw_http_close_after makes the connection close once h's response is
// written: a body that cannot be framed (no or a bad Content-Length) may
// still be on its way.
void gw_http_close_after(struct gw_http *h);

// gw_http_stream queues the status line and headers of a response whose
// body, length bytes, recording.c hands over as it reads it
// (gw_rec_pull); a HEAD request gets the headers only. The body goes out
// in GW_HTTP_WRITE_MAX pieces, one per writeable callback, never all of
// it in memory.
void gw_http_stream(struct gw_http *h, int status, const char *ctype, const char *disposition, uint64_t length);

// gw_http_stream_ready wakes h's writer when it waits for the next bytes of
// a streamed body (or to learn the stream failed).
void gw_http_stream_ready(struct gw_http *h);

// gw_http_respond_json answers with json (taken; NULL: 500 out of memory).
void gw_http_respond_json(struct gw_http *h, int status, cJSON *json);

// gw_http_waited finds the request a reply p is for and takes it out of the
// index of waiting requests; NULL when the client went away.
struct gw_http *gw_http_waited(const struct gw_pending *p);

// gw_http_body_fn serves an API request once its body is read.
typedef void gw_http_body_fn(struct gw_http *h);

// gw_http_expect_body makes fn (with arg, a meeting id or NULL; copied)
// serve h when its body has arrived (LWS_CALLBACK_HTTP_BODY_COMPLETION).
void gw_http_expect_body(struct gw_http *h, gw_http_body_fn *fn, const char *arg);

// gw_http_body is h's request body read so far (len bytes; NULL when none;
// *too_large when it passed GW_HTTP_BODY_MAX and was dropped).
const char *gw_http_body(const struct gw_http *h, size_t *len, bool *too_large);

// gw_http_arg is the arg given to gw_http_expect_body ("" when none).
const char *gw_http_arg(const struct gw_http *h);

// gw_http_set_authorized / gw_http_authorized: whether the request carried
// a host key or recording token of its meeting (access_http.c).
void gw_http_set_authorized(struct gw_http *h, bool authorized);
bool gw_http_authorized(const struct gw_http *h);

// gw_http_meeting_json is the API's JSON form of a meeting (the caller's;
// NULL on ENOMEM): id, url, title, createdAtMs and created_at_ms (the same
// Unix ms), access_mode (gw_http_access_mode_name), starts_at_ms (Unix ms,
// 0: not scheduled). Never a key.
cJSON *gw_http_meeting_json(const Huddle__V1__Meeting *m);

// gw_http_access_mode_name is the API's lower-case name of an AccessMode
// number: "open" (also for 0 and unknown numbers), "waiting_room",
// "locked", "token_only". Static string.
const char *gw_http_access_mode_name(int mode);

// gw_http_access_mode_parse is the AccessMode number (1..4) of an API name
// (as gw_http_access_mode_name gives), 0 for NULL or any other string.
int gw_http_access_mode_parse(const char *name);

// gw_http_pss_size is the per-connection state size lws must allocate.
extern const size_t gw_http_pss_size;

#endif
