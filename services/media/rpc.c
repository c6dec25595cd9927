// rpc.c: huddle-media's op table: validates each MediaRequest body and runs
// the room operation (rooms.c) or the participant's JSEP step (sfu.c) on the
// worker's thread.
#include "media/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/media.pb-c.h"

static hd_err check_id(struct media_ctx *c, const char *field, const char *id, const char **why)
{
	if (hd_id_valid(id))
		return HD_OK;
	snprintf(c->why, sizeof(c->why), "%s is not an id (%d base64url characters)", field, HD_ID_LEN);
	*why = c->why;
	return HD_EBADREQUEST;
}

// failed logs a Janus failure (never a secret: why holds Janus's reason
// only) and hands it to the reply.
static hd_err failed(struct media_ctx *c, const char *op, hd_err err, const char **why)
{
	if (err == HD_EINTERNAL || err == HD_ETIMEOUT)
		HD_WARN("%s: %s", op, c->why);
	*why = c->why;
	return err;
}

static hd_err op_ensure_room(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct media_ctx *c = worker;
	const Huddle__V1__MediaEnsureRoomRequest *req = body;
	hd_err err;
	bool created = false;
	if ((err = check_id(c, "meeting_id", req->meeting_id, why)) != HD_OK)
		return err;
	if (req->publishers > c->rooms->publishers_max) {
		snprintf(c->why, sizeof(c->why), "publishers is over MEDIA_PUBLISHERS_MAX (%u)",
			 c->rooms->publishers_max);
		*why = c->why;
		return HD_EBADREQUEST;
	}
	if ((err = media_room_ensure(c->rooms, req->meeting_id, req->publishers, &created, c->why)) != HD_OK)
		return failed(c, "ensure_room", err, why);
	if (created)
		HD_INFO("room %s created", req->meeting_id);
	Huddle__V1__MediaEnsureRoomReply out = HUDDLE__V1__MEDIA_ENSURE_ROOM_REPLY__INIT;
	out.room = req->meeting_id;
	out.created = created;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_allow(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct media_ctx *c = worker;
	const Huddle__V1__MediaAllowRequest *req = body;
	char token[MEDIA_TOKEN_LEN + 1];
	hd_err err;
	if ((err = check_id(c, "meeting_id", req->meeting_id, why)) != HD_OK ||
	    (err = check_id(c, "participant_id", req->participant_id, why)) != HD_OK)
		return err;
	if ((err = media_room_allow(c->rooms, req->meeting_id, req->participant_id, token, c->why)) != HD_OK) {
		if (err == HD_EUNKNOWNMEETING) {
			*why = "the meeting has no room (ensure_room first)";
			return err;
		}
		return failed(c, "allow", err, why);
	}
	Huddle__V1__MediaAllowReply out = HUDDLE__V1__MEDIA_ALLOW_REPLY__INIT;
	out.token = token;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_revoke(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct media_ctx *c = worker;
	const Huddle__V1__MediaRevokeRequest *req = body;
	bool kicked = false;
	hd_err err;
	if ((err = check_id(c, "meeting_id", req->meeting_id, why)) != HD_OK ||
	    (err = check_id(c, "participant_id", req->participant_id, why)) != HD_OK)
		return err;
	if ((err = media_room_revoke(c->rooms, req->meeting_id, req->participant_id, &kicked, c->why)) != HD_OK)
		return failed(c, "revoke", err, why);
	if (c->sfu != NULL) // their subscription too: a removed participant stops receiving
		media_sfu_forget(c->sfu, req->meeting_id, req->participant_id);
	HD_INFO("room %s: participant %s revoked%s", req->meeting_id, req->participant_id, kicked ? " and kicked" : "");
	Huddle__V1__MediaRevokeReply out = HUDDLE__V1__MEDIA_REVOKE_REPLY__INIT;
	out.kicked = kicked;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_destroy_room(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct media_ctx *c = worker;
	const Huddle__V1__MediaDestroyRoomRequest *req = body;
	bool destroyed = false;
	hd_err err;
	if ((err = check_id(c, "meeting_id", req->meeting_id, why)) != HD_OK)
		return err;
	if ((err = media_room_destroy(c->rooms, req->meeting_id, &destroyed, c->why)) != HD_OK)
		return failed(c, "destroy_room", err, why);
	if (c->sfu != NULL)
		media_sfu_forget(c->sfu, req->meeting_id, NULL);
	if (destroyed)
		HD_INFO("room %s destroyed", req->meeting_id);
	Huddle__V1__MediaDestroyRoomReply out = HUDDLE__V1__MEDIA_DESTROY_ROOM_REPLY__INIT;
	out.destroyed = destroyed;
	return hd_rpc_reply_pack(rep, &out.base);
}

// cleanup_list gathers the ids a cleanup destroyed.
struct cleanup_list {
	char **ids;
	size_t n, cap;
	bool nomem;
};

static void on_destroyed(void *arg, const char *room)
{
	struct cleanup_list *l = arg;
	HD_INFO("room %s destroyed (its meeting ended)", room);
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **p = realloc(l->ids, cap * sizeof(*p));
		if (p == NULL) {
			l->nomem = true;
			return;
		}
		l->ids = p;
		l->cap = cap;
	}
	if ((l->ids[l->n] = strdup(room)) == NULL)
		l->nomem = true;
	else
		l->n++;
}

static hd_err op_cleanup(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct media_ctx *c = worker;
	const Huddle__V1__MediaCleanupRequest *req = body;
	hd_err err;
	if (req->n_active_meeting_ids > MEDIA_CLEANUP_ACTIVE_MAX) {
		*why = "active_meeting_ids has more than MEDIA_CLEANUP_ACTIVE_MAX (" HD_XSTR(
			MEDIA_CLEANUP_ACTIVE_MAX) ") ids";
		return HD_ETOOLARGE;
	}
	for (size_t i = 0; i < req->n_active_meeting_ids; i++)
		if ((err = check_id(c, "active_meeting_ids", req->active_meeting_ids[i], why)) != HD_OK)
			return err;
	struct cleanup_list l = {0};
	uint32_t kept = 0;
	err = media_room_cleanup(c->rooms, (const char *const *)req->active_meeting_ids, req->n_active_meeting_ids,
				 on_destroyed, &l, &kept, c->why);
	for (size_t i = 0; i < l.n && c->sfu != NULL; i++)
		media_sfu_forget(c->sfu, l.ids[i], NULL);
	if (err == HD_OK && l.nomem)
		err = HD_ENOMEM;
	if (err == HD_OK) {
		Huddle__V1__MediaCleanupReply out = HUDDLE__V1__MEDIA_CLEANUP_REPLY__INIT;
		out.destroyed = l.ids;
		out.n_destroyed = l.n;
		out.kept = kept;
		err = hd_rpc_reply_pack(rep, &out.base);
	} else if (err != HD_ENOMEM) {
		failed(c, "cleanup", err, why);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.ids[i]);
	free(l.ids);
	return err;
}

// op_health answers OK while the Janus session is ready, UNAVAILABLE otherwise.
static hd_err op_health(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct media_ctx *c = worker;
	struct media_janus_stats st;
	media_janus_get_stats(c->rooms->janus, &st);
	if (!st.ready) {
		*why = "Janus is not connected or its session is not ready";
		return HD_EUNAVAILABLE;
	}
	Huddle__V1__MediaHealthReply out = HUDDLE__V1__MEDIA_HEALTH_REPLY__INIT;
	out.janus_connected = true;
	out.reconnects = st.connects > 0 ? st.connects - 1 : 0;
	out.claims = st.claims;
	return hd_rpc_reply_pack(rep, &out.base);
}

// op_sfu runs one participant's SfuRequest (sfu.c) and answers with the SDP
// Janus sent (publish, subscribe) or ok.
static hd_err op_sfu(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct media_ctx *c = worker;
	const Huddle__V1__MediaSfuRequest *req = body;
	hd_err err;
	char *sdp = NULL;
	if ((err = check_id(c, "meeting_id", req->meeting_id, why)) != HD_OK ||
	    (err = check_id(c, "participant_id", req->participant_id, why)) != HD_OK)
		return err;
	if (req->request == NULL) {
		*why = "sfu.request is missing";
		return HD_EBADREQUEST;
	}
	if ((err = media_sfu_check(req->request, c->why)) != HD_OK) {
		*why = c->why;
		return err;
	}
	if (c->sfu == NULL) {
		*why = "SFU signaling is not set up in this huddle-media";
		return HD_EUNAVAILABLE;
	}
	// The gateway vouches the participant is admitted in an SFU-mode
	// meeting: before their publish or subscribe (a subscriber first joins
	// as a publisher without media, for its private id: sfu.c) the room
	// exists and their token is allowed. Both are idempotent.
	if (req->admitted && (req->request->body_case == HUDDLE__V1__SFU_REQUEST__BODY_PUBLISH ||
			      req->request->body_case == HUDDLE__V1__SFU_REQUEST__BODY_SUBSCRIBE)) {
		bool created = false;
		if ((err = media_room_ensure(c->rooms, req->meeting_id, 0, &created, c->why)) != HD_OK)
			return failed(c, "ensure_room", err, why);
		if (created)
			HD_INFO("room %s created for the meeting's first SFU request", req->meeting_id);
		char token[MEDIA_TOKEN_LEN + 1];
		if ((err = media_room_allow(c->rooms, req->meeting_id, req->participant_id, token, c->why)) != HD_OK)
			return failed(c, "allow", err, why);
	}
	err = media_sfu_handle(c->sfu, req->meeting_id, req->participant_id, req->request, &sdp, c->why);
	if (err != HD_OK) {
		if (err == HD_EINTERNAL || err == HD_ETIMEOUT)
			HD_WARN("sfu: meeting %s participant %s: %s", req->meeting_id, req->participant_id, c->why);
		*why = c->why;
		return err;
	}
	Huddle__V1__SfuReply out = HUDDLE__V1__SFU_REPLY__INIT;
	Huddle__V1__SfuPublishReply pub = HUDDLE__V1__SFU_PUBLISH_REPLY__INIT;
	Huddle__V1__SfuSubscribeReply sub = HUDDLE__V1__SFU_SUBSCRIBE_REPLY__INIT;
	switch (req->request->body_case) {
	case HUDDLE__V1__SFU_REQUEST__BODY_PUBLISH:
		pub.answer_sdp = sdp;
		out.body_case = HUDDLE__V1__SFU_REPLY__BODY_PUBLISH;
		out.publish = &pub;
		break;
	case HUDDLE__V1__SFU_REQUEST__BODY_SUBSCRIBE:
		sub.offer_sdp = sdp;
		out.body_case = HUDDLE__V1__SFU_REPLY__BODY_SUBSCRIBE;
		out.subscribe = &sub;
		break;
	default:
		out.body_case = HUDDLE__V1__SFU_REPLY__BODY_OK;
		out.ok = true;
		break;
	}
	err = hd_rpc_reply_pack(rep, &out.base);
	free(sdp);
	return err;
}

static const hd_rpc_op rpc_ops[] = {
	[HUDDLE__V1__MEDIA_REQUEST__BODY_ENSURE_ROOM] = op_ensure_room,
	[HUDDLE__V1__MEDIA_REQUEST__BODY_ALLOW] = op_allow,
	[HUDDLE__V1__MEDIA_REQUEST__BODY_REVOKE] = op_revoke,
	[HUDDLE__V1__MEDIA_REQUEST__BODY_DESTROY_ROOM] = op_destroy_room,
	[HUDDLE__V1__MEDIA_REQUEST__BODY_CLEANUP] = op_cleanup,
	[HUDDLE__V1__MEDIA_REQUEST__BODY_HEALTH] = op_health,
	[HUDDLE__V1__MEDIA_REQUEST__BODY_SFU] = op_sfu,
};

static const struct hd_rpc_service media_service = {
	.name = "huddle-media",
	.request = &huddle__v1__media_request__descriptor,
	.reply = &huddle__v1__media_reply__descriptor,
	.ops = rpc_ops,
	.n_ops = sizeof(rpc_ops) / sizeof(rpc_ops[0]),
};

nng_msg *media_rpc_handle(void *worker_state, nng_msg *msg)
{
	return hd_rpc_dispatch(&media_service, worker_state, msg);
}
