// store.h: the history store, chosen by STORE_URI. This issue holds meeting
// records; the chat log, document log and recording metadata join later
// behind the same seam (one small interface per need).
#ifndef HD_STORE_H
#define HD_STORE_H

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

struct hd_store;

// hd_store_ops is what a backend provides (sqlite now, MongoDB next).
struct hd_store_ops {
	void (*close)(struct hd_store *s);
	hd_err (*meeting_insert)(struct hd_store *s, const struct hd_meeting *m);
	hd_err (*meeting_get)(struct hd_store *s, const char *id, struct hd_meeting *out);
};

struct hd_store {
	const struct hd_store_ops *ops;
};

// hd_store_open opens the backend named by uri: "sqlite://<path>" (created
// when missing; WAL, synchronous=FULL). Returns HD_OK, HD_EBADREQUEST for an
// unknown scheme (mongodb:// is not built yet and says so), HD_EUNAVAILABLE
// when the database cannot be opened. Thread-safe store; *out is the caller's.
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

// hd_store_sqlite_open is the SQLite backend; path is a file name.
hd_err hd_store_sqlite_open(struct hd_store **out, const char *path);

#endif
