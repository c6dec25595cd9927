// notes_rpc.c: fuzzes huddle-notes' request handler (notes/rpc.c,
// notes_rpc_handle) with its real writer and a real SQLite store on tmpfs,
// as main.c serves it. Input: records of a 16-bit length and that many
// bytes, each one packed NotesRequest served in turn (an update, then the
// open that reads it back). The store keeps what earlier inputs wrote.
#include <unistd.h>

#include "common/log.h"
#include "huddle/v1/notes.pb-c.h"
#include "notes/notes.h"
#include "notes/rpc.h"
#include "support/input.h"
#include "support/rpc.h"

static struct notes_ctx ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char uri[256], url[256];
	struct hd_store *store;
	struct notes_writer *writer;
	nng_socket pub;
	hd_log_level = -1;
	const char *dir = fz_tmpdir("notes");
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", dir);
	snprintf(url, sizeof(url), "ipc://%s/events.ipc", dir);
	if (hd_store_open(&store, uri) != HD_OK || hd_pub_open(&pub, url) != HD_OK ||
	    notes_writer_open(&writer, store, pub, 256) != HD_OK || notes_ctx_init(&ctx, store, writer, pub) != HD_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_init(&in, data, size);
	while (in.left > 0) {
		size_t n;
		const uint8_t *p = fz_slice(&in, &n);
		ProtobufCMessage *r = fz_rpc_serve(notes_rpc_handle, &ctx, &huddle__v1__notes_request__descriptor,
						   &huddle__v1__notes_reply__descriptor, p, n);
		if (r != NULL)
			protobuf_c_message_free_unpacked(r, NULL);
	}
	return 0;
}
