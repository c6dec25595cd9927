// http.h: the gateway's HTTP side: the web app (/, /m/<id>, assets), the
// API (/api/meetings, the exports /api/meetings/<id>/chat, /notes.md and
// /code through export.c), /healthz, /readyz and /metrics. Service thread
// only.
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "gateway/gateway.h"

#define GW_HTTP_BODY_MAX 4096 // bytes of request body accepted by the API

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

// ---- for the exports (export.c) ----

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

// gw_http_meeting_json is the API's JSON form of a meeting (the caller's;
// NULL on ENOMEM).
cJSON *gw_http_meeting_json(const Huddle__V1__Meeting *m);

// gw_http_pss_size is the per-connection state size lws must allocate.
extern const size_t gw_http_pss_size;

#endif
