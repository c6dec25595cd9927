// store_mongo.h: what the MongoDB backend's files share inside libhuddle:
// store_mongo.c (the pool, opening, meetings, chat), store_mongo_access.c
// (access modes, spaces), store_mongo_doc.c (the shared documents) and
// store_mongo_rec.c (the recordings). Not an interface for daemons:
// they see store.h only.
#ifndef HD_STORE_MONGO_H
#define HD_STORE_MONGO_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/store.h"

#define HD_MONGO_SEQ_ATTEMPTS 100 // per message or update, before a write fails as unavailable

#define HD_MONGO_COLL_MEETINGS "meetings"
#define HD_MONGO_COLL_SPACES "spaces"
#define HD_MONGO_COLL_DOC_UPDATES "doc_updates"
#define HD_MONGO_COLL_DOC_SNAPSHOTS "doc_snapshots"
#define HD_MONGO_COLL_RECORDINGS "recordings"
#define HD_MONGO_COLL_RECORDING_CHUNKS "recording_chunks"

// hd_mongo_store is the pool and the names every operation needs.
struct hd_mongo_store {
	struct hd_store base;
	mongoc_client_pool_t *pool;
	char *database;
	char where[256];               // hosts, for log lines (no credentials)
	mongoc_write_concern_t *wc;    // w:majority, j:true
	mongoc_read_concern_t *rc_maj; // majority
	mongoc_read_prefs_t *primary;  // reads that decide writes go to the primary
};

// hd_mongo_copy_utf8 copies the UTF-8 field key of doc into dst (cap
// bytes), truncating; "" when missing or not a string.
void hd_mongo_copy_utf8(char *dst, size_t cap, const bson_t *doc, const char *key);

// hd_mongo_get_int64 is the number field key of doc, 0 when missing.
int64_t hd_mongo_get_int64(const bson_t *doc, const char *key);

// hd_mongo_write_opts initialises opts with the store's write concern;
// hd_mongo_read_opts with readConcern majority when majority is set.
void hd_mongo_write_opts(struct hd_mongo_store *s, bson_t *opts);
void hd_mongo_read_opts(struct hd_mongo_store *s, bson_t *opts, bool majority);

// hd_mongo_find_one runs filter with opts (limit 1 is added) on coll, on the
// primary, and copies the first document into *out (the caller destroys it
// when found). Returns 1 found, 0 none, -1 error (error filled).
int hd_mongo_find_one(struct hd_mongo_store *s, mongoc_collection_t *coll, const bson_t *filter, bson_t *opts,
		      bson_t *out, bson_error_t *error);

// hd_mongo_is_duplicate_key tells whether a write failed on a unique index.
bool hd_mongo_is_duplicate_key(const bson_error_t *error);

// hd_mongo_insert_new inserts doc (borrowed) into collection coll_name with
// the store's write concern, for a record that must be new. Returns HD_OK;
// HD_EBADREQUEST when a unique index (the _id or another) already has the
// value; HD_EUNAVAILABLE on any other failure (logged with what, e.g.
// "meeting").
hd_err hd_mongo_insert_new(struct hd_mongo_store *s, const char *coll_name, const bson_t *doc, const char *what);

void hd_mongo_sleep_ms(long ms);

// hd_mongo_doc_to_meeting reads a meetings document into *m (missing
// fields: 0 or "").
void hd_mongo_doc_to_meeting(const bson_t *doc, struct hd_meeting *m);

// The access ops of hd_store_ops (store_mongo_access.c): meetings' access
// mode and spaces; arguments are checked by store.c.
hd_err hd_mongo_meeting_set_access(struct hd_store *base, const char *id, int access_mode);
hd_err hd_mongo_space_insert(struct hd_store *base, const struct hd_space *sp);
hd_err hd_mongo_space_by_key_hash(struct hd_store *base, const char *key_hash, struct hd_space *out);
hd_err hd_mongo_space_get(struct hd_store *base, const char *id, struct hd_space *out);
hd_err hd_mongo_space_meetings(struct hd_store *base, const char *space_id, struct hd_meeting *out, size_t *n_out);

// The document ops of hd_store_ops (store_mongo_doc.c); arguments are
// checked by store.c.
hd_err hd_mongo_doc_append(struct hd_store *base, struct hd_doc_update *u, size_t n, bool *duplicate);
hd_err hd_mongo_doc_read(struct hd_store *base, const char *meeting_id, const char *document, int64_t after_seq,
			 uint32_t limit, struct hd_doc_update *out, size_t *n_out, bool *more, int64_t *last_seq);
hd_err hd_mongo_doc_snapshot_put(struct hd_store *base, struct hd_doc_snapshot *snap, bool *stored);
hd_err hd_mongo_doc_snapshot_get(struct hd_store *base, const char *meeting_id, const char *document, int64_t version,
				 struct hd_doc_snapshot *out);
hd_err hd_mongo_doc_versions(struct hd_store *base, const char *meeting_id, const char *document,
			     struct hd_doc_version *out, size_t *n_out);

// The recording ops of hd_store_ops (store_mongo_rec.c); arguments are
// checked by store.c.
hd_err hd_mongo_rec_create(struct hd_store *base, struct hd_recording *rec, bool *created);
hd_err hd_mongo_rec_chunk(struct hd_store *base, const char *meeting_id, const char *id, uint32_t index, uint64_t len,
			  int64_t at_ms, struct hd_recording *out, bool *duplicate);
hd_err hd_mongo_rec_set_state(struct hd_store *base, const char *meeting_id, const char *id, int from,
			      const struct hd_rec_change *to, struct hd_recording *out, bool *changed);
hd_err hd_mongo_rec_get(struct hd_store *base, const char *meeting_id, const char *id, struct hd_recording *out);
hd_err hd_mongo_rec_list(struct hd_store *base, const char *meeting_id, struct hd_recording *out, size_t *n_out);
hd_err hd_mongo_rec_delete(struct hd_store *base, const char *meeting_id, const char *id);
hd_err hd_mongo_rec_resumable(struct hd_store *base, int64_t idle_before_ms, struct hd_recording *out, size_t *n_out);
hd_err hd_mongo_rec_meeting_bytes(struct hd_store *base, const char *meeting_id, uint64_t *bytes);

#endif
