// rpc.c: decodes RegistryRequests and dispatches them through an op table.
#include "registry/rpc.h"

#include <stdlib.h>

#include "common/log.h"
#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/registry.pb-c.h"
#include "registry/meetings.h"
#include "registry/presence.h"

// rpc_op serves one request body. On success it sets the reply body and
// packs the reply into *out itself, while the data the body points at is
// still alive; on error it returns the code with a static *why, and the
// dispatcher answers with an Error.
typedef hd_err (*rpc_op)(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
			 nng_msg **out, const char **why);

static hd_err op_create_meeting(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req,
				Huddle__V1__RegistryReply *rep, nng_msg **out, const char **why)
{
	Huddle__V1__CreateMeetingReply body = HUDDLE__V1__CREATE_MEETING_REPLY__INIT;
	Huddle__V1__Meeting pb;
	struct hd_meeting m;
	hd_err err;
	if ((err = reg_meeting_create(c->store, req->create_meeting->title, hd_now_ms(), &m, why)) != HD_OK)
		return err;
	reg_meeting_to_pb(&m, &pb);
	body.meeting = &pb;
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_CREATE_MEETING;
	rep->create_meeting = &body;
	return hd_msg_pack(&rep->base, out);
}

static hd_err op_get_meeting(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
			     nng_msg **out, const char **why)
{
	Huddle__V1__GetMeetingReply body = HUDDLE__V1__GET_MEETING_REPLY__INIT;
	Huddle__V1__Meeting pb;
	struct hd_meeting m;
	hd_err err;
	if ((err = reg_meeting_get(c->store, req->get_meeting->meeting_id, &m, why)) != HD_OK)
		return err;
	reg_meeting_to_pb(&m, &pb);
	body.meeting = &pb;
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING;
	rep->get_meeting = &body;
	return hd_msg_pack(&rep->base, out);
}

// roster_pb is a roster as Participant messages borrowing the roster.
struct roster_pb {
	Huddle__V1__Participant *p;
	Huddle__V1__MediaState *media;
	Huddle__V1__Participant **ptrs;
};

static hd_err roster_pb_init(struct roster_pb *pb, const struct reg_roster *r)
{
	size_t n = r->n > 0 ? r->n : 1;
	pb->p = calloc(n, sizeof(*pb->p));
	pb->media = calloc(n, sizeof(*pb->media));
	pb->ptrs = calloc(n, sizeof(*pb->ptrs));
	if (pb->p == NULL || pb->media == NULL || pb->ptrs == NULL)
		return HD_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		reg_member_to_pb(&r->members[i], &pb->p[i], &pb->media[i]);
		pb->ptrs[i] = &pb->p[i];
	}
	return HD_OK;
}

static void roster_pb_fini(struct roster_pb *pb)
{
	free(pb->ptrs);
	free(pb->media);
	free(pb->p);
}

static hd_err op_join(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
		      nng_msg **out, const char **why)
{
	Huddle__V1__RegistryJoinReply body = HUDDLE__V1__REGISTRY_JOIN_REPLY__INIT;
	Huddle__V1__Participant self;
	Huddle__V1__MediaState self_media;
	Huddle__V1__Meeting meeting;
	struct roster_pb others = {0};
	struct reg_join j;
	hd_err err;
	if ((err = reg_presence_join(c, req->join, hd_now_ms(), &j, why)) != HD_OK)
		return err;
	if ((err = roster_pb_init(&others, &j.others)) != HD_OK) {
		*why = "out of memory";
		goto fail;
	}
	reg_member_to_pb(&j.self, &self, &self_media);
	reg_meeting_to_pb(&j.meeting, &meeting);
	body.participant = &self;
	body.resume_token = j.self.resume_token;
	body.n_participants = j.others.n;
	body.participants = others.ptrs;
	body.resumed = j.resumed;
	body.meeting = &meeting;
	body.presence_ttl_ms = (uint32_t)c->presence_ttl_ms;
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_JOIN;
	rep->join = &body;
	err = hd_msg_pack(&rep->base, out);
fail:
	roster_pb_fini(&others);
	reg_join_fini(&j);
	return err;
}

static hd_err op_leave(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
		       nng_msg **out, const char **why)
{
	Huddle__V1__RegistryLeaveReply body = HUDDLE__V1__REGISTRY_LEAVE_REPLY__INIT;
	hd_err err;
	if ((err = reg_presence_leave(c, req->leave->meeting_id, req->leave->participant_id, why)) != HD_OK)
		return err;
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_LEAVE;
	rep->leave = &body;
	return hd_msg_pack(&rep->base, out);
}

static hd_err op_heartbeat(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
			   nng_msg **out, const char **why)
{
	Huddle__V1__HeartbeatReply body = HUDDLE__V1__HEARTBEAT_REPLY__INIT;
	const Huddle__V1__HeartbeatRequest *hb = req->heartbeat;
	size_t n = hb->n_present;
	bool *gone = NULL;
	hd_err err = HD_ENOMEM;
	*why = "out of memory";
	if ((gone = calloc(n > 0 ? n : 1, sizeof(*gone))) == NULL ||
	    (body.gone = calloc(n > 0 ? n : 1, sizeof(*body.gone))) == NULL)
		goto fail;
	if ((err = reg_presence_heartbeat(c, hb->present, n, hd_now_ms(), gone, why)) != HD_OK)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (gone[i])
			body.gone[body.n_gone++] = hb->present[i]; // borrowed from the request
	if (body.n_gone > 0)
		HD_DEBUG("heartbeat from %s: %zu of %zu no longer present", hb->gateway_id, body.n_gone, n);
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_HEARTBEAT;
	rep->heartbeat = &body;
	err = hd_msg_pack(&rep->base, out);
fail:
	free(body.gone);
	free(gone);
	return err;
}

static hd_err op_list_participants(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req,
				   Huddle__V1__RegistryReply *rep, nng_msg **out, const char **why)
{
	Huddle__V1__ListParticipantsReply body = HUDDLE__V1__LIST_PARTICIPANTS_REPLY__INIT;
	struct reg_roster roster;
	struct roster_pb pb = {0};
	hd_err err;
	if ((err = reg_presence_list(c, req->list_participants->meeting_id, &roster, why)) != HD_OK)
		return err;
	if ((err = roster_pb_init(&pb, &roster)) != HD_OK) {
		*why = "out of memory";
		goto fail;
	}
	body.n_participants = roster.n;
	body.participants = pb.ptrs;
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_LIST_PARTICIPANTS;
	rep->list_participants = &body;
	err = hd_msg_pack(&rep->base, out);
fail:
	roster_pb_fini(&pb);
	reg_roster_fini(&roster);
	return err;
}

static hd_err op_update_media(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
			      nng_msg **out, const char **why)
{
	Huddle__V1__UpdateMediaReply body = HUDDLE__V1__UPDATE_MEDIA_REPLY__INIT;
	const Huddle__V1__UpdateMediaRequest *um = req->update_media;
	Huddle__V1__Participant p;
	Huddle__V1__MediaState media;
	struct reg_member m;
	hd_err err;
	if ((err = reg_presence_update_media(c, um->meeting_id, um->participant_id, um->media, hd_now_ms(), &m, why)) !=
	    HD_OK)
		return err;
	reg_member_to_pb(&m, &p, &media);
	body.participant = &p;
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_UPDATE_MEDIA;
	rep->update_media = &body;
	return hd_msg_pack(&rep->base, out);
}

static hd_err op_relay_signal(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
			      nng_msg **out, const char **why)
{
	Huddle__V1__RelaySignalReply body = HUDDLE__V1__RELAY_SIGNAL_REPLY__INIT;
	hd_err err;
	if ((err = reg_presence_relay(c, req->relay_signal, why)) != HD_OK)
		return err;
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_RELAY_SIGNAL;
	rep->relay_signal = &body;
	return hd_msg_pack(&rep->base, out);
}

// op_health answers OK when Redis and the store both answer.
static hd_err op_health(struct reg_ctx *c, const Huddle__V1__RegistryRequest *req, Huddle__V1__RegistryReply *rep,
			nng_msg **out, const char **why)
{
	Huddle__V1__HealthReply body = HUDDLE__V1__HEALTH_REPLY__INIT;
	struct hd_meeting m;
	if (hd_redis_ping(c->redis) != HD_OK) {
		*why = "presence store (Redis) is unavailable";
		return HD_EUNAVAILABLE;
	}
	// A well-formed id that is surely absent: a read that reaches the store.
	hd_err err = hd_meeting_get(c->store, "AAAAAAAAAAAAAAAAAAAAAA", &m);
	if (err != HD_OK && err != HD_EUNKNOWNMEETING) {
		*why = "the meeting store is unavailable";
		return HD_EUNAVAILABLE;
	}
	rep->body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_HEALTH;
	rep->health = &body;
	return hd_msg_pack(&rep->base, out);
}

// rpc_ops dispatches a RegistryRequest by its body, indexed by field number.
static const rpc_op rpc_ops[] = {
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING] = op_create_meeting,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING] = op_get_meeting,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN] = op_join,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_LEAVE] = op_leave,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_HEARTBEAT] = op_heartbeat,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_LIST_PARTICIPANTS] = op_list_participants,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_UPDATE_MEDIA] = op_update_media,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_RELAY_SIGNAL] = op_relay_signal,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_HEALTH] = op_health,
};

// error_reply packs a RegistryReply carrying only an Error.
static nng_msg *error_reply(uint64_t request_id, hd_err code, const char *why)
{
	return hd_rpc_error_reply(&huddle__v1__registry_reply__descriptor, request_id, code, why);
}

nng_msg *reg_rpc_handle(void *worker_state, nng_msg *msg)
{
	struct reg_ctx *c = worker_state;
	Huddle__V1__RegistryReply rep = HUDDLE__V1__REGISTRY_REPLY__INIT;
	Huddle__V1__RegistryRequest *req;
	const char *why = NULL;
	nng_msg *out = NULL;
	hd_err err;

	req = huddle__v1__registry_request__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (req == NULL) {
		HD_DEBUG("undecodable request (%zu bytes)", nng_msg_len(msg));
		return error_reply(0, HD_EMALFORMED, "request does not decode as a RegistryRequest");
	}
	rep.request_id = req->request_id;
	size_t op = (size_t)req->body_case;
	if (op >= sizeof(rpc_ops) / sizeof(rpc_ops[0]) || rpc_ops[op] == NULL) {
		err = HD_EUNKNOWNTYPE;
		why = "request carries no body this registry knows";
	} else {
		err = rpc_ops[op](c, req, &rep, &out, &why);
	}
	if (err != HD_OK) {
		// Outages are reported once by the sweeper, not per request.
		if (err == HD_EINTERNAL || err == HD_ENOMEM)
			HD_WARN("request %llu (body %d) failed: %s: %s", (unsigned long long)req->request_id,
				(int)req->body_case, hd_err_name(err), why != NULL ? why : hd_strerror(err));
		out = error_reply(req->request_id, err, why);
	}
	huddle__v1__registry_request__free_unpacked(req, NULL);
	return out;
}
