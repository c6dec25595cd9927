// store_mongo_access.c: the MongoDB backend's part of hosts and access:
// a meeting's access mode (a field of its meetings document) and spaces
// (collection "spaces", _id = space id, unique index on key_hash, created at
// open by store_mongo.c). Writes w:majority, j:true; reads majority on the
// primary, like the meetings.
#include <mongoc/mongoc.h>
#include <string.h>

#include "common/log.h"
#include "common/store.h"
#include "common/store_mongo.h"

hd_err hd_mongo_meeting_set_access(struct hd_store *base, const char *id, int access_mode)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t filter, update, set, opts, reply;
	bson_error_t error;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "_id", id);
	bson_init(&update);
	BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
	BSON_APPEND_INT32(&set, "access_mode", access_mode);
	bson_append_document_end(&update, &set);
	hd_mongo_write_opts(s, &opts);
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_MEETINGS);
	bool ok = mongoc_collection_update_one(coll, &filter, &update, &opts, &reply, &error);
	int64_t matched = ok ? hd_mongo_get_int64(&reply, "matchedCount") : 0;
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&reply);
	bson_destroy(&opts);
	bson_destroy(&update);
	bson_destroy(&filter);
	if (!ok) {
		HD_ERROR("mongodb set meeting access (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	return matched > 0 ? HD_OK : HD_EUNKNOWNMEETING;
}

hd_err hd_mongo_space_insert(struct hd_store *base, const struct hd_space *sp)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t doc;
	bson_init(&doc);
	BSON_APPEND_UTF8(&doc, "_id", sp->id);
	BSON_APPEND_INT64(&doc, "created_at_ms", sp->created_at_ms);
	BSON_APPEND_UTF8(&doc, "title", sp->title);
	BSON_APPEND_UTF8(&doc, "key_hash", sp->key_hash);
	// HD_EBADREQUEST: the id or the key hash exists.
	hd_err err = hd_mongo_insert_new(s, HD_MONGO_COLL_SPACES, &doc, "space");
	bson_destroy(&doc);
	return err;
}

// space_find copies the space whose field `key` is value into *out.
static hd_err space_find(struct hd_mongo_store *s, const char *key, const char *value, struct hd_space *out)
{
	bson_t filter, opts, doc;
	bson_error_t error;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, key, value);
	hd_mongo_read_opts(s, &opts, true);
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_SPACES);
	int found = hd_mongo_find_one(s, coll, &filter, &opts, &doc, &error);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (found < 0) {
		HD_ERROR("mongodb find space (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	if (found == 0)
		return HD_EFORBIDDEN;
	memset(out, 0, sizeof(*out));
	hd_mongo_copy_utf8(out->id, sizeof(out->id), &doc, "_id");
	out->created_at_ms = hd_mongo_get_int64(&doc, "created_at_ms");
	hd_mongo_copy_utf8(out->title, sizeof(out->title), &doc, "title");
	hd_mongo_copy_utf8(out->key_hash, sizeof(out->key_hash), &doc, "key_hash");
	bson_destroy(&doc);
	return HD_OK;
}

hd_err hd_mongo_space_by_key_hash(struct hd_store *base, const char *key_hash, struct hd_space *out)
{
	return space_find((struct hd_mongo_store *)base, "key_hash", key_hash, out);
}

hd_err hd_mongo_space_get(struct hd_store *base, const char *id, struct hd_space *out)
{
	return space_find((struct hd_mongo_store *)base, "_id", id, out);
}

hd_err hd_mongo_space_meetings(struct hd_store *base, const char *space_id, struct hd_meeting *out, size_t *n_out)
{
	struct hd_mongo_store *s = (struct hd_mongo_store *)base;
	bson_t filter, opts, sort;
	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "space_id", space_id);
	hd_mongo_read_opts(s, &opts, true);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "starts_at_ms", 1);
	BSON_APPEND_INT32(&sort, "created_at_ms", 1);
	BSON_APPEND_INT32(&sort, "_id", 1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", HD_SPACE_MEETINGS_MAX);
	BSON_APPEND_INT64(&opts, "batchSize", HD_SPACE_MEETINGS_MAX);
	mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
	mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, HD_MONGO_COLL_MEETINGS);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, s->primary);
	const bson_t *doc;
	size_t n = 0;
	while (n < HD_SPACE_MEETINGS_MAX && mongoc_cursor_next(cur, &doc))
		hd_mongo_doc_to_meeting(doc, &out[n++]);
	bson_error_t error;
	bool ok = !mongoc_cursor_error(cur, &error);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	mongoc_client_pool_push(s->pool, client);
	bson_destroy(&opts);
	bson_destroy(&filter);
	if (!ok) {
		HD_ERROR("mongodb space meetings (%s): %s", s->where, error.message);
		return HD_EUNAVAILABLE;
	}
	*n_out = n;
	return HD_OK;
}
