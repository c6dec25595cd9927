// notes_ops.c: a subscribed session's notes requests (open, update,
// awareness, snapshot, versions, version), forwarded to huddle-notes, and
// their replies.
#include "gateway/notes_ops.h"

#include <stdio.h>
#include <string.h>

#include "common/store.h"
#include "gateway/notes.h"
#include "gateway/session.h"

// require_subscribed answers a request before the subscription (NOT_JOINED)
// or about an unknown document (BAD_REQUEST); true when it may go on.
static bool require_subscribed(struct gw_session *s, uint32_t request_id, uint32_t kind)
{
	if (s->notes.state != GW_NOTES_SUBSCRIBED) {
		gw_session_send_error(s, request_id, HD_ENOTJOINED, "subscribe to the meeting's notes first");
		return false;
	}
	if (!gw_notes_kind_valid(kind)) {
		gw_session_send_error(s, request_id, HD_EBADREQUEST,
				      "document must be DOCUMENT_KIND_NOTES or DOCUMENT_KIND_CODE");
		return false;
	}
	return true;
}

// call sends req for s's request; an error if it cannot be sent.
static void call(struct gw_session *s, enum gw_op op, uint32_t request_id, uint32_t kind, Huddle__V1__NotesRequest *req)
{
	if (gw_notes_call(op, s->id, request_id, kind, req) != HD_OK)
		gw_session_send_error(s, request_id, HD_EUNAVAILABLE, "the notes service is unavailable");
}

// limited takes a token of bucket rl (rate per second, bursts of twice
// that); when there is none, answers RATE_LIMITED and returns true.
static bool limited(struct gw_session *s, struct gw_ratelimit *rl, int64_t rate, uint32_t request_id, const char *what)
{
	char why[96];
	if (gw_ratelimit_take(rl, (uint32_t)rate, 2 * (uint32_t)rate, hd_mono_ms()))
		return false;
	gw.stats.notes_rate_limited++;
	snprintf(why, sizeof(why), "too many %s; at most %lld per second", what, (long long)rate);
	gw_session_send_error(s, request_id, HD_ERATELIMITED, why);
	return true;
}

void gw_notes_op_open(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__NotesOpenRequest *no = cm->notes_open;
	if (!require_subscribed(s, cm->request_id, no->document))
		return;
	gw.stats.notes_opens++;
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceOpenRequest o = HUDDLE__V1__NOTES_SERVICE_OPEN_REQUEST__INIT;
	o.meeting_id = s->notes.meeting_id;
	o.document = no->document;
	o.after_seq = no->after_seq;
	o.limit = no->limit;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_OPEN;
	req.open = &o;
	call(s, GW_OP_NOTES_OPEN, cm->request_id, no->document, &req);
}

void gw_notes_op_update(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__NotesUpdateRequest *nu = cm->notes_update;
	if (!require_subscribed(s, cm->request_id, nu->document))
		return;
	if (nu->data.len > HD_DOC_UPDATE_MAX) {
		gw_session_send_error(s, cm->request_id, HD_ETOOLARGE, "an update is at most 256 KiB");
		return;
	}
	if (nu->data.len == 0) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "an update needs data");
		return;
	}
	if (limited(s, &s->notes.updates, gw.cfg.notes_update_rate, cm->request_id, "notes updates"))
		return;
	gw.stats.notes_updates++;
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAppendRequest a = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
	Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
	bool in_call = s->state == GW_SESSION_JOINED && strcmp(s->meeting_id, s->notes.meeting_id) == 0;
	u.meeting_id = s->notes.meeting_id;
	u.document = nu->document;
	u.client_update_id = nu->client_update_id;
	u.data = nu->data;
	u.author_id = in_call ? s->participant_id : "";
	u.author_name = nu->author_name;
	a.update = &u;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
	req.append = &a;
	call(s, GW_OP_NOTES_UPDATE, cm->request_id, nu->document, &req);
}

void gw_notes_op_awareness(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__NotesAwarenessRequest *na = cm->notes_awareness;
	if (!require_subscribed(s, cm->request_id, na->document))
		return;
	if (na->data.len > GW_NOTES_AWARENESS_MAX) {
		gw_session_send_error(s, cm->request_id, HD_ETOOLARGE, "an awareness update is at most 16 KiB");
		return;
	}
	if (na->data.len == 0) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST, "an awareness update needs data");
		return;
	}
	if (limited(s, &s->notes.awareness, gw.cfg.notes_awareness_rate, cm->request_id, "awareness updates"))
		return;
	gw.stats.notes_awareness++;
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAwarenessRequest ar = HUDDLE__V1__NOTES_SERVICE_AWARENESS_REQUEST__INIT;
	Huddle__V1__NotesAwareness a = HUDDLE__V1__NOTES_AWARENESS__INIT;
	a.meeting_id = s->notes.meeting_id;
	a.document = na->document;
	a.origin = s->notes.origin;
	a.data = na->data;
	ar.awareness = &a;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_AWARENESS;
	req.awareness = &ar;
	call(s, GW_OP_NOTES_AWARENESS, cm->request_id, na->document, &req);
}

void gw_notes_op_snapshot(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__NotesSnapshotRequest *ns = cm->notes_snapshot;
	if (!require_subscribed(s, cm->request_id, ns->document))
		return;
	size_t text_len = strlen(ns->text), extra = strlen(ns->author_name) + strlen(ns->language);
	if (ns->state.len > HD_DOC_STATE_MAX || text_len > HD_DOC_TEXT_MAX ||
	    ns->state.len + text_len + extra > HD_WS_MESSAGE_MAX - GW_NOTES_SNAPSHOT_RESERVE) {
		gw_session_send_error(s, cm->request_id, HD_ETOOLARGE,
				      "a snapshot's state (at most 2 MiB) and text (at most 2 MiB) must stay under "
				      "4 MiB together");
		return;
	}
	gw.stats.notes_snapshots++;
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceSnapshotRequest sr = HUDDLE__V1__NOTES_SERVICE_SNAPSHOT_REQUEST__INIT;
	sr.meeting_id = s->notes.meeting_id;
	sr.document = ns->document;
	sr.seq = ns->seq;
	sr.state = ns->state;
	sr.text = ns->text;
	sr.language = ns->language;
	sr.author_name = ns->author_name;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_SNAPSHOT;
	req.snapshot = &sr;
	call(s, GW_OP_NOTES_SNAPSHOT, cm->request_id, ns->document, &req);
}

void gw_notes_op_versions(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__NotesVersionsRequest *nv = cm->notes_versions;
	if (!require_subscribed(s, cm->request_id, nv->document))
		return;
	gw.stats.notes_versions++;
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceVersionsRequest vr = HUDDLE__V1__NOTES_SERVICE_VERSIONS_REQUEST__INIT;
	vr.meeting_id = s->notes.meeting_id;
	vr.document = nv->document;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_VERSIONS;
	req.versions = &vr;
	call(s, GW_OP_NOTES_VERSIONS, cm->request_id, nv->document, &req);
}

void gw_notes_op_version(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	Huddle__V1__NotesVersionRequest *nv = cm->notes_version;
	if (!require_subscribed(s, cm->request_id, nv->document))
		return;
	gw.stats.notes_versions++;
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceVersionRequest vr = HUDDLE__V1__NOTES_SERVICE_VERSION_REQUEST__INIT;
	vr.meeting_id = s->notes.meeting_id;
	vr.document = nv->document;
	vr.version = nv->version;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_VERSION;
	req.version = &vr;
	call(s, GW_OP_NOTES_VERSION, cm->request_id, nv->document, &req);
}

// ---- replies ----

// varint_len is the size of v as a protobuf varint.
static size_t varint_len(size_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

// send_open answers an open with what fits one browser-protocol message:
// the snapshot and as many updates as fit; `more` then tells the client to
// read on after the last one it got.
static void send_open(struct gw_session *s, uint32_t request_id, uint32_t kind, Huddle__V1__NotesServiceOpenReply *o)
{
	Huddle__V1__NotesOpenReply ok = HUDDLE__V1__NOTES_OPEN_REPLY__INIT;
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	ok.snapshot = o->snapshot;
	ok.more = o->more;
	ok.last_seq = o->last_seq;
	ok.document = (Huddle__V1__DocumentKind)kind;
	m.request_id = request_id;
	m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_OPEN;
	m.notes_open = &ok;
	// The outer lengths grow by a few bytes as updates are added: keep 16
	// bytes of margin rather than re-measuring.
	size_t size = huddle__v1__server_message__get_packed_size(&m) + 16, n = 0;
	while (n < o->n_updates) {
		size_t u = huddle__v1__notes_update__get_packed_size(o->updates[n]);
		if (size + 1 + varint_len(u) + u > HD_WS_MESSAGE_MAX)
			break;
		size += 1 + varint_len(u) + u;
		n++;
	}
	// Borrowed from the daemon's reply, which keeps its own count.
	ok.updates = o->updates;
	ok.n_updates = n;
	if (n < o->n_updates)
		ok.more = true;
	if (gw_session_send(s, &m) == HD_ETOOLARGE)
		gw_session_send_error(s, request_id, HD_ETOOLARGE, "the document's snapshot is over 4 MiB");
}

// on_updated answers an update and, when its seq has not been delivered
// yet, starts the grace period for its event.
static void on_updated(struct gw_session *s, const struct gw_pending *p, Huddle__V1__NotesServiceAppendReply *a)
{
	Huddle__V1__NotesUpdate *u = a->update;
	if (s != NULL) {
		Huddle__V1__NotesUpdateReply ok = HUDDLE__V1__NOTES_UPDATE_REPLY__INIT;
		ok.update = u;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_UPDATE, &ok);
	}
	gw_notes_expect(u->meeting_id, u->document, u->seq);
}

// want_of is the reply body each session op expects.
static Huddle__V1__NotesReply__BodyCase want_of(enum gw_op op)
{
	switch (op) {
	case GW_OP_NOTES_UPDATE:
		return HUDDLE__V1__NOTES_REPLY__BODY_APPEND;
	case GW_OP_NOTES_AWARENESS:
		return HUDDLE__V1__NOTES_REPLY__BODY_AWARENESS;
	case GW_OP_NOTES_SNAPSHOT:
		return HUDDLE__V1__NOTES_REPLY__BODY_SNAPSHOT;
	case GW_OP_NOTES_VERSIONS:
		return HUDDLE__V1__NOTES_REPLY__BODY_VERSIONS;
	case GW_OP_NOTES_VERSION:
		return HUDDLE__V1__NOTES_REPLY__BODY_VERSION;
	default:
		return HUDDLE__V1__NOTES_REPLY__BODY_OPEN;
	}
}

void gw_notes_op_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r)
{
	struct gw_session *s = gw_session_find(p->conn_id);
	const char *why = NULL;
	hd_err code = gw_notes_failed(err, r, want_of(p->op), &why);
	if (code != HD_OK) {
		if (s != NULL)
			gw_session_send_error(s, p->request_id, code, why);
		return;
	}
	if (p->op == GW_OP_NOTES_UPDATE) {
		on_updated(s, p, r->append); // the room learns of the seq even when s is gone
		return;
	}
	if (s == NULL)
		return; // closed meanwhile
	switch (p->op) {
	case GW_OP_NOTES_OPEN:
		send_open(s, p->request_id, p->document, r->open);
		break;
	case GW_OP_NOTES_AWARENESS: {
		Huddle__V1__NotesAwarenessReply ok = HUDDLE__V1__NOTES_AWARENESS_REPLY__INIT;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_AWARENESS, &ok);
		break;
	}
	case GW_OP_NOTES_SNAPSHOT: {
		Huddle__V1__NotesSnapshotReply ok = HUDDLE__V1__NOTES_SNAPSHOT_REPLY__INIT;
		ok.version = r->snapshot->version;
		ok.stored = r->snapshot->stored;
		ok.document = (Huddle__V1__DocumentKind)p->document;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_SNAPSHOT, &ok);
		break;
	}
	case GW_OP_NOTES_VERSIONS: {
		Huddle__V1__NotesVersionsReply ok = HUDDLE__V1__NOTES_VERSIONS_REPLY__INIT;
		ok.n_versions = r->versions->n_versions;
		ok.versions = r->versions->versions;
		ok.document = (Huddle__V1__DocumentKind)p->document;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_VERSIONS, &ok);
		break;
	}
	case GW_OP_NOTES_VERSION: {
		Huddle__V1__NotesVersionReply ok = HUDDLE__V1__NOTES_VERSION_REPLY__INIT;
		ok.snapshot = r->version->snapshot;
		ok.document = (Huddle__V1__DocumentKind)p->document;
		gw_session_send_body(s, p->request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_VERSION, &ok);
		break;
	}
	default:
		break;
	}
}
