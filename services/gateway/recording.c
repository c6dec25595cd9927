// recording.c: recordings over HTTP, between the browser and huddle-recording.
#include "gateway/recording.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "gateway/access_http.h"
#include "gateway/callerr.h"
#include "gateway/download.h"
#include "gateway/ratelimit.h"
#include "gateway/recjson.h"
#include "gateway/rectoken.h"

// REC_BUCKETS is the size of the table of write rate limits, indexed by a
// hash of the participant id: a participant whose slot another took gets a
// full bucket, so a collision only ever lets a little more through, and the
// table never grows or needs freeing.
#define REC_BUCKETS 4096

// rec_op is what a request asks for.
enum rec_op {
	REC_CREATE, // PUT .../recordings/<rid>
	REC_GET,    // GET .../recordings/<rid>
	REC_CHUNK,  // PUT .../recordings/<rid>/chunks/<n>
	REC_FINISH, // POST .../recordings/<rid>/finish
	REC_LIST,   // GET .../recordings
	REC_FILE,   // GET .../recordings/<rid>/file
	REC_DELETE, // DELETE .../recordings/<rid>
};

// rec_phase is where a request stands.
enum rec_phase {
	REC_BODY,     // the request body is arriving into body
	REC_DRAIN,    // a body is arriving only to be dropped; then `fail` is the answer
	REC_MEETING,  // list: the registry checks the meeting
	REC_CHECK,    // huddle-recording's Get: does the recording exist, and whose is it?
	REC_CALL,     // the request's own call to huddle-recording
	REC_DOWNLOAD, // file: download.c streams it, and takes the replies to its reads
	REC_ANSWERED, // answered; a body still arriving is dropped
};

// gw_rec is one recording request in progress (h->rec in http.c).
struct gw_rec {
	enum rec_op op;
	enum rec_phase phase;
	bool head; // HEAD: headers only
	char meeting_id[HD_ID_LEN + 1];
	char id[HD_ID_LEN + 1];
	char participant_id[HD_ID_LEN + 1]; // from the verified token (writes)
	uint32_t index;                     // chunk
	uint64_t want, got;                 // bytes of request body announced, and arrived so far
	uint8_t *body;                      // the body (BODY), want bytes
	size_t reserved;                    // bytes of RECORDING_BUFFER_MAX held (the body's, or a download's)
	struct {
		int status;
		hd_err code;
		char message[160];
	} fail; // the answer once a drained body has arrived
	// create
	struct gw_recjson_create create;
	bool existed; // it was there already: 200, not 201
	// finish
	uint32_t chunks;
	// file
	struct gw_download *download;
};

// rec_bucket is one participant's rate limit for writes.
struct rec_bucket {
	char participant_id[HD_ID_LEN + 1];
	struct gw_ratelimit rl;
};

static struct rec_bucket buckets[REC_BUCKETS];
static size_t n_requests, buffered;

// ---- the buffer budget and the rate limit ----

// rec_reserve takes n bytes of RECORDING_BUFFER_MAX for r; false when they
// are not there.
static bool rec_reserve(struct gw_rec *r, size_t n)
{
	if (buffered + n > (size_t)gw.cfg.recording_buffer_max)
		return false;
	buffered += n;
	r->reserved += n;
	return true;
}

// rec_release frees r's body and gives its bytes back.
static void rec_release(struct gw_rec *r)
{
	free(r->body);
	r->body = NULL;
	buffered -= r->reserved;
	r->reserved = 0;
}

// rate_take takes one write from participant_id's bucket (RECORDING_RATE
// per second, bursts of twice that).
static bool rate_take(const char *participant_id)
{
	int64_t now = hd_mono_ms();
	uint32_t rate = (uint32_t)gw.cfg.recording_rate, hash = 2166136261u; // FNV-1a
	for (const char *c = participant_id; *c != '\0'; c++)
		hash = (hash ^ (uint8_t)*c) * 16777619u;
	struct rec_bucket *b = &buckets[hash % REC_BUCKETS];
	if (strcmp(b->participant_id, participant_id) != 0) {
		snprintf(b->participant_id, sizeof(b->participant_id), "%s", participant_id);
		gw_ratelimit_init(&b->rl, 2 * rate, now);
	}
	return gw_ratelimit_take(&b->rl, rate, 2 * rate, now);
}

void gw_rec_count(size_t *requests, size_t *bytes)
{
	*requests = n_requests;
	*bytes = buffered;
}

// ---- answers ----

// rec_answer answers h with JSON (taken) and status.
static void rec_answer_json(struct gw_rec *r, struct gw_http *h, int status, cJSON *json)
{
	char *s = json != NULL ? cJSON_PrintUnformatted(json) : NULL;
	cJSON_Delete(json);
	r->phase = REC_ANSWERED;
	rec_release(r);
	if (s == NULL) {
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
		return;
	}
	gw_http_respond(h, status, "application/json", NULL, s, strlen(s));
	cJSON_free(s);
}

static void rec_answer_error(struct gw_rec *r, struct gw_http *h, int status, hd_err code, const char *message)
{
	r->phase = REC_ANSWERED;
	rec_release(r);
	if (status >= 500 && code != HD_EUNAVAILABLE)
		gw.stats.rec_failures++;
	gw_http_respond_error(h, status, code, message);
}

// rec_fail answers h with an error, or, while the request body is still
// arriving, keeps the answer until it has (gw_rec_body_end): answering
// before would leave the rest of the body to be read as the next request.
// Headers for the answer (gw_http_header) are added before the call.
static void rec_fail(struct gw_rec *r, struct gw_http *h, int status, hd_err code, const char *message)
{
	if (r->got < r->want) {
		r->fail.status = status;
		r->fail.code = code;
		snprintf(r->fail.message, sizeof(r->fail.message), "%s", message != NULL ? message : hd_strerror(code));
		r->phase = REC_DRAIN;
		rec_release(r);
		return;
	}
	rec_answer_error(r, h, status, code, message);
}

// rec_unavailable answers that huddle-recording cannot be reached now.
static void rec_unavailable(struct gw_rec *r, struct gw_http *h)
{
	gw_http_header(h, "retry-after:", "1");
	rec_fail(r, h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE, "the recording service is unavailable");
}

// rec_status is the HTTP status of huddle-recording's error code.
static int rec_status(hd_err code)
{
	switch (code) {
	case HD_EUNKNOWNPARTICIPANT:
		return HTTP_STATUS_FORBIDDEN; // not the recording's recorder
	default:
		return gw_http_status_of(code);
	}
}

static const struct gw_service_words recording_words = {
	.timeout = "the recording service did not answer in time",
	.bad_reply = "bad reply from the recording service",
	.unavailable = "the recording service is unavailable",
};

hd_err gw_rec_failed(hd_err err, const Huddle__V1__RecordingReply *reply, Huddle__V1__RecordingReply__BodyCase want,
		     const char **why)
{
	if (err != HD_OK)
		return gw_call_failed(err, &recording_words, why);
	if (reply->error != NULL && reply->error->code != HUDDLE__V1__ERROR_CODE__ERROR_CODE_OK) {
		*why = reply->error->message[0] != '\0' ? reply->error->message : NULL;
		return (hd_err)reply->error->code;
	}
	if (reply->body_case != want) {
		*why = recording_words.bad_reply;
		return HD_EINTERNAL;
	}
	return HD_OK;
}

// ---- calls ----

hd_err gw_rec_send(struct gw_http *h, Huddle__V1__RecordingRequest *req)
{
	if (gw.recording == NULL || hd_rpc_client_connected(gw.recording) == 0)
		return HD_EUNAVAILABLE;
	return gw_http_recording_call(h, GW_OP_HTTP_RECORDING, req) == HD_OK ? HD_OK : HD_EUNAVAILABLE;
}

// rec_call sends req to huddle-recording for h and moves r to phase, or
// answers 503 (gw_rec_send). Returns false when it could not send.
static bool rec_call(struct gw_rec *r, struct gw_http *h, enum rec_phase phase, Huddle__V1__RecordingRequest *req)
{
	if (gw_rec_send(h, req) != HD_OK) {
		rec_unavailable(r, h);
		return false;
	}
	r->phase = phase;
	return true;
}

// rec_get asks huddle-recording for r's recording (phase REC_CHECK).
static void rec_get(struct gw_rec *r, struct gw_http *h)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingGetRequest get = HUDDLE__V1__RECORDING_GET_REQUEST__INIT;
	get.meeting_id = r->meeting_id;
	get.id = r->id;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_GET;
	req.get = &get;
	rec_call(r, h, REC_CHECK, &req);
}

// ---- the request's own calls, once the recording is known ----

static void rec_create(struct gw_rec *r, struct gw_http *h)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingCreateRequest c = HUDDLE__V1__RECORDING_CREATE_REQUEST__INIT;
	c.meeting_id = r->meeting_id;
	c.id = r->id;
	c.kind = r->create.kind;
	c.recorder_id = r->participant_id;
	c.recorder_name = r->create.name;
	c.mime_type = r->create.mime;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_CREATE;
	req.create = &c;
	rec_call(r, h, REC_CALL, &req);
}

static void rec_chunk(struct gw_rec *r, struct gw_http *h)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingChunkRequest c = HUDDLE__V1__RECORDING_CHUNK_REQUEST__INIT;
	c.meeting_id = r->meeting_id;
	c.id = r->id;
	c.index = r->index;
	c.data.data = r->body;
	c.data.len = (size_t)r->want;
	c.recorder_id = r->participant_id;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_CHUNK;
	req.chunk = &c;
	if (rec_call(r, h, REC_CALL, &req))
		rec_release(r); // the NNG message holds a copy now
}

static void rec_finish(struct gw_rec *r, struct gw_http *h)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingFinishRequest f = HUDDLE__V1__RECORDING_FINISH_REQUEST__INIT;
	f.meeting_id = r->meeting_id;
	f.id = r->id;
	f.chunks = r->chunks;
	f.recorder_id = r->participant_id;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_FINISH;
	req.finish = &f;
	rec_call(r, h, REC_CALL, &req);
}

static void rec_delete(struct gw_rec *r, struct gw_http *h)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingDeleteRequest d = HUDDLE__V1__RECORDING_DELETE_REQUEST__INIT;
	d.meeting_id = r->meeting_id;
	d.id = r->id;
	d.recorder_id = r->participant_id;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_DELETE;
	req.delete_ = &d;
	rec_call(r, h, REC_CALL, &req);
}

static void rec_list(struct gw_rec *r, struct gw_http *h)
{
	Huddle__V1__RecordingRequest req = HUDDLE__V1__RECORDING_REQUEST__INIT;
	Huddle__V1__RecordingListRequest l = HUDDLE__V1__RECORDING_LIST_REQUEST__INIT;
	l.meeting_id = r->meeting_id;
	req.body_case = HUDDLE__V1__RECORDING_REQUEST__BODY_LIST;
	req.list = &l;
	rec_call(r, h, REC_CALL, &req);
}

// rec_go continues r once its request is read in full: the first call.
static void rec_go(struct gw_rec *r, struct gw_http *h)
{
	if (r->op == REC_CREATE || r->op == REC_FINISH) {
		const char *body = (const char *)r->body;
		const char *why = r->op == REC_CREATE ? gw_recjson_parse_create(body, (size_t)r->want, &r->create)
						      : gw_recjson_parse_finish(body, (size_t)r->want, &r->chunks);
		if (why != NULL) {
			rec_answer_error(r, h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST, why);
			return;
		}
	}
	if (r->op == REC_LIST) {
		// The meeting, and whether a list of a meeting that is not open
		// is allowed (a host key or a participant's recording token).
		if (gw_access_http_meeting_call(h, GW_OP_HTTP_REC_MEETING, r->meeting_id) != HD_OK)
			rec_answer_error(r, h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
					 "the registry is unavailable");
		else
			r->phase = REC_MEETING;
		return;
	}
	// Everything else starts from the recording: whose it is, whether it
	// exists, how large its file is.
	rec_get(r, h);
}

void gw_rec_body(struct gw_rec *r, struct gw_http *h, const void *in, size_t len)
{
	// got may already be past want (a longer body than announced): then
	// want - got would wrap around and let the copy run past the buffer.
	if (r->phase == REC_BODY && r->body != NULL && r->got <= r->want && len <= r->want - r->got)
		memcpy(r->body + r->got, in, len);
	r->got += len;
}

void gw_rec_body_end(struct gw_rec *r, struct gw_http *h)
{
	// Calls may take RECORDING_TIMEOUT_MS each: not lws's body timeout's business.
	lws_set_timeout(gw_http_wsi(h), NO_PENDING_TIMEOUT, 0);
	if (r->phase == REC_DRAIN) {
		r->got = r->want;
		rec_answer_error(r, h, r->fail.status, r->fail.code, r->fail.message);
	} else if (r->phase == REC_BODY) {
		if (r->got != r->want)
			rec_answer_error(r, h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
					 "the body is shorter than its Content-Length");
		else
			rec_go(r, h);
	}
}

// ---- starting a request ----

// parse_index reads a chunk index: decimal, no sign, no leading zeros,
// within uint32.
static bool parse_index(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 10 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

// parse_path reads "<id>/recordings[/<rid>[/chunks/<n>|/finish|/file]]" and
// the method into r. Returns 0, or the status to refuse with (*why set,
// *allow the methods allowed on a 405).
static int parse_path(struct gw_rec *r, enum gw_http_method method, const char *path, const char **why,
		      const char **allow)
{
	const char *rest;
	bool get = method == GW_HTTP_GET || method == GW_HTTP_HEAD;
	*why = "no such API";
	const char *slash = strchr(path, '/');
	if (slash == NULL || slash - path != HD_ID_LEN || strncmp(slash, "/recordings", 11) != 0) {
		*why = "no meeting has that id";
		return HTTP_STATUS_NOT_FOUND;
	}
	memcpy(r->meeting_id, path, HD_ID_LEN);
	r->meeting_id[HD_ID_LEN] = '\0';
	if (!hd_id_valid(r->meeting_id)) {
		*why = "no meeting has that id";
		return HTTP_STATUS_NOT_FOUND;
	}
	rest = path + HD_ID_LEN + 11;
	if (*rest == '\0') {
		r->op = REC_LIST;
		*allow = "GET, HEAD";
		return get ? 0 : HTTP_STATUS_METHOD_NOT_ALLOWED;
	}
	if (rest[0] != '/' || strlen(rest + 1) < HD_ID_LEN ||
	    (rest[1 + HD_ID_LEN] != '\0' && rest[1 + HD_ID_LEN] != '/'))
		return HTTP_STATUS_NOT_FOUND;
	memcpy(r->id, rest + 1, HD_ID_LEN);
	r->id[HD_ID_LEN] = '\0';
	if (!hd_id_valid(r->id)) {
		*why = "a recording id is 22 base64url characters";
		return method == GW_HTTP_PUT ? HTTP_STATUS_BAD_REQUEST : HTTP_STATUS_NOT_FOUND;
	}
	rest += 1 + HD_ID_LEN;
	if (*rest == '\0') {
		*allow = "GET, HEAD, PUT, DELETE";
		r->op = method == GW_HTTP_PUT ? REC_CREATE : method == GW_HTTP_DELETE ? REC_DELETE : REC_GET;
		return get || method == GW_HTTP_PUT || method == GW_HTTP_DELETE ? 0 : HTTP_STATUS_METHOD_NOT_ALLOWED;
	}
	if (strcmp(rest, "/finish") == 0) {
		r->op = REC_FINISH;
		*allow = "POST";
		return method == GW_HTTP_POST ? 0 : HTTP_STATUS_METHOD_NOT_ALLOWED;
	}
	if (strcmp(rest, "/file") == 0) {
		r->op = REC_FILE;
		*allow = "GET, HEAD";
		return get ? 0 : HTTP_STATUS_METHOD_NOT_ALLOWED;
	}
	if (strncmp(rest, "/chunks/", 8) == 0) {
		if (!parse_index(rest + 8, &r->index)) {
			*why = "a chunk index is a whole number from 0 to 4294967295";
			return HTTP_STATUS_NOT_FOUND;
		}
		r->op = REC_CHUNK;
		*allow = "PUT";
		return method == GW_HTTP_PUT ? 0 : HTTP_STATUS_METHOD_NOT_ALLOWED;
	}
	return HTTP_STATUS_NOT_FOUND;
}

// content_length reads the request's Content-Length: 1 when it is there
// and well-formed (1*DIGIT, RFC 9110 section 8.6) into *out, 0 when it is
// missing, -1 when it is malformed.
static int content_length(struct lws *wsi, uint64_t *out)
{
	char buf[24];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	uint64_t v = 0;
	if (n <= 0)
		return 0;
	if (n >= (int)sizeof(buf) || lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_CONTENT_LENGTH) != n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	*out = v;
	return 1;
}

// rec_authorize checks the request's recording token for r's meeting and
// keeps the participant it names. False when it refused (401).
static bool rec_authorize(struct gw_rec *r, struct gw_http *h)
{
	struct lws *wsi = gw_http_wsi(h);
	char auth[GW_RECTOKEN_MAX + 32];
	enum gw_rectoken_result res = GW_RECTOKEN_MALFORMED;
	const char *why = "a recording token is needed: Authorization: Bearer <token>";
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 0 && n < (int)sizeof(auth) &&
	    lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) == n &&
	    strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *t = auth + 7;
		size_t len;
		while (*t == ' ')
			t++;
		for (len = strlen(t); len > 0 && t[len - 1] == ' '; len--)
			;
		res = gw_rectoken_verify(gw.cfg.recording_token_secret, r->meeting_id, t, len, (int64_t)time(NULL),
					 r->participant_id);
		why = gw_rectoken_strerror(res);
	} else if (n > 0) {
		why = gw_rectoken_strerror(GW_RECTOKEN_MALFORMED);
	}
	OPENSSL_cleanse(auth, sizeof(auth));
	if (res == GW_RECTOKEN_OK)
		return true;
	gw.stats.rec_unauthorized++;
	// RFC 6750 section 3.
	gw_http_header(h, "www-authenticate:",
		       n > 0 ? "Bearer realm=\"huddle\", error=\"invalid_token\"" : "Bearer realm=\"huddle\"");
	rec_fail(r, h, HTTP_STATUS_UNAUTHORIZED, HD_ENOTJOINED, why);
	return false;
}

static void count_request(enum rec_op op)
{
	struct gw_stats *s = &gw.stats;
	uint64_t *counters[] = {
		[REC_CREATE] = &s->rec_creates,  [REC_GET] = &s->rec_gets,   [REC_CHUNK] = &s->rec_chunks,
		[REC_FINISH] = &s->rec_finishes, [REC_LIST] = &s->rec_lists, [REC_FILE] = &s->rec_files,
		[REC_DELETE] = &s->rec_deletes,
	};
	(*counters[op])++;
}

struct gw_rec *gw_rec_start(struct gw_http *h, enum gw_http_method method, const char *path)
{
	struct lws *wsi = gw_http_wsi(h);
	const char *why = NULL, *allow = NULL;
	uint64_t length = 0;
	struct gw_rec *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		gw_http_close_after(h);
		gw_http_respond_error(h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
		return NULL;
	}
	n_requests++;
	r->head = method == GW_HTTP_HEAD;
	// How the body is framed comes first: without knowing where it ends,
	// the connection cannot serve another request.
	int framed = content_length(wsi, &length);
	if (framed < 0 || (framed == 0 && (method == GW_HTTP_PUT || method == GW_HTTP_POST))) {
		gw_http_close_after(h);
		rec_answer_error(r, h, framed < 0 ? HTTP_STATUS_BAD_REQUEST : HTTP_STATUS_LENGTH_REQUIRED,
				 HD_EBADREQUEST,
				 framed < 0 ? "Content-Length is malformed" : "Content-Length is required");
		return r;
	}
	r->want = length;
	int status = parse_path(r, method, path, &why, &allow);
	if (status == 0)
		count_request(r->op);
	// The largest body each request takes; one over it is refused, read
	// to its end first unless it is absurd.
	size_t max = status != 0                                  ? GW_HTTP_BODY_MAX
		     : r->op == REC_CHUNK                         ? GW_REC_CHUNK_MAX
		     : r->op == REC_CREATE || r->op == REC_FINISH ? GW_HTTP_BODY_MAX
								  : 0;
	if (length > GW_REC_DRAIN_MAX) {
		gw_http_close_after(h);
		rec_answer_error(r, h, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, HD_ETOOLARGE, "the body is far too large");
		return r;
	}
	if (status != 0) {
		if (status == HTTP_STATUS_METHOD_NOT_ALLOWED) {
			gw_http_header(h, "allow:", allow);
			why = "method not allowed here";
		}
		rec_fail(r, h, status, status == HTTP_STATUS_NOT_FOUND ? HD_EUNKNOWNMEETING : HD_EBADREQUEST, why);
		return r;
	}
	if (length > max) {
		char msg[96];
		if (max == 0)
			snprintf(msg, sizeof(msg), "this request takes no body");
		else
			snprintf(msg, sizeof(msg), "the body is over %zu bytes", max);
		rec_fail(r, h, max == 0 ? HTTP_STATUS_BAD_REQUEST : HTTP_STATUS_REQ_ENTITY_TOO_LARGE,
			 max == 0 ? HD_EBADREQUEST : HD_ETOOLARGE, msg);
		return r;
	}
	if (max > 0 && length == 0) {
		rec_fail(r, h, HTTP_STATUS_BAD_REQUEST, HD_EBADREQUEST,
			 r->op == REC_CHUNK ? "a chunk has 1 to 4194304 bytes" : "the body must be a JSON object");
		return r;
	}
	bool write = r->op == REC_CREATE || r->op == REC_CHUNK || r->op == REC_FINISH || r->op == REC_DELETE;
	if (write) {
		if (!rec_authorize(r, h))
			return r;
		if (!rate_take(r->participant_id)) {
			gw.stats.rec_rate_limited++;
			gw_http_header(h, "retry-after:", "1");
			rec_fail(r, h, GW_HTTP_STATUS_TOO_MANY_REQUESTS, HD_ERATELIMITED,
				 "too many recording requests; slow down");
			return r;
		}
	}
	if (length > 0) {
		if (!rec_reserve(r, (size_t)length)) {
			gw.stats.rec_busy++;
			gw_http_header(h, "retry-after:", "1");
			rec_fail(r, h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
				 "too many uploads at once; try again");
			return r;
		}
		if ((r->body = malloc((size_t)length)) == NULL) {
			rec_fail(r, h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_ENOMEM, NULL);
			return r;
		}
		r->phase = REC_BODY; // rec_go once it is all there
		return r;
	}
	rec_go(r, h);
	return r;
}

void gw_rec_free(struct gw_rec *r)
{
	if (r == NULL)
		return;
	gw_download_free(r->download);
	rec_release(r);
	n_requests--;
	free(r);
}

// ---- replies ----

void gw_rec_on_meeting(struct gw_rec *r, struct gw_http *h, hd_err err, Huddle__V1__RegistryReply *reply)
{
	if (r->phase != REC_MEETING)
		return;
	if (err == HD_OK && reply->error != NULL && reply->error->code != 0)
		err = (hd_err)reply->error->code;
	if (err != HD_OK) {
		const char *msg = reply != NULL && reply->error != NULL && reply->error->message[0] != '\0'
					  ? reply->error->message
					  : NULL;
		rec_answer_error(r, h, gw_http_status_of(err), err, msg);
		return;
	}
	rec_list(r, h);
}

// rec_missing tells whether huddle-recording's code says the recording is
// not there.
static bool rec_missing(hd_err code)
{
	return code == HD_EUNKNOWNMEETING;
}

// rec_file streams recording x's file to h (download.c), holding
// GW_DOWNLOAD_HOLD bytes of RECORDING_BUFFER_MAX while it does.
static void rec_file(struct gw_rec *r, struct gw_http *h, const Huddle__V1__Recording *x)
{
	char msg[96];
	if (x->state != HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_READY) {
		snprintf(msg, sizeof(msg), "the recording has no file yet (it is %s)", gw_recjson_state(x->state));
		rec_answer_error(r, h, HTTP_STATUS_NOT_FOUND, HD_EUNKNOWNMEETING, msg);
		return;
	}
	if (!r->head && !rec_reserve(r, GW_DOWNLOAD_HOLD)) {
		gw.stats.rec_busy++;
		gw_http_header(h, "retry-after:", "1");
		rec_answer_error(r, h, HTTP_STATUS_SERVICE_UNAVAILABLE, HD_EUNAVAILABLE,
				 "too many downloads at once; try again");
		return;
	}
	r->phase = REC_DOWNLOAD;
	r->download = gw_download_start(h, x, r->head);
}

// on_check continues r with its recording as huddle-recording's Get found
// it: reads answer from it, writes check that r's participant recorded it.
static void on_check(struct gw_rec *r, struct gw_http *h, hd_err err, Huddle__V1__RecordingReply *reply)
{
	const char *why = NULL;
	hd_err code = gw_rec_failed(err, reply, HUDDLE__V1__RECORDING_REPLY__BODY_GET, &why);
	const Huddle__V1__Recording *x = code == HD_OK ? reply->get->recording : NULL;
	if (code != HD_OK && !rec_missing(code)) {
		rec_answer_error(r, h, rec_status(code), code, why);
		return;
	}
	if (x == NULL) {
		if (r->op == REC_CREATE)
			rec_create(r, h);
		else
			rec_answer_error(r, h, HTTP_STATUS_NOT_FOUND, HD_EUNKNOWNMEETING,
					 "no recording has that id in this meeting");
		return;
	}
	if (r->op == REC_GET) {
		rec_answer_json(r, h, HTTP_STATUS_OK, gw_recjson_recording(x));
		return;
	}
	if (r->op == REC_FILE) {
		rec_file(r, h, x);
		return;
	}
	if (strcmp(x->recorder_id, r->participant_id) != 0) {
		gw.stats.rec_forbidden++;
		rec_answer_error(r, h, HTTP_STATUS_FORBIDDEN, HD_EUNKNOWNPARTICIPANT,
				 "only its recorder may change this recording");
		return;
	}
	switch (r->op) {
	case REC_CREATE:
		r->existed = true; // huddle-recording answers with the stored one
		rec_create(r, h);
		break;
	case REC_CHUNK:
		if (x->state == HUDDLE__V1__RECORDING_STATE__RECORDING_STATE_RECORDING) {
			rec_chunk(r, h);
		} else if (r->index < x->chunks) {
			// A re-sent chunk of a recording finished meanwhile: stored.
			rec_answer_json(r, h, HTTP_STATUS_OK, gw_recjson_chunk(r->index, true, x));
		} else {
			char msg[96];
			snprintf(msg, sizeof(msg), "the recording is %s: it takes no more chunks",
				 gw_recjson_state(x->state));
			rec_answer_error(r, h, HTTP_STATUS_CONFLICT, HD_EBADREQUEST, msg);
		}
		break;
	case REC_FINISH:
		rec_finish(r, h);
		break;
	case REC_DELETE:
		rec_delete(r, h);
		break;
	default:
		break;
	}
}

// on_call answers r with the reply to its own call.
static void on_call(struct gw_rec *r, struct gw_http *h, hd_err err, Huddle__V1__RecordingReply *reply)
{
	static const Huddle__V1__RecordingReply__BodyCase want[] = {
		[REC_CREATE] = HUDDLE__V1__RECORDING_REPLY__BODY_CREATE,
		[REC_GET] = HUDDLE__V1__RECORDING_REPLY__BODY_GET,
		[REC_CHUNK] = HUDDLE__V1__RECORDING_REPLY__BODY_CHUNK,
		[REC_FINISH] = HUDDLE__V1__RECORDING_REPLY__BODY_FINISH,
		[REC_LIST] = HUDDLE__V1__RECORDING_REPLY__BODY_LIST,
		[REC_FILE] = HUDDLE__V1__RECORDING_REPLY__BODY_READ,
		[REC_DELETE] = HUDDLE__V1__RECORDING_REPLY__BODY_DELETE,
	};
	const char *why = NULL;
	const Huddle__V1__Recording *x = NULL;
	hd_err code = gw_rec_failed(err, reply, want[r->op], &why);
	if (code != HD_OK) {
		rec_answer_error(r, h, rec_status(code), code, why);
		return;
	}
	switch (r->op) {
	case REC_CREATE:
		x = reply->create->recording;
		break;
	case REC_CHUNK:
		x = reply->chunk->recording;
		break;
	case REC_FINISH:
		x = reply->finish->recording;
		break;
	case REC_LIST: {
		cJSON *list = cJSON_CreateArray();
		for (size_t i = 0; list != NULL && i < reply->list->n_recordings; i++) {
			cJSON *o = reply->list->recordings[i] != NULL ? gw_recjson_recording(reply->list->recordings[i])
								      : NULL;
			if (o == NULL || !cJSON_AddItemToArray(list, o)) {
				cJSON_Delete(o);
				cJSON_Delete(list);
				list = NULL;
			}
		}
		rec_answer_json(r, h, HTTP_STATUS_OK, list);
		return;
	}
	case REC_DELETE:
		HD_INFO("recording %s of meeting %s deleted by %s", r->id, r->meeting_id, r->participant_id);
		r->phase = REC_ANSWERED;
		rec_release(r);
		gw_http_respond(h, HTTP_STATUS_NO_CONTENT, NULL, NULL, "", 0);
		return;
	default:
		break;
	}
	if (x == NULL) {
		rec_answer_error(r, h, HTTP_STATUS_INTERNAL_SERVER_ERROR, HD_EINTERNAL,
				 "bad reply from the recording service");
		return;
	}
	switch (r->op) {
	case REC_CREATE:
		if (!r->existed)
			HD_INFO("recording %s of meeting %s (%s) started by %s", r->id, r->meeting_id,
				gw_recjson_kind(x->kind), r->participant_id);
		rec_answer_json(r, h, r->existed ? HTTP_STATUS_OK : 201, gw_recjson_recording(x));
		break;
	case REC_CHUNK:
		if (!reply->chunk->duplicate)
			gw.stats.rec_chunk_bytes += r->want;
		HD_DEBUG("recording %s of meeting %s: chunk %" PRIu32 " (%" PRIu64 " bytes)%s", r->id, r->meeting_id,
			 r->index, r->want, reply->chunk->duplicate ? ", a duplicate" : "");
		rec_answer_json(r, h, HTTP_STATUS_OK, gw_recjson_chunk(r->index, reply->chunk->duplicate, x));
		break;
	default:
		HD_INFO("recording %s of meeting %s finished by %s after %" PRIu32 " chunks", r->id, r->meeting_id,
			r->participant_id, r->chunks);
		rec_answer_json(r, h, HTTP_STATUS_OK, gw_recjson_recording(x));
		break;
	}
}

void gw_rec_on_reply(struct gw_rec *r, struct gw_http *h, hd_err err, Huddle__V1__RecordingReply *reply)
{
	switch (r->phase) {
	case REC_CHECK:
		on_check(r, h, err, reply);
		break;
	case REC_CALL:
		on_call(r, h, err, reply);
		break;
	case REC_DOWNLOAD:
		if (r->download != NULL)
			gw_download_on_read(r->download, h, err, reply);
		break;
	default:
		break; // nothing asked
	}
}

// ---- streaming a download ----

size_t gw_rec_pull(struct gw_rec *r, size_t max, uint8_t **data, bool *failed)
{
	if (r->download == NULL) {
		*failed = true;
		return 0;
	}
	return gw_download_pull(r->download, max, data, failed);
}

void gw_rec_pulled(struct gw_rec *r, struct gw_http *h, size_t n)
{
	if (r->download != NULL)
		gw_download_pulled(r->download, h, n);
}
