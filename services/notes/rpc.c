// rpc.c: huddle-notes' op table: validates each NotesRequest body and serves
// it; appends and snapshots go to the writer (group commit), reads to the
// store, awareness straight to the PUB socket.
#include "notes/rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/notes.pb-c.h"
#include "notes/notes.h"

// NOTES_REPLY_SLACK is what a NotesReply holds besides its snapshot and
// updates (request_id, more, last_seq, framing), with room to spare.
#define NOTES_REPLY_SLACK 256
// NOTES_READ_CHUNK bounds the updates one store read brings into memory
// while an open fills its reply (each may be HD_DOC_UPDATE_MAX bytes).
#define NOTES_READ_CHUNK 64
// NOTES_OPEN_TRIES bounds the reads of an open that a snapshot stored in
// between (which drops updates) sends back to the start.
#define NOTES_OPEN_TRIES 4

hd_err notes_ctx_init(struct notes_ctx *c, struct hd_store *store, struct notes_writer *writer, nng_socket pub)
{
	memset(c, 0, sizeof(*c));
	if ((c->page = calloc(HD_DOC_PAGE_MAX, sizeof(*c->page))) == NULL ||
	    (c->pbs = calloc(HD_DOC_PAGE_MAX, sizeof(*c->pbs))) == NULL ||
	    (c->ptrs = calloc(HD_DOC_PAGE_MAX, sizeof(*c->ptrs))) == NULL) {
		notes_ctx_fini(c);
		return HD_ENOMEM;
	}
	c->store = store;
	c->writer = writer;
	c->pub = pub;
	return HD_OK;
}

void notes_ctx_fini(struct notes_ctx *c)
{
	free(c->ptrs);
	free(c->pbs);
	free(c->page);
	c->ptrs = NULL;
	c->pbs = NULL;
	c->page = NULL;
}

// document_names maps each document kind to its name in the store.
static const char *const document_names[] = {
	[HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES] = "notes",
	[HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE] = "code",
};

#define N_DOCUMENT_NAMES (sizeof(document_names) / sizeof(document_names[0]))

const char *notes_document_name(Huddle__V1__DocumentKind kind)
{
	return (size_t)kind < N_DOCUMENT_NAMES ? document_names[kind] : NULL;
}

Huddle__V1__DocumentKind notes_document_kind(const char *name)
{
	for (size_t i = 0; i < N_DOCUMENT_NAMES; i++)
		if (document_names[i] != NULL && strcmp(document_names[i], name) == 0)
			return (Huddle__V1__DocumentKind)i;
	return HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_UNSPECIFIED;
}

void notes_update_to_pb(const struct hd_doc_update *u, Huddle__V1__NotesUpdate *pb)
{
	huddle__v1__notes_update__init(pb);
	pb->meeting_id = (char *)u->meeting_id;
	pb->document = notes_document_kind(u->document);
	pb->seq = u->seq;
	pb->client_update_id = (char *)u->client_update_id;
	pb->data.data = u->data;
	pb->data.len = u->len;
	pb->author_id = (char *)u->author_id;
	pb->author_name = (char *)u->author_name;
	pb->stored_at_ms = u->stored_at_ms;
}

void notes_version_to_pb(const struct hd_doc_version *v, Huddle__V1__NotesVersion *pb)
{
	huddle__v1__notes_version__init(pb);
	pb->version = v->version;
	pb->seq = v->seq;
	pb->created_at_ms = v->created_at_ms;
	pb->author_name = (char *)v->author_name;
	pb->text_bytes = (uint32_t)v->text_len;
	pb->language = (char *)v->language;
}

// ---- validation: each failure names the field and, for a limit, the limit ----

// why_fmt formats an error message into the worker's buffer (valid until its
// next request) and returns it.
static const char *why_fmt(struct notes_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *why_fmt(struct notes_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return c->why;
}

static hd_err check_meeting(struct notes_ctx *c, const char *id, const char **why)
{
	if (hd_id_valid(id))
		return HD_OK;
	*why = why_fmt(c, "meeting_id is not a meeting id (%d base64url characters)", HD_ID_LEN);
	return HD_EBADREQUEST;
}

// check_document finds the store name of kind in *name.
static hd_err check_document(Huddle__V1__DocumentKind kind, const char **name, const char **why)
{
	if ((*name = notes_document_name(kind)) != NULL)
		return HD_OK;
	*why = "document is not DOCUMENT_KIND_NOTES or DOCUMENT_KIND_CODE";
	return HD_EBADREQUEST;
}

// check_text: s is at most max bytes of UTF-8 (and not empty unless
// may_be_empty).
static hd_err check_text(struct notes_ctx *c, const char *field, const char *s, size_t max, bool may_be_empty,
			 const char **why)
{
	size_t len = strlen(s);
	if (len == 0 && !may_be_empty) {
		*why = why_fmt(c, "%s is empty", field);
		return HD_EBADREQUEST;
	}
	if (len > max) {
		*why = why_fmt(c, "%s is longer than %zu bytes", field, max);
		return HD_ETOOLARGE;
	}
	if (!hd_utf8_valid(s, len)) {
		*why = why_fmt(c, "%s is not valid UTF-8", field);
		return HD_EBADREQUEST;
	}
	return HD_OK;
}

// check_bytes: 1..max bytes.
static hd_err check_bytes(struct notes_ctx *c, const char *field, const ProtobufCBinaryData *b, size_t max,
			  const char **why)
{
	if (b->len == 0) {
		*why = why_fmt(c, "%s is empty", field);
		return HD_EBADREQUEST;
	}
	if (b->len > max) {
		*why = why_fmt(c, "%s is longer than %zu bytes", field, max);
		return HD_ETOOLARGE;
	}
	return HD_OK;
}

// check_chars: s is 1..max (0..max when may_be_empty) bytes, each one that
// ok accepts (allowed says which, for the message).
static hd_err check_chars(struct notes_ctx *c, const char *field, const char *s, size_t max, bool may_be_empty,
			  bool (*ok)(char), const char *allowed, const char **why)
{
	size_t n = strlen(s);
	if (n == 0 && !may_be_empty) {
		*why = why_fmt(c, "%s is empty", field);
		return HD_EBADREQUEST;
	}
	if (n > max) {
		*why = why_fmt(c, "%s is longer than %zu bytes", field, max);
		return HD_ETOOLARGE;
	}
	for (size_t i = 0; i < n; i++)
		if (!ok(s[i])) {
			*why = why_fmt(c, "%s may only hold %s", field, allowed);
			return HD_EBADREQUEST;
		}
	return HD_OK;
}

static bool language_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '#' || ch == '-';
}

// check_language: the code pad's language id, or "" (and only "" for notes).
static hd_err check_language(struct notes_ctx *c, const char *document, const char *lang, const char **why)
{
	if (lang[0] != '\0' && strcmp(document, "code") != 0) {
		*why = why_fmt(c, "language must be empty for the %s document", document);
		return HD_EBADREQUEST;
	}
	return check_chars(c, "language", lang, HD_DOC_LANGUAGE_MAX, true, language_char, "a-z 0-9 + # -", why);
}

// update_validate fills u from an append request, or says which field is wrong.
static hd_err update_validate(struct notes_ctx *c, const Huddle__V1__NotesUpdate *in, struct hd_doc_update *u,
			      const char **why)
{
	const char *document;
	hd_err err;
	if (in == NULL) {
		*why = "update is missing";
		return HD_EBADREQUEST;
	}
	if ((err = check_meeting(c, in->meeting_id, why)) != HD_OK ||
	    (err = check_document(in->document, &document, why)) != HD_OK ||
	    (err = check_chars(c, "client_update_id", in->client_update_id, HD_CHAT_CLIENT_ID_MAX, false,
			       hd_chat_client_id_char, "A-Z a-z 0-9 _ -", why)) != HD_OK ||
	    (err = check_bytes(c, "data", &in->data, HD_DOC_UPDATE_MAX, why)) != HD_OK ||
	    (err = check_text(c, "author_name", in->author_name, HD_CHAT_NAME_MAX, true, why)) != HD_OK)
		return err;
	if (in->author_id[0] != '\0' && !hd_id_valid(in->author_id)) {
		*why = "author_id is neither empty nor a participant id";
		return HD_EBADREQUEST;
	}
	memset(u, 0, sizeof(*u));
	memcpy(u->meeting_id, in->meeting_id, HD_ID_LEN + 1);
	memcpy(u->document, document, strlen(document) + 1);
	memcpy(u->client_update_id, in->client_update_id, strlen(in->client_update_id) + 1);
	memcpy(u->author_id, in->author_id, strlen(in->author_id) + 1);
	memcpy(u->author_name, in->author_name, strlen(in->author_name) + 1);
	u->data = in->data.data;
	u->len = in->data.len;
	return HD_OK;
}

// ---- ops ----

static hd_err op_append(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct notes_ctx *c = worker;
	const Huddle__V1__NotesServiceAppendRequest *req = body;
	Huddle__V1__NotesServiceAppendReply out = HUDDLE__V1__NOTES_SERVICE_APPEND_REPLY__INIT;
	Huddle__V1__NotesUpdate pb;
	struct hd_doc_update u;
	bool duplicate = false;
	hd_err err;
	if ((err = update_validate(c, req->update, &u, why)) != HD_OK)
		return err;
	u.stored_at_ms = hd_now_ms();
	switch ((err = notes_writer_append(c->writer, &u, &duplicate))) {
	case HD_OK:
		break;
	case HD_EBADREQUEST:
	case HD_ETOOLARGE:
		*why = "the store refused the update";
		return err;
	case HD_ECLOSED:
		*why = "huddle-notes is shutting down";
		return err;
	default:
		*why = "the document store is unavailable; nothing was stored, retry with the same client_update_id";
		return HD_EUNAVAILABLE;
	}
	notes_update_to_pb(&u, &pb);
	out.update = &pb;
	out.duplicate = duplicate;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_snapshot(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct notes_ctx *c = worker;
	const Huddle__V1__NotesServiceSnapshotRequest *req = body;
	Huddle__V1__NotesServiceSnapshotReply out = HUDDLE__V1__NOTES_SERVICE_SNAPSHOT_REPLY__INIT;
	Huddle__V1__NotesVersion pb;
	struct hd_doc_snapshot snap;
	const char *document;
	bool stored = false;
	hd_err err;
	if ((err = check_meeting(c, req->meeting_id, why)) != HD_OK ||
	    (err = check_document(req->document, &document, why)) != HD_OK)
		return err;
	if (req->seq < 1) {
		*why = "seq must be at least 1 (the last seq the snapshot covers)";
		return HD_EBADREQUEST;
	}
	if ((err = check_bytes(c, "state", &req->state, HD_DOC_STATE_MAX, why)) != HD_OK ||
	    (err = check_text(c, "text", req->text, HD_DOC_TEXT_MAX, true, why)) != HD_OK ||
	    (err = check_language(c, document, req->language, why)) != HD_OK ||
	    (err = check_text(c, "author_name", req->author_name, HD_CHAT_NAME_MAX, true, why)) != HD_OK)
		return err;
	memset(&snap, 0, sizeof(snap));
	memcpy(snap.meeting_id, req->meeting_id, HD_ID_LEN + 1);
	memcpy(snap.document, document, strlen(document) + 1);
	snap.version.seq = req->seq;
	snap.version.created_at_ms = hd_now_ms();
	memcpy(snap.version.author_name, req->author_name, strlen(req->author_name) + 1);
	memcpy(snap.version.language, req->language, strlen(req->language) + 1);
	snap.version.text_len = strlen(req->text);
	snap.state = req->state.data;
	snap.state_len = req->state.len;
	snap.text = req->text;
	switch ((err = notes_writer_snapshot(c->writer, &snap, &stored))) {
	case HD_OK:
		break;
	case HD_EBADREQUEST:
		*why = "seq is above the document's last seq";
		return err;
	case HD_ETOOLARGE:
		*why = "the store refused the snapshot as too large";
		return err;
	case HD_ECLOSED:
		*why = "huddle-notes is shutting down";
		return err;
	default:
		*why = "the document store is unavailable; the snapshot was not stored";
		return HD_EUNAVAILABLE;
	}
	notes_version_to_pb(&snap.version, &pb);
	out.version = &pb;
	out.stored = stored;
	return hd_rpc_reply_pack(rep, &out.base);
}

// snapshot_to_pb sets pb (and its version, in version_pb) to the
// protobuf form of s, pointing into s.
static void snapshot_to_pb(const struct hd_doc_snapshot *s, Huddle__V1__NotesSnapshot *pb,
			   Huddle__V1__NotesVersion *version_pb)
{
	huddle__v1__notes_snapshot__init(pb);
	notes_version_to_pb(&s->version, version_pb);
	pb->version = version_pb;
	pb->state.data = s->state;
	pb->state.len = s->state_len;
	pb->text = s->text;
}

// field_size is the bytes a message field holding m adds to its parent: a
// tag, the length and m.
static size_t field_size(const ProtobufCMessage *m)
{
	return 1 + 5 + protobuf_c_message_get_packed_size(m);
}

// collect reads the updates after `after` into c->page: at most limit, in
// chunks, while their fields fit *budget bytes (reduced by what they use).
// *n is how many were kept, *more whether others follow, *last_seq the
// document's newest seq. *gap is set (and nothing kept) when updates after
// `after` were dropped by a snapshot: the read must start from it.
static hd_err collect(struct notes_ctx *c, const char *meeting, const char *document, int64_t after, uint32_t limit,
		      size_t *budget, size_t *n, bool *more, int64_t *last_seq, bool *gap)
{
	int64_t next = after;
	*n = 0;
	*more = false;
	*gap = false;
	for (;;) {
		uint32_t want = limit - (uint32_t)*n < NOTES_READ_CHUNK ? limit - (uint32_t)*n : NOTES_READ_CHUNK;
		struct hd_doc_update *page = &c->page[*n];
		size_t got, keep = 0;
		bool page_more;
		hd_err err = hd_doc_read(c->store, meeting, document, next, want, page, &got, &page_more, last_seq);
		if (err != HD_OK) {
			hd_doc_updates_free(c->page, *n);
			return err;
		}
		if ((got > 0 && page[0].seq != next + 1) || (got == 0 && *last_seq > next)) {
			hd_doc_updates_free(page, got);
			hd_doc_updates_free(c->page, *n);
			*n = 0;
			*gap = true;
			return HD_OK;
		}
		for (; keep < got; keep++) {
			Huddle__V1__NotesUpdate pb;
			notes_update_to_pb(&page[keep], &pb);
			size_t size = field_size(&pb.base);
			if (size > *budget)
				break;
			*budget -= size;
		}
		*n += keep;
		if (keep < got) { // the reply is full
			hd_doc_updates_free(&page[keep], got - keep);
			*more = true;
			return HD_OK;
		}
		if (!page_more || got == 0)
			return HD_OK;
		if (*n == limit) {
			*more = true;
			return HD_OK;
		}
		next = page[got - 1].seq;
	}
}

static hd_err op_open(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct notes_ctx *c = worker;
	const Huddle__V1__NotesServiceOpenRequest *req = body;
	uint32_t limit = req->limit == 0 ? HD_DOC_PAGE_DEFAULT : req->limit;
	bool with_snapshot = req->after_seq == 0;
	const char *document;
	hd_err err;
	if ((err = check_meeting(c, req->meeting_id, why)) != HD_OK ||
	    (err = check_document(req->document, &document, why)) != HD_OK)
		return err;
	if (req->after_seq < 0) {
		*why = "after_seq is negative";
		return HD_EBADREQUEST;
	}
	if (limit > HD_DOC_PAGE_MAX) {
		*why = why_fmt(c, "limit must be 0..%d (0 means %d)", HD_DOC_PAGE_MAX, HD_DOC_PAGE_DEFAULT);
		return HD_EBADREQUEST;
	}
	// A snapshot stored between two reads drops the updates it covers; the
	// read then starts again from the newest snapshot. A catch-up read
	// (after_seq > 0) that finds its updates dropped gets the snapshot too:
	// without it the editor would miss what the snapshot covers.
	for (int attempt = 0; attempt < NOTES_OPEN_TRIES; attempt++) {
		Huddle__V1__NotesServiceOpenReply out = HUDDLE__V1__NOTES_SERVICE_OPEN_REPLY__INIT;
		Huddle__V1__NotesSnapshot snap_pb;
		Huddle__V1__NotesVersion version_pb;
		struct hd_doc_snapshot snap;
		size_t budget = HD_RPC_MSG_MAX - NOTES_REPLY_SLACK, n;
		int64_t from = req->after_seq;
		bool gap, more;
		memset(&snap, 0, sizeof(snap));
		if (with_snapshot) {
			if ((err = hd_doc_snapshot_get(c->store, req->meeting_id, document, 0, &snap)) != HD_OK) {
				*why = "the document store is unavailable";
				return HD_EUNAVAILABLE;
			}
			if (snap.version.version > 0) {
				snapshot_to_pb(&snap, &snap_pb, &version_pb);
				size_t size = field_size(&snap_pb.base);
				if (size > budget) {
					hd_doc_snapshot_fini(&snap);
					*why = why_fmt(c, "the newest snapshot does not fit one reply (%d bytes)",
						       HD_RPC_MSG_MAX);
					return HD_ETOOLARGE;
				}
				budget -= size;
				from = snap.version.seq;
				out.snapshot = &snap_pb;
			}
		}
		err = collect(c, req->meeting_id, document, from, limit, &budget, &n, &more, &out.last_seq, &gap);
		if (err != HD_OK) {
			hd_doc_snapshot_fini(&snap);
			*why = "the document store is unavailable";
			return err == HD_ENOMEM ? err : HD_EUNAVAILABLE;
		}
		if (gap) {
			hd_doc_snapshot_fini(&snap);
			with_snapshot = true;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			notes_update_to_pb(&c->page[i], &c->pbs[i]);
			c->ptrs[i] = &c->pbs[i];
		}
		out.n_updates = n;
		out.updates = c->ptrs;
		out.more = more;
		err = hd_rpc_reply_pack(rep, &out.base);
		hd_doc_updates_free(c->page, n);
		hd_doc_snapshot_fini(&snap);
		return err;
	}
	*why = "the document changed on every read; retry";
	return HD_EUNAVAILABLE;
}

static hd_err op_versions(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct notes_ctx *c = worker;
	const Huddle__V1__NotesServiceVersionsRequest *req = body;
	Huddle__V1__NotesServiceVersionsReply out = HUDDLE__V1__NOTES_SERVICE_VERSIONS_REPLY__INIT;
	struct hd_doc_version versions[HD_DOC_VERSIONS_KEPT];
	Huddle__V1__NotesVersion pbs[HD_DOC_VERSIONS_KEPT];
	Huddle__V1__NotesVersion *ptrs[HD_DOC_VERSIONS_KEPT];
	const char *document;
	size_t n = 0;
	hd_err err;
	if ((err = check_meeting(c, req->meeting_id, why)) != HD_OK ||
	    (err = check_document(req->document, &document, why)) != HD_OK)
		return err;
	if (hd_doc_versions(c->store, req->meeting_id, document, versions, &n) != HD_OK) {
		*why = "the document store is unavailable";
		return HD_EUNAVAILABLE;
	}
	for (size_t i = 0; i < n; i++) {
		notes_version_to_pb(&versions[i], &pbs[i]);
		ptrs[i] = &pbs[i];
	}
	out.n_versions = n;
	out.versions = ptrs;
	return hd_rpc_reply_pack(rep, &out.base);
}

static hd_err op_version(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct notes_ctx *c = worker;
	const Huddle__V1__NotesServiceVersionRequest *req = body;
	Huddle__V1__NotesServiceVersionReply out = HUDDLE__V1__NOTES_SERVICE_VERSION_REPLY__INIT;
	Huddle__V1__NotesSnapshot snap_pb;
	Huddle__V1__NotesVersion version_pb;
	struct hd_doc_snapshot snap;
	const char *document;
	hd_err err;
	if ((err = check_meeting(c, req->meeting_id, why)) != HD_OK ||
	    (err = check_document(req->document, &document, why)) != HD_OK)
		return err;
	if (req->version < 0) {
		*why = "version is negative (0 means the newest)";
		return HD_EBADREQUEST;
	}
	memset(&snap, 0, sizeof(snap));
	switch ((err = hd_doc_snapshot_get(c->store, req->meeting_id, document, req->version, &snap))) {
	case HD_OK:
		break;
	case HD_EBADREQUEST:
		*why = why_fmt(c, "version %lld is not kept (only the newest %d are)", (long long)req->version,
			       HD_DOC_VERSIONS_KEPT);
		return err;
	default:
		*why = "the document store is unavailable";
		return err == HD_ENOMEM ? err : HD_EUNAVAILABLE;
	}
	// With no version yet, the newest is none: the reply has no snapshot.
	if (snap.version.version > 0) {
		snapshot_to_pb(&snap, &snap_pb, &version_pb);
		if (field_size(&snap_pb.base) > HD_RPC_MSG_MAX - NOTES_REPLY_SLACK) {
			hd_doc_snapshot_fini(&snap);
			*why = why_fmt(c, "the version does not fit one reply (%d bytes)", HD_RPC_MSG_MAX);
			return HD_ETOOLARGE;
		}
		out.snapshot = &snap_pb;
	}
	err = hd_rpc_reply_pack(rep, &out.base);
	hd_doc_snapshot_fini(&snap);
	return err;
}

// op_awareness publishes the update to every gateway; nothing is stored.
static hd_err op_awareness(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct notes_ctx *c = worker;
	const Huddle__V1__NotesServiceAwarenessRequest *req = body;
	const Huddle__V1__NotesAwareness *a = req->awareness;
	Huddle__V1__NotesServiceAwarenessReply out = HUDDLE__V1__NOTES_SERVICE_AWARENESS_REPLY__INIT;
	Huddle__V1__NotesEvent ev = HUDDLE__V1__NOTES_EVENT__INIT;
	const char *document;
	nng_msg *m;
	hd_err err;
	if (a == NULL) {
		*why = "awareness is missing";
		return HD_EBADREQUEST;
	}
	if ((err = check_meeting(c, a->meeting_id, why)) != HD_OK ||
	    (err = check_document(a->document, &document, why)) != HD_OK ||
	    (err = check_bytes(c, "data", &a->data, NOTES_AWARENESS_MAX, why)) != HD_OK)
		return err;
	if (strlen(a->origin) > NOTES_ORIGIN_MAX) {
		*why = why_fmt(c, "origin is longer than %d bytes", NOTES_ORIGIN_MAX);
		return HD_ETOOLARGE;
	}
	if (nng_socket_id(c->pub) > 0) {
		ev.body_case = HUDDLE__V1__NOTES_EVENT__BODY_AWARENESS;
		ev.awareness = (Huddle__V1__NotesAwareness *)a;
		ev.meeting_id = a->meeting_id;
		ev.document = a->document;
		if ((err = hd_pub_pack(a->meeting_id, &ev.base, &m)) != HD_OK ||
		    (err = hd_pub_send_msg(c->pub, m)) != HD_OK) {
			*why = "the awareness update could not be published";
			return err == HD_ENOMEM ? err : HD_EUNAVAILABLE;
		}
	}
	return hd_rpc_reply_pack(rep, &out.base);
}

// op_health answers OK when the store answers a read.
static hd_err op_health(void *worker, const void *body, struct hd_rpc_reply *rep, const char **why)
{
	struct notes_ctx *c = worker;
	Huddle__V1__NotesHealthReply out = HUDDLE__V1__NOTES_HEALTH_REPLY__INIT;
	struct hd_doc_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	// A well-formed id that is surely absent: a read that reaches the store.
	hd_err err = hd_doc_snapshot_get(c->store, "AAAAAAAAAAAAAAAAAAAAAA", "notes", 0, &snap);
	hd_doc_snapshot_fini(&snap);
	if (err != HD_OK) {
		*why = "the document store is unavailable";
		return HD_EUNAVAILABLE;
	}
	return hd_rpc_reply_pack(rep, &out.base);
}

// rpc_ops is huddle-notes' op table, indexed by the NotesRequest body's field
// number.
static const hd_rpc_op rpc_ops[] = {
	[HUDDLE__V1__NOTES_REQUEST__BODY_OPEN] = op_open,
	[HUDDLE__V1__NOTES_REQUEST__BODY_APPEND] = op_append,
	[HUDDLE__V1__NOTES_REQUEST__BODY_SNAPSHOT] = op_snapshot,
	[HUDDLE__V1__NOTES_REQUEST__BODY_VERSIONS] = op_versions,
	[HUDDLE__V1__NOTES_REQUEST__BODY_VERSION] = op_version,
	[HUDDLE__V1__NOTES_REQUEST__BODY_AWARENESS] = op_awareness,
	[HUDDLE__V1__NOTES_REQUEST__BODY_HEALTH] = op_health,
};

static const struct hd_rpc_service notes_service = {
	.name = "huddle-notes",
	.request = &huddle__v1__notes_request__descriptor,
	.reply = &huddle__v1__notes_reply__descriptor,
	.ops = rpc_ops,
	.n_ops = sizeof(rpc_ops) / sizeof(rpc_ops[0]),
};

nng_msg *notes_rpc_handle(void *worker_state, nng_msg *msg)
{
	return hd_rpc_dispatch(&notes_service, worker_state, msg);
}
