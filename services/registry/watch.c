// watch.c: a meeting's shared player ("Watch together") in Redis.
#include "registry/watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "registry/events.h"
#include "registry/meetings.h"

#define WATCH_NUM_MAX 32 // a field's number in decimal (int64, or a double with %.17g)

// cas_watch replaces the state only if its seq is still the one the caller
// read (the new state is computed in C from the old one: a position needs
// the old position, rate and time). KEYS: watch. ARGV: expected seq ("0":
// none), then url, playing, position_ms, rate, updated_at_ms, by, by_name,
// seq, action, and the key's TTL in seconds. Returns 1 done, 0 changed
// meanwhile (read it again).
static const char cas_watch[] =
	"local cur = redis.call('HGET', KEYS[1], 'seq') or '0'\n"
	"if cur ~= ARGV[1] then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[1], 'url', ARGV[2], 'playing', ARGV[3], 'position_ms', ARGV[4],\n"
	"  'rate', ARGV[5], 'updated_at_ms', ARGV[6], 'by', ARGV[7], 'by_name', ARGV[8],\n"
	"  'seq', ARGV[9], 'action', ARGV[10])\n"
	"redis.call('EXPIRE', KEYS[1], ARGV[11])\n"
	"return 1\n";

// end_if_empty deletes the state once the members hash is gone.
// KEYS: members, watch.
static const char end_if_empty[] = "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
				   "  return redis.call('DEL', KEYS[2])\n"
				   "end\n"
				   "return 0\n";

static void key_watch(char out[REG_KEY_MAX], const char *meeting_id)
{
	snprintf(out, REG_KEY_MAX, "huddle:{%s}:watch", meeting_id);
}

bool reg_watch_url_valid(const char *url)
{
	size_t n = strlen(url), scheme;
	if (n == 0 || n > REG_WATCH_URL_MAX || !hd_utf8_valid(url, n))
		return false;
	if (strncasecmp(url, "https://", 8) == 0)
		scheme = 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		scheme = 7;
	else
		return false;
	// A host: something before the path, query or fragment.
	if (url[scheme] == '\0' || url[scheme] == '/' || url[scheme] == '?' || url[scheme] == '#')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

int64_t reg_watch_position_at(const struct reg_watch *w, int64_t now_ms)
{
	double pos = (double)w->position_ms;
	if (w->playing && now_ms > w->updated_at_ms)
		pos += (double)(now_ms - w->updated_at_ms) * w->rate;
	if (pos < 0)
		return 0;
	if (pos > (double)REG_WATCH_POSITION_MAX_MS)
		return REG_WATCH_POSITION_MAX_MS;
	return (int64_t)(pos + 0.5); // rounded (pos >= 0 here)
}

static void watch_empty(struct reg_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->rate = 1.0;
}

// watch_from_hash reads an HGETALL reply; fields out of their limits read
// as unset (a state that does not decode is nothing being watched).
static void watch_from_hash(const redisReply *rep, struct reg_watch *w)
{
	watch_empty(w);
	if (rep->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		const char *f = k->str, *s = v->str;
		if (strcmp(f, "url") == 0 && v->len <= REG_WATCH_URL_MAX)
			memcpy(w->url, s, v->len + 1);
		else if (strcmp(f, "playing") == 0)
			w->playing = strcmp(s, "1") == 0;
		else if (strcmp(f, "position_ms") == 0)
			w->position_ms = strtoll(s, NULL, 10);
		else if (strcmp(f, "rate") == 0)
			w->rate = strtod(s, NULL);
		else if (strcmp(f, "updated_at_ms") == 0)
			w->updated_at_ms = strtoll(s, NULL, 10);
		else if (strcmp(f, "by") == 0 && v->len <= HD_ID_LEN)
			memcpy(w->by, s, v->len + 1);
		else if (strcmp(f, "by_name") == 0 && v->len <= REG_DISPLAY_NAME_MAX)
			memcpy(w->by_name, s, v->len + 1);
		else if (strcmp(f, "seq") == 0)
			w->seq = strtoull(s, NULL, 10);
		else if (strcmp(f, "action") == 0)
			w->action = (int)strtol(s, NULL, 10);
	}
	if (!(w->rate >= REG_WATCH_RATE_MIN && w->rate <= REG_WATCH_RATE_MAX))
		w->rate = 1.0;
	if (w->position_ms < 0 || w->position_ms > REG_WATCH_POSITION_MAX_MS)
		w->position_ms = 0;
	if (w->url[0] != '\0' && !reg_watch_url_valid(w->url))
		w->url[0] = '\0';
}

hd_err reg_watch_read(struct reg_ctx *c, const char *meeting_id, struct reg_watch *out, const char **why)
{
	char key[REG_KEY_MAX];
	redisReply *rep;
	hd_err err;
	watch_empty(out);
	if (!hd_id_valid(meeting_id))
		return HD_OK;
	key_watch(key, meeting_id);
	const char *hgetall[] = {"HGETALL", key};
	if ((err = hd_redis_command(c->redis, &rep, 2, hgetall, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	watch_from_hash(rep, out);
	freeReplyObject(rep);
	return HD_OK;
}

// watch_check validates req's argument for its action.
static hd_err watch_check(const Huddle__V1__RegistryWatchRequest *req, const char **why)
{
	switch (req->action) {
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_START:
		if (!reg_watch_url_valid(req->url)) {
			*why = "url must be an http:// or https:// URL of at most " HD_XSTR(REG_WATCH_URL_MAX) " bytes";
			return HD_EBADREQUEST;
		}
		return HD_OK;
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_PLAY:
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_PAUSE:
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_SEEK:
		if (req->position_ms < 0 || req->position_ms > REG_WATCH_POSITION_MAX_MS) {
			*why = "position_ms must be 0 to 48 hours";
			return HD_EBADREQUEST;
		}
		return HD_OK;
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_RATE:
		// Written so that NaN fails too.
		if (!(req->rate >= REG_WATCH_RATE_MIN && req->rate <= REG_WATCH_RATE_MAX)) {
			*why = "rate must be " HD_XSTR(REG_WATCH_RATE_MIN) " to " HD_XSTR(REG_WATCH_RATE_MAX);
			return HD_EBADREQUEST;
		}
		return HD_OK;
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_STOP:
		return HD_OK;
	default:
		*why = "action must be a WatchAction";
		return HD_EBADREQUEST;
	}
}

// watch_member reads the requester's record: it must be an admitted member.
static hd_err watch_member(struct reg_ctx *c, const Huddle__V1__RegistryWatchRequest *req, struct reg_member *m,
			   const char **why)
{
	char members[REG_KEY_MAX];
	redisReply *rep;
	hd_err err;
	*why = "participant is not in this meeting";
	if (!hd_id_valid(req->participant_id))
		return HD_EUNKNOWNPARTICIPANT;
	reg_key_members(members, req->meeting_id);
	const char *hget[] = {"HGET", members, req->participant_id};
	if ((err = hd_redis_command(c->redis, &rep, 3, hget, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	bool found = rep->type == REDIS_REPLY_STRING && reg_member_unpack(rep->str, rep->len, m);
	freeReplyObject(rep);
	if (!found)
		return HD_EUNKNOWNPARTICIPANT;
	if (reg_member_waiting(m)) {
		*why = "waiting for a host to let you in";
		return HD_EFORBIDDEN;
	}
	return HD_OK;
}

// watch_next computes the state after req from old. Returns HD_OK, or
// HD_EBADREQUEST for a change of a player that is not open; *same when
// there is nothing to change (STOP of nothing).
static hd_err watch_next(const struct reg_watch *old, const Huddle__V1__RegistryWatchRequest *req,
			 const struct reg_member *m, int64_t now_ms, struct reg_watch *next, bool *same,
			 const char **why)
{
	Huddle__V1__WatchAction a = req->action;
	*same = false;
	*next = *old;
	if (a != HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_START && old->url[0] == '\0') {
		if (a == HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_STOP) {
			*same = true;
			return HD_OK;
		}
		*why = "nothing is being watched; start a video first";
		return HD_EBADREQUEST;
	}
	switch (a) {
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_START:
		watch_empty(next);
		snprintf(next->url, sizeof(next->url), "%s", req->url);
		break;
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_PLAY:
		next->playing = true;
		next->position_ms = req->position_ms;
		break;
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_PAUSE:
		next->playing = false;
		next->position_ms = req->position_ms;
		break;
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_SEEK:
		next->position_ms = req->position_ms;
		break;
	case HUDDLE__V1__WATCH_ACTION__WATCH_ACTION_RATE:
		next->position_ms = reg_watch_position_at(old, now_ms);
		next->rate = req->rate;
		break;
	default: // STOP
		watch_empty(next);
		break;
	}
	next->seq = old->seq + 1;
	next->updated_at_ms = now_ms;
	next->action = (int)a;
	snprintf(next->by, sizeof(next->by), "%s", m->id);
	snprintf(next->by_name, sizeof(next->by_name), "%s", m->display_name);
	return HD_OK;
}

// watch_write stores next if the stored seq is still expect. *done false:
// it changed meanwhile.
static hd_err watch_write(struct reg_ctx *c, const char *key, uint64_t expect, const struct reg_watch *next, bool *done,
			  const char **why)
{
	char exp[WATCH_NUM_MAX], pos[WATCH_NUM_MAX], rate[WATCH_NUM_MAX], at[WATCH_NUM_MAX], seq[WATCH_NUM_MAX];
	char action[WATCH_NUM_MAX], ttl[WATCH_NUM_MAX];
	redisReply *rep;
	hd_err err;
	snprintf(exp, sizeof(exp), "%" PRIu64, expect);
	snprintf(pos, sizeof(pos), "%" PRId64, next->position_ms);
	snprintf(rate, sizeof(rate), "%.17g", next->rate);
	snprintf(at, sizeof(at), "%" PRId64, next->updated_at_ms);
	snprintf(seq, sizeof(seq), "%" PRIu64, next->seq);
	snprintf(action, sizeof(action), "%d", next->action);
	snprintf(ttl, sizeof(ttl), "%d", next->url[0] != '\0' ? REG_WATCH_TTL_S : REG_WATCH_STOPPED_TTL_S);
	const char *eval[] = {"EVAL", cas_watch, "1", key,      exp,           next->url, next->playing ? "1" : "0",
			      pos,    rate,      at,  next->by, next->by_name, seq,       action,
			      ttl};
	if ((err = hd_redis_command(c->redis, &rep, 15, eval, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	bool ok = rep->type == REDIS_REPLY_INTEGER;
	*done = ok && rep->integer == 1;
	freeReplyObject(rep);
	if (!ok) {
		*why = "presence store (Redis) failed";
		return HD_EINTERNAL;
	}
	return HD_OK;
}

static void watch_publish(struct reg_ctx *c, const char *meeting_id, const struct reg_watch *w)
{
	Huddle__V1__WatchState pb;
	reg_watch_to_pb(w, &pb);
	reg_event_watch(c->pub, meeting_id, &pb);
}

hd_err reg_watch_apply(struct reg_ctx *c, const Huddle__V1__RegistryWatchRequest *req, int64_t now_ms,
		       struct reg_watch *out, const char **why)
{
	char key[REG_KEY_MAX];
	struct hd_meeting mt;
	struct reg_member m;
	hd_err err;
	watch_empty(out);
	if ((err = watch_check(req, why)) != HD_OK)
		return err;
	if ((err = reg_meeting_get(c->store, req->meeting_id, &mt, why)) != HD_OK)
		return err;
	if ((err = watch_member(c, req, &m, why)) != HD_OK)
		return err;
	key_watch(key, mt.id);
	for (int attempt = 0; attempt < REG_WATCH_CAS_RETRIES; attempt++) {
		struct reg_watch old;
		bool same = false, done = false;
		if ((err = reg_watch_read(c, mt.id, &old, why)) != HD_OK)
			return err;
		if ((err = watch_next(&old, req, &m, now_ms, out, &same, why)) != HD_OK)
			return err;
		if (same)
			return HD_OK;
		if ((err = watch_write(c, key, old.seq, out, &done, why)) != HD_OK)
			return err;
		if (done) {
			watch_publish(c, mt.id, out);
			HD_DEBUG("meeting %s: watch action %d by %s (seq %" PRIu64 ")", mt.id, out->action, m.id,
				 out->seq);
			return HD_OK;
		}
		// Someone else changed it in between: decide anew on theirs.
	}
	*why = "the shared player kept changing; try again";
	return HD_EUNAVAILABLE;
}

void reg_watch_for_join(struct reg_ctx *c, const char *meeting_id, bool alone, struct reg_watch *out)
{
	const char *why = "";
	hd_err err;
	watch_empty(out);
	if (alone) {
		reg_watch_end(c, meeting_id);
		return;
	}
	if ((err = reg_watch_read(c, meeting_id, out, &why)) != HD_OK)
		HD_WARN("meeting %s: shared player not read for a joiner: %s", meeting_id, why);
}

void reg_watch_end_if_empty(struct reg_ctx *c, const char *meeting_id)
{
	char members[REG_KEY_MAX], key[REG_KEY_MAX];
	redisReply *rep;
	hd_err err;
	if (!hd_id_valid(meeting_id))
		return;
	reg_key_members(members, meeting_id);
	key_watch(key, meeting_id);
	const char *eval[] = {"EVAL", end_if_empty, "2", members, key};
	if ((err = hd_redis_command(c->redis, &rep, 5, eval, NULL)) != HD_OK) {
		HD_WARN("meeting %s: shared player not cleared: %s", meeting_id, hd_strerror(err));
		return;
	}
	if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
		HD_DEBUG("meeting %s is empty; shared player closed", meeting_id);
	freeReplyObject(rep);
}

void reg_watch_end(struct reg_ctx *c, const char *meeting_id)
{
	char key[REG_KEY_MAX];
	redisReply *rep;
	hd_err err;
	if (!hd_id_valid(meeting_id))
		return;
	key_watch(key, meeting_id);
	const char *del[] = {"DEL", key};
	if ((err = hd_redis_command(c->redis, &rep, 2, del, NULL)) != HD_OK) {
		HD_WARN("meeting %s: shared player not cleared: %s", meeting_id, hd_strerror(err));
		return;
	}
	freeReplyObject(rep);
}

void reg_watch_to_pb(const struct reg_watch *w, Huddle__V1__WatchState *pb)
{
	huddle__v1__watch_state__init(pb);
	pb->url = (char *)w->url;
	pb->playing = w->playing;
	pb->position_ms = w->position_ms;
	pb->rate = w->rate;
	pb->updated_at_ms = w->updated_at_ms;
	pb->by = (char *)w->by;
	pb->by_name = (char *)w->by_name;
	pb->seq = w->seq;
	pb->action = (Huddle__V1__WatchAction)w->action;
}
