// store_sqlite.c: the embedded SQLite backend of the history store (WAL,
// synchronous=FULL: a write is on disk before it is acknowledged).
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/store.h"

// sqlite_store is a connection used under a mutex: SQLite serializes writers
// anyway, and the registry's store traffic is small.
struct sqlite_store {
	struct hd_store base;
	sqlite3 *db;
	pthread_mutex_t mtx;
	sqlite3_stmt *insert_meeting;
	sqlite3_stmt *get_meeting;
};

static const char schema[] = "PRAGMA journal_mode=WAL;"
			     "PRAGMA synchronous=FULL;"
			     "CREATE TABLE IF NOT EXISTS meetings ("
			     " id TEXT PRIMARY KEY,"
			     " created_at_ms INTEGER NOT NULL,"
			     " title TEXT NOT NULL DEFAULT '');";

static void sqlite_close(struct hd_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_finalize(s->insert_meeting);
	sqlite3_finalize(s->get_meeting);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}

static hd_err sqlite_meeting_insert(struct hd_store *base, const struct hd_meeting *m)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_err err = HD_OK;
	pthread_mutex_lock(&s->mtx);
	sqlite3_stmt *st = s->insert_meeting;
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, m->created_at_ms);
	sqlite3_bind_text(st, 3, m->title, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		err = HD_EBADREQUEST;
	} else if (rc != SQLITE_DONE) {
		HD_ERROR("sqlite insert meeting: %s", sqlite3_errmsg(s->db));
		err = HD_EUNAVAILABLE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&s->mtx);
	return err;
}

static hd_err sqlite_meeting_get(struct hd_store *base, const char *id, struct hd_meeting *out)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	hd_err err;
	pthread_mutex_lock(&s->mtx);
	sqlite3_stmt *st = s->get_meeting;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		snprintf(out->id, sizeof(out->id), "%s", (const char *)sqlite3_column_text(st, 0));
		out->created_at_ms = sqlite3_column_int64(st, 1);
		const unsigned char *t = sqlite3_column_text(st, 2);
		snprintf(out->title, sizeof(out->title), "%s", t != NULL ? (const char *)t : "");
		err = HD_OK;
	} else if (rc == SQLITE_DONE) {
		err = HD_EUNKNOWNMEETING;
	} else {
		HD_ERROR("sqlite get meeting: %s", sqlite3_errmsg(s->db));
		err = HD_EUNAVAILABLE;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&s->mtx);
	return err;
}

static const struct hd_store_ops sqlite_ops = {
	.close = sqlite_close,
	.meeting_insert = sqlite_meeting_insert,
	.meeting_get = sqlite_meeting_get,
};

hd_err hd_store_sqlite_open(struct hd_store **out, const char *path)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	char *errmsg = NULL;
	if (s == NULL)
		return HD_ENOMEM;
	s->base.ops = &sqlite_ops;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, schema, NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO meetings(id, created_at_ms, title) VALUES(?, ?, ?)", -1,
			       &s->insert_meeting, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "SELECT id, created_at_ms, title FROM meetings WHERE id = ?", -1, &s->get_meeting,
			       NULL) != SQLITE_OK)
		goto fail;
	pthread_mutex_init(&s->mtx, NULL);
	*out = &s->base;
	HD_INFO("store: sqlite %s", path);
	return HD_OK;

fail:
	HD_ERROR("cannot open sqlite store %s: %s", path, errmsg != NULL ? errmsg : sqlite3_errmsg(s->db));
	sqlite3_free(errmsg);
	sqlite3_finalize(s->insert_meeting);
	sqlite3_finalize(s->get_meeting);
	sqlite3_close(s->db);
	free(s);
	return HD_EUNAVAILABLE;
}
