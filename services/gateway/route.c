// route.c: the table of who takes each gw_op's reply.
#include "gateway/route.h"

#include "common/log.h"
#include "gateway/access.h"
#include "gateway/access_http.h"
#include "gateway/chat.h"
#include "gateway/sfu.h"
#include "gateway/http.h"
#include "gateway/notes.h"
#include "gateway/notes_ops.h"
#include "gateway/watch.h"
#include "gateway/prejoin.h"
#include "gateway/ws.h"

// on_heartbeat gives gw_ws_on_heartbeat the handler's shape: a heartbeat is
// no one's request.
static void on_heartbeat(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	gw_ws_on_heartbeat(err, r);
}

// routes is indexed by op; an op without an entry has no handler,
// which gateway.route's unit test rejects.
static const struct gw_route routes[] = {
	[GW_OP_JOIN] = {.registry = gw_ws_on_reply},
	[GW_OP_LEAVE] = {.registry = gw_ws_on_reply},
	[GW_OP_RELAY] = {.registry = gw_ws_on_reply},
	[GW_OP_MEDIA] = {.registry = gw_ws_on_reply},
	[GW_OP_CHAT_MEETING] = {.registry = gw_ws_on_reply},
	[GW_OP_NOTES_MEETING] = {.registry = gw_ws_on_reply},
	[GW_OP_HEARTBEAT] = {.registry = on_heartbeat},
	[GW_OP_ADMIT] = {.registry = gw_access_on_reply},
	[GW_OP_MODERATE] = {.registry = gw_access_on_reply},
	[GW_OP_SET_ACCESS] = {.registry = gw_access_on_reply},
	[GW_OP_END_MEETING] = {.registry = gw_access_on_reply},
	[GW_OP_HAND] = {.registry = gw_access_on_reply},
	[GW_OP_REACTION] = {.registry = gw_access_on_reply},
	[GW_OP_ADMIT_ROSTER] = {.registry = gw_access_on_reply},
	[GW_OP_WATCH] = {.registry = gw_watch_on_reply},
	[GW_OP_ICE_SERVERS] = {.registry = gw_prejoin_on_reply},
	[GW_OP_HTTP_CREATE] = {.registry = gw_http_on_reply},
	[GW_OP_HTTP_GET] = {.registry = gw_http_on_reply},
	[GW_OP_HTTP_READY] = {.registry = gw_http_on_reply},
	[GW_OP_HTTP_CHAT_MEETING] = {.registry = gw_http_on_reply},
	[GW_OP_HTTP_NOTES_MEETING] = {.registry = gw_http_on_reply},
	[GW_OP_HTTP_REC_MEETING] = {.registry = gw_http_on_reply},
	[GW_OP_HTTP_SPACE_CREATE] = {.registry = gw_access_http_on_reply},
	[GW_OP_HTTP_SPACE_GET] = {.registry = gw_access_http_on_reply},
	[GW_OP_HTTP_SPACE_MEETING] = {.registry = gw_access_http_on_reply},
	[GW_OP_HTTP_ADMIT] = {.registry = gw_access_http_on_reply},
	[GW_OP_HTTP_ACCESS] = {.registry = gw_access_http_on_reply},
	[GW_OP_HTTP_LINKS] = {.registry = gw_access_http_on_reply},
	[GW_OP_CHAT_INIT] = {.chat = gw_chat_on_reply},
	[GW_OP_CHAT_FILL] = {.chat = gw_chat_on_reply},
	[GW_OP_CHAT_POST] = {.chat = gw_chat_on_reply},
	[GW_OP_CHAT_HISTORY] = {.chat = gw_chat_on_reply},
	[GW_OP_HTTP_CHAT_PAGE] = {.chat = gw_http_on_chat_reply},
	[GW_OP_NOTES_INIT] = {.notes = gw_notes_on_reply},
	[GW_OP_NOTES_FILL] = {.notes = gw_notes_on_reply},
	[GW_OP_NOTES_OPEN] = {.notes = gw_notes_op_on_reply},
	[GW_OP_NOTES_UPDATE] = {.notes = gw_notes_op_on_reply},
	[GW_OP_NOTES_AWARENESS] = {.notes = gw_notes_op_on_reply},
	[GW_OP_NOTES_SNAPSHOT] = {.notes = gw_notes_op_on_reply},
	[GW_OP_NOTES_VERSIONS] = {.notes = gw_notes_op_on_reply},
	[GW_OP_NOTES_VERSION] = {.notes = gw_notes_op_on_reply},
	[GW_OP_HTTP_NOTES_EXPORT] = {.notes = gw_http_on_notes_reply},
	[GW_OP_HTTP_RECORDING] = {.recording = gw_http_on_recording_reply},
	[GW_OP_SFU] = {.media = gw_sfu_on_reply},
	[GW_OP_SFU_NOTICE] = {.media = gw_sfu_on_notice_reply},
};
_Static_assert(sizeof(routes) / sizeof(routes[0]) == GW_OP_COUNT, "every gw_op needs an entry in routes");

const struct gw_route *gw_route_of(enum gw_op op)
{
	if ((unsigned)op >= sizeof(routes) / sizeof(routes[0]))
		return NULL;
	return &routes[op];
}

void gw_route_registry_reply(const struct gw_pending *p, hd_err err, nng_msg *msg)
{
	const struct gw_route *route = gw_route_of(p->op);
	Huddle__V1__RegistryReply *r = NULL;
	if (route == NULL || route->registry == NULL) {
		HD_ERROR("a registry reply for op %d, which is no registry call, dropped", (int)p->op);
		return;
	}
	if (err == HD_OK) {
		r = huddle__v1__registry_reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
		if (r == NULL) {
			HD_ERROR("undecodable reply from the registry");
			err = HD_EINTERNAL;
		}
	}
	route->registry(p, err, r);
	if (r != NULL)
		huddle__v1__registry_reply__free_unpacked(r, NULL);
}

void gw_route_chat_reply(const struct gw_pending *p, hd_err err, nng_msg *msg)
{
	const struct gw_route *route = gw_route_of(p->op);
	Huddle__V1__ChatReply *r = NULL;
	if (route == NULL || route->chat == NULL) {
		HD_ERROR("a huddle-chat reply for op %d, which is no huddle-chat call, dropped", (int)p->op);
		return;
	}
	if (err == HD_OK) {
		r = huddle__v1__chat_reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
		if (r == NULL) {
			HD_ERROR("undecodable reply from huddle-chat");
			err = HD_EINTERNAL;
		}
	}
	route->chat(p, err, r);
	if (r != NULL)
		huddle__v1__chat_reply__free_unpacked(r, NULL);
}

void gw_route_notes_reply(const struct gw_pending *p, hd_err err, nng_msg *msg)
{
	const struct gw_route *route = gw_route_of(p->op);
	Huddle__V1__NotesReply *r = NULL;
	if (route == NULL || route->notes == NULL) {
		HD_ERROR("a huddle-notes reply for op %d, which is no huddle-notes call, dropped", (int)p->op);
		return;
	}
	if (err == HD_OK) {
		r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
		if (r == NULL) {
			HD_ERROR("undecodable reply from huddle-notes");
			err = HD_EINTERNAL;
		}
	}
	route->notes(p, err, r);
	if (r != NULL)
		huddle__v1__notes_reply__free_unpacked(r, NULL);
}

void gw_route_recording_reply(const struct gw_pending *p, hd_err err, nng_msg *msg)
{
	const struct gw_route *route = gw_route_of(p->op);
	Huddle__V1__RecordingReply *r = NULL;
	if (route == NULL || route->recording == NULL) {
		HD_ERROR("a huddle-recording reply for op %d, which is no huddle-recording call, dropped", (int)p->op);
		return;
	}
	if (err == HD_OK) {
		r = huddle__v1__recording_reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
		if (r == NULL) {
			HD_ERROR("undecodable reply from huddle-recording");
			err = HD_EINTERNAL;
		}
	}
	route->recording(p, err, r);
	if (r != NULL)
		huddle__v1__recording_reply__free_unpacked(r, NULL);
}

void gw_route_media_reply(const struct gw_pending *p, hd_err err, nng_msg *msg)
{
	const struct gw_route *route = gw_route_of(p->op);
	Huddle__V1__MediaReply *r = NULL;
	if (route == NULL || route->media == NULL) {
		HD_ERROR("a huddle-media reply for op %d, which is no huddle-media call, dropped", (int)p->op);
		return;
	}
	if (err == HD_OK) {
		r = huddle__v1__media_reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
		if (r == NULL) {
			HD_ERROR("undecodable reply from huddle-media");
			err = HD_EINTERNAL;
		}
	}
	route->media(p, err, r);
	if (r != NULL)
		huddle__v1__media_reply__free_unpacked(r, NULL);
}
