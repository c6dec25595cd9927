// http.h: the gateway's HTTP side: the web app (/, /m/<id>, assets), the
// API (/api/meetings, /api/meetings/<id>/chat export), /healthz, /readyz and /metrics. Service thread only.
#ifndef GW_HTTP_H
#define GW_HTTP_H

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

// gw_http_pss_size is the per-connection state size lws must allocate.
extern const size_t gw_http_pss_size;

#endif
