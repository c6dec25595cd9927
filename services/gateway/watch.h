// watch.h: "Watch together" on the WebSocket side: a participant's
// WatchRequest goes to the registry (which validates and stores it), and
// the registry's watch_state room events go to every admitted session of
// the meeting as WatchStateEvent. Every WatchState the gateway sends carries
// its own clock in server_time_ms, so clients can estimate the offset to
// the server clock. Service thread only.
#ifndef GW_WATCH_H
#define GW_WATCH_H

#include "gateway/gateway.h"
#include "huddle/v1/client.pb-c.h"
#include "huddle/v1/events.pb-c.h"

struct gw_session;

// gw_watch_op forwards a WatchRequest (cm borrowed) of a joined session;
// answered by WatchReply or an Error: NOT_JOINED, BAD_REQUEST (no action),
// the registry's BAD_REQUEST / FORBIDDEN / UNKNOWN_PARTICIPANT / ...,
// UNAVAILABLE / TIMEOUT. A waiting session never gets here
// (gw_access_gate answers FORBIDDEN).
void gw_watch_op(struct gw_session *s, Huddle__V1__ClientMessage *cm);

// gw_watch_on_reply finishes a GW_OP_WATCH call (r NULL on transport error err; borrowed).
void gw_watch_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r);

// gw_watch_stamp sets state->server_time_ms to now (Unix ms) and returns
// state; NULL stays NULL.
Huddle__V1__WatchState *gw_watch_stamp(Huddle__V1__WatchState *state);

// gw_watch_on_event sends a watch_state event to s if it is admitted.
void gw_watch_on_event(struct gw_session *s, Huddle__V1__WatchStateEvent *ev);

#endif
