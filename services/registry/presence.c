// presence.c: meeting membership in Redis, and the room events about it.
#include "registry/presence.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "registry/events.h"
#include "registry/meetings.h"

#define KEY_MAX 64            // "huddle:{<22-char id>}:members" and friends
#define MS_MAX 24             // an int64 in decimal, with sign and NUL
#define MEMBER_PACKED_MAX 512 // a packed MemberRecord within the field limits
#define SWEEP_PAGE 128        // active meetings read per round trip
#define SWEEP_MAX_PAGES 8192  // bounds one sweep at about a million meetings
#define SWEEP_BATCH 256       // expired members removed per meeting per sweep

static const char active_key[] = "huddle:meetings:active";

// store_if_present writes a member record and refreshes its last-seen time,
// but only while the participant is still present (in the seen set, seen at
// or after ARGV[3]). A check in C followed by a write would race a sweeper
// or a leave and bring back a member nobody would ever expire.
// KEYS: members, seen. ARGV: participant, record, oldest last-seen, now.
static const char store_if_present[] = "local s = redis.call('ZSCORE', KEYS[2], ARGV[1])\n"
				       "if not s or tonumber(s) < tonumber(ARGV[3]) then return 0 end\n"
				       "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
				       "redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])\n"
				       "return 1\n";

// deactivate_if_idle drops a meeting from the active set only if nothing
// touched it since the cutoff: a join racing the sweeper re-scores it first.
// KEYS: active. ARGV: meeting, cutoff.
static const char deactivate_if_idle[] = "local s = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"
					 "if s and tonumber(s) < tonumber(ARGV[2]) then\n"
					 "  return redis.call('ZREM', KEYS[1], ARGV[1])\n"
					 "end\n"
					 "return 0\n";

static const char *multi_argv[] = {"MULTI"};
static const char *exec_argv[] = {"EXEC"};

// ---- keys, records, events ----

static void key_members(char out[KEY_MAX], const char *meeting_id)
{
	snprintf(out, KEY_MAX, "huddle:{%s}:members", meeting_id);
}

static void key_seen(char out[KEY_MAX], const char *meeting_id)
{
	snprintf(out, KEY_MAX, "huddle:{%s}:seen", meeting_id);
}

static void ms_string(char out[MS_MAX], int64_t ms)
{
	snprintf(out, MS_MAX, "%" PRId64, ms);
}

// redis_failed sets *why for a failed Redis call and passes err on.
static hd_err redis_failed(hd_err err, const char **why)
{
	switch (err) {
	case HD_EUNAVAILABLE:
		*why = "presence store (Redis) is unavailable";
		break;
	case HD_ENOMEM:
		*why = "out of memory";
		break;
	default:
		*why = "presence store (Redis) failed";
		err = HD_EINTERNAL;
		break;
	}
	return err;
}

void reg_member_to_pb(const struct reg_member *m, Huddle__V1__Participant *p, Huddle__V1__MediaState *media)
{
	huddle__v1__media_state__init(media);
	media->audio_muted = m->audio_muted;
	media->video_muted = m->video_muted;
	media->screen_sharing = m->screen_sharing;
	media->recording = m->recording;
	huddle__v1__participant__init(p);
	p->id = (char *)m->id;
	p->display_name = (char *)m->display_name;
	p->media = media;
	p->joined_at_ms = m->joined_at_ms;
}

// member_set_media copies media (NULL: all false) into m: every field of
// MediaState, so a field added to it travels through Redis and the events.
static void member_set_media(struct reg_member *m, const Huddle__V1__MediaState *media)
{
	m->audio_muted = media != NULL && media->audio_muted;
	m->video_muted = media != NULL && media->video_muted;
	m->screen_sharing = media != NULL && media->screen_sharing;
	m->recording = media != NULL && media->recording;
}

// member_pack packs m as a MemberRecord into buf; returns the length, or 0
// if it does not fit (cannot happen within the field limits).
static size_t member_pack(const struct reg_member *m, uint8_t buf[MEMBER_PACKED_MAX])
{
	Huddle__V1__MediaState media;
	Huddle__V1__Participant p;
	Huddle__V1__MemberRecord r = HUDDLE__V1__MEMBER_RECORD__INIT;
	reg_member_to_pb(m, &p, &media);
	r.participant = &p;
	r.resume_token = (char *)m->resume_token;
	r.gateway_id = (char *)m->gateway_id;
	if (huddle__v1__member_record__get_packed_size(&r) > MEMBER_PACKED_MAX)
		return 0;
	return huddle__v1__member_record__pack(&r, buf);
}

// member_unpack reads a MemberRecord stored in Redis; false if it does not
// decode or a field is out of its limits.
static bool member_unpack(const char *data, size_t len, struct reg_member *m)
{
	Huddle__V1__MemberRecord *r = huddle__v1__member_record__unpack(NULL, len, (const uint8_t *)data);
	bool ok = r != NULL && r->participant != NULL && hd_id_valid(r->participant->id) &&
		  strlen(r->participant->display_name) <= REG_DISPLAY_NAME_MAX &&
		  strlen(r->resume_token) <= HD_ID_LEN && strlen(r->gateway_id) <= REG_GATEWAY_ID_MAX;
	if (ok) {
		memset(m, 0, sizeof(*m));
		strcpy(m->id, r->participant->id);
		strcpy(m->display_name, r->participant->display_name);
		strcpy(m->resume_token, r->resume_token);
		strcpy(m->gateway_id, r->gateway_id);
		m->joined_at_ms = r->participant->joined_at_ms;
		member_set_media(m, r->participant->media);
	}
	if (r != NULL)
		huddle__v1__member_record__free_unpacked(r, NULL);
	return ok;
}

// publish_member sends participant_joined or participant_updated for m.
static void publish_member(struct reg_ctx *c, const char *meeting_id, const struct reg_member *m, bool joined)
{
	Huddle__V1__Participant p;
	Huddle__V1__MediaState media;
	reg_member_to_pb(m, &p, &media);
	if (joined)
		reg_event_joined(c->pub, meeting_id, &p);
	else
		reg_event_updated(c->pub, meeting_id, &p);
}

// ---- rosters ----

void reg_roster_fini(struct reg_roster *r)
{
	free(r->members);
	r->members = NULL;
	r->n = 0;
}

void reg_join_fini(struct reg_join *j)
{
	reg_roster_fini(&j->others);
}

static int member_cmp(const void *a, const void *b)
{
	const struct reg_member *x = a, *y = b;
	if (x->joined_at_ms != y->joined_at_ms)
		return x->joined_at_ms < y->joined_at_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

// roster_from_hash builds a sorted roster from an HGETALL reply, leaving out
// participant `except` (may be NULL) and records that do not decode.
static hd_err roster_from_hash(const redisReply *rep, const char *except, struct reg_roster *out)
{
	out->members = NULL;
	out->n = 0;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0)
		return HD_EINTERNAL;
	if (rep->elements == 0)
		return HD_OK;
	if ((out->members = calloc(rep->elements / 2, sizeof(*out->members))) == NULL)
		return HD_ENOMEM;
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (except != NULL && strcmp(k->str, except) == 0)
			continue;
		if (!member_unpack(v->str, v->len, &out->members[out->n])) {
			HD_WARN("presence record of %s does not decode; left out of the roster", k->str);
			continue;
		}
		out->n++;
	}
	qsort(out->members, out->n, sizeof(*out->members), member_cmp);
	return HD_OK;
}

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

// join_write stores the joiner (fresh: unconditionally; resume: only while
// still present) and reads the roster, in one round trip.
static hd_err join_write(struct reg_ctx *c, const char *meeting_id, struct reg_join *j, int64_t now_ms,
			 const char **why)
{
	char members[KEY_MAX], seen[KEY_MAX], now[MS_MAX], oldest[MS_MAX];
	uint8_t rec[MEMBER_PACKED_MAX];
	size_t rec_len = member_pack(&j->self, rec);
	redisReply *rep[6];
	hd_err err;
	if (rec_len == 0) {
		*why = "presence record too large";
		return HD_EINTERNAL;
	}
	key_members(members, meeting_id);
	key_seen(seen, meeting_id);
	ms_string(now, now_ms);
	ms_string(oldest, now_ms - c->presence_ttl_ms);

	const char *hset[] = {"HSET", members, j->self.id, (const char *)rec};
	const size_t hset_len[] = {4, strlen(members), strlen(j->self.id), rec_len};
	const char *zadd[] = {"ZADD", seen, now, j->self.id};
	const char *eval[] = {"EVAL", store_if_present, "2", members, seen, j->self.id, (const char *)rec, oldest, now};
	const size_t eval_len[] = {
		4,       strlen(store_if_present), 1,          strlen(members), strlen(seen), strlen(j->self.id),
		rec_len, strlen(oldest),           strlen(now)};
	const char *active[] = {"ZADD", active_key, now, meeting_id};
	const char *hgetall[] = {"HGETALL", members};
	const struct hd_redis_cmd fresh[] = {{1, multi_argv, NULL}, {4, hset, hset_len}, {4, zadd, NULL},
					     {1, exec_argv, NULL},  {4, active, NULL},   {2, hgetall, NULL}};
	const struct hd_redis_cmd resume[] = {{9, eval, eval_len}, {4, active, NULL}, {2, hgetall, NULL}};
	size_t n = j->resumed ? 3 : 6;
	if ((err = hd_redis_pipeline(c->redis, j->resumed ? resume : fresh, n, rep, NULL)) != HD_OK)
		return redis_failed(err, why);
	if (j->resumed && (rep[0]->type != REDIS_REPLY_INTEGER || rep[0]->integer != 1)) {
		*why = "the participant's presence expired";
		err = HD_ERESUMEREJECTED;
	} else if ((err = roster_from_hash(rep[n - 1], j->self.id, &j->others)) != HD_OK) {
		redis_failed(err, why);
	}
	for (size_t i = 0; i < n; i++)
		freeReplyObject(rep[i]);
	return err;
}

// join_resume loads the participant's record and checks the token.
static hd_err join_resume(struct reg_ctx *c, const Huddle__V1__RegistryJoinRequest *req, struct reg_join *j,
			  const char **why)
{
	char members[KEY_MAX];
	redisReply *rep;
	hd_err err;
	*why = "unknown participant or wrong resume token";
	if (!hd_id_valid(req->participant_id) || !hd_id_valid(req->resume_token))
		return HD_ERESUMEREJECTED;
	key_members(members, req->meeting_id);
	const char *hget[] = {"HGET", members, req->participant_id};
	if ((err = hd_redis_command(c->redis, &rep, 3, hget, NULL)) != HD_OK)
		return redis_failed(err, why);
	if (rep->type != REDIS_REPLY_STRING) {
		err = HD_ERESUMEREJECTED; // not (or no longer) a member
	} else if (!member_unpack(rep->str, rep->len, &j->self)) {
		HD_WARN("presence record of %s in %s does not decode", req->participant_id, req->meeting_id);
		*why = "presence record does not decode";
		err = HD_EINTERNAL;
	} else if (strlen(j->self.resume_token) != HD_ID_LEN ||
		   CRYPTO_memcmp(j->self.resume_token, req->resume_token, HD_ID_LEN) != 0) {
		err = HD_ERESUMEREJECTED;
	}
	freeReplyObject(rep);
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
		if ((err = join_resume(c, req, out, why)) != HD_OK)
			return err;
		out->resumed = true;
	} else {
		struct reg_member *m = &out->self;
		if (!display_name_clean(req->display_name, m->display_name)) {
			*why = "display_name must be 1 to 64 bytes of UTF-8";
			return HD_EBADREQUEST;
		}
		if (hd_id_random(m->id) != HD_OK || hd_id_random(m->resume_token) != HD_OK) {
			*why = "no randomness for a participant id";
			return HD_EINTERNAL;
		}
		member_set_media(m, req->media);
		m->joined_at_ms = now_ms;
	}
	snprintf(out->self.gateway_id, sizeof(out->self.gateway_id), "%s", req->gateway_id);
	if ((err = join_write(c, req->meeting_id, out, now_ms, why)) != HD_OK)
		return err;
	if (!out->resumed)
		publish_member(c, req->meeting_id, &out->self, true);
	HD_DEBUG("%s %s meeting %s via %s", out->self.id, out->resumed ? "resumed" : "joined", req->meeting_id,
		 req->gateway_id);
	return HD_OK;
}

// ---- leave, list, media, relay ----

hd_err reg_presence_leave(struct reg_ctx *c, const char *meeting_id, const char *participant_id, const char **why)
{
	char members[KEY_MAX], seen[KEY_MAX];
	redisReply *rep[4];
	bool resent;
	hd_err err;
	if (!hd_id_valid(meeting_id) || !hd_id_valid(participant_id))
		return HD_OK; // never a member
	key_members(members, meeting_id);
	key_seen(seen, meeting_id);
	const char *hdel[] = {"HDEL", members, participant_id};
	const char *zrem[] = {"ZREM", seen, participant_id};
	const struct hd_redis_cmd cmds[] = {
		{1, multi_argv, NULL}, {3, hdel, NULL}, {3, zrem, NULL}, {1, exec_argv, NULL}};
	if ((err = hd_redis_pipeline(c->redis, cmds, 4, rep, &resent)) != HD_OK)
		return redis_failed(err, why);
	const redisReply *ex = rep[3];
	// A sweeper racing us removes both or neither: whoever removed the
	// member tells the others. A batch sent again after a lost reply cannot
	// tell: its unseen first run may have been the removal, and then nobody
	// else would ever say so. The member is gone either way, so it is said
	// here: a LEFT for someone already gone is a no-op for gateways and
	// browsers, a missing one leaves a ghost tile.
	bool removed = ex->type == REDIS_REPLY_ARRAY && ex->elements == 2 &&
		       ex->element[0]->type == REDIS_REPLY_INTEGER && ex->element[0]->integer == 1;
	for (int i = 0; i < 4; i++)
		freeReplyObject(rep[i]);
	if (removed || resent) {
		reg_event_left(c->pub, meeting_id, participant_id, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_LEFT);
		HD_DEBUG("%s left meeting %s%s", participant_id, meeting_id, removed ? "" : " (after a lost reply)");
	}
	return HD_OK;
}

hd_err reg_presence_list(struct reg_ctx *c, const char *meeting_id, struct reg_roster *out, const char **why)
{
	char members[KEY_MAX];
	struct hd_meeting m;
	redisReply *rep;
	hd_err err;
	out->members = NULL;
	out->n = 0;
	if ((err = reg_meeting_get(c->store, meeting_id, &m, why)) != HD_OK)
		return err;
	key_members(members, meeting_id);
	const char *hgetall[] = {"HGETALL", members};
	if ((err = hd_redis_command(c->redis, &rep, 2, hgetall, NULL)) != HD_OK)
		return redis_failed(err, why);
	if ((err = roster_from_hash(rep, NULL, out)) != HD_OK)
		redis_failed(err, why);
	freeReplyObject(rep);
	return err;
}

hd_err reg_presence_update_media(struct reg_ctx *c, const char *meeting_id, const char *participant_id,
				 const Huddle__V1__MediaState *media, int64_t now_ms, struct reg_member *out,
				 const char **why)
{
	char members[KEY_MAX], seen[KEY_MAX], now[MS_MAX];
	uint8_t rec[MEMBER_PACKED_MAX];
	redisReply *rep;
	hd_err err;
	*why = "participant is not in this meeting";
	if (!hd_id_valid(meeting_id) || !hd_id_valid(participant_id))
		return HD_EUNKNOWNPARTICIPANT;
	key_members(members, meeting_id);
	key_seen(seen, meeting_id);
	const char *hget[] = {"HGET", members, participant_id};
	if ((err = hd_redis_command(c->redis, &rep, 3, hget, NULL)) != HD_OK)
		return redis_failed(err, why);
	bool found = rep->type == REDIS_REPLY_STRING && member_unpack(rep->str, rep->len, out);
	freeReplyObject(rep);
	if (!found)
		return HD_EUNKNOWNPARTICIPANT;
	member_set_media(out, media);
	size_t rec_len = member_pack(out, rec);
	if (rec_len == 0) {
		*why = "presence record too large";
		return HD_EINTERNAL;
	}
	// Written back only if still present: a leave or a sweep in between wins.
	ms_string(now, now_ms);
	const char *eval[] = {"EVAL",         store_if_present,  "2", members, seen,
			      participant_id, (const char *)rec, "0", now};
	const size_t eval_len[] = {4,
				   strlen(store_if_present),
				   1,
				   strlen(members),
				   strlen(seen),
				   strlen(participant_id),
				   rec_len,
				   1,
				   strlen(now)};
	if ((err = hd_redis_command(c->redis, &rep, 9, eval, eval_len)) != HD_OK)
		return redis_failed(err, why);
	found = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
	freeReplyObject(rep);
	if (!found)
		return HD_EUNKNOWNPARTICIPANT;
	publish_member(c, meeting_id, out, false);
	return HD_OK;
}

hd_err reg_presence_relay(struct reg_ctx *c, const Huddle__V1__RelaySignalRequest *req, const char **why)
{
	char members[KEY_MAX];
	redisReply *rep[2];
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
	key_members(members, req->meeting_id);
	const char *from[] = {"HEXISTS", members, req->from};
	const char *to[] = {"HEXISTS", members, req->to};
	const struct hd_redis_cmd cmds[] = {{3, from, NULL}, {3, to, NULL}};
	if ((err = hd_redis_pipeline(c->redis, cmds, 2, rep, NULL)) != HD_OK)
		return redis_failed(err, why);
	bool from_ok = rep[0]->type == REDIS_REPLY_INTEGER && rep[0]->integer == 1;
	bool to_ok = rep[1]->type == REDIS_REPLY_INTEGER && rep[1]->integer == 1;
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	if (!from_ok)
		return HD_EUNKNOWNPARTICIPANT;
	if (!to_ok) {
		*why = "recipient is not in this meeting";
		return HD_EUNKNOWNPARTICIPANT;
	}
	reg_event_signal(c->pub, req->meeting_id, req->from, req->to, req->signal);
	return HD_OK;
}

// ---- heartbeat ----

// hb_ref is one heartbeat entry's keys and commands.
struct hb_ref {
	char members[KEY_MAX], seen[KEY_MAX];
	const char *hexists[3];
	const char *zadd[5];
};

hd_err reg_presence_heartbeat(struct reg_ctx *c, Huddle__V1__PresenceRef *const *refs, size_t n, int64_t now_ms,
			      bool *gone, const char **why)
{
	char now[MS_MAX];
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
	ms_string(now, now_ms);
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
		key_members(h->members, r->meeting_id);
		key_seen(h->seen, r->meeting_id);
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
	redis_failed(err, why);
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
	char members[KEY_MAX], seen[KEY_MAX];
	int64_t last_active_ms;
	const char *stale_argv[8];
	redisReply *stale; // ZRANGEBYSCORE ... WITHSCORES: id, last seen, ...
	bool idle;         // no activity since the cutoff: may leave the active set
};

// sweep_expire removes the stale members of a page of meetings (MULTI ZREM
// HDEL EXEC each: the one whose ZREM removed it publishes), counts what is
// left of the idle meetings, and drops those left empty from the active set.
// Returns the number of meetings dropped in *dropped.
static hd_err sweep_expire(struct reg_ctx *c, struct sweep_meeting *m, size_t nm, int64_t now_ms, const char *cutoff,
			   size_t *expired, size_t *dropped)
{
	size_t nstale = 0, nidle = 0, ncmds = 0, k;
	struct hd_redis_cmd *cmds = NULL;
	const char **argv = NULL;
	redisReply **rep = NULL;
	size_t *idle_at = NULL;
	bool resent;
	hd_err err = HD_ENOMEM;
	*dropped = 0;
	for (size_t i = 0; i < nm; i++) {
		nstale += m[i].stale->elements / 2;
		nidle += m[i].idle;
	}
	if (nstale + nidle == 0)
		return HD_OK;
	if ((cmds = calloc(4 * nstale + nidle, sizeof(*cmds))) == NULL ||
	    (argv = calloc(6 * nstale + 2 * nidle, sizeof(*argv))) == NULL ||
	    (rep = calloc(4 * nstale + nidle, sizeof(*rep))) == NULL ||
	    (idle_at = calloc(nm, sizeof(*idle_at))) == NULL)
		goto out;
	const char **a = argv;
	for (size_t i = 0; i < nm; i++) {
		for (size_t e = 0; e + 1 < m[i].stale->elements; e += 2) {
			const char *pid = m[i].stale->element[e]->str;
			a[0] = "ZREM", a[1] = m[i].seen, a[2] = pid;
			a[3] = "HDEL", a[4] = m[i].members, a[5] = pid;
			cmds[ncmds++] = (struct hd_redis_cmd){1, multi_argv, NULL};
			cmds[ncmds++] = (struct hd_redis_cmd){3, a, NULL};
			cmds[ncmds++] = (struct hd_redis_cmd){3, a + 3, NULL};
			cmds[ncmds++] = (struct hd_redis_cmd){1, exec_argv, NULL};
			a += 6;
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
	k = 3;
	for (size_t i = 0; i < nm; i++) {
		for (size_t e = 0; e + 1 < m[i].stale->elements; e += 2, k += 4) {
			const redisReply *ex = rep[k];
			bool removed = ex->type == REDIS_REPLY_ARRAY && ex->elements == 2 &&
				       ex->element[0]->type == REDIS_REPLY_INTEGER && ex->element[0]->integer == 1;
			if (!removed && !resent)
				continue; // another sweeper (or a leave) got there first
			const char *pid = m[i].stale->element[e]->str;
			int64_t last = strtoll(m[i].stale->element[e + 1]->str, NULL, 10);
			HD_INFO("participant %s of meeting %s timed out (last seen %" PRId64 " ms ago)", pid, m[i].id,
				now_ms - last);
			reg_event_left(c->pub, m[i].id, pid, HUDDLE__V1__LEAVE_REASON__LEAVE_REASON_TIMED_OUT);
			(*expired)++;
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
	free(idle_at);
	free(rep);
	free(argv);
	free(cmds);
	return err;
}

// sweep_page sweeps the active meetings from index offset on; *n is how many
// it read, *dropped how many left the active set.
static hd_err sweep_page(struct reg_ctx *c, int64_t now_ms, long offset, size_t *expired, size_t *n, size_t *dropped)
{
	char start[MS_MAX], stop[MS_MAX], cutoff[MS_MAX], cutoff_excl[MS_MAX + 1], batch[MS_MAX];
	int64_t cutoff_ms = now_ms - c->presence_ttl_ms;
	struct sweep_meeting *m = NULL;
	struct hd_redis_cmd cmds[SWEEP_PAGE];
	redisReply *page = NULL, *rep[SWEEP_PAGE];
	size_t nm = 0;
	hd_err err;
	*n = 0;
	*dropped = 0;
	ms_string(start, offset);
	ms_string(stop, offset + SWEEP_PAGE - 1);
	ms_string(cutoff, cutoff_ms);
	snprintf(cutoff_excl, sizeof(cutoff_excl), "(%s", cutoff);
	ms_string(batch, SWEEP_BATCH);
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
		key_members(s->members, id);
		key_seen(s->seen, id);
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
	if (err == HD_OK)
		err = sweep_expire(c, m, nm, now_ms, cutoff, expired, dropped);
	for (size_t i = 0; i < nm; i++)
		freeReplyObject(rep[i]);
out:
	free(m);
	freeReplyObject(page);
	return err;
}

hd_err reg_presence_sweep(struct reg_ctx *c, int64_t now_ms, size_t *expired)
{
	long offset = 0;
	*expired = 0;
	for (int page = 0; page < SWEEP_MAX_PAGES; page++) {
		size_t n, dropped;
		hd_err err = sweep_page(c, now_ms, offset, expired, &n, &dropped);
		if (err != HD_OK)
			return err;
		if (n < SWEEP_PAGE)
			break;
		// Dropped meetings shifted the rest down by as many places.
		offset += (long)(n - dropped);
	}
	return HD_OK;
}
