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

// key_hash_ok: "" (when empty_ok) or exactly HD_KEY_HASH_LEN lower-case hex
// characters, NUL-terminated within cap bytes.
static bool key_hash_ok(const char *h, size_t cap, bool empty_ok)
{
	size_t len = strnlen(h, cap);
	if (len >= cap)
		return false;
	if (len == 0)
		return empty_ok;
	if (len != HD_KEY_HASH_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

// title_ok: NUL-terminated within cap, at most HD_MEETING_TITLE_MAX bytes, UTF-8.
static bool title_ok(const char *t, size_t cap)
{
	size_t len = strnlen(t, cap);
	return len < cap && len <= HD_MEETING_TITLE_MAX && hd_utf8_valid(t, len);
}

static bool access_mode_ok(int mode)
{
	return mode >= HD_ACCESS_OPEN && mode <= HD_ACCESS_TOKEN_ONLY;
}

hd_err hd_meeting_insert(struct hd_store *s, const struct hd_meeting *m)
{
	if (s == NULL || m == NULL)
		return HD_EBADREQUEST;
	if (strnlen(m->id, sizeof(m->id)) >= sizeof(m->id) || !hd_id_valid(m->id) ||
	    !title_ok(m->title, sizeof(m->title)))
		return HD_EBADREQUEST;
	// access_mode 0 (a caller that predates modes) is stored as OPEN.
	if ((m->access_mode != 0 && !access_mode_ok(m->access_mode)) || m->starts_at_ms < 0)
		return HD_EBADREQUEST;
	if (!key_hash_ok(m->host_key_hash, sizeof(m->host_key_hash), true))
		return HD_EBADREQUEST;
	size_t sp = strnlen(m->space_id, sizeof(m->space_id));
	if (sp >= sizeof(m->space_id) || (sp > 0 && !hd_id_valid(m->space_id)))
		return HD_EBADREQUEST;
	// A meeting of a space has its space's key as host key, no own one.
	if (sp > 0 && m->host_key_hash[0] != '\0')
		return HD_EBADREQUEST;
	if (m->access_mode != 0)
		return s->ops->meeting_insert(s, m);
	struct hd_meeting open = *m;
	open.access_mode = HD_ACCESS_OPEN;
	return s->ops->meeting_insert(s, &open);
}

hd_err hd_meeting_get(struct hd_store *s, const char *id, struct hd_meeting *out)
{
	if (s == NULL || id == NULL || out == NULL)
		return HD_EBADREQUEST;
	if (!hd_id_valid(id))
		return HD_EUNKNOWNMEETING;
	hd_err err = s->ops->meeting_get(s, id, out);
	// A record stored before access modes existed reads as OPEN.
	if (err == HD_OK && !access_mode_ok(out->access_mode))
		out->access_mode = HD_ACCESS_OPEN;
	return err;
}

hd_err hd_meeting_set_access(struct hd_store *s, const char *id, int access_mode)
{
	if (s == NULL || id == NULL || !access_mode_ok(access_mode))
		return HD_EBADREQUEST;
	if (!hd_id_valid(id))
		return HD_EUNKNOWNMEETING;
	return s->ops->meeting_set_access(s, id, access_mode);
}

hd_err hd_space_insert(struct hd_store *s, const struct hd_space *sp)
{
	if (s == NULL || sp == NULL)
		return HD_EBADREQUEST;
	if (strnlen(sp->id, sizeof(sp->id)) >= sizeof(sp->id) || !hd_id_valid(sp->id) ||
	    !title_ok(sp->title, sizeof(sp->title)) || sp->created_at_ms < 0 ||
	    !key_hash_ok(sp->key_hash, sizeof(sp->key_hash), false))
		return HD_EBADREQUEST;
	return s->ops->space_insert(s, sp);
}

hd_err hd_space_by_key_hash(struct hd_store *s, const char *key_hash, struct hd_space *out)
{
	if (s == NULL || key_hash == NULL || out == NULL)
		return HD_EBADREQUEST;
	// Not a hash: no space has it.
	if (!key_hash_ok(key_hash, HD_KEY_HASH_LEN + 1, false))
		return HD_EFORBIDDEN;
	return s->ops->space_by_key_hash(s, key_hash, out);
}

hd_err hd_space_get(struct hd_store *s, const char *id, struct hd_space *out)
{
	if (s == NULL || id == NULL || out == NULL)
		return HD_EBADREQUEST;
	if (!hd_id_valid(id))
		return HD_EFORBIDDEN;
	return s->ops->space_get(s, id, out);
}

hd_err hd_space_meetings(struct hd_store *s, const char *space_id, struct hd_meeting *out, size_t *n_out)
{
	if (s == NULL || space_id == NULL || out == NULL || n_out == NULL)
		return HD_EBADREQUEST;
	*n_out = 0;
	if (!hd_id_valid(space_id))
		return HD_OK; // not a space id: no meetings
	hd_err err = s->ops->space_meetings(s, space_id, out, n_out);
	if (err != HD_OK) {
		*n_out = 0;
		return err;
	}
	for (size_t i = 0; i < *n_out; i++)
		if (!access_mode_ok(out[i].access_mode))
			out[i].access_mode = HD_ACCESS_OPEN;
	return HD_OK;
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

bool hd_doc_name_valid(const char *document)
{
	if (document == NULL)
		return false;
	size_t len = strnlen(document, HD_DOC_NAME_MAX + 1);
	if (len == 0 || len > HD_DOC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (document[i] < 'a' || document[i] > 'z')
			return false;
	return true;
}

// doc_key_ok: a valid meeting id and document name, each NUL-terminated in
// its array.
static bool doc_key_ok(const char meeting_id[HD_ID_LEN + 1], const char document[HD_DOC_NAME_MAX + 1])
{
	return strnlen(meeting_id, HD_ID_LEN + 1) <= HD_ID_LEN && hd_id_valid(meeting_id) &&
	       strnlen(document, HD_DOC_NAME_MAX + 1) <= HD_DOC_NAME_MAX && hd_doc_name_valid(document);
}

// doc_update_check: HD_EBADREQUEST for an empty, invalid or over-long field,
// HD_ETOOLARGE for data over HD_DOC_UPDATE_MAX.
static hd_err doc_update_check(const struct hd_doc_update *u)
{
	if (!doc_key_ok(u->meeting_id, u->document) || !client_id_ok(u->client_update_id, sizeof(u->client_update_id)))
		return HD_EBADREQUEST;
	size_t aid = strnlen(u->author_id, sizeof(u->author_id)); // a participant id, or ""
	if (aid >= sizeof(u->author_id) || (aid > 0 && !hd_id_valid(u->author_id)))
		return HD_EBADREQUEST;
	if (!text_ok(u->author_name, sizeof(u->author_name), 0, HD_CHAT_NAME_MAX) || u->stored_at_ms < 0 ||
	    u->data == NULL || u->len == 0)
		return HD_EBADREQUEST;
	return u->len > HD_DOC_UPDATE_MAX ? HD_ETOOLARGE : HD_OK;
}

hd_err hd_doc_append(struct hd_store *s, struct hd_doc_update *u, size_t n, bool *duplicate)
{
	if (s == NULL || u == NULL || duplicate == NULL || n == 0)
		return HD_EBADREQUEST;
	for (size_t i = 0; i < n; i++) {
		hd_err err = doc_update_check(&u[i]);
		if (err != HD_OK)
			return err;
	}
	// As hd_chat_append: a failed batch comes back as it was passed.
	struct hd_doc_update *saved = malloc(n * sizeof(*saved));
	if (saved == NULL) {
		HD_ERROR("doc append: out of memory for %zu updates", n);
		return HD_EUNAVAILABLE;
	}
	memcpy(saved, u, n * sizeof(*saved));
	hd_err err = s->ops->doc_append(s, u, n, duplicate);
	if (err != HD_OK) {
		memcpy(u, saved, n * sizeof(*saved));
		for (size_t i = 0; i < n; i++)
			duplicate[i] = false;
	}
	free(saved);
	return err;
}

hd_err hd_doc_read(struct hd_store *s, const char *meeting_id, const char *document, int64_t after_seq, uint32_t limit,
		   struct hd_doc_update *out, size_t *n_out, bool *more, int64_t *last_seq)
{
	if (s == NULL || out == NULL || n_out == NULL || more == NULL || last_seq == NULL)
		return HD_EBADREQUEST;
	*n_out = 0;
	*more = false;
	*last_seq = 0;
	if (meeting_id == NULL || !hd_id_valid(meeting_id) || !hd_doc_name_valid(document) || after_seq < 0 ||
	    limit < 1 || limit > HD_DOC_PAGE_MAX)
		return HD_EBADREQUEST;
	return s->ops->doc_read(s, meeting_id, document, after_seq, limit, out, n_out, more, last_seq);
}

void hd_doc_updates_free(struct hd_doc_update *u, size_t n)
{
	for (size_t i = 0; u != NULL && i < n; i++) {
		free(u[i].data);
		u[i].data = NULL;
	}
}

// language_ok: 0..HD_DOC_LANGUAGE_MAX bytes of [a-z0-9+#-], NUL-terminated in
// its array.
static bool language_ok(const char *language, size_t cap)
{
	size_t len = strnlen(language, cap);
	if (len >= cap || len > HD_DOC_LANGUAGE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = language[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '#' || c == '-'))
			return false;
	}
	return true;
}

hd_err hd_doc_snapshot_put(struct hd_store *s, struct hd_doc_snapshot *snap, bool *stored)
{
	if (s == NULL || snap == NULL || stored == NULL)
		return HD_EBADREQUEST;
	*stored = false;
	const struct hd_doc_version *v = &snap->version;
	if (!doc_key_ok(snap->meeting_id, snap->document) || v->seq < 1 || v->created_at_ms < 0 ||
	    !text_ok(v->author_name, sizeof(v->author_name), 0, HD_CHAT_NAME_MAX) ||
	    !language_ok(v->language, sizeof(v->language)) || snap->state == NULL || snap->state_len == 0 ||
	    (snap->text == NULL && v->text_len > 0))
		return HD_EBADREQUEST;
	if (snap->state_len > HD_DOC_STATE_MAX || v->text_len > HD_DOC_TEXT_MAX)
		return HD_ETOOLARGE;
	if (v->text_len > 0 && !hd_utf8_valid(snap->text, v->text_len))
		return HD_EBADREQUEST;
	struct hd_doc_version saved = snap->version;
	hd_err err = s->ops->doc_snapshot_put(s, snap, stored);
	if (err != HD_OK) {
		snap->version = saved;
		*stored = false;
	}
	return err;
}

hd_err hd_doc_snapshot_get(struct hd_store *s, const char *meeting_id, const char *document, int64_t version,
			   struct hd_doc_snapshot *out)
{
	if (s == NULL || out == NULL)
		return HD_EBADREQUEST;
	memset(out, 0, sizeof(*out));
	if (meeting_id == NULL || !hd_id_valid(meeting_id) || !hd_doc_name_valid(document) || version < 0)
		return HD_EBADREQUEST;
	hd_err err = s->ops->doc_snapshot_get(s, meeting_id, document, version, out);
	if (err != HD_OK) {
		hd_doc_snapshot_fini(out);
		memset(out, 0, sizeof(*out));
	}
	return err;
}

void hd_doc_snapshot_fini(struct hd_doc_snapshot *snap)
{
	if (snap == NULL)
		return;
	free(snap->state);
	free(snap->text);
	snap->state = NULL;
	snap->text = NULL;
}

hd_err hd_doc_versions(struct hd_store *s, const char *meeting_id, const char *document, struct hd_doc_version *out,
		       size_t *n_out)
{
	if (s == NULL || out == NULL || n_out == NULL)
		return HD_EBADREQUEST;
	*n_out = 0;
	if (meeting_id == NULL || !hd_id_valid(meeting_id) || !hd_doc_name_valid(document))
		return HD_EBADREQUEST;
	return s->ops->doc_versions(s, meeting_id, document, out, n_out);
}

// ---- recordings ----

// rec_key_ok: two ids, the meeting's and the recording's.
static bool rec_key_ok(const char *meeting_id, const char *id)
{
	return meeting_id != NULL && id != NULL && hd_id_valid(meeting_id) && hd_id_valid(id);
}

// mime_ok: 1..HD_REC_MIME_MAX printable ASCII bytes, NUL-terminated in its array.
static bool mime_ok(const char *mime, size_t cap)
{
	size_t len = strnlen(mime, cap);
	if (len == 0 || len >= cap || len > HD_REC_MIME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (mime[i] < 0x20 || mime[i] > 0x7e)
			return false;
	return true;
}

hd_err hd_recording_create(struct hd_store *s, struct hd_recording *rec, bool *created)
{
	if (s == NULL || rec == NULL || created == NULL)
		return HD_EBADREQUEST;
	*created = false;
	if (strnlen(rec->meeting_id, sizeof(rec->meeting_id)) > HD_ID_LEN ||
	    strnlen(rec->id, sizeof(rec->id)) > HD_ID_LEN ||
	    strnlen(rec->recorder_id, sizeof(rec->recorder_id)) > HD_ID_LEN || !rec_key_ok(rec->meeting_id, rec->id) ||
	    !hd_id_valid(rec->recorder_id) || rec->kind < HD_REC_CAMERA || rec->kind > HD_REC_MEETING ||
	    !text_ok(rec->recorder_name, sizeof(rec->recorder_name), 1, HD_REC_NAME_MAX) ||
	    !mime_ok(rec->mime_type, sizeof(rec->mime_type)) || rec->created_at_ms < 0)
		return HD_EBADREQUEST;
	struct hd_recording saved = *rec;
	rec->state = HD_REC_RECORDING;
	rec->updated_at_ms = rec->created_at_ms;
	rec->chunks = 0;
	rec->total_chunks = 0;
	rec->bytes = 0;
	rec->duration_ms = 0;
	rec->error[0] = '\0';
	hd_err err = s->ops->rec_create(s, rec, created);
	if (err != HD_OK) {
		*rec = saved;
		*created = false;
	}
	return err;
}

hd_err hd_recording_chunk(struct hd_store *s, const char *meeting_id, const char *id, uint32_t index, uint64_t len,
			  int64_t at_ms, struct hd_recording *out, bool *duplicate)
{
	if (s == NULL || out == NULL || duplicate == NULL)
		return HD_EBADREQUEST;
	*duplicate = false;
	if (!rec_key_ok(meeting_id, id) || index > HD_REC_INDEX_MAX || len == 0 || len > HD_REC_CHUNK_MAX || at_ms < 0)
		return HD_EBADREQUEST;
	return s->ops->rec_chunk(s, meeting_id, id, index, len, at_ms, out, duplicate);
}

// rec_move_ok: the state changes a recording makes.
static bool rec_move_ok(int from, int to)
{
	return (from == HD_REC_RECORDING && to == HD_REC_ASSEMBLING) ||
	       (from == HD_REC_ASSEMBLING && (to == HD_REC_READY || to == HD_REC_FAILED));
}

hd_err hd_recording_set_state(struct hd_store *s, const char *meeting_id, const char *id, int from,
			      const struct hd_rec_change *to, struct hd_recording *out, bool *changed)
{
	if (s == NULL || to == NULL || out == NULL || changed == NULL)
		return HD_EBADREQUEST;
	*changed = false;
	if (!rec_key_ok(meeting_id, id) || !rec_move_ok(from, to->state) || to->at_ms < 0 || to->duration_ms < 0)
		return HD_EBADREQUEST;
	struct hd_rec_change c = *to;
	if (c.state == HD_REC_READY || c.state == HD_REC_FAILED) {
		if (c.error == NULL)
			c.error = "";
		size_t len = strnlen(c.error, HD_REC_ERROR_MAX + 1);
		if (len > HD_REC_ERROR_MAX || !hd_utf8_valid(c.error, len))
			return HD_EBADREQUEST;
	} else {
		c.error = "";
	}
	if (c.state != HD_REC_ASSEMBLING)
		c.total_chunks = 0;
	if (c.state != HD_REC_READY) {
		c.bytes = 0;
		c.duration_ms = 0;
	}
	return s->ops->rec_set_state(s, meeting_id, id, from, &c, out, changed);
}

hd_err hd_recording_get(struct hd_store *s, const char *meeting_id, const char *id, struct hd_recording *out)
{
	if (s == NULL || out == NULL)
		return HD_EBADREQUEST;
	if (!rec_key_ok(meeting_id, id))
		return HD_EUNKNOWNMEETING;
	return s->ops->rec_get(s, meeting_id, id, out);
}

hd_err hd_recording_list(struct hd_store *s, const char *meeting_id, struct hd_recording *out, size_t *n_out)
{
	if (s == NULL || out == NULL || n_out == NULL)
		return HD_EBADREQUEST;
	*n_out = 0;
	if (meeting_id == NULL || !hd_id_valid(meeting_id))
		return HD_EBADREQUEST;
	return s->ops->rec_list(s, meeting_id, out, n_out);
}

hd_err hd_recording_delete(struct hd_store *s, const char *meeting_id, const char *id)
{
	if (s == NULL)
		return HD_EBADREQUEST;
	if (!rec_key_ok(meeting_id, id))
		return HD_EUNKNOWNMEETING;
	return s->ops->rec_delete(s, meeting_id, id);
}

hd_err hd_recording_resumable(struct hd_store *s, int64_t idle_before_ms, struct hd_recording *out, size_t *n_out)
{
	if (s == NULL || out == NULL || n_out == NULL)
		return HD_EBADREQUEST;
	*n_out = 0;
	return s->ops->rec_resumable(s, idle_before_ms, out, n_out);
}

hd_err hd_recording_meeting_bytes(struct hd_store *s, const char *meeting_id, uint64_t *bytes)
{
	if (s == NULL || bytes == NULL)
		return HD_EBADREQUEST;
	*bytes = 0;
	if (meeting_id == NULL || !hd_id_valid(meeting_id))
		return HD_EBADREQUEST;
	return s->ops->rec_meeting_bytes(s, meeting_id, bytes);
}
