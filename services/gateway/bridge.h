// bridge.h: hands work from NNG threads to the lws service thread.
// NNG callbacks push an item and wake lws (lws_cancel_service); the service
// thread drains the queue in LWS_CALLBACK_EVENT_WAIT_CANCELLED. Sessions are
// named by id, never by pointer.
#ifndef GW_BRIDGE_H
#define GW_BRIDGE_H

#include <nng/nng.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct lws_context;

enum gw_bridge_kind {
	GW_BRIDGE_REPLY,           // a registry reply (or error) for a pending request
	GW_BRIDGE_EVENT,           // a room event from the registry's bus
	GW_BRIDGE_CHAT_REPLY,      // a huddle-chat reply (or error)
	GW_BRIDGE_CHAT_EVENT,      // a chat event from huddle-chat's bus
	GW_BRIDGE_NOTES_REPLY,     // a huddle-notes reply (or error)
	GW_BRIDGE_NOTES_EVENT,     // a notes event from huddle-notes' bus
	GW_BRIDGE_RECORDING_REPLY, // a huddle-recording reply (or error)
	GW_BRIDGE_MEDIA_REPLY,     // a huddle-media reply (or error)
	GW_BRIDGE_MEDIA_EVENT,     // a MediaEvent from huddle-media's bus
};

// gw_bridge_item is one hand-off. For the replies: pending (owned by the
// item), err and msg (the reply, owned by the item, NULL on error). For the
// events: data/len, the packed RoomEvent, ChatEvent or NotesEvent (owned by
// the item).
struct gw_bridge_item {
	enum gw_bridge_kind kind;
	void *pending;
	hd_err err;
	nng_msg *msg;
	uint8_t *data;
	size_t len;
	struct gw_bridge_item *next;
};

// gw_bridge_init sets the lws context to wake; call before any push.
void gw_bridge_init(struct lws_context *ctx);

// gw_bridge_push_reply and gw_bridge_push_event queue an item of kind
// (a REPLY or an EVENT kind respectively) from any thread and wake the
// service thread. They take ownership of msg / copy data. When no item can
// be allocated, msg is freed, the loss is logged, and the pending request is
// never answered (it is not freed on a foreign thread).
void gw_bridge_push_reply(enum gw_bridge_kind kind, void *pending, hd_err err, nng_msg *msg);
void gw_bridge_push_event(enum gw_bridge_kind kind, const uint8_t *data, size_t len);

// GW_BRIDGE_EVENTS_MAX bounds the bytes of events waiting for the service
// thread: past it, gw_bridge_push_event drops the event (as a full NNG SUB
// queue would) and counts it. Replies are never dropped: each answers a
// pending request, and their number is bounded by the requests in flight.
#define GW_BRIDGE_EVENTS_MAX (64u << 20)

// gw_bridge_dropped is how many events were dropped (GW_BRIDGE_EVENTS_MAX or
// no memory) since start. Any thread.
uint64_t gw_bridge_dropped(void);

// gw_bridge_take returns every queued item in push order (a list the caller
// owns and frees with gw_bridge_item_free), or NULL. Service thread only.
struct gw_bridge_item *gw_bridge_take(void);

// gw_bridge_item_free frees one item and what it owns, but not item->pending.
void gw_bridge_item_free(struct gw_bridge_item *it);

#endif
