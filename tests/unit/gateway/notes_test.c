// notes_test.c: notes rooms without a network: subscriptions wait for both
// documents' last_seq; updates reach every member in seq order, once each;
// early events are held and the gap read back with Open(after_seq); a page
// that shows a snapshot dropped updates moves past them after announcing its
// version; awareness skips its origin; versions are announced once; a failed
// INIT answers the waiting. The stubs below stand in for calls.c and
// session.c (they record what notes.c and notes_ops.c ask and send), so the
// room logic is linked alone.
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/rpc.h"
#include "common/store.h"
#include "gateway/notes.h"
#include "gateway/notes_ops.h"
#include "gateway/session.h"

#define MEETING "MeetingMeetingMeeting1"
#define OTHER "MeetingMeetingMeeting2"
#define PARTICIPANT "ParticipantParticipant"

struct gw gw;

// ---- stubs: calls ----

struct call {
	enum gw_op op;
	uint64_t conn_id;
	uint32_t request_id, document;
	int64_t after_seq;
	uint32_t limit;
	char author_id[HD_ID_LEN + 1];
};
static struct call calls[64];
static size_t n_calls;

uint64_t gw_next_id(void)
{
	return ++gw.next_id;
}

hd_err gw_notes_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, uint32_t document,
		     Huddle__V1__NotesRequest *req)
{
	struct call *c = &calls[n_calls++ % 64];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->conn_id = conn_id;
	c->request_id = request_id;
	c->document = document;
	if (req->body_case == HUDDLE__V1__NOTES_REQUEST__BODY_OPEN) {
		c->after_seq = req->open->after_seq;
		c->limit = req->open->limit;
	} else if (req->body_case == HUDDLE__V1__NOTES_REQUEST__BODY_APPEND) {
		snprintf(c->author_id, sizeof(c->author_id), "%s", req->append->update->author_id);
	}
	return HD_OK;
}

hd_err gw_registry_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__RegistryRequest *req)
{
	struct call *c = &calls[n_calls++ % 64];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->conn_id = conn_id;
	c->request_id = request_id;
	return HD_OK;
}

static const struct call *last_call(void)
{
	assert_true(n_calls > 0);
	return &calls[(n_calls - 1) % 64];
}

// ---- stubs: sessions ----

// sent is what one session was sent.
struct sent {
	int64_t seqs[2][64]; // notes_update_event seqs per document
	size_t n_seqs[2];
	int awareness, errors;
	hd_err last_error;
	int64_t versions[16]; // notes_snapshot_event versions
	size_t n_versions;
	bool subscribed;
	int64_t notes_last_seq, code_last_seq;
	size_t open_updates; // of the last notes_open reply
	bool open_more;
};

static struct gw_session *sessions[8];
static struct sent sents[8];
static size_t n_sessions;

static struct sent *sent_of(const struct gw_session *s)
{
	for (size_t i = 0; i < n_sessions; i++)
		if (sessions[i] == s)
			return &sents[i];
	fail_msg("unknown session");
	return NULL;
}

struct gw_session *gw_session_find(uint64_t id)
{
	for (size_t i = 0; i < n_sessions; i++)
		if (sessions[i] != NULL && sessions[i]->id == id)
			return sessions[i];
	return NULL;
}

hd_err gw_session_send(struct gw_session *s, const Huddle__V1__ServerMessage *m)
{
	struct sent *t = sent_of(s);
	switch (m->body_case) {
	case HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_UPDATE_EVENT: {
		size_t d = m->notes_update_event->document - 1;
		t->seqs[d][t->n_seqs[d]++] = m->notes_update_event->seq;
		break;
	}
	case HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_AWARENESS_EVENT:
		t->awareness++;
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_SNAPSHOT_EVENT:
		t->versions[t->n_versions++] = m->notes_snapshot_event->version->version;
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_SUBSCRIBE:
		t->subscribed = true;
		t->notes_last_seq = m->notes_subscribe->notes_last_seq;
		t->code_last_seq = m->notes_subscribe->code_last_seq;
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_NOTES_OPEN:
		t->open_updates = m->notes_open->n_updates;
		t->open_more = m->notes_open->more;
		assert_true(huddle__v1__server_message__get_packed_size(m) <= HD_WS_MESSAGE_MAX);
		break;
	case HUDDLE__V1__SERVER_MESSAGE__BODY_ERROR:
		t->errors++;
		t->last_error = (hd_err)m->error->code;
		break;
	default:
		break;
	}
	return HD_OK;
}

void gw_session_send_body(struct gw_session *s, uint32_t request_id, Huddle__V1__ServerMessage__BodyCase c, void *body)
{
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	m.request_id = request_id;
	m.body_case = c;
	m.join = body;
	gw_session_send(s, &m);
}

void gw_session_send_error(struct gw_session *s, uint32_t request_id, hd_err code, const char *message)
{
	Huddle__V1__ServerMessage m = HUDDLE__V1__SERVER_MESSAGE__INIT;
	Huddle__V1__Error e = HUDDLE__V1__ERROR__INIT;
	e.code = (Huddle__V1__ErrorCode)code;
	e.message = (char *)(message != NULL ? message : "");
	m.request_id = request_id;
	m.body_case = HUDDLE__V1__SERVER_MESSAGE__BODY_ERROR;
	m.error = &e;
	gw_session_send(s, &m);
}

bool gw_session_registry_failed(struct gw_session *s, uint32_t request_id, hd_err err,
				const Huddle__V1__RegistryReply *r)
{
	if (err == HD_OK && (r->error == NULL || r->error->code == 0))
		return false;
	gw_session_send_error(s, request_id, err != HD_OK ? err : (hd_err)r->error->code, NULL);
	return true;
}

// ---- helpers ----

static struct gw_session *session_new(void)
{
	struct gw_session *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->id = gw_next_id();
	s->state = GW_SESSION_CONNECTED;
	memset(&sents[n_sessions], 0, sizeof(sents[0]));
	sessions[n_sessions++] = s;
	return s;
}

static void session_free(struct gw_session *s)
{
	gw_notes_detach(s);
	for (size_t i = 0; i < n_sessions; i++)
		if (sessions[i] == s)
			sessions[i] = NULL;
	free(s);
}

// subscribe sends notes_subscribe and answers its GetMeeting; returns the
// number of calls made after it (the room's INIT calls when it is new).
static size_t subscribe(struct gw_session *s, const char *meeting_id)
{
	Huddle__V1__ClientMessage cm = HUDDLE__V1__CLIENT_MESSAGE__INIT;
	Huddle__V1__NotesSubscribeRequest ns = HUDDLE__V1__NOTES_SUBSCRIBE_REQUEST__INIT;
	ns.meeting_id = (char *)meeting_id;
	cm.request_id = 1;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_SUBSCRIBE;
	cm.notes_subscribe = &ns;
	gw_notes_op_subscribe(s, &cm);
	assert_int_equal(last_call()->op, GW_OP_NOTES_MEETING);
	struct gw_pending p = {.op = GW_OP_NOTES_MEETING, .conn_id = s->id, .request_id = 1};
	Huddle__V1__RegistryReply r = HUDDLE__V1__REGISTRY_REPLY__INIT;
	Huddle__V1__GetMeetingReply gm = HUDDLE__V1__GET_MEETING_REPLY__INIT;
	Huddle__V1__Meeting m = HUDDLE__V1__MEETING__INIT;
	m.id = (char *)meeting_id;
	gm.meeting = &m;
	r.body_case = HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING;
	r.get_meeting = &gm;
	size_t before = n_calls;
	gw_notes_on_meeting(s, &p, HD_OK, &r);
	return n_calls - before;
}

// init answers the room's INIT call for document with last_seq (or err).
static void init(uint64_t room_id, uint32_t document, int64_t last_seq, hd_err err)
{
	struct gw_pending p = {.op = GW_OP_NOTES_INIT, .conn_id = room_id, .document = document};
	Huddle__V1__NotesReply r = HUDDLE__V1__NOTES_REPLY__INIT;
	Huddle__V1__NotesServiceOpenReply o = HUDDLE__V1__NOTES_SERVICE_OPEN_REPLY__INIT;
	o.last_seq = last_seq;
	r.body_case = HUDDLE__V1__NOTES_REPLY__BODY_OPEN;
	r.open = &o;
	gw_notes_on_reply(&p, err, err == HD_OK ? &r : NULL);
}

// event publishes a NotesEvent as the bus would deliver it.
static void event(Huddle__V1__NotesEvent *ev)
{
	uint8_t buf[512];
	size_t n = huddle__v1__notes_event__get_packed_size(ev);
	assert_true(n <= sizeof(buf));
	huddle__v1__notes_event__pack(ev, buf);
	gw_notes_on_event(buf, n);
}

static void update_event(const char *meeting_id, uint32_t document, int64_t seq)
{
	Huddle__V1__NotesEvent ev = HUDDLE__V1__NOTES_EVENT__INIT;
	Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
	uint8_t data[4] = {1, 2, 3, 4};
	u.meeting_id = (char *)meeting_id;
	u.document = (Huddle__V1__DocumentKind)document;
	u.seq = seq;
	u.client_update_id = "id";
	u.data.data = data;
	u.data.len = sizeof(data);
	ev.body_case = HUDDLE__V1__NOTES_EVENT__BODY_UPDATE;
	ev.update = &u;
	ev.meeting_id = (char *)meeting_id;
	ev.document = (Huddle__V1__DocumentKind)document;
	event(&ev);
}

// fill answers the last call (a FILL) with updates from..to (none when
// from > to), an optional snapshot version at snap_seq, and last_seq.
static void fill(int64_t from, int64_t to, int64_t snap_version, int64_t snap_seq, int64_t last_seq)
{
	const struct call *c = last_call();
	assert_int_equal(c->op, GW_OP_NOTES_FILL);
	struct gw_pending p = {.op = GW_OP_NOTES_FILL, .conn_id = c->conn_id, .document = c->document};
	Huddle__V1__NotesReply r = HUDDLE__V1__NOTES_REPLY__INIT;
	Huddle__V1__NotesServiceOpenReply o = HUDDLE__V1__NOTES_SERVICE_OPEN_REPLY__INIT;
	Huddle__V1__NotesSnapshot snap = HUDDLE__V1__NOTES_SNAPSHOT__INIT;
	Huddle__V1__NotesVersion v = HUDDLE__V1__NOTES_VERSION__INIT;
	Huddle__V1__NotesUpdate us[16], *ptrs[16];
	size_t n = 0;
	for (int64_t seq = from; seq <= to; seq++, n++) {
		huddle__v1__notes_update__init(&us[n]);
		us[n].meeting_id = MEETING;
		us[n].document = (Huddle__V1__DocumentKind)c->document;
		us[n].seq = seq;
		ptrs[n] = &us[n];
	}
	if (snap_version > 0) {
		v.version = snap_version;
		v.seq = snap_seq;
		snap.version = &v;
		o.snapshot = &snap;
	}
	o.updates = ptrs;
	o.n_updates = n;
	o.last_seq = last_seq;
	r.body_case = HUDDLE__V1__NOTES_REPLY__BODY_OPEN;
	r.open = &o;
	gw_notes_on_reply(&p, HD_OK, &r);
}

static void assert_seqs(const struct sent *t, uint32_t document, const int64_t *want, size_t n)
{
	assert_int_equal(t->n_seqs[document - 1], n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(t->seqs[document - 1][i], want[i]);
}

// ---- tests ----

static void no_events(void *arg, const char *topic, const uint8_t *data, size_t len)
{
}

static int setup(void **state)
{
	char url[64];
	snprintf(url, sizeof(url), "ipc:///tmp/gw-notes-test-%d", (int)getpid());
	memset(&gw, 0, sizeof(gw));
	gw.cfg.notes_update_rate = 2;
	gw.cfg.notes_awareness_rate = 2;
	n_calls = n_sessions = 0;
	// A subscription that dials nothing: rooms subscribe their topic on it.
	return hd_sub_open(&gw.notes_events, url, no_events, NULL) == HD_OK ? 0 : -1;
}

static int teardown(void **state)
{
	hd_sub_close(gw.notes_events);
	gw.notes_events = NULL;
	return 0;
}

static void delivery_in_order(void **state)
{
	struct gw_session *a = session_new(), *b = session_new();
	assert_int_equal(subscribe(a, MEETING), 2); // a new room asks where both documents stand
	const struct call *c = last_call();
	assert_int_equal(c->op, GW_OP_NOTES_INIT);
	assert_true(c->after_seq > 1000000); // a probe: no update, only last_seq
	uint64_t room = c->conn_id;
	// Events before the room is ready are held, not lost.
	update_event(MEETING, 1, 4);
	assert_false(sent_of(a)->subscribed);
	init(room, 1, 3, HD_OK);
	assert_false(sent_of(a)->subscribed); // the code pad is not known yet
	init(room, 2, 0, HD_OK);
	assert_true(sent_of(a)->subscribed);
	assert_int_equal(sent_of(a)->notes_last_seq, 3);
	assert_int_equal(sent_of(a)->code_last_seq, 0);
	assert_seqs(sent_of(a), 1, (int64_t[]){4}, 1);
	// A second subscriber joins the ready room at once.
	assert_int_equal(subscribe(b, MEETING), 0);
	assert_int_equal(sent_of(b)->notes_last_seq, 4);
	// 6 before 5: held, and 5..6 read back after 4; a duplicate of 4 is dropped.
	size_t before = n_calls;
	update_event(MEETING, 1, 6);
	assert_int_equal(n_calls, before + 1);
	assert_int_equal(last_call()->after_seq, 4);
	update_event(MEETING, 1, 4);
	fill(5, 6, 0, 0, 6);
	assert_seqs(sent_of(a), 1, (int64_t[]){4, 5, 6}, 3);
	assert_seqs(sent_of(b), 1, (int64_t[]){5, 6}, 2);
	// The bus is right on time: no read-back needed.
	update_event(MEETING, 1, 7);
	update_event(MEETING, 2, 1);
	assert_seqs(sent_of(a), 1, (int64_t[]){4, 5, 6, 7}, 4);
	assert_seqs(sent_of(b), 2, (int64_t[]){1}, 1);
	// Another meeting's events are not ours.
	update_event(OTHER, 1, 8);
	assert_int_equal(sent_of(a)->n_seqs[0], 4);
	session_free(a);
	session_free(b);
	assert_null(gw.notes_rooms); // the last one out frees the room
}

static void skips_what_a_snapshot_dropped(void **state)
{
	struct gw_session *a = session_new();
	subscribe(a, MEETING);
	uint64_t room = last_call()->conn_id;
	init(room, 1, 2, HD_OK);
	init(room, 2, 0, HD_OK);
	// 3..5 never came; meanwhile a snapshot at seq 8 dropped them: the page
	// carries it and starts at 9. Its version is announced, then 9, 10.
	update_event(MEETING, 1, 9);
	assert_int_equal(last_call()->after_seq, 2);
	fill(9, 10, 4, 8, 10);
	assert_int_equal(sent_of(a)->n_versions, 1);
	assert_int_equal(sent_of(a)->versions[0], 4);
	assert_seqs(sent_of(a), 1, (int64_t[]){9, 10}, 2);
	// The same version from the bus is not told twice; a newer one is.
	Huddle__V1__NotesEvent ev = HUDDLE__V1__NOTES_EVENT__INIT;
	Huddle__V1__NotesVersion v = HUDDLE__V1__NOTES_VERSION__INIT;
	v.version = 4;
	ev.body_case = HUDDLE__V1__NOTES_EVENT__BODY_SNAPSHOT;
	ev.snapshot = &v;
	ev.meeting_id = MEETING;
	ev.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	event(&ev);
	v.version = 5;
	event(&ev);
	assert_int_equal(sent_of(a)->n_versions, 2);
	assert_int_equal(sent_of(a)->versions[1], 5);
	// An empty page below the document's last_seq: everything up to it is
	// gone but what we hold, which is delivered in order.
	update_event(MEETING, 1, 13);
	assert_int_equal(last_call()->after_seq, 10);
	fill(1, 0, 0, 0, 13);
	assert_seqs(sent_of(a), 1, (int64_t[]){9, 10, 13}, 3);
	update_event(MEETING, 1, 14);
	assert_seqs(sent_of(a), 1, (int64_t[]){9, 10, 13, 14}, 4);
	session_free(a);
}

static void awareness_skips_its_origin(void **state)
{
	struct gw_session *a = session_new(), *b = session_new(), *c = session_new();
	subscribe(a, MEETING);
	uint64_t room = last_call()->conn_id;
	init(room, 1, 0, HD_OK);
	init(room, 2, 0, HD_OK);
	subscribe(b, MEETING);
	subscribe(c, MEETING);
	assert_int_equal(strlen(a->notes.origin), HD_ID_LEN);
	assert_string_not_equal(a->notes.origin, b->notes.origin);
	Huddle__V1__NotesEvent ev = HUDDLE__V1__NOTES_EVENT__INIT;
	Huddle__V1__NotesAwareness aw = HUDDLE__V1__NOTES_AWARENESS__INIT;
	uint8_t data[3] = {7, 7, 7};
	aw.meeting_id = MEETING;
	aw.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE;
	aw.origin = a->notes.origin;
	aw.data.data = data;
	aw.data.len = sizeof(data);
	ev.body_case = HUDDLE__V1__NOTES_EVENT__BODY_AWARENESS;
	ev.awareness = &aw;
	ev.meeting_id = MEETING;
	event(&ev);
	assert_int_equal(sent_of(a)->awareness, 0);
	assert_int_equal(sent_of(b)->awareness, 1);
	assert_int_equal(sent_of(c)->awareness, 1);
	session_free(a);
	session_free(b);
	session_free(c);
}

static void failed_init_answers_the_waiting(void **state)
{
	struct gw_session *a = session_new(), *b = session_new();
	subscribe(a, MEETING);
	uint64_t room = last_call()->conn_id;
	subscribe(b, MEETING); // waits in the same room
	init(room, 1, 0, HD_ETIMEOUT);
	assert_int_equal(sent_of(a)->last_error, HD_ETIMEOUT);
	assert_int_equal(sent_of(b)->last_error, HD_ETIMEOUT);
	assert_null(gw.notes_rooms);
	init(room, 2, 0, HD_OK); // the other reply finds no room
	assert_false(sent_of(a)->subscribed);
	// The connection may subscribe again.
	assert_int_equal(subscribe(a, MEETING), 2);
	room = last_call()->conn_id;
	init(room, 1, 0, HD_OK);
	init(room, 2, 0, HD_OK);
	assert_true(sent_of(a)->subscribed);
	session_free(a);
	session_free(b);
}

static void requests(void **state)
{
	struct gw_session *a = session_new();
	subscribe(a, MEETING);
	uint64_t room = last_call()->conn_id;
	init(room, 1, 0, HD_OK);
	init(room, 2, 0, HD_OK);
	static uint8_t big[HD_DOC_UPDATE_MAX + 1];
	Huddle__V1__ClientMessage cm = HUDDLE__V1__CLIENT_MESSAGE__INIT;
	Huddle__V1__NotesUpdateRequest nu = HUDDLE__V1__NOTES_UPDATE_REQUEST__INIT;
	nu.document = HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES;
	nu.client_update_id = "u1";
	nu.data.data = big;
	nu.data.len = sizeof(big);
	cm.request_id = 5;
	cm.body_case = HUDDLE__V1__CLIENT_MESSAGE__BODY_NOTES_UPDATE;
	cm.notes_update = &nu;
	size_t before = n_calls;
	gw_notes_op_update(a, &cm);
	assert_int_equal(sent_of(a)->last_error, HD_ETOOLARGE);
	assert_int_equal(n_calls, before);
	// Not in the call: no author id; in the call: the participant id.
	nu.data.len = 10;
	gw_notes_op_update(a, &cm);
	assert_string_equal(last_call()->author_id, "");
	a->state = GW_SESSION_JOINED;
	snprintf(a->meeting_id, sizeof(a->meeting_id), "%s", MEETING);
	snprintf(a->participant_id, sizeof(a->participant_id), "%s", PARTICIPANT);
	gw_notes_op_update(a, &cm);
	assert_string_equal(last_call()->author_id, PARTICIPANT);
	// NOTES_UPDATE_RATE 2: a burst of 4 passes, the next is refused.
	gw_notes_op_update(a, &cm);
	gw_notes_op_update(a, &cm);
	assert_int_equal(last_call()->op, GW_OP_NOTES_UPDATE);
	before = n_calls;
	gw_notes_op_update(a, &cm);
	assert_int_equal(n_calls, before);
	assert_int_equal(sent_of(a)->last_error, HD_ERATELIMITED);
	a->state = GW_SESSION_CONNECTED;

	// An open reply over 4 MiB keeps the updates that fit and says more.
	static uint8_t data[256 * 1024];
	Huddle__V1__NotesUpdate us[20], *ptrs[20];
	for (size_t i = 0; i < 20; i++) {
		huddle__v1__notes_update__init(&us[i]);
		us[i].meeting_id = MEETING;
		us[i].seq = (int64_t)i + 1;
		us[i].data.data = data;
		us[i].data.len = sizeof(data);
		ptrs[i] = &us[i];
	}
	Huddle__V1__NotesReply r = HUDDLE__V1__NOTES_REPLY__INIT;
	Huddle__V1__NotesServiceOpenReply o = HUDDLE__V1__NOTES_SERVICE_OPEN_REPLY__INIT;
	o.updates = ptrs;
	o.n_updates = 20;
	o.last_seq = 20;
	r.body_case = HUDDLE__V1__NOTES_REPLY__BODY_OPEN;
	r.open = &o;
	struct gw_pending p = {.op = GW_OP_NOTES_OPEN, .conn_id = a->id, .request_id = 9, .document = 1};
	gw_notes_op_on_reply(&p, HD_OK, &r);
	assert_int_equal(sent_of(a)->open_updates, 15); // 16 × 256 KiB and a little are over 4 MiB
	assert_true(sent_of(a)->open_more);
	o.n_updates = 3;
	gw_notes_op_on_reply(&p, HD_OK, &r);
	assert_int_equal(sent_of(a)->open_updates, 3);
	assert_false(sent_of(a)->open_more);
	session_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(delivery_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(skips_what_a_snapshot_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(awareness_skips_its_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_init_answers_the_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(requests, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
