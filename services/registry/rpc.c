// rpc.c: the registry's op table: serves each RegistryRequest body.
#include "registry/rpc.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/registry.pb-c.h"
#include "registry/hosts.h"
#include "registry/meetings.h"
#include "registry/presence.h"
#include "registry/mode.h"
#include "registry/watch.h"

// op_create_meeting makes a meeting: with space_key in that space, else with
// a host key of its own that the reply carries this once (never logged).
static hd_err op_create_meeting(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__CreateMeetingRequest *cm = req;
	Huddle__V1__CreateMeetingReply body = HUDDLE__V1__CREATE_MEETING_REPLY__INIT;
	Huddle__V1__Meeting pb;
	struct hd_meeting m;
	char host_key[HD_KEY_LEN + 1];
	struct reg_meeting_spec spec = {
		.title = cm->title,
		.space_key = cm->space_key,
		.starts_at_ms = cm->starts_at_ms,
		.access_mode = (int)cm->access_mode,
	};
	hd_err err;
	if ((err = reg_meeting_new(c->store, &spec, hd_now_ms(), &m, host_key, why)) != HD_OK)
		return err;
	reg_meeting_to_pb(&m, &pb);
	body.meeting = &pb;
	body.host_key = host_key; // "" for a meeting of a space
	err = hd_rpc_reply_pack(rep, &body.base);
	memset(host_key, 0, sizeof(host_key));
	return err;
}

// op_create_space makes a space; the reply carries its key this once.
static hd_err op_create_space(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__CreateSpaceRequest *cs = req;
	Huddle__V1__CreateSpaceReply body = HUDDLE__V1__CREATE_SPACE_REPLY__INIT;
	struct hd_space sp;
	char key[HD_KEY_LEN + 1];
	hd_err err;
	if ((err = reg_space_create(c->store, cs->title, hd_now_ms(), &sp, key, why)) != HD_OK)
		return err;
	body.space_id = sp.id;
	body.space_key = key;
	body.title = sp.title;
	err = hd_rpc_reply_pack(rep, &body.base);
	memset(key, 0, sizeof(key));
	return err;
}

// op_check_host answers the meeting when host_key is one of its host keys
// (its own or its space's), FORBIDDEN otherwise.
static hd_err op_check_host(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__CheckHostRequest *ch = req;
	Huddle__V1__CheckHostReply body = HUDDLE__V1__CHECK_HOST_REPLY__INIT;
	Huddle__V1__Meeting pb;
	struct hd_meeting m;
	bool is_host = false;
	hd_err err;
	if ((err = reg_meeting_get(c->store, ch->meeting_id, &m, why)) != HD_OK)
		return err;
	if ((err = reg_meeting_host_check(c->store, &m, ch->host_key, &is_host)) != HD_OK) {
		*why = "the meeting store is unavailable";
		return err;
	}
	if (!is_host) {
		*why = "the host key is not valid for this meeting";
		return HD_EFORBIDDEN;
	}
	reg_meeting_to_pb(&m, &pb);
	body.meeting = &pb;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_get_meeting(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__GetMeetingRequest *gm = req;
	Huddle__V1__GetMeetingReply body = HUDDLE__V1__GET_MEETING_REPLY__INIT;
	Huddle__V1__Meeting pb;
	struct hd_meeting m;
	hd_err err;
	if ((err = reg_meeting_get(c->store, gm->meeting_id, &m, why)) != HD_OK)
		return err;
	reg_meeting_to_pb(&m, &pb);
	body.meeting = &pb;
	return hd_rpc_reply_pack(rep, &body.base);
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

// waiting_pb is a waiting room as WaitingParticipant messages borrowing it.
struct waiting_pb {
	Huddle__V1__WaitingParticipant *w;
	Huddle__V1__WaitingParticipant **ptrs;
};

static hd_err waiting_pb_init(struct waiting_pb *pb, const struct reg_roster *r)
{
	size_t n = r->n > 0 ? r->n : 1;
	pb->w = calloc(n, sizeof(*pb->w));
	pb->ptrs = calloc(n, sizeof(*pb->ptrs));
	if (pb->w == NULL || pb->ptrs == NULL)
		return HD_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		reg_member_to_waiting_pb(&r->members[i], &pb->w[i]);
		pb->ptrs[i] = &pb->w[i];
	}
	return HD_OK;
}

static void waiting_pb_fini(struct waiting_pb *pb)
{
	free(pb->ptrs);
	free(pb->w);
}

static hd_err op_join(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistryJoinReply body = HUDDLE__V1__REGISTRY_JOIN_REPLY__INIT;
	Huddle__V1__Participant self;
	Huddle__V1__MediaState self_media;
	Huddle__V1__Meeting meeting;
	struct roster_pb others = {0};
	struct waiting_pb waiting = {0};
	struct reg_join j;
	struct reg_watch watch;
	Huddle__V1__WatchState watch_pb;
	Huddle__V1__MediaModeState mode_pb;
	hd_err err;
	if ((err = reg_presence_join(c, req, hd_now_ms(), &j, why)) != HD_OK)
		return err;
	// The shared player, for an admitted joiner; one who finds nobody else
	// in the call clears what a crash may have left.
	if (!reg_member_waiting(&j.self)) {
		const Huddle__V1__RegistryJoinRequest *jr = req;
		reg_watch_for_join(c, jr->meeting_id, !j.resumed && j.others.n == 0, &watch);
		reg_watch_to_pb(&watch, &watch_pb);
		body.watch = &watch_pb;
		reg_mode_to_pb(&j.mode, &mode_pb);
		body.media_mode = &mode_pb;
	}
	if ((err = roster_pb_init(&others, &j.others)) != HD_OK ||
	    (err = waiting_pb_init(&waiting, &j.waiting)) != HD_OK) {
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
	body.admission = (Huddle__V1__AdmissionState)j.self.admission;
	body.n_waiting = j.waiting.n;
	body.waiting = waiting.ptrs;
	body.host_present = j.host_present;
	err = hd_rpc_reply_pack(rep, &body.base);
fail:
	waiting_pb_fini(&waiting);
	roster_pb_fini(&others);
	reg_join_fini(&j);
	return err;
}

static hd_err op_leave(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__RegistryLeaveRequest *lv = req;
	Huddle__V1__RegistryLeaveReply body = HUDDLE__V1__REGISTRY_LEAVE_REPLY__INIT;
	hd_err err;
	if ((err = reg_presence_leave(c, lv->meeting_id, lv->participant_id, why)) != HD_OK)
		return err;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_heartbeat(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__HeartbeatReply body = HUDDLE__V1__HEARTBEAT_REPLY__INIT;
	const Huddle__V1__HeartbeatRequest *hb = req;
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
	err = hd_rpc_reply_pack(rep, &body.base);
fail:
	free(body.gone);
	free(gone);
	return err;
}

static hd_err op_list_participants(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__ListParticipantsRequest *lp = req;
	Huddle__V1__ListParticipantsReply body = HUDDLE__V1__LIST_PARTICIPANTS_REPLY__INIT;
	struct reg_roster roster;
	struct roster_pb pb = {0};
	hd_err err;
	if ((err = reg_presence_list(c, lp->meeting_id, &roster, why)) != HD_OK)
		return err;
	if ((err = roster_pb_init(&pb, &roster)) != HD_OK) {
		*why = "out of memory";
		goto fail;
	}
	body.n_participants = roster.n;
	body.participants = pb.ptrs;
	// For a participant being admitted: the shared player now.
	struct reg_watch watch;
	Huddle__V1__WatchState watch_pb;
	reg_watch_for_join(c, lp->meeting_id, false, &watch);
	reg_watch_to_pb(&watch, &watch_pb);
	body.watch = &watch_pb;
	// ... and the media mode now (a failed read gives MESH, epoch 0: the
	// next media_mode event has a higher epoch).
	struct reg_mode mode;
	Huddle__V1__MediaModeState mode_pb;
	const char *mode_why;
	if (reg_mode_read(c, lp->meeting_id, &mode, &mode_why) != HD_OK)
		HD_WARN("meeting %s: media mode not read: %s", lp->meeting_id, mode_why);
	reg_mode_to_pb(&mode, &mode_pb);
	body.media_mode = &mode_pb;
	err = hd_rpc_reply_pack(rep, &body.base);
fail:
	roster_pb_fini(&pb);
	reg_roster_fini(&roster);
	return err;
}

static hd_err op_update_media(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__UpdateMediaReply body = HUDDLE__V1__UPDATE_MEDIA_REPLY__INIT;
	const Huddle__V1__UpdateMediaRequest *um = req;
	Huddle__V1__Participant p;
	Huddle__V1__MediaState media;
	struct reg_member m;
	hd_err err;
	if ((err = reg_presence_update_media(c, um->meeting_id, um->participant_id, um->media, hd_now_ms(), &m, why)) !=
	    HD_OK)
		return err;
	reg_member_to_pb(&m, &p, &media);
	body.participant = &p;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_relay_signal(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RelaySignalReply body = HUDDLE__V1__RELAY_SIGNAL_REPLY__INIT;
	hd_err err;
	if ((err = reg_presence_relay(c, req, why)) != HD_OK)
		return err;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_admit(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistryAdmitReply body = HUDDLE__V1__REGISTRY_ADMIT_REPLY__INIT;
	struct reg_roster done;
	hd_err err;
	if ((err = reg_host_admit(c, req, hd_now_ms(), &done, why)) != HD_OK)
		return err;
	if ((body.admitted = calloc(done.n > 0 ? done.n : 1, sizeof(*body.admitted))) == NULL) {
		*why = "out of memory";
		err = HD_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < done.n; i++)
		body.admitted[body.n_admitted++] = done.members[i].id;
	err = hd_rpc_reply_pack(rep, &body.base);
fail:
	free(body.admitted);
	reg_roster_fini(&done);
	return err;
}

static hd_err op_moderate(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistryModerateReply body = HUDDLE__V1__REGISTRY_MODERATE_REPLY__INIT;
	hd_err err;
	if ((err = reg_host_moderate(c, req, hd_now_ms(), why)) != HD_OK)
		return err;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_set_access(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistrySetAccessReply body = HUDDLE__V1__REGISTRY_SET_ACCESS_REPLY__INIT;
	Huddle__V1__Meeting pb;
	struct hd_meeting m;
	hd_err err;
	if ((err = reg_host_set_access(c, req, hd_now_ms(), &m, why)) != HD_OK)
		return err;
	reg_meeting_to_pb(&m, &pb);
	body.meeting = &pb;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_end_meeting(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistryEndMeetingReply body = HUDDLE__V1__REGISTRY_END_MEETING_REPLY__INIT;
	hd_err err;
	if ((err = reg_host_end(c, req, why)) != HD_OK)
		return err;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_hand(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistryHandReply body = HUDDLE__V1__REGISTRY_HAND_REPLY__INIT;
	Huddle__V1__Participant p;
	Huddle__V1__MediaState media;
	struct reg_member m;
	hd_err err;
	if ((err = reg_presence_hand(c, req, hd_now_ms(), &m, why)) != HD_OK)
		return err;
	reg_member_to_pb(&m, &p, &media);
	body.participant = &p;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_reaction(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistryReactionReply body = HUDDLE__V1__REGISTRY_REACTION_REPLY__INIT;
	hd_err err;
	if ((err = reg_presence_reaction(c, req, why)) != HD_OK)
		return err;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_watch(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	Huddle__V1__RegistryWatchReply body = HUDDLE__V1__REGISTRY_WATCH_REPLY__INIT;
	Huddle__V1__WatchState pb;
	struct reg_watch w;
	hd_err err;
	if ((err = reg_watch_apply(c, req, hd_now_ms(), &w, why)) != HD_OK)
		return err;
	reg_watch_to_pb(&w, &pb);
	body.state = &pb;
	return hd_rpc_reply_pack(rep, &body.base);
}

// space_pb is a GetSpaceReply's meetings, borrowing a reg_space_status.
struct space_pb {
	Huddle__V1__MeetingStatus *st;
	Huddle__V1__MeetingStatus **ptrs;
	Huddle__V1__Meeting *meetings;
	struct roster_pb *rosters;
	struct waiting_pb *waiting;
	size_t n;
};

static void space_pb_fini(struct space_pb *pb)
{
	for (size_t i = 0; i < pb->n; i++) {
		if (pb->rosters != NULL)
			roster_pb_fini(&pb->rosters[i]);
		if (pb->waiting != NULL)
			waiting_pb_fini(&pb->waiting[i]);
	}
	free(pb->waiting);
	free(pb->rosters);
	free(pb->meetings);
	free(pb->ptrs);
	free(pb->st);
}

static hd_err space_pb_init(struct space_pb *pb, const struct reg_space_status *s)
{
	size_t n = s->n > 0 ? s->n : 1;
	memset(pb, 0, sizeof(*pb));
	if ((pb->st = calloc(n, sizeof(*pb->st))) == NULL || (pb->ptrs = calloc(n, sizeof(*pb->ptrs))) == NULL ||
	    (pb->meetings = calloc(n, sizeof(*pb->meetings))) == NULL ||
	    (pb->rosters = calloc(n, sizeof(*pb->rosters))) == NULL ||
	    (pb->waiting = calloc(n, sizeof(*pb->waiting))) == NULL)
		return HD_ENOMEM;
	pb->n = s->n;
	for (size_t i = 0; i < s->n; i++) {
		Huddle__V1__MeetingStatus *st = &pb->st[i];
		huddle__v1__meeting_status__init(st);
		reg_meeting_to_pb(&s->meetings[i], &pb->meetings[i]);
		if (roster_pb_init(&pb->rosters[i], &s->rooms[i].admitted) != HD_OK ||
		    waiting_pb_init(&pb->waiting[i], &s->rooms[i].waiting) != HD_OK)
			return HD_ENOMEM;
		st->meeting = &pb->meetings[i];
		st->n_participants = s->rooms[i].admitted.n;
		st->participants = pb->rosters[i].ptrs;
		st->n_waiting = s->rooms[i].waiting.n;
		st->waiting = pb->waiting[i].ptrs;
		pb->ptrs[i] = st;
	}
	return HD_OK;
}

static hd_err op_get_space(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__GetSpaceRequest *gs = req;
	Huddle__V1__GetSpaceReply body = HUDDLE__V1__GET_SPACE_REPLY__INIT;
	struct reg_space_status s;
	struct space_pb pb = {0};
	hd_err err;
	if ((err = reg_space_read(c, gs->space_key, &s, why)) != HD_OK)
		return err;
	if ((err = space_pb_init(&pb, &s)) != HD_OK) {
		*why = "out of memory";
		goto fail;
	}
	body.space_id = s.space.id;
	body.title = s.space.title;
	body.created_at_ms = s.space.created_at_ms;
	body.n_meetings = s.n;
	body.meetings = pb.ptrs;
	err = hd_rpc_reply_pack(rep, &body.base);
fail:
	space_pb_fini(&pb);
	reg_space_status_fini(&s);
	return err;
}

static hd_err op_list_waiting(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
	const Huddle__V1__ListWaitingRequest *lw = req;
	Huddle__V1__ListWaitingReply body = HUDDLE__V1__LIST_WAITING_REPLY__INIT;
	struct reg_room room;
	struct waiting_pb pb = {0};
	hd_err err;
	if ((err = reg_presence_waiting(c, lw->meeting_id, &room, why)) != HD_OK)
		return err;
	if ((err = waiting_pb_init(&pb, &room.waiting)) != HD_OK) {
		*why = "out of memory";
		goto fail;
	}
	body.n_waiting = room.waiting.n;
	body.waiting = pb.ptrs;
	body.host_present = room.host_present;
	err = hd_rpc_reply_pack(rep, &body.base);
fail:
	waiting_pb_fini(&pb);
	reg_room_fini(&room);
	return err;
}

// op_health answers OK when Redis and the store both answer.
static hd_err op_health(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct reg_ctx *c = worker;
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
	return hd_rpc_reply_pack(rep, &body.base);
}

// rpc_ops is the registry's op table, indexed by the RegistryRequest body's
// field number.
static const hd_rpc_op rpc_ops[] = {
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING] = op_create_meeting,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING] = op_get_meeting,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_JOIN] = op_join,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_LEAVE] = op_leave,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_HEARTBEAT] = op_heartbeat,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_LIST_PARTICIPANTS] = op_list_participants,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_UPDATE_MEDIA] = op_update_media,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_RELAY_SIGNAL] = op_relay_signal,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_HEALTH] = op_health,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_SPACE] = op_create_space,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_CHECK_HOST] = op_check_host,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_ADMIT] = op_admit,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_MODERATE] = op_moderate,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_SET_ACCESS] = op_set_access,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_END_MEETING] = op_end_meeting,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_HAND] = op_hand,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_REACTION] = op_reaction,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_SPACE] = op_get_space,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_LIST_WAITING] = op_list_waiting,
	[HUDDLE__V1__REGISTRY_REQUEST__BODY_WATCH] = op_watch,
};

static const struct hd_rpc_service reg_service = {
	.name = "huddle-registry",
	.request = &huddle__v1__registry_request__descriptor,
	.reply = &huddle__v1__registry_reply__descriptor,
	.ops = rpc_ops,
	.n_ops = sizeof(rpc_ops) / sizeof(rpc_ops[0]),
};

nng_msg *reg_rpc_handle(void *worker_state, nng_msg *msg)
{
	return hd_rpc_dispatch(&reg_service, worker_state, msg);
}
