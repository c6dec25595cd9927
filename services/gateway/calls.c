// calls.c: the gateway's state and its NNG side: the service clients and
// event subscriptions, calls with their pending records, and the drain that
// hands replies and events to their owners on the service thread.
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "gateway/bridge.h"
#include "gateway/chat.h"
#include "gateway/gateway.h"
#include "gateway/notes.h"
#include "gateway/room.h"
#include "gateway/route.h"
#include "gateway/sfu.h"

struct gw gw;

uint64_t gw_next_id(void)
{
	return ++gw.next_id;
}

// ---- calls ----

// The reply callbacks run on NNG threads: they hand over only.
static void on_registry_reply(void *arg, hd_err err, nng_msg *reply)
{
	gw_bridge_push_reply(GW_BRIDGE_REPLY, arg, err, reply);
}

static void on_chat_reply(void *arg, hd_err err, nng_msg *reply)
{
	gw_bridge_push_reply(GW_BRIDGE_CHAT_REPLY, arg, err, reply);
}

static void on_notes_reply(void *arg, hd_err err, nng_msg *reply)
{
	gw_bridge_push_reply(GW_BRIDGE_NOTES_REPLY, arg, err, reply);
}

static void on_recording_reply(void *arg, hd_err err, nng_msg *reply)
{
	gw_bridge_push_reply(GW_BRIDGE_RECORDING_REPLY, arg, err, reply);
}

static void on_media_reply(void *arg, hd_err err, nng_msg *reply)
{
	gw_bridge_push_reply(GW_BRIDGE_MEDIA_REPLY, arg, err, reply);
}

// pending_call sends req (its request_id already set) on client with a
// gw_pending naming what it was for; cb hands the reply to the service thread.
static hd_err pending_call(struct hd_rpc_client *client, hd_rpc_client_callback cb, int32_t timeout_ms,
			   const struct gw_pending *what, const ProtobufCMessage *req)
{
	struct gw_pending *p;
	nng_msg *msg;
	hd_err err;
	if (client == NULL)
		return HD_ECLOSED;
	if ((p = malloc(sizeof(*p))) == NULL)
		return HD_ENOMEM;
	*p = *what;
	if ((err = hd_msg_pack(req, &msg)) != HD_OK)
		goto fail;
	if ((err = hd_rpc_call_async(client, msg, timeout_ms, cb, p)) != HD_OK)
		goto fail_msg;
	return HD_OK;

fail_msg:
	nng_msg_free(msg);
fail:
	free(p);
	return err;
}

hd_err gw_chat_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__ChatRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	return pending_call(gw.chat, on_chat_reply, (int32_t)gw.cfg.chat_timeout_ms, &p, &req->base);
}

hd_err gw_notes_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, uint32_t document,
		     Huddle__V1__NotesRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id, .document = document};
	req->request_id = ++seq;
	return pending_call(gw.notes, on_notes_reply, (int32_t)gw.cfg.notes_timeout_ms, &p, &req->base);
}

hd_err gw_recording_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__RecordingRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	return pending_call(gw.recording, on_recording_reply, (int32_t)gw.cfg.recording_timeout_ms, &p, &req->base);
}

hd_err gw_media_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__MediaRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	return pending_call(gw.media, on_media_reply, (int32_t)gw.cfg.media_timeout_ms, &p, &req->base);
}

hd_err gw_registry_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__RegistryRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	// Readiness must answer fast, whatever a slow registry does.
	int32_t timeout = (int32_t)gw.cfg.registry_timeout_ms;
	if (op == GW_OP_HTTP_READY && timeout > 1000)
		timeout = 1000;
	return pending_call(gw.registry, on_registry_reply, timeout, &p, &req->base);
}

// ---- events ----

// The event callbacks run on NNG threads: they hand over only.
static void on_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	gw_bridge_push_event(GW_BRIDGE_EVENT, data, len);
}

static void on_chat_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	gw_bridge_push_event(GW_BRIDGE_CHAT_EVENT, data, len);
}

static void on_notes_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	gw_bridge_push_event(GW_BRIDGE_NOTES_EVENT, data, len);
}

static void on_media_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	gw_bridge_push_event(GW_BRIDGE_MEDIA_EVENT, data, len);
}

void gw_drain(void)
{
	struct gw_bridge_item *it = gw_bridge_take();
	while (it != NULL) {
		struct gw_bridge_item *next = it->next;
		switch (it->kind) {
		case GW_BRIDGE_EVENT:
			gw_room_on_event(it->data, it->len);
			break;
		case GW_BRIDGE_CHAT_EVENT:
			gw_chat_on_event(it->data, it->len);
			break;
		case GW_BRIDGE_NOTES_EVENT:
			gw_notes_on_event(it->data, it->len);
			break;
		case GW_BRIDGE_REPLY:
			gw_route_registry_reply(it->pending, it->err, it->msg);
			break;
		case GW_BRIDGE_CHAT_REPLY:
			gw_route_chat_reply(it->pending, it->err, it->msg);
			break;
		case GW_BRIDGE_NOTES_REPLY:
			gw_route_notes_reply(it->pending, it->err, it->msg);
			break;
		case GW_BRIDGE_RECORDING_REPLY:
			gw_route_recording_reply(it->pending, it->err, it->msg);
			break;
		case GW_BRIDGE_MEDIA_REPLY:
			gw_route_media_reply(it->pending, it->err, it->msg);
			break;
		case GW_BRIDGE_MEDIA_EVENT:
			gw_sfu_on_event(it->data, it->len);
			break;
		}
		free(it->pending);
		gw_bridge_item_free(it);
		it = next;
	}
}

// ---- opening and closing ----

// service is one NNG endpoint the gateway uses: a request client or an
// event subscription, with the setting that names its address (an empty
// address leaves an optional one closed: NULL).
struct service {
	const char *setting;
	const char **url;
	struct hd_rpc_client **client; // or
	struct hd_sub **sub;
	hd_sub_callback on_event;
};

static const struct service services[] = {
	{"REGISTRY_URL", &gw.cfg.registry_url, &gw.registry, NULL, NULL},
	{"REGISTRY_EVENTS_URL", &gw.cfg.events_url, NULL, &gw.events, on_event},
	{"CHAT_URL", &gw.cfg.chat_url, &gw.chat, NULL, NULL},
	{"CHAT_EVENTS_URL", &gw.cfg.chat_events_url, NULL, &gw.chat_events, on_chat_event},
	{"NOTES_URL", &gw.cfg.notes_url, &gw.notes, NULL, NULL},
	{"NOTES_EVENTS_URL", &gw.cfg.notes_events_url, NULL, &gw.notes_events, on_notes_event},
	{"RECORDING_URL", &gw.cfg.recording_url, &gw.recording, NULL, NULL},
	{"MEDIA_URL", &gw.cfg.media_url, &gw.media, NULL, NULL},
	{"MEDIA_EVENTS_URL", &gw.cfg.media_events_url, NULL, &gw.media_events, on_media_event},
};
#define N_SERVICES (sizeof(services) / sizeof(services[0]))

// close_services closes the first n services, last first.
static void close_services(size_t n)
{
	while (n-- > 0) {
		const struct service *sv = &services[n];
		if (sv->client != NULL) {
			hd_rpc_client_close(*sv->client);
			*sv->client = NULL;
		} else {
			hd_sub_close(*sv->sub);
			*sv->sub = NULL;
		}
	}
}

hd_err gw_calls_open(void)
{
	for (size_t i = 0; i < N_SERVICES; i++) {
		const struct service *sv = &services[i];
		if (*sv->url == NULL || (*sv->url)[0] == '\0')
			continue; // optional and unset (MEDIA_URL, MEDIA_EVENTS_URL)
		hd_err err = sv->client != NULL ? hd_rpc_client_open(sv->client, *sv->url)
						: hd_sub_open(sv->sub, *sv->url, sv->on_event, NULL);
		if (err != HD_OK) {
			fprintf(stderr, "huddle-gateway: %s '%s' is not a usable address\n", sv->setting, *sv->url);
			close_services(i);
			return err;
		}
	}
	return HD_OK;
}

void gw_calls_close(void)
{
	close_services(N_SERVICES);
}
