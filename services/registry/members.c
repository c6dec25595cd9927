// members.c: a meeting's member records in Redis and the room they make.
#include "registry/members.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "registry/events.h"

// cas_member changes one member record only if it still holds the bytes the
// caller read (a record is packed protobuf, which a script cannot edit, so
// the change is made in C and applied here as a compare-and-set).
// KEYS: members, seen, record set (removed or blocked; may be any key of
// the meeting when unused).
// ARGV: participant, old record, new record ("" deletes), oldest last-seen
// ("" any), touch time ("" none), client key hash to record ("" none),
// "blocked" or "removed", removed-at time, trim-before time, key TTL (s).
// Returns 1 done, 0 the record changed (read it again), -1 not seen since
// the oldest last-seen.
static const char cas_member[] = "if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end\n"
				 "if ARGV[4] ~= '' then\n"
				 "  local s = redis.call('ZSCORE', KEYS[2], ARGV[1])\n"
				 "  if not s or tonumber(s) < tonumber(ARGV[4]) then return -1 end\n"
				 "end\n"
				 "if ARGV[3] == '' then\n"
				 "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
				 "  redis.call('ZREM', KEYS[2], ARGV[1])\n"
				 "  if ARGV[6] ~= '' then\n"
				 "    if ARGV[7] == 'blocked' then\n"
				 "      redis.call('SADD', KEYS[3], ARGV[6])\n"
				 "    else\n"
				 "      redis.call('ZADD', KEYS[3], ARGV[8], ARGV[6])\n"
				 "      redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[9])\n"
				 "      redis.call('EXPIRE', KEYS[3], ARGV[10])\n"
				 "    end\n"
				 "  end\n"
				 "  return 1\n"
				 "end\n"
				 "redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])\n"
				 "if ARGV[5] ~= '' then redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1]) end\n"
				 "return 1\n";

void reg_key_members(char out[REG_KEY_MAX], const char *meeting_id)
{
	snprintf(out, REG_KEY_MAX, "huddle:{%s}:members", meeting_id);
}

void reg_key_seen(char out[REG_KEY_MAX], const char *meeting_id)
{
	snprintf(out, REG_KEY_MAX, "huddle:{%s}:seen", meeting_id);
}

void reg_key_removed(char out[REG_KEY_MAX], const char *meeting_id)
{
	snprintf(out, REG_KEY_MAX, "huddle:{%s}:removed", meeting_id);
}

void reg_key_blocked(char out[REG_KEY_MAX], const char *meeting_id)
{
	snprintf(out, REG_KEY_MAX, "huddle:{%s}:blocked", meeting_id);
}

void reg_ms_string(char out[REG_MS_MAX], int64_t ms)
{
	snprintf(out, REG_MS_MAX, "%" PRId64, ms);
}

hd_err reg_redis_failed(hd_err err, const char **why)
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

bool reg_member_waiting(const struct reg_member *m)
{
	return m->admission == HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING;
}

bool reg_member_host(const struct reg_member *m)
{
	return m->role == HUDDLE__V1__ROLE__ROLE_HOST;
}

// ---- records ----

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
	p->role = (Huddle__V1__Role)m->role;
	p->hand_raised_at_ms = m->hand_raised_at_ms;
}

void reg_member_to_waiting_pb(const struct reg_member *m, Huddle__V1__WaitingParticipant *w)
{
	huddle__v1__waiting_participant__init(w);
	w->id = (char *)m->id;
	w->display_name = (char *)m->display_name;
	w->waiting_since_ms = m->waiting_since_ms;
}

// reg_member_set_media copies every field of MediaState, so a field added to
// it travels through Redis and the events.
void reg_member_set_media(struct reg_member *m, const Huddle__V1__MediaState *media)
{
	m->audio_muted = media != NULL && media->audio_muted;
	m->video_muted = media != NULL && media->video_muted;
	m->screen_sharing = media != NULL && media->screen_sharing;
	m->recording = media != NULL && media->recording;
}

size_t reg_member_pack(const struct reg_member *m, uint8_t buf[REG_MEMBER_PACKED_MAX])
{
	Huddle__V1__MediaState media;
	Huddle__V1__Participant p;
	Huddle__V1__MemberRecord r = HUDDLE__V1__MEMBER_RECORD__INIT;
	reg_member_to_pb(m, &p, &media);
	r.participant = &p;
	r.resume_token = (char *)m->resume_token;
	r.gateway_id = (char *)m->gateway_id;
	r.admission = (Huddle__V1__AdmissionState)m->admission;
	r.waiting_since_ms = m->waiting_since_ms;
	r.client_key_hash = (char *)m->client_key_hash;
	if (huddle__v1__member_record__get_packed_size(&r) > REG_MEMBER_PACKED_MAX)
		return 0;
	return huddle__v1__member_record__pack(&r, buf);
}

bool reg_member_unpack(const char *data, size_t len, struct reg_member *m)
{
	Huddle__V1__MemberRecord *r = huddle__v1__member_record__unpack(NULL, len, (const uint8_t *)data);
	bool ok = r != NULL && r->participant != NULL && hd_id_valid(r->participant->id) &&
		  strlen(r->participant->display_name) <= REG_DISPLAY_NAME_MAX &&
		  strlen(r->resume_token) <= HD_ID_LEN && strlen(r->gateway_id) <= REG_GATEWAY_ID_MAX &&
		  strlen(r->client_key_hash) <= HD_KEY_HASH_LEN;
	if (ok) {
		memset(m, 0, sizeof(*m));
		strcpy(m->id, r->participant->id);
		strcpy(m->display_name, r->participant->display_name);
		strcpy(m->resume_token, r->resume_token);
		strcpy(m->gateway_id, r->gateway_id);
		strcpy(m->client_key_hash, r->client_key_hash);
		m->joined_at_ms = r->participant->joined_at_ms;
		m->hand_raised_at_ms = r->participant->hand_raised_at_ms;
		m->role = r->participant->role == HUDDLE__V1__ROLE__ROLE_HOST ? HUDDLE__V1__ROLE__ROLE_HOST
									      : HUDDLE__V1__ROLE__ROLE_GUEST;
		m->admission = r->admission == HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING
				       ? HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_WAITING
				       : HUDDLE__V1__ADMISSION_STATE__ADMISSION_STATE_ADMITTED;
		m->waiting_since_ms = r->waiting_since_ms;
		reg_member_set_media(m, r->participant->media);
	}
	if (r != NULL)
		huddle__v1__member_record__free_unpacked(r, NULL);
	return ok;
}

void reg_member_publish(struct reg_ctx *c, const char *meeting_id, const struct reg_member *m, bool joined)
{
	Huddle__V1__Participant p;
	Huddle__V1__MediaState media;
	reg_member_to_pb(m, &p, &media);
	if (joined)
		reg_event_joined(c->pub, meeting_id, &p);
	else
		reg_event_updated(c->pub, meeting_id, &p);
}

// ---- rosters and rooms ----

void reg_roster_fini(struct reg_roster *r)
{
	free(r->members);
	r->members = NULL;
	r->n = 0;
}

void reg_room_fini(struct reg_room *r)
{
	reg_roster_fini(&r->admitted);
	reg_roster_fini(&r->waiting);
	r->host_present = false;
}

static int admitted_cmp(const void *a, const void *b)
{
	const struct reg_member *x = a, *y = b;
	if (x->joined_at_ms != y->joined_at_ms)
		return x->joined_at_ms < y->joined_at_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int waiting_cmp(const void *a, const void *b)
{
	const struct reg_member *x = a, *y = b;
	if (x->waiting_since_ms != y->waiting_since_ms)
		return x->waiting_since_ms < y->waiting_since_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

hd_err reg_room_from_hash(const redisReply *rep, const char *except, struct reg_room *out)
{
	memset(out, 0, sizeof(*out));
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0)
		return HD_EINTERNAL;
	if (rep->elements == 0)
		return HD_OK;
	size_t n = rep->elements / 2;
	if ((out->admitted.members = calloc(n, sizeof(struct reg_member))) == NULL ||
	    (out->waiting.members = calloc(n, sizeof(struct reg_member))) == NULL) {
		reg_room_fini(out);
		return HD_ENOMEM;
	}
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];
		struct reg_member m;
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (!reg_member_unpack(v->str, v->len, &m)) {
			HD_WARN("presence record of %s does not decode; left out of the roster", k->str);
			continue;
		}
		if (!reg_member_waiting(&m) && reg_member_host(&m))
			out->host_present = true;
		if (except != NULL && strcmp(m.id, except) == 0)
			continue;
		struct reg_roster *r = reg_member_waiting(&m) ? &out->waiting : &out->admitted;
		r->members[r->n++] = m;
	}
	qsort(out->admitted.members, out->admitted.n, sizeof(struct reg_member), admitted_cmp);
	qsort(out->waiting.members, out->waiting.n, sizeof(struct reg_member), waiting_cmp);
	return HD_OK;
}

hd_err reg_room_read(struct reg_ctx *c, const char *meeting_id, struct reg_room *out, const char **why)
{
	char members[REG_KEY_MAX];
	redisReply *rep;
	hd_err err;
	memset(out, 0, sizeof(*out));
	if (!hd_id_valid(meeting_id))
		return HD_OK; // nobody is in a meeting that cannot exist
	reg_key_members(members, meeting_id);
	const char *hgetall[] = {"HGETALL", members};
	if ((err = hd_redis_command(c->redis, &rep, 2, hgetall, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	if ((err = reg_room_from_hash(rep, NULL, out)) != HD_OK)
		reg_redis_failed(err, why);
	freeReplyObject(rep);
	return err;
}

void reg_room_publish_waiting(struct reg_ctx *c, const char *meeting_id, const struct reg_room *room)
{
	size_t n = room->waiting.n;
	Huddle__V1__WaitingParticipant *w = calloc(n > 0 ? n : 1, sizeof(*w));
	Huddle__V1__WaitingParticipant **ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
	if (w == NULL || ptrs == NULL) {
		HD_WARN("waiting room of meeting %s not published: out of memory", meeting_id);
	} else {
		for (size_t i = 0; i < n; i++) {
			reg_member_to_waiting_pb(&room->waiting.members[i], &w[i]);
			ptrs[i] = &w[i];
		}
		reg_event_waiting(c->pub, meeting_id, ptrs, n, room->host_present);
	}
	free(ptrs);
	free(w);
}

void reg_publish_waiting(struct reg_ctx *c, const char *meeting_id)
{
	struct reg_room room;
	const char *why = NULL;
	hd_err err = reg_room_read(c, meeting_id, &room, &why);
	if (err != HD_OK) {
		HD_WARN("waiting room of meeting %s not published: %s", meeting_id, why);
		return;
	}
	reg_room_publish_waiting(c, meeting_id, &room);
	reg_room_fini(&room);
}

// ---- compare-and-set ----

hd_err reg_member_modify(struct reg_ctx *c, const char *meeting_id, const char *participant_id, reg_modify_fn fn,
			 void *arg, const struct reg_modify_opts *opts, struct reg_member *out,
			 enum reg_modify_outcome *outcome, const char **why)
{
	static const struct reg_modify_opts none = {0};
	char members[REG_KEY_MAX], seen[REG_KEY_MAX], oldest[REG_MS_MAX] = "", touch[REG_MS_MAX] = "";
	char now[REG_MS_MAX] = "0", trim[REG_MS_MAX] = "0", ttl[REG_MS_MAX];
	uint8_t rec[REG_MEMBER_PACKED_MAX];
	enum reg_modify_outcome o = REG_MODIFY_SKIP;
	hd_err err;
	if (opts == NULL)
		opts = &none;
	if (outcome == NULL)
		outcome = &o;
	*why = "participant is not in this meeting";
	if (!hd_id_valid(meeting_id) || !hd_id_valid(participant_id))
		return HD_EUNKNOWNPARTICIPANT;
	reg_key_members(members, meeting_id);
	reg_key_seen(seen, meeting_id);
	if (opts->oldest_seen_ms > 0)
		reg_ms_string(oldest, opts->oldest_seen_ms);
	if (opts->touch_ms > 0)
		reg_ms_string(touch, opts->touch_ms);
	reg_ms_string(now, opts->now_ms);
	reg_ms_string(trim, opts->now_ms - (int64_t)REG_REMOVED_TTL_S * 1000);
	reg_ms_string(ttl, REG_REMOVED_TTL_S);
	for (int attempt = 0; attempt < REG_MEMBER_CAS_RETRIES; attempt++) {
		redisReply *rep, *old;
		const char *hget[] = {"HGET", members, participant_id};
		if ((err = hd_redis_command(c->redis, &old, 3, hget, NULL)) != HD_OK)
			return reg_redis_failed(err, why);
		if (old->type != REDIS_REPLY_STRING) {
			freeReplyObject(old);
			*why = "participant is not in this meeting";
			return HD_EUNKNOWNPARTICIPANT;
		}
		if (!reg_member_unpack(old->str, old->len, out)) {
			HD_WARN("presence record of %s in %s does not decode", participant_id, meeting_id);
			freeReplyObject(old);
			*why = "presence record does not decode";
			return HD_EINTERNAL;
		}
		*outcome = fn(out, arg, &err, why);
		if (*outcome == REG_MODIFY_SKIP || *outcome == REG_MODIFY_FAIL) {
			freeReplyObject(old);
			return *outcome == REG_MODIFY_SKIP ? HD_OK : err;
		}
		size_t rec_len = 0;
		if (*outcome == REG_MODIFY_WRITE && (rec_len = reg_member_pack(out, rec)) == 0) {
			freeReplyObject(old);
			*why = "presence record too large";
			return HD_EINTERNAL;
		}
		bool record =
			*outcome == REG_MODIFY_DELETE && opts->record_key != NULL && out->client_key_hash[0] != '\0';
		const char *eval[] = {"EVAL",
				      cas_member,
				      "3",
				      members,
				      seen,
				      opts->record_key != NULL ? opts->record_key : members,
				      participant_id,
				      old->str,
				      (const char *)rec,
				      oldest,
				      touch,
				      record ? out->client_key_hash : "",
				      opts->record_blocked ? "blocked" : "removed",
				      now,
				      trim,
				      ttl};
		size_t eval_len[16];
		for (int i = 0; i < 16; i++)
			eval_len[i] = strlen(eval[i]);
		eval_len[7] = old->len;
		eval_len[8] = rec_len;
		err = hd_redis_command(c->redis, &rep, 16, eval, eval_len);
		freeReplyObject(old);
		if (err != HD_OK)
			return reg_redis_failed(err, why);
		long long done = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -2;
		freeReplyObject(rep);
		if (done == 1)
			return HD_OK;
		if (done == -1) {
			*why = "the participant's presence expired";
			return HD_ERESUMEREJECTED;
		}
		if (done != 0) {
			*why = "presence store (Redis) failed";
			return HD_EINTERNAL;
		}
		// Changed in between: read it again and decide anew.
	}
	*why = "the participant's presence record kept changing; try again";
	return HD_EUNAVAILABLE;
}
