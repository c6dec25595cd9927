// store_sqlite.c: the embedded SQLite backend of the history store (WAL,
// synchronous=FULL: a write is on disk before it is acknowledged). Several
// processes may open the same file (registry and chat): every write
// transaction starts with BEGIN IMMEDIATE and waits up to BUSY_TIMEOUT_MS for
// another process's writer.
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/store.h"

#define BUSY_TIMEOUT_MS 5000

// sqlite_store holds two connections, each used under its own mutex: the
// writer (SQLite serializes writers anyway) and a reader, so history pages
// do not wait behind a commit's fsync (WAL readers see the last commit).
struct sqlite_store {
	struct hd_store base;
	pthread_mutex_t wmtx; // guards w and its statements
	pthread_mutex_t rmtx; // guards r and its statements
	sqlite3 *w;
	sqlite3 *r;
	// on w
	sqlite3_stmt *insert_meeting;
	sqlite3_stmt *chat_find;
	sqlite3_stmt *chat_max;
	sqlite3_stmt *chat_insert;
	// on r
	sqlite3_stmt *get_meeting;
	sqlite3_stmt *hist_after;
	sqlite3_stmt *hist_before;
	sqlite3_stmt *chat_last;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS meetings ("
			     " id TEXT PRIMARY KEY,"
			     " created_at_ms INTEGER NOT NULL,"
			     " title TEXT NOT NULL DEFAULT '');"
			     "CREATE TABLE IF NOT EXISTS chat_messages ("
			     " meeting_id TEXT NOT NULL,"
			     " seq INTEGER NOT NULL,"
			     " client_message_id TEXT NOT NULL,"
			     " sender_id TEXT NOT NULL DEFAULT '',"
			     " sender_name TEXT NOT NULL,"
			     " text TEXT NOT NULL,"
			     " sent_at_ms INTEGER NOT NULL,"
			     " PRIMARY KEY (meeting_id, seq),"
			     " UNIQUE (meeting_id, client_message_id));";

#define CHAT_COLUMNS "meeting_id, seq, client_message_id, sender_id, sender_name, text, sent_at_ms"

// stmt_def names one prepared statement and the connection it lives on.
struct stmt_def {
	size_t offset; // of the sqlite3_stmt * in struct sqlite_store
	int on_reader;
	const char *sql;
};

static const struct stmt_def stmt_defs[] = {
	{offsetof(struct sqlite_store, insert_meeting), 0,
	 "INSERT INTO meetings(id, created_at_ms, title) VALUES(?, ?, ?)"},
	{offsetof(struct sqlite_store, chat_find), 0,
	 "SELECT " CHAT_COLUMNS " FROM chat_messages WHERE meeting_id = ? AND client_message_id = ?"},
	{offsetof(struct sqlite_store, chat_max), 0,
	 "SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE meeting_id = ?"},
	{offsetof(struct sqlite_store, chat_insert), 0,
	 "INSERT INTO chat_messages(" CHAT_COLUMNS ") VALUES(?, ?, ?, ?, ?, ?, ?)"},
	{offsetof(struct sqlite_store, get_meeting), 1, "SELECT id, created_at_ms, title FROM meetings WHERE id = ?"},
	{offsetof(struct sqlite_store, hist_after), 1,
	 "SELECT " CHAT_COLUMNS " FROM chat_messages WHERE meeting_id = ? AND seq > ?"
	 " ORDER BY seq ASC LIMIT ?"},
	{offsetof(struct sqlite_store, hist_before), 1,
	 "SELECT " CHAT_COLUMNS " FROM chat_messages WHERE meeting_id = ? AND seq > ? AND seq < ?"
	 " ORDER BY seq DESC LIMIT ?"},
	{offsetof(struct sqlite_store, chat_last), 1,
	 "SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE meeting_id = ?"},
};

static sqlite3_stmt **stmt_slot(struct sqlite_store *s, const struct stmt_def *d)
{
	return (sqlite3_stmt **)(void *)((char *)s + d->offset);
}

static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

// copy_col copies text column col of st into dst (cap bytes), truncating.
static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
	if (len >= cap)
		len = cap - 1;
	if (len > 0)
		memcpy(dst, t, len);
	dst[len] = '\0';
}

// row_to_msg reads a row selected with CHAT_COLUMNS.
static void row_to_msg(sqlite3_stmt *st, struct hd_chat_message *m)
{
	copy_col(m->meeting_id, sizeof(m->meeting_id), st, 0);
	m->seq = sqlite3_column_int64(st, 1);
	copy_col(m->client_message_id, sizeof(m->client_message_id), st, 2);
	copy_col(m->sender_id, sizeof(m->sender_id), st, 3);
	copy_col(m->sender_name, sizeof(m->sender_name), st, 4);
	copy_col(m->text, sizeof(m->text), st, 5);
	m->sent_at_ms = sqlite3_column_int64(st, 6);
}

static void sqlite_close(struct hd_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	for (size_t i = 0; i < sizeof(stmt_defs) / sizeof(stmt_defs[0]); i++)
		sqlite3_finalize(*stmt_slot(s, &stmt_defs[i]));
	sqlite3_close(s->r);
	sqlite3_close(s->w);
	pthread_mutex_destroy(&s->rmtx);
	pthread_mutex_destroy(&s->wmtx);
	free(s);
}

static hd_err sqlite_meeting_insert(struct hd_store *base, const struct hd_meeting *m)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_err err = HD_OK;
	pthread_mutex_lock(&s->wmtx);
	sqlite3_stmt *st = s->insert_meeting;
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, m->created_at_ms);
	sqlite3_bind_text(st, 3, m->title, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		err = HD_EBADREQUEST;
	} else if (rc != SQLITE_DONE) {
		HD_ERROR("sqlite insert meeting: %s", sqlite3_errmsg(s->w));
		err = HD_EUNAVAILABLE;
	}
	stmt_done(st);
	pthread_mutex_unlock(&s->wmtx);
	return err;
}

static hd_err sqlite_meeting_get(struct hd_store *base, const char *id, struct hd_meeting *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_err err;
	pthread_mutex_lock(&s->rmtx);
	sqlite3_stmt *st = s->get_meeting;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		copy_col(out->id, sizeof(out->id), st, 0);
		out->created_at_ms = sqlite3_column_int64(st, 1);
		copy_col(out->title, sizeof(out->title), st, 2);
		err = HD_OK;
	} else if (rc == SQLITE_DONE) {
		err = HD_EUNKNOWNMEETING;
	} else {
		HD_ERROR("sqlite get meeting: %s", sqlite3_errmsg(s->r));
		err = HD_EUNAVAILABLE;
	}
	stmt_done(st);
	pthread_mutex_unlock(&s->rmtx);
	return err;
}

// chat_append_one stores or finds msgs[i] inside the open write transaction.
// Returns SQLITE_OK or the failing step's code.
static int chat_append_one(struct sqlite_store *s, struct hd_chat_message *m, bool *duplicate)
{
	sqlite3_stmt *st = s->chat_find;
	sqlite3_bind_text(st, 1, m->meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->client_message_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		// Already stored (earlier, or earlier in this batch): hand that one back.
		struct hd_chat_message stored;
		memset(&stored, 0, sizeof(stored));
		row_to_msg(st, &stored);
		stmt_done(st);
		*m = stored;
		*duplicate = true;
		return SQLITE_OK;
	}
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return rc;

	st = s->chat_max;
	sqlite3_bind_text(st, 1, m->meeting_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	int64_t max = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	stmt_done(st);
	if (rc != SQLITE_ROW)
		return rc;

	m->seq = max + 1;
	st = s->chat_insert;
	sqlite3_bind_text(st, 1, m->meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, m->seq);
	sqlite3_bind_text(st, 3, m->client_message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->sender_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->sender_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, m->sent_at_ms);
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return rc;
	*duplicate = false;
	return SQLITE_OK;
}

// sqlite_chat_append: the whole batch is one IMMEDIATE transaction, committed
// with synchronous=FULL (group commit). On failure the transaction is rolled
// back (store.c restores msgs/duplicate).
static hd_err sqlite_chat_append(struct hd_store *base, struct hd_chat_message *msgs, size_t n, bool *duplicate)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	pthread_mutex_lock(&s->wmtx);
	int rc = sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
		rc = chat_append_one(s, &msgs[i], &duplicate[i]);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		HD_ERROR("sqlite chat append of %zu messages: %s", n, sqlite3_errmsg(s->w));
		// Still open after a failed step or COMMIT; not after a failed BEGIN
		// or an error SQLite already rolled back itself.
		if (!sqlite3_get_autocommit(s->w))
			sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&s->wmtx);
	return rc == SQLITE_OK ? HD_OK : HD_EUNAVAILABLE;
}

// sqlite_chat_history reads the page and the meeting's last seq in one read
// transaction, so both come from the same snapshot.
static hd_err sqlite_chat_history(struct hd_store *base, const char *meeting_id, int64_t after_seq, int64_t before_seq,
				  uint32_t limit, struct hd_chat_message *out, size_t *n_out, bool *more,
				  int64_t *last_seq)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	size_t n = 0;
	bool extra = false;
	int64_t last = 0;
	pthread_mutex_lock(&s->rmtx);
	int rc = sqlite3_exec(s->r, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto done;

	sqlite3_stmt *st = before_seq > 0 ? s->hist_before : s->hist_after;
	int col = 1;
	sqlite3_bind_text(st, col++, meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, col++, after_seq);
	if (before_seq > 0)
		sqlite3_bind_int64(st, col++, before_seq);
	sqlite3_bind_int64(st, col, (int64_t)limit + 1); // one more tells whether there is more
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			extra = true;
			continue;
		}
		memset(&out[n], 0, sizeof(out[n]));
		row_to_msg(st, &out[n]);
		n++;
	}
	stmt_done(st);
	if (rc != SQLITE_DONE)
		goto done;

	st = s->chat_last;
	sqlite3_bind_text(st, 1, meeting_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	stmt_done(st);

done:
	if (!sqlite3_get_autocommit(s->r))
		sqlite3_exec(s->r, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		HD_ERROR("sqlite chat history: %s", sqlite3_errmsg(s->r));
	pthread_mutex_unlock(&s->rmtx);
	if (rc != SQLITE_OK)
		return HD_EUNAVAILABLE;
	*n_out = n;
	*more = extra;
	*last_seq = last;
	return HD_OK;
}

static const struct hd_store_ops sqlite_ops = {
	.close = sqlite_close,
	.meeting_insert = sqlite_meeting_insert,
	.meeting_get = sqlite_meeting_get,
	.chat_append = sqlite_chat_append,
	.chat_history = sqlite_chat_history,
};

// conn_open opens one connection with the busy timeout and durability pragmas.
static int conn_open(const char *path, sqlite3 **db, char **errmsg)
{
	int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
	return sqlite3_exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, errmsg);
}

hd_err hd_store_sqlite_open(struct hd_store **out, const char *path)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	char *errmsg = NULL;
	sqlite3 *errdb = NULL;
	if (s == NULL)
		return HD_ENOMEM;
	s->base.ops = &sqlite_ops;
	if (conn_open(path, &s->w, &errmsg) != SQLITE_OK) {
		errdb = s->w;
		goto fail;
	}
	if (sqlite3_exec(s->w, schema, NULL, NULL, &errmsg) != SQLITE_OK) {
		errdb = s->w;
		goto fail;
	}
	if (conn_open(path, &s->r, &errmsg) != SQLITE_OK) {
		errdb = s->r;
		goto fail;
	}
	for (size_t i = 0; i < sizeof(stmt_defs) / sizeof(stmt_defs[0]); i++) {
		const struct stmt_def *d = &stmt_defs[i];
		sqlite3 *db = d->on_reader ? s->r : s->w;
		if (sqlite3_prepare_v2(db, d->sql, -1, stmt_slot(s, d), NULL) != SQLITE_OK) {
			errdb = db;
			goto fail;
		}
	}
	pthread_mutex_init(&s->wmtx, NULL);
	pthread_mutex_init(&s->rmtx, NULL);
	*out = &s->base;
	HD_INFO("store: sqlite %s", path);
	return HD_OK;

fail:
	HD_ERROR("cannot open sqlite store %s: %s", path,
		 errmsg != NULL  ? errmsg
		 : errdb != NULL ? sqlite3_errmsg(errdb)
				 : "out of memory");
	sqlite3_free(errmsg);
	for (size_t i = 0; i < sizeof(stmt_defs) / sizeof(stmt_defs[0]); i++)
		sqlite3_finalize(*stmt_slot(s, &stmt_defs[i]));
	sqlite3_close(s->r);
	sqlite3_close(s->w);
	free(s);
	return HD_EUNAVAILABLE;
}
