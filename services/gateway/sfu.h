// sfu.h: SFU signaling through the gateway (issue 14; proto/huddle/v1/
// sfu.proto). A joined, admitted session of a meeting whose media mode is
// SFU sends ClientMessage.sfu; the gateway forwards it to huddle-media as
// MediaRequest.sfu (MEDIA_URL) and answers with its SfuReply. huddle-media's
// MediaEvents (MEDIA_EVENTS_URL, topic = meeting id) reach the sessions they
// name as ServerMessage.sfu_event. A participant who leaves gets an SfuLeave
// and one removed by a host a MediaRevokeRequest sent on their behalf.
// Service thread only.
#ifndef GW_SFU_H
#define GW_SFU_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"
#include "gateway/session.h"
#include "huddle/v1/client.pb-c.h"
#include "huddle/v1/media.pb-c.h"

// gw_sfu_op handles ClientMessage.sfu of s. Errors to the client: NOT_JOINED
// before a join (FORBIDDEN while waiting comes from gw_access_gate),
// FORBIDDEN in a meeting that is not in SFU mode, UNAVAILABLE without
// MEDIA_URL or when huddle-media cannot be reached, BAD_REQUEST for an
// SfuRequest with no body; huddle-media's own errors pass through.
void gw_sfu_op(struct gw_session *s, Huddle__V1__ClientMessage *cm);

// gw_sfu_on_reply takes huddle-media's reply to a session's request (route.c).
void gw_sfu_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__MediaReply *r);

// gw_sfu_on_notice_reply takes the reply to a leave or revoke sent on a
// participant's behalf: only logged when it failed.
void gw_sfu_on_notice_reply(const struct gw_pending *p, hd_err err, Huddle__V1__MediaReply *r);

// gw_sfu_on_event delivers a packed MediaEvent (data, len bytes; borrowed)
// to the sessions of its meeting it names (participant_id "" = every
// admitted member). An undecodable one is logged and dropped.
void gw_sfu_on_event(const uint8_t *data, size_t len);

// gw_sfu_left tells huddle-media that s's participant left the meeting
// (their Janus handles are detached); removed: a host removed them, so
// their publisher token is revoked and their publisher kicked too. Only
// for a session that used the SFU; fire and forget.
void gw_sfu_left(struct gw_session *s, bool removed);

#endif
