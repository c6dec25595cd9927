// chat_rpc.c: fuzzes huddle-chat's request handler (chat/rpc.c,
// chat_rpc_handle) with its real writer (group commit) and a real SQLite
// store on tmpfs, as main.c serves it. Input: records of a 16-bit length and
// that many bytes, each one packed ChatRequest served in turn (a post, then
// the history that reads it). The store keeps what earlier inputs wrote.
#include <unistd.h>

#include "chat/chat.h"
#include "chat/rpc.h"
#include "common/log.h"
#include "huddle/v1/chat.pb-c.h"
#include "support/input.h"
#include "support/rpc.h"

static struct chat_ctx ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char uri[256], url[256];
	struct hd_store *store;
	struct chat_writer *writer;
	nng_socket pub;
	hd_log_level = -1;
	const char *dir = fz_tmpdir("chat");
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", dir);
	snprintf(url, sizeof(url), "ipc://%s/events.ipc", dir);
	if (hd_store_open(&store, uri) != HD_OK || hd_pub_open(&pub, url) != HD_OK ||
	    chat_writer_open(&writer, store, pub, 256) != HD_OK || chat_ctx_init(&ctx, store, writer) != HD_OK)
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
		ProtobufCMessage *r = fz_rpc_serve(chat_rpc_handle, &ctx, &huddle__v1__chat_request__descriptor,
						   &huddle__v1__chat_reply__descriptor, p, n);
		if (r != NULL)
			protobuf_c_message_free_unpacked(r, NULL);
	}
	return 0;
}
