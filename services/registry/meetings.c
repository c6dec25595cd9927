// meetings.c: meeting and space records in the history store.
#include "registry/meetings.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define ID_ATTEMPTS 2 // inserts per new record: one retry of a colliding id or key

bool reg_access_mode_valid(int mode)
{
	return mode == 0 || (mode >= HD_ACCESS_OPEN && mode <= HD_ACCESS_TOKEN_ONLY);
}

// title_ok checks a meeting or space title, setting *why when it is bad.
static bool title_ok(const char *title, const char **why)
{
	size_t len = strlen(title);
	if (len > HD_MEETING_TITLE_MAX) {
		*why = "title is longer than 200 bytes";
		return false;
	}
	if (!hd_utf8_valid(title, len)) {
		*why = "title is not valid UTF-8";
		return false;
	}
	return true;
}

hd_err reg_space_open(struct hd_store *s, const char *key, struct hd_space *out)
{
	if (key == NULL || key[0] == '\0')
		return HD_EFORBIDDEN;
	char hash[HD_KEY_HASH_LEN + 1];
	hd_key_hash(key, hash);
	struct hd_space sp;
	hd_err err = hd_space_by_key_hash(s, hash, &sp);
	if (err != HD_OK)
		return err;
	// The lookup found it by hash; the decision is a constant-time compare.
	if (!hd_key_hash_equal(sp.key_hash, hash))
		return HD_EFORBIDDEN;
	*out = sp;
	return HD_OK;
}

hd_err reg_meeting_new(struct hd_store *s, const struct reg_meeting_spec *spec, int64_t now_ms, struct hd_meeting *out,
		       char host_key[HD_KEY_LEN + 1], const char **why)
{
	hd_err err;
	host_key[0] = '\0';
	const char *title = spec->title != NULL ? spec->title : "";
	if (!title_ok(title, why))
		return HD_EBADREQUEST;
	if (spec->starts_at_ms < 0) {
		*why = "starts_at_ms is negative";
		return HD_EBADREQUEST;
	}
	if (!reg_access_mode_valid(spec->access_mode)) {
		*why = "access_mode is not one of OPEN, WAITING_ROOM, LOCKED, TOKEN_ONLY";
		return HD_EBADREQUEST;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->title, title, strlen(title) + 1);
	out->created_at_ms = now_ms;
	out->starts_at_ms = spec->starts_at_ms;
	bool in_space = spec->space_key != NULL && spec->space_key[0] != '\0';
	if (in_space) {
		struct hd_space sp;
		err = reg_space_open(s, spec->space_key, &sp);
		if (err == HD_EFORBIDDEN) {
			*why = "no space has that key";
			return err;
		}
		if (err != HD_OK) {
			*why = "the meeting store is unavailable";
			return err;
		}
		memcpy(out->space_id, sp.id, sizeof(out->space_id));
		out->access_mode = spec->access_mode != 0 ? spec->access_mode : HD_ACCESS_WAITING_ROOM;
	} else {
		if (hd_key_new(host_key, out->host_key_hash) != HD_OK) {
			*why = "no randomness for a host key";
			return HD_EINTERNAL;
		}
		out->access_mode = spec->access_mode != 0 ? spec->access_mode : HD_ACCESS_OPEN;
	}
	// The fields are checked above, so BAD_REQUEST from the store means the
	// id exists: 128 random bits make that a broken RNG, not bad luck, and
	// one retry is all it deserves.
	for (int attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
		if ((err = hd_id_random(out->id)) != HD_OK) {
			*why = "no randomness for a meeting id";
			host_key[0] = '\0';
			return err;
		}
		err = hd_meeting_insert(s, out);
		if (err != HD_EBADREQUEST)
			break;
		HD_WARN("meeting id %s already exists; drawing another", out->id);
	}
	switch (err) {
	case HD_OK:
		HD_DEBUG("meeting %s created%s%s", out->id, in_space ? " in space " : "", out->space_id);
		return HD_OK;
	case HD_EBADREQUEST:
		*why = "meeting id collided twice";
		err = HD_EINTERNAL;
		break;
	default:
		*why = "the meeting store is unavailable";
		break;
	}
	host_key[0] = '\0';
	return err;
}

hd_err reg_meeting_create(struct hd_store *s, const char *title, int64_t now_ms, struct hd_meeting *out,
			  const char **why)
{
	struct reg_meeting_spec spec = {.title = title};
	char key[HD_KEY_LEN + 1];
	hd_err err = reg_meeting_new(s, &spec, now_ms, out, key, why);
	memset(key, 0, sizeof(key));
	return err;
}

hd_err reg_meeting_get(struct hd_store *s, const char *id, struct hd_meeting *out, const char **why)
{
	hd_err err = hd_meeting_get(s, id, out);
	if (err == HD_EUNKNOWNMEETING)
		*why = "no meeting has that id";
	else if (err != HD_OK)
		*why = "the meeting store is unavailable";
	return err;
}

hd_err reg_meeting_host_check(struct hd_store *s, const struct hd_meeting *m, const char *key, bool *is_host)
{
	*is_host = false;
	if (key == NULL || key[0] == '\0')
		return HD_OK;
	if (hd_key_matches(key, m->host_key_hash)) {
		*is_host = true;
		return HD_OK;
	}
	if (m->space_id[0] == '\0')
		return HD_OK;
	struct hd_space sp;
	hd_err err = hd_space_get(s, m->space_id, &sp);
	if (err == HD_EFORBIDDEN) // the space is gone: nobody is host by its key
		return HD_OK;
	if (err != HD_OK)
		return err;
	*is_host = hd_key_matches(key, sp.key_hash);
	return HD_OK;
}

bool reg_meeting_is_host(struct hd_store *s, const struct hd_meeting *m, const char *key)
{
	bool is_host = false;
	hd_err err = reg_meeting_host_check(s, m, key, &is_host);
	if (err != HD_OK) {
		HD_WARN("host check of meeting %s: the store failed (%s); not a host", m->id, hd_err_name(err));
		return false;
	}
	return is_host;
}

hd_err reg_meeting_set_access(struct hd_store *s, const char *id, int access_mode)
{
	hd_err err = hd_meeting_set_access(s, id, access_mode);
	if (err == HD_OK)
		HD_DEBUG("meeting %s: access mode %d", id, access_mode);
	return err;
}

hd_err reg_space_create(struct hd_store *s, const char *title, int64_t now_ms, struct hd_space *out,
			char key[HD_KEY_LEN + 1], const char **why)
{
	hd_err err = HD_OK;
	key[0] = '\0';
	if (title == NULL)
		title = "";
	if (!title_ok(title, why))
		return HD_EBADREQUEST;
	memset(out, 0, sizeof(*out));
	memcpy(out->title, title, strlen(title) + 1);
	out->created_at_ms = now_ms;
	// As for meetings: a collision (id or key hash) is a broken RNG; one retry.
	for (int attempt = 0; attempt < ID_ATTEMPTS; attempt++) {
		if (hd_id_random(out->id) != HD_OK || hd_key_new(key, out->key_hash) != HD_OK) {
			*why = "no randomness for a space";
			key[0] = '\0';
			return HD_EINTERNAL;
		}
		err = hd_space_insert(s, out);
		if (err != HD_EBADREQUEST)
			break;
		HD_WARN("space id %s or its key already exists; drawing another", out->id);
	}
	switch (err) {
	case HD_OK:
		HD_DEBUG("space %s created", out->id);
		return HD_OK;
	case HD_EBADREQUEST:
		*why = "space id or key collided twice";
		err = HD_EINTERNAL;
		break;
	default:
		*why = "the meeting store is unavailable";
		break;
	}
	key[0] = '\0';
	return err;
}

void reg_meeting_to_pb(const struct hd_meeting *m, Huddle__V1__Meeting *pb)
{
	huddle__v1__meeting__init(pb);
	pb->id = (char *)m->id;
	pb->created_at_ms = m->created_at_ms;
	pb->title = (char *)m->title;
	pb->access_mode = m->access_mode >= HD_ACCESS_OPEN && m->access_mode <= HD_ACCESS_TOKEN_ONLY
				  ? (Huddle__V1__AccessMode)m->access_mode
				  : HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN;
	pb->starts_at_ms = m->starts_at_ms;
}
