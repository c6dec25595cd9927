// store.h: the history store, chosen by STORE_URI: meeting records, the
// chat log, the shared documents' log with snapshots and the recordings'
// metadata (one small interface per need, one ops table per backend).
#ifndef HD_STORE_H
#define HD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"

#define HD_MEETING_TITLE_MAX 200 // bytes of UTF-8

#define HD_KEY_HASH_LEN 64 // hex SHA-256 of a host or space key (common/hostkey.h)

// hd_access_mode numbers equal huddle.v1.AccessMode.
enum hd_access_mode {
	HD_ACCESS_OPEN = 1,         // anyone with the link
	HD_ACCESS_WAITING_ROOM = 2, // guests wait for a host
	HD_ACCESS_LOCKED = 3,       // nobody new but hosts
	HD_ACCESS_TOKEN_ONLY = 4,   // a signed join link is required
};

// hd_meeting is one meeting record.
struct hd_meeting {
	char id[HD_ID_LEN + 1];
	int64_t created_at_ms; // Unix time, ms
	char title[HD_MEETING_TITLE_MAX + 1];
	int access_mode;      // enum hd_access_mode; a record stored before modes existed reads as HD_ACCESS_OPEN
	int64_t starts_at_ms; // scheduled start, Unix ms; 0: none
	// host_key_hash: hex SHA-256 of the meeting's own host key; "" for a
	// meeting of a space (its space's key is the host key) and for records
	// stored before host keys existed (no one is host of those by key).
	char host_key_hash[HD_KEY_HASH_LEN + 1];
	char space_id[HD_ID_LEN + 1]; // "" when the meeting belongs to no space
};

#define HD_SPACE_MEETINGS_MAX 200 // meetings listed per space (hd_space_meetings)

// hd_space is a host key that owns many meetings (the dashboard).
struct hd_space {
	char id[HD_ID_LEN + 1];
	int64_t created_at_ms; // Unix time, ms
	char title[HD_MEETING_TITLE_MAX + 1];
	char key_hash[HD_KEY_HASH_LEN + 1]; // hex SHA-256 of the space key; unique
};

#define HD_CHAT_TEXT_MAX 4096    // bytes of UTF-8, after trimming
#define HD_CHAT_CLIENT_ID_MAX 64 // bytes, [A-Za-z0-9_-]
#define HD_CHAT_NAME_MAX 64      // bytes of UTF-8
#define HD_CHAT_PAGE_MAX 200     // messages per history page
#define HD_CHAT_PAGE_DEFAULT 50

// hd_chat_message is one chat message (proto huddle.v1.ChatMessage). seq is
// 1, 2, 3, ... per meeting with no gaps: once seq n is visible to readers,
// every seq below it is too.
struct hd_chat_message {
	int64_t seq;
	int64_t sent_at_ms; // Unix time, ms, when stored
	char meeting_id[HD_ID_LEN + 1];
	char client_message_id[HD_CHAT_CLIENT_ID_MAX + 1];
	char sender_id[HD_ID_LEN + 1]; // participant id, or "" outside the call
	char sender_name[HD_CHAT_NAME_MAX + 1];
	char text[HD_CHAT_TEXT_MAX + 1];
};

#define HD_DOC_NAME_MAX 16       // bytes, [a-z]: "notes", "code"
#define HD_DOC_UPDATE_MAX 262144 // bytes of one update (256 KiB)
#define HD_DOC_STATE_MAX 2097152 // bytes of a snapshot's encoded state (2 MiB)
#define HD_DOC_TEXT_MAX 2097152  // bytes of a snapshot's plain text (UTF-8, 2 MiB)
#define HD_DOC_LANGUAGE_MAX 32   // bytes, [a-z0-9+#-]; "" for none
#define HD_DOC_VERSIONS_KEPT 20  // newest snapshots kept as versions
#define HD_DOC_PAGE_MAX 1000     // updates per read
#define HD_DOC_PAGE_DEFAULT 1000

// hd_doc_update is one stored update of a shared document (proto
// huddle.v1.NotesUpdate). seq is 1, 2, 3, ... per (meeting, document) with
// no gaps. data is opaque (a Yjs update).
struct hd_doc_update {
	int64_t seq;
	int64_t stored_at_ms; // Unix time, ms, when stored
	char meeting_id[HD_ID_LEN + 1];
	char document[HD_DOC_NAME_MAX + 1];
	char client_update_id[HD_CHAT_CLIENT_ID_MAX + 1]; // same rule as chat ids
	char author_id[HD_ID_LEN + 1];                    // participant id, or ""
	char author_name[HD_CHAT_NAME_MAX + 1];           // may be ""
	uint8_t *data;                                    // see the function for who owns it
	size_t len;                                       // 1..HD_DOC_UPDATE_MAX
};

// hd_doc_version describes one kept snapshot (proto huddle.v1.NotesVersion).
struct hd_doc_version {
	int64_t version;       // 1, 2, 3, ... per (meeting, document)
	int64_t seq;           // covers every update with seq <= this
	int64_t created_at_ms; // Unix time, ms, when stored
	char author_name[HD_CHAT_NAME_MAX + 1];
	char language[HD_DOC_LANGUAGE_MAX + 1];
	size_t text_len; // bytes of its plain text
};

// hd_doc_snapshot is a snapshot with its state and text. In results, state
// and text are allocated by the store (hd_doc_snapshot_fini frees them);
// text is NUL-terminated.
struct hd_doc_snapshot {
	char meeting_id[HD_ID_LEN + 1];
	char document[HD_DOC_NAME_MAX + 1];
	struct hd_doc_version version;
	uint8_t *state;
	size_t state_len; // 1..HD_DOC_STATE_MAX
	char *text;       // text_len is version.text_len (0..HD_DOC_TEXT_MAX)
};

#define HD_REC_NAME_MAX 64       // bytes of UTF-8 of a recorder's name
#define HD_REC_MIME_MAX 128      // bytes of a MIME type ("video/webm;codecs=vp8,opus")
#define HD_REC_ERROR_MAX 256     // bytes of UTF-8 of a recording's error
#define HD_REC_CHUNK_MAX 4194304 // bytes of one chunk (4 MiB), as recording.proto says
#define HD_REC_INDEX_MAX 1000000 // highest chunk index (2 s chunks: 23 days)
#define HD_REC_LIST_MAX 200      // recordings one list returns (the newest)
#define HD_REC_RESUME_MAX 64     // recordings one hd_recording_resumable call returns

// hd_rec_state is where a recording is in its life; the numbers are
// huddle.v1.RecordingState's.
enum hd_rec_state {
	HD_REC_RECORDING = 1,  // chunks arriving
	HD_REC_ASSEMBLING = 2, // finished or idle: being joined and remuxed
	HD_REC_READY = 3,      // one seekable file
	HD_REC_FAILED = 4,     // nothing playable could be made
};

// hd_rec_kind is what was recorded; the numbers are huddle.v1.RecordingKind's.
enum hd_rec_kind {
	HD_REC_CAMERA = 1,
	HD_REC_SCREEN = 2,
	HD_REC_MEETING = 3,
};

// hd_recording is one recording's metadata (proto huddle.v1.Recording plus
// total_chunks). The chunk files and the final file are huddle-recording's;
// the store only counts them.
struct hd_recording {
	char meeting_id[HD_ID_LEN + 1];
	char id[HD_ID_LEN + 1];          // rid, chosen by the browser
	int kind;                        // enum hd_rec_kind
	int state;                       // enum hd_rec_state
	char recorder_id[HD_ID_LEN + 1]; // participant id of the recorder
	char recorder_name[HD_REC_NAME_MAX + 1];
	char mime_type[HD_REC_MIME_MAX + 1];
	int64_t created_at_ms;            // Unix time, ms
	int64_t updated_at_ms;            // Unix time, ms: the last chunk noted or state change
	uint32_t chunks;                  // contiguous chunks noted from 0: chunks 0..chunks-1
	uint32_t total_chunks;            // chunks the recorder said it sent (finish); 0: unknown
	uint64_t bytes;                   // RECORDING/ASSEMBLING: bytes of every chunk noted; READY: the file's size
	int64_t duration_ms;              // READY: the file's duration
	char error[HD_REC_ERROR_MAX + 1]; // FAILED: why; READY: which chunks were missing, if any
};

// hd_rec_change is a state change (hd_recording_set_state): the new state
// and what comes with it.
struct hd_rec_change {
	int state;             // enum hd_rec_state: the new state
	int64_t at_ms;         // Unix time, ms: becomes updated_at_ms
	uint32_t total_chunks; // ASSEMBLING: the count finish named (0: unknown, idle); else ignored
	uint64_t bytes;        // READY: the file's size; FAILED: 0; else ignored
	int64_t duration_ms;   // READY: the file's duration; else ignored
	const char *error;     // READY/FAILED: "" or a message (UTF-8, <= HD_REC_ERROR_MAX); else ignored
};

struct hd_store;

// hd_store_ops is what a backend provides (SQLite, MongoDB).
struct hd_store_ops {
	void (*close)(struct hd_store *s);
	hd_err (*meeting_insert)(struct hd_store *s, const struct hd_meeting *m);
	hd_err (*meeting_get)(struct hd_store *s, const char *id, struct hd_meeting *out);
	hd_err (*meeting_set_access)(struct hd_store *s, const char *id, int access_mode);
	hd_err (*space_insert)(struct hd_store *s, const struct hd_space *sp);
	hd_err (*space_by_key_hash)(struct hd_store *s, const char *key_hash, struct hd_space *out);
	hd_err (*space_get)(struct hd_store *s, const char *id, struct hd_space *out);
	hd_err (*space_meetings)(struct hd_store *s, const char *space_id, struct hd_meeting *out, size_t *n_out);
	hd_err (*chat_append)(struct hd_store *s, struct hd_chat_message *msgs, size_t n, bool *duplicate);
	// Like hd_chat_history, except that a page read with before_seq > 0
	// comes newest first (store.c puts it in ascending order).
	hd_err (*chat_history)(struct hd_store *s, const char *meeting_id, int64_t after_seq, int64_t before_seq,
			       uint32_t limit, struct hd_chat_message *out, size_t *n_out, bool *more,
			       int64_t *last_seq);
	hd_err (*doc_append)(struct hd_store *s, struct hd_doc_update *u, size_t n, bool *duplicate);
	hd_err (*doc_read)(struct hd_store *s, const char *meeting_id, const char *document, int64_t after_seq,
			   uint32_t limit, struct hd_doc_update *out, size_t *n_out, bool *more, int64_t *last_seq);
	hd_err (*doc_snapshot_put)(struct hd_store *s, struct hd_doc_snapshot *snap, bool *stored);
	hd_err (*doc_snapshot_get)(struct hd_store *s, const char *meeting_id, const char *document, int64_t version,
				   struct hd_doc_snapshot *out);
	hd_err (*doc_versions)(struct hd_store *s, const char *meeting_id, const char *document,
			       struct hd_doc_version *out, size_t *n_out);
	hd_err (*rec_create)(struct hd_store *s, struct hd_recording *rec, bool *created);
	hd_err (*rec_chunk)(struct hd_store *s, const char *meeting_id, const char *id, uint32_t index, uint64_t len,
			    int64_t at_ms, struct hd_recording *out, bool *duplicate);
	hd_err (*rec_set_state)(struct hd_store *s, const char *meeting_id, const char *id, int from,
				const struct hd_rec_change *to, struct hd_recording *out, bool *changed);
	hd_err (*rec_get)(struct hd_store *s, const char *meeting_id, const char *id, struct hd_recording *out);
	hd_err (*rec_list)(struct hd_store *s, const char *meeting_id, struct hd_recording *out, size_t *n_out);
	hd_err (*rec_delete)(struct hd_store *s, const char *meeting_id, const char *id);
	hd_err (*rec_resumable)(struct hd_store *s, int64_t idle_before_ms, struct hd_recording *out, size_t *n_out);
	hd_err (*rec_meeting_bytes)(struct hd_store *s, const char *meeting_id, uint64_t *bytes);
};

struct hd_store {
	const struct hd_store_ops *ops;
};

// hd_store_open opens the backend named by uri: "sqlite://<path>" (created
// when missing; WAL, synchronous=FULL) or "mongodb://..." (a MongoDB
// connection string, libmongoc; database from the URI's path, default
// "huddle"; writes w:majority, j:true; indexes created at open). Returns
// HD_OK, HD_EBADREQUEST for an unknown scheme or a bad URI, HD_EUNAVAILABLE
// when the database cannot be opened or reached. The store is thread-safe;
// *out is the caller's (hd_store_close).
hd_err hd_store_open(struct hd_store **out, const char *uri);

// hd_store_close closes and frees s. NULL is a no-op.
void hd_store_close(struct hd_store *s);

// hd_meeting_insert stores a new meeting durably before returning. Returns
// HD_OK; HD_EBADREQUEST if the id exists or a field is invalid;
// HD_EUNAVAILABLE on storage failure.
hd_err hd_meeting_insert(struct hd_store *s, const struct hd_meeting *m);

// hd_meeting_get copies the meeting with this id into *out. Returns HD_OK,
// HD_EUNKNOWNMEETING, or HD_EUNAVAILABLE on storage failure.
hd_err hd_meeting_get(struct hd_store *s, const char *id, struct hd_meeting *out);

// hd_meeting_set_access stores a meeting's access mode (enum
// hd_access_mode) durably. Returns HD_OK, HD_EBADREQUEST (not a mode),
// HD_EUNKNOWNMEETING, HD_EUNAVAILABLE.
hd_err hd_meeting_set_access(struct hd_store *s, const char *id, int access_mode);

// hd_space_insert stores a new space durably. Returns HD_OK, HD_EBADREQUEST
// (id or key_hash exists, or a field is invalid), HD_EUNAVAILABLE.
hd_err hd_space_insert(struct hd_store *s, const struct hd_space *sp);

// hd_space_by_key_hash finds the space whose key hashes to key_hash (the
// caller then compares the hashes in constant time, hd_key_hash_equal).
// Returns HD_OK, HD_EFORBIDDEN (no such space), HD_EUNAVAILABLE.
hd_err hd_space_by_key_hash(struct hd_store *s, const char *key_hash, struct hd_space *out);

// hd_space_get copies the space with this id into *out. Returns HD_OK,
// HD_EFORBIDDEN (no such space), HD_EUNAVAILABLE.
hd_err hd_space_get(struct hd_store *s, const char *id, struct hd_space *out);

// hd_space_meetings reads the meetings of a space into out (room for
// HD_SPACE_MEETINGS_MAX) ordered by starts_at_ms then created_at_ms then id,
// the first HD_SPACE_MEETINGS_MAX of them. Returns HD_OK (*n_out may be 0),
// HD_EUNAVAILABLE.
hd_err hd_space_meetings(struct hd_store *s, const char *space_id, struct hd_meeting *out, size_t *n_out);

// hd_chat_client_id_char tells whether c may appear in a client message id
// ([A-Za-z0-9_-]; 1..HD_CHAT_CLIENT_ID_MAX of them make an id).
bool hd_chat_client_id_char(char c);

// hd_chat_append stores n messages (n >= 1) in one durable write: one
// transaction on SQLite (group commit), acknowledged writes on MongoDB.
// For each msgs[i] the caller fills meeting_id, client_message_id,
// sender_id, sender_name, text and sent_at_ms; seq is ignored. On HD_OK each
// msgs[i] is the stored message: a new one with the meeting's next seq
// (duplicate[i] = false), or, when (meeting_id, client_message_id) was already
// stored (also earlier in the same batch), that stored message copied over
// msgs[i] (duplicate[i] = true; nothing new stored). Returns HD_OK,
// HD_EBADREQUEST when a field is empty or over its limit (nothing stored),
// HD_EUNAVAILABLE on storage failure (none of the batch may be acknowledged;
// a retry with the same ids stores each message once).
hd_err hd_chat_append(struct hd_store *s, struct hd_chat_message *msgs, size_t n, bool *duplicate);

// hd_chat_history reads one page of a meeting's chat into out (room for
// limit messages), in ascending seq order. With before_seq > 0: the newest
// `limit` messages with after_seq < seq < before_seq (scrolling up);
// otherwise the oldest `limit` with seq > after_seq. limit is 1..
// HD_CHAT_PAGE_MAX. *n_out is the count, *more whether messages exist beyond
// the page in its direction (within the bounds), *last_seq the meeting's
// newest seq (0 when it has none). An unknown meeting has no messages.
// Returns HD_OK, HD_EBADREQUEST for a bad limit, HD_EUNAVAILABLE.
hd_err hd_chat_history(struct hd_store *s, const char *meeting_id, int64_t after_seq, int64_t before_seq,
		       uint32_t limit, struct hd_chat_message *out, size_t *n_out, bool *more, int64_t *last_seq);

// hd_doc_name_valid tells whether document is a document name: 1..
// HD_DOC_NAME_MAX bytes of [a-z].
bool hd_doc_name_valid(const char *document);

// hd_doc_append stores n updates (n >= 1) in one durable write (as
// hd_chat_append: one transaction on SQLite, acknowledged writes on MongoDB).
// For each u[i] the caller fills meeting_id, document, client_update_id,
// author_id, author_name, stored_at_ms and data/len (the caller's, borrowed);
// seq is ignored. On HD_OK each u[i].seq is set: the next seq of its
// (meeting, document) for a new update (duplicate[i] = false), or, when
// (meeting, document, client_update_id) is stored already (also earlier in
// the batch), the stored update's seq, stored_at_ms and author fields
// (duplicate[i] = true; u[i].data and u[i].len stay the caller's bytes, which
// are not compared). An update id whose update a snapshot has dropped is new
// again (Yjs applies a repeated update as a no-op). Returns HD_OK;
// HD_EBADREQUEST when a field is empty, invalid or over its limit (nothing
// stored); HD_ETOOLARGE when len > HD_DOC_UPDATE_MAX (nothing stored);
// HD_EUNAVAILABLE on storage failure (none may be acknowledged; a retry with
// the same ids stores each once).
hd_err hd_doc_append(struct hd_store *s, struct hd_doc_update *u, size_t n, bool *duplicate);

// hd_doc_read reads the updates of (meeting, document) with seq > after_seq,
// ascending, at most limit (1..HD_DOC_PAGE_MAX) into out. Each out[i].data
// is allocated by the store: free the page with hd_doc_updates_free(out,
// *n_out). *more tells whether updates beyond the page exist, *last_seq is
// the document's newest seq (0: none; seq numbering continues across
// snapshots, so dropped updates still count). Updates a snapshot covers may
// be gone: with after_seq below the newest snapshot's seq, a page can start
// above after_seq + 1, and the reader needs that snapshot first. An unknown
// meeting or document has no updates. Returns HD_OK, HD_EBADREQUEST (bad
// name or limit), HD_ENOMEM, HD_EUNAVAILABLE.
hd_err hd_doc_read(struct hd_store *s, const char *meeting_id, const char *document, int64_t after_seq, uint32_t limit,
		   struct hd_doc_update *out, size_t *n_out, bool *more, int64_t *last_seq);

// hd_doc_updates_free frees the data of n updates read by hd_doc_read (not
// the array itself) and sets each data to NULL.
void hd_doc_updates_free(struct hd_doc_update *u, size_t n);

// hd_doc_snapshot_put stores a snapshot of (snap->meeting_id,
// snap->document) covering every update with seq <= snap->version.seq, in
// one durable write that also drops those updates and all but the newest
// HD_DOC_VERSIONS_KEPT snapshots. The caller fills meeting_id, document,
// version.seq, version.author_name, version.language, version.created_at_ms,
// state/state_len and text/version.text_len (borrowed). On HD_OK
// snap->version.version is the new version number (*stored = true), or, when
// version.seq is not above the newest snapshot's seq, nothing is stored and
// snap->version is that newest snapshot's description (*stored = false).
// Returns HD_OK; HD_EBADREQUEST when version.seq < 1 or above the document's
// last seq, or a field is invalid; HD_ETOOLARGE when the state or text is
// over its limit; HD_EUNAVAILABLE on storage failure (nothing changed).
hd_err hd_doc_snapshot_put(struct hd_store *s, struct hd_doc_snapshot *snap, bool *stored);

// hd_doc_snapshot_get reads one kept snapshot (version 0: the newest) into
// *out, which the caller frees with hd_doc_snapshot_fini. When the document
// has no snapshot and version is 0: HD_OK with out->version.version = 0 and
// no state or text. Returns HD_OK; HD_EBADREQUEST for a bad name, a negative
// version or one that is not kept; HD_ENOMEM; HD_EUNAVAILABLE.
hd_err hd_doc_snapshot_get(struct hd_store *s, const char *meeting_id, const char *document, int64_t version,
			   struct hd_doc_snapshot *out);

// hd_doc_snapshot_fini frees what hd_doc_snapshot_get allocated in snap
// (state, text) and sets them to NULL. A zeroed snap is a no-op.
void hd_doc_snapshot_fini(struct hd_doc_snapshot *snap);

// hd_doc_versions lists the kept snapshots of (meeting, document), newest
// first, into out (room for HD_DOC_VERSIONS_KEPT); *n_out is the count (0
// when none). Returns HD_OK, HD_EBADREQUEST (bad name), HD_EUNAVAILABLE.
hd_err hd_doc_versions(struct hd_store *s, const char *meeting_id, const char *document, struct hd_doc_version *out,
		       size_t *n_out);

// ---- recordings (huddle-recording) ----
// A recording is keyed by (meeting_id, id). "Unknown" below means no
// recording has that key: HD_EUNKNOWNMEETING, the backend's not-found code.

// hd_recording_create starts a recording durably. The caller fills
// meeting_id, id (both ids of HD_ID_LEN base64url characters), kind (enum
// hd_rec_kind), recorder_id (a participant id), recorder_name (1..
// HD_REC_NAME_MAX bytes of UTF-8), mime_type (1..HD_REC_MIME_MAX printable
// ASCII bytes) and created_at_ms (>= 0); every other field is ignored and
// set: state RECORDING, updated_at_ms = created_at_ms, counts 0, error "".
// When (meeting_id, id) exists already, nothing is stored, *rec becomes the
// stored recording and *created is false (the caller compares the
// recorder); otherwise *created is true. Returns HD_OK; HD_EBADREQUEST for
// an invalid field (nothing stored); HD_EUNAVAILABLE on storage failure
// (*rec as passed).
hd_err hd_recording_create(struct hd_store *s, struct hd_recording *rec, bool *created);

// hd_recording_chunk notes chunk `index` (0..HD_REC_INDEX_MAX) of a
// recording, len bytes (1..HD_REC_CHUNK_MAX) that the caller has made
// durable, in one durable write: the recording's bytes grow by len, chunks
// becomes the count of contiguous chunks noted from 0 (chunks may arrive
// out of order) and updated_at_ms the larger of itself and at_ms (Unix ms).
// An index noted before (or below chunks) changes nothing: *duplicate is
// true, in any state. A new index is noted only while the recording is
// RECORDING. On HD_OK and on the HD_EBADREQUEST refusal of a state, *out is
// the recording as stored afterwards. Returns HD_OK; HD_EBADREQUEST for a
// new index when the state is not RECORDING, or a bad id, index or len;
// HD_EUNKNOWNMEETING (unknown recording); HD_EUNAVAILABLE on storage
// failure (a retry of the same index is then noted once).
hd_err hd_recording_chunk(struct hd_store *s, const char *meeting_id, const char *id, uint32_t index, uint64_t len,
			  int64_t at_ms, struct hd_recording *out, bool *duplicate);

// hd_recording_set_state moves a recording from state `from` to to->state
// in one durable write, if it is in `from` now: RECORDING -> ASSEMBLING
// (total_chunks set from to), ASSEMBLING -> READY (bytes, duration_ms and
// error set from to) or ASSEMBLING -> FAILED (error set, bytes 0). READY
// and FAILED also forget which chunks were noted (chunks stays as the
// count). updated_at_ms becomes to->at_ms. *changed tells whether it moved;
// when the recording was in another state nothing changes. Either way *out
// is the recording as stored afterwards. Returns HD_OK; HD_EBADREQUEST for
// another pair of states or an invalid field of to; HD_EUNKNOWNMEETING
// (unknown recording); HD_EUNAVAILABLE on storage failure (nothing
// changed, or, on MongoDB, the move done and the chunks not yet
// forgotten: harmless, a delete removes them).
hd_err hd_recording_set_state(struct hd_store *s, const char *meeting_id, const char *id, int from,
			      const struct hd_rec_change *to, struct hd_recording *out, bool *changed);

// hd_recording_get copies one recording into *out. Returns HD_OK,
// HD_EUNKNOWNMEETING (unknown recording, or an id that is not one),
// HD_EUNAVAILABLE.
hd_err hd_recording_get(struct hd_store *s, const char *meeting_id, const char *id, struct hd_recording *out);

// hd_recording_list copies a meeting's recordings, newest first (by
// created_at_ms, then id descending), at most HD_REC_LIST_MAX (the newest),
// into out (room for HD_REC_LIST_MAX); *n_out is the count (0 for a meeting
// without recordings). Returns HD_OK, HD_EBADREQUEST (not a meeting id),
// HD_EUNAVAILABLE.
hd_err hd_recording_list(struct hd_store *s, const char *meeting_id, struct hd_recording *out, size_t *n_out);

// hd_recording_delete removes a recording's metadata and its noted chunks
// durably (the files are the caller's). Returns HD_OK, HD_EUNKNOWNMEETING
// (unknown recording), HD_EUNAVAILABLE (then nothing, or on MongoDB some
// chunk notes, was removed; a retry finishes).
hd_err hd_recording_delete(struct hd_store *s, const char *meeting_id, const char *id);

// hd_recording_resumable copies the recordings that need huddle-recording's
// attention, of every meeting, into out (room for HD_REC_RESUME_MAX): each
// one ASSEMBLING, then each RECORDING with updated_at_ms < idle_before_ms
// (Unix ms), the least recently updated first, at most HD_REC_RESUME_MAX
// in all; *n_out is the count. Returns HD_OK, HD_EUNAVAILABLE.
hd_err hd_recording_resumable(struct hd_store *s, int64_t idle_before_ms, struct hd_recording *out, size_t *n_out);

// hd_recording_meeting_bytes sums the bytes of a meeting's recordings, in
// every state (for its quota); 0 for a meeting without any. Returns HD_OK,
// HD_EBADREQUEST (not a meeting id), HD_EUNAVAILABLE.
hd_err hd_recording_meeting_bytes(struct hd_store *s, const char *meeting_id, uint64_t *bytes);

// hd_store_sqlite_open is the SQLite backend; path is a file name.
hd_err hd_store_sqlite_open(struct hd_store **out, const char *path);

// hd_store_mongo_open is the MongoDB backend; uri is a mongodb:// connection
// string. Errors as hd_store_open.
hd_err hd_store_mongo_open(struct hd_store **out, const char *uri);

#endif
