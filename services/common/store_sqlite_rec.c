// store_sqlite_rec.c: recording metadata on SQLite (store_sqlite.h). Two
// tables: recordings, one row per (meeting, rid), and recording_chunks, one
// row per chunk index noted while the recording is RECORDING or
// ASSEMBLING, so a chunk noted twice is a duplicate and chunks that came
// out of order count once the gap before them is filled. Every write is one
// IMMEDIATE transaction on the store's writer connection.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/store_sqlite.h"

static const char rec_schema[] = "CREATE TABLE IF NOT EXISTS recordings ("
				 " meeting_id TEXT NOT NULL,"
				 " id TEXT NOT NULL,"
				 " kind INTEGER NOT NULL,"
				 " state INTEGER NOT NULL,"
				 " recorder_id TEXT NOT NULL,"
				 " recorder_name TEXT NOT NULL,"
				 " mime_type TEXT NOT NULL,"
				 " created_at_ms INTEGER NOT NULL,"
				 " updated_at_ms INTEGER NOT NULL,"
				 " chunks INTEGER NOT NULL DEFAULT 0,"
				 " total_chunks INTEGER NOT NULL DEFAULT 0,"
				 " bytes INTEGER NOT NULL DEFAULT 0,"
				 " duration_ms INTEGER NOT NULL DEFAULT 0,"
				 " error TEXT NOT NULL DEFAULT '',"
				 " PRIMARY KEY (meeting_id, id));"
				 "CREATE INDEX IF NOT EXISTS recordings_by_state ON recordings (state, updated_at_ms);"
				 "CREATE TABLE IF NOT EXISTS recording_chunks ("
				 " meeting_id TEXT NOT NULL,"
				 " recording_id TEXT NOT NULL,"
				 " idx INTEGER NOT NULL,"
				 " len INTEGER NOT NULL,"
				 " PRIMARY KEY (meeting_id, recording_id, idx)) WITHOUT ROWID;";

#define REC_COLUMNS                                                                                                    \
	"meeting_id, id, kind, state, recorder_id, recorder_name, mime_type, created_at_ms, updated_at_ms, chunks,"    \
	" total_chunks, bytes, duration_ms, error"
#define REC_KEY "meeting_id = ?1 AND id = ?2"
#define CHUNK_KEY "meeting_id = ?1 AND recording_id = ?2"

// hd_sqlite_rec holds the recording statements; the connections and their
// mutexes are the store's (conns).
struct hd_sqlite_rec {
	struct hd_sqlite_conns c;
	// on w
	sqlite3_stmt *insert;
	sqlite3_stmt *get_w;
	sqlite3_stmt *chunk_insert;
	sqlite3_stmt *chunk_exists;
	sqlite3_stmt *chunk_from;
	sqlite3_stmt *count_chunk;
	sqlite3_stmt *set_state;
	sqlite3_stmt *chunks_drop;
	sqlite3_stmt *remove;
	// on r
	sqlite3_stmt *get_r;
	sqlite3_stmt *list;
	sqlite3_stmt *resumable;
	sqlite3_stmt *meeting_bytes;
};

struct rec_stmt_def {
	size_t offset; // of the sqlite3_stmt * in struct hd_sqlite_rec
	int on_reader;
	const char *sql;
};

static const struct rec_stmt_def rec_stmts[] = {
	{offsetof(struct hd_sqlite_rec, insert), 0,
	 "INSERT INTO recordings(" REC_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
	 " ON CONFLICT(meeting_id, id) DO NOTHING"},
	{offsetof(struct hd_sqlite_rec, get_w), 0, "SELECT " REC_COLUMNS " FROM recordings WHERE " REC_KEY},
	{offsetof(struct hd_sqlite_rec, chunk_insert), 0,
	 "INSERT INTO recording_chunks(meeting_id, recording_id, idx, len) VALUES(?1, ?2, ?3, ?4)"
	 " ON CONFLICT DO NOTHING"},
	{offsetof(struct hd_sqlite_rec, chunk_exists), 0,
	 "SELECT 1 FROM recording_chunks WHERE " CHUNK_KEY " AND idx = ?3"},
	{offsetof(struct hd_sqlite_rec, chunk_from), 0,
	 "SELECT idx FROM recording_chunks WHERE " CHUNK_KEY " AND idx >= ?3 ORDER BY idx ASC"},
	{offsetof(struct hd_sqlite_rec, count_chunk), 0,
	 "UPDATE recordings SET bytes = bytes + ?3, chunks = ?4, updated_at_ms = MAX(updated_at_ms, ?5)"
	 " WHERE " REC_KEY},
	// ?3 the new state; ASSEMBLING keeps bytes, duration and error and sets total_chunks.
	{offsetof(struct hd_sqlite_rec, set_state), 0,
	 "UPDATE recordings SET state = ?3, updated_at_ms = ?4,"
	 " total_chunks = CASE WHEN ?3 = 2 THEN ?5 ELSE total_chunks END,"
	 " bytes = CASE WHEN ?3 = 2 THEN bytes ELSE ?6 END,"
	 " duration_ms = CASE WHEN ?3 = 2 THEN duration_ms ELSE ?7 END,"
	 " error = CASE WHEN ?3 = 2 THEN error ELSE ?8 END"
	 " WHERE " REC_KEY " AND state = ?9"},
	{offsetof(struct hd_sqlite_rec, chunks_drop), 0, "DELETE FROM recording_chunks WHERE " CHUNK_KEY},
	{offsetof(struct hd_sqlite_rec, remove), 0, "DELETE FROM recordings WHERE " REC_KEY},
	{offsetof(struct hd_sqlite_rec, get_r), 1, "SELECT " REC_COLUMNS " FROM recordings WHERE " REC_KEY},
	{offsetof(struct hd_sqlite_rec, list), 1,
	 "SELECT " REC_COLUMNS " FROM recordings WHERE meeting_id = ?1 ORDER BY created_at_ms DESC, id DESC LIMIT ?2"},
	// ASSEMBLING first (2 sorts before 1 descending), then idle RECORDING, least recently updated first.
	{offsetof(struct hd_sqlite_rec, resumable), 1,
	 "SELECT " REC_COLUMNS " FROM recordings WHERE state = 2 OR (state = 1 AND updated_at_ms < ?1)"
	 " ORDER BY state DESC, updated_at_ms ASC LIMIT ?2"},
	{offsetof(struct hd_sqlite_rec, meeting_bytes), 1,
	 "SELECT COALESCE(SUM(bytes), 0) FROM recordings WHERE meeting_id = ?1"},
};

#define N_REC_STMTS (sizeof(rec_stmts) / sizeof(rec_stmts[0]))

static sqlite3_stmt **rec_slot(struct hd_sqlite_rec *r, const struct rec_stmt_def *d)
{
	return (sqlite3_stmt **)(void *)((char *)r + d->offset);
}

int hd_sqlite_rec_open(struct hd_sqlite_rec **out, const struct hd_sqlite_conns *c)
{
	struct hd_sqlite_rec *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return SQLITE_NOMEM;
	r->c = *c;
	int rc = sqlite3_exec(c->w, rec_schema, NULL, NULL, NULL);
	for (size_t i = 0; i < N_REC_STMTS && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v2(rec_stmts[i].on_reader ? c->r : c->w, rec_stmts[i].sql, -1,
					rec_slot(r, &rec_stmts[i]), NULL);
	if (rc != SQLITE_OK) {
		hd_sqlite_rec_close(r);
		return rc;
	}
	*out = r;
	return SQLITE_OK;
}

void hd_sqlite_rec_close(struct hd_sqlite_rec *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < N_REC_STMTS; i++)
		sqlite3_finalize(*rec_slot(r, &rec_stmts[i]));
	free(r);
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void bind_key(sqlite3_stmt *st, const char *meeting_id, const char *id)
{
	sqlite3_bind_text(st, 1, meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
}

static void col_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t len = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
	if (len >= cap)
		len = cap - 1;
	if (len > 0)
		memcpy(dst, t, len);
	dst[len] = '\0';
}

// row_to_rec reads a row selected with REC_COLUMNS.
static void row_to_rec(sqlite3_stmt *st, struct hd_recording *r)
{
	memset(r, 0, sizeof(*r));
	col_text(r->meeting_id, sizeof(r->meeting_id), st, 0);
	col_text(r->id, sizeof(r->id), st, 1);
	r->kind = sqlite3_column_int(st, 2);
	r->state = sqlite3_column_int(st, 3);
	col_text(r->recorder_id, sizeof(r->recorder_id), st, 4);
	col_text(r->recorder_name, sizeof(r->recorder_name), st, 5);
	col_text(r->mime_type, sizeof(r->mime_type), st, 6);
	r->created_at_ms = sqlite3_column_int64(st, 7);
	r->updated_at_ms = sqlite3_column_int64(st, 8);
	r->chunks = (uint32_t)sqlite3_column_int64(st, 9);
	r->total_chunks = (uint32_t)sqlite3_column_int64(st, 10);
	r->bytes = (uint64_t)sqlite3_column_int64(st, 11);
	r->duration_ms = sqlite3_column_int64(st, 12);
	col_text(r->error, sizeof(r->error), st, 13);
}

// get_one runs get (get_w or get_r) for the key: SQLITE_ROW with *out
// filled, SQLITE_DONE when there is none, or an error code.
static int get_one(sqlite3_stmt *get, const char *meeting_id, const char *id, struct hd_recording *out)
{
	bind_key(get, meeting_id, id);
	int rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		row_to_rec(get, out);
	done(get);
	return rc;
}

// step_done runs a statement that returns no rows: SQLITE_OK or its code.
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	done(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// write_begin locks the writer and opens an IMMEDIATE transaction.
static int write_begin(struct hd_sqlite_rec *r)
{
	pthread_mutex_lock(r->c.wmtx);
	return sqlite3_exec(r->c.w, "BEGIN IMMEDIATE", NULL, NULL, NULL);
}

// write_end commits when rc is SQLITE_OK, rolls back otherwise (also when
// keep is false: a refusal or nothing to do), logs a failure, and unlocks.
// Returns HD_OK or HD_EUNAVAILABLE.
static hd_err write_end(struct hd_sqlite_rec *r, int rc, bool keep, const char *what)
{
	if (rc == SQLITE_OK && keep)
		rc = sqlite3_exec(r->c.w, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		HD_ERROR("sqlite %s: %s", what, sqlite3_errmsg(r->c.w));
	if (!sqlite3_get_autocommit(r->c.w))
		sqlite3_exec(r->c.w, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(r->c.wmtx);
	return rc == SQLITE_OK ? HD_OK : HD_EUNAVAILABLE;
}

hd_err hd_sqlite_rec_create(struct hd_store *base, struct hd_recording *rec, bool *created)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	struct hd_recording stored;
	int rc = write_begin(r);
	if (rc != SQLITE_OK)
		return write_end(r, rc, false, "recording create");
	sqlite3_stmt *st = r->insert;
	bind_key(st, rec->meeting_id, rec->id);
	sqlite3_bind_int(st, 3, rec->kind);
	sqlite3_bind_int(st, 4, rec->state);
	sqlite3_bind_text(st, 5, rec->recorder_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, rec->recorder_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, rec->mime_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, rec->created_at_ms);
	sqlite3_bind_int64(st, 9, rec->updated_at_ms);
	sqlite3_bind_int64(st, 10, 0);
	sqlite3_bind_int64(st, 11, 0);
	sqlite3_bind_int64(st, 12, 0);
	sqlite3_bind_int64(st, 13, 0);
	sqlite3_bind_text(st, 14, "", -1, SQLITE_STATIC);
	if ((rc = step_done(st)) != SQLITE_OK)
		return write_end(r, rc, false, "recording create");
	bool inserted = sqlite3_changes(r->c.w) > 0;
	if (!inserted) {
		rc = get_one(r->get_w, rec->meeting_id, rec->id, &stored);
		rc = rc == SQLITE_ROW ? SQLITE_OK : rc == SQLITE_DONE ? SQLITE_INTERNAL : rc;
	}
	hd_err err = write_end(r, rc, inserted, "recording create");
	if (err == HD_OK) {
		if (!inserted)
			*rec = stored;
		*created = inserted;
	}
	return err;
}

// contiguous counts the chunks noted from `from` on with no gap: the new
// value of chunks when chunk `from` is noted. Returns SQLITE_OK or a code.
static int contiguous(struct hd_sqlite_rec *r, const char *meeting_id, const char *id, uint32_t from, uint32_t *count)
{
	sqlite3_stmt *st = r->chunk_from;
	bind_key(st, meeting_id, id);
	sqlite3_bind_int64(st, 3, from);
	int64_t next = from;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_int64(st, 0) == next)
		next++;
	done(st);
	*count = (uint32_t)next;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

hd_err hd_sqlite_rec_chunk(struct hd_store *base, const char *meeting_id, const char *id, uint32_t index, uint64_t len,
			   int64_t at_ms, struct hd_recording *out, bool *duplicate)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	struct hd_recording rec;
	hd_err refusal = HD_OK;
	bool changed = false;
	int rc = write_begin(r);
	if (rc != SQLITE_OK)
		goto end;
	if ((rc = get_one(r->get_w, meeting_id, id, &rec)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			refusal = HD_EUNKNOWNMEETING;
			rc = SQLITE_OK;
		}
		goto end;
	}
	rc = SQLITE_OK;
	if (index < rec.chunks) {
		*duplicate = true;
		goto end;
	}
	if (rec.state != HD_REC_RECORDING) {
		sqlite3_stmt *st = r->chunk_exists;
		bind_key(st, meeting_id, id);
		sqlite3_bind_int64(st, 3, index);
		rc = sqlite3_step(st);
		done(st);
		if (rc == SQLITE_ROW)
			*duplicate = true;
		else if (rc == SQLITE_DONE)
			refusal = HD_EBADREQUEST;
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
		goto end;
	}
	sqlite3_stmt *st = r->chunk_insert;
	bind_key(st, meeting_id, id);
	sqlite3_bind_int64(st, 3, index);
	sqlite3_bind_int64(st, 4, (int64_t)len);
	if ((rc = step_done(st)) != SQLITE_OK)
		goto end;
	if (sqlite3_changes(r->c.w) == 0) {
		*duplicate = true;
		goto end;
	}
	uint32_t count = rec.chunks;
	if (index == rec.chunks && (rc = contiguous(r, meeting_id, id, index, &count)) != SQLITE_OK)
		goto end;
	st = r->count_chunk;
	bind_key(st, meeting_id, id);
	sqlite3_bind_int64(st, 3, (int64_t)len);
	sqlite3_bind_int64(st, 4, count);
	sqlite3_bind_int64(st, 5, at_ms);
	if ((rc = step_done(st)) != SQLITE_OK)
		goto end;
	changed = true;
	rc = get_one(r->get_w, meeting_id, id, &rec);
	rc = rc == SQLITE_ROW ? SQLITE_OK : rc == SQLITE_DONE ? SQLITE_INTERNAL : rc;

end:;
	hd_err err = write_end(r, rc, changed, "recording chunk");
	if (err != HD_OK) {
		*duplicate = false;
		return err;
	}
	if (refusal != HD_EUNKNOWNMEETING)
		*out = rec;
	return refusal;
}

hd_err hd_sqlite_rec_set_state(struct hd_store *base, const char *meeting_id, const char *id, int from,
			       const struct hd_rec_change *to, struct hd_recording *out, bool *changed)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	struct hd_recording rec;
	bool unknown = false, moved = false;
	int rc = write_begin(r);
	if (rc != SQLITE_OK)
		goto end;
	sqlite3_stmt *st = r->set_state;
	bind_key(st, meeting_id, id);
	sqlite3_bind_int(st, 3, to->state);
	sqlite3_bind_int64(st, 4, to->at_ms);
	sqlite3_bind_int64(st, 5, to->total_chunks);
	sqlite3_bind_int64(st, 6, (int64_t)to->bytes);
	sqlite3_bind_int64(st, 7, to->duration_ms);
	sqlite3_bind_text(st, 8, to->error, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, from);
	if ((rc = step_done(st)) != SQLITE_OK)
		goto end;
	moved = sqlite3_changes(r->c.w) > 0;
	if (moved && (to->state == HD_REC_READY || to->state == HD_REC_FAILED)) {
		st = r->chunks_drop;
		bind_key(st, meeting_id, id);
		if ((rc = step_done(st)) != SQLITE_OK)
			goto end;
	}
	rc = get_one(r->get_w, meeting_id, id, &rec);
	unknown = rc == SQLITE_DONE;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;

end:;
	hd_err err = write_end(r, rc, moved, "recording set state");
	if (err != HD_OK)
		return err;
	if (unknown)
		return HD_EUNKNOWNMEETING;
	*out = rec;
	*changed = moved;
	return HD_OK;
}

hd_err hd_sqlite_rec_get(struct hd_store *base, const char *meeting_id, const char *id, struct hd_recording *out)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	pthread_mutex_lock(r->c.rmtx);
	int rc = get_one(r->get_r, meeting_id, id, out);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		HD_ERROR("sqlite recording get: %s", sqlite3_errmsg(r->c.r));
	pthread_mutex_unlock(r->c.rmtx);
	return rc == SQLITE_ROW ? HD_OK : rc == SQLITE_DONE ? HD_EUNKNOWNMEETING : HD_EUNAVAILABLE;
}

// read_rows steps st (bound by the caller, on the reader, under rmtx) into
// out, at most max rows; returns SQLITE_OK or a code.
static int read_rows(sqlite3_stmt *st, struct hd_recording *out, size_t max, size_t *n_out)
{
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
		row_to_rec(st, &out[n++]);
	done(st);
	*n_out = n;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

hd_err hd_sqlite_rec_list(struct hd_store *base, const char *meeting_id, struct hd_recording *out, size_t *n_out)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	pthread_mutex_lock(r->c.rmtx);
	sqlite3_bind_text(r->list, 1, meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->list, 2, HD_REC_LIST_MAX);
	int rc = read_rows(r->list, out, HD_REC_LIST_MAX, n_out);
	if (rc != SQLITE_OK)
		HD_ERROR("sqlite recording list: %s", sqlite3_errmsg(r->c.r));
	pthread_mutex_unlock(r->c.rmtx);
	return rc == SQLITE_OK ? HD_OK : HD_EUNAVAILABLE;
}

hd_err hd_sqlite_rec_resumable(struct hd_store *base, int64_t idle_before_ms, struct hd_recording *out, size_t *n_out)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	pthread_mutex_lock(r->c.rmtx);
	sqlite3_bind_int64(r->resumable, 1, idle_before_ms);
	sqlite3_bind_int64(r->resumable, 2, HD_REC_RESUME_MAX);
	int rc = read_rows(r->resumable, out, HD_REC_RESUME_MAX, n_out);
	if (rc != SQLITE_OK)
		HD_ERROR("sqlite recording resumable: %s", sqlite3_errmsg(r->c.r));
	pthread_mutex_unlock(r->c.rmtx);
	return rc == SQLITE_OK ? HD_OK : HD_EUNAVAILABLE;
}

hd_err hd_sqlite_rec_delete(struct hd_store *base, const char *meeting_id, const char *id)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	bool found = false;
	int rc = write_begin(r);
	if (rc != SQLITE_OK)
		goto end;
	bind_key(r->remove, meeting_id, id);
	if ((rc = step_done(r->remove)) != SQLITE_OK)
		goto end;
	found = sqlite3_changes(r->c.w) > 0;
	bind_key(r->chunks_drop, meeting_id, id);
	rc = step_done(r->chunks_drop);

end:;
	hd_err err = write_end(r, rc, true, "recording delete");
	if (err != HD_OK)
		return err;
	return found ? HD_OK : HD_EUNKNOWNMEETING;
}

hd_err hd_sqlite_rec_meeting_bytes(struct hd_store *base, const char *meeting_id, uint64_t *bytes)
{
	struct hd_sqlite_rec *r = hd_sqlite_rec_of(base);
	pthread_mutex_lock(r->c.rmtx);
	sqlite3_stmt *st = r->meeting_bytes;
	sqlite3_bind_text(st, 1, meeting_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*bytes = (uint64_t)sqlite3_column_int64(st, 0);
	done(st);
	if (rc != SQLITE_ROW)
		HD_ERROR("sqlite recording meeting bytes: %s", sqlite3_errmsg(r->c.r));
	pthread_mutex_unlock(r->c.rmtx);
	return rc == SQLITE_ROW ? HD_OK : HD_EUNAVAILABLE;
}
