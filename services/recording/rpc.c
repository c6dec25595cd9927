// rpc.c: huddle-recording's op table: validates each RecordingRequest body
// and serves it; chunks go to disk and then to the store under the
// recording's lock, assembly is the assembler's.
#include "recording/rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/rpc.h"
#include "common/util.h"
#include "recording/assembler.h"
#include "recording/files.h"
#include "recording/recording.h"
#include "recording/webm.h"

hd_err rec_ctx_init(struct rec_ctx *c, struct rec_service *svc)
{
	memset(c, 0, sizeof(*c));
	if ((c->buf = malloc(REC_READ_MAX)) == NULL || (c->list = calloc(HD_REC_LIST_MAX, sizeof(*c->list))) == NULL ||
	    (c->pbs = calloc(HD_REC_LIST_MAX, sizeof(*c->pbs))) == NULL ||
	    (c->ptrs = calloc(HD_REC_LIST_MAX, sizeof(*c->ptrs))) == NULL) {
		rec_ctx_fini(c);
		return HD_ENOMEM;
	}
	c->svc = svc;
	return HD_OK;
}

void rec_ctx_fini(struct rec_ctx *c)
{
	free(c->ptrs);
	free(c->pbs);
	free(c->list);
	free(c->buf);
	c->ptrs = NULL;
	c->pbs = NULL;
	c->list = NULL;
	c->buf = NULL;
}

void rec_to_pb(const struct hd_recording *r, Huddle__V1__Recording *pb)
{
	huddle__v1__recording__init(pb);
	pb->meeting_id = (char *)r->meeting_id;
	pb->id = (char *)r->id;
	pb->kind = (Huddle__V1__RecordingKind)r->kind;
	pb->state = (Huddle__V1__RecordingState)r->state;
	pb->recorder_id = (char *)r->recorder_id;
	pb->recorder_name = (char *)r->recorder_name;
	pb->created_at_ms = r->created_at_ms;
	pb->updated_at_ms = r->updated_at_ms;
	pb->chunks = r->chunks;
	pb->bytes = r->bytes;
	pb->duration_ms = r->duration_ms;
	pb->error = (char *)r->error;
	pb->mime_type = (char *)r->mime_type;
}

// ---- validation: each failure names the field and, for a limit, the limit ----

static const char *why_fmt(struct rec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *why_fmt(struct rec_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return c->why;
}

// check_key: meeting_id and id are ids.
static hd_err check_key(struct rec_ctx *c, const char *meeting_id, const char *id, const char **why)
{
	if (!hd_id_valid(meeting_id)) {
		*why = why_fmt(c, "meeting_id is not a meeting id (%d base64url characters)", HD_ID_LEN);
		return HD_EBADREQUEST;
	}
	if (!hd_id_valid(id)) {
		*why = why_fmt(c, "id is not a recording id (%d base64url characters)", HD_ID_LEN);
		return HD_EBADREQUEST;
	}
	return HD_OK;
}

static hd_err check_recorder(struct rec_ctx *c, const char *recorder_id, const char **why)
{
	if (hd_id_valid(recorder_id))
		return HD_OK;
	*why = why_fmt(c, "recorder_id is not a participant id (%d base64url characters)", HD_ID_LEN);
	return HD_EBADREQUEST;
}

// mime_webm: "video/webm" or "audio/webm", parameters allowed.
static bool mime_webm(const char *m)
{
	size_t n = strlen(m);
	if (n == 0 || n > HD_REC_MIME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 0x20 || m[i] > 0x7e)
			return false;
	for (const char *const *p = (const char *const[]){"video/webm", "audio/webm", NULL}; *p != NULL; p++) {
		size_t k = strlen(*p);
		if (strncasecmp(m, *p, k) == 0 && (m[k] == '\0' || m[k] == ';' || m[k] == ' '))
			return true;
	}
	return false;
}

// get_for finds the recording and checks that recorder_id is its recorder
// (recorder_id NULL: anyone). Replies UNKNOWN_MEETING for an unknown one.
static hd_err get_for(struct rec_ctx *c, const char *meeting_id, const char *id, const char *recorder_id,
		      struct hd_recording *r, const char **why)
{
	hd_err err = hd_recording_get(c->svc->store, meeting_id, id, r);
	if (err == HD_EUNKNOWNMEETING) {
		*why = "no recording has that id in this meeting";
		return err;
	}
	if (err != HD_OK) {
		*why = "the recording store is unavailable";
		return err;
	}
	if (recorder_id != NULL && strcmp(r->recorder_id, recorder_id) != 0) {
		*why = "recorder_id is not this recording's recorder";
		return HD_EBADREQUEST;
	}
	return HD_OK;
}

static hd_err store_failed(hd_err err, const char **why)
{
	*why = "the recording store is unavailable";
	return err == HD_ENOMEM ? err : HD_EUNAVAILABLE;
}

static uint64_t quota_bytes(const struct rec_service *svc)
{
	return (uint64_t)svc->limits.quota_mb << 20;
}

// ---- the ops ----

static hd_err op_create(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	const Huddle__V1__RecordingCreateRequest *q = body;
	Huddle__V1__RecordingCreateReply out = HUDDLE__V1__RECORDING_CREATE_REPLY__INIT;
	Huddle__V1__Recording pb;
	struct hd_recording r;
	hd_err err;
	if ((err = check_key(c, q->meeting_id, q->id, why)) != HD_OK ||
	    (err = check_recorder(c, q->recorder_id, why)) != HD_OK)
		return err;
	if (q->kind < HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_CAMERA ||
	    q->kind > HUDDLE__V1__RECORDING_KIND__RECORDING_KIND_MEETING) {
		*why = "kind is not RECORDING_KIND_CAMERA, _SCREEN or _MEETING";
		return HD_EBADREQUEST;
	}
	size_t name_len = strlen(q->recorder_name);
	if (name_len == 0 || name_len > HD_REC_NAME_MAX || !hd_utf8_valid(q->recorder_name, name_len)) {
		*why = why_fmt(c, "recorder_name is not 1..%d bytes of UTF-8", HD_REC_NAME_MAX);
		return name_len > HD_REC_NAME_MAX ? HD_ETOOLARGE : HD_EBADREQUEST;
	}
	if (!mime_webm(q->mime_type)) {
		*why = "mime_type is not video/webm or audio/webm (MediaRecorder's WebM)";
		return HD_EBADREQUEST;
	}
	uint64_t used;
	if ((err = hd_recording_meeting_bytes(c->svc->store, q->meeting_id, &used)) != HD_OK)
		return store_failed(err, why);
	if (used >= quota_bytes(c->svc) &&
	    hd_recording_get(c->svc->store, q->meeting_id, q->id, &r) == HD_EUNKNOWNMEETING) {
		*why = why_fmt(c, "the meeting's recordings use all of RECORDING_QUOTA_MB (%lld MiB)",
			       (long long)c->svc->limits.quota_mb);
		return HD_ETOOLARGE;
	}
	memset(&r, 0, sizeof(r));
	snprintf(r.meeting_id, sizeof(r.meeting_id), "%s", q->meeting_id);
	snprintf(r.id, sizeof(r.id), "%s", q->id);
	snprintf(r.recorder_id, sizeof(r.recorder_id), "%s", q->recorder_id);
	snprintf(r.recorder_name, sizeof(r.recorder_name), "%s", q->recorder_name);
	snprintf(r.mime_type, sizeof(r.mime_type), "%s", q->mime_type);
	r.kind = (int)q->kind;
	r.created_at_ms = hd_now_ms();
	bool created;
	if ((err = hd_recording_create(c->svc->store, &r, &created)) != HD_OK)
		return err == HD_EBADREQUEST ? (*why = "a field is invalid", err) : store_failed(err, why);
	if (!created && strcmp(r.recorder_id, q->recorder_id) != 0) {
		*why = "id belongs to another recorder's recording";
		return HD_EBADREQUEST;
	}
	rec_to_pb(&r, &pb);
	out.recording = &pb;
	return hd_rpc_reply_pack(rep, &out.base);
}

// chunk_limits refuses a chunk that the disk, RECORDING_QUOTA_MB or
// RECORDING_MAX_MINUTES cannot take.
static hd_err chunk_limits(struct rec_ctx *c, const Huddle__V1__RecordingChunkRequest *q, const char **why)
{
	struct rec_service *svc = c->svc;
	uint64_t used;
	hd_err err = hd_recording_meeting_bytes(svc->store, q->meeting_id, &used);
	if (err != HD_OK)
		return store_failed(err, why);
	if (used + q->data.len > quota_bytes(svc)) {
		*why = why_fmt(c, "the meeting's recordings would pass RECORDING_QUOTA_MB (%lld MiB; %llu bytes used)",
			       (long long)svc->limits.quota_mb, (unsigned long long)used);
		return HD_ETOOLARGE;
	}
	int64_t at_ms;
	if (rec_webm_last_cluster_ms(q->data.data, q->data.len, &at_ms) && at_ms > svc->limits.max_minutes * 60000) {
		*why = why_fmt(c, "the recording is longer than RECORDING_MAX_MINUTES (%lld min)",
			       (long long)svc->limits.max_minutes);
		return HD_ETOOLARGE;
	}
	if (!rec_files_space_ok(svc->dir, REC_FREE_MIN + q->data.len)) {
		*why = "RECORDINGS_DIR's disk is nearly full";
		return HD_EUNAVAILABLE;
	}
	return HD_OK;
}

// store_chunk writes the chunk and notes it, under the recording's lock:
// so no state change or delete comes between the check and the note.
static hd_err store_chunk(struct rec_ctx *c, const Huddle__V1__RecordingChunkRequest *q, struct hd_recording *r,
			  bool *duplicate, const char **why)
{
	struct rec_service *svc = c->svc;
	hd_err err;
	uint64_t len = q->data.len;
	bool existed = false;
	if ((err = get_for(c, q->meeting_id, q->id, q->recorder_id, r, why)) != HD_OK)
		return err;
	if (q->index < r->chunks) {
		*duplicate = true;
		return HD_OK;
	}
	if (r->state == HD_REC_RECORDING) {
		// A chunk on disk already (noted or not, after a crash) keeps its first bytes.
		uint64_t on_disk;
		if (!rec_files_chunk_exists(svc->dir, q->meeting_id, q->id, q->index, &on_disk) &&
		    (err = chunk_limits(c, q, why)) != HD_OK)
			return err;
		if ((err = rec_files_chunk_write(svc->dir, q->meeting_id, q->id, q->index, q->data.data, q->data.len,
						 &existed, &len)) != HD_OK) {
			*why = "the chunk could not be written to RECORDINGS_DIR";
			return err;
		}
	}
	// Not RECORDING: the store tells a chunk it has from one it refuses.
	err = hd_recording_chunk(svc->store, q->meeting_id, q->id, q->index, len, hd_now_ms(), r, duplicate);
	if (err == HD_EBADREQUEST) {
		*why = why_fmt(c, "the recording is %s: it takes no new chunk", rec_state_name(r->state));
		return err;
	}
	if (err != HD_OK)
		return store_failed(err, why);
	return HD_OK;
}

static hd_err op_chunk(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	const Huddle__V1__RecordingChunkRequest *q = body;
	Huddle__V1__RecordingChunkReply out = HUDDLE__V1__RECORDING_CHUNK_REPLY__INIT;
	Huddle__V1__Recording pb;
	struct hd_recording r;
	bool duplicate = false;
	hd_err err;
	if ((err = check_key(c, q->meeting_id, q->id, why)) != HD_OK ||
	    (err = check_recorder(c, q->recorder_id, why)) != HD_OK)
		return err;
	if (q->index > HD_REC_INDEX_MAX) {
		*why = why_fmt(c, "index is over %d", HD_REC_INDEX_MAX);
		return HD_EBADREQUEST;
	}
	if (q->data.len == 0) {
		*why = "data is empty";
		return HD_EBADREQUEST;
	}
	if (q->data.len > HD_REC_CHUNK_MAX) {
		*why = why_fmt(c, "data is longer than %d bytes (4 MiB)", HD_REC_CHUNK_MAX);
		return HD_ETOOLARGE;
	}
	rec_lock(c->svc, q->meeting_id, q->id);
	err = store_chunk(c, q, &r, &duplicate, why);
	rec_unlock(c->svc, q->meeting_id, q->id);
	if (err != HD_OK)
		return err;
	rec_to_pb(&r, &pb);
	out.recording = &pb;
	out.duplicate = duplicate;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_finish(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	const Huddle__V1__RecordingFinishRequest *q = body;
	Huddle__V1__RecordingFinishReply out = HUDDLE__V1__RECORDING_FINISH_REPLY__INIT;
	Huddle__V1__Recording pb;
	struct hd_recording r;
	hd_err err;
	bool changed;
	if ((err = check_key(c, q->meeting_id, q->id, why)) != HD_OK ||
	    (err = check_recorder(c, q->recorder_id, why)) != HD_OK)
		return err;
	if (q->chunks > HD_REC_INDEX_MAX + 1) {
		*why = why_fmt(c, "chunks is over %d", HD_REC_INDEX_MAX + 1);
		return HD_EBADREQUEST;
	}
	if ((err = get_for(c, q->meeting_id, q->id, q->recorder_id, &r, why)) != HD_OK)
		return err;
	// Finishing again answers with where it is now.
	if (r.state == HD_REC_RECORDING &&
	    (err = rec_begin_assembly(c->svc, q->meeting_id, q->id, q->chunks, &r, &changed)) != HD_OK)
		return store_failed(err, why);
	rec_to_pb(&r, &pb);
	out.recording = &pb;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_list(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	const Huddle__V1__RecordingListRequest *q = body;
	Huddle__V1__RecordingListReply out = HUDDLE__V1__RECORDING_LIST_REPLY__INIT;
	size_t n;
	hd_err err;
	if (!hd_id_valid(q->meeting_id)) {
		*why = why_fmt(c, "meeting_id is not a meeting id (%d base64url characters)", HD_ID_LEN);
		return HD_EBADREQUEST;
	}
	if ((err = hd_recording_list(c->svc->store, q->meeting_id, c->list, &n)) != HD_OK)
		return store_failed(err, why);
	for (size_t i = 0; i < n; i++) {
		rec_to_pb(&c->list[i], &c->pbs[i]);
		c->ptrs[i] = &c->pbs[i];
	}
	out.n_recordings = n;
	out.recordings = c->ptrs;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_get(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	const Huddle__V1__RecordingGetRequest *q = body;
	Huddle__V1__RecordingGetReply out = HUDDLE__V1__RECORDING_GET_REPLY__INIT;
	Huddle__V1__Recording pb;
	struct hd_recording r;
	hd_err err;
	if ((err = check_key(c, q->meeting_id, q->id, why)) != HD_OK ||
	    (err = get_for(c, q->meeting_id, q->id, NULL, &r, why)) != HD_OK)
		return err;
	rec_to_pb(&r, &pb);
	out.recording = &pb;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_read(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	const Huddle__V1__RecordingReadRequest *q = body;
	Huddle__V1__RecordingReadReply out = HUDDLE__V1__RECORDING_READ_REPLY__INIT;
	struct hd_recording r;
	size_t n;
	uint64_t size;
	hd_err err;
	if ((err = check_key(c, q->meeting_id, q->id, why)) != HD_OK)
		return err;
	if (q->length == 0 || q->length > REC_READ_MAX) {
		*why = why_fmt(c, "length is not 1..%u bytes (1 MiB)", REC_READ_MAX);
		return q->length == 0 ? HD_EBADREQUEST : HD_ETOOLARGE;
	}
	if ((err = get_for(c, q->meeting_id, q->id, NULL, &r, why)) != HD_OK)
		return err;
	if (r.state != HD_REC_READY) {
		*why = why_fmt(c, "the recording is %s, not READY: it has no file yet", rec_state_name(r.state));
		return HD_EBADREQUEST;
	}
	if ((err = rec_files_read(c->svc->dir, q->meeting_id, q->id, q->offset, q->length, c->buf, &n, &size)) !=
	    HD_OK) {
		*why = "the recording's file cannot be read";
		return err;
	}
	out.data.data = c->buf;
	out.data.len = n;
	out.size = size;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_delete(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	const Huddle__V1__RecordingDeleteRequest *q = body;
	Huddle__V1__RecordingDeleteReply out = HUDDLE__V1__RECORDING_DELETE_REPLY__INIT;
	struct hd_recording r;
	hd_err err;
	if ((err = check_key(c, q->meeting_id, q->id, why)) != HD_OK ||
	    (err = check_recorder(c, q->recorder_id, why)) != HD_OK)
		return err;
	rec_lock(c->svc, q->meeting_id, q->id);
	// Files first: a failure after them leaves the recording listed, and
	// deleting it again finishes the job.
	if ((err = get_for(c, q->meeting_id, q->id, q->recorder_id, &r, why)) == HD_OK) {
		if ((err = rec_files_remove(c->svc->dir, q->meeting_id, q->id)) != HD_OK)
			*why = "the recording's files could not be removed";
		else if ((err = hd_recording_delete(c->svc->store, q->meeting_id, q->id)) != HD_OK)
			err = err == HD_EUNKNOWNMEETING ? HD_OK : store_failed(err, why);
	}
	rec_unlock(c->svc, q->meeting_id, q->id);
	if (err != HD_OK)
		return err;
	return hd_rpc_reply_pack(rep, &out.base);
}

// op_health answers OK when the store answers a read and RECORDINGS_DIR is there.
static hd_err op_health(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct rec_ctx *c = worker;
	Huddle__V1__RecordingHealthReply out = HUDDLE__V1__RECORDING_HEALTH_REPLY__INIT;
	struct hd_recording r;
	// Well-formed ids that are surely absent: a read that reaches the store.
	hd_err err = hd_recording_get(c->svc->store, "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAA", &r);
	if (err != HD_OK && err != HD_EUNKNOWNMEETING) {
		*why = "the recording store is unavailable";
		return HD_EUNAVAILABLE;
	}
	char why_dir[REC_WHY_MAX];
	if (rec_files_open_dir(c->svc->dir, why_dir, sizeof(why_dir)) != HD_OK) {
		*why = "RECORDINGS_DIR is not writable";
		return HD_EUNAVAILABLE;
	}
	return hd_rpc_reply_pack(rep, &out.base);
}

// rpc_ops is huddle-recording's op table, indexed by the RecordingRequest
// body's field number.
static const hd_rpc_op rpc_ops[] = {
	[HUDDLE__V1__RECORDING_REQUEST__BODY_CREATE] = op_create,
	[HUDDLE__V1__RECORDING_REQUEST__BODY_CHUNK] = op_chunk,
	[HUDDLE__V1__RECORDING_REQUEST__BODY_FINISH] = op_finish,
	[HUDDLE__V1__RECORDING_REQUEST__BODY_LIST] = op_list,
	[HUDDLE__V1__RECORDING_REQUEST__BODY_GET] = op_get,
	[HUDDLE__V1__RECORDING_REQUEST__BODY_READ] = op_read,
	[HUDDLE__V1__RECORDING_REQUEST__BODY_DELETE] = op_delete,
	[HUDDLE__V1__RECORDING_REQUEST__BODY_HEALTH] = op_health,
};

static const struct hd_rpc_service recording_service = {
	.name = "huddle-recording",
	.request = &huddle__v1__recording_request__descriptor,
	.reply = &huddle__v1__recording_reply__descriptor,
	.ops = rpc_ops,
	.n_ops = sizeof(rpc_ops) / sizeof(rpc_ops[0]),
};

nng_msg *rec_rpc_handle(void *worker_state, nng_msg *msg)
{
	return hd_rpc_dispatch(&recording_service, worker_state, msg);
}
