// store.c: picks the history-store backend from STORE_URI.
#include "common/store.h"

#include <string.h>

#include "common/log.h"

hd_err hd_store_open(struct hd_store **out, const char *uri)
{
	if (strncmp(uri, "sqlite://", 9) == 0 && uri[9] != '\0')
		return hd_store_sqlite_open(out, uri + 9);
	if (strncmp(uri, "mongodb://", 10) == 0 || strncmp(uri, "mongodb+srv://", 14) == 0) {
		HD_ERROR("STORE_URI %s: the MongoDB backend is not in this build yet; use sqlite://<path>", uri);
		return HD_EBADREQUEST;
	}
	HD_ERROR("STORE_URI '%s' is not sqlite://<path> or mongodb://...", uri);
	return HD_EBADREQUEST;
}

void hd_store_close(struct hd_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

hd_err hd_meeting_insert(struct hd_store *s, const struct hd_meeting *m)
{
	if (!hd_id_valid(m->id) || strlen(m->title) > HD_MEETING_TITLE_MAX ||
	    !hd_utf8_valid(m->title, strlen(m->title)))
		return HD_EBADREQUEST;
	return s->ops->meeting_insert(s, m);
}

hd_err hd_meeting_get(struct hd_store *s, const char *id, struct hd_meeting *out)
{
	if (!hd_id_valid(id))
		return HD_EUNKNOWNMEETING;
	return s->ops->meeting_get(s, id, out);
}
