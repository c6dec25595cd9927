// store_mongo.c: the MongoDB backend of the history store (libmongoc 1.23):
// the pool, opening, meetings and chat; store_mongo_doc.c has the shared
// documents, store_mongo_rec.c the recordings.
//
// One mongoc_client_pool_t per store; every operation pops a client and pushes
// it back, so any thread may call in. Writes use w:majority, j:true; reads go
// to the primary, pages and meetings with readConcern majority so a reader
// never sees a write that a failover could still roll back.
//
// Chat seq: read the meeting's max seq, insert max + 1; the unique index on
// (meeting_id, seq) turns a race into a duplicate-key error and a retry, so
// seqs stay contiguous, and seq n + 1 is only ever inserted after seq n is
// (in oplog order, so majority reads see them in order). The unique index on
// (meeting_id, client_message_id) makes a retried post a duplicate.
//
// mongoc_init runs once per process on the first open, and mongoc_cleanup at
// exit (atexit), after every store is closed.
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/store.h"
#include "common/store_mongo.h"

#define DEFAULT_DATABASE "huddle"
#define DEFAULT_SERVER_SELECTION_MS 5000
// Unless STORE_URI sets socketTimeoutMS: the longest an operation waits on an
// established connection (libmongoc's own default, 300000 ms, would hold a
// writer five minutes on a server that hangs), ms.
#define DEFAULT_SOCKET_TIMEOUT_MS 10000
// Unless STORE_URI sets wTimeoutMS: the longest a w:majority write waits for
// the majority (without it, a replica set that lost its majority holds the
// write until an election ends it), ms. A write that times out fails with
// UNAVAILABLE and may have reached the primary: retries are idempotent (the
// unique client message id and update id indexes).
#define DEFAULT_WTIMEOUT_MS 10000

#define COLL_CHAT "chat_messages"

static pthread_once_t mongoc_once = PTHREAD_ONCE_INIT;

// mongo_log routes libmongoc's own log lines into ours.
static void mongo_log(mongoc_log_level_t level, const char *domain, const char *message, void *user_data)
{
	switch (level) {
	case MONGOC_LOG_LEVEL_ERROR:
	case MONGOC_LOG_LEVEL_CRITICAL:
		HD_ERROR("mongoc %s: %s", domain, message);
		break;
	case MONGOC_LOG_LEVEL_WARNING:
		HD_WARN("mongoc %s: %s", domain, message);
		break;
	case MONGOC_LOG_LEVEL_MESSAGE:
	case MONGOC_LOG_LEVEL_INFO:
		HD_DEBUG("mongoc %s: %s", domain, message);
		break;
	default: // debug, trace: too chatty for our debug level
		break;
	}
}

static void mongoc_once_init(void)
{
	mongoc_log_set_handler(mongo_log, NULL); // before init, so init's own lines come here too
	mongoc_init();
	atexit(mongoc_cleanup);
}

// hd_mongo_copy_utf8 copies the UTF-8 field key of doc into dst (cap bytes),
// truncating; "" when missing or not a string.
void hd_mongo_copy_utf8(char *dst, size_t cap, const bson_t *doc, const char *key)
{
	bson_iter_t it;
	dst[0] = '\0';
	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
		return;
	uint32_t len = 0;
	const char *s = bson_iter_utf8(&it, &len);
	size_t n = len < cap ? len : cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int64_t hd_mongo_get_int64(const bson_t *doc, const char *key)
{
	bson_iter_t it;
	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_NUMBER(&it))
		return 0;
	return bson_iter_as_int64(&it);
}

static void doc_to_msg(const bson_t *doc, struct hd_chat_message *m)
{
	memset(m, 0, sizeof(*m));
	hd_mongo_copy_utf8(m->meeting_id, sizeof(m->meeting_id), doc, "meeting_id");
	m->seq = hd_mongo_get_int64(doc, "seq");
	hd_mongo_copy_utf8(m->client_message_id, sizeof(m->client_message_id), doc, "client_message_id");
	hd_mongo_copy_utf8(m->sender_id, sizeof(m->sender_id), doc, "sender_id");
	hd_mongo_copy_utf8(m->sender_name, sizeof(m->sender_name), doc, "sender_name");
	hd_mongo_copy_utf8(m->text, sizeof(m->text), doc, "text");
	m->sent_at_ms = hd_mongo_get_int64(doc, "sent_at_ms");
}

// hd_mongo_write_opts / hd_mongo_read_opts build the options document of one operation.
void hd_mongo_write_opts(struct hd_mongo_store *s, bson_t *opts)
{
	bson_init(opts);
	mongoc_write_concern_append(s->wc, opts);
}

void hd_mongo_read_opts(struct hd_mongo_store *s, bson_t *opts, bool majority)
{
	bson_init(opts);
	if (majority)
		mongoc_read_concern_append(s->rc_maj, opts);
}

// hd_mongo_find_one runs filter with opts (limit 1 is added) on coll and
// copies the first document into *out (bson_init'ed by the caller's
// bson_destroy). Returns 1 found, 0 none, -1 error (error filled).
int hd_mongo_find_one(struct hd_mongo_store *s, mongoc_collection_t *coll, const bson_t *filter, bson_t *opts,
		      bson_t *out, bson_error_t *error)
{
	BSON_APPEND_INT64(opts, "limit", 1);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, opts, s->primary);
	const bson_t *doc;
	int found = 0;
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		found = 1;
	}
	if (mongoc_cursor_error(cur, error)) {
		if (found)
			bson_destroy(out);
		found = -1;
	}
	mongoc_cursor_destroy(cur);
	return found;
}

// max_seq reads the meeting's newest seq (0 when none) into *seq.
static bool max_seq(struct hd_mongo_store *s, mongoc_collection_t *coll, const char *meeting_id, bool majority,
		    int64_t *seq, bson_error_t *error)
{
	bson_t filter, opts, doc;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "meeting_id", meeting_id);
	hd_mongo_read_opts(s, &opts, majority);
	bson_t sort, proj;
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "seq", -1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "seq", 1);
	BSON_APPEND_INT32(&proj, "_id", 0);
	bson_append_document_end(&opts, &proj);
	int found = hd_mongo_find_one(s, coll, &filter, &opts, &doc, error);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found < 0)
		return false;
	*seq = 0;
	if (found) {
		*seq = hd_mongo_get_int64(&doc, "seq");
		bson_destroy(&doc);
	}
	return true;
}

// find_by_client_id copies the stored (meeting, client id) message into *m.
// Returns 1 found, 0 none, -1 error.
static int find_by_client_id(struct hd_mongo_store *s, mongoc_collection_t *coll, const struct hd_chat_message *key,
			     struct hd_chat_message *m, bson_error_t *error)
{
	bson_t filter, opts, doc;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "meeting_id", key->meeting_id);
	BSON_APPEND_UTF8(&filter, "client_message_id", key->client_message_id);
	hd_mongo_read_opts(s, &opts, true); // only a durable message is handed back as the stored one
	int found = hd_mongo_find_one(s, coll, &filter, &opts, &doc, error);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found == 1) {
		doc_to_msg(&doc, m);
		bson_destroy(&doc);
	}
	return found;
}

bool hd_mongo_is_duplicate_key(const bson_error_t *error)
{
	return error->code == MONGOC_ERROR_DUPLICATE_KEY;
}

void hd_mongo_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

// append_one stores or finds m. *hint is the seq this batch last stored in
// m's meeting (0: unknown), which saves the max-seq read for a run of
// messages to one meeting.
static hd_err append_one(struct hd_mongo_store *s, mongoc_collection_t *coll, struct hd_chat_message *m,
			 bool *duplicate, int64_t *hint, bson_error_t *error)
{
	for (int attempt = 0; attempt < HD_MONGO_SEQ_ATTEMPTS; attempt++) {
		int64_t seq = *hint;
		if (seq == 0 && !max_seq(s, coll, m->meeting_id, false, &seq, error))
			return HD_EUNAVAILABLE;
		bson_t doc, opts;
		bson_init(&doc);
		BSON_APPEND_UTF8(&doc, "meeting_id", m->meeting_id);
		BSON_APPEND_INT64(&doc, "seq", seq + 1);
		BSON_APPEND_UTF8(&doc, "client_message_id", m->client_message_id);
		BSON_APPEND_UTF8(&doc, "sender_id", m->sender_id);
		BSON_APPEND_UTF8(&doc, "sender_name", m->sender_name);
		BSON_APPEND_UTF8(&doc, "text", m->text);
		BSON_APPEND_INT64(&doc, "sent_at_ms", m->sent_at_ms);
		hd_mongo_write_opts(s, &opts);
		bool ok = mongoc_collection_insert_one(coll, &doc, &opts, NULL, error);
		bson_destroy(&opts);
		bson_destroy(&doc);
		if (ok) {
			m->seq = seq + 1;
			*duplicate = false;
			*hint = m->seq;
			return HD_OK;
		}
		if (!hd_mongo_is_duplicate_key(error))
			return HD_EUNAVAILABLE;
		*hint = 0;
		// Either this client id is stored (a retry) or another writer took
		// seq + 1. A stored message not yet majority-visible looks like the
		// second case; the next attempt then meets it again.
		struct hd_chat_message stored;
		int found = find_by_client_id(s, coll, m, &stored, error);
		if (found < 0)
			return HD_EUNAVAILABLE;
		if (found == 1) {
			*m = stored;
			*duplicate = true;
			return HD_OK;
		}
		if (attempt >= 3)
			hd_mongo_sleep_ms(attempt < 20 ? 1 : 10);
	}
	bson_set_error(error, 0, 0, "no free seq after %d attempts", HD_MONGO_SEQ_ATTEMPTS);
	return HD_EUNAVAILABLE;
}

// mongo_chat_append stores the batch message by message; each insert is
// acknowledged by a majority with journaling. A failure part way leaves the
// earlier messages stored: the whole batch is reported unavailable and a
// retry finds those as duplicates.
static hd_err mongo_chat_append(struct hd_store *base, struct hd_chat_message *msgs, size_t n, bool *duplicate)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, COLL_CHAT);
	bson_error_t error;
	hd_err err = HD_OK;
	int64_t hint = 0;
	for (size_t i = 0; i < n && err == HD_OK; i++) {
		if (i > 0 && strcmp(msgs[i].meeting_id, msgs[i - 1].meeting_id) != 0)
			hint = 0;
		err = append_one(s, coll, &msgs[i], &duplicate[i], &hint, &error);
	}
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	if (err != HD_OK)
		HD_ERROR("mongodb chat append of %zu messages (%s): %s", n, s->where, error.message);
	return err;
}

static hd_err mongo_chat_history(struct hd_store *base, const char *meeting_id, int64_t after_seq, int64_t before_seq,
				 uint32_t limit, struct hd_chat_message *out, size_t *n_out, bool *more,
				 int64_t *last_seq)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t filter, range, opts, sort, proj;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "meeting_id", meeting_id);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &range);
	BSON_APPEND_INT64(&range, "$gt", after_seq);
	if (before_seq > 0)
		BSON_APPEND_INT64(&range, "$lt", before_seq);
	bson_append_document_end(&filter, &range);
	hd_mongo_read_opts(s, &opts, true);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "seq", before_seq > 0 ? -1 : 1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "_id", 0);
	bson_append_document_end(&opts, &proj);
	BSON_APPEND_INT64(&opts, "limit", (int64_t)limit + 1);     // one more tells whether there is more
	BSON_APPEND_INT64(&opts, "batchSize", (int64_t)limit + 1); // the page in one round trip

	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, COLL_CHAT);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, s->primary);
	bson_error_t error;
	const bson_t *doc;
	size_t n = 0;
	bool extra = false;
	while (mongoc_cursor_next(cur, &doc)) {
		if (n == limit) {
			extra = true;
			continue;
		}
		doc_to_msg(doc, &out[n++]);
	}
	bool ok = !mongoc_cursor_error(cur, &error);
	mongoc_cursor_destroy(cur);
	// Read after the page: last_seq is at least the page's newest seq.
	int64_t last = 0;
	if (ok)
		ok = max_seq(s, coll, meeting_id, true, &last, &error);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (!ok) {
		HD_ERROR("mongodb chat history (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	*n_out = n;
	*more = extra;
	*last_seq = last;
	return HD_OK;
}

void hd_mongo_doc_to_meeting(const bson_t *doc, struct hd_meeting *m)
{
	memset(m, 0, sizeof(*m));
	hd_mongo_copy_utf8(m->id, sizeof(m->id), doc, "_id");
	m->created_at_ms = hd_mongo_get_int64(doc, "created_at_ms");
	hd_mongo_copy_utf8(m->title, sizeof(m->title), doc, "title");
	// A document from before access modes has none of these: OPEN (store.c
	// reads 0 as OPEN), no start, no host key, no space.
	m->access_mode = (int)hd_mongo_get_int64(doc, "access_mode");
	m->starts_at_ms = hd_mongo_get_int64(doc, "starts_at_ms");
	hd_mongo_copy_utf8(m->host_key_hash, sizeof(m->host_key_hash), doc, "host_key_hash");
	hd_mongo_copy_utf8(m->space_id, sizeof(m->space_id), doc, "space_id");
}

static hd_err mongo_meeting_insert(struct hd_store *base, const struct hd_meeting *m)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t doc;
	bson_init(&doc);
	BSON_APPEND_UTF8(&doc, "_id", m->id);
	BSON_APPEND_INT64(&doc, "created_at_ms", m->created_at_ms);
	BSON_APPEND_UTF8(&doc, "title", m->title);
	BSON_APPEND_INT32(&doc, "access_mode", m->access_mode);
	BSON_APPEND_INT64(&doc, "starts_at_ms", m->starts_at_ms);
	BSON_APPEND_UTF8(&doc, "host_key_hash", m->host_key_hash);
	BSON_APPEND_UTF8(&doc, "space_id", m->space_id);
	hd_err err = hd_mongo_insert_new(s, HD_MONGO_COLL_MEETINGS, &doc, "meeting");
	bson_destroy(&doc);
	return err;
}

hd_err hd_mongo_insert_new(struct hd_mongo_store *s, const char *coll_name, const bson_t *doc, const char *what)
{
	bson_t opts;
	bson_error_t error;
	hd_mongo_write_opts(s, &opts);
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, coll_name);
	bool ok = mongoc_collection_insert_one(coll, doc, &opts, NULL, &error);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	if (ok)
		return HD_OK;
	if (hd_mongo_is_duplicate_key(&error))
		return HD_EBADREQUEST;
	HD_ERROR("mongodb insert %s (%s): %s", what, s->where, error.message);
	return HD_EUNAVAILABLE;
}

static hd_err mongo_meeting_get(struct hd_store *base, const char *id, struct hd_meeting *out)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t filter, opts, doc;
	bson_error_t error;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "_id", id);
	hd_mongo_read_opts(s, &opts, true);
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_MEETINGS);
	int found = hd_mongo_find_one(s, coll, &filter, &opts, &doc, &error);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found < 0) {
		HD_ERROR("mongodb get meeting (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	if (found == 0)
		return HD_EUNKNOWNMEETING;
	hd_mongo_doc_to_meeting(&doc, out);
	bson_destroy(&doc);
	return HD_OK;
}

static void mongo_close(struct hd_store *base)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	if (s->pool != NULL)
		mongoc_client_pool_destroy(s->pool);
	mongoc_read_prefs_destroy(s->primary);
	mongoc_read_concern_destroy(s->rc_maj);
	mongoc_write_concern_destroy(s->wc);
	free(s->database);
	free(s);
}

static const struct hd_store_ops mongo_ops = {
	.close = mongo_close,
	.meeting_insert = mongo_meeting_insert,
	.meeting_get = mongo_meeting_get,
	.meeting_set_access = hd_mongo_meeting_set_access,
	.space_insert = hd_mongo_space_insert,
	.space_by_key_hash = hd_mongo_space_by_key_hash,
	.space_get = hd_mongo_space_get,
	.space_meetings = hd_mongo_space_meetings,
	.chat_append = mongo_chat_append,
	.chat_history = mongo_chat_history,
	.doc_append = hd_mongo_doc_append,
	.doc_read = hd_mongo_doc_read,
	.doc_snapshot_put = hd_mongo_doc_snapshot_put,
	.doc_snapshot_get = hd_mongo_doc_snapshot_get,
	.doc_versions = hd_mongo_doc_versions,
	.rec_create = hd_mongo_rec_create,
	.rec_chunk = hd_mongo_rec_chunk,
	.rec_set_state = hd_mongo_rec_set_state,
	.rec_get = hd_mongo_rec_get,
	.rec_list = hd_mongo_rec_list,
	.rec_delete = hd_mongo_rec_delete,
	.rec_resumable = hd_mongo_rec_resumable,
	.rec_meeting_bytes = hd_mongo_rec_meeting_bytes,
};

// describe_hosts writes the URI's hosts (never its credentials) into where.
static void describe_hosts(const mongoc_uri_t *uri, char *where, size_t cap)
{
	const char *srv = mongoc_uri_get_srv_hostname(uri);
	if (srv != NULL) {
		snprintf(where, cap, "mongodb+srv %s", srv);
		return;
	}
	size_t used = 0;
	where[0] = '\0';
	for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri); h != NULL && used < cap; h = h->next) {
		int w = snprintf(where + used, cap - used, "%s%s", used ? "," : "", h->host_and_port);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

// index_def is one index created at open (a no-op when it exists).
struct index_def {
	const char *collection;
	const char *name;
	const char *keys[4]; // ascending, NULL-terminated
	bool unique;
};

static const struct index_def indexes[] = {
	{HD_MONGO_COLL_MEETINGS, "meeting_space", {"space_id", "starts_at_ms", "created_at_ms"}, false},
	{HD_MONGO_COLL_SPACES, "space_key_hash", {"key_hash"}, true},
	{COLL_CHAT, "meeting_client_message_id", {"meeting_id", "client_message_id"}, true},
	{COLL_CHAT, "meeting_seq", {"meeting_id", "seq"}, true},
	{HD_MONGO_COLL_DOC_UPDATES, "doc_seq", {"meeting_id", "document", "seq"}, true},
	{HD_MONGO_COLL_DOC_UPDATES, "doc_client_update_id", {"meeting_id", "document", "client_update_id"}, true},
	{HD_MONGO_COLL_DOC_SNAPSHOTS, "doc_version", {"meeting_id", "document", "version"}, true},
	{HD_MONGO_COLL_RECORDINGS, "recording_key", {"meeting_id", "id"}, true},
	{HD_MONGO_COLL_RECORDINGS, "recording_state", {"state", "updated_at_ms"}, false},
	{HD_MONGO_COLL_RECORDING_CHUNKS, "recording_chunk", {"meeting_id", "recording_id", "idx"}, true},
};

static bool create_index(struct hd_mongo_store *s, mongoc_database_t *db, const struct index_def *d,
			 bson_error_t *error)
{
	bson_t cmd = BSON_INITIALIZER, list, ix, key, opts, reply;
	BSON_APPEND_UTF8(&cmd, "createIndexes", d->collection);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &list);
	BSON_APPEND_DOCUMENT_BEGIN(&list, "0", &ix);
	BSON_APPEND_DOCUMENT_BEGIN(&ix, "key", &key);
	for (const char *const *k = d->keys; *k != NULL; k++)
		BSON_APPEND_INT32(&key, *k, 1);
	bson_append_document_end(&ix, &key);
	BSON_APPEND_UTF8(&ix, "name", d->name);
	if (d->unique)
		BSON_APPEND_BOOL(&ix, "unique", true);
	bson_append_document_end(&list, &ix);
	bson_append_array_end(&cmd, &list);
	hd_mongo_write_opts(s, &opts);
	bool ok = mongoc_database_write_command_with_opts(db, &cmd, &opts, &reply, error);
	bson_destroy(&reply);
	bson_destroy(&opts);
	bson_destroy(&cmd);
	return ok;
}

// ensure_ready pings the server (waiting at most serverSelectionTimeoutMS)
// and creates the indexes.
static bool ensure_ready(struct hd_mongo_store *s, bson_error_t *error)
{
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	bson_t ping = BSON_INITIALIZER, reply;
	BSON_APPEND_INT32(&ping, "ping", 1);
	bool ok = mongoc_client_command_simple(client, "admin", &ping, NULL, &reply, error);
	bson_destroy(&reply);
	bson_destroy(&ping);
	mongoc_database_t *db = mongoc_client_get_database(client, s->database);
	for (size_t i = 0; ok && i < sizeof(indexes) / sizeof(indexes[0]); i++)
		ok = create_index(s, db, &indexes[i], error);
	mongoc_database_destroy(db);
	mongoc_client_pool_push(s->pool, client);
	return ok;
}

hd_err hd_store_mongo_open(struct hd_store **out, const char *uri_string)
{
	bson_error_t error;
	*out = NULL;
	pthread_once(&mongoc_once, mongoc_once_init);
	mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_string, &error);
	if (uri == NULL) {
		// The message names the problem, not the URI (it may hold a password).
		HD_ERROR("STORE_URI is not a valid MongoDB connection string: %s", error.message);
		return HD_EBADREQUEST;
	}
	struct hd_mongo_store *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		mongoc_uri_destroy(uri);
		return HD_ENOMEM;
	}
	s->base.ops = &mongo_ops;
	describe_hosts(uri, s->where, sizeof(s->where));
	const char *db = mongoc_uri_get_database(uri);
	s->database = strdup(db != NULL && db[0] != '\0' ? db : DEFAULT_DATABASE);
	s->wc = mongoc_write_concern_new();
	mongoc_write_concern_set_w(s->wc, MONGOC_WRITE_CONCERN_W_MAJORITY);
	mongoc_write_concern_set_journal(s->wc, true);
	s->rc_maj = mongoc_read_concern_new();
	mongoc_read_concern_set_level(s->rc_maj, MONGOC_READ_CONCERN_LEVEL_MAJORITY);
	s->primary = mongoc_read_prefs_new(MONGOC_READ_PRIMARY);
	if (s->database == NULL) {
		mongoc_uri_destroy(uri);
		mongo_close(&s->base);
		return HD_ENOMEM;
	}
	if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, DEFAULT_SERVER_SELECTION_MS);
	if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, DEFAULT_SOCKET_TIMEOUT_MS);
	// The store's write concern replaces the URI's, so its wTimeoutMS is read here.
	mongoc_write_concern_set_wtimeout_int64(
		s->wc, mongoc_uri_get_option_as_int32(uri, MONGOC_URI_WTIMEOUTMS, DEFAULT_WTIMEOUT_MS));
	int32_t wait_ms =
		mongoc_uri_get_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, DEFAULT_SERVER_SELECTION_MS);
	mongoc_uri_set_write_concern(uri, s->wc);
	s->pool = mongoc_client_pool_new_with_error(uri, &error);
	mongoc_uri_destroy(uri);
	if (s->pool == NULL) {
		HD_ERROR("cannot open MongoDB store at %s: %s", s->where, error.message);
		mongo_close(&s->base);
		return HD_EUNAVAILABLE;
	}
	mongoc_client_pool_set_error_api(s->pool, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_pool_set_appname(s->pool, "huddle");
	if (!ensure_ready(s, &error)) {
		HD_ERROR("cannot reach MongoDB at %s (waited up to %d ms, serverSelectionTimeoutMS): %s", s->where,
			 (int)wait_ms, error.message);
		mongo_close(&s->base);
		return HD_EUNAVAILABLE;
	}
	*out = &s->base;
	HD_INFO("store: mongodb %s, database %s", s->where, s->database);
	return HD_OK;
}
