// export.c: chat and document exports over HTTP.
#include "gateway/export.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "gateway/access_http.h"
#include "gateway/chat.h"
#include "gateway/http.h"
#include "gateway/notes.h"

#define EXPORT_CHAT_PAGE 200 // messages per History call of a chat export

enum export_kind {
	EXPORT_CHAT,  // the whole chat, page by page
	EXPORT_NOTES, // one document's newest snapshot
};

// gw_export is one export in progress: the meeting, and for the chat the
// messages read so far.
struct gw_export {
	enum export_kind kind;
	char meeting_id[HD_ID_LEN + 1];
	bool markdown;     // chat: Markdown, else JSON
	uint32_t document; // notes: the DocumentKind
	cJSON *meeting;    // chat: the meeting's JSON, once the registry answered
	cJSON *messages;   // chat: the messages so far
	int64_t after_seq; // chat: the last seq read
};

static struct gw_export *export_alloc(enum export_kind kind, const char *meeting_id)
{
	struct gw_export *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->kind = kind;
	snprintf(e->meeting_id, sizeof(e->meeting_id), "%s", meeting_id);
	return e;
}

void gw_export_free(struct gw_export *e)
{
	if (e == NULL)
		return;
	cJSON_Delete(e->meeting);
	cJSON_Delete(e->messages);
	free(e);
}

// export_start asks the registry whether e's meeting exists. Returns e, or
// NULL once h is answered (e freed).
static struct gw_export *export_start(struct gw_export *e, struct gw_http *h, enum gw_op op)
{
	if (e == NULL) {
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
		return NULL;
	}
	// GetMeeting, or CheckHost with a host key: the meeting, and whether
	// this request may read it when it is not open (access_http.c).
	if (gw_access_http_meeting_call(h, op, e->meeting_id) != HD_OK) {
		gw_http_respond_error(h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
				      "the registry is unavailable");
		gw_export_free(e);
		return NULL;
	}
	return e;
}

// A growing text buffer for the markdown transcript; ok turns false on ENOMEM.
struct text {
	char *p;
	size_t len, cap;
	bool ok;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (!t->ok)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap > 0 ? t->cap : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (p == NULL) {
			t->ok = false;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

// text_inline adds s as inline markdown text: ASCII punctuation escaped
// with a backslash (CommonMark 2.4), line breaks turned into spaces, so a
// name or title shows as typed and cannot start a block or inject HTML.
static void text_inline(struct text *t, const char *s)
{
	for (; *s != '\0'; s++) {
		char c = *s;
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
		    (c >= '{' && c <= '~'))
			text_add(t, "\\", 1);
		text_add(t, &c, 1);
	}
}

// text_fenced adds s as a fenced code block (CommonMark 4.5) whose tilde
// fence is longer than any run of tildes in s, so the text is shown
// literally, whatever it holds.
static void text_fenced(struct text *t, const char *s)
{
	size_t run = 0, longest = 0;
	for (const char *c = s; *c != '\0'; c++) {
		run = *c == '~' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	size_t fence = longest >= 3 ? longest + 1 : 3;
	for (size_t i = 0; i < fence; i++)
		text_add(t, "~", 1);
	text_str(t, "text\n");
	text_str(t, s);
	text_str(t, "\n");
	for (size_t i = 0; i < fence; i++)
		text_add(t, "~", 1);
	text_str(t, "\n");
}

static void format_utc(int64_t ms, char *out, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	if (gmtime_r(&secs, &tm) == NULL || strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, len, "%lld ms", (long long)ms);
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int64_t json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

// respond_markdown answers h with the transcript of chat export e.
static void respond_markdown(struct gw_export *e, struct gw_http *h)
{
	struct text t = {.ok = true};
	char when[64], line[160];
	const char *title = json_str(e->meeting, "title");
	text_str(&t, "# ");
	if (title[0] != '\0')
		text_inline(&t, title);
	else
		text_str(&t, "Huddle meeting");
	text_str(&t, "\n\n");
	format_utc(hd_now_ms(), when, sizeof(when));
	int n = cJSON_GetArraySize(e->messages);
	snprintf(line, sizeof(line), "Chat of meeting `%s` (/m/%s): %d message%s, exported %s.\n\n", e->meeting_id,
		 e->meeting_id, n, n == 1 ? "" : "s", when);
	text_str(&t, line);
	const cJSON *m;
	cJSON_ArrayForEach(m, e->messages)
	{
		format_utc(json_int(m, "sentAtMs"), when, sizeof(when));
		text_str(&t, "---\n\n**");
		text_inline(&t, json_str(m, "senderName"));
		snprintf(line, sizeof(line), "** · %s · #%lld%s\n\n", when, (long long)json_int(m, "seq"),
			 json_str(m, "senderId")[0] != '\0' ? " · in the call" : "");
		text_str(&t, line);
		text_fenced(&t, json_str(m, "text"));
		text_str(&t, "\n");
	}
	if (!t.ok) {
		free(t.p);
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
		return;
	}
	char disposition[96];
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"huddle-chat-%s.md\"", e->meeting_id);
	gw_http_respond(h, HTTP_STATUS_OK, "text/markdown; charset=utf-8", disposition, t.p, t.len);
	free(t.p);
}

static void chat_finish(struct gw_export *e, struct gw_http *h)
{
	gw.stats.chat_exports++;
	if (e->markdown) {
		respond_markdown(e, h);
		return;
	}
	cJSON *root = cJSON_CreateObject();
	char *s = NULL;
	if (root != NULL) {
		cJSON_AddItemToObject(root, "meeting", e->meeting);
		cJSON_AddItemToObject(root, "messages", e->messages);
		e->meeting = e->messages = NULL; // root owns them now
		s = cJSON_PrintUnformatted(root);
		cJSON_Delete(root);
	}
	if (s == NULL) {
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
		return;
	}
	gw_http_respond(h, HTTP_STATUS_OK, "application/json", NULL, s, strlen(s));
	cJSON_free(s);
}

// chat_page asks huddle-chat for the next page of chat export e.
static void chat_page(struct gw_export *e, struct gw_http *h)
{
	Huddle__V1__ChatRequest req = HUDDLE__V1__CHAT_REQUEST__INIT;
	Huddle__V1__ChatServiceHistoryRequest hr = HUDDLE__V1__CHAT_SERVICE_HISTORY_REQUEST__INIT;
	hr.meeting_id = e->meeting_id;
	hr.after_seq = e->after_seq;
	hr.limit = EXPORT_CHAT_PAGE;
	req.body_case = HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY;
	req.history = &hr;
	if (gw_http_chat_call(h, GW_OP_HTTP_CHAT_PAGE, &req) != HD_OK)
		gw_http_respond_error(h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
				      "the chat service is unavailable");
}

void gw_export_on_chat_reply(struct gw_export *e, struct gw_http *h, hd_err err, Huddle__V1__ChatReply *r)
{
	const char *why = NULL;
	hd_err code = gw_chat_failed(err, r, HUDDLE__V1__CHAT_REPLY__BODY_HISTORY, &why);
	if (code != HD_OK) {
		gw_http_respond_error(h, gw_http_status_of(code), code, why);
		return;
	}
	Huddle__V1__ChatServiceHistoryReply *hist = r->history;
	for (size_t i = 0; i < hist->n_messages; i++) {
		const Huddle__V1__ChatMessage *m = hist->messages[i];
		if (m == NULL || m->seq <= e->after_seq)
			continue;
		cJSON *o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddItemToArray(e->messages, o)) {
			cJSON_Delete(o);
			gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
			return;
		}
		cJSON_AddNumberToObject(o, "seq", (double)m->seq);
		cJSON_AddStringToObject(o, "clientMessageId", m->client_message_id);
		cJSON_AddStringToObject(o, "senderId", m->sender_id);
		cJSON_AddStringToObject(o, "senderName", m->sender_name);
		cJSON_AddStringToObject(o, "text", m->text);
		cJSON_AddNumberToObject(o, "sentAtMs", (double)m->sent_at_ms);
		e->after_seq = m->seq;
	}
	if (hist->more && hist->n_messages > 0)
		chat_page(e, h);
	else
		chat_finish(e, h);
}

struct gw_export *gw_export_chat(struct gw_http *h, const char *meeting_id, bool markdown)
{
	if (!hd_id_valid(meeting_id)) {
		gw_http_respond_error(h, HTTP_STATUS_NOT_FOUND, HD_EUNKNOWNMEETING, "no meeting has that id");
		return NULL;
	}
	struct gw_export *e = export_alloc(EXPORT_CHAT, meeting_id);
	if (e != NULL)
		e->markdown = markdown;
	return export_start(e, h, GW_OP_HTTP_CHAT_MEETING);
}

// ---- document export ----

const char *gw_export_extension(const char *language)
{
	static const struct {
		const char *language, *ext;
	} exts[] = {
		{"c", "c"},   {"cpp", "cpp"},       {"c++", "cpp"}, {"java", "java"},     {"python", "py"},
		{"py", "py"}, {"javascript", "js"}, {"js", "js"},   {"typescript", "ts"}, {"ts", "ts"},
		{"go", "go"}, {"golang", "go"},     {"rust", "rs"}, {"rs", "rs"},         {"sql", "sql"},
	};
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcmp(language, exts[i].language) == 0)
			return exts[i].ext;
	return "txt";
}

// notes_read asks huddle-notes for the newest snapshot of e's document.
static void notes_read(struct gw_export *e, struct gw_http *h)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceVersionRequest vr = HUDDLE__V1__NOTES_SERVICE_VERSION_REQUEST__INIT;
	vr.meeting_id = e->meeting_id;
	vr.document = (Huddle__V1__DocumentKind)e->document;
	vr.version = 0; // the newest
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_VERSION;
	req.version = &vr;
	if (gw_http_notes_call(h, GW_OP_HTTP_NOTES_EXPORT, e->document, &req) != HD_OK)
		gw_http_respond_error(h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
				      "the notes service is unavailable");
}

void gw_export_on_notes_reply(struct gw_export *e, struct gw_http *h, hd_err err, Huddle__V1__NotesReply *r)
{
	const char *why = NULL;
	hd_err code = gw_notes_failed(err, r, HUDDLE__V1__NOTES_REPLY__BODY_VERSION, &why);
	if (code != HD_OK) {
		gw_http_respond_error(h, gw_http_status_of(code), code, why);
		return;
	}
	// No snapshot yet (version 0): an empty file.
	const Huddle__V1__NotesSnapshot *snap = r->version->snapshot;
	bool any = snap != NULL && snap->version != NULL && snap->version->version > 0;
	const char *text = any ? snap->text : "";
	char disposition[64];
	gw.stats.notes_exports++;
	if (e->document == HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES) {
		gw_http_respond(h, HTTP_STATUS_OK, "text/markdown; charset=utf-8", "attachment; filename=\"notes.md\"",
				text, strlen(text));
		return;
	}
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"code.%s\"",
		 gw_export_extension(any ? snap->version->language : ""));
	gw_http_respond(h, HTTP_STATUS_OK, "text/plain; charset=utf-8", disposition, text, strlen(text));
}

struct gw_export *gw_export_notes(struct gw_http *h, const char *meeting_id, uint32_t document)
{
	if (!hd_id_valid(meeting_id)) {
		gw_http_respond_error(h, HTTP_STATUS_NOT_FOUND, HD_EUNKNOWNMEETING, "no meeting has that id");
		return NULL;
	}
	struct gw_export *e = export_alloc(EXPORT_NOTES, meeting_id);
	if (e != NULL)
		e->document = document;
	return export_start(e, h, GW_OP_HTTP_NOTES_MEETING);
}

// ---- both ----

void gw_export_on_meeting(struct gw_export *e, struct gw_http *h, hd_err err, Huddle__V1__RegistryReply *r)
{
	if (err == HD_OK && r->error != NULL && r->error->code != 0)
		err = (hd_err)r->error->code;
	if (err != HD_OK) {
		const char *msg =
			r != NULL && r->error != NULL && r->error->message[0] != '\0' ? r->error->message : NULL;
		gw_http_respond_error(h, gw_http_status_of(err), err, msg);
		return;
	}
	if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING || r->get_meeting->meeting == NULL) {
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_EINTERNAL,
				      "bad reply from the registry");
		return;
	}
	if (e->kind == EXPORT_NOTES) {
		notes_read(e, h);
		return;
	}
	cJSON_Delete(e->meeting);
	cJSON_Delete(e->messages);
	e->meeting = gw_http_meeting_json(r->get_meeting->meeting);
	e->messages = cJSON_CreateArray();
	e->after_seq = 0;
	if (e->meeting == NULL || e->messages == NULL)
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
	else
		chat_page(e, h);
}
