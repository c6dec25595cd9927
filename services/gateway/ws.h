// ws.h: the "huddle.v1" WebSocket protocol on /ws: decoding ClientMessage
// frames, limits, and the requests they make. Service thread only.
#ifndef GW_WS_H
#define GW_WS_H

#include <libwebsockets.h>

#include "gateway/gateway.h"

// gw_ws_callback is the lws protocol callback for "huddle.v1".
int gw_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

struct gw_session;

// gw_ws_message serves one complete binary message of len bytes (borrowed)
// that session s received: decoded, a chunk reassembled, rate limited and
// dispatched as gw_ws_callback does on LWS_CALLBACK_RECEIVE (which calls
// it; the fuzz harness tests/fuzz/ws_frame.c feeds it directly). Returns 0,
// or -1 when s's connection must close now (close reason set on s->wsi).
int gw_ws_message(struct gw_session *s, const uint8_t *data, size_t len);

// gw_ws_on_reply finishes a session's pending request (JOIN, LEAVE, RELAY,
// MEDIA, CHAT_MEETING) with the registry's reply (NULL on transport error err).
void gw_ws_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *reply);

// gw_ws_heartbeat sends the presence of every joined session to the
// registry; gw_ws_on_heartbeat closes sessions the registry no longer knows.
void gw_ws_heartbeat(void);

// gw_ws_keepalive (every GW_KEEPALIVE_CHECK_MS, on the lws thread) asks for a
// WebSocket PING to each session silent for GW_PING_AFTER_S and drops the
// ones silent for GW_HANGUP_AFTER_S (RFC 6455 section 5.5.2). now_ms:
// hd_mono_ms().
void gw_ws_keepalive(int64_t now_ms);
void gw_ws_on_heartbeat(hd_err err, Huddle__V1__RegistryReply *reply);

#endif
