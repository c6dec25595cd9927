// store.c: picks the history-store backend from STORE_URI and checks every
// argument once, so the backends only see valid input.
#include "common/store.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

hd_err hd_store_open(struct hd_store **out, const char *uri)
{
	if (out == NULL || uri == NULL)
		return HD_EBADREQUEST;
	*out = NULL;
	if (strncmp(uri, "sqlite://", 9) == 0 && uri[9] != '\0')
		return hd_store_sqlite_open(out, uri + 9);
	if (strncmp(uri, "mongodb://", 10) == 0 || strncmp(uri, "mongodb+srv://", 14) == 0)
		return hd_store_mongo_open(out, uri);
	char shown[HD_URI_LOG_MAX];
	HD_ERROR("STORE_URI '%s' is not sqlite://<path> or mongodb://...", hd_uri_redact(uri, shown, sizeof(shown)));
	return HD_EBADREQUEST;
}

void hd_store_close(struct hd_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

hd_err hd_meeting_insert(struct hd_store *s, const struct hd_meeting *m)
{
	if (!hd_id_valid(m->id) || strnlen(m->title, sizeof(m->title)) > HD_MEETING_TITLE_MAX ||
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

// text_ok: field is NUL-terminated within its array of cap bytes, its length
// is min..max, and it is UTF-8.
static bool text_ok(const char *field, size_t cap, size_t min, size_t max)
{
	size_t len = strnlen(field, cap);
	return len < cap && len >= min && len <= max && hd_utf8_valid(field, len);
}

bool hd_chat_client_id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// client_id_ok: 1..HD_CHAT_CLIENT_ID_MAX bytes of [A-Za-z0-9_-].
static bool client_id_ok(const char *id, size_t cap)
{
	size_t len = strnlen(id, cap);
	if (len == 0 || len >= cap || len > HD_CHAT_CLIENT_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!hd_chat_client_id_char(id[i]))
			return false;
	return true;
}

static bool chat_message_ok(const struct hd_chat_message *m)
{
	if (strnlen(m->meeting_id, sizeof(m->meeting_id)) >= sizeof(m->meeting_id) || !hd_id_valid(m->meeting_id))
		return false;
	if (!client_id_ok(m->client_message_id, sizeof(m->client_message_id)))
		return false;
	// sender_id is a participant id, or "" for someone outside the call.
	size_t sid = strnlen(m->sender_id, sizeof(m->sender_id));
	if (sid >= sizeof(m->sender_id) || (sid > 0 && !hd_id_valid(m->sender_id)))
		return false;
	return text_ok(m->sender_name, sizeof(m->sender_name), 1, HD_CHAT_NAME_MAX) &&
	       text_ok(m->text, sizeof(m->text), 1, HD_CHAT_TEXT_MAX) && m->sent_at_ms >= 0;
}

hd_err hd_chat_append(struct hd_store *s, struct hd_chat_message *msgs, size_t n, bool *duplicate)
{
	if (s == NULL || msgs == NULL || duplicate == NULL || n == 0)
		return HD_EBADREQUEST;
	for (size_t i = 0; i < n; i++) {
		if (!chat_message_ok(&msgs[i]))
			return HD_EBADREQUEST;
	}
	// Whatever a backend did before failing, the caller gets its batch back
	// as it passed it (store.h's contract), so it can answer or retry.
	struct hd_chat_message *saved = malloc(n * sizeof(*saved));
	if (saved == NULL) {
		HD_ERROR("chat append: out of memory for %zu messages", n);
		return HD_EUNAVAILABLE;
	}
	memcpy(saved, msgs, n * sizeof(*saved));
	hd_err err = s->ops->chat_append(s, msgs, n, duplicate);
	if (err != HD_OK) {
		memcpy(msgs, saved, n * sizeof(*saved));
		for (size_t i = 0; i < n; i++)
			duplicate[i] = false;
	}
	free(saved);
	return err;
}

hd_err hd_chat_history(struct hd_store *s, const char *meeting_id, int64_t after_seq, int64_t before_seq,
		       uint32_t limit, struct hd_chat_message *out, size_t *n_out, bool *more, int64_t *last_seq)
{
	if (s == NULL || out == NULL || n_out == NULL || more == NULL || last_seq == NULL)
		return HD_EBADREQUEST;
	*n_out = 0;
	*more = false;
	*last_seq = 0;
	if (!hd_id_valid(meeting_id) || limit < 1 || limit > HD_CHAT_PAGE_MAX || after_seq < 0 || before_seq < 0)
		return HD_EBADREQUEST;
	hd_err err = s->ops->chat_history(s, meeting_id, after_seq, before_seq, limit, out, n_out, more, last_seq);
	if (err == HD_OK && before_seq > 0) { // read newest first; a page is ascending
		size_t n = *n_out;
		for (size_t i = 0; i < n / 2; i++) {
			struct hd_chat_message t = out[i];
			out[i] = out[n - 1 - i];
			out[n - 1 - i] = t;
		}
	}
	return err;
}
