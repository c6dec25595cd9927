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
#include "common/store_sqlite.h"

// BUSY_TIMEOUT_MS stays under the gateways' call timeouts (CHAT_TIMEOUT_MS,
// NOTES_TIMEOUT_MS, 5 s by default): a store held locked by another process
// (a backup, a migration, a shell left in BEGIN EXCLUSIVE) then answers the
// client UNAVAILABLE, "not stored", before the gateway gives up with TIMEOUT,
// "outcome unknown". Writers sharing the file hold it for milliseconds.
#define BUSY_TIMEOUT_MS 2000

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
	sqlite3_stmt *set_access;
	sqlite3_stmt *insert_space;
	sqlite3_stmt *chat_find;
	sqlite3_stmt *chat_max;
	sqlite3_stmt *chat_insert;
	sqlite3_stmt *doc_find;
	sqlite3_stmt *doc_next_seq;
	sqlite3_stmt *doc_insert;
	sqlite3_stmt *doc_last_w;
	sqlite3_stmt *snap_newest_w;
	sqlite3_stmt *snap_insert;
	sqlite3_stmt *doc_drop;
	sqlite3_stmt *snap_prune;
	// on r
	sqlite3_stmt *get_meeting;
	sqlite3_stmt *space_by_key;
	sqlite3_stmt *space_by_id;
	sqlite3_stmt *space_list;
	sqlite3_stmt *hist_after;
	sqlite3_stmt *hist_before;
	sqlite3_stmt *chat_last;
	sqlite3_stmt *doc_page;
	sqlite3_stmt *doc_last;
	sqlite3_stmt *snap_newest;
	sqlite3_stmt *snap_version;
	sqlite3_stmt *snap_list;
	struct hd_sqlite_rec *rec; // recordings (store_sqlite_rec.c)
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS meetings ("
			     " id TEXT PRIMARY KEY,"
			     " created_at_ms INTEGER NOT NULL,"
			     " title TEXT NOT NULL DEFAULT '',"
			     " access_mode INTEGER NOT NULL DEFAULT 1,"
			     " starts_at_ms INTEGER NOT NULL DEFAULT 0,"
			     " host_key_hash TEXT NOT NULL DEFAULT '',"
			     " space_id TEXT NOT NULL DEFAULT '');"
			     "CREATE TABLE IF NOT EXISTS chat_messages ("
			     " meeting_id TEXT NOT NULL,"
			     " seq INTEGER NOT NULL,"
			     " client_message_id TEXT NOT NULL,"
			     " sender_id TEXT NOT NULL DEFAULT '',"
			     " sender_name TEXT NOT NULL,"
			     " text TEXT NOT NULL,"
			     " sent_at_ms INTEGER NOT NULL,"
			     " PRIMARY KEY (meeting_id, seq),"
			     " UNIQUE (meeting_id, client_message_id));"
			     // Shared documents. doc_counters keeps each document's last
			     // seq, so numbering goes on after a snapshot drops every
			     // update. The new tables are created IF NOT EXISTS: a file
			     // from before them opens as it is.
			     "CREATE TABLE IF NOT EXISTS doc_updates ("
			     " meeting_id TEXT NOT NULL,"
			     " document TEXT NOT NULL,"
			     " seq INTEGER NOT NULL,"
			     " client_update_id TEXT NOT NULL,"
			     " author_id TEXT NOT NULL DEFAULT '',"
			     " author_name TEXT NOT NULL DEFAULT '',"
			     " stored_at_ms INTEGER NOT NULL,"
			     " data BLOB NOT NULL,"
			     " PRIMARY KEY (meeting_id, document, seq),"
			     " UNIQUE (meeting_id, document, client_update_id));"
			     "CREATE TABLE IF NOT EXISTS doc_counters ("
			     " meeting_id TEXT NOT NULL,"
			     " document TEXT NOT NULL,"
			     " last_seq INTEGER NOT NULL,"
			     " PRIMARY KEY (meeting_id, document)) WITHOUT ROWID;"
			     "CREATE TABLE IF NOT EXISTS doc_snapshots ("
			     " meeting_id TEXT NOT NULL,"
			     " document TEXT NOT NULL,"
			     " version INTEGER NOT NULL,"
			     " seq INTEGER NOT NULL,"
			     " created_at_ms INTEGER NOT NULL,"
			     " author_name TEXT NOT NULL DEFAULT '',"
			     " language TEXT NOT NULL DEFAULT '',"
			     " text_len INTEGER NOT NULL," // bytes; length() of TEXT counts characters
			     " state BLOB NOT NULL,"
			     " text TEXT NOT NULL,"
			     " PRIMARY KEY (meeting_id, document, version));"
			     // Spaces (issue 11): a key that owns many meetings.
			     "CREATE TABLE IF NOT EXISTS spaces ("
			     " id TEXT PRIMARY KEY,"
			     " created_at_ms INTEGER NOT NULL,"
			     " title TEXT NOT NULL DEFAULT '',"
			     " key_hash TEXT NOT NULL UNIQUE);";

// meeting_columns are the columns of meetings added after its first
// version (issue 11), with their ALTER TABLE definitions: a file from before
// them gets them with defaults that read as an OPEN meeting with no host key
// and no space (migrate_meetings).
static const struct {
	const char *name;
	const char *def;
} meeting_columns[] = {
	{"access_mode", "access_mode INTEGER NOT NULL DEFAULT 1"},
	{"starts_at_ms", "starts_at_ms INTEGER NOT NULL DEFAULT 0"},
	{"host_key_hash", "host_key_hash TEXT NOT NULL DEFAULT ''"},
	{"space_id", "space_id TEXT NOT NULL DEFAULT ''"},
};

// meetings_index comes after the migration, since it names space_id.
static const char meetings_index[] =
	"CREATE INDEX IF NOT EXISTS meetings_space ON meetings(space_id, starts_at_ms, created_at_ms, id);";

#define MEETING_COLUMNS "id, created_at_ms, title, access_mode, starts_at_ms, host_key_hash, space_id"
#define SPACE_COLUMNS "id, created_at_ms, title, key_hash"
#define CHAT_COLUMNS "meeting_id, seq, client_message_id, sender_id, sender_name, text, sent_at_ms"
#define DOC_COLUMNS "meeting_id, document, seq, client_update_id, author_id, author_name, stored_at_ms, data"
#define VERSION_COLUMNS "version, seq, created_at_ms, author_name, language, text_len"
#define DOC_KEY "meeting_id = ? AND document = ?"

// stmt_def names one prepared statement and the connection it lives on.
struct stmt_def {
	size_t offset; // of the sqlite3_stmt * in struct sqlite_store
	int on_reader;
	const char *sql;
};

static const struct stmt_def stmt_defs[] = {
	{offsetof(struct sqlite_store, insert_meeting), 0,
	 "INSERT INTO meetings(" MEETING_COLUMNS ") VALUES(?, ?, ?, ?, ?, ?, ?)"},
	{offsetof(struct sqlite_store, set_access), 0, "UPDATE meetings SET access_mode = ? WHERE id = ?"},
	{offsetof(struct sqlite_store, insert_space), 0, "INSERT INTO spaces(" SPACE_COLUMNS ") VALUES(?, ?, ?, ?)"},
	{offsetof(struct sqlite_store, chat_find), 0,
	 "SELECT " CHAT_COLUMNS " FROM chat_messages WHERE meeting_id = ? AND client_message_id = ?"},
	{offsetof(struct sqlite_store, chat_max), 0,
	 "SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE meeting_id = ?"},
	{offsetof(struct sqlite_store, chat_insert), 0,
	 "INSERT INTO chat_messages(" CHAT_COLUMNS ") VALUES(?, ?, ?, ?, ?, ?, ?)"},
	{offsetof(struct sqlite_store, get_meeting), 1, "SELECT " MEETING_COLUMNS " FROM meetings WHERE id = ?"},
	{offsetof(struct sqlite_store, space_by_key), 1, "SELECT " SPACE_COLUMNS " FROM spaces WHERE key_hash = ?"},
	{offsetof(struct sqlite_store, space_by_id), 1, "SELECT " SPACE_COLUMNS " FROM spaces WHERE id = ?"},
	{offsetof(struct sqlite_store, space_list), 1,
	 "SELECT " MEETING_COLUMNS " FROM meetings WHERE space_id = ?"
	 " ORDER BY starts_at_ms ASC, created_at_ms ASC, id ASC LIMIT ?"},
	{offsetof(struct sqlite_store, hist_after), 1,
	 "SELECT " CHAT_COLUMNS " FROM chat_messages WHERE meeting_id = ? AND seq > ?"
	 " ORDER BY seq ASC LIMIT ?"},
	{offsetof(struct sqlite_store, hist_before), 1,
	 "SELECT " CHAT_COLUMNS " FROM chat_messages WHERE meeting_id = ? AND seq > ? AND seq < ?"
	 " ORDER BY seq DESC LIMIT ?"},
	{offsetof(struct sqlite_store, chat_last), 1,
	 "SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE meeting_id = ?"},
	{offsetof(struct sqlite_store, doc_find), 0,
	 "SELECT " DOC_COLUMNS " FROM doc_updates WHERE " DOC_KEY " AND client_update_id = ?"},
	{offsetof(struct sqlite_store, doc_next_seq), 0,
	 "INSERT INTO doc_counters(meeting_id, document, last_seq) VALUES(?, ?, 1)"
	 " ON CONFLICT(meeting_id, document) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq"},
	{offsetof(struct sqlite_store, doc_insert), 0,
	 "INSERT INTO doc_updates(" DOC_COLUMNS ") VALUES(?, ?, ?, ?, ?, ?, ?, ?)"},
	{offsetof(struct sqlite_store, doc_last_w), 0, "SELECT last_seq FROM doc_counters WHERE " DOC_KEY},
	{offsetof(struct sqlite_store, snap_newest_w), 0,
	 "SELECT " VERSION_COLUMNS " FROM doc_snapshots WHERE " DOC_KEY " ORDER BY version DESC LIMIT 1"},
	{offsetof(struct sqlite_store, snap_insert), 0,
	 "INSERT INTO doc_snapshots(meeting_id, document, " VERSION_COLUMNS ", state, text)"
	 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	{offsetof(struct sqlite_store, doc_drop), 0, "DELETE FROM doc_updates WHERE " DOC_KEY " AND seq <= ?"},
	// Keeps the newest HD_DOC_VERSIONS_KEPT (bound as the OFFSET, minus one).
	{offsetof(struct sqlite_store, snap_prune), 0,
	 "DELETE FROM doc_snapshots WHERE " DOC_KEY " AND version < (SELECT version FROM doc_snapshots"
	 " WHERE " DOC_KEY " ORDER BY version DESC LIMIT 1 OFFSET ?)"},
	{offsetof(struct sqlite_store, doc_page), 1,
	 "SELECT " DOC_COLUMNS " FROM doc_updates WHERE " DOC_KEY " AND seq > ? ORDER BY seq ASC LIMIT ?"},
	{offsetof(struct sqlite_store, doc_last), 1, "SELECT last_seq FROM doc_counters WHERE " DOC_KEY},
	{offsetof(struct sqlite_store, snap_newest), 1,
	 "SELECT " VERSION_COLUMNS ", state, text FROM doc_snapshots WHERE " DOC_KEY " ORDER BY version DESC LIMIT 1"},
	{offsetof(struct sqlite_store, snap_version), 1,
	 "SELECT " VERSION_COLUMNS ", state, text FROM doc_snapshots WHERE " DOC_KEY " AND version = ?"},
	{offsetof(struct sqlite_store, snap_list), 1,
	 "SELECT " VERSION_COLUMNS " FROM doc_snapshots WHERE " DOC_KEY " ORDER BY version DESC LIMIT ?"},
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

struct hd_sqlite_rec *hd_sqlite_rec_of(struct hd_store *base)
{
	return ((struct sqlite_store *)base)->rec;
}

static void sqlite_close(struct hd_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_sqlite_rec_close(s->rec);
	for (size_t i = 0; i < sizeof(stmt_defs) / sizeof(stmt_defs[0]); i++)
		sqlite3_finalize(*stmt_slot(s, &stmt_defs[i]));
	sqlite3_close(s->r);
	sqlite3_close(s->w);
	pthread_mutex_destroy(&s->rmtx);
	pthread_mutex_destroy(&s->wmtx);
	free(s);
}

// row_to_meeting reads a row selected with MEETING_COLUMNS.
static void row_to_meeting(sqlite3_stmt *st, struct hd_meeting *m)
{
	memset(m, 0, sizeof(*m));
	copy_col(m->id, sizeof(m->id), st, 0);
	m->created_at_ms = sqlite3_column_int64(st, 1);
	copy_col(m->title, sizeof(m->title), st, 2);
	m->access_mode = sqlite3_column_int(st, 3);
	m->starts_at_ms = sqlite3_column_int64(st, 4);
	copy_col(m->host_key_hash, sizeof(m->host_key_hash), st, 5);
	copy_col(m->space_id, sizeof(m->space_id), st, 6);
}

// row_to_space reads a row selected with SPACE_COLUMNS.
static void row_to_space(sqlite3_stmt *st, struct hd_space *sp)
{
	memset(sp, 0, sizeof(*sp));
	copy_col(sp->id, sizeof(sp->id), st, 0);
	sp->created_at_ms = sqlite3_column_int64(st, 1);
	copy_col(sp->title, sizeof(sp->title), st, 2);
	copy_col(sp->key_hash, sizeof(sp->key_hash), st, 3);
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
	sqlite3_bind_int(st, 4, m->access_mode);
	sqlite3_bind_int64(st, 5, m->starts_at_ms);
	sqlite3_bind_text(st, 6, m->host_key_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->space_id, -1, SQLITE_STATIC);
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
		row_to_meeting(st, out);
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

static hd_err sqlite_meeting_set_access(struct hd_store *base, const char *id, int access_mode)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_err err = HD_OK;
	pthread_mutex_lock(&s->wmtx);
	sqlite3_stmt *st = s->set_access;
	sqlite3_bind_int(st, 1, access_mode);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		HD_ERROR("sqlite set meeting access: %s", sqlite3_errmsg(s->w));
		err = HD_EUNAVAILABLE;
	} else if (sqlite3_changes(s->w) == 0) {
		err = HD_EUNKNOWNMEETING;
	}
	stmt_done(st);
	pthread_mutex_unlock(&s->wmtx);
	return err;
}

static hd_err sqlite_space_insert(struct hd_store *base, const struct hd_space *sp)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_err err = HD_OK;
	pthread_mutex_lock(&s->wmtx);
	sqlite3_stmt *st = s->insert_space;
	sqlite3_bind_text(st, 1, sp->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sp->created_at_ms);
	sqlite3_bind_text(st, 3, sp->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sp->key_hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		err = HD_EBADREQUEST; // id or key_hash exists
	} else if (rc != SQLITE_DONE) {
		HD_ERROR("sqlite insert space: %s", sqlite3_errmsg(s->w));
		err = HD_EUNAVAILABLE;
	}
	stmt_done(st);
	pthread_mutex_unlock(&s->wmtx);
	return err;
}

// space_find runs st (space_by_key or space_by_id, one text argument).
static hd_err space_find(struct sqlite_store *s, sqlite3_stmt *st, const char *arg, struct hd_space *out)
{
	hd_err err;
	pthread_mutex_lock(&s->rmtx);
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_space(st, out);
		err = HD_OK;
	} else if (rc == SQLITE_DONE) {
		err = HD_EFORBIDDEN;
	} else {
		HD_ERROR("sqlite find space: %s", sqlite3_errmsg(s->r));
		err = HD_EUNAVAILABLE;
	}
	stmt_done(st);
	pthread_mutex_unlock(&s->rmtx);
	return err;
}

static hd_err sqlite_space_by_key_hash(struct hd_store *base, const char *key_hash, struct hd_space *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	return space_find(s, s->space_by_key, key_hash, out);
}

static hd_err sqlite_space_get(struct hd_store *base, const char *id, struct hd_space *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	return space_find(s, s->space_by_id, id, out);
}

static hd_err sqlite_space_meetings(struct hd_store *base, const char *space_id, struct hd_meeting *out, size_t *n_out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	size_t n = 0;
	pthread_mutex_lock(&s->rmtx);
	sqlite3_stmt *st = s->space_list;
	sqlite3_bind_text(st, 1, space_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, HD_SPACE_MEETINGS_MAX);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < HD_SPACE_MEETINGS_MAX)
		row_to_meeting(st, &out[n++]);
	stmt_done(st);
	bool ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
	if (!ok)
		HD_ERROR("sqlite space meetings: %s", sqlite3_errmsg(s->r));
	pthread_mutex_unlock(&s->rmtx);
	if (!ok)
		return HD_EUNAVAILABLE;
	*n_out = n;
	return HD_OK;
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

static void bind_doc_key(sqlite3_stmt *st, const char *meeting_id, const char *document)
{
	sqlite3_bind_text(st, 1, meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, document, -1, SQLITE_STATIC);
}

// row_to_update reads a row selected with DOC_COLUMNS, except data.
static void row_to_update(sqlite3_stmt *st, struct hd_doc_update *u)
{
	copy_col(u->meeting_id, sizeof(u->meeting_id), st, 0);
	copy_col(u->document, sizeof(u->document), st, 1);
	u->seq = sqlite3_column_int64(st, 2);
	copy_col(u->client_update_id, sizeof(u->client_update_id), st, 3);
	copy_col(u->author_id, sizeof(u->author_id), st, 4);
	copy_col(u->author_name, sizeof(u->author_name), st, 5);
	u->stored_at_ms = sqlite3_column_int64(st, 6);
}

// row_to_version reads VERSION_COLUMNS, which start at column 0.
static void row_to_version(sqlite3_stmt *st, struct hd_doc_version *v)
{
	memset(v, 0, sizeof(*v));
	v->version = sqlite3_column_int64(st, 0);
	v->seq = sqlite3_column_int64(st, 1);
	v->created_at_ms = sqlite3_column_int64(st, 2);
	copy_col(v->author_name, sizeof(v->author_name), st, 3);
	copy_col(v->language, sizeof(v->language), st, 4);
	v->text_len = (size_t)sqlite3_column_int64(st, 5);
}

// step_int64 runs a one-column query: *value is its value, or 0 for no row.
// Returns SQLITE_OK or the failing step's code.
static int step_int64(sqlite3_stmt *st, int64_t *value)
{
	int rc = sqlite3_step(st);
	*value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// doc_append_one stores or finds u inside the open write transaction.
// Returns SQLITE_OK or the failing step's code.
static int doc_append_one(struct sqlite_store *s, struct hd_doc_update *u, bool *duplicate)
{
	sqlite3_stmt *st = s->doc_find;
	bind_doc_key(st, u->meeting_id, u->document);
	sqlite3_bind_text(st, 3, u->client_update_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		// Stored already (earlier, or earlier in this batch): its seq, time
		// and author; data and len stay the caller's (store.h).
		struct hd_doc_update stored = *u;
		row_to_update(st, &stored);
		stmt_done(st);
		*u = stored;
		*duplicate = true;
		return SQLITE_OK;
	}
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return rc;

	// The counter, not MAX(seq): a snapshot may have dropped every update.
	st = s->doc_next_seq;
	bind_doc_key(st, u->meeting_id, u->document);
	rc = sqlite3_step(st);
	int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	stmt_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_INTERNAL : rc;

	st = s->doc_insert;
	bind_doc_key(st, u->meeting_id, u->document);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_text(st, 4, u->client_update_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, u->author_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, u->author_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, u->stored_at_ms);
	sqlite3_bind_blob64(st, 8, u->data, u->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return rc;
	u->seq = seq;
	*duplicate = false;
	return SQLITE_OK;
}

// write_end commits when rc is SQLITE_OK, else logs the failure (with what
// failed, unless what is NULL: a refusal, not an error) and rolls back what
// is still open (not after a failed BEGIN, or an error SQLite rolled back
// itself). Returns the final code.
static int write_end(struct sqlite_store *s, int rc, const char *what)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && what != NULL)
		HD_ERROR("sqlite %s: %s", what, sqlite3_errmsg(s->w));
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->w))
		sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

// sqlite_doc_append: the whole batch is one IMMEDIATE transaction (group
// commit), as sqlite_chat_append.
static hd_err sqlite_doc_append(struct hd_store *base, struct hd_doc_update *u, size_t n, bool *duplicate)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	pthread_mutex_lock(&s->wmtx);
	int rc = sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
		rc = doc_append_one(s, &u[i], &duplicate[i]);
	rc = write_end(s, rc, "doc append");
	pthread_mutex_unlock(&s->wmtx);
	return rc == SQLITE_OK ? HD_OK : HD_EUNAVAILABLE;
}

// sqlite_doc_read reads the page and the document's last seq in one read
// transaction, so both come from the same snapshot.
static hd_err sqlite_doc_read(struct hd_store *base, const char *meeting_id, const char *document, int64_t after_seq,
			      uint32_t limit, struct hd_doc_update *out, size_t *n_out, bool *more, int64_t *last_seq)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	size_t n = 0;
	bool extra = false, nomem = false;
	int64_t last = 0;
	pthread_mutex_lock(&s->rmtx);
	int rc = sqlite3_exec(s->r, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto done;

	sqlite3_stmt *st = s->doc_page;
	bind_doc_key(st, meeting_id, document);
	sqlite3_bind_int64(st, 3, after_seq);
	sqlite3_bind_int64(st, 4, (int64_t)limit + 1); // one more tells whether there is more
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			extra = true;
			continue;
		}
		struct hd_doc_update *u = &out[n];
		memset(u, 0, sizeof(*u));
		row_to_update(st, u);
		const void *data = sqlite3_column_blob(st, 7);
		u->len = (size_t)sqlite3_column_bytes(st, 7);
		u->data = malloc(u->len > 0 ? u->len : 1);
		if (u->data == NULL) {
			nomem = true;
			break;
		}
		if (u->len > 0)
			memcpy(u->data, data, u->len);
		n++;
	}
	stmt_done(st);
	if (nomem || rc != SQLITE_DONE)
		goto done;
	st = s->doc_last;
	bind_doc_key(st, meeting_id, document);
	rc = step_int64(st, &last);

done:
	if (!sqlite3_get_autocommit(s->r))
		sqlite3_exec(s->r, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && !nomem)
		HD_ERROR("sqlite doc read: %s", sqlite3_errmsg(s->r));
	pthread_mutex_unlock(&s->rmtx);
	if (nomem || rc != SQLITE_OK) {
		hd_doc_updates_free(out, n);
		if (nomem)
			HD_ERROR("sqlite doc read: out of memory");
		return nomem ? HD_ENOMEM : HD_EUNAVAILABLE;
	}
	*n_out = n;
	*more = extra;
	*last_seq = last;
	return HD_OK;
}

// sqlite_doc_snapshot_put checks, stores the snapshot, drops the updates it
// covers and the versions beyond HD_DOC_VERSIONS_KEPT in one IMMEDIATE
// transaction.
static hd_err sqlite_doc_snapshot_put(struct hd_store *base, struct hd_doc_snapshot *snap, bool *stored)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	struct hd_doc_version *v = &snap->version;
	hd_err bad = HD_OK; // a refusal, not a storage failure
	pthread_mutex_lock(&s->wmtx);
	int rc = sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto done;

	int64_t last;
	sqlite3_stmt *st = s->doc_last_w;
	bind_doc_key(st, snap->meeting_id, snap->document);
	if ((rc = step_int64(st, &last)) != SQLITE_OK)
		goto done;
	if (v->seq > last) {
		bad = HD_EBADREQUEST;
		goto done;
	}

	struct hd_doc_version newest = {0};
	st = s->snap_newest_w;
	bind_doc_key(st, snap->meeting_id, snap->document);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_version(st, &newest);
	stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto done;
	rc = SQLITE_OK;
	if (newest.version > 0 && v->seq <= newest.seq) { // adds nothing
		*v = newest;
		*stored = false;
		goto done;
	}

	st = s->snap_insert;
	bind_doc_key(st, snap->meeting_id, snap->document);
	sqlite3_bind_int64(st, 3, newest.version + 1);
	sqlite3_bind_int64(st, 4, v->seq);
	sqlite3_bind_int64(st, 5, v->created_at_ms);
	sqlite3_bind_text(st, 6, v->author_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, v->language, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (int64_t)v->text_len);
	sqlite3_bind_blob64(st, 9, snap->state, snap->state_len, SQLITE_STATIC);
	sqlite3_bind_text64(st, 10, v->text_len > 0 ? snap->text : "", v->text_len, SQLITE_STATIC, SQLITE_UTF8);
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		goto done;

	st = s->doc_drop;
	bind_doc_key(st, snap->meeting_id, snap->document);
	sqlite3_bind_int64(st, 3, v->seq);
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		goto done;

	st = s->snap_prune;
	bind_doc_key(st, snap->meeting_id, snap->document);
	sqlite3_bind_text(st, 3, snap->meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, snap->document, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, HD_DOC_VERSIONS_KEPT - 1);
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		goto done;
	rc = SQLITE_OK;
	v->version = newest.version + 1;
	*stored = true;

done:
	if (bad != HD_OK && rc == SQLITE_OK)
		rc = SQLITE_ABORT; // nothing to commit: roll back quietly
	rc = write_end(s, rc, bad == HD_OK ? "doc snapshot put" : NULL);
	pthread_mutex_unlock(&s->wmtx);
	if (bad != HD_OK)
		return bad;
	return rc == SQLITE_OK ? HD_OK : HD_EUNAVAILABLE;
}

// sqlite_doc_snapshot_get reads VERSION_COLUMNS, state and text of one
// snapshot (version 0: the newest).
static hd_err sqlite_doc_snapshot_get(struct hd_store *base, const char *meeting_id, const char *document,
				      int64_t version, struct hd_doc_snapshot *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_err err = HD_OK;
	snprintf(out->meeting_id, sizeof(out->meeting_id), "%s", meeting_id);
	snprintf(out->document, sizeof(out->document), "%s", document);
	pthread_mutex_lock(&s->rmtx);
	sqlite3_stmt *st = version == 0 ? s->snap_newest : s->snap_version;
	bind_doc_key(st, meeting_id, document);
	if (version > 0)
		sqlite3_bind_int64(st, 3, version);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_version(st, &out->version);
		const void *state = sqlite3_column_blob(st, 6);
		size_t state_len = (size_t)sqlite3_column_bytes(st, 6);
		const unsigned char *text = sqlite3_column_text(st, 7);
		size_t text_len = text != NULL ? (size_t)sqlite3_column_bytes(st, 7) : 0;
		out->state = malloc(state_len > 0 ? state_len : 1);
		out->text = malloc(text_len + 1);
		if (out->state == NULL || out->text == NULL) {
			err = HD_ENOMEM;
		} else {
			if (state_len > 0)
				memcpy(out->state, state, state_len);
			out->state_len = state_len;
			if (text_len > 0)
				memcpy(out->text, text, text_len);
			out->text[text_len] = '\0';
			out->version.text_len = text_len;
		}
	} else if (rc == SQLITE_DONE) {
		// No snapshot yet is an answer for "the newest"; a version that is
		// not kept is the caller's mistake.
		err = version == 0 ? HD_OK : HD_EBADREQUEST;
	} else {
		HD_ERROR("sqlite doc snapshot get: %s", sqlite3_errmsg(s->r));
		err = HD_EUNAVAILABLE;
	}
	stmt_done(st);
	pthread_mutex_unlock(&s->rmtx);
	if (err != HD_OK)
		hd_doc_snapshot_fini(out); // store.c zeroes out
	return err;
}

static hd_err sqlite_doc_versions(struct hd_store *base, const char *meeting_id, const char *document,
				  struct hd_doc_version *out, size_t *n_out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	size_t n = 0;
	pthread_mutex_lock(&s->rmtx);
	sqlite3_stmt *st = s->snap_list;
	bind_doc_key(st, meeting_id, document);
	sqlite3_bind_int64(st, 3, HD_DOC_VERSIONS_KEPT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < HD_DOC_VERSIONS_KEPT)
		row_to_version(st, &out[n++]);
	stmt_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		HD_ERROR("sqlite doc versions: %s", sqlite3_errmsg(s->r));
	pthread_mutex_unlock(&s->rmtx);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return HD_EUNAVAILABLE;
	*n_out = n;
	return HD_OK;
}

static const struct hd_store_ops sqlite_ops = {
	.close = sqlite_close,
	.meeting_insert = sqlite_meeting_insert,
	.meeting_get = sqlite_meeting_get,
	.meeting_set_access = sqlite_meeting_set_access,
	.space_insert = sqlite_space_insert,
	.space_by_key_hash = sqlite_space_by_key_hash,
	.space_get = sqlite_space_get,
	.space_meetings = sqlite_space_meetings,
	.chat_append = sqlite_chat_append,
	.chat_history = sqlite_chat_history,
	.doc_append = sqlite_doc_append,
	.doc_read = sqlite_doc_read,
	.doc_snapshot_put = sqlite_doc_snapshot_put,
	.doc_snapshot_get = sqlite_doc_snapshot_get,
	.doc_versions = sqlite_doc_versions,
	.rec_create = hd_sqlite_rec_create,
	.rec_chunk = hd_sqlite_rec_chunk,
	.rec_set_state = hd_sqlite_rec_set_state,
	.rec_get = hd_sqlite_rec_get,
	.rec_list = hd_sqlite_rec_list,
	.rec_delete = hd_sqlite_rec_delete,
	.rec_resumable = hd_sqlite_rec_resumable,
	.rec_meeting_bytes = hd_sqlite_rec_meeting_bytes,
};

// migrate_meetings adds the columns of meeting_columns that a meetings table
// from an older version lacks (ALTER TABLE ... ADD COLUMN with its default),
// then creates the index that needs them, in one IMMEDIATE transaction (two
// processes opening an old file at once migrate it once). Returns SQLITE_OK
// or the failing call's code (sqlite3_errmsg(w) has the message).
static int migrate_meetings(sqlite3 *w)
{
	int rc = sqlite3_exec(w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return rc;
	for (size_t i = 0; i < sizeof(meeting_columns) / sizeof(meeting_columns[0]) && rc == SQLITE_OK; i++) {
		sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(w, "SELECT 1 FROM pragma_table_info('meetings') WHERE name = ?", -1, &st, NULL);
		if (rc != SQLITE_OK)
			break;
		sqlite3_bind_text(st, 1, meeting_columns[i].name, -1, SQLITE_STATIC);
		int step = sqlite3_step(st);
		sqlite3_finalize(st);
		if (step == SQLITE_ROW)
			continue;
		if (step != SQLITE_DONE) {
			rc = step;
			break;
		}
		char sql[160];
		snprintf(sql, sizeof(sql), "ALTER TABLE meetings ADD COLUMN %s", meeting_columns[i].def);
		rc = sqlite3_exec(w, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			HD_INFO("store: sqlite meetings table migrated: column %s added", meeting_columns[i].name);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(w, meetings_index, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(w, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(w))
		sqlite3_exec(w, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

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
	if (sqlite3_exec(s->w, schema, NULL, NULL, &errmsg) != SQLITE_OK || migrate_meetings(s->w) != SQLITE_OK) {
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
	struct hd_sqlite_conns conns = {s->w, s->r, &s->wmtx, &s->rmtx};
	if (hd_sqlite_rec_open(&s->rec, &conns) != SQLITE_OK) {
		errdb = s->w;
		pthread_mutex_destroy(&s->rmtx);
		pthread_mutex_destroy(&s->wmtx);
		goto fail;
	}
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
