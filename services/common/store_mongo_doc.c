// store_mongo_doc.c: the shared documents on MongoDB (store_mongo.h): the
// collections doc_updates and doc_snapshots, without multi-document
// transactions (a standalone server has none).
//
// Seq, as chat's: read the document's max seq, insert max + 1; the unique
// index on (meeting_id, document, seq) turns a race into a duplicate-key
// error and a retry, so seqs have no gaps, and a write that a failover rolls
// back frees its seq again. (A counter bumped with findAndModify $inc would
// leave a gap for every insert that fails after the bump, and for two
// appends of one client id racing each other.)
//
// A snapshot drops the updates it covers, but max(seq) must not go down, or
// a seq would be handed out twice. So the update at the snapshot's own seq is
// kept as a marker: covered: true, no data, client_update_id "~<seq>" (not a
// client id: '~' is outside [A-Za-z0-9_-], so the real id is new again and
// markers never collide on the unique index). A snapshot only deletes seq <
// its seq, which the document's newest update never is, so max(seq) counts
// every seq ever handed out. Reads skip markers.
//
// Storing a snapshot is several writes, each w:majority, j:true: insert the
// snapshot (its version = newest + 1, unique per document, retried like a
// seq), then tidy: mark the covered update, delete the older ones, delete
// versions beyond HD_DOC_VERSIONS_KEPT. Tidying is idempotent and runs again
// on every later put, stored or stale, so an interrupted one is finished by
// the next; meanwhile doc_read never returns what the newest snapshot
// covers, so readers see what they would have seen.
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/store.h"
#include "common/store_mongo.h"

#define MARKER_PREFIX "~"

// key_filter initialises filter to select one (meeting, document).
static void key_filter(bson_t *filter, const char *meeting_id, const char *document)
{
	bson_init(filter);
	BSON_APPEND_UTF8(filter, "meeting_id", meeting_id);
	BSON_APPEND_UTF8(filter, "document", document);
}

static void append_sort(bson_t *opts, const char *field, int dir)
{
	bson_t sort;
	BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, field, dir);
	bson_append_document_end(opts, &sort);
}

// append_projection leaves out _id and, when without_blobs, a snapshot's
// state and text.
static void append_projection(bson_t *opts, bool without_blobs)
{
	bson_t proj;
	BSON_APPEND_DOCUMENT_BEGIN(opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "_id", 0);
	if (without_blobs) {
		BSON_APPEND_INT32(&proj, "state", 0);
		BSON_APPEND_INT32(&proj, "text", 0);
	}
	bson_append_document_end(opts, &proj);
}

// get_binary points *data at the binary field key of doc (len bytes).
static bool get_binary(const bson_t *doc, const char *key, const uint8_t **data, uint32_t *len)
{
	bson_iter_t it;
	bson_subtype_t subtype;
	if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_BINARY(&it))
		return false;
	bson_iter_binary(&it, &subtype, len, data);
	return true;
}

static void doc_to_version(const bson_t *doc, struct hd_doc_version *v)
{
	memset(v, 0, sizeof(*v));
	v->version = hd_mongo_get_int64(doc, "version");
	v->seq = hd_mongo_get_int64(doc, "seq");
	v->created_at_ms = hd_mongo_get_int64(doc, "created_at_ms");
	hd_mongo_copy_utf8(v->author_name, sizeof(v->author_name), doc, "author_name");
	hd_mongo_copy_utf8(v->language, sizeof(v->language), doc, "language");
	v->text_len = (size_t)hd_mongo_get_int64(doc, "text_len");
}

// update_fields copies an update's fields except its data.
static void update_fields(const bson_t *doc, struct hd_doc_update *u)
{
	hd_mongo_copy_utf8(u->meeting_id, sizeof(u->meeting_id), doc, "meeting_id");
	hd_mongo_copy_utf8(u->document, sizeof(u->document), doc, "document");
	u->seq = hd_mongo_get_int64(doc, "seq");
	hd_mongo_copy_utf8(u->client_update_id, sizeof(u->client_update_id), doc, "client_update_id");
	hd_mongo_copy_utf8(u->author_id, sizeof(u->author_id), doc, "author_id");
	hd_mongo_copy_utf8(u->author_name, sizeof(u->author_name), doc, "author_name");
	u->stored_at_ms = hd_mongo_get_int64(doc, "stored_at_ms");
}

// max_seq reads the document's newest seq, markers included (0 when none).
static bool max_seq(struct hd_mongo_store *s, mongoc_collection_t *coll, const char *meeting_id, const char *document,
		    bool majority, int64_t *seq, bson_error_t *error)
{
	bson_t filter, opts, doc, proj;
	key_filter(&filter, meeting_id, document);
	hd_mongo_read_opts(s, &opts, majority);
	append_sort(&opts, "seq", -1);
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

// find_by_client_id copies the stored update's seq, time and author into u
// (data and len stay the caller's). Returns 1 found, 0 none, -1 error.
static int find_by_client_id(struct hd_mongo_store *s, mongoc_collection_t *coll, struct hd_doc_update *u,
			     bson_error_t *error)
{
	bson_t filter, opts, proj, doc;
	key_filter(&filter, u->meeting_id, u->document);
	BSON_APPEND_UTF8(&filter, "client_update_id", u->client_update_id);
	hd_mongo_read_opts(s, &opts, true); // only a durable update is handed back as the stored one
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "data", 0);
	bson_append_document_end(&opts, &proj);
	int found = hd_mongo_find_one(s, coll, &filter, &opts, &doc, error);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found == 1) {
		struct hd_doc_update stored = *u;
		update_fields(&doc, &stored);
		u->seq = stored.seq;
		u->stored_at_ms = stored.stored_at_ms;
		memcpy(u->author_id, stored.author_id, sizeof(u->author_id));
		memcpy(u->author_name, stored.author_name, sizeof(u->author_name));
		bson_destroy(&doc);
	}
	return found;
}

// append_one stores or finds u. *hint is the seq this batch last stored in
// u's document (0: unknown), which saves the max-seq read for a run of
// updates to one document.
static hd_err append_one(struct hd_mongo_store *s, mongoc_collection_t *coll, struct hd_doc_update *u, bool *duplicate,
			 int64_t *hint, bson_error_t *error)
{
	for (int attempt = 0; attempt < HD_MONGO_SEQ_ATTEMPTS; attempt++) {
		int64_t seq = *hint;
		if (seq == 0 && !max_seq(s, coll, u->meeting_id, u->document, false, &seq, error))
			return HD_EUNAVAILABLE;
		bson_t doc, opts;
		key_filter(&doc, u->meeting_id, u->document);
		BSON_APPEND_INT64(&doc, "seq", seq + 1);
		BSON_APPEND_UTF8(&doc, "client_update_id", u->client_update_id);
		BSON_APPEND_UTF8(&doc, "author_id", u->author_id);
		BSON_APPEND_UTF8(&doc, "author_name", u->author_name);
		BSON_APPEND_INT64(&doc, "stored_at_ms", u->stored_at_ms);
		BSON_APPEND_BINARY(&doc, "data", BSON_SUBTYPE_BINARY, u->data, (uint32_t)u->len);
		hd_mongo_write_opts(s, &opts);
		bool ok = mongoc_collection_insert_one(coll, &doc, &opts, NULL, error);
		bson_destroy(&opts);
		bson_destroy(&doc);
		if (ok) {
			u->seq = seq + 1;
			*duplicate = false;
			*hint = u->seq;
			return HD_OK;
		}
		if (!hd_mongo_is_duplicate_key(error))
			return HD_EUNAVAILABLE;
		*hint = 0;
		// Either this client id is stored (a retry) or another writer took
		// seq + 1. A stored update not yet majority-visible looks like the
		// second case; the next attempt then meets it again.
		int found = find_by_client_id(s, coll, u, error);
		if (found < 0)
			return HD_EUNAVAILABLE;
		if (found == 1) {
			*duplicate = true;
			return HD_OK;
		}
		if (attempt >= 3)
			hd_mongo_sleep_ms(attempt < 20 ? 1 : 10);
	}
	bson_set_error(error, 0, 0, "no free seq after %d attempts", HD_MONGO_SEQ_ATTEMPTS);
	return HD_EUNAVAILABLE;
}

// hd_mongo_doc_append stores the batch update by update, each acknowledged by
// a majority with journaling. A failure part way leaves the earlier updates
// stored: the whole batch is reported unavailable and a retry finds those as
// duplicates.
hd_err hd_mongo_doc_append(struct hd_store *base, struct hd_doc_update *u, size_t n, bool *duplicate)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_DOC_UPDATES);
	bson_error_t error;
	hd_err err = HD_OK;
	int64_t hint = 0;
	for (size_t i = 0; i < n && err == HD_OK; i++) {
		if (i > 0 && (strcmp(u[i].meeting_id, u[i - 1].meeting_id) != 0 ||
			      strcmp(u[i].document, u[i - 1].document) != 0))
			hint = 0;
		err = append_one(s, coll, &u[i], &duplicate[i], &hint, &error);
	}
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	if (err != HD_OK)
		HD_ERROR("mongodb doc append of %zu updates (%s): %s", n, s->where, error.message);
	return err;
}

// newest_version reads the newest snapshot's description (on the primary;
// with readConcern majority when majority is set). Returns 1 found, 0 none,
// -1 error.
static int newest_version(struct hd_mongo_store *s, mongoc_collection_t *snaps, const char *meeting_id,
			  const char *document, bool majority, struct hd_doc_version *v, bson_error_t *error)
{
	bson_t filter, opts, doc;
	key_filter(&filter, meeting_id, document);
	hd_mongo_read_opts(s, &opts, majority);
	append_sort(&opts, "version", -1);
	append_projection(&opts, true);
	int found = hd_mongo_find_one(s, snaps, &filter, &opts, &doc, error);
	bson_destroy(&opts);
	bson_destroy(&filter);
	memset(v, 0, sizeof(*v));
	if (found == 1) {
		doc_to_version(&doc, v);
		bson_destroy(&doc);
	}
	return found;
}

// trim_gap: updates only go missing from the middle of a page when a
// snapshot stored after the read began dropped them while the page was
// read. Everything before such a gap is covered, so the page keeps what
// follows the last one. Returns the new count.
static size_t trim_gap(struct hd_doc_update *out, size_t n)
{
	size_t from = 0;
	for (size_t i = 1; i < n; i++)
		if (out[i].seq != out[i - 1].seq + 1)
			from = i;
	if (from == 0)
		return n;
	hd_doc_updates_free(out, from);
	memmove(out, out + from, (n - from) * sizeof(*out));
	return n - from;
}

// hd_mongo_doc_read starts the page after the newest snapshot at the
// earliest: updates it covers are dropped, or about to be, or left by an
// interrupted tidy, and a page holding them could end below last_seq with
// nothing to tell the reader that the rest is in the snapshot.
hd_err hd_mongo_doc_read(struct hd_store *base, const char *meeting_id, const char *document, int64_t after_seq,
			 uint32_t limit, struct hd_doc_update *out, size_t *n_out, bool *more, int64_t *last_seq)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *snaps = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_DOC_SNAPSHOTS);
	bson_error_t error;
	struct hd_doc_version newest;
	int found = newest_version(s, snaps, meeting_id, document, true, &newest, &error);
	mongoc_collection_destroy(snaps);
	if (found < 0) {
		mongoc_client_pool_push(s->pool, client);
		HD_ERROR("mongodb doc read (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}

	bson_t filter, range, uncovered, opts;
	key_filter(&filter, meeting_id, document);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &range);
	BSON_APPEND_INT64(&range, "$gt", after_seq > newest.seq ? after_seq : newest.seq);
	bson_append_document_end(&filter, &range);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "covered", &uncovered);
	BSON_APPEND_BOOL(&uncovered, "$ne", true);
	bson_append_document_end(&filter, &uncovered);
	hd_mongo_read_opts(s, &opts, true);
	append_sort(&opts, "seq", 1);
	append_projection(&opts, false);
	BSON_APPEND_INT64(&opts, "limit", (int64_t)limit + 1);     // one more tells whether there is more
	BSON_APPEND_INT64(&opts, "batchSize", (int64_t)limit + 1); // as few round trips as 16 MiB batches allow

	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_DOC_UPDATES);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, s->primary);
	const bson_t *doc;
	size_t n = 0;
	bool extra = false, nomem = false;
	while (!nomem && mongoc_cursor_next(cur, &doc)) {
		if (n == limit) {
			extra = true;
			continue;
		}
		struct hd_doc_update *u = &out[n];
		const uint8_t *data = NULL;
		uint32_t len = 0;
		memset(u, 0, sizeof(*u));
		update_fields(doc, u);
		get_binary(doc, "data", &data, &len);
		u->data = malloc(len > 0 ? len : 1);
		if (u->data == NULL) {
			nomem = true;
			break;
		}
		if (len > 0)
			memcpy(u->data, data, len);
		u->len = len;
		n++;
	}
	bool ok = nomem || !mongoc_cursor_error(cur, &error);
	mongoc_cursor_destroy(cur);
	// Read after the page: last_seq is at least the page's newest seq.
	int64_t last = 0;
	if (ok && !nomem)
		ok = max_seq(s, coll, meeting_id, document, true, &last, &error);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (!ok || nomem) {
		hd_doc_updates_free(out, n);
		if (nomem) {
			HD_ERROR("mongodb doc read: out of memory");
			return HD_ENOMEM;
		}
		HD_ERROR("mongodb doc read (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	*n_out = trim_gap(out, n);
	*more = extra;
	*last_seq = last;
	return HD_OK;
}

// insert_snapshot inserts snap as version; false with error on failure.
static bool insert_snapshot(struct hd_mongo_store *s, mongoc_collection_t *snaps, const struct hd_doc_snapshot *snap,
			    int64_t version, bson_error_t *error)
{
	const struct hd_doc_version *v = &snap->version;
	bson_t doc, opts;
	key_filter(&doc, snap->meeting_id, snap->document);
	BSON_APPEND_INT64(&doc, "version", version);
	BSON_APPEND_INT64(&doc, "seq", v->seq);
	BSON_APPEND_INT64(&doc, "created_at_ms", v->created_at_ms);
	BSON_APPEND_UTF8(&doc, "author_name", v->author_name);
	BSON_APPEND_UTF8(&doc, "language", v->language);
	BSON_APPEND_INT64(&doc, "text_len", (int64_t)v->text_len);
	BSON_APPEND_BINARY(&doc, "state", BSON_SUBTYPE_BINARY, snap->state, (uint32_t)snap->state_len);
	bson_append_utf8(&doc, "text", 4, v->text_len > 0 ? snap->text : "", (int)v->text_len);
	hd_mongo_write_opts(s, &opts);
	bool ok = mongoc_collection_insert_one(snaps, &doc, &opts, NULL, error);
	bson_destroy(&opts);
	bson_destroy(&doc);
	return ok;
}

// tidy finishes a stored snapshot at seq: marks the update at seq (see the
// top), deletes the updates before it and the versions beyond
// HD_DOC_VERSIONS_KEPT. Each step is idempotent.
static bool tidy(struct hd_mongo_store *s, mongoc_collection_t *updates, mongoc_collection_t *snaps,
		 const char *meeting_id, const char *document, int64_t seq, bson_error_t *error)
{
	bson_t filter, change, set, unset, range, opts, doc;
	char marker[32];
	snprintf(marker, sizeof(marker), MARKER_PREFIX "%lld", (long long)seq);
	key_filter(&filter, meeting_id, document);
	BSON_APPEND_INT64(&filter, "seq", seq);
	bson_init(&change);
	BSON_APPEND_DOCUMENT_BEGIN(&change, "$set", &set);
	BSON_APPEND_BOOL(&set, "covered", true);
	BSON_APPEND_UTF8(&set, "client_update_id", marker);
	bson_append_document_end(&change, &set);
	BSON_APPEND_DOCUMENT_BEGIN(&change, "$unset", &unset);
	BSON_APPEND_UTF8(&unset, "data", "");
	bson_append_document_end(&change, &unset);
	hd_mongo_write_opts(s, &opts);
	bool ok = mongoc_collection_update_one(updates, &filter, &change, &opts, NULL, error);
	bson_destroy(&change);
	bson_destroy(&filter);

	if (ok) {
		key_filter(&filter, meeting_id, document);
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &range);
		BSON_APPEND_INT64(&range, "$lt", seq);
		bson_append_document_end(&filter, &range);
		ok = mongoc_collection_delete_many(updates, &filter, &opts, NULL, error);
		bson_destroy(&filter);
	}
	bson_destroy(&opts);

	// The oldest version kept is the HD_DOC_VERSIONS_KEPT-th newest.
	int found = 0;
	if (ok) {
		key_filter(&filter, meeting_id, document);
		hd_mongo_read_opts(s, &opts, false);
		append_sort(&opts, "version", -1);
		BSON_APPEND_INT64(&opts, "skip", HD_DOC_VERSIONS_KEPT - 1);
		append_projection(&opts, true);
		found = hd_mongo_find_one(s, snaps, &filter, &opts, &doc, error);
		bson_destroy(&opts);
		bson_destroy(&filter);
		ok = found >= 0;
	}
	if (found == 1) {
		int64_t oldest = hd_mongo_get_int64(&doc, "version");
		bson_destroy(&doc);
		key_filter(&filter, meeting_id, document);
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "version", &range);
		BSON_APPEND_INT64(&range, "$lt", oldest);
		bson_append_document_end(&filter, &range);
		hd_mongo_write_opts(s, &opts);
		ok = mongoc_collection_delete_many(snaps, &filter, &opts, NULL, error);
		bson_destroy(&opts);
		bson_destroy(&filter);
	}
	return ok;
}

hd_err hd_mongo_doc_snapshot_put(struct hd_store *base, struct hd_doc_snapshot *snap, bool *stored)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct hd_doc_version *v = &snap->version;
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *updates = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_DOC_UPDATES);
	mongoc_collection_t *snaps = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_DOC_SNAPSHOTS);
	bson_error_t error;
	hd_err err = HD_EUNAVAILABLE;
	struct hd_doc_version newest;
	int64_t last;
	if (!max_seq(s, updates, snap->meeting_id, snap->document, false, &last, &error))
		goto done;
	if (v->seq > last) {
		err = HD_EBADREQUEST;
		goto done;
	}
	int attempt;
	for (attempt = 0; attempt < HD_MONGO_SEQ_ATTEMPTS; attempt++) {
		// a local read: it decides a write
		int found = newest_version(s, snaps, snap->meeting_id, snap->document, false, &newest, &error);
		if (found < 0)
			break;
		if (found == 1 && v->seq <= newest.seq) { // adds nothing; finish the newest's tidy
			if (!tidy(s, updates, snaps, snap->meeting_id, snap->document, newest.seq, &error))
				HD_WARN("mongodb doc snapshot tidy (%s): %s", s->where, error.message);
			*v = newest;
			*stored = false;
			err = HD_OK;
			break;
		}
		if (insert_snapshot(s, snaps, snap, newest.version + 1, &error)) {
			v->version = newest.version + 1;
			*stored = true;
			err = HD_OK;
			// Stored and durable: a failed tidy is finished by the next put.
			if (!tidy(s, updates, snaps, snap->meeting_id, snap->document, v->seq, &error))
				HD_WARN("mongodb doc snapshot tidy (%s): %s", s->where, error.message);
			break;
		}
		if (!hd_mongo_is_duplicate_key(&error))
			break;
		// another writer stored this version: look again
		if (attempt >= 3)
			hd_mongo_sleep_ms(attempt < 20 ? 1 : 10);
	}
	if (attempt == HD_MONGO_SEQ_ATTEMPTS)
		bson_set_error(&error, 0, 0, "no free version after %d attempts", HD_MONGO_SEQ_ATTEMPTS);

done:
	mongoc_collection_destroy(snaps);
	mongoc_collection_destroy(updates);
	mongoc_client_pool_push(s->pool, client);
	if (err == HD_EUNAVAILABLE)
		HD_ERROR("mongodb doc snapshot put (%s): %s", s->where, error.message);
	return err;
}

hd_err hd_mongo_doc_snapshot_get(struct hd_store *base, const char *meeting_id, const char *document, int64_t version,
				 struct hd_doc_snapshot *out)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t filter, opts, doc;
	bson_error_t error;
	key_filter(&filter, meeting_id, document);
	if (version > 0)
		BSON_APPEND_INT64(&filter, "version", version);
	hd_mongo_read_opts(s, &opts, true);
	append_sort(&opts, "version", -1);
	append_projection(&opts, false);
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *snaps = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_DOC_SNAPSHOTS);
	int found = hd_mongo_find_one(s, snaps, &filter, &opts, &doc, &error);
	mongoc_collection_destroy(snaps);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found < 0) {
		HD_ERROR("mongodb doc snapshot get (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	snprintf(out->meeting_id, sizeof(out->meeting_id), "%s", meeting_id);
	snprintf(out->document, sizeof(out->document), "%s", document);
	if (found == 0) // none yet is an answer for "the newest"; a version not kept is not
		return version == 0 ? HD_OK : HD_EBADREQUEST;

	hd_err err = HD_OK;
	const uint8_t *state = NULL;
	uint32_t state_len = 0, text_len = 0;
	const char *text = "";
	bson_iter_t it;
	get_binary(&doc, "state", &state, &state_len);
	if (bson_iter_init_find(&it, &doc, "text") && BSON_ITER_HOLDS_UTF8(&it))
		text = bson_iter_utf8(&it, &text_len);
	doc_to_version(&doc, &out->version);
	out->state = malloc(state_len > 0 ? state_len : 1);
	out->text = malloc((size_t)text_len + 1);
	if (out->state == NULL || out->text == NULL) {
		HD_ERROR("mongodb doc snapshot get: out of memory");
		hd_doc_snapshot_fini(out);
		err = HD_ENOMEM;
	} else {
		if (state_len > 0)
			memcpy(out->state, state, state_len);
		out->state_len = state_len;
		memcpy(out->text, text, text_len);
		out->text[text_len] = '\0';
		out->version.text_len = text_len;
	}
	bson_destroy(&doc);
	return err;
}

hd_err hd_mongo_doc_versions(struct hd_store *base, const char *meeting_id, const char *document,
			     struct hd_doc_version *out, size_t *n_out)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t filter, opts;
	key_filter(&filter, meeting_id, document);
	hd_mongo_read_opts(s, &opts, true);
	append_sort(&opts, "version", -1);
	append_projection(&opts, true);
	BSON_APPEND_INT64(&opts, "limit", HD_DOC_VERSIONS_KEPT);
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *snaps = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_DOC_SNAPSHOTS);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(snaps, &filter, &opts, s->primary);
	bson_error_t error;
	const bson_t *doc;
	size_t n = 0;
	while (n < HD_DOC_VERSIONS_KEPT && mongoc_cursor_next(cur, &doc))
		doc_to_version(doc, &out[n++]);
	bool ok = !mongoc_cursor_error(cur, &error);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(snaps);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (!ok) {
		HD_ERROR("mongodb doc versions (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	*n_out = n;
	return HD_OK;
}
