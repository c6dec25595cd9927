// presence.c: meeting membership in Redis, and the room events about it.
#include "registry/presence.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "registry/events.h"
#include "registry/watch.h"
#include "common/hostkey.h"
#include "registry/meetings.h"

#define SWEEP_PAGE 128       // active meetings read per round trip
#define SWEEP_MAX_PAGES 8192 // bounds one sweep at about a million meetings
#define SWEEP_BATCH 256      // expired members removed per meeting per sweep

static const char active_key[] = "huddle:meetings:active";

// deactivate_if_idle drops a meeting from the active set only if nothing
// touched it since the cutoff: a join racing the sweeper re-scores it first.
// KEYS: active. ARGV: meeting, cutoff.
static const char deactivate_if_idle[] = "local s = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
					 "if s and tonumber(s) < tonumber(ARGV[2]) then\n"
					 "  return redis.call('ZREM', KEYS[1], ARGV[1])\n"
					 "end\n"
					 "return 0\n";

// join_if_room adds a fresh member unless the meeting already has max (> 0)
// members seen since the cutoff (the waiting room counts; members past the
// TTL that the sweeper has not removed yet do not), and unless Redis runs it
// after the deadline on Redis's own clock (hd_redis_deadline_ms): then the
// registry has already told the joiner that Redis was unavailable, and a
// record stored now would be a member nobody was told of. Atomic, so
// concurrent joins through any gateway and registry cannot both take the last
// place. KEYS: members, seen. ARGV: participant, record, now, max, cutoff,
// deadline. Returns 1 when added, 0 when full, -1 when too late.
static const char join_if_room[] =
	"local t = redis.call('TIME')\n"
	"if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[6]) then\n"
	"  return -1\n"
	"end\n"
	"local max = tonumber(ARGV[4])\n"
	"if max > 0 and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and\n"
	"   redis.call('ZCOUNT', KEYS[2], ARGV[5], '+inf') >= max then\n"
	"  return 0\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])\n"
	"return 1\n";

static const char *multi_argv[] = {"MULTI"};
static const char *exec_argv[] = {"EXEC"};

// ---- join ----

// display_name_clean copies name without leading and trailing white space
// into out; false unless the result is 1..REG_DISPLAY_NAME_MAX bytes of UTF-8.
static bool display_name_clean(const char *name, char out[REG_DISPLAY_NAME_MAX + 1])
{
	static const char space[] = " \t\r\n\v\f";
	size_t start = strspn(name, space), end = strlen(name);
	while (end > start && strchr(space, name[end - 1]) != NULL)
		end--;
	size_t n = end - start;
	if (n == 0 || n > REG_DISPLAY_NAME_MAX || !hd_utf8_valid(name + start, n))
		return false;
	memcpy(out, name + start, n);
	out[n] = '\0';
	return true;
}

// client_key_valid: 1..REG_CLIENT_KEY_MAX characters of [A-Za-z0-9_-].
static bool client_key_valid(const char *key)
{
	size_t n = strlen(key);
	return n >= 1 && n <= REG_CLIENT_KEY_MAX &&
	       strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

// join_client_status tells whether a client key hash is blocked in the
// meeting, or was removed from it within REG_REMOVED_TTL_S.
static hd_err join_client_status(struct reg_ctx *c, const char *meeting_id, const char *hash, int64_t now_ms,
				 bool *blocked, bool *removed, const char **why)
{
	char blocked_key[REG_KEY_MAX], removed_key[REG_KEY_MAX];
	redisReply *rep[2];
	hd_err err;
	reg_key_blocked(blocked_key, meeting_id);
	reg_key_removed(removed_key, meeting_id);
	const char *sismember[] = {"SISMEMBER", blocked_key, hash};
	const char *zscore[] = {"ZSCORE", removed_key, hash};
	const struct hd_redis_cmd cmds[] = {{3, sismember, NULL}, {3, zscore, NULL}};
	if ((err = hd_redis_pipeline(c->redis, cmds, 2, rep, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	*blocked = rep[0]->type == REDIS_REPLY_INTEGER && rep[0]->integer == 1;
	*removed = rep[1]->type == REDIS_REPLY_STRING &&
		   strtoll(rep[1]->str, NULL, 10) >= now_ms - (int64_t)REG_REMOVED_TTL_S * 1000;
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	return HD_OK;
}

// join_decide fills a fresh joiner's name, role, client key hash and
// admission from the request and the meeting's access rules (access.md,
// "Join", steps 2-5).
static hd_err join_decide(struct reg_ctx *c, const Huddle__V1__RegistryJoinRequest *req, const struct hd_meeting *mt,
			  int64_t now_ms, struct reg_member *m, const char **why)
{
	const Huddle__V1__JoinGrant *g = req->grant;
	bool host = g != NULL && g->role == HUDDLE__V1__ROLE__ROLE_HOST;
	bool blocked = false, removed = false, waiting;
	hd_err err;
	if (req->host_key[0] != '\0') {
		bool key_host;
		if ((err = reg_meeting_host_check(c->store, mt, req->host_key, &key_host)) != HD_OK) {
			*why = "the meeting store is unavailable";
			return err;
		}
		if (!key_host) {
			*why = "the host key is not valid for this meeting";
			return HD_EFORBIDDEN;
		}
		host = true;
	}
	const char *name = g != NULL && g->display_name[0] != '\0' ? g->display_name : req->display_name;
	if (!display_name_clean(name, m->display_name)) {
		*why = "display_name must be 1 to 64 bytes of UTF-8";
		return HD_EBADREQUEST;
	}
	if (req->client_key[0] != '\0') {
		if (!client_key_valid(req->client_key)) {
			*why = "client_key must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -";
			return HD_EBADREQUEST;
		}
		hd_key_hash(req->client_key, m->client_key_hash);
	}
	m->role = host ? HUDDLE__V1__ROLE__ROLE_HOST : HUDDLE__V1__ROLE__ROLE_GUEST;
	if (!host && m->client_key_hash[0] != '\0' &&
	    (err = join_client_status(c, req->meeting_id, m->client_key_hash, now_ms, &blocked, &removed, why)) !=
		    HD_OK)
		return err;
	if (blocked) {
		*why = "a host removed you from this meeting and blocked you";
		return HD_EBLOCKED;
	}
	switch (mt->access_mode) {
	case HD_ACCESS_WAITING_ROOM:
		waiting = !host;
		break;
	case HD_ACCESS_LOCKED:
		if (!host) {
			*why = "this meeting is locked";
			return HD_EMEETINGLOCKED;
		}
		waiting = false;
		break;
	case HD_ACCESS_TOKEN_ONLY:
		if (!host && g == NULL) {
			*why = "this meeting needs a signed join link";
			return HD_ETOKENINVALID;
		}
		waiting = !host && removed;
		break;
	default:                            // OPEN, and records stored before access modes
		waiting = !host && removed; // "back to the waiting room if they return"
		break;
	}
	m->admission = waiting ? HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING
			       : HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED;
	m->waiting_since_ms = waiting ? now_ms : 0;
	return HD_OK;
}

// join_write stores a fresh joiner, and marks the meeting active and reads
// its members (both also for a resume), in one round trip.
static hd_err join_write(struct reg_ctx *c, const char *meeting_id, struct reg_join *j, int64_t now_ms,
			 const char **why)
{
	char members[REG_KEY_MAX], seen[REG_KEY_MAX], now[REG_MS_MAX], max[REG_MS_MAX], cutoff[REG_MS_MAX],
		deadline[REG_MS_MAX];
	uint8_t rec[REG_MEMBER_PACKED_MAX];
	size_t rec_len = reg_member_pack(&j->self, rec);
	struct reg_room room;
	redisReply *rep[4];
	int64_t deadline_ms;
	hd_err err;
	if (rec_len == 0) {
		*why = "presence record too large";
		return HD_EINTERNAL;
	}
	reg_key_members(members, meeting_id);
	reg_key_seen(seen, meeting_id);
	reg_ms_string(now, now_ms);
	reg_ms_string(max, c->max_participants);
	reg_ms_string(cutoff, now_ms - c->presence_ttl_ms);
	if ((err = hd_redis_deadline_ms(c->redis, &deadline_ms)) != HD_OK)
		return reg_redis_failed(err, why);
	reg_ms_string(deadline, deadline_ms);

	const char *add[] = {"EVAL", join_if_room, "2",    members, seen, j->self.id, (const char *)rec,
			     now,    max,          cutoff, deadline};
	const size_t add_len[] = {
		4,       strlen(join_if_room), 1,           strlen(members), strlen(seen),    strlen(j->self.id),
		rec_len, strlen(now),          strlen(max), strlen(cutoff),  strlen(deadline)};
	const char *active[] = {"ZADD", active_key, now, meeting_id};
	const char *hgetall[] = {"HGETALL", members};
	const struct hd_redis_cmd fresh[] = {{11, add, add_len}, {4, active, NULL}, {2, hgetall, NULL}};
	const struct hd_redis_cmd *cmds = j->resumed ? fresh + 1 : fresh;
	size_t n = j->resumed ? 2 : 3;
	if ((err = hd_redis_pipeline(c->redis, cmds, n, rep, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	if (!j->resumed && (rep[0]->type != REDIS_REPLY_INTEGER || rep[0]->integer != 1)) {
		if (rep[0]->type == REDIS_REPLY_INTEGER && rep[0]->integer == 0) {
			snprintf(c->why_buf, sizeof(c->why_buf), "this meeting is full (%lld people)",
				 (long long)c->max_participants);
			*why = c->why_buf;
			err = HD_EMEETINGFULL;
		} else if (rep[0]->type == REDIS_REPLY_INTEGER) {
			HD_WARN("a join reached Redis after its deadline (Redis hung?); not stored");
			err = reg_redis_failed(HD_EUNAVAILABLE, why);
		} else {
			err = reg_redis_failed(HD_EINTERNAL, why);
		}
	} else if ((err = reg_room_from_hash(rep[n - 1], j->self.id, &room)) != HD_OK) {
		reg_redis_failed(err, why);
	} else {
		j->host_present = room.host_present;
		if (!reg_member_waiting(&j->self)) {
			j->others = room.admitted;
			room.admitted = (struct reg_roster){0};
			if (reg_member_host(&j->self)) {
				j->waiting = room.waiting;
				room.waiting = (struct reg_roster){0};
			}
		}
		reg_room_fini(&room);
	}
	for (size_t i = 0; i < n; i++)
		freeReplyObject(rep[i]);
	return err;
}

// resume_arg is what resume_fn checks and sets.
struct resume_arg {
	const char *token, *gateway_id;
};

// resume_fn checks the resume token and moves the member to the new
// gateway, keeping its role and admission.
static enum reg_modify_outcome resume_fn(struct reg_member *m, void *arg, hd_err *err, const char **why)
{
	const struct resume_arg *a = arg;
	if (strlen(m->resume_token) != HD_ID_LEN || CRYPTO_memcmp(m->resume_token, a->token, HD_ID_LEN) != 0) {
		*why = "unknown participant or wrong resume token";
		*err = HD_ERESUMEREJECTED;
		return REG_MODIFY_FAIL;
	}
	snprintf(m->gateway_id, sizeof(m->gateway_id), "%s", a->gateway_id);
	return REG_MODIFY_WRITE;
}

// join_resume takes over the participant's record (token checked, still
// present within the TTL) for the request's gateway.
static hd_err join_resume(struct reg_ctx *c, const Huddle__V1__RegistryJoinRequest *req, int64_t now_ms,
			  struct reg_join *j, const char **why)
{
	struct resume_arg a = {req->resume_token, req->gateway_id};
	struct reg_modify_opts opts = {.touch_ms = now_ms, .oldest_seen_ms = now_ms - c->presence_ttl_ms};
	hd_err err;
	*why = "unknown participant or wrong resume token";
	if (!hd_id_valid(req->participant_id) || !hd_id_valid(req->resume_token))
		return HD_ERESUMEREJECTED;
	err = reg_member_modify(c, req->meeting_id, req->participant_id, resume_fn, &a, &opts, &j->self, NULL, why);
	if (err == HD_EUNKNOWNPARTICIPANT) {
		*why = "unknown participant or wrong resume token";
		err = HD_ERESUMEREJECTED; // not (or no longer) a member
	}
	return err;
}

hd_err reg_presence_join(struct reg_ctx *c, const Huddle__V1__RegistryJoinRequest *req, int64_t now_ms,
			 struct reg_join *out, const char **why)
{
	bool resume = req->participant_id[0] != '\0' || req->resume_token[0] != '\0';
	hd_err err;
	memset(out, 0, sizeof(*out));
	if ((err = reg_meeting_get(c->store, req->meeting_id, &out->meeting, why)) != HD_OK)
		return err;
	if (req->gateway_id[0] == '\0' || strlen(req->gateway_id) > REG_GATEWAY_ID_MAX) {
		*why = "gateway_id must be 1 to 255 bytes";
		return HD_EBADREQUEST;
	}
	if (resume) {
		if ((err = join_resume(c, req, now_ms, out, why)) != HD_OK)
			return err;
		out->resumed = true;
	} else {
		struct reg_member *m = &out->self;
		if ((err = join_decide(c, req, &out->meeting, now_ms, m, why)) != HD_OK)
			return err;
		if (hd_id_random(m->id) != HD_OK || hd_id_random(m->resume_token) != HD_OK) {
			*why = "no randomness for a participant id";
			return HD_EINTERNAL;
		}
		reg_member_set_media(m, req->media);
		m->joined_at_ms = now_ms;
		snprintf(m->gateway_id, sizeof(m->gateway_id), "%s", req->gateway_id);
	}
	if ((err = join_write(c, req->meeting_id, out, now_ms, why)) != HD_OK) {
		reg_join_fini(out);
		return err;
	}
	if (!out->resumed && !reg_member_waiting(&out->self))
		reg_member_publish(c, req->meeting_id, &out->self, true);
	// After participant_joined, so that receivers know the joiner that
	// tipped the meeting over when they hear of the new mode.
	if (!reg_member_waiting(&out->self))
		reg_mode_update_logged(c, req->meeting_id, now_ms, &out->mode);
	if (!out->resumed) {
		// A new waiting guest changes the waiting room, a new host maybe
		// host_present.
		if (reg_member_waiting(&out->self) || reg_member_host(&out->self))
			reg_publish_waiting(c, req->meeting_id);
	}
	HD_DEBUG("%s %s meeting %s via %s%s", out->self.id, out->resumed ? "resumed" : "joined", req->meeting_id,
		 req->gateway_id, reg_member_waiting(&out->self) ? " (waiting)" : "");
	return HD_OK;
}

// ---- leave, list, media, relay ----

void reg_join_fini(struct reg_join *j)
{
	reg_roster_fini(&j->others);
	reg_roster_fini(&j->waiting);
}

hd_err reg_presence_leave(struct reg_ctx *c, const char *meeting_id, const char *participant_id, const char **why)
{
	char members[REG_KEY_MAX], seen[REG_KEY_MAX];
	struct reg_member m;
	redisReply *rep[5];
	bool resent;
	hd_err err;
	if (!hd_id_valid(meeting_id) || !hd_id_valid(participant_id))
		return HD_OK; // never a member
	reg_key_members(members, meeting_id);
	reg_key_seen(seen, meeting_id);
	const char *hget[] = {"HGET", members, participant_id};
	const char *hdel[] = {"HDEL", members, participant_id};
	const char *zrem[] = {"ZREM", seen, participant_id};
	const struct hd_redis_cmd cmds[] = {
		{1, multi_argv, NULL}, {3, hget, NULL}, {3, hdel, NULL}, {3, zrem, NULL}, {1, exec_argv, NULL}};
	if ((err = hd_redis_pipeline(c->redis, cmds, 5, rep, &resent)) != HD_OK)
		return reg_redis_failed(err, why);
	const redisReply *ex = rep[4];
	// A sweeper racing us removes both or neither: whoever removed the
	// member tells the others. A batch sent again after a lost reply cannot
	// tell: its unseen first run may have been the removal, and then nobody
	// else would ever say so. The member is gone either way, so it is said
	// here: a LEFT for someone already gone is a no-op for gateways and
	// browsers, a missing one leaves a ghost tile.
	bool removed = ex->type == REDIS_REPLY_ARRAY && ex->elements == 3 &&
		       ex->element[1]->type == REDIS_REPLY_INTEGER && ex->element[1]->integer == 1;
	bool known = removed && ex->element[0]->type == REDIS_REPLY_STRING &&
		     reg_member_unpack(ex->element[0]->str, ex->element[0]->len, &m);
	for (int i = 0; i < 5; i++)
		freeReplyObject(rep[i]);
	if (removed || resent) {
		// Nobody but hosts saw a waiting member: its leave changes the
		// waiting room, not the call.
		if (!known || !reg_member_waiting(&m))
			reg_event_left(c->pub, meeting_id, participant_id, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_LEFT);
		if (!known || reg_member_waiting(&m) || reg_member_host(&m))
			reg_publish_waiting(c, meeting_id);
		reg_watch_end_if_empty(c, meeting_id); // the last one out closes the shared player
		reg_mode_update_logged(c, meeting_id, hd_now_ms(), NULL);
		HD_DEBUG("%s left meeting %s%s", participant_id, meeting_id, removed ? "" : " (after a lost reply)");
	}
	return HD_OK;
}

hd_err reg_presence_list(struct reg_ctx *c, const char *meeting_id, struct reg_roster *out, const char **why)
{
	struct hd_meeting m;
	struct reg_room room;
	hd_err err;
	out->members = NULL;
	out->n = 0;
	if ((err = reg_meeting_get(c->store, meeting_id, &m, why)) != HD_OK)
		return err;
	if ((err = reg_room_read(c, meeting_id, &room, why)) != HD_OK)
		return err;
	*out = room.admitted; // waiting members are in no roster
	room.admitted = (struct reg_roster){0};
	reg_room_fini(&room);
	return HD_OK;
}

// media_fn sets an admitted member's media state.
static enum reg_modify_outcome media_fn(struct reg_member *m, void *arg, hd_err *err, const char **why)
{
	if (reg_member_waiting(m)) {
		*why = "waiting for a host to let you in";
		*err = HD_EFORBIDDEN;
		return REG_MODIFY_FAIL;
	}
	reg_member_set_media(m, arg);
	return REG_MODIFY_WRITE;
}

hd_err reg_presence_update_media(struct reg_ctx *c, const char *meeting_id, const char *participant_id,
				 const Huddle__V1__MediaState *media, int64_t now_ms, struct reg_member *out,
				 const char **why)
{
	// Written back only while the record is as read: a leave, a sweep or a
	// host's change in between is not undone.
	struct reg_modify_opts opts = {.touch_ms = now_ms};
	hd_err err = reg_member_modify(c, meeting_id, participant_id, media_fn, (void *)media, &opts, out, NULL, why);
	if (err == HD_OK)
		reg_member_publish(c, meeting_id, out, false);
	return err;
}

hd_err reg_presence_relay(struct reg_ctx *c, const Huddle__V1__RelaySignalRequest *req, const char **why)
{
	char members[REG_KEY_MAX];
	struct reg_member from, to;
	redisReply *rep;
	hd_err err;
	if (req->signal == NULL || req->signal->kind_case == HUDDLE__V1__SIGNAL__KIND__NOT_SET) {
		*why = "signal needs a description or a candidate";
		return HD_EBADREQUEST;
	}
	*why = "sender is not in this meeting";
	if (!hd_id_valid(req->meeting_id) || !hd_id_valid(req->from))
		return HD_EUNKNOWNPARTICIPANT;
	if (!hd_id_valid(req->to)) {
		*why = "recipient is not in this meeting";
		return HD_EUNKNOWNPARTICIPANT;
	}
	reg_key_members(members, req->meeting_id);
	const char *hmget[] = {"HMGET", members, req->from, req->to};
	if ((err = hd_redis_command(c->redis, &rep, 4, hmget, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	bool ok = rep->type == REDIS_REPLY_ARRAY && rep->elements == 2;
	bool from_ok = ok && rep->element[0]->type == REDIS_REPLY_STRING &&
		       reg_member_unpack(rep->element[0]->str, rep->element[0]->len, &from);
	bool to_ok = ok && rep->element[1]->type == REDIS_REPLY_STRING &&
		     reg_member_unpack(rep->element[1]->str, rep->element[1]->len, &to);
	freeReplyObject(rep);
	if (!from_ok)
		return HD_EUNKNOWNPARTICIPANT;
	if (reg_member_waiting(&from)) {
		*why = "waiting for a host to let you in";
		return HD_EFORBIDDEN;
	}
	// A waiting member is in no call: nobody may signal it.
	if (!to_ok || reg_member_waiting(&to)) {
		*why = "recipient is not in this meeting";
		return HD_EUNKNOWNPARTICIPANT;
	}
	reg_event_signal(c->pub, req->meeting_id, req->from, req->to, req->signal);
	return HD_OK;
}

// ---- heartbeat ----

// hb_ref is one heartbeat entry's keys and commands.
struct hb_ref {
	char members[REG_KEY_MAX], seen[REG_KEY_MAX];
	const char *hexists[3];
	const char *zadd[5];
};

hd_err reg_presence_heartbeat(struct reg_ctx *c, Huddle__V1__PresenceRef *const *refs, size_t n, int64_t now_ms,
			      bool *gone, const char **why)
{
	char now[REG_MS_MAX];
	struct hb_ref *hb = NULL;
	struct hd_redis_cmd *cmds = NULL;
	redisReply **rep = NULL;
	const char **active = NULL;
	size_t ncmds = 0, nactive = 0;
	hd_err err = HD_ENOMEM;
	if (n > REG_HEARTBEAT_MAX) {
		*why = "more than 10000 presence refs in one heartbeat";
		return HD_ETOOLARGE;
	}
	if (n == 0)
		return HD_OK;
	reg_ms_string(now, now_ms);
	// Per ref: HEXISTS (is it a member?) and ZADD XX (refresh, never
	// add: a member removed meanwhile must not come back); then one ZADD
	// for the meetings. One round trip for the whole batch.
	if ((hb = calloc(n, sizeof(*hb))) == NULL || (cmds = calloc(2 * n + 1, sizeof(*cmds))) == NULL ||
	    (rep = calloc(2 * n + 1, sizeof(*rep))) == NULL || (active = calloc(2 * n + 2, sizeof(*active))) == NULL)
		goto fail;
	active[nactive++] = "ZADD";
	active[nactive++] = active_key;
	for (size_t i = 0; i < n; i++) {
		const Huddle__V1__PresenceRef *r = refs[i];
		struct hb_ref *h = &hb[i];
		gone[i] = true;
		if (!hd_id_valid(r->meeting_id) || !hd_id_valid(r->participant_id))
			continue;
		reg_key_members(h->members, r->meeting_id);
		reg_key_seen(h->seen, r->meeting_id);
		h->hexists[0] = "HEXISTS";
		h->hexists[1] = h->members;
		h->hexists[2] = r->participant_id;
		h->zadd[0] = "ZADD";
		h->zadd[1] = h->seen;
		h->zadd[2] = "XX";
		h->zadd[3] = now;
		h->zadd[4] = r->participant_id;
		cmds[ncmds++] = (struct hd_redis_cmd){3, h->hexists, NULL};
		cmds[ncmds++] = (struct hd_redis_cmd){5, h->zadd, NULL};
		// Gateways send a meeting's refs together more often than not.
		if (nactive == 2 || strcmp(active[nactive - 1], r->meeting_id) != 0) {
			active[nactive++] = now;
			active[nactive++] = r->meeting_id;
		}
	}
	if (nactive > 2)
		cmds[ncmds++] = (struct hd_redis_cmd){(int)nactive, active, NULL};
	if ((err = hd_redis_pipeline(c->redis, cmds, ncmds, rep, NULL)) != HD_OK)
		goto fail;
	for (size_t i = 0, k = 0; i < n; i++) {
		if (hb[i].hexists[0] == NULL)
			continue; // malformed ref: gone
		gone[i] = !(rep[k]->type == REDIS_REPLY_INTEGER && rep[k]->integer == 1);
		k += 2;
	}
	for (size_t k = 0; k < ncmds; k++)
		freeReplyObject(rep[k]);
	free(active);
	free(rep);
	free(cmds);
	free(hb);
	return HD_OK;

fail:
	reg_redis_failed(err, why);
	free(active);
	free(rep);
	free(cmds);
	free(hb);
	return err;
}

// ---- sweeper ----

// string_pairs tells whether r is an array of (string, string) pairs, as
// ZRANGE ... WITHSCORES answers.
static bool string_pairs(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return false;
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

// sweep_meeting is one active meeting during a sweep.
struct sweep_meeting {
	char id[HD_ID_LEN + 1];
	char members[REG_KEY_MAX], seen[REG_KEY_MAX];
	int64_t last_active_ms;
	const char *stale_argv[8];
	redisReply *stale; // ZRANGEBYSCORE ... WITHSCORES: id, last seen, ...
	bool idle;         // no activity since the cutoff: may leave the active set
};

// sweep_expire removes the stale members of a page of meetings (MULTI HGET
// ZREM HDEL EXEC each: the one whose ZREM removed it publishes), counts what
// is left of the idle meetings, and drops those left empty from the active
// set. Returns the number of meetings dropped in *dropped.
static hd_err sweep_expire(struct reg_ctx *c, struct sweep_meeting *m, size_t nm, int64_t now_ms, const char *cutoff,
			   size_t *expired, size_t *dropped)
{
	size_t nstale = 0, nidle = 0, ncmds = 0, s = 0;
	struct hd_redis_cmd *cmds = NULL;
	const char **argv = NULL;
	redisReply **rep = NULL;
	size_t *idle_at = NULL, *exec_at = NULL;
	bool resent;
	hd_err err = HD_ENOMEM;
	*dropped = 0;
	for (size_t i = 0; i < nm; i++) {
		nstale += m[i].stale->elements / 2;
		nidle += m[i].idle;
	}
	if (nstale + nidle == 0)
		return HD_OK;
	if ((cmds = calloc(5 * nstale + nidle, sizeof(*cmds))) == NULL ||
	    (argv = calloc(9 * nstale + 2 * nidle, sizeof(*argv))) == NULL ||
	    (rep = calloc(5 * nstale + nidle, sizeof(*rep))) == NULL ||
	    (idle_at = calloc(nm, sizeof(*idle_at))) == NULL ||
	    (exec_at = calloc(nstale > 0 ? nstale : 1, sizeof(*exec_at))) == NULL)
		goto out;
	const char **a = argv;
	for (size_t i = 0; i < nm; i++) {
		for (size_t e = 0; e + 1 < m[i].stale->elements; e += 2) {
			const char *pid = m[i].stale->element[e]->str;
			a[0] = "HGET", a[1] = m[i].members, a[2] = pid;
			a[3] = "ZREM", a[4] = m[i].seen, a[5] = pid;
			a[6] = "HDEL", a[7] = m[i].members, a[8] = pid;
			cmds[ncmds++] = (struct hd_redis_cmd){1, multi_argv, NULL};
			cmds[ncmds++] = (struct hd_redis_cmd){3, a, NULL};
			cmds[ncmds++] = (struct hd_redis_cmd){3, a + 3, NULL};
			cmds[ncmds++] = (struct hd_redis_cmd){3, a + 6, NULL};
			exec_at[s++] = ncmds;
			cmds[ncmds++] = (struct hd_redis_cmd){1, exec_argv, NULL};
			a += 9;
		}
	}
	for (size_t i = 0; i < nm; i++) {
		if (!m[i].idle)
			continue;
		a[0] = "ZCARD", a[1] = m[i].seen;
		idle_at[i] = ncmds;
		cmds[ncmds++] = (struct hd_redis_cmd){2, a, NULL};
		a += 2;
	}
	if ((err = hd_redis_pipeline(c->redis, cmds, ncmds, rep, &resent)) != HD_OK)
		goto out;
	// Normally the EXEC that removed a member publishes, so replicas never
	// publish twice. A batch sent again after a lost reply answers 0 for
	// what its unseen first run removed, and no other sweeper would ever
	// see that member again: then every stale member of the batch is
	// published, gone as the second run left it. That can repeat a
	// TIMED_OUT (or follow a LEFT) only when a leave or another replica
	// removed the same member in that round trip, and a repeat is a no-op
	// for gateways and browsers, where a missing one is a ghost tile.
	s = 0;
	for (size_t i = 0; i < nm; i++) {
		bool waiting_changed = false;
		for (size_t e = 0; e + 1 < m[i].stale->elements; e += 2) {
			const redisReply *ex = rep[exec_at[s++]];
			struct reg_member gone;
			bool removed = ex->type == REDIS_REPLY_ARRAY && ex->elements == 3 &&
				       ex->element[1]->type == REDIS_REPLY_INTEGER && ex->element[1]->integer == 1;
			if (!removed && !resent)
				continue; // another sweeper (or a leave) got there first
			bool known = removed && ex->element[0]->type == REDIS_REPLY_STRING &&
				     reg_member_unpack(ex->element[0]->str, ex->element[0]->len, &gone);
			const char *pid = m[i].stale->element[e]->str;
			int64_t last = strtoll(m[i].stale->element[e + 1]->str, NULL, 10);
			HD_INFO("participant %s of meeting %s timed out (last seen %" PRId64 " ms ago)", pid, m[i].id,
				now_ms - last);
			// A waiting member was in no call: only the waiting room changes.
			if (!known || !reg_member_waiting(&gone))
				reg_event_left(c->pub, m[i].id, pid, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_TIMED_OUT);
			if (!known || reg_member_waiting(&gone) || reg_member_host(&gone))
				waiting_changed = true;
			(*expired)++;
		}
		if (waiting_changed)
			reg_publish_waiting(c, m[i].id);
		if (m[i].stale->elements > 0) {
			reg_watch_end_if_empty(c, m[i].id); // the last one out closes the shared player
			reg_mode_update_logged(c, m[i].id, now_ms, NULL);
		}
	}
	// Empty and idle meetings leave the active set, unless something
	// touched them in between (checked in Redis, see deactivate_if_idle).
	for (size_t i = 0; i < nm; i++) {
		if (!m[i].idle || rep[idle_at[i]]->type != REDIS_REPLY_INTEGER || rep[idle_at[i]]->integer != 0)
			continue;
		redisReply *r;
		const char *eval[] = {"EVAL", deactivate_if_idle, "1", active_key, m[i].id, cutoff};
		if ((err = hd_redis_command(c->redis, &r, 6, eval, NULL)) != HD_OK)
			goto out;
		if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
			(*dropped)++;
			HD_DEBUG("meeting %s is empty; no longer swept", m[i].id);
		}
		freeReplyObject(r);
	}
	err = HD_OK;
out:
	for (size_t i = 0; rep != NULL && i < ncmds; i++)
		if (rep[i] != NULL)
			freeReplyObject(rep[i]);
	free(exec_at);
	free(idle_at);
	free(rep);
	free(argv);
	free(cmds);
	return err;
}

// sweep_page sweeps the active meetings from index offset on; *n is how many
// it read, *dropped how many left the active set. With expire false it only
// moves back the SFU meetings that are due (the hold after an outage, when
// nobody may be expired but the media mode policy still runs).
static hd_err sweep_page(struct reg_ctx *c, int64_t now_ms, long offset, bool expire, size_t *expired, size_t *n,
			 size_t *dropped)
{
	char start[REG_MS_MAX], stop[REG_MS_MAX], cutoff[REG_MS_MAX], cutoff_excl[REG_MS_MAX + 1], batch[REG_MS_MAX];
	int64_t cutoff_ms = now_ms - c->presence_ttl_ms;
	struct sweep_meeting *m = NULL;
	struct hd_redis_cmd cmds[SWEEP_PAGE];
	redisReply *page = NULL, *rep[SWEEP_PAGE];
	size_t nm = 0;
	hd_err err;
	*n = 0;
	*dropped = 0;
	reg_ms_string(start, offset);
	reg_ms_string(stop, offset + SWEEP_PAGE - 1);
	reg_ms_string(cutoff, cutoff_ms);
	snprintf(cutoff_excl, sizeof(cutoff_excl), "(%s", cutoff);
	reg_ms_string(batch, SWEEP_BATCH);
	const char *zrange[] = {"ZRANGE", active_key, start, stop, "WITHSCORES"};
	if ((err = hd_redis_command(c->redis, &page, 5, zrange, NULL)) != HD_OK)
		return err;
	if (!string_pairs(page)) {
		err = HD_EINTERNAL;
		goto out;
	}
	*n = page->elements / 2;
	if (*n == 0 || (m = calloc(*n, sizeof(*m))) == NULL) {
		err = *n == 0 ? HD_OK : HD_ENOMEM;
		goto out;
	}
	// Stale members of each meeting, oldest first, at most SWEEP_BATCH.
	for (size_t i = 0; i < *n; i++) {
		const char *id = page->element[2 * i]->str;
		if (!hd_id_valid(id)) {
			HD_WARN("active meeting set holds a malformed id; ignored");
			continue;
		}
		struct sweep_meeting *s = &m[nm];
		snprintf(s->id, sizeof(s->id), "%s", id);
		reg_key_members(s->members, id);
		reg_key_seen(s->seen, id);
		s->last_active_ms = strtoll(page->element[2 * i + 1]->str, NULL, 10);
		s->idle = s->last_active_ms < cutoff_ms;
		const char *argv[] = {"ZRANGEBYSCORE", s->seen, "-inf", cutoff_excl, "WITHSCORES", "LIMIT", "0", batch};
		memcpy(s->stale_argv, argv, sizeof(argv));
		cmds[nm++] = (struct hd_redis_cmd){8, s->stale_argv, NULL};
	}
	if ((err = hd_redis_pipeline(c->redis, cmds, nm, rep, NULL)) != HD_OK)
		goto out;
	for (size_t i = 0; i < nm; i++) {
		m[i].stale = rep[i];
		if (!string_pairs(rep[i]))
			err = HD_EINTERNAL;
	}
	if (err == HD_OK && expire)
		err = sweep_expire(c, m, nm, now_ms, cutoff, expired, dropped);
	// SFU meetings whose move back to MESH is due (mode.h).
	if (err == HD_OK) {
		const char **ids = calloc(nm > 0 ? nm : 1, sizeof(*ids));
		if (ids == NULL) {
			err = HD_ENOMEM;
		} else {
			for (size_t i = 0; i < nm; i++)
				ids[i] = m[i].id;
			err = reg_mode_sweep(c, ids, nm, now_ms);
			free(ids);
		}
	}
	for (size_t i = 0; i < nm; i++)
		freeReplyObject(rep[i]);
out:
	free(m);
	freeReplyObject(page);
	return err;
}

// sweep_all runs sweep_page over every page of active meetings.
static hd_err sweep_all(struct reg_ctx *c, int64_t now_ms, bool expire, size_t *expired)
{
	long offset = 0;
	*expired = 0;
	for (int page = 0; page < SWEEP_MAX_PAGES; page++) {
		size_t n, dropped;
		hd_err err = sweep_page(c, now_ms, offset, expire, expired, &n, &dropped);
		if (err != HD_OK)
			return err;
		if (n < SWEEP_PAGE)
			break;
		// Dropped meetings shifted the rest down by as many places.
		offset += (long)(n - dropped);
	}
	return HD_OK;
}

hd_err reg_presence_sweep(struct reg_ctx *c, int64_t now_ms, size_t *expired)
{
	return sweep_all(c, now_ms, true, expired);
}

hd_err reg_presence_sweep_held(struct reg_ctx *c, struct reg_sweep_hold *h, int64_t now_ms, size_t *expired)
{
	*expired = 0;
	if (h->down) {
		if (hd_redis_ping(c->redis) != HD_OK)
			return HD_EUNAVAILABLE;
		h->down = false;
		h->until_ms = now_ms + c->presence_ttl_ms;
		HD_INFO("Redis answers: nobody is expired for %" PRId64 " ms (the heartbeats it could not take)",
			c->presence_ttl_ms);
	}
	hd_err err = sweep_all(c, now_ms, now_ms >= h->until_ms, expired);
	if (err == HD_EUNAVAILABLE)
		h->down = true;
	return err;
}
