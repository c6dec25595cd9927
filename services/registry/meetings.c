// meetings.c: meeting records in the history store.
#include "registry/meetings.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"

hd_err reg_meeting_create(struct hd_store *s, const char *title, int64_t now_ms, struct hd_meeting *out,
			  const char **why)
{
	size_t len = strlen(title);
	hd_err err;
	if (len > HD_MEETING_TITLE_MAX) {
		*why = "title is longer than 200 bytes";
		return HD_EBADREQUEST;
	}
	if (!hd_utf8_valid(title, len)) {
		*why = "title is not valid UTF-8";
		return HD_EBADREQUEST;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->title, title, len + 1);
	out->created_at_ms = now_ms;
	// The title is checked above, so BAD_REQUEST from the store means the
	// id exists: 128 random bits make that a broken RNG, not bad luck, and
	// one retry is all it deserves.
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((err = hd_id_random(out->id)) != HD_OK) {
			*why = "no randomness for a meeting id";
			return err;
		}
		err = hd_meeting_insert(s, out);
		if (err != HD_EBADREQUEST)
			break;
		HD_WARN("meeting id %s already exists; drawing another", out->id);
	}
	switch (err) {
	case HD_OK:
		HD_DEBUG("meeting %s created", out->id);
		return HD_OK;
	case HD_EBADREQUEST:
		*why = "meeting id collided twice";
		return HD_EINTERNAL;
	default:
		*why = "the meeting store is unavailable";
		return err;
	}
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

void reg_meeting_to_pb(const struct hd_meeting *m, Huddle__V1__Meeting *pb)
{
	huddle__v1__meeting__init(pb);
	pb->id = (char *)m->id;
	pb->created_at_ms = m->created_at_ms;
	pb->title = (char *)m->title;
}
