// prejoin.h: the pre-join connectivity check's ICE servers (ClientMessage
// ice_servers): STUN and short-lived TURN credentials for an existing
// meeting, to a session that has not joined it (or has). Service thread only.
#ifndef GW_PREJOIN_H
#define GW_PREJOIN_H

#include "gateway/gateway.h"
#include "huddle/v1/client.pb-c.h"

struct gw_session;

// GW_PREJOIN_WINDOW_S is PREJOIN_ICE_RATE's window: a connection may ask
// PREJOIN_ICE_RATE times per this many seconds, all at once at most.
#define GW_PREJOIN_WINDOW_S 60

// gw_prejoin_op_ice_servers answers cm's IceServersRequest (borrowed):
// BAD_REQUEST without a meeting id, UNKNOWN_MEETING for an id that is not
// one (checked here) or no meeting (the registry's GetMeeting),
// RATE_LIMITED beyond PREJOIN_ICE_RATE per GW_PREJOIN_WINDOW_S,
// UNAVAILABLE / TIMEOUT when the registry does not answer; else an
// IceServersReply. A session in a waiting room never gets here
// (gw_access_gate answers FORBIDDEN first).
void gw_prejoin_op_ice_servers(struct gw_session *s, Huddle__V1__ClientMessage *cm);

// gw_prejoin_on_reply finishes GW_OP_ICE_SERVERS with the registry's reply
// (NULL on transport error err; borrowed).
void gw_prejoin_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r);

#endif
