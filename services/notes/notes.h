// notes.h: what every huddle-notes component works with: a worker's context,
// the document kinds and their store names, the protobuf forms of stored
// updates and versions.
#ifndef NOTES_NOTES_H
#define NOTES_NOTES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/store.h"
#include "huddle/v1/notes.pb-c.h"
#include "notes/writer.h"

#define NOTES_AWARENESS_MAX 16384 // bytes of one awareness update (y-protocols encodeAwarenessUpdate)
#define NOTES_ORIGIN_MAX 64       // bytes of an awareness origin (a gateway-chosen connection id)
#define NOTES_WHY_MAX 160         // bytes of an error message built from a limit

// notes_ctx is one REP worker's view of huddle-notes: the store, the writer
// and the PUB socket are shared (all thread-safe); the update page and the
// message buffer are this worker's alone. Owned by main (or a test).
struct notes_ctx {
	struct hd_store *store;       // reads
	struct notes_writer *writer;  // every append and snapshot goes through it
	nng_socket pub;               // awareness events (id 0: none)
	struct hd_doc_update *page;   // room for HD_DOC_PAGE_MAX updates
	Huddle__V1__NotesUpdate *pbs; // their protobuf forms (HD_DOC_PAGE_MAX)
	Huddle__V1__NotesUpdate **ptrs;
	char why[NOTES_WHY_MAX]; // an error message naming a limit
};

// notes_ctx_init gives c its page buffers and borrows store, writer and pub.
// Returns HD_OK or HD_ENOMEM.
hd_err notes_ctx_init(struct notes_ctx *c, struct hd_store *store, struct notes_writer *writer, nng_socket pub);

// notes_ctx_fini frees the page buffers (a zeroed ctx is fine).
void notes_ctx_fini(struct notes_ctx *c);

// notes_document_name is the store's name of a document kind ("notes",
// "code"), or NULL for DOCUMENT_KIND_UNSPECIFIED and unknown values.
const char *notes_document_name(Huddle__V1__DocumentKind kind);

// notes_document_kind is the kind of a store document name
// (DOCUMENT_KIND_UNSPECIFIED for a name that is not one).
Huddle__V1__DocumentKind notes_document_kind(const char *name);

// notes_update_to_pb initializes pb as the protobuf form of u; pb's strings
// and data point into u, which must outlive it.
void notes_update_to_pb(const struct hd_doc_update *u, Huddle__V1__NotesUpdate *pb);

// notes_version_to_pb initializes pb as the protobuf form of v (pointing
// into v).
void notes_version_to_pb(const struct hd_doc_version *v, Huddle__V1__NotesVersion *pb);

#endif
