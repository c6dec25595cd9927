// client.c: NotesRequest calls and NotesEvent lookups for the notes tests.
#include "client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

static pthread_mutex_t id_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_id = 1000;

Huddle__V1__NotesReply *notes_test_call(struct hd_rpc_client *c, Huddle__V1__NotesRequest *req)
{
	nng_msg *msg, *rep;
	pthread_mutex_lock(&id_mtx);
	req->request_id = ++next_id;
	pthread_mutex_unlock(&id_mtx);
	assert_int_equal(hd_msg_pack(&req->base, &msg), HD_OK);
	assert_int_equal(hd_rpc_call(c, msg, NOTES_TEST_CALL_MS, &rep), HD_OK);
	Huddle__V1__NotesReply *r = huddle__v1__notes_reply__unpack(NULL, nng_msg_len(rep), nng_msg_body(rep));
	nng_msg_free(rep);
	assert_non_null(r);
	assert_int_equal(r->request_id, req->request_id);
	return r;
}

int notes_test_code(const Huddle__V1__NotesReply *r)
{
	if (r->error == NULL || r->error->code == 0)
		return HD_OK;
	assert_true(strlen(r->error->message) > 0);
	assert_int_equal(r->body_case, HUDDLE__V1__NOTES_REPLY__BODY__NOT_SET);
	return (int)r->error->code;
}

Huddle__V1__NotesReply *notes_test_append(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					  const char *client_id, const void *data, size_t len)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAppendRequest body = HUDDLE__V1__NOTES_SERVICE_APPEND_REQUEST__INIT;
	Huddle__V1__NotesUpdate u = HUDDLE__V1__NOTES_UPDATE__INIT;
	u.meeting_id = (char *)meeting;
	u.document = doc;
	u.client_update_id = (char *)client_id;
	u.data.data = (uint8_t *)data;
	u.data.len = len;
	u.author_name = "Ada";
	body.update = &u;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_APPEND;
	req.append = &body;
	return notes_test_call(c, &req);
}

Huddle__V1__NotesReply *notes_test_open(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					int64_t after_seq, uint32_t limit)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceOpenRequest body = HUDDLE__V1__NOTES_SERVICE_OPEN_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.document = doc;
	body.after_seq = after_seq;
	body.limit = limit;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_OPEN;
	req.open = &body;
	return notes_test_call(c, &req);
}

Huddle__V1__NotesReply *notes_test_snapshot(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					    int64_t seq, const void *state, size_t state_len, const char *text,
					    const char *language)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceSnapshotRequest body = HUDDLE__V1__NOTES_SERVICE_SNAPSHOT_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.document = doc;
	body.seq = seq;
	body.state.data = (uint8_t *)state;
	body.state.len = state_len;
	body.text = (char *)text;
	body.language = (char *)language;
	body.author_name = "Ada";
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_SNAPSHOT;
	req.snapshot = &body;
	return notes_test_call(c, &req);
}

Huddle__V1__NotesReply *notes_test_versions(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceVersionsRequest body = HUDDLE__V1__NOTES_SERVICE_VERSIONS_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.document = doc;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_VERSIONS;
	req.versions = &body;
	return notes_test_call(c, &req);
}

Huddle__V1__NotesReply *notes_test_version(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					   int64_t version)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceVersionRequest body = HUDDLE__V1__NOTES_SERVICE_VERSION_REQUEST__INIT;
	body.meeting_id = (char *)meeting;
	body.document = doc;
	body.version = version;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_VERSION;
	req.version = &body;
	return notes_test_call(c, &req);
}

Huddle__V1__NotesReply *notes_test_awareness(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					     const char *origin, const void *data, size_t len)
{
	Huddle__V1__NotesRequest req = HUDDLE__V1__NOTES_REQUEST__INIT;
	Huddle__V1__NotesServiceAwarenessRequest body = HUDDLE__V1__NOTES_SERVICE_AWARENESS_REQUEST__INIT;
	Huddle__V1__NotesAwareness a = HUDDLE__V1__NOTES_AWARENESS__INIT;
	a.meeting_id = (char *)meeting;
	a.document = doc;
	a.origin = (char *)origin;
	a.data.data = (uint8_t *)data;
	a.data.len = len;
	body.awareness = &a;
	req.body_case = HUDDLE__V1__NOTES_REQUEST__BODY_AWARENESS;
	req.awareness = &body;
	return notes_test_call(c, &req);
}

int64_t notes_test_last_seq(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc)
{
	Huddle__V1__NotesReply *r = notes_test_open(c, meeting, doc, 0, 1);
	assert_int_equal(notes_test_code(r), HD_OK);
	int64_t last = r->open->last_seq;
	huddle__v1__notes_reply__free_unpacked(r, NULL);
	return last;
}

size_t notes_test_events_of(struct hd_test_events *e, const char *meeting, Huddle__V1__NotesEvent__BodyCase body,
			    const Huddle__V1__NotesEvent **out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&e->mtx);
	for (size_t i = 0; i < e->n; i++) {
		const Huddle__V1__NotesEvent *ev = (const Huddle__V1__NotesEvent *)e->ev[i].msg;
		if (strcmp(e->ev[i].topic, meeting) != 0 || (body != 0 && ev->body_case != body))
			continue;
		assert_string_equal(ev->meeting_id, meeting);
		if (out != NULL && n < max)
			out[n] = ev;
		n++;
	}
	pthread_mutex_unlock(&e->mtx);
	return n;
}

size_t notes_test_update_seqs(struct hd_test_events *e, const char *meeting, Huddle__V1__DocumentKind doc,
			      int64_t *seqs, size_t max)
{
	const Huddle__V1__NotesEvent *ev[HD_TEST_EVENTS_MAX];
	size_t n = notes_test_events_of(e, meeting, HUDDLE__V1__NOTES_EVENT__BODY_UPDATE, ev, HD_TEST_EVENTS_MAX),
	       k = 0;
	for (size_t i = 0; i < n && i < HD_TEST_EVENTS_MAX; i++) {
		if (ev[i]->document != doc)
			continue;
		assert_int_equal(ev[i]->update->document, doc);
		assert_string_equal(ev[i]->update->meeting_id, meeting);
		if (seqs != NULL && k < max)
			seqs[k] = ev[i]->update->seq;
		k++;
	}
	return k;
}
