// client.h: what the huddle-notes tests share: NotesRequest calls over a
// real REQ socket, and the NotesEvents a subscriber collected. Failures end
// the test (cmocka asserts); every reply is the caller's
// (huddle__v1__notes_reply__free_unpacked).
#ifndef NOTES_TEST_CLIENT_H
#define NOTES_TEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/rpc.h"
#include "events.h"
#include "huddle/v1/notes.pb-c.h"

#define NOTES_TEST_CALL_MS 15000 // bound on one call (ASan builds, fsync)
#define NOTES_TEST_NOTES HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_NOTES
#define NOTES_TEST_CODE HUDDLE__V1__DOCUMENT_KIND__DOCUMENT_KIND_CODE

// notes_test_call sends req (request_id set here) and returns the decoded
// reply, checking that it echoes the request id.
Huddle__V1__NotesReply *notes_test_call(struct hd_rpc_client *c, Huddle__V1__NotesRequest *req);

// notes_test_code is the reply's error code (0 on success); an error always
// carries a message and no body.
int notes_test_code(const Huddle__V1__NotesReply *r);

// notes_test_append appends data (len bytes) as client_id, author "Ada".
Huddle__V1__NotesReply *notes_test_append(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					  const char *client_id, const void *data, size_t len);

// notes_test_open reads a document (OpenRequest).
Huddle__V1__NotesReply *notes_test_open(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					int64_t after_seq, uint32_t limit);

// notes_test_snapshot stores a snapshot covering seq (author "Ada").
Huddle__V1__NotesReply *notes_test_snapshot(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					    int64_t seq, const void *state, size_t state_len, const char *text,
					    const char *language);

Huddle__V1__NotesReply *notes_test_versions(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc);
Huddle__V1__NotesReply *notes_test_version(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					   int64_t version);

// notes_test_awareness relays an awareness update from origin.
Huddle__V1__NotesReply *notes_test_awareness(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc,
					     const char *origin, const void *data, size_t len);

// notes_test_last_seq is a document's last seq (an open with limit 1).
int64_t notes_test_last_seq(struct hd_rpc_client *c, const char *meeting, Huddle__V1__DocumentKind doc);

// notes_test_events_of copies meeting's NotesEvents with this body case (0:
// any) in arrival order into out (room for max; owned by e); returns the
// count. Each is checked to carry its topic as meeting_id.
size_t notes_test_events_of(struct hd_test_events *e, const char *meeting, Huddle__V1__NotesEvent__BodyCase body,
			    const Huddle__V1__NotesEvent **out, size_t max);

// notes_test_update_seqs copies the seqs of meeting's update events for doc
// in arrival order into seqs (room for max); returns the count.
size_t notes_test_update_seqs(struct hd_test_events *e, const char *meeting, Huddle__V1__DocumentKind doc,
			      int64_t *seqs, size_t max);

#endif
