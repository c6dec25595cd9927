// chat.h: what every huddle-chat component works with.
#ifndef CHAT_CHAT_H
#define CHAT_CHAT_H

#include "chat/writer.h"
#include "common/store.h"
#include "huddle/v1/chat.pb-c.h"

// chat_ctx is one REP worker's view of huddle-chat: the store and the writer
// are shared (both thread-safe), the page buffer is this worker's alone.
// Owned by main (or a test).
struct chat_ctx {
	struct hd_store *store;       // history reads
	struct chat_writer *writer;   // every post goes through it (group commit)
	struct hd_chat_message *page; // room for HD_CHAT_PAGE_MAX messages
};

// chat_ctx_init gives c its page buffer and borrows store and writer.
// Returns HD_OK or HD_ENOMEM.
hd_err chat_ctx_init(struct chat_ctx *c, struct hd_store *store, struct chat_writer *writer);

// chat_ctx_fini frees the page buffer (a zeroed ctx is fine).
void chat_ctx_fini(struct chat_ctx *c);

// chat_message_to_pb initializes pb as the protobuf form of m; pb's strings
// point into m, which must outlive it.
void chat_message_to_pb(const struct hd_chat_message *m, Huddle__V1__ChatMessage *pb);

#endif
