// mode.c: a meeting's media mode (MESH or SFU), decided against its roster
// with WATCH/MULTI/EXEC, and the media_mode room event.
#include "registry/mode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/rpc.h"
#include "huddle/v1/events.pb-c.h"
#include "registry/members.h"

#define MODE_FIELD_MAX 24 // an int64 or uint64 in decimal, with sign and NUL

static void key_media(char out[REG_KEY_MAX], const char *meeting_id)
{
	snprintf(out, REG_KEY_MAX, "huddle:{%s}:media", meeting_id);
}

bool reg_mode_decide(const struct reg_mode_policy *p, const struct reg_mode *cur, size_t admitted, int64_t now_ms,
		     struct reg_mode *next)
{
	*next = *cur;
	if (next->mode != HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU)
		next->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH;
	if (!p->sfu_enabled) {
		if (next->mode == HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU)
			next->epoch++;
		next->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH;
		next->low_since_ms = 0;
	} else if (next->mode == HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH) {
		if ((int64_t)admitted > p->mesh_max) {
			next->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU;
			next->epoch++;
		}
		next->low_since_ms = 0;
	} else if ((int64_t)admitted > p->down_max) {
		next->low_since_ms = 0; // not few enough: the clock starts again at the next drop
	} else if (next->low_since_ms <= 0) {
		next->low_since_ms = now_ms;
	} else if (now_ms - next->low_since_ms >= p->down_ms) {
		next->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH;
		next->epoch++;
		next->low_since_ms = 0;
	}
	// A mode stored as UNSPECIFIED (never) reads as MESH: nothing to write.
	return next->mode != (cur->mode == HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU
				      ? HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU
				      : HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH) ||
	       next->epoch != cur->epoch || next->low_since_ms != cur->low_since_ms;
}

// mode_parse reads an HMGET mode epoch low_since_ms reply; false if it is
// not one (a missing key reads as MESH, epoch 0).
static bool mode_parse(const redisReply *r, struct reg_mode *out)
{
	memset(out, 0, sizeof(*out));
	out->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING && r->element[i]->type != REDIS_REPLY_NIL)
			return false;
	if (r->element[0]->type == REDIS_REPLY_STRING &&
	    strtol(r->element[0]->str, NULL, 10) == HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU)
		out->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU;
	if (r->element[1]->type == REDIS_REPLY_STRING)
		out->epoch = strtoull(r->element[1]->str, NULL, 10);
	if (r->element[2]->type == REDIS_REPLY_STRING)
		out->low_since_ms = strtoll(r->element[2]->str, NULL, 10);
	return true;
}

hd_err reg_mode_read(struct reg_ctx *c, const char *meeting_id, struct reg_mode *out, const char **why)
{
	char key[REG_KEY_MAX];
	redisReply *rep;
	hd_err err;
	memset(out, 0, sizeof(*out));
	out->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH;
	if (!hd_id_valid(meeting_id))
		return HD_OK;
	key_media(key, meeting_id);
	const char *hmget[] = {"HMGET", key, "mode", "epoch", "low_since_ms"};
	if ((err = hd_redis_command(c->redis, &rep, 5, hmget, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	bool ok = mode_parse(rep, out);
	freeReplyObject(rep);
	if (!ok) {
		*why = "unexpected reply reading the media mode";
		return HD_EINTERNAL;
	}
	return HD_OK;
}

static void publish_mode(struct reg_ctx *c, const char *meeting_id, const struct reg_mode *m)
{
	Huddle__V1__RoomEvent ev = HUDDLE__V1__ROOM_EVENT__INIT;
	Huddle__V1__MediaModeState st;
	reg_mode_to_pb(m, &st);
	ev.meeting_id = (char *)meeting_id;
	ev.body_case = HUDDLE__V1__ROOM_EVENT__BODY_MEDIA_MODE;
	ev.media_mode = &st;
	size_t len = huddle__v1__room_event__get_packed_size(&ev);
	uint8_t *buf = malloc(len > 0 ? len : 1);
	hd_err err = HD_ENOMEM;
	if (buf != NULL) {
		huddle__v1__room_event__pack(&ev, buf);
		err = hd_pub_send(c->pub, meeting_id, buf, len);
		free(buf);
	}
	if (err != HD_OK)
		HD_WARN("media_mode event for meeting %s not published: %s", meeting_id, hd_strerror(err));
}

// mode_try makes one WATCH, read, decide, MULTI/EXEC attempt. *done is
// false when EXEC was refused (something changed in between: try again).
static hd_err mode_try(struct reg_ctx *c, const char *meeting_id, int64_t now_ms, struct reg_mode *cur,
		       struct reg_mode *next, bool *changed, bool *done, const char **why)
{
	char members[REG_KEY_MAX], key[REG_KEY_MAX];
	char mode_s[MODE_FIELD_MAX], epoch_s[MODE_FIELD_MAX], low_s[MODE_FIELD_MAX];
	static const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"}, *unwatch[] = {"UNWATCH"};
	struct reg_room room;
	redisReply *rep[4];
	bool resent;
	hd_err err;
	*done = false;
	*changed = false;
	reg_key_members(members, meeting_id);
	key_media(key, meeting_id);
	const char *watch[] = {"WATCH", members, key};
	const char *hgetall[] = {"HGETALL", members};
	const char *hmget[] = {"HMGET", key, "mode", "epoch", "low_since_ms"};
	const struct hd_redis_cmd read[] = {{3, watch, NULL}, {2, hgetall, NULL}, {5, hmget, NULL}};
	if ((err = hd_redis_pipeline(c->redis, read, 3, rep, NULL)) != HD_OK)
		return reg_redis_failed(err, why);
	bool parsed = mode_parse(rep[2], cur);
	err = reg_room_from_hash(rep[1], NULL, &room);
	for (int i = 0; i < 3; i++)
		freeReplyObject(rep[i]);
	if (err != HD_OK || !parsed) {
		if (err == HD_OK)
			reg_room_fini(&room);
		*why = "unexpected reply reading the media mode";
		err = err == HD_ENOMEM ? HD_ENOMEM : HD_EINTERNAL;
		goto unwatch;
	}
	size_t admitted = room.admitted.n;
	reg_room_fini(&room);
	if (!reg_mode_decide(&c->mode, cur, admitted, now_ms, next)) {
		*done = true;
		goto unwatch;
	}
	snprintf(mode_s, sizeof(mode_s), "%d", next->mode);
	snprintf(epoch_s, sizeof(epoch_s), "%" PRIu64, next->epoch);
	snprintf(low_s, sizeof(low_s), "%" PRId64, next->low_since_ms);
	const char *hset[] = {"HSET", key, "mode", mode_s, "epoch", epoch_s, "low_since_ms", low_s};
	const struct hd_redis_cmd write[] = {{1, multi, NULL}, {8, hset, NULL}, {1, exec, NULL}};
	if ((err = hd_redis_pipeline(c->redis, write, 3, rep, &resent)) != HD_OK)
		return reg_redis_failed(err, why);
	// A refused EXEC answers nil. A batch sent again after a lost connection
	// ran without the WATCH (a new connection): read again and check.
	*done = rep[2]->type == REDIS_REPLY_ARRAY && !resent;
	*changed = *done && next->mode != cur->mode;
	for (int i = 0; i < 3; i++)
		freeReplyObject(rep[i]);
	return HD_OK;

unwatch:
	if (hd_redis_command(c->redis, &rep[0], 1, unwatch, NULL) == HD_OK)
		freeReplyObject(rep[0]);
	return err;
}

hd_err reg_mode_update(struct reg_ctx *c, const char *meeting_id, int64_t now_ms, struct reg_mode *out,
		       const char **why)
{
	struct reg_mode cur, next;
	bool changed = false, done = false;
	hd_err err = HD_OK;
	if (!hd_id_valid(meeting_id))
		return HD_OK;
	for (int i = 0; i < REG_MODE_CAS_RETRIES && !done; i++)
		if ((err = mode_try(c, meeting_id, now_ms, &cur, &next, &changed, &done, why)) != HD_OK)
			return err;
	if (!done) {
		*why = "the meeting's roster kept changing while its media mode was decided";
		return HD_EUNAVAILABLE;
	}
	if (changed) {
		HD_INFO("meeting %s: media mode %s, epoch %" PRIu64, meeting_id,
			next.mode == HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU ? "SFU" : "MESH", next.epoch);
		publish_mode(c, meeting_id, &next);
	}
	if (out != NULL)
		*out = next;
	return HD_OK;
}

void reg_mode_update_logged(struct reg_ctx *c, const char *meeting_id, int64_t now_ms, struct reg_mode *out)
{
	const char *why = NULL;
	hd_err err = reg_mode_update(c, meeting_id, now_ms, out, &why);
	if (err != HD_OK) {
		HD_WARN("meeting %s: media mode not updated: %s (%s)", meeting_id, hd_strerror(err),
			why != NULL ? why : "");
		if (out != NULL && reg_mode_read(c, meeting_id, out, &why) != HD_OK) {
			memset(out, 0, sizeof(*out));
			out->mode = HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH;
		}
	}
}

hd_err reg_mode_sweep(struct reg_ctx *c, const char *const *ids, size_t n, int64_t now_ms)
{
	char(*keys)[REG_KEY_MAX] = NULL;
	const char **argv = NULL;
	struct hd_redis_cmd *cmds = NULL;
	redisReply **rep = NULL;
	hd_err err = HD_ENOMEM;
	const char *why = NULL;
	if (n == 0)
		return HD_OK;
	if ((keys = calloc(n, sizeof(*keys))) == NULL || (argv = calloc(5 * n, sizeof(*argv))) == NULL ||
	    (cmds = calloc(n, sizeof(*cmds))) == NULL || (rep = calloc(n, sizeof(*rep))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		key_media(keys[i], ids[i]);
		const char **a = argv + 5 * i;
		a[0] = "HMGET", a[1] = keys[i], a[2] = "mode", a[3] = "epoch", a[4] = "low_since_ms";
		cmds[i] = (struct hd_redis_cmd){5, a, NULL};
	}
	if ((err = hd_redis_pipeline(c->redis, cmds, n, rep, NULL)) != HD_OK) {
		free(rep);
		rep = NULL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct reg_mode m;
		bool due = mode_parse(rep[i], &m) && m.mode == HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU &&
			   (!c->mode.sfu_enabled || (m.low_since_ms > 0 && now_ms - m.low_since_ms >= c->mode.down_ms));
		freeReplyObject(rep[i]);
		rep[i] = NULL;
		if (due && err == HD_OK)
			err = reg_mode_update(c, ids[i], now_ms, NULL, &why);
	}
out:
	free(rep);
	free(cmds);
	free(argv);
	free(keys);
	return err;
}

void reg_mode_to_pb(const struct reg_mode *m, Huddle__V1__MediaModeState *pb)
{
	huddle__v1__media_mode_state__init(pb);
	pb->mode = m->mode == HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU ? HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_SFU
								     : HUDDLE__V1__MEDIA_MODE__MEDIA_MODE_MESH;
	pb->epoch = m->epoch;
}
