// store_sqlite.h: what the SQLite backend's two files share inside
// libhuddle: store_sqlite.c (connections, opening, meetings, chat, shared
// documents) and store_sqlite_rec.c (recordings). Not an interface for
// daemons: they see store.h only.
#ifndef HD_STORE_SQLITE_H
#define HD_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/store.h"

// hd_sqlite_conns is what store_sqlite.c lends store_sqlite_rec.c: the
// writer and the reader, each used only under its mutex.
struct hd_sqlite_conns {
	sqlite3 *w;
	sqlite3 *r;
	pthread_mutex_t *wmtx;
	pthread_mutex_t *rmtx;
};

struct hd_sqlite_rec;

// hd_sqlite_rec_open creates the recording tables (IF NOT EXISTS: an older
// file opens as it is) and prepares their statements on c's connections
// (borrowed; they outlive *out). Returns SQLITE_OK or the failing call's
// code (the message is the connection's, sqlite3_errmsg).
int hd_sqlite_rec_open(struct hd_sqlite_rec **out, const struct hd_sqlite_conns *c);

// hd_sqlite_rec_close finalizes the statements and frees rec (NULL: no-op).
void hd_sqlite_rec_close(struct hd_sqlite_rec *rec);

// hd_sqlite_rec_of is the recording part of an open SQLite store.
struct hd_sqlite_rec *hd_sqlite_rec_of(struct hd_store *base);

// The recording ops of hd_store_ops (store_sqlite_rec.c); arguments are
// checked by store.c.
hd_err hd_sqlite_rec_create(struct hd_store *base, struct hd_recording *rec, bool *created);
hd_err hd_sqlite_rec_chunk(struct hd_store *base, const char *meeting_id, const char *id, uint32_t index, uint64_t len,
			   int64_t at_ms, struct hd_recording *out, bool *duplicate);
hd_err hd_sqlite_rec_set_state(struct hd_store *base, const char *meeting_id, const char *id, int from,
			       const struct hd_rec_change *to, struct hd_recording *out, bool *changed);
hd_err hd_sqlite_rec_get(struct hd_store *base, const char *meeting_id, const char *id, struct hd_recording *out);
hd_err hd_sqlite_rec_list(struct hd_store *base, const char *meeting_id, struct hd_recording *out, size_t *n_out);
hd_err hd_sqlite_rec_delete(struct hd_store *base, const char *meeting_id, const char *id);
hd_err hd_sqlite_rec_resumable(struct hd_store *base, int64_t idle_before_ms, struct hd_recording *out, size_t *n_out);
hd_err hd_sqlite_rec_meeting_bytes(struct hd_store *base, const char *meeting_id, uint64_t *bytes);

#endif
