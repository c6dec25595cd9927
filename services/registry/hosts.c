// hosts.c: host actions, hands and reactions, and the live state hosts read.
#include "registry/hosts.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "registry/events.h"
#include "registry/meetings.h"
#include "registry/mode.h"
#include "registry/watch.h"

const char *const reg_reaction_emoji[] = {
	"\xF0\x9F\x91\x8D",         // 👍
	"\xF0\x9F\x91\x8F",         // 👏
	"\xF0\x9F\x98\x82",         // 😂
	"\xE2\x9D\xA4\xEF\xB8\x8F", // ❤️
	"\xF0\x9F\x8E\x89",         // 🎉
	"\xF0\x9F\x98\xAE",         // 😮
	NULL,
};

static const char *multi_argv[] = {"MULTI"};
static const char *exec_argv[] = {"EXEC"};

// actor is who asks for a host action, as the events name them.
struct actor {
	char id[HD_ID_LEN + 1];              // "" for a host key
	char name[REG_DISPLAY_NAME_MAX + 1]; // "" for a host key
};

// actor_check accepts an admitted host member of the meeting, or a host key
// of it, into *out; anyone else is HD_EFORBIDDEN.
static hd_err actor_check(struct reg_ctx *c, const struct hd_meeting *mt, const Huddle__V1__Actor *a, struct actor *out,
			  const char **why)
{
	char members[REG_KEY_MAX];
	struct reg_member m;
	redisReply *rep;
	hd_err err;
	memset(out, 0, sizeof(*out));
	if (a != NULL && hd_id_valid(a->participant_id)) {
		reg_key_members(members, mt->id);
		const char *hget[] = {"HGET", members, a->participant_id};
		if ((err = hd_redis_command(c->redis, &rep, 3, hget, NULL)) != HD_OK)
			return reg_redis_failed(err, why);
		bool host = rep->type == REDIS_REPLY_STRING && reg_member_unpack(rep->str, rep->len, &m) &&
			    !reg_member_waiting(&m) && reg_member_host(&m);
		freeReplyObject(rep);
		if (host) {
			memcpy(out->id, m.id, sizeof(out->id));
			memcpy(out->name, m.display_name, sizeof(out->name));
			return HD_OK;
		}
	}
	if (a != NULL && a->host_key[0] != '\0') {
		bool host;
		if ((err = reg_meeting_host_check(c->store, mt, a->host_key, &host)) != HD_OK) {
			*why = "the meeting store is unavailable";
			return err;
		}
		if (host)
			return HD_OK;
	}
	*why = "only a host of this meeting can do that";
	return HD_EFORBIDDEN;
}

// host_meeting reads the meeting and checks the actor.
static hd_err host_meeting(struct reg_ctx *c, const char *meeting_id, const Huddle__V1__Actor *a, struct hd_meeting *mt,
			   struct actor *who, const char **why)
{
	hd_err err = reg_meeting_get(c->store, meeting_id, mt, why);
	if (err == HD_OK)
		err = actor_check(c, mt, a, who, why);
	return err;
}

// ---- admit ----

// admit_arg is what admit_fn does to a waiting member.
struct admit_arg {
	bool deny;
	int64_t now_ms;
};

static enum reg_modify_outcome admit_fn(struct reg_member *m, void *arg, hd_err *err, const char **why)
{
	const struct admit_arg *a = arg;
	*err = HD_OK; // never fails: anyone not waiting is skipped
	(void)why;
	if (!reg_member_waiting(m))
		return REG_MODIFY_SKIP; // admitted already (maybe by another host)
	if (a->deny)
		return REG_MODIFY_DELETE;
	m->admission = HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED;
	m->waiting_since_ms = 0;
	m->joined_at_ms = a->now_ms; // in the call from now on
	return REG_MODIFY_WRITE;
}

// admit_ids admits (or denies) the n ids that are waiting, publishing as
// reg_host_admit says; done (may be NULL) gets the changed members.
static hd_err admit_ids(struct reg_ctx *c, const char *meeting_id, char *const *ids, size_t n, bool deny,
			int64_t now_ms, struct reg_roster *done, const char **why)
{
	struct admit_arg a = {deny, now_ms};
	struct reg_roster none = {0};
	hd_err err = HD_OK;
	if (done == NULL)
		done = &none;
	memset(done, 0, sizeof(*done));
	if (n > 0 && (done->members = calloc(n, sizeof(*done->members))) == NULL) {
		*why = "out of memory";
		return HD_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct reg_member m;
		enum reg_modify_outcome o;
		err = reg_member_modify(c, meeting_id, ids[i], admit_fn, &a, NULL, &m, &o, why);
		if (err == HD_EUNKNOWNPARTICIPANT) {
			err = HD_OK; // gone meanwhile: skipped
			continue;
		}
		if (err != HD_OK)
			break;
		if (o == REG_MODIFY_WRITE) {
			reg_event_admission(c->pub, meeting_id, m.id,
					    HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED);
			reg_member_publish(c, meeting_id, &m, true);
		} else if (o == REG_MODIFY_DELETE) {
			reg_event_admission(c->pub, meeting_id, m.id,
					    HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_DENIED);
		} else {
			continue;
		}
		HD_DEBUG("%s %s in meeting %s", m.id, deny ? "denied" : "admitted", meeting_id);
		done->members[done->n++] = m;
	}
	if (done->n > 0)
		reg_publish_waiting(c, meeting_id);
	if (done->n > 0 && !deny)
		reg_mode_update_logged(c, meeting_id, now_ms, NULL);
	reg_roster_fini(&none);
	if (err != HD_OK)
		reg_roster_fini(done);
	return err;
}

// admit_all admits (or denies) everyone waiting now.
static hd_err admit_all(struct reg_ctx *c, const char *meeting_id, bool deny, int64_t now_ms, struct reg_roster *done,
			const char **why)
{
	struct reg_room room;
	char **ids = NULL;
	hd_err err;
	if ((err = reg_room_read(c, meeting_id, &room, why)) != HD_OK)
		return err;
	if (room.waiting.n > 0 && (ids = calloc(room.waiting.n, sizeof(*ids))) == NULL) {
		reg_room_fini(&room);
		*why = "out of memory";
		return HD_ENOMEM;
	}
	for (size_t i = 0; i < room.waiting.n; i++)
		ids[i] = room.waiting.members[i].id;
	err = admit_ids(c, meeting_id, ids, room.waiting.n, deny, now_ms, done, why);
	free(ids);
	reg_room_fini(&room);
	return err;
}

hd_err reg_host_admit(struct reg_ctx *c, const Huddle__V1__RegistryAdmitRequest *req, int64_t now_ms,
		      struct reg_roster *done, const char **why)
{
	struct hd_meeting mt;
	struct actor who;
	hd_err err;
	memset(done, 0, sizeof(*done));
	if ((err = host_meeting(c, req->meeting_id, req->actor, &mt, &who, why)) != HD_OK)
		return err;
	if (req->all)
		return admit_all(c, mt.id, req->deny, now_ms, done, why);
	if (req->n_participant_ids > REG_ADMIT_IDS_MAX) {
		*why = "more than " HD_XSTR(REG_ADMIT_IDS_MAX) " participant ids in one admit";
		return HD_ETOOLARGE;
	}
	return admit_ids(c, mt.id, req->participant_ids, req->n_participant_ids, req->deny, now_ms, done, why);
}

// ---- moderate ----

static enum reg_modify_outcome moderate_fn(struct reg_member *m, void *arg, hd_err *err, const char **why)
{
	Huddle__V1__ModerationAction action = *(const Huddle__V1__ModerationAction *)arg;
	if (action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_REMOVE ||
	    action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_BLOCK)
		return REG_MODIFY_DELETE; // a waiting one too
	if (reg_member_waiting(m)) {
		*why = "the participant is in the waiting room, not in the call";
		*err = HD_EUNKNOWNPARTICIPANT;
		return REG_MODIFY_FAIL;
	}
	switch (action) {
	case HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MAKE_HOST:
		if (reg_member_host(m))
			return REG_MODIFY_SKIP;
		m->role = HUDDLE__V1__ROLE__ROLE_HOST;
		return REG_MODIFY_WRITE;
	case HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_LOWER_HAND:
		if (m->hand_raised_at_ms == 0)
			return REG_MODIFY_SKIP;
		m->hand_raised_at_ms = 0;
		return REG_MODIFY_WRITE;
	default: // MUTE, CAMERA_OFF: only told
		return REG_MODIFY_SKIP;
	}
}

hd_err reg_host_moderate(struct reg_ctx *c, const Huddle__V1__RegistryModerateRequest *req, int64_t now_ms,
			 const char **why)
{
	char list_key[REG_KEY_MAX];
	struct hd_meeting mt;
	struct actor who;
	struct reg_member m;
	enum reg_modify_outcome o;
	Huddle__V1__ModerationAction action = req->action;
	hd_err err;
	if ((err = host_meeting(c, req->meeting_id, req->actor, &mt, &who, why)) != HD_OK)
		return err;
	bool remove = action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_REMOVE,
	     block = action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_BLOCK;
	if (action < HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MUTE ||
	    action > HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_LOWER_HAND) {
		*why = "action must be one of MUTE, CAMERA_OFF, REMOVE, BLOCK, MAKE_HOST, LOWER_HAND";
		return HD_EBADREQUEST;
	}
	if (block)
		reg_key_blocked(list_key, mt.id);
	else
		reg_key_removed(list_key, mt.id);
	struct reg_modify_opts opts = {
		.record_key = remove || block ? list_key : NULL, .record_blocked = block, .now_ms = now_ms};
	if ((err = reg_member_modify(c, mt.id, req->participant_id, moderate_fn, &action, &opts, &m, &o, why)) != HD_OK)
		return err;
	if (o == REG_MODIFY_SKIP && (action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MAKE_HOST ||
				     action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_LOWER_HAND))
		return HD_OK; // a host already, or the hand already down: nothing to tell
	if (o == REG_MODIFY_WRITE)
		reg_member_publish(c, mt.id, &m, false);
	reg_event_moderated(c->pub, mt.id, m.id, action, who.id, who.name);
	if (o == REG_MODIFY_DELETE && !reg_member_waiting(&m)) {
		reg_event_left(c->pub, mt.id, m.id, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_REMOVED);
		reg_mode_update_logged(c, mt.id, now_ms, NULL);
	}
	if ((o == REG_MODIFY_DELETE && (reg_member_waiting(&m) || reg_member_host(&m))) ||
	    action == HUDDLE__V1__MODERATION_ACTION__MODERATION_ACTION_MAKE_HOST)
		reg_publish_waiting(c, mt.id);
	HD_INFO("meeting %s: a host (%s) did moderation action %d to %s", mt.id, who.id[0] != '\0' ? who.id : "by key",
		(int)action, m.id);
	return HD_OK;
}

// ---- access, end ----

hd_err reg_host_set_access(struct reg_ctx *c, const Huddle__V1__RegistrySetAccessRequest *req, int64_t now_ms,
			   struct hd_meeting *out, const char **why)
{
	struct actor who;
	Huddle__V1__Meeting pb;
	int mode = req->access_mode;
	hd_err err;
	if ((err = host_meeting(c, req->meeting_id, req->actor, out, &who, why)) != HD_OK)
		return err;
	if (mode < HD_ACCESS_OPEN || mode > HD_ACCESS_TOKEN_ONLY) {
		*why = "access_mode must be OPEN, WAITING_ROOM, LOCKED or TOKEN_ONLY";
		return HD_EBADREQUEST;
	}
	if ((err = reg_meeting_set_access(c->store, out->id, mode)) != HD_OK) {
		*why = err == HD_EUNKNOWNMEETING ? "no meeting has that id" : "the meeting store is unavailable";
		return err;
	}
	out->access_mode = mode;
	reg_meeting_to_pb(out, &pb);
	reg_event_meeting_updated(c->pub, &pb);
	HD_INFO("meeting %s: access mode set to %d", out->id, mode);
	if (mode == HD_ACCESS_OPEN) // open to anyone with the link: nobody waits
		return admit_all(c, out->id, false, now_ms, NULL, why);
	return HD_OK;
}

hd_err reg_host_end(struct reg_ctx *c, const Huddle__V1__RegistryEndMeetingRequest *req, const char **why)
{
	char members[REG_KEY_MAX], seen[REG_KEY_MAX], removed[REG_KEY_MAX];
	struct hd_meeting mt;
	struct actor who;
	struct reg_room room = {0};
	redisReply *rep[6];
	hd_err err;
	if ((err = host_meeting(c, req->meeting_id, req->actor, &mt, &who, why)) != HD_OK)
		return err;
	reg_key_members(members, mt.id);
	reg_key_seen(seen, mt.id);
	reg_key_removed(removed, mt.id);
	const char *hgetall[] = {"HGETALL", members};
	const char *del[] = {"DEL", members, seen, removed};
	const struct hd_redis_cmd cmds[] = {
		{1, multi_argv, NULL}, {2, hgetall, NULL}, {4, del, NULL}, {1, exec_argv, NULL}};
	if ((err = hd_redis_pipeline(c->redis, cmds, 4, rep, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	const redisReply *ex = rep[3];
	if (ex->type == REDIS_REPLY_ARRAY && ex->elements == 2)
		err = reg_room_from_hash(ex->element[0], NULL, &room);
	for (int i = 0; i < 4; i++)
		freeReplyObject(rep[i]);
	reg_watch_end(c, mt.id);
	// Everyone is out now; the events say so even if the list is lost.
	reg_event_meeting_ended(c->pub, mt.id, who.name);
	for (size_t i = 0; err == HD_OK && i < room.admitted.n; i++)
		reg_event_left(c->pub, mt.id, room.admitted.members[i].id,
			       HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_ENDED);
	reg_event_waiting(c->pub, mt.id, NULL, 0, false);
	reg_mode_update_logged(c, mt.id, hd_now_ms(), NULL);
	HD_INFO("meeting %s ended for all by a host (%zu in the call, %zu waiting)", mt.id, room.admitted.n,
		room.waiting.n);
	reg_room_fini(&room);
	return HD_OK;
}

// ---- hands, reactions ----

static enum reg_modify_outcome hand_fn(struct reg_member *m, void *arg, hd_err *err, const char **why)
{
	const int64_t *raise_at = arg; // 0: lower
	if (reg_member_waiting(m)) {
		*why = "waiting for a host to let you in";
		*err = HD_EFORBIDDEN;
		return REG_MODIFY_FAIL;
	}
	if ((*raise_at > 0) == (m->hand_raised_at_ms > 0))
		return REG_MODIFY_SKIP; // raised already keeps its place in the queue
	m->hand_raised_at_ms = *raise_at;
	return REG_MODIFY_WRITE;
}

hd_err reg_presence_hand(struct reg_ctx *c, const Huddle__V1__RegistryHandRequest *req, int64_t now_ms,
			 struct reg_member *out, const char **why)
{
	int64_t raise_at = req->raised ? now_ms : 0;
	enum reg_modify_outcome o;
	hd_err err = reg_member_modify(c, req->meeting_id, req->participant_id, hand_fn, &raise_at, NULL, out, &o, why);
	if (err == HD_OK && o == REG_MODIFY_WRITE)
		reg_member_publish(c, req->meeting_id, out, false);
	return err;
}

hd_err reg_presence_reaction(struct reg_ctx *c, const Huddle__V1__RegistryReactionRequest *req, const char **why)
{
	char members[REG_KEY_MAX];
	struct reg_member m;
	redisReply *rep;
	hd_err err;
	size_t i = 0;
	while (reg_reaction_emoji[i] != NULL && strcmp(reg_reaction_emoji[i], req->emoji) != 0)
		i++;
	if (reg_reaction_emoji[i] == NULL) {
		*why = "emoji must be one of the six reactions";
		return HD_EBADREQUEST;
	}
	*why = "participant is not in this meeting";
	if (!hd_id_valid(req->meeting_id) || !hd_id_valid(req->participant_id))
		return HD_EUNKNOWNPARTICIPANT;
	reg_key_members(members, req->meeting_id);
	const char *hget[] = {"HGET", members, req->participant_id};
	if ((err = hd_redis_command(c->redis, &rep, 3, hget, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	bool found = rep->type == REDIS_REPLY_STRING && reg_member_unpack(rep->str, rep->len, &m);
	freeReplyObject(rep);
	if (!found)
		return HD_EUNKNOWNPARTICIPANT;
	if (reg_member_waiting(&m)) {
		*why = "waiting for a host to let you in";
		return HD_EFORBIDDEN;
	}
	reg_event_reaction(c->pub, req->meeting_id, m.id, reg_reaction_emoji[i]);
	return HD_OK;
}

// ---- what hosts read ----

hd_err reg_presence_waiting(struct reg_ctx *c, const char *meeting_id, struct reg_room *out, const char **why)
{
	struct hd_meeting mt;
	hd_err err;
	memset(out, 0, sizeof(*out));
	if ((err = reg_meeting_get(c->store, meeting_id, &mt, why)) != HD_OK)
		return err;
	return reg_room_read(c, mt.id, out, why);
}

void reg_space_status_fini(struct reg_space_status *s)
{
	for (size_t i = 0; s->rooms != NULL && i < s->n; i++)
		reg_room_fini(&s->rooms[i]);
	free(s->rooms);
	free(s->meetings);
	s->rooms = NULL;
	s->meetings = NULL;
	s->n = 0;
}

hd_err reg_space_read(struct reg_ctx *c, const char *key, struct reg_space_status *out, const char **why)
{
	struct hd_redis_cmd *cmds = NULL;
	const char **argv = NULL;
	char(*keys)[REG_KEY_MAX] = NULL;
	redisReply **rep = NULL;
	size_t n = 0;
	hd_err err;
	memset(out, 0, sizeof(*out));
	if ((err = reg_space_open(c->store, key, &out->space)) != HD_OK) {
		*why = err == HD_EFORBIDDEN ? "no space has that key" : "the meeting store is unavailable";
		return err;
	}
	err = HD_ENOMEM;
	*why = "out of memory";
	if ((out->meetings = calloc(HD_SPACE_MEETINGS_MAX, sizeof(*out->meetings))) == NULL)
		goto fail;
	if ((err = hd_space_meetings(c->store, out->space.id, out->meetings, &n)) != HD_OK) {
		*why = "the meeting store is unavailable";
		err = HD_EUNAVAILABLE;
		goto fail;
	}
	err = HD_ENOMEM;
	*why = "out of memory";
	if ((out->rooms = calloc(n > 0 ? n : 1, sizeof(*out->rooms))) == NULL ||
	    (cmds = calloc(n > 0 ? n : 1, sizeof(*cmds))) == NULL ||
	    (argv = calloc(2 * (n > 0 ? n : 1), sizeof(*argv))) == NULL ||
	    (keys = calloc(n > 0 ? n : 1, sizeof(*keys))) == NULL ||
	    (rep = calloc(n > 0 ? n : 1, sizeof(*rep))) == NULL)
		goto fail;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		reg_key_members(keys[i], out->meetings[i].id);
		argv[2 * i] = "HGETALL";
		argv[2 * i + 1] = keys[i];
		cmds[i] = (struct hd_redis_cmd){2, &argv[2 * i], NULL};
	}
	if (n > 0 && (err = hd_redis_pipeline(c->redis, cmds, n, rep, NULL)) != HD_OK) {
		reg_redis_failed(err, why);
		goto fail;
	}
	err = HD_OK;
	for (size_t i = 0; i < n; i++) {
		if (err == HD_OK && (err = reg_room_from_hash(rep[i], NULL, &out->rooms[i])) != HD_OK)
			reg_redis_failed(err, why);
		freeReplyObject(rep[i]);
	}
	if (err != HD_OK)
		goto fail;
	free(rep);
	free(keys);
	free(argv);
	free(cmds);
	return HD_OK;
fail:
	free(rep);
	free(keys);
	free(argv);
	free(cmds);
	reg_space_status_fini(out);
	return err;
}
