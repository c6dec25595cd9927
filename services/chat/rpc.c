// rpc.c: huddle-chat's op table: validates each ChatRequest body and serves
// it; posts go to the writer (group commit), history reads to the store.
#include "chat/rpc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/chat.pb-c.h"

hd_err chat_ctx_init(struct chat_ctx *c, struct hd_store *store, struct chat_writer *writer)
{
	memset(c, 0, sizeof(*c));
	if ((c->page = calloc(HD_CHAT_PAGE_MAX, sizeof(*c->page))) == NULL)
		return HD_ENOMEM;
	c->store = store;
	c->writer = writer;
	return HD_OK;
}

void chat_ctx_fini(struct chat_ctx *c)
{
	free(c->page);
	c->page = NULL;
}

void chat_message_to_pb(const struct hd_chat_message *m, Huddle__V1__ChatMessage *pb)
{
	huddle__v1__chat_message__init(pb);
	pb->meeting_id = (char *)m->meeting_id;
	pb->seq = m->seq;
	pb->client_message_id = (char *)m->client_message_id;
	pb->sender_id = (char *)m->sender_id;
	pb->sender_name = (char *)m->sender_name;
	pb->text = (char *)m->text;
	pb->sent_at_ms = m->sent_at_ms;
}

static bool ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// trim finds s without surrounding ASCII whitespace: *start and its length.
static size_t trim(const char *s, const char **start)
{
	size_t len = strlen(s);
	while (len > 0 && ascii_space(*s)) {
		s++;
		len--;
	}
	while (len > 0 && ascii_space(s[len - 1]))
		len--;
	*start = s;
	return len;
}

// trimmed_text copies s, trimmed, into out (room for max + 1 bytes) when it
// is 1..max bytes of UTF-8; else returns the error with *why.
static hd_err trimmed_text(const char *s, size_t max, char *out, const char *empty, const char *long_,
			   const char *not_utf8, const char **why)
{
	const char *start;
	size_t len = trim(s, &start);
	if (len == 0) {
		*why = empty;
		return HD_EBADREQUEST;
	}
	if (len > max) {
		*why = long_;
		return HD_ETOOLARGE;
	}
	if (!hd_utf8_valid(start, len)) {
		*why = not_utf8;
		return HD_EBADREQUEST;
	}
	memcpy(out, start, len);
	out[len] = '\0';
	return HD_OK;
}

// post_validate fills m from a post request, or says which field is wrong.
static hd_err post_validate(const Huddle__V1__ChatServicePostRequest *p, struct hd_chat_message *m, const char **why)
{
	hd_err err;
	if (!hd_id_valid(p->meeting_id)) {
		*why = "meeting_id is not a meeting id (22 base64url characters)";
		return HD_EBADREQUEST;
	}
	size_t n = strlen(p->client_message_id);
	if (n == 0) {
		*why = "client_message_id is empty";
		return HD_EBADREQUEST;
	}
	if (n > HD_CHAT_CLIENT_ID_MAX) {
		*why = "client_message_id is longer than 64 bytes";
		return HD_ETOOLARGE;
	}
	for (size_t i = 0; i < n; i++)
		if (!hd_chat_client_id_char(p->client_message_id[i])) {
			*why = "client_message_id may only hold A-Z a-z 0-9 _ -";
			return HD_EBADREQUEST;
		}
	if (p->sender_id[0] != '\0' && !hd_id_valid(p->sender_id)) {
		*why = "sender_id is neither empty nor a participant id";
		return HD_EBADREQUEST;
	}
	memset(m, 0, offsetof(struct hd_chat_message, text) + 1);
	memcpy(m->meeting_id, p->meeting_id, HD_ID_LEN + 1);
	memcpy(m->client_message_id, p->client_message_id, n + 1);
	memcpy(m->sender_id, p->sender_id, strlen(p->sender_id) + 1);
	if ((err = trimmed_text(p->sender_name, HD_CHAT_NAME_MAX, m->sender_name, "sender_name is empty",
				"sender_name is longer than 64 bytes", "sender_name is not valid UTF-8", why)) != HD_OK)
		return err;
	if ((err = trimmed_text(p->text, HD_CHAT_TEXT_MAX, m->text, "text is empty (after trimming whitespace)",
				"text is longer than 4096 bytes (after trimming whitespace)", "text is not valid UTF-8",
				why)) != HD_OK)
		return err;
	return HD_OK;
}

static hd_err op_post(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct chat_ctx *c = worker;
	Huddle__V1__ChatServicePostReply body = HUDDLE__V1__CHAT_SERVICE_POST_REPLY__INIT;
	Huddle__V1__ChatMessage pb;
	struct hd_chat_message m;
	bool duplicate = false;
	hd_err err;
	if ((err = post_validate(req, &m, why)) != HD_OK)
		return err;
	m.sent_at_ms = hd_now_ms();
	switch ((err = chat_writer_post(c->writer, &m, &duplicate))) {
	case HD_OK:
		break;
	case HD_EBADREQUEST:
		*why = "the store refused the message";
		return err;
	case HD_ECLOSED:
		*why = "huddle-chat is shutting down";
		return err;
	default:
		*why = "the chat store is unavailable; nothing was stored, retry with the same client_message_id";
		return HD_EUNAVAILABLE;
	}
	chat_message_to_pb(&m, &pb);
	body.message = &pb;
	body.duplicate = duplicate;
	return hd_rpc_reply_pack(rep, &body.base);
}

static hd_err op_history(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct chat_ctx *c = worker;
	const Huddle__V1__ChatServiceHistoryRequest *h = req;
	Huddle__V1__ChatServiceHistoryReply body = HUDDLE__V1__CHAT_SERVICE_HISTORY_REPLY__INIT;
	Huddle__V1__ChatMessage pbs[HD_CHAT_PAGE_MAX];
	Huddle__V1__ChatMessage *ptrs[HD_CHAT_PAGE_MAX];
	uint32_t limit = h->limit == 0 ? HD_CHAT_PAGE_DEFAULT : h->limit;
	size_t n = 0;
	bool more = false;
	int64_t last_seq = 0;
	hd_err err;
	if (!hd_id_valid(h->meeting_id)) {
		*why = "meeting_id is not a meeting id (22 base64url characters)";
		return HD_EBADREQUEST;
	}
	if (limit > HD_CHAT_PAGE_MAX) {
		*why = "limit must be 0..200 (0 means 50)";
		return HD_EBADREQUEST;
	}
	if (h->after_seq < 0 || h->before_seq < 0) {
		*why = h->after_seq < 0 ? "after_seq is negative" : "before_seq is negative";
		return HD_EBADREQUEST;
	}
	err = hd_chat_history(c->store, h->meeting_id, h->after_seq, h->before_seq, limit, c->page, &n, &more,
			      &last_seq);
	if (err != HD_OK) {
		*why = err == HD_EBADREQUEST ? "the store refused the page request" : "the chat store is unavailable";
		return err == HD_EBADREQUEST ? err : HD_EUNAVAILABLE;
	}
	for (size_t i = 0; i < n; i++) {
		chat_message_to_pb(&c->page[i], &pbs[i]);
		ptrs[i] = &pbs[i];
	}
	body.n_messages = n;
	body.messages = ptrs;
	body.more = more;
	body.last_seq = last_seq;
	return hd_rpc_reply_pack(rep, &body.base);
}

// op_health answers OK when the store answers a read.
static hd_err op_health(void *worker, const void *req, struct hd_rpc_reply *rep, const char **why)
{
	struct chat_ctx *c = worker;
	Huddle__V1__ChatHealthReply body = HUDDLE__V1__CHAT_HEALTH_REPLY__INIT;
	size_t n;
	bool more;
	int64_t last_seq;
	// A well-formed id that is surely absent: a read that reaches the store.
	if (hd_chat_history(c->store, "AAAAAAAAAAAAAAAAAAAAAA", 0, 0, 1, c->page, &n, &more, &last_seq) != HD_OK) {
		*why = "the chat store is unavailable";
		return HD_EUNAVAILABLE;
	}
	return hd_rpc_reply_pack(rep, &body.base);
}

// rpc_ops is huddle-chat's op table, indexed by the ChatRequest body's
// field number.
static const hd_rpc_op rpc_ops[] = {
	[HUDDLE__V1__CHAT_REQUEST__BODY_POST] = op_post,
	[HUDDLE__V1__CHAT_REQUEST__BODY_HISTORY] = op_history,
	[HUDDLE__V1__CHAT_REQUEST__BODY_HEALTH] = op_health,
};

static const struct hd_rpc_service chat_service = {
	.name = "huddle-chat",
	.request = &huddle__v1__chat_request__descriptor,
	.reply = &huddle__v1__chat_reply__descriptor,
	.ops = rpc_ops,
	.n_ops = sizeof(rpc_ops) / sizeof(rpc_ops[0]),
};

nng_msg *chat_rpc_handle(void *worker_state, nng_msg *msg)
{
	return hd_rpc_dispatch(&chat_service, worker_state, msg);
}
