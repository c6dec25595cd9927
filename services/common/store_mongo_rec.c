// store_mongo_rec.c: recording metadata on MongoDB (store_mongo.h): the
// collections recordings (unique on meeting_id, id) and recording_chunks
// (one document per chunk noted, unique on meeting_id, recording_id, idx),
// without multi-document transactions (a standalone server has none).
//
// Noting a chunk is two writes, each w:majority, j:true: insert the chunk's
// document (the unique index makes a second note of an index a duplicate),
// then update the recording ($inc bytes, $max chunks and updated_at_ms,
// only while RECORDING). Each writer inserts before it counts, so of two
// chunks noted at once the later count sees both. A crash between the two
// writes leaves a chunk noted but not counted: the retry meets the
// duplicate and recounts the recording from its chunk documents.
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/store.h"
#include "common/store_mongo.h"

#define CREATE_ATTEMPTS 20 // finds of a duplicate's stored recording (majority may lag the insert)

// rec_conn is a client popped from the pool with the two collections.
struct rec_conn {
	mongoc_client_t *client;
	mongoc_collection_t *recs;
	mongoc_collection_t *chunks;
};

static void conn_open(struct hd_mongo_store *s, struct rec_conn *c)
{
	c->client = mongoc_client_pool_pop(s->pool);
	c->recs = mongoc_client_get_collection(c->client, s->database, HD_MONGO_COLL_RECORDINGS);
	c->chunks = mongoc_client_get_collection(c->client, s->database, HD_MONGO_COLL_RECORDING_CHUNKS);
}

static void conn_close(struct hd_mongo_store *s, struct rec_conn *c)
{
	mongoc_collection_destroy(c->chunks);
	mongoc_collection_destroy(c->recs);
	mongoc_client_pool_push(s->pool, c->client);
}

static void key_filter(bson_t *filter, const char *meeting_id, const char *id)
{
	bson_init(filter);
	BSON_APPEND_UTF8(filter, "meeting_id", meeting_id);
	BSON_APPEND_UTF8(filter, "id", id);
}

static void chunk_filter(bson_t *filter, const char *meeting_id, const char *id)
{
	bson_init(filter);
	BSON_APPEND_UTF8(filter, "meeting_id", meeting_id);
	BSON_APPEND_UTF8(filter, "recording_id", id);
}

static void doc_to_rec(const bson_t *doc, struct hd_recording *r)
{
	memset(r, 0, sizeof(*r));
	hd_mongo_copy_utf8(r->meeting_id, sizeof(r->meeting_id), doc, "meeting_id");
	hd_mongo_copy_utf8(r->id, sizeof(r->id), doc, "id");
	r->kind = (int)hd_mongo_get_int64(doc, "kind");
	r->state = (int)hd_mongo_get_int64(doc, "state");
	hd_mongo_copy_utf8(r->recorder_id, sizeof(r->recorder_id), doc, "recorder_id");
	hd_mongo_copy_utf8(r->recorder_name, sizeof(r->recorder_name), doc, "recorder_name");
	hd_mongo_copy_utf8(r->mime_type, sizeof(r->mime_type), doc, "mime_type");
	r->created_at_ms = hd_mongo_get_int64(doc, "created_at_ms");
	r->updated_at_ms = hd_mongo_get_int64(doc, "updated_at_ms");
	r->chunks = (uint32_t)hd_mongo_get_int64(doc, "chunks");
	r->total_chunks = (uint32_t)hd_mongo_get_int64(doc, "total_chunks");
	r->bytes = (uint64_t)hd_mongo_get_int64(doc, "bytes");
	r->duration_ms = hd_mongo_get_int64(doc, "duration_ms");
	hd_mongo_copy_utf8(r->error, sizeof(r->error), doc, "error");
}

// find_rec reads one recording on the primary. Returns 1 found, 0 none, -1 error.
static int find_rec(struct hd_mongo_store *s, struct rec_conn *c, const char *meeting_id, const char *id,
		    struct hd_recording *out, bson_error_t *error)
{
	bson_t filter, opts, doc;
	key_filter(&filter, meeting_id, id);
	hd_mongo_read_opts(s, &opts, true);
	int found = hd_mongo_find_one(s, c->recs, &filter, &opts, &doc, error);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found == 1) {
		doc_to_rec(&doc, out);
		bson_destroy(&doc);
	}
	return found;
}

// reply_count is the number field key of a write's reply (matchedCount, deletedCount).
static int64_t reply_count(const bson_t *reply, const char *key)
{
	return hd_mongo_get_int64(reply, key);
}

hd_err hd_mongo_rec_create(struct hd_store *base, struct hd_recording *rec, bool *created)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	bson_t doc, opts;
	bson_error_t error;
	hd_err err = HD_OK;
	key_filter(&doc, rec->meeting_id, rec->id);
	BSON_APPEND_INT32(&doc, "kind", rec->kind);
	BSON_APPEND_INT32(&doc, "state", rec->state);
	BSON_APPEND_UTF8(&doc, "recorder_id", rec->recorder_id);
	BSON_APPEND_UTF8(&doc, "recorder_name", rec->recorder_name);
	BSON_APPEND_UTF8(&doc, "mime_type", rec->mime_type);
	BSON_APPEND_INT64(&doc, "created_at_ms", rec->created_at_ms);
	BSON_APPEND_INT64(&doc, "updated_at_ms", rec->updated_at_ms);
	BSON_APPEND_INT64(&doc, "chunks", 0);
	BSON_APPEND_INT64(&doc, "total_chunks", 0);
	BSON_APPEND_INT64(&doc, "bytes", 0);
	BSON_APPEND_INT64(&doc, "duration_ms", 0);
	BSON_APPEND_UTF8(&doc, "error", "");
	hd_mongo_write_opts(s, &opts);
	conn_open(s, &c);
	if (mongoc_collection_insert_one(c.recs, &doc, &opts, NULL, &error)) {
		*created = true;
	} else if (!hd_mongo_is_duplicate_key(&error)) {
		err = HD_EUNAVAILABLE;
	} else {
		// Stored already; a majority read may not see it at once.
		struct hd_recording stored;
		int found = 0;
		for (int i = 0; i < CREATE_ATTEMPTS && found == 0; i++) {
			if ((found = find_rec(s, &c, rec->meeting_id, rec->id, &stored, &error)) == 0)
				hd_mongo_sleep_ms(10);
		}
		if (found == 1) {
			*rec = stored;
			*created = false;
		} else {
			if (found == 0)
				bson_set_error(&error, 0, 0, "a duplicate recording that cannot be read");
			err = HD_EUNAVAILABLE;
		}
	}
	conn_close(s, &c);
	bson_destroy(&opts);
	bson_destroy(&doc);
	if (err != HD_OK)
		HD_ERROR("mongodb recording create (%s): %s", s->where, error.message);
	return err;
}

// count_from reads the chunk documents of a recording with idx >= from in
// order: *count is from plus the run of contiguous indexes starting at
// from, *sum the bytes of all of them. Returns false on error.
static bool count_from(struct hd_mongo_store *s, struct rec_conn *c, const char *meeting_id, const char *id,
		       uint32_t from, uint32_t *count, uint64_t *sum, bson_error_t *error)
{
	bson_t filter, range, opts, sort, proj;
	chunk_filter(&filter, meeting_id, id);
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "idx", &range);
	BSON_APPEND_INT64(&range, "$gte", from);
	bson_append_document_end(&filter, &range);
	hd_mongo_read_opts(s, &opts, false); // our own writes, on the primary
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "idx", 1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "idx", 1);
	BSON_APPEND_INT32(&proj, "len", 1);
	BSON_APPEND_INT32(&proj, "_id", 0);
	bson_append_document_end(&opts, &proj);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->chunks, &filter, &opts, s->primary);
	const bson_t *doc;
	int64_t next = from;
	bool run = true;
	*sum = 0;
	while (mongoc_cursor_next(cur, &doc)) {
		if (run && hd_mongo_get_int64(doc, "idx") == next)
			next++;
		else
			run = false;
		*sum += (uint64_t)hd_mongo_get_int64(doc, "len");
	}
	bool ok = !mongoc_cursor_error(cur, error);
	mongoc_cursor_destroy(cur);
	bson_destroy(&opts);
	bson_destroy(&filter);
	*count = (uint32_t)next;
	return ok;
}

// chunk_noted tells whether chunk idx has its document: 1 yes, 0 no, -1 error.
static int chunk_noted(struct hd_mongo_store *s, struct rec_conn *c, const char *meeting_id, const char *id,
		       uint32_t idx, bson_error_t *error)
{
	bson_t filter, opts, doc;
	chunk_filter(&filter, meeting_id, id);
	BSON_APPEND_INT64(&filter, "idx", idx);
	hd_mongo_read_opts(s, &opts, false);
	int found = hd_mongo_find_one(s, c->chunks, &filter, &opts, &doc, error);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found == 1)
		bson_destroy(&doc);
	return found;
}

// update_rec runs update on the recording while it is in state (0: any);
// *matched tells whether it was. Returns false on error.
static bool update_rec(struct hd_mongo_store *s, struct rec_conn *c, const char *meeting_id, const char *id, int state,
		       const bson_t *update, bool *matched, bson_error_t *error)
{
	bson_t filter, opts, reply;
	key_filter(&filter, meeting_id, id);
	if (state != 0)
		BSON_APPEND_INT32(&filter, "state", state);
	hd_mongo_write_opts(s, &opts);
	bool ok = mongoc_collection_update_one(c->recs, &filter, update, &opts, &reply, error);
	*matched = ok && reply_count(&reply, "matchedCount") > 0;
	bson_destroy(&reply);
	bson_destroy(&opts);
	bson_destroy(&filter);
	return ok;
}

// recount sets a RECORDING recording's chunks and bytes from its chunk
// documents (after a crash between the two writes of a note).
static bool recount(struct hd_mongo_store *s, struct rec_conn *c, const char *meeting_id, const char *id,
		    bson_error_t *error)
{
	uint32_t count;
	uint64_t sum;
	bool matched;
	if (!count_from(s, c, meeting_id, id, 0, &count, &sum, error))
		return false;
	bson_t update, set;
	bson_init(&update);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_INT64(&set, "chunks", count);
	BSON_APPEND_INT64(&set, "bytes", (int64_t)sum);
	bson_append_document_end(&update, &set);
	bool ok = update_rec(s, c, meeting_id, id, HD_REC_RECORDING, &update, &matched, error);
	bson_destroy(&update);
	return ok;
}

// note_new inserts chunk index's document and counts it; *duplicate when it
// was noted before. Returns HD_OK, HD_EBADREQUEST when the recording left
// RECORDING meanwhile (the note is taken back), HD_EUNAVAILABLE.
static hd_err note_new(struct hd_mongo_store *s, struct rec_conn *c, const struct hd_recording *rec, uint32_t index,
		       uint64_t len, int64_t at_ms, bool *duplicate, bson_error_t *error)
{
	bson_t doc, opts;
	chunk_filter(&doc, rec->meeting_id, rec->id);
	BSON_APPEND_INT64(&doc, "idx", index);
	BSON_APPEND_INT64(&doc, "len", (int64_t)len);
	hd_mongo_write_opts(s, &opts);
	bool ok = mongoc_collection_insert_one(c->chunks, &doc, &opts, NULL, error);
	bson_destroy(&opts);
	bson_destroy(&doc);
	if (!ok) {
		if (!hd_mongo_is_duplicate_key(error))
			return HD_EUNAVAILABLE;
		*duplicate = true;
		return recount(s, c, rec->meeting_id, rec->id, error) ? HD_OK : HD_EUNAVAILABLE;
	}
	uint32_t count = rec->chunks;
	uint64_t sum;
	if (index == rec->chunks && !count_from(s, c, rec->meeting_id, rec->id, index, &count, &sum, error))
		return HD_EUNAVAILABLE;
	bson_t update, inc, max;
	bool matched;
	bson_init(&update);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$inc", &inc);
	BSON_APPEND_INT64(&inc, "bytes", (int64_t)len);
	bson_append_document_end(&update, &inc);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$max", &max);
	BSON_APPEND_INT64(&max, "chunks", count);
	BSON_APPEND_INT64(&max, "updated_at_ms", at_ms);
	bson_append_document_end(&update, &max);
	ok = update_rec(s, c, rec->meeting_id, rec->id, HD_REC_RECORDING, &update, &matched, error);
	bson_destroy(&update);
	if (!ok)
		return HD_EUNAVAILABLE;
	if (matched)
		return HD_OK;
	// Finished meanwhile: this chunk is not part of it.
	bson_t filter;
	chunk_filter(&filter, rec->meeting_id, rec->id);
	BSON_APPEND_INT64(&filter, "idx", index);
	hd_mongo_write_opts(s, &opts);
	ok = mongoc_collection_delete_one(c->chunks, &filter, &opts, NULL, error);
	bson_destroy(&opts);
	bson_destroy(&filter);
	return ok ? HD_EBADREQUEST : HD_EUNAVAILABLE;
}

hd_err hd_mongo_rec_chunk(struct hd_store *base, const char *meeting_id, const char *id, uint32_t index, uint64_t len,
			  int64_t at_ms, struct hd_recording *out, bool *duplicate)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	struct hd_recording rec = {0};
	bson_error_t error;
	hd_err err = HD_OK;
	conn_open(s, &c);
	int found = find_rec(s, &c, meeting_id, id, &rec, &error);
	if (found <= 0) {
		err = found == 0 ? HD_EUNKNOWNMEETING : HD_EUNAVAILABLE;
		goto done;
	}
	if (index < rec.chunks) {
		*duplicate = true;
		*out = rec;
		goto done;
	}
	if (rec.state != HD_REC_RECORDING) {
		int noted = chunk_noted(s, &c, meeting_id, id, index, &error);
		if (noted < 0) {
			err = HD_EUNAVAILABLE;
		} else {
			*duplicate = noted == 1;
			err = noted == 1 ? HD_OK : HD_EBADREQUEST;
			*out = rec;
		}
		goto done;
	}
	err = note_new(s, &c, &rec, index, len, at_ms, duplicate, &error);
	if (err == HD_OK || err == HD_EBADREQUEST) {
		found = find_rec(s, &c, meeting_id, id, out, &error);
		if (found <= 0) {
			if (found == 0)
				bson_set_error(&error, 0, 0, "the recording vanished");
			err = HD_EUNAVAILABLE;
		}
	}

done:
	conn_close(s, &c);
	if (err == HD_EUNAVAILABLE) {
		*duplicate = false;
		HD_ERROR("mongodb recording chunk (%s): %s", s->where, error.message);
	}
	return err;
}

hd_err hd_mongo_rec_set_state(struct hd_store *base, const char *meeting_id, const char *id, int from,
			      const struct hd_rec_change *to, struct hd_recording *out, bool *changed)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	bson_error_t error;
	bson_t update, set;
	bool moved = false, ok;
	bson_init(&update);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_INT32(&set, "state", to->state);
	BSON_APPEND_INT64(&set, "updated_at_ms", to->at_ms);
	if (to->state == HD_REC_ASSEMBLING) {
		BSON_APPEND_INT64(&set, "total_chunks", to->total_chunks);
	} else {
		BSON_APPEND_INT64(&set, "bytes", (int64_t)to->bytes);
		BSON_APPEND_INT64(&set, "duration_ms", to->duration_ms);
		BSON_APPEND_UTF8(&set, "error", to->error);
	}
	bson_append_document_end(&update, &set);
	conn_open(s, &c);
	ok = update_rec(s, &c, meeting_id, id, from, &update, &moved, &error);
	if (ok && moved && to->state != HD_REC_ASSEMBLING) {
		bson_t filter, opts;
		chunk_filter(&filter, meeting_id, id);
		hd_mongo_write_opts(s, &opts);
		ok = mongoc_collection_delete_many(c.chunks, &filter, &opts, NULL, &error);
		bson_destroy(&opts);
		bson_destroy(&filter);
	}
	int found = ok ? find_rec(s, &c, meeting_id, id, out, &error) : -1;
	conn_close(s, &c);
	bson_destroy(&update);
	if (found < 0) {
		HD_ERROR("mongodb recording set state (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	if (found == 0)
		return HD_EUNKNOWNMEETING;
	*changed = moved;
	return HD_OK;
}

hd_err hd_mongo_rec_get(struct hd_store *base, const char *meeting_id, const char *id, struct hd_recording *out)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	bson_error_t error;
	conn_open(s, &c);
	int found = find_rec(s, &c, meeting_id, id, out, &error);
	conn_close(s, &c);
	if (found < 0) {
		HD_ERROR("mongodb recording get (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	return found == 1 ? HD_OK : HD_EUNKNOWNMEETING;
}

// find_many appends the recordings filter selects, sorted by sort_a then
// sort_b (1 or -1 each; 0: none), to out[*n..max). Returns false on error.
static bool find_many(struct hd_mongo_store *s, struct rec_conn *c, const bson_t *filter, const char *key_a, int dir_a,
		      const char *key_b, int dir_b, struct hd_recording *out, size_t max, size_t *n,
		      bson_error_t *error)
{
	bson_t opts, sort;
	hd_mongo_read_opts(s, &opts, true);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, key_a, dir_a);
	if (key_b != NULL)
		BSON_APPEND_INT32(&sort, key_b, dir_b);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", (int64_t)(max - *n));
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->recs, filter, &opts, s->primary);
	const bson_t *doc;
	while (*n < max && mongoc_cursor_next(cur, &doc))
		doc_to_rec(doc, &out[(*n)++]);
	bool ok = !mongoc_cursor_error(cur, error);
	mongoc_cursor_destroy(cur);
	bson_destroy(&opts);
	return ok;
}

hd_err hd_mongo_rec_list(struct hd_store *base, const char *meeting_id, struct hd_recording *out, size_t *n_out)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	bson_error_t error;
	bson_t filter;
	size_t n = 0;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "meeting_id", meeting_id);
	conn_open(s, &c);
	bool ok = find_many(s, &c, &filter, "created_at_ms", -1, "id", -1, out, HD_REC_LIST_MAX, &n, &error);
	conn_close(s, &c);
	bson_destroy(&filter);
	if (!ok) {
		HD_ERROR("mongodb recording list (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	*n_out = n;
	return HD_OK;
}

hd_err hd_mongo_rec_resumable(struct hd_store *base, int64_t idle_before_ms, struct hd_recording *out, size_t *n_out)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	bson_error_t error;
	bson_t assembling, idle, range;
	size_t n = 0;
	bson_init(&assembling);
	BSON_APPEND_INT32(&assembling, "state", HD_REC_ASSEMBLING);
	bson_init(&idle);
	BSON_APPEND_INT32(&idle, "state", HD_REC_RECORDING);
	BSON_APPEND_DOCUMENT_BEGIN(&idle, "updated_at_ms", &range);
	BSON_APPEND_INT64(&range, "$lt", idle_before_ms);
	bson_append_document_end(&idle, &range);
	conn_open(s, &c);
	bool ok = find_many(s, &c, &assembling, "updated_at_ms", 1, NULL, 0, out, HD_REC_RESUME_MAX, &n, &error);
	if (ok && n < HD_REC_RESUME_MAX)
		ok = find_many(s, &c, &idle, "updated_at_ms", 1, NULL, 0, out, HD_REC_RESUME_MAX, &n, &error);
	conn_close(s, &c);
	bson_destroy(&idle);
	bson_destroy(&assembling);
	if (!ok) {
		HD_ERROR("mongodb recording resumable (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	*n_out = n;
	return HD_OK;
}

hd_err hd_mongo_rec_delete(struct hd_store *base, const char *meeting_id, const char *id)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	bson_error_t error;
	bson_t filter, chunks, opts, reply;
	key_filter(&filter, meeting_id, id);
	chunk_filter(&chunks, meeting_id, id);
	hd_mongo_write_opts(s, &opts);
	conn_open(s, &c);
	// The chunks first: a failure in between leaves the recording listed, and a retry finishes.
	bool ok = mongoc_collection_delete_many(c.chunks, &chunks, &opts, NULL, &error);
	bool found = false;
	if (ok) {
		ok = mongoc_collection_delete_one(c.recs, &filter, &opts, &reply, &error);
		found = ok && reply_count(&reply, "deletedCount") > 0;
		bson_destroy(&reply);
	}
	conn_close(s, &c);
	bson_destroy(&opts);
	bson_destroy(&chunks);
	bson_destroy(&filter);
	if (!ok) {
		HD_ERROR("mongodb recording delete (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	return found ? HD_OK : HD_EUNKNOWNMEETING;
}

hd_err hd_mongo_rec_meeting_bytes(struct hd_store *base, const char *meeting_id, uint64_t *bytes)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	struct rec_conn c;
	bson_error_t error;
	bson_t pipeline, stage, match, group, sum, opts;
	bson_init(&pipeline);
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, "0", &stage);
	BSON_APPEND_DOCUMENT_BEGIN(&stage, "$match", &match);
	BSON_APPEND_UTF8(&match, "meeting_id", meeting_id);
	bson_append_document_end(&stage, &match);
	bson_append_document_end(&pipeline, &stage);
	BSON_APPEND_DOCUMENT_BEGIN(&pipeline, "1", &stage);
	BSON_APPEND_DOCUMENT_BEGIN(&stage, "$group", &group);
	BSON_APPEND_NULL(&group, "_id");
	BSON_APPEND_DOCUMENT_BEGIN(&group, "bytes", &sum);
	BSON_APPEND_UTF8(&sum, "$sum", "$bytes");
	bson_append_document_end(&group, &sum);
	bson_append_document_end(&stage, &group);
	bson_append_document_end(&pipeline, &stage);
	hd_mongo_read_opts(s, &opts, false); // the primary's newest: a quota must not lag behind
	conn_open(s, &c);
	mongoc_cursor_t *cur = mongoc_collection_aggregate(c.recs, MONGOC_QUERY_NONE, &pipeline, &opts, s->primary);
	const bson_t *doc;
	*bytes = 0;
	if (mongoc_cursor_next(cur, &doc))
		*bytes = (uint64_t)hd_mongo_get_int64(doc, "bytes");
	bool ok = !mongoc_cursor_error(cur, &error);
	mongoc_cursor_destroy(cur);
	conn_close(s, &c);
	bson_destroy(&opts);
	bson_destroy(&pipeline);
	if (!ok) {
		HD_ERROR("mongodb recording meeting bytes (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	return HD_OK;
}
