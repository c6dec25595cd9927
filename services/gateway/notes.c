// notes.c: notes rooms, in-order delivery of document updates, awareness
// relay, and subscriptions (notes_ops.c serves the other requests).
#include "gateway/notes.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "common/log.h"
#include "gateway/callerr.h"
#include "gateway/session.h"
#include "gateway/topics.h"

#define NOTES_TICK_MS 100
#define NOTES_ACK_GRACE_MS 250 // an update's event may trail its reply this long before we read it back
#define NOTES_RETRY_MS 500     // a failed read-back is tried again after this long
#define NOTES_HELD_MAX 4096    // early events kept per document; later ones are read back
#define NOTES_HELD_BYTES_MAX ((size_t)16 * 1024 * 1024) // ... and their bytes
// NOTES_FILL_PAGE: updates per read-back (huddle-notes ends a page early,
// with more set, where the next update would not fit one reply).
#define NOTES_FILL_PAGE 200
// NOTES_PROBE_SEQ: Open after this seq returns no update, only last_seq:
// how a new room learns where a document stands without reading it.
#define NOTES_PROBE_SEQ INT64_MAX
#define NOTES_DOCS 2 // DOCUMENT_KIND_NOTES and DOCUMENT_KIND_CODE, at index kind - 1

// notes_held is an update event that arrived ahead of a gap.
struct notes_held {
	struct notes_held *next;
	Huddle__V1__NotesEvent *ev; // unpacked, owned; ev->update is set
};

// notes_doc is one document of a notes room.
struct notes_doc {
	bool ready;              // last_seq is known (the INIT call answered)
	int64_t last_seq;        // newest seq delivered to the members
	int64_t last_version;    // newest version announced to the members
	struct notes_held *held; // ascending seq, each > last_seq + 1
	size_t n_held, held_bytes;
	bool fill_inflight; // an Open(after_seq = last_seq) call is out
	bool fill_wanted;   // another read-back is due (at fill_at_ms)
	int64_t fill_at_ms; // monotonic ms
	int64_t expect_seq; // highest seq an update here was acknowledged with
	int64_t expect_at;  // monotonic ms when expect_seq's event is overdue
};

// gw_notes_room is one meeting's documents on this gateway.
struct gw_notes_room {
	char meeting_id[HD_ID_LEN + 1];
	uint64_t id; // names the room in pending calls
	struct notes_doc docs[NOTES_DOCS];
	struct gw_session *waiting; // subscribers until both documents are ready
	struct gw_session *members; // subscribed sessions
	UT_hash_handle hh;          // gw.notes_rooms, by meeting id
	UT_hash_handle hh_id;       // rooms_by_id, by id
};

static struct gw_notes_room *rooms_by_id;
static lws_sorted_usec_list_t notes_timer;
static unsigned notes_connections_seen; // hd_sub_connections at the last tick

// ---- helpers ----

static const struct gw_service_words notes_words = {
	.timeout = "the notes service did not answer in time",
	.bad_reply = "bad reply from the notes service",
	.unavailable = "the notes service is unavailable",
};

hd_err gw_notes_failed(hd_err err, const Huddle__V1__NotesReply *r, Huddle__V1__NotesReply__BodyCase want,
		       const char **message)
{
	if (err != HD_OK) {
		gw.stats.notes_failures++;
		return gw_call_failed(err, &notes_words, message);
	}
	if (r->error != NULL && r->error->code != HUDDLE__V1__ERROR_CODE__ERROR_CODE_OK) {
		*message = r->error->message;
		return (hd_err)r->error->code;
	}
	if (r->body_case != want || (want == HUDDLE__V1__NOTES_REPLY__BODY_APPEND && r->append->update == NULL)) {
		*message = notes_words.bad_reply;
		return HD_EINTERNAL;
	}
	return HD_OK;
}

bool gw_notes_kind_valid(uint32_t kind)
{
	return kind == HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES ||
	       kind == HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE;
}

static struct notes_doc *doc_of(struct gw_notes_room *r, uint32_t kind)
{
	return gw_notes_kind_valid(kind) ? &r->docs[kind - 1] : NULL;
}

static struct gw_notes_room *room_find(const char *meeting_id)
{
	struct gw_notes_room *r = NULL;
	HASH_FIND_STR(gw.notes_rooms, meeting_id, r);
	return r;
}

static struct gw_notes_room *room_find_id(uint64_t id)
{
	struct gw_notes_room *r = NULL;
	HASH_FIND(hh_id, rooms_by_id, &id, sizeof(id), r);
	return r;
}

static bool room_ready(const struct gw_notes_room *r)
{
	for (size_t i = 0; i < NOTES_DOCS; i++)
		if (!r->docs[i].ready)
			return false;
	return true;
}

static void held_pop(struct notes_doc *d)
{
	struct notes_held *h = d->held;
	d->held = h->next;
	d->n_held--;
	d->held_bytes -= h->ev->update->data.len;
	huddle__v1__notes_event__free_unpacked(h->ev, NULL);
	free(h);
}

// room_maybe_free frees r once no session waits in it or subscribes to it.
static void room_maybe_free(struct gw_notes_room *r)
{
	if (r->members != NULL || r->waiting != NULL)
		return;
	for (size_t i = 0; i < NOTES_DOCS; i++)
		while (r->docs[i].held != NULL)
			held_pop(&r->docs[i]);
	if (gw.notes_events != NULL) // NULL while shutting down
		hd_sub_unsubscribe(gw.notes_events, r->meeting_id);
	gw_topics_unwatch(r->meeting_id);
	HASH_DEL(gw.notes_rooms, r);
	HASH_DELETE(hh_id, rooms_by_id, r);
	HD_DEBUG("notes room %s closed", r->meeting_id);
	free(r);
}

static void reply_subscribed(struct gw_session *s, uint32_t request_id, const struct gw_notes_room *r)
{
	Huddle__V1__Meeting meeting = HUDDLE__V1__MEETING__INIT;
	Huddle__V1__NotesSubscribeReply reply = HUDDLE__V1__NOTES_SUBSCRIBE_REPLY__INIT;
	meeting.id = s->notes.meeting_id;
	meeting.title = s->notes.title;
	meeting.created_at_ms = s->notes.created_at_ms;
	reply.meeting = &meeting;
	reply.notes_last_seq = r->docs[HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES - 1].last_seq;
	reply.code_last_seq = r->docs[HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE - 1].last_seq;
	gw_session_send_body(s, request_id, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_SUBSCRIBE, &reply);
}

// ---- delivery ----

// deliver sends update u (the document's next seq, or the next one the
// store still has) to every member.
static void deliver(struct gw_notes_room *r, struct notes_doc *d, Huddle__V1__NotesUpdate *u)
{
	struct gw_session *s;
	d->last_seq = u->seq;
	DL_FOREACH2(r->members, s, notes.next)
	{
		if (!gw_session_may_read(s, r->meeting_id, s->notes.access_mode))
			continue; // left, removed or waiting in a meeting that is not open
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_UPDATE_EVENT, u);
		gw.stats.notes_delivered++;
	}
}

// flush_held delivers the held events that follow last_seq and drops the
// ones already delivered. Returns whether a gap remains before the rest.
static bool flush_held(struct gw_notes_room *r, struct notes_doc *d)
{
	while (d->held != NULL) {
		int64_t seq = d->held->ev->update->seq;
		if (seq == d->last_seq + 1)
			deliver(r, d, d->held->ev->update);
		else if (seq > d->last_seq)
			return true;
		held_pop(d);
	}
	return false;
}

// hold keeps ev (taking ownership) in seq order; duplicates and events
// beyond NOTES_HELD_MAX or NOTES_HELD_BYTES_MAX are dropped (the store has
// them).
static void hold(struct notes_doc *d, Huddle__V1__NotesEvent *ev)
{
	struct notes_held **at = &d->held;
	int64_t seq = ev->update->seq;
	size_t bytes = ev->update->data.len;
	while (*at != NULL && (*at)->ev->update->seq < seq)
		at = &(*at)->next;
	struct notes_held *h = NULL;
	if ((*at != NULL && (*at)->ev->update->seq == seq) || d->n_held >= NOTES_HELD_MAX ||
	    d->held_bytes + bytes > NOTES_HELD_BYTES_MAX || (h = malloc(sizeof(*h))) == NULL) {
		huddle__v1__notes_event__free_unpacked(ev, NULL);
		return;
	}
	h->ev = ev;
	h->next = *at;
	*at = h;
	d->n_held++;
	d->held_bytes += bytes;
}

// room_fill asks huddle-notes for document kind's updates after last_seq
// (one page; the reply asks for the next). While one is out, another is
// only noted.
static void room_fill(struct gw_notes_room *r, uint32_t kind)
{
	struct notes_doc *d = doc_of(r, kind);
	if (!d->ready)
		return;
	if (d->fill_inflight) {
		d->fill_wanted = true;
		return;
	}
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceOpenRequest o = HUDDLE__V1__NOTES_SERVICE_OPEN_REQUEST__INIT;
	o.meeting_id = r->meeting_id;
	o.document = (Huddle__V1__DocumentKind)kind;
	o.after_seq = d->last_seq;
	// After seq 0, Open reads the newest snapshot too: its updates are the
	// ones we want, the snapshot is ignored, and a page of one keeps the
	// reply small.
	o.limit = d->last_seq > 0 ? NOTES_FILL_PAGE : 1;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_OPEN;
	req.open = &o;
	if (gw_notes_call(GW_OP_NOTES_FILL, r->id, 0, kind, &req) != HD_OK) {
		d->fill_wanted = true;
		d->fill_at_ms = hd_mono_ms() + NOTES_RETRY_MS;
		return;
	}
	d->fill_inflight = true;
	d->fill_wanted = false;
	gw.stats.notes_fills++;
	HD_DEBUG("notes room %s: reading document %u back after seq %lld", r->meeting_id, kind, (long long)d->last_seq);
}

// event_meeting returns the meeting an event is about: the envelope's, or
// its body's when the envelope leaves it out.
static const char *event_meeting(const Huddle__V1__NotesEvent *ev)
{
	if (ev->meeting_id != NULL && ev->meeting_id[0] != '\0')
		return ev->meeting_id;
	switch (ev->body_case) {
	case HUDDLE__V1__NOTES_EVENT__BODY_UPDATE:
		return ev->update->meeting_id;
	case HUDDLE__V1__NOTES_EVENT__BODY_AWARENESS:
		return ev->awareness->meeting_id;
	default:
		return "";
	}
}

// on_update_event delivers or holds a stored update (taking ev).
static void on_update_event(struct gw_notes_room *r, Huddle__V1__NotesEvent *ev)
{
	uint32_t kind = ev->update->document;
	struct notes_doc *d = doc_of(r, kind);
	int64_t seq = ev->update->seq;
	if (d == NULL || (d->ready && seq <= d->last_seq)) {
		huddle__v1__notes_event__free_unpacked(ev, NULL);
		return; // no document of ours, or a duplicate
	}
	if (!d->ready) {
		hold(d, ev); // sorted out when the document learns its last_seq
		return;
	}
	if (seq == d->last_seq + 1) {
		deliver(r, d, ev->update);
		huddle__v1__notes_event__free_unpacked(ev, NULL);
		if (flush_held(r, d))
			room_fill(r, kind);
		return;
	}
	hold(d, ev);
	room_fill(r, kind);
}

// on_snapshot_event tells the members of a new version, once each.
static void on_snapshot_event(struct gw_notes_room *r, uint32_t kind, Huddle__V1__NotesVersion *v)
{
	struct notes_doc *d = doc_of(r, kind);
	struct gw_session *s;
	if (d == NULL || v == NULL || v->version <= d->last_version)
		return;
	d->last_version = v->version;
	Huddle__V1__NotesSnapshotEvent se = HUDDLE__V1__NOTES_SNAPSHOT_EVENT__INIT;
	se.document = (Huddle__V1__DocumentKind)kind;
	se.version = v;
	DL_FOREACH2(r->members, s, notes.next)
	{
		if (!gw_session_may_read(s, r->meeting_id, s->notes.access_mode))
			continue;
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_SNAPSHOT_EVENT, &se);
	}
}

// on_awareness_event relays an editor's awareness to every member but the
// connection it came from. Never stored, never read back.
static void on_awareness_event(struct gw_notes_room *r, Huddle__V1__NotesAwareness *a)
{
	struct gw_session *s;
	if (!gw_notes_kind_valid(a->document))
		return;
	DL_FOREACH2(r->members, s, notes.next)
	{
		if (strcmp(s->notes.origin, a->origin) == 0 ||
		    !gw_session_may_read(s, r->meeting_id, s->notes.access_mode))
			continue;
		gw_session_send_body(s, 0, HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_AWARENESS_EVENT, a);
		gw.stats.notes_awareness_delivered++;
	}
}

void gw_notes_on_event(const uint8_t *data, size_t len)
{
	Huddle__V1__NotesEvent *ev = huddle__v1__notes_event__unpack(NULL, len, data);
	bool ok = ev != NULL && ((ev->body_case == HUDDLE__V1__NOTES_EVENT__BODY_UPDATE && ev->update != NULL) ||
				 (ev->body_case == HUDDLE__V1__NOTES_EVENT__BODY_SNAPSHOT && ev->snapshot != NULL) ||
				 (ev->body_case == HUDDLE__V1__NOTES_EVENT__BODY_AWARENESS && ev->awareness != NULL));
	if (!ok) {
		HD_WARN("malformed notes event (%zu bytes) dropped", len);
		if (ev != NULL)
			huddle__v1__notes_event__free_unpacked(ev, NULL);
		return;
	}
	gw.stats.notes_events_in++;
	struct gw_notes_room *r = room_find(event_meeting(ev));
	if (r == NULL) {
		huddle__v1__notes_event__free_unpacked(ev, NULL);
		return; // not ours
	}
	switch (ev->body_case) {
	case HUDDLE__V1__NOTES_EVENT__BODY_UPDATE:
		on_update_event(r, ev); // takes ev
		return;
	case HUDDLE__V1__NOTES_EVENT__BODY_SNAPSHOT:
		on_snapshot_event(r, ev->document, ev->snapshot);
		break;
	default:
		on_awareness_event(r, ev->awareness);
		break;
	}
	huddle__v1__notes_event__free_unpacked(ev, NULL);
}

// fail_waiting answers every session waiting in r with an error and frees r
// (no member can be in a room that is not ready).
static void fail_waiting(struct gw_notes_room *r, hd_err code, const char *why)
{
	struct gw_session *s, *tmp;
	// Detach the whole list, then walk it (no unlinking one by one).
	struct gw_session *waiting = r->waiting;
	r->waiting = NULL;
	for (s = waiting; s != NULL; s = tmp) {
		tmp = s->notes.next;
		s->notes.prev = s->notes.next = NULL;
		s->notes.room = NULL;
		s->notes.state = GW_NOTES_NONE;
		gw_session_send_error(s, s->notes.request_id, code, why);
	}
	room_maybe_free(r);
}

// subscribed makes s a member of r and answers its subscription.
static void subscribed(struct gw_notes_room *r, struct gw_session *s, uint32_t request_id)
{
	int64_t now = hd_mono_ms();
	DL_APPEND2(r->members, s, notes.prev, notes.next);
	s->notes.room = r;
	s->notes.state = GW_NOTES_SUBSCRIBED;
	gw_ratelimit_init(&s->notes.updates, 2 * (uint32_t)gw.cfg.notes_update_rate, now);
	gw_ratelimit_init(&s->notes.awareness, 2 * (uint32_t)gw.cfg.notes_awareness_rate, now);
	reply_subscribed(s, request_id, r);
}

// on_init makes document kind of r ready with the last_seq huddle-notes
// reported; once both are, answers the waiting subscribers, then delivers
// what arrived meanwhile.
static void on_init(struct gw_notes_room *r, uint32_t kind, hd_err err, Huddle__V1__NotesReply *reply)
{
	const char *why = NULL;
	struct notes_doc *d = doc_of(r, kind);
	if (d == NULL || d->ready)
		return;
	hd_err code = gw_notes_failed(err, reply, HUDDLE__V1__NOTES_REPLY__BODY_OPEN, &why);
	if (code != HD_OK) {
		HD_WARN("notes room %s: cannot read document %u's last seq: %s", r->meeting_id, kind, why);
		fail_waiting(r, code, why);
		return;
	}
	d->ready = true;
	d->last_seq = reply->open->last_seq;
	if (!room_ready(r))
		return;
	struct gw_session *s, *tmp, *waiting = r->waiting;
	r->waiting = NULL;
	for (s = waiting; s != NULL; s = tmp) {
		tmp = s->notes.next;
		s->notes.prev = s->notes.next = NULL;
		subscribed(r, s, s->notes.request_id);
	}
	HD_DEBUG("notes room %s open at seq %lld (notes) and %lld (code)", r->meeting_id,
		 (long long)r->docs[0].last_seq, (long long)r->docs[1].last_seq);
	// A bus reconnect while we were asking may have lost events after the
	// seq we were told: read back then too.
	for (uint32_t k = 1; k <= NOTES_DOCS; k++)
		if (flush_held(r, doc_of(r, k)) || doc_of(r, k)->fill_wanted)
			room_fill(r, k);
}

// skip_dropped moves document d past updates the store no longer has: a
// snapshot covers them (and dropped them) before we read them back. floor
// (> last_seq) is the highest seq the store proved gone; held events up to
// it are delivered first, in order.
static void skip_dropped(struct gw_notes_room *r, struct notes_doc *d, int64_t floor)
{
	HD_DEBUG("notes room %s: updates %lld..%lld are covered by a snapshot; skipped", r->meeting_id,
		 (long long)d->last_seq + 1, (long long)floor);
	while (d->held != NULL && d->held->ev->update->seq <= floor) {
		if (d->held->ev->update->seq > d->last_seq)
			deliver(r, d, d->held->ev->update);
		held_pop(d);
	}
	d->last_seq = floor;
}

// on_fill delivers a page read back after last_seq and decides whether to
// read on.
static void on_fill(struct gw_notes_room *r, uint32_t kind, hd_err err, Huddle__V1__NotesReply *reply)
{
	const char *why = NULL;
	struct notes_doc *d = doc_of(r, kind);
	if (d == NULL)
		return;
	d->fill_inflight = false;
	if (gw_notes_failed(err, reply, HUDDLE__V1__NOTES_REPLY__BODY_OPEN, &why) != HD_OK) {
		HD_WARN("notes room %s: read-back of document %u failed (%s); retrying", r->meeting_id, kind, why);
		d->fill_wanted = true;
		d->fill_at_ms = hd_mono_ms() + NOTES_RETRY_MS;
		return;
	}
	Huddle__V1__NotesServiceOpenReply *o = reply->open;
	int64_t before = d->last_seq;
	// The store's updates have no gaps but a prefix a snapshot dropped: a
	// page that starts above last_seq + 1, or an empty one below the
	// document's last_seq, proves the updates between are gone. The page
	// then carries that snapshot; its version is announced (once) before
	// the jump, so a client that missed the updates knows to reopen.
	int64_t floor = d->last_seq;
	if (o->n_updates > 0 && o->updates[0] != NULL)
		floor = o->updates[0]->seq - 1;
	else if (o->n_updates == 0 && !o->more)
		floor = o->last_seq;
	if (floor > d->last_seq) {
		if (o->snapshot != NULL)
			on_snapshot_event(r, kind, o->snapshot->version);
		skip_dropped(r, d, floor);
	}
	for (size_t i = 0; i < o->n_updates; i++) {
		Huddle__V1__NotesUpdate *u = o->updates[i];
		if (u == NULL || u->seq <= d->last_seq)
			continue;
		if (u->seq != d->last_seq + 1 || strcmp(u->meeting_id, r->meeting_id) != 0 || u->document != kind)
			break; // not contiguous: read again from last_seq
		deliver(r, d, u);
	}
	bool gap = flush_held(r, d);
	if (d->expect_seq <= d->last_seq)
		d->expect_seq = 0;
	else
		d->expect_at = hd_mono_ms() + NOTES_ACK_GRACE_MS;
	bool behind = o->more || o->last_seq > d->last_seq || gap;
	// A page the bus overtook (all of it delivered meanwhile) is progress too.
	bool overtaken =
		o->n_updates > 0 && o->updates[o->n_updates - 1] != NULL && o->updates[o->n_updates - 1]->seq <= before;
	if (d->last_seq == before && !overtaken && behind) {
		// No progress: held events the store does not have, or a store
		// answering inconsistently. Do not spin; try again later.
		if (o->last_seq <= d->last_seq)
			while (d->held != NULL)
				held_pop(d);
		d->fill_wanted = true;
		d->fill_at_ms = hd_mono_ms() + NOTES_RETRY_MS;
		return;
	}
	if (behind || d->fill_wanted)
		room_fill(r, kind);
}

void gw_notes_expect(const char *meeting_id, uint32_t kind, int64_t seq)
{
	struct gw_notes_room *r = room_find(meeting_id);
	struct notes_doc *d = r != NULL ? doc_of(r, kind) : NULL;
	if (d == NULL || !d->ready || seq <= d->last_seq || seq <= d->expect_seq)
		return;
	if (d->expect_seq <= d->last_seq) // no earlier update is overdue: start the clock
		d->expect_at = hd_mono_ms() + NOTES_ACK_GRACE_MS;
	d->expect_seq = seq;
}

// ---- timer ----

// notes_tick reads back missed events: every document after the notes bus
// reconnected, one whose read-back failed earlier, and one where an
// update's event is overdue.
static void notes_tick(lws_sorted_usec_list_t *sul)
{
	int64_t now = hd_mono_ms();
	bool reconnected = false;
	if (gw.notes_events != NULL) {
		unsigned c = hd_sub_connections(gw.notes_events);
		if (c != notes_connections_seen) {
			notes_connections_seen = c;
			reconnected = true;
		}
	}
	struct gw_notes_room *r, *tmp;
	HASH_ITER(hh, gw.notes_rooms, r, tmp)
	{
		if (reconnected)
			HD_DEBUG("notes room %s: event bus reconnected", r->meeting_id);
		for (uint32_t kind = 1; kind <= NOTES_DOCS; kind++) {
			struct notes_doc *d = doc_of(r, kind);
			if (!d->ready) {
				if (reconnected) // read back once its last_seq is known
					d->fill_wanted = true;
				continue;
			}
			if (reconnected) {
				room_fill(r, kind);
			} else if (d->fill_wanted && !d->fill_inflight && now >= d->fill_at_ms) {
				room_fill(r, kind);
			} else if (d->expect_seq > d->last_seq && now >= d->expect_at) {
				HD_DEBUG("notes room %s: event for seq %lld of document %u overdue", r->meeting_id,
					 (long long)d->expect_seq, kind);
				d->expect_at = now + NOTES_ACK_GRACE_MS;
				room_fill(r, kind);
			}
		}
	}
	lws_sul_schedule(gw.ctx, 0, &notes_timer, notes_tick, NOTES_TICK_MS * LWS_US_PER_MS);
}

void gw_notes_start(void)
{
	lws_sul_schedule(gw.ctx, 0, &notes_timer, notes_tick, NOTES_TICK_MS * LWS_US_PER_MS);
}

void gw_notes_stop(void)
{
	lws_sul_cancel(&notes_timer);
}

// ---- subscriptions ----

void gw_notes_op_subscribe(struct gw_session *s, Huddle__V1__ClientMessage *cm)
{
	const char *id = cm->notes_subscribe->meeting_id;
	gw.stats.notes_subscribes++;
	if (s->notes.state == GW_NOTES_SUBSCRIBED && strcmp(id, s->notes.meeting_id) == 0) {
		reply_subscribed(s, cm->request_id, s->notes.room);
		return;
	}
	if (s->notes.state != GW_NOTES_NONE) {
		gw_session_send_error(s, cm->request_id, HD_EBADREQUEST,
				      s->notes.state == GW_NOTES_SUBSCRIBED
					      ? "this connection already has another meeting's documents"
					      : "a notes subscription is already in progress");
		return;
	}
	if (!hd_id_valid(id)) {
		gw_session_send_error(s, cm->request_id, HD_EUNKNOWNMEETING, "no meeting has that id");
		return;
	}
	Huddle__V1__RegistryRequest req = HUDDLE__V1__REGISTRY_REQUEST__INIT;
	Huddle__V1__GetMeetingRequest gm = HUDDLE__V1__GET_MEETING_REQUEST__INIT;
	gm.meeting_id = (char *)id;
	req.body_case = HUDDLE__V1__REGISTRY_REQUEST__BODY_GET_MEETING;
	req.get_meeting = &gm;
	if (gw_registry_call(GW_OP_NOTES_MEETING, s->id, cm->request_id, &req) != HD_OK) {
		gw_session_send_error(s, cm->request_id, HD_EUNAVAILABLE, "the registry is unavailable");
		return;
	}
	s->notes.state = GW_NOTES_MEETING;
	s->notes.request_id = cm->request_id;
	snprintf(s->notes.meeting_id, sizeof(s->notes.meeting_id), "%s", id);
}

// room_open creates the notes room of meeting_id: subscribed to its topic
// first, so nothing published after the INIT calls' reads is missed.
static struct gw_notes_room *room_open(const char *meeting_id)
{
	struct gw_notes_room *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	snprintf(r->meeting_id, sizeof(r->meeting_id), "%s", meeting_id);
	r->id = gw_next_id();
	if (gw.notes_events == NULL || hd_sub_subscribe(gw.notes_events, r->meeting_id) != HD_OK) {
		free(r);
		return NULL;
	}
	// The meeting's access mode may change while it is open (meeting_updated).
	if (gw_topics_watch(r->meeting_id) != HD_OK) {
		hd_sub_unsubscribe(gw.notes_events, r->meeting_id);
		free(r);
		return NULL;
	}
	HASH_ADD_STR(gw.notes_rooms, meeting_id, r);
	HASH_ADD(hh_id, rooms_by_id, id, sizeof(r->id), r);
	return r;
}

// room_init asks huddle-notes where each document of the new room stands.
// Returns HD_OK or why it could not be asked.
static hd_err room_init(struct gw_notes_room *r)
{
	for (uint32_t kind = 1; kind <= NOTES_DOCS; kind++) {
		Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
		Huddle__V1__NotesServiceOpenRequest o = HUDDLE__V1__NOTES_SERVICE_OPEN_REQUEST__INIT;
		o.meeting_id = r->meeting_id;
		o.document = (Huddle__V1__DocumentKind)kind;
		o.after_seq = NOTES_PROBE_SEQ;
		o.limit = 1;
		req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_OPEN;
		req.open = &o;
		hd_err err = gw_notes_call(GW_OP_NOTES_INIT, r->id, 0, kind, &req);
		if (err != HD_OK)
			return err;
	}
	return HD_OK;
}

void gw_notes_on_meeting(struct gw_session *s, const struct gw_pending *p, hd_err err, Huddle__V1__RegistryReply *r)
{
	if (s->notes.state != GW_NOTES_MEETING || s->notes.request_id != p->request_id)
		return;
	s->notes.state = GW_NOTES_NONE;
	if (gw_session_registry_failed(s, p->request_id, err, r))
		return;
	if (r->body_case != HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING || r->get_meeting->meeting == NULL ||
	    strcmp(r->get_meeting->meeting->id, s->notes.meeting_id) != 0) {
		gw_session_send_error(s, p->request_id, HD_EINTERNAL, "bad reply from the registry");
		return;
	}
	if (hd_id_random(s->notes.origin) != HD_OK) {
		gw_session_send_error(s, p->request_id, HD_EINTERNAL, "no randomness for a connection id");
		return;
	}
	if (!gw_session_may_read(s, s->notes.meeting_id, r->get_meeting->meeting->access_mode)) {
		gw_session_send_error(s, p->request_id, HD_EFORBIDDEN,
				      "the notes of this meeting are for the participants a host let in");
		return;
	}
	s->notes.access_mode = r->get_meeting->meeting->access_mode;
	snprintf(s->notes.title, sizeof(s->notes.title), "%s", r->get_meeting->meeting->title);
	s->notes.created_at_ms = r->get_meeting->meeting->created_at_ms;

	struct gw_notes_room *room = room_find(s->notes.meeting_id);
	if (room != NULL && room_ready(room)) {
		subscribed(room, s, p->request_id);
		return;
	}
	bool fresh = room == NULL;
	if (fresh && (room = room_open(s->notes.meeting_id)) == NULL) {
		gw_session_send_error(s, p->request_id, HD_ENOMEM, NULL);
		return;
	}
	DL_APPEND2(room->waiting, s, notes.prev, notes.next);
	s->notes.room = room;
	s->notes.state = GW_NOTES_WAITING;
	if (fresh && room_init(room) != HD_OK)
		fail_waiting(room, HD_EUNAVAILABLE, "the notes service is unavailable"); // answers and frees
}

void gw_notes_detach(struct gw_session *s)
{
	struct gw_notes_room *r = s->notes.room;
	if (r != NULL) {
		if (s->notes.state == GW_NOTES_WAITING)
			DL_DELETE2(r->waiting, s, notes.prev, notes.next);
		else
			DL_DELETE2(r->members, s, notes.prev, notes.next);
		s->notes.room = NULL;
		room_maybe_free(r);
	}
	s->notes.state = GW_NOTES_NONE;
}

void gw_notes_count(size_t *rooms, size_t *subscribers)
{
	struct gw_notes_room *r, *tmp;
	struct gw_session *s;
	size_t n = 0;
	HASH_ITER(hh, gw.notes_rooms, r, tmp){DL_FOREACH2(r->members, s, notes.next){n++;
}
}
*rooms = HASH_CNT(hh, gw.notes_rooms);
*subscribers = n;
}

void gw_notes_on_reply(const struct gw_pending *p, hd_err err, Huddle__V1__NotesReply *r)
{
	struct gw_notes_room *room;
	switch (p->op) {
	case GW_OP_NOTES_INIT:
		if ((room = room_find_id(p->conn_id)) != NULL)
			on_init(room, p->document, err, r);
		break;
	case GW_OP_NOTES_FILL:
		if ((room = room_find_id(p->conn_id)) != NULL)
			on_fill(room, p->document, err, r);
		break;
	default:
		break;
	}
}
