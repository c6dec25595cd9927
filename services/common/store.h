// store.h: the history store, chosen by STORE_URI: meeting records and the
// chat log now; the notes log and recording metadata join later behind the
// same seam (one small interface per need, one ops table per backend).
#ifndef HD_STORE_H
#define HD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"

#define HD_MEETING_TITLE_MAX 200 // bytes of UTF-8

// hd_meeting is one meeting record.
struct hd_meeting {
	char id[HD_ID_LEN + 1];
	int64_t created_at_ms; // Unix time, ms
	char title[HD_MEETING_TITLE_MAX + 1];
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

struct hd_store;

// hd_store_ops is what a backend provides (SQLite, MongoDB).
struct hd_store_ops {
	void (*close)(struct hd_store *s);
	hd_err (*meeting_insert)(struct hd_store *s, const struct hd_meeting *m);
	hd_err (*meeting_get)(struct hd_store *s, const char *id, struct hd_meeting *out);
	hd_err (*chat_append)(struct hd_store *s, struct hd_chat_message *msgs, size_t n, bool *duplicate);
	// Like hd_chat_history, except that a page read with before_seq > 0
	// comes newest first (store.c puts it in ascending order).
	hd_err (*chat_history)(struct hd_store *s, const char *meeting_id, int64_t after_seq, int64_t before_seq,
			       uint32_t limit, struct hd_chat_message *out, size_t *n_out, bool *more,
			       int64_t *last_seq);
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

// hd_store_sqlite_open is the SQLite backend; path is a file name.
hd_err hd_store_sqlite_open(struct hd_store **out, const char *path);

// hd_store_mongo_open is the MongoDB backend; uri is a mongodb:// connection
// string. Errors as hd_store_open.
hd_err hd_store_mongo_open(struct hd_store **out, const char *uri);

#endif
