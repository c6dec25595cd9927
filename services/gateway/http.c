// http.c: static web app, JSON API, health and metrics over HTTP/1.1.
#include "gateway/http.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uthash.h>

#include "common/log.h"
#include "gateway/access_http.h"
#include "gateway/export.h"
#include "gateway/metrics.h"
#include "gateway/recording.h"
#include "gateway/websec.h"

// http_phase is where a response stands.
enum http_phase {
	HTTP_IDLE,        // nothing to write (not answered yet, or done)
	HTTP_HEADERS_DUE, // the status line and headers are next
	HTTP_BODY_DUE,    // body bytes from resp_off on are next
	HTTP_STREAM_DUE,  // streamed body bytes (recording.c's download) are next
	HTTP_STREAM_WAIT, // the download has no bytes ready; gw_http_stream_ready wakes us
};

// gw_http is one HTTP connection's state (lws per-session data). While it
// waits for a service it is indexed in gw.https by id.
struct gw_http {
	uint64_t id;
	struct lws *wsi;
	enum gw_op op;
	char *body;
	size_t body_len;
	bool body_too_large;
	int status;
	const char *ctype;
	uint8_t *resp; // LWS_PRE headroom, then resp_len bytes
	size_t resp_len, resp_off;
	enum http_phase phase;
	bool head;                     // HEAD request: headers only
	char disposition[96];          // Content-Disposition of the response, or ""
	struct gw_export *export;      // an export in progress (export.c), or NULL
	struct gw_rec *rec;            // a recording request in progress (recording.c), or NULL
	char extra[GW_HTTP_EXTRA_MAX]; // headers of the response: "name:\0value\0" each
	size_t extra_len;
	bool close_after;         // close the connection once the response is written
	bool stream;              // the body comes from rec (gw_http_stream)
	uint64_t stream_len;      // Content-Length of a streamed body
	uint64_t stream_left;     // its bytes not written yet
	gw_http_body_fn *on_body; // the API that takes the body once it is read (access_http.c), or NULL
	char arg[HD_ID_LEN + 1];  // that API's meeting id, or ""
	bool authorized;          // a host key or recording token of the meeting came with the request
	UT_hash_handle hh;
};

const size_t gw_http_pss_size = sizeof(struct gw_http);

static void http_reset(struct gw_http *h)
{
	if (h->id != 0) {
		HASH_DEL(gw.https, h);
		h->id = 0;
	}
	free(h->body);
	free(h->resp);
	gw_export_free(h->export);
	h->export = NULL;
	gw_rec_free(h->rec);
	h->rec = NULL;
	h->extra_len = 0;
	h->close_after = h->stream = false;
	h->stream_len = h->stream_left = 0;
	h->disposition[0] = '\0';
	h->body = NULL;
	h->resp = NULL;
	h->body_len = h->resp_len = h->resp_off = 0;
	h->body_too_large = false;
	h->phase = HTTP_IDLE;
	h->on_body = NULL;
	h->arg[0] = '\0';
	h->authorized = false;
}

// respond queues a complete response; it is written when lws says the
// connection is writeable.
static void respond(struct gw_http *h, int status, const char *ctype, const char *body, size_t len)
{
	free(h->resp);
	h->resp = malloc(LWS_PRE + len + 1);
	h->resp_off = 0;
	if (h->resp == NULL) {
		h->resp_len = 0;
		status = HTTP_STATUS_INTERNAL_SERVER_ERROR;
	} else {
		memcpy(h->resp + LWS_PRE, body, len);
		h->resp_len = len;
	}
	h->status = status;
	h->ctype = ctype;
	h->stream = false;
	h->phase = HTTP_HEADERS_DUE;
	lws_callback_on_writable(h->wsi);
}

void gw_http_respond(struct gw_http *h, int status, const char *ctype, const char *disposition, const char *body,
		     size_t len)
{
	snprintf(h->disposition, sizeof(h->disposition), "%s", disposition != NULL ? disposition : "");
	respond(h, status, ctype, body, len);
}

struct lws *gw_http_wsi(const struct gw_http *h)
{
	return h->wsi;
}

bool gw_http_header(struct gw_http *h, const char *name, const char *value)
{
	size_t n = strlen(name) + 1, v = strlen(value) + 1;
	if (h->extra_len + n + v > sizeof(h->extra))
		return false;
	memcpy(h->extra + h->extra_len, name, n);
	memcpy(h->extra + h->extra_len + n, value, v);
	h->extra_len += n + v;
	return true;
}

void gw_http_close_after(struct gw_http *h)
{
	h->close_after = true;
}

void gw_http_stream(struct gw_http *h, int status, const char *ctype, const char *disposition, uint64_t length)
{
	free(h->resp);
	h->resp = NULL;
	h->resp_len = h->resp_off = 0;
	snprintf(h->disposition, sizeof(h->disposition), "%s", disposition != NULL ? disposition : "");
	h->status = status;
	h->ctype = ctype;
	h->stream = true;
	h->stream_len = h->stream_left = length;
	h->phase = HTTP_HEADERS_DUE;
	lws_callback_on_writable(h->wsi);
}

void gw_http_stream_ready(struct gw_http *h)
{
	if (h->phase != HTTP_STREAM_WAIT)
		return;
	h->phase = HTTP_STREAM_DUE;
	lws_callback_on_writable(h->wsi);
}

static void respond_text(struct gw_http *h, int status, const char *text)
{
	respond(h, status, "text/plain; charset=utf-8", text, strlen(text));
}

void gw_http_respond_json(struct gw_http *h, int status, cJSON *json)
{
	char *s = json != NULL ? cJSON_PrintUnformatted(json) : NULL;
	if (s == NULL) {
		respond_text(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, "out of memory\n");
	} else {
		respond(h, status, "application/json", s, strlen(s));
		cJSON_free(s);
	}
	cJSON_Delete(json);
}

void gw_http_respond_error(struct gw_http *h, int status, hd_err code, const char *message)
{
	cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(e, "code", hd_err_name(code));
	cJSON_AddStringToObject(e, "message", message != NULL ? message : hd_strerror(code));
	gw_http_respond_json(h, status, root);
}

int gw_http_status_of(hd_err code)
{
	switch (code) {
	case HD_EBADREQUEST:
	case HD_EMALFORMED:
		return HTTP_STATUS_BAD_REQUEST;
	case HD_EUNKNOWNMEETING:
	case HD_EUNKNOWNPARTICIPANT:
		return HTTP_STATUS_NOT_FOUND;
	case HD_EFORBIDDEN:
	case HD_EMEETINGLOCKED:
	case HD_ETOKENINVALID:
	case HD_EBLOCKED:
	case HD_EDENIED:
		return HTTP_STATUS_FORBIDDEN;
	case HD_ETOOLARGE:
		return HTTP_STATUS_REQ_ENTITY_TOO_LARGE;
	case HD_ERATELIMITED:
		return GW_HTTP_STATUS_TOO_MANY_REQUESTS;
	case HD_ETIMEOUT:
		return HTTP_STATUS_GATEWAY_TIMEOUT;
	case HD_EUNAVAILABLE:
	case HD_ECLOSED:
		return HTTP_STATUS_SERVICE_UNAVAILABLE;
	default:
		return HTTP_STATUS_INTERNAL_SERVER_ERROR;
	}
}

// ---- service-backed requests ----

// http_wait indexes h by a fresh id, the conn_id of the call it is about to make.
static void http_wait(struct gw_http *h, enum gw_op op)
{
	h->id = gw_next_id();
	h->op = op;
	HASH_ADD(hh, gw.https, id, sizeof(h->id), h);
}

// http_waited finds the request p's reply is for and takes it out of the index;
// NULL when the client went away.
struct gw_http *gw_http_waited(const struct gw_pending *p)
{
	struct gw_http *h = NULL;
	HASH_FIND(hh, gw.https, &p->conn_id, sizeof(p->conn_id), h);
	if (h != NULL) {
		HASH_DEL(gw.https, h);
		h->id = 0;
	}
	return h;
}

// http_unwait undoes http_wait after a call that could not be sent, and passes err on.
static hd_err http_unwait(struct gw_http *h, hd_err err)
{
	if (err != HD_OK) {
		HASH_DEL(gw.https, h);
		h->id = 0;
	}
	return err;
}

hd_err gw_http_registry_call(struct gw_http *h, enum gw_op op, Huddle__V1__RegistryRequest *req)
{
	http_wait(h, op);
	return http_unwait(h, gw_registry_call(op, h->id, 0, req));
}

hd_err gw_http_chat_call(struct gw_http *h, enum gw_op op, Huddle__V1__ChatRequest *req)
{
	http_wait(h, op);
	return http_unwait(h, gw_chat_call(op, h->id, 0, req));
}

hd_err gw_http_notes_call(struct gw_http *h, enum gw_op op, uint32_t document, Huddle__V1__NotesRequest *req)
{
	http_wait(h, op);
	return http_unwait(h, gw_notes_call(op, h->id, 0, document, req));
}

hd_err gw_http_recording_call(struct gw_http *h, enum gw_op op, Huddle__V1__RecordingRequest *req)
{
	http_wait(h, op);
	return http_unwait(h, gw_recording_call(op, h->id, 0, req));
}

static void http_call(struct gw_http *h, enum gw_op op, Huddle__V1__RegistryRequest *req)
{
	if (gw_http_registry_call(h, op, req) == HD_OK)
		return;
	if (op == GW_OP_HTTP_READY)
		respond_text(h, HTTP_STATUS_SERVICE_UNAVAILABLE, "not ready: registry unavailable\n");
	else
		gw_http_respond_error(h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE, NULL);
}

static void api_create_meeting(struct gw_http *h)
{
	char *title = "";
	cJSON *json = NULL;
	if (h->body_too_large) {
		gw_http_respond_error(h, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, HD_ETOOLARGE,
				      "request body over " HD_XSTR(GW_HTTP_BODY_MAX) " bytes");
		return;
	}
	if (h->body_len > 0) {
		json = cJSON_ParseWithLength(h->body, h->body_len);
		if (json == NULL || !cJSON_IsObject(json)) {
			cJSON_Delete(json);
			gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST, "body must be a JSON object");
			return;
		}
		cJSON *t = cJSON_GetObjectItemCaseSensitive(json, "title");
		if (t != NULL && !cJSON_IsNull(t)) {
			if (!cJSON_IsString(t)) {
				cJSON_Delete(json);
				gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
						      "title must be a string");
				return;
			}
			title = t->valuestring;
		}
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__CreateMeetingRequest cm = HUDDLE__V1__CREATE_MEETING_REQUEST__INIT;
	cm.title = title;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_CREATE_MEETING;
	req.create_meeting = &cm;
	http_call(h, GW_OP_HTTP_CREATE, &req);
	cJSON_Delete(json);
}

static void api_get_meeting(struct gw_http *h, const char *id)
{
	if (!hd_id_valid(id)) {
		gw_http_respond_error(h, HTTP_STATUS_NOT_FOUND, HD_EUNKNOWNMEETING, "no meeting has that id");
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__GetMeetingRequest gm = HUDDLE__V1__GET_MEETING_REQUEST__INIT;
	gm.meeting_id = (char *)id;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING;
	req.get_meeting = &gm;
	http_call(h, GW_OP_HTTP_GET, &req);
}

static void readyz(struct gw_http *h)
{
	// Without the event bus, rooms would miss joins, leaves and relays.
	if (hd_sub_connected(gw.events) == 0) {
		respond_text(h, HTTP_STATUS_SERVICE_UNAVAILABLE, "not ready: registry event bus not connected\n");
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__HealthRequest hr = HUDDLE__V1__HEALTH_REQUEST__INIT;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_HEALTH;
	req.health = &hr;
	http_call(h, GW_OP_HTTP_READY, &req);
}

void gw_http_expect_body(struct gw_http *h, gw_http_body_fn *fn, const char *arg)
{
	h->on_body = fn;
	snprintf(h->arg, sizeof(h->arg), "%s", arg != NULL ? arg : "");
}

const char *gw_http_body(const struct gw_http *h, size_t *len, bool *too_large)
{
	*len = h->body_len;
	*too_large = h->body_too_large;
	return h->body;
}

const char *gw_http_arg(const struct gw_http *h)
{
	return h->arg;
}

void gw_http_set_authorized(struct gw_http *h, bool authorized)
{
	h->authorized = authorized;
}

bool gw_http_authorized(const struct gw_http *h)
{
	return h->authorized;
}

// access_mode_names are the API's names of huddle.v1.AccessMode, by number.
static const char *const access_mode_names[] = {
	[HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN] = "open",
	[HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_WAITING_ROOM] = "waiting_room",
	[HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_LOCKED] = "locked",
	[HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_TOKEN_ONLY] = "token_only",
};
#define ACCESS_MODE_COUNT (sizeof(access_mode_names) / sizeof(access_mode_names[0]))

const char *gw_http_access_mode_name(int mode)
{
	if (mode <= 0 || (size_t)mode >= ACCESS_MODE_COUNT)
		return "open"; // UNSPECIFIED (a record from before modes) is open
	return access_mode_names[mode];
}

int gw_http_access_mode_parse(const char *name)
{
	for (size_t i = 1; name != NULL && i < ACCESS_MODE_COUNT; i++)
		if (strcmp(name, access_mode_names[i]) == 0)
			return (int)i;
	return 0;
}

cJSON *gw_http_meeting_json(const Huddle__V1__Meeting *m)
{
	char url[64];
	cJSON *o = cJSON_CreateObject();
	snprintf(url, sizeof(url), "/m/%s", m->id);
	cJSON_AddStringToObject(o, "id", m->id);
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddStringToObject(o, "title", m->title);
	cJSON_AddNumberToObject(o, "createdAtMs", (double)m->created_at_ms);
	cJSON_AddNumberToObject(o, "created_at_ms", (double)m->created_at_ms);
	cJSON_AddStringToObject(o, "access_mode", gw_http_access_mode_name((int)m->access_mode));
	cJSON_AddNumberToObject(o, "starts_at_ms", (double)m->starts_at_ms);
	return o;
}

void gw_http_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	struct gw_http *h = gw_http_waited(p);
	if (h == NULL)
		return; // the client went away
	struct gw_access_checked checked;
	if (p->op == GW_OP_HTTP_CHAT_MEETING || p->op == GW_OP_HTTP_NOTES_MEETING || p->op == GW_OP_HTTP_REC_MEETING)
		r = gw_access_http_check(h, err, r, &checked); // a meeting that is not open needs a key or token
	if (p->op == GW_OP_HTTP_CHAT_MEETING || p->op == GW_OP_HTTP_NOTES_MEETING) {
		if (h->export != NULL)
			gw_export_on_meeting(h->export, h, err, r);
		return;
	}
	if (p->op == GW_OP_HTTP_REC_MEETING) {
		if (h->rec != NULL)
			gw_rec_on_meeting(h->rec, h, err, r);
		return;
	}
	if (err == HD_OK && r->error != NULL && r->error->code != 0)
		err = (hd_err)r->error->code;
	if (p->op == GW_OP_HTTP_READY) {
		if (err == HD_OK)
			respond_text(h, HTTP_STATUS_OK, "ready\n");
		else {
			char msg[128];
			snprintf(msg, sizeof(msg), "not ready: %s\n", hd_strerror(err));
			respond_text(h, HTTP_STATUS_SERVICE_UNAVAILABLE, msg);
		}
		return;
	}
	if (err != HD_OK) {
		const char *msg =
			r != NULL && r->error != NULL && r->error->message[0] != '\0' ? r->error->message : NULL;
		gw_http_respond_error(h, gw_http_status_of(err), err, msg);
		return;
	}
	if (p->op == GW_OP_HTTP_CREATE && r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_CREATE_MEETING &&
	    r->create_meeting->meeting != NULL) {
		// The host key is in this answer only (never in a log or a GET).
		cJSON *o = gw_http_meeting_json(r->create_meeting->meeting);
		if (o != NULL && r->create_meeting->host_key[0] != '\0')
			cJSON_AddStringToObject(o, "host_key", r->create_meeting->host_key);
		gw_http_respond_json(h, 201, o);
	} else if (p->op == GW_OP_HTTP_GET && r->body_case == HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING &&
		   r->get_meeting->meeting != NULL)
		gw_http_respond_json(h, HTTP_STATUS_OK, gw_http_meeting_json(r->get_meeting->meeting));
	else
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_EINTERNAL,
				      "bad reply from the registry");
}

void gw_http_on_chat_reply(const struct gw_pending *p, hd_err err, Huddle__V1__ChatReply *r)
{
	struct gw_http *h = gw_http_waited(p);
	if (h != NULL && h->export != NULL)
		gw_export_on_chat_reply(h->export, h, err, r);
}

void gw_http_on_notes_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r)
{
	struct gw_http *h = gw_http_waited(p);
	if (h != NULL && h->export != NULL)
		gw_export_on_notes_reply(h->export, h, err, r);
}

void gw_http_on_recording_reply(const struct gw_pending *p, hd_err err, Huddle__V1__RecordingReply *r)
{
	struct gw_http *h = gw_http_waited(p);
	if (h != NULL && h->rec != NULL)
		gw_rec_on_reply(h->rec, h, err, r);
}

// ---- exports ----

// api_chat_export starts GET /api/meetings/<id>/chat?format=json|markdown.
static void api_chat_export(struct gw_http *h, const char *id)
{
	char buf[64];
	bool markdown;
	const char *format = lws_get_urlarg_by_name(h->wsi, "format=", buf, sizeof(buf));
	if (format == NULL || strcmp(format, "json") == 0) {
		markdown = false;
	} else if (strcmp(format, "markdown") == 0 || strcmp(format, "md") == 0) {
		markdown = true;
	} else {
		gw_http_respond_error(h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST, "format must be json or markdown");
		return;
	}
	h->export = gw_export_chat(h, id, markdown);
}

// api_export routes GET /api/meetings/<id>/<what> (what: chat, notes.md,
// code); the id is checked before anything is asked.
static void api_export(struct gw_http *h, const char *rest, const char *slash)
{
	char id[HD_ID_LEN + 1] = "";
	if (slash - rest == HD_ID_LEN) {
		memcpy(id, rest, HD_ID_LEN);
		id[HD_ID_LEN] = '\0';
	}
	if (strcmp(slash, "/chat") == 0)
		api_chat_export(h, id);
	else if (strcmp(slash, "/notes.md") == 0)
		h->export = gw_export_notes(h, id, HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES);
	else
		h->export = gw_export_notes(h, id, HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE);
}

// ---- metrics ----

static void metrics(struct gw_http *h)
{
	char buf[GW_METRICS_MAX];
	size_t n = gw_metrics_format(buf, sizeof(buf));
	respond(h, HTTP_STATUS_OK, "text/plain; version=0.0.4", buf, n);
}

// ---- static files ----

static const char *mime_of(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		// WebAssembly.instantiateStreaming refuses any other type (background blur's model runtime).
		{".wasm", "application/wasm"},
		{".css", "text/css; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".json", "application/json"},
		{".map", "application/json"},
		{".woff2", "font/woff2"},
		{".txt", "text/plain; charset=utf-8"},
		{".webmanifest", "application/manifest+json"},
	};
	const char *dot = strrchr(path, '.');
	if (dot != NULL)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].mime;
	return "application/octet-stream";
}

// serve_file sends web_root + rel. Returns what the lws callback returns.
static int serve_file(struct gw_http *h, const char *rel, bool immutable)
{
	char path[1024];
	struct stat st;
	unsigned char hdr[LWS_PRE + 256 + GW_HTTP_SECURITY_HEADERS], *p = hdr + LWS_PRE, *end = hdr + sizeof(hdr);
	snprintf(path, sizeof(path), "%s%s", gw.cfg.web_root, rel);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		respond_text(h, HTTP_STATUS_NOT_FOUND, "not found\n");
		return 0;
	}
	const char *cache = immutable ? "public, max-age=31536000, immutable" : "no-cache";
	if (lws_add_http_header_by_name(h->wsi, (const unsigned char *)"cache-control:", (const unsigned char *)cache,
					(int)strlen(cache), &p, end) ||
	    gw_websec_headers(h->wsi, &p, end))
		return -1;
	int n = lws_serve_http_file(h->wsi, path, mime_of(path), (const char *)hdr + LWS_PRE,
				    (int)(p - (hdr + LWS_PRE)));
	if (n < 0 || (n > 0 && lws_http_transaction_completed(h->wsi)))
		return -1;
	return 0;
}

static bool path_safe(const char *uri)
{
	return uri[0] == '/' && strstr(uri, "..") == NULL && strchr(uri, '\\') == NULL && strstr(uri, "//") == NULL;
}

// ---- routing ----

// create_limited answers 429 when the client's address made more than
// MEETINGS_PER_ADDRESS_PER_MINUTE meetings or spaces in the last minute (websec.c).
static bool create_limited(struct gw_http *h)
{
	int64_t retry_after_s;
	char value[24];
	if (gw_websec_create_allowed(h->wsi, hd_mono_ms(), &retry_after_s))
		return false;
	snprintf(value, sizeof(value), "%lld", (long long)retry_after_s);
	gw_http_header(h, "retry-after:", value);
	// The body (if any) is not read: the connection ends with this answer.
	gw_http_header(h, "connection:", "close");
	gw_http_close_after(h);
	gw.stats.rate_limited++;
	gw_http_respond_error(h, GW_HTTP_STATUS_TOO_MANY_REQUESTS, HD_ERATELIMITED,
			      "too many meetings or spaces created from this address; try again later");
	return true;
}

static int http_route(struct gw_http *h, const char *uri, enum gw_http_method method)
{
	bool get = method == GW_HTTP_GET || method == GW_HTTP_HEAD, post = method == GW_HTTP_POST;
	gw.stats.http_requests++;
	if (strcmp(uri, "/healthz") == 0 || strcmp(uri, "/readyz") == 0 || strcmp(uri, "/metrics") == 0) {
		if (!get)
			respond_text(h, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
		else if (uri[1] == 'h')
			respond_text(h, HTTP_STATUS_OK, "ok\n");
		else if (uri[1] == 'r')
			readyz(h);
		else
			metrics(h);
		return 0;
	}
	// Every path that creates a meeting or a space shares one bucket.
	if (post &&
	    (strcmp(uri, "/api/meetings") == 0 || strcmp(uri, "/api/spaces") == 0 ||
	     strcmp(uri, "/api/space/meetings") == 0) &&
	    create_limited(h))
		return 0;
	if (gw_access_http_route(h, uri, method))
		return 0;
	if (strcmp(uri, "/api/meetings") == 0) {
		if (!post) {
			gw_http_respond_error(h, HTTP_STATUS_METHOD_NOT_ALLOWED, HD_EBADREQUEST, "use POST");
			return 0;
		}
		// The body, if any, arrives in LWS_CALLBACK_HTTP_BODY.
		if (lws_hdr_total_length(h->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
			return 0;
		api_create_meeting(h);
		return 0;
	}
	if (strncmp(uri, "/api/meetings/", 14) == 0) {
		const char *rest = uri + 14, *slash = strchr(rest, '/');
		if (slash != NULL && strncmp(slash, "/recordings", 11) == 0 &&
		    (slash[11] == '\0' || slash[11] == '/')) {
			// Any method: recording.c answers, and reads any body first.
			h->rec = gw_rec_start(h, method, rest);
			return 0;
		}
		if (!get) {
			gw_http_respond_error(h, HTTP_STATUS_METHOD_NOT_ALLOWED, HD_EBADREQUEST, "use GET");
		} else if (slash == NULL) {
			api_get_meeting(h, rest);
		} else if (strcmp(slash, "/chat") == 0 || strcmp(slash, "/notes.md") == 0 ||
			   strcmp(slash, "/code") == 0) {
			api_export(h, rest, slash);
		} else {
			gw_http_respond_error(h, HTTP_STATUS_NOT_FOUND, HD_EBADREQUEST, "no such API");
		}
		return 0;
	}
	if (strncmp(uri, "/api/", 5) == 0 || strcmp(uri, "/api") == 0) {
		gw_http_respond_error(h, HTTP_STATUS_NOT_FOUND, HD_EBADREQUEST, "no such API");
		return 0;
	}
	if (!get) {
		respond_text(h, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
		return 0;
	}
	if (!path_safe(uri)) {
		respond_text(h, HTTP_STATUS_NOT_FOUND, "not found\n");
		return 0;
	}
	// The single-page app answers /, /dashboard and every meeting link.
	if (strcmp(uri, "/") == 0 || strcmp(uri, "/index.html") == 0 || strcmp(uri, "/dashboard") == 0 ||
	    strncmp(uri, "/m/", 3) == 0)
		return serve_file(h, "/index.html", false);
	return serve_file(h, uri, strncmp(uri, "/assets/", 8) == 0);
}

// http_write_headers writes the status line and headers of h's response.
// Returns 0, or 1 when they do not fit (the connection closes).
static int http_write_headers(struct gw_http *h, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + 512 + GW_HTTP_EXTRA_MAX + GW_HTTP_SECURITY_HEADERS],
		*start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	// A 204 has no Content-Length (RFC 9110 section 8.6); lws then closes.
	lws_filepos_t length = h->stream ? h->stream_len : h->head ? 0 : h->resp_len;
	if (h->status == HTTP_STATUS_NO_CONTENT)
		length = LWS_ILLEGAL_HTTP_CONTENT_LEN;
	if (lws_add_http_common_headers(wsi, (unsigned int)h->status, h->ctype, length, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:", (const unsigned char *)"no-store",
					8, &p, end) ||
	    gw_websec_headers(wsi, &p, end) ||
	    (h->disposition[0] != '\0' &&
	     lws_add_http_header_by_name(wsi, (const unsigned char *)"content-disposition:",
					 (const unsigned char *)h->disposition, (int)strlen(h->disposition), &p, end)))
		return 1;
	for (size_t off = 0; off < h->extra_len;) {
		const char *name = h->extra + off, *value = name + strlen(name) + 1;
		off += strlen(name) + strlen(value) + 2;
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
						(int)strlen(value), &p, end))
			return 1;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	return 0;
}

// http_writeable writes the next part of h's response: the headers, then
// the body in GW_HTTP_WRITE_MAX pieces, one per writeable callback. Returns
// what the lws callback returns.
// http_done ends h's response once its last byte is written: the
// connection waits for the next request, or closes. Returns what the lws
// callback returns.
static int http_done(struct gw_http *h, struct lws *wsi)
{
	gw_rec_free(h->rec); // what it held is written
	h->rec = NULL;
	h->phase = HTTP_IDLE;
	free(h->resp);
	h->resp = NULL;
	h->resp_len = h->resp_off = 0;
	if (h->close_after || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

// http_write_stream writes the next piece of a streamed body, as much as
// recording.c has ready (up to GW_HTTP_WRITE_MAX). Returns what the lws
// callback returns.
static int http_write_stream(struct gw_http *h, struct lws *wsi)
{
	uint8_t *data = NULL;
	bool failed = false;
	size_t n = 0;
	if (h->head || h->stream_left == 0)
		return http_done(h, wsi);
	if (h->rec != NULL)
		n = gw_rec_pull(h->rec, h->stream_left < GW_HTTP_WRITE_MAX ? (size_t)h->stream_left : GW_HTTP_WRITE_MAX,
				&data, &failed);
	if (h->rec == NULL || failed)
		return -1; // the status is sent: a short body is all the client can learn
	if (n == 0) {
		h->phase = HTTP_STREAM_WAIT;
		return 0;
	}
	bool last = n == h->stream_left;
	// data has LWS_PRE writable bytes before it (gw_rec_pull's promise).
	if (lws_write(wsi, data, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	h->stream_left -= n;
	gw_rec_pulled(h->rec, h, n);
	if (last)
		return http_done(h, wsi);
	lws_callback_on_writable(wsi);
	return 0;
}

static int http_writeable(struct gw_http *h, struct lws *wsi)
{
	switch (h->phase) {
	case HTTP_HEADERS_DUE:
		if (http_write_headers(h, wsi) != 0)
			return 1;
		h->phase = h->stream ? HTTP_STREAM_DUE : HTTP_BODY_DUE;
		lws_callback_on_writable(wsi);
		return 0;
	case HTTP_BODY_DUE: {
		size_t n = h->head ? 0 : h->resp_len - h->resp_off;
		if (n > GW_HTTP_WRITE_MAX)
			n = GW_HTTP_WRITE_MAX;
		bool last = h->head || h->resp_off + n == h->resp_len;
		// The LWS_PRE bytes before a later piece are body already sent,
		// which lws may overwrite.
		if (n > 0 && lws_write(wsi, h->resp + LWS_PRE + h->resp_off, n,
				       last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
			return 1;
		h->resp_off += n;
		if (!last) {
			lws_callback_on_writable(wsi);
			return 0;
		}
		return http_done(h, wsi);
	}
	case HTTP_STREAM_DUE:
		return http_write_stream(h, wsi);
	default:
		return 0;
	}
}

static enum gw_http_method http_method(struct lws *wsi)
{
	static const struct {
		enum lws_token_indexes token;
		enum gw_http_method method;
	} methods[] = {
		{WSI_TOKEN_GET_URI, GW_HTTP_GET},       {WSI_TOKEN_HEAD_URI, GW_HTTP_HEAD},
		{WSI_TOKEN_POST_URI, GW_HTTP_POST},     {WSI_TOKEN_PUT_URI, GW_HTTP_PUT},
		{WSI_TOKEN_DELETE_URI, GW_HTTP_DELETE},
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (lws_hdr_total_length(wsi, methods[i].token) > 0)
			return methods[i].method;
	return GW_HTTP_OTHER;
}

int gw_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct gw_http *h = user;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return 1; // WebSocket needs the huddle.v1 subprotocol
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		// Cross-site WebSocket hijacking (RFC 6455 section 10.2): a page of
		// another site may not use a visitor's browser to reach the gateway.
		if (!gw_websec_origin_allowed(wsi)) {
			gw.stats.origin_refused++;
			return gw_websec_refuse(wsi, HTTP_STATUS_FORBIDDEN, HD_EFORBIDDEN,
						"this origin may not open a WebSocket here (ALLOWED_ORIGINS)") == 0
				       ? 1
				       : -1;
		}
		// Counted at ESTABLISHED (ws.c), which follows at once on this
		// thread: two upgrades cannot both take the last place.
		if (gw.cfg.max_connections > 0 &&
		    gw.stats.ws_opened - gw.stats.ws_closed >= (uint64_t)gw.cfg.max_connections) {
			char why[128];
			snprintf(why, sizeof(why), "this gateway is full (MAX_CONNECTIONS=%lld); try again later",
				 (long long)gw.cfg.max_connections);
			gw.stats.full_refused++;
			return gw_websec_refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE, why) == 0 ? 1
														 : -1;
		}
		if (!gw_websec_conn_allowed(wsi)) {
			char why[128];
			snprintf(why, sizeof(why),
				 "too many connections from this address (MAX_CONNECTIONS_PER_ADDRESS=%lld)",
				 (long long)gw.cfg.max_connections_per_address);
			gw.stats.conn_refused++;
			return gw_websec_refuse(wsi, GW_HTTP_STATUS_TOO_MANY_REQUESTS, HD_ERATELIMITED, why) == 0 ? 1
														  : -1;
		}
		return 0;
	case LWS_CALLBACK_HTTP: {
		http_reset(h);
		h->wsi = wsi;
		enum gw_http_method method = http_method(wsi);
		h->head = method == GW_HTTP_HEAD;
		return http_route(h, in != NULL ? in : "/", method);
	}
	case LWS_CALLBACK_HTTP_BODY:
		if (len == 0 || in == NULL)
			return 0;
		if (h->rec != NULL) {
			gw_rec_body(h->rec, h, in, len);
			return 0;
		}
		if (h->body_len + len > GW_HTTP_BODY_MAX) {
			h->body_too_large = true;
			return 0;
		}
		if (h->body == NULL && (h->body = malloc(GW_HTTP_BODY_MAX)) == NULL)
			return -1;
		memcpy(h->body + h->body_len, in, len);
		h->body_len += len;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (h->rec != NULL)
			gw_rec_body_end(h->rec, h);
		else if (h->id == 0 && h->phase == HTTP_IDLE && h->on_body != NULL) // not answered or asked yet
			h->on_body(h);
		else if (h->id == 0 && h->phase == HTTP_IDLE)
			api_create_meeting(h);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return http_writeable(h, wsi);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (h != NULL)
			http_reset(h);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
