// chat.h: the gateway's side of meeting chat. A chat room is a meeting whose
// chat some sessions of this gateway subscribe to (joined to the call or
// not); it delivers huddle-chat's events to them strictly in seq order, each
// once, reading what the event bus lost back from huddle-chat's History
// (gaps, a post's overdue event, a reconnected bus). Service thread only.
#ifndef GW_CHAT_H
#define GW_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"
#include "huddle/v1/client.pb-c.h"

struct gw_session;

// gw_chat_start starts the chat timer (missed-event checks, every 100 ms)
// on gw.ctx; gw_chat_stop cancels it (before lws_context_destroy).
void gw_chat_start(void);
void gw_chat_stop(void);

// gw_chat_op_subscribe, gw_chat_op_post and gw_chat_op_history serve a
// client's chat_subscribe / chat_post / chat_history (cm borrowed). Every
// outcome is a reply or an Error naming cm->request_id: UNKNOWN_MEETING,
// NOT_JOINED (post/history before a subscription), BAD_REQUEST (another
// meeting's chat on this connection, or a subscription in progress),
// huddle-chat's own validation errors, UNAVAILABLE / TIMEOUT when the
// registry or huddle-chat cannot answer.
void gw_chat_op_subscribe(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_chat_op_post(struct gw_session *s, Huddle__V1__ClientMessage *cm);
void gw_chat_op_history(struct gw_session *s, Huddle__V1__ClientMessage *cm);

// gw_chat_on_meeting continues a chat_subscribe with the registry's
// GetMeeting reply (r NULL on transport error err).
void gw_chat_on_meeting(struct gw_session *s, const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r);

// gw_chat_on_reply finishes a chat call of op GW_OP_CHAT_INIT, _FILL, _POST
// or _HISTORY (r NULL on transport error err; borrowed).
void gw_chat_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *r);

// gw_chat_on_event takes a packed ChatEvent from huddle-chat's bus.
// Malformed events are logged and dropped.
void gw_chat_on_event(const uint8_t *data, size_t len);

// gw_chat_detach takes s out of its chat room (if any); the last one out
// frees the room and unsubscribes its topic.
void gw_chat_detach(struct gw_session *s);

// gw_chat_failed tells how a chat call ended: HD_OK when r is a reply with
// body `want` and no error; otherwise the error code for the client
// (TIMEOUT, UNAVAILABLE, huddle-chat's own code, or INTERNAL for a bad
// reply), with *message set to a static or r-owned description.
hd_err gw_chat_failed(hd_err err, const Huddle__V1__ChatReply *r, Huddle__V1__ChatReply__BodyCase want,
		      const char **message);

// gw_chat_count returns the number of chat rooms and of subscribed sessions.
void gw_chat_count(size_t *rooms, size_t *subscribers);

#endif
