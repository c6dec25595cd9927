// rpc.c: REQ/REP helpers over nng_ctx and the PUB/SUB event bus.
#include "common/rpc.h"

#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dialer.h"
#include "common/log.h"
#include "huddle/v1/common.pb-c.h"

hd_err hd_msg_pack(const ProtobufCMessage *pb, nng_msg **out)
{
	size_t n = protobuf_c_message_get_packed_size(pb);
	nng_msg *m;
	if (nng_msg_alloc(&m, n) != 0)
		return HD_ENOMEM;
	protobuf_c_message_pack(pb, nng_msg_body(m));
	*out = m;
	return HD_OK;
}

nng_msg *hd_rpc_error_reply(const ProtobufCMessageDescriptor *reply_desc, uint64_t request_id, hd_err code,
			    const char *why)
{
	const ProtobufCFieldDescriptor *fid = protobuf_c_message_descriptor_get_field_by_name(reply_desc, "request_id");
	const ProtobufCFieldDescriptor *ferr = protobuf_c_message_descriptor_get_field_by_name(reply_desc, "error");
	Huddle__V1__Error e = HUDDLE__V1__ERROR__INIT;
	nng_msg *out = NULL;
	if (fid == NULL || ferr == NULL || fid->type != PROTOBUF_C_TYPE_UINT64 ||
	    ferr->type != PROTOBUF_C_TYPE_MESSAGE || ferr->descriptor != &huddle__v1__error__descriptor) {
		HD_ERROR("%s has no request_id and error fields", reply_desc->name);
		return NULL;
	}
	ProtobufCMessage *rep = calloc(1, reply_desc->sizeof_message);
	if (rep == NULL)
		goto fail;
	protobuf_c_message_init(reply_desc, rep);
	e.code = (Huddle__V1__ErrorCode)code;
	e.message = (char *)(why != NULL ? why : hd_strerror(code));
	memcpy((char *)rep + fid->offset, &request_id, sizeof(request_id));
	ProtobufCMessage *err_field = &e.base;
	memcpy((char *)rep + ferr->offset, &err_field, sizeof(err_field));
	if (hd_msg_pack(rep, &out) != HD_OK)
		out = NULL;
	free(rep);
	if (out != NULL)
		return out;
fail:
	HD_ERROR("no memory for an error reply to request %llu", (unsigned long long)request_id);
	return NULL;
}

// ---- dispatch ----

// oneof_case reads the case of msg's oneof (the field number of its set
// member, 0: none); *member is that member's descriptor, or NULL.
static uint32_t oneof_case(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor **member)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	*member = NULL;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
			continue;
		uint32_t c;
		memcpy(&c, (const char *)msg + f->quantifier_offset, sizeof(c));
		*member = protobuf_c_message_descriptor_get_field(desc, c);
		return *member != NULL ? c : 0;
	}
	return 0;
}

hd_err hd_rpc_reply_pack(struct hd_rpc_reply *rep, const ProtobufCMessage *body)
{
	const ProtobufCMessageDescriptor *desc = rep->msg->descriptor;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0 || f->type != PROTOBUF_C_TYPE_MESSAGE ||
		    f->descriptor != body->descriptor)
			continue;
		uint32_t c = f->id, none = 0;
		const ProtobufCMessage *null = NULL;
		memcpy((char *)rep->msg + f->quantifier_offset, &c, sizeof(c));
		memcpy((char *)rep->msg + f->offset, &body, sizeof(body));
		hd_err err = hd_msg_pack(rep->msg, &rep->out);
		// The body is borrowed: leave nothing pointing at it.
		memcpy((char *)rep->msg + f->quantifier_offset, &none, sizeof(none));
		memcpy((char *)rep->msg + f->offset, &null, sizeof(null));
		return err;
	}
	HD_ERROR("%s has no body of type %s", desc->name, body->descriptor->name);
	return HD_EINTERNAL;
}

nng_msg *hd_rpc_dispatch(const struct hd_rpc_service *svc, void *worker_state, nng_msg *msg)
{
	const ProtobufCFieldDescriptor *fid, *member;
	struct hd_rpc_reply rep = {NULL, NULL};
	const char *why = NULL;
	uint64_t request_id = 0;
	char whybuf[160];
	hd_err err;

	ProtobufCMessage *req = protobuf_c_message_unpack(svc->request, NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (req == NULL) {
		HD_DEBUG("undecodable request (%zu bytes)", nng_msg_len(msg));
		snprintf(whybuf, sizeof(whybuf), "request does not decode as a %s", svc->request->short_name);
		return hd_rpc_error_reply(svc->reply, 0, HD_EMALFORMED, whybuf);
	}
	fid = protobuf_c_message_descriptor_get_field_by_name(svc->request, "request_id");
	if (fid != NULL && fid->type == PROTOBUF_C_TYPE_UINT64)
		memcpy(&request_id, (const char *)req + fid->offset, sizeof(request_id));
	uint32_t op = oneof_case(req, &member);
	if (op == 0 || op >= svc->n_ops || svc->ops[op] == NULL || member->type != PROTOBUF_C_TYPE_MESSAGE) {
		err = HD_EUNKNOWNTYPE;
		snprintf(whybuf, sizeof(whybuf), "request carries no body %s knows", svc->name);
		why = whybuf;
	} else if ((rep.msg = calloc(1, svc->reply->sizeof_message)) == NULL) {
		err = HD_ENOMEM;
	} else {
		const void *body;
		protobuf_c_message_init(svc->reply, rep.msg);
		fid = protobuf_c_message_descriptor_get_field_by_name(svc->reply, "request_id");
		if (fid != NULL && fid->type == PROTOBUF_C_TYPE_UINT64)
			memcpy((char *)rep.msg + fid->offset, &request_id, sizeof(request_id));
		memcpy(&body, (const char *)req + member->offset, sizeof(body));
		err = svc->ops[op](worker_state, body, &rep, &why);
		if (err == HD_OK && rep.out == NULL) {
			err = HD_EINTERNAL;
			why = "the reply was not packed";
		}
	}
	if (err != HD_OK) {
		nng_msg_free(rep.out);
		// Outages are logged once where they are noticed, not per request.
		if (err == HD_EINTERNAL || err == HD_ENOMEM)
			HD_WARN("request %llu (body %u) failed: %s: %s", (unsigned long long)request_id, op,
				hd_err_name(err), why != NULL ? why : hd_strerror(err));
		rep.out = hd_rpc_error_reply(svc->reply, request_id, err, why);
	}
	free(rep.msg);
	protobuf_c_message_free_unpacked(req, NULL);
	return rep.out;
}

// ---- client ----

// rpc_call is one outstanding request: a REQ context and its aio, reused
// through the client's free list.
struct rpc_call {
	struct hd_rpc_client *client;
	nng_ctx ctx;
	nng_aio *aio;
	hd_rpc_client_callback cb;
	void *arg;
	int receiving;
	struct rpc_call *next_free;
	struct rpc_call *next_all;
};

struct hd_rpc_client {
	nng_socket sock;
	struct hd_dialset *dials;
	pthread_mutex_t mtx;
	struct rpc_call *free_list;
	struct rpc_call *all;
	int closing;
};

hd_err hd_rpc_client_open(struct hd_rpc_client **out, const char *urls)
{
	struct hd_rpc_client *c = calloc(1, sizeof(*c));
	hd_err err;
	if (c == NULL)
		return HD_ENOMEM;
	if (nng_req0_open(&c->sock) != 0) {
		free(c);
		return HD_ENOMEM;
	}
	// Our own timeouts bound every call; resending would duplicate writes.
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, HD_RPC_MSG_MAX);
	if ((err = hd_dialset_open(&c->dials, c->sock, urls)) != HD_OK) {
		nng_close(c->sock);
		free(c);
		return err;
	}
	pthread_mutex_init(&c->mtx, NULL);
	*out = c;
	return HD_OK;
}

static void call_release(struct rpc_call *call)
{
	struct hd_rpc_client *c = call->client;
	pthread_mutex_lock(&c->mtx);
	call->cb = NULL;
	call->next_free = c->free_list;
	c->free_list = call;
	pthread_mutex_unlock(&c->mtx);
}

// call_done runs on an NNG thread when a send or a receive completes.
static void call_done(void *p)
{
	struct rpc_call *call = p;
	int rv = nng_aio_result(call->aio);
	hd_rpc_client_callback cb = call->cb;
	void *arg = call->arg;

	if (!call->receiving) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(call->aio));
			call_release(call);
			cb(arg, rv == NNG_ETIMEDOUT ? HD_EUNAVAILABLE : hd_err_from_nng(rv), NULL);
			return;
		}
		call->receiving = 1;
		nng_ctx_recv(call->ctx, call->aio);
		return;
	}
	nng_msg *reply = rv == 0 ? nng_aio_get_msg(call->aio) : NULL;
	call_release(call);
	cb(arg, hd_err_from_nng(rv), reply);
}

hd_err hd_rpc_call_async(struct hd_rpc_client *c, nng_msg *req, int32_t timeout_ms, hd_rpc_client_callback cb,
			 void *arg)
{
	struct rpc_call *call;
	pthread_mutex_lock(&c->mtx);
	if (c->closing) {
		pthread_mutex_unlock(&c->mtx);
		return HD_ECLOSED;
	}
	call = c->free_list;
	if (call != NULL) {
		c->free_list = call->next_free;
	} else {
		call = calloc(1, sizeof(*call));
		if (call == NULL || nng_ctx_open(&call->ctx, c->sock) != 0 ||
		    nng_aio_alloc(&call->aio, call_done, call) != 0) {
			if (call != NULL && call->aio == NULL && nng_ctx_id(call->ctx) > 0)
				nng_ctx_close(call->ctx);
			free(call);
			pthread_mutex_unlock(&c->mtx);
			return HD_ENOMEM;
		}
		call->client = c;
		call->next_all = c->all;
		c->all = call;
	}
	pthread_mutex_unlock(&c->mtx);

	call->cb = cb;
	call->arg = arg;
	call->receiving = 0;
	nng_aio_set_timeout(call->aio, timeout_ms);
	nng_aio_set_msg(call->aio, req);
	nng_ctx_send(call->ctx, call->aio);
	return HD_OK;
}

int hd_rpc_client_connected(struct hd_rpc_client *c)
{
	return hd_dialset_connected(c->dials);
}

hd_err hd_rpc_call(struct hd_rpc_client *c, nng_msg *req, int32_t timeout_ms, nng_msg **reply)
{
	nng_ctx ctx;
	nng_aio *aio;
	int rv;
	if (nng_ctx_open(&ctx, c->sock) != 0) {
		nng_msg_free(req);
		return HD_ECLOSED;
	}
	if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
		nng_ctx_close(ctx);
		nng_msg_free(req);
		return HD_ENOMEM;
	}
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, req);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
		nng_aio_free(aio);
		nng_ctx_close(ctx);
		return rv == NNG_ETIMEDOUT ? HD_EUNAVAILABLE : hd_err_from_nng(rv);
	}
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	*reply = rv == 0 ? nng_aio_get_msg(aio) : NULL;
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return hd_err_from_nng(rv);
}

void hd_rpc_client_close(struct hd_rpc_client *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mtx);
	c->closing = 1;
	pthread_mutex_unlock(&c->mtx);
	// Stopping each aio runs its callback with NNG_ECANCELED or NNG_ECLOSED.
	hd_dialset_stop(c->dials);
	for (struct rpc_call *call = c->all; call != NULL; call = call->next_all)
		nng_aio_stop(call->aio);
	nng_close(c->sock);
	hd_dialset_free(c->dials);
	// A call whose receive could not start after the stop never called back:
	// complete it here so callers can always free their pending state.
	for (struct rpc_call *call = c->all; call != NULL; call = call->next_all)
		if (call->cb != NULL) {
			hd_rpc_client_callback cb = call->cb;
			call->cb = NULL;
			cb(call->arg, HD_ECLOSED, NULL);
		}
	struct rpc_call *call = c->all;
	while (call != NULL) {
		struct rpc_call *next = call->next_all;
		nng_aio_free(call->aio);
		free(call);
		call = next;
	}
	pthread_mutex_destroy(&c->mtx);
	free(c);
}

// ---- server ----

struct rpc_worker {
	struct hd_rpc_server *server;
	void *state;
	pthread_t thread;
	nng_ctx ctx;
	nng_aio *aio;
	int started;
};

struct hd_rpc_server {
	nng_socket sock;
	hd_rpc_handler fn;
	int nworkers;
	struct rpc_worker *workers;
};

static hd_err listen_url(nng_socket s, const char *url)
{
	int rv = nng_listen(s, url, NULL, 0);
	if (rv != 0) {
		HD_ERROR("cannot listen on %s: %s", url, nng_strerror(rv));
		return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? HD_EBADREQUEST : HD_EUNAVAILABLE;
	}
	return HD_OK;
}

// worker_main is one REP worker thread: receive, handle, reply, repeat,
// until the socket closes.
static void *worker_main(void *p)
{
	struct rpc_worker *w = p;
	for (;;) {
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		int rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			break;
		if (rv != 0)
			continue;
		nng_msg *req = nng_aio_get_msg(w->aio);
		nng_msg *reply = w->server->fn(w->state, req);
		nng_msg_free(req);
		if (reply == NULL)
			continue;
		nng_aio_set_msg(w->aio, reply);
		nng_ctx_send(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
			if (rv == NNG_ECLOSED)
				break;
		}
	}
	return NULL;
}

hd_err hd_rpc_server_open(struct hd_rpc_server **out, const char *url, int nworkers, hd_rpc_handler fn,
			  void **worker_states)
{
	struct hd_rpc_server *s = calloc(1, sizeof(*s));
	hd_err err = HD_ENOMEM;
	if (s == NULL)
		return HD_ENOMEM;
	s->fn = fn;
	s->nworkers = nworkers;
	if ((s->workers = calloc((size_t)nworkers, sizeof(*s->workers))) == NULL)
		goto fail_alloc;
	if (nng_rep0_open(&s->sock) != 0)
		goto fail_alloc;
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, HD_RPC_MSG_MAX);
	if ((err = listen_url(s->sock, url)) != HD_OK)
		goto fail_sock;
	for (int i = 0; i < nworkers; i++) {
		struct rpc_worker *w = &s->workers[i];
		w->server = s;
		w->state = worker_states != NULL ? worker_states[i] : NULL;
		if (nng_ctx_open(&w->ctx, s->sock) != 0 || nng_aio_alloc(&w->aio, NULL, NULL) != 0) {
			err = HD_ENOMEM;
			goto fail_workers;
		}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			err = HD_ENOMEM;
			goto fail_workers;
		}
		w->started = 1;
	}
	*out = s;
	return HD_OK;

fail_workers:
	hd_rpc_server_close(s);
	return err;
fail_sock:
	nng_close(s->sock);
fail_alloc:
	free(s->workers);
	free(s);
	return err;
}

void hd_rpc_server_close(struct hd_rpc_server *s)
{
	if (s == NULL)
		return;
	nng_close(s->sock);
	for (int i = 0; i < s->nworkers; i++) {
		struct rpc_worker *w = &s->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->aio != NULL)
			nng_aio_free(w->aio);
	}
	free(s->workers);
	free(s);
}

// ---- events ----

hd_err hd_pub_open(nng_socket *out, const char *url)
{
	nng_socket s;
	hd_err err;
	if (nng_pub0_open(&s) != 0)
		return HD_ENOMEM;
	// Events queued per subscriber before NNG drops (an int option; NNG's
	// default of 16 loses bursts of ICE candidates).
	if (nng_socket_set_int(s, NNG_OPT_SENDBUF, 8192) != 0)
		HD_WARN("cannot size the event queue; bursts may lose events");
	if ((err = listen_url(s, url)) != HD_OK) {
		nng_close(s);
		return err;
	}
	*out = s;
	return HD_OK;
}

hd_err hd_pub_send(nng_socket pub, const char *topic, const uint8_t *data, size_t len)
{
	size_t tlen = strlen(topic) + 1;
	nng_msg *m;
	if (nng_msg_alloc(&m, tlen + len) != 0)
		return HD_ENOMEM;
	memcpy(nng_msg_body(m), topic, tlen);
	if (len > 0)
		memcpy((uint8_t *)nng_msg_body(m) + tlen, data, len);
	return hd_pub_send_msg(pub, m);
}

hd_err hd_pub_pack(const char *topic, const ProtobufCMessage *pb, nng_msg **out)
{
	size_t tlen = strlen(topic) + 1;
	nng_msg *m;
	if (nng_msg_alloc(&m, tlen + protobuf_c_message_get_packed_size(pb)) != 0)
		return HD_ENOMEM;
	memcpy(nng_msg_body(m), topic, tlen);
	protobuf_c_message_pack(pb, (uint8_t *)nng_msg_body(m) + tlen);
	*out = m;
	return HD_OK;
}

hd_err hd_pub_send_msg(nng_socket pub, nng_msg *m)
{
	int rv = nng_sendmsg(pub, m, 0);
	if (rv != 0) {
		nng_msg_free(m);
		return hd_err_from_nng(rv);
	}
	return HD_OK;
}

struct hd_sub {
	nng_socket sock;
	struct hd_dialset *dials; // also counts the connected publishers
	nng_aio *aio;
	hd_sub_callback cb;
	void *arg;
};

// sub_received runs on an NNG thread for each event, then asks for the next.
static void sub_received(void *p)
{
	struct hd_sub *s = p;
	int rv = nng_aio_result(s->aio);
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return;
	if (rv == 0) {
		nng_msg *m = nng_aio_get_msg(s->aio);
		const uint8_t *body = nng_msg_body(m);
		size_t len = nng_msg_len(m);
		const uint8_t *nul = memchr(body, '\0', len);
		if (nul != NULL) {
			size_t tlen = (size_t)(nul - body) + 1;
			s->cb(s->arg, (const char *)body, body + tlen, len - tlen);
		} else {
			HD_WARN("event without topic separator dropped (%zu bytes)", len);
		}
		nng_msg_free(m);
	}
	nng_recv_aio(s->sock, s->aio);
}

int hd_sub_connected(struct hd_sub *s)
{
	return hd_dialset_connected(s->dials);
}

unsigned hd_sub_connections(struct hd_sub *s)
{
	return hd_dialset_connections(s->dials);
}

hd_err hd_sub_open(struct hd_sub **out, const char *urls, hd_sub_callback cb, void *arg)
{
	struct hd_sub *s = calloc(1, sizeof(*s));
	hd_err err = HD_ENOMEM;
	if (s == NULL)
		return HD_ENOMEM;
	s->cb = cb;
	s->arg = arg;
	if (nng_sub0_open(&s->sock) != 0)
		goto fail_alloc;
	nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, HD_RPC_MSG_MAX);
	if (nng_aio_alloc(&s->aio, sub_received, s) != 0)
		goto fail_sock;
	if ((err = hd_dialset_open(&s->dials, s->sock, urls)) != HD_OK)
		goto fail_aio;
	nng_recv_aio(s->sock, s->aio);
	*out = s;
	return HD_OK;

fail_aio:
	nng_aio_free(s->aio);
fail_sock:
	nng_close(s->sock);
fail_alloc:
	free(s);
	return err;
}

static hd_err sub_set(struct hd_sub *s, const char *opt, const char *topic)
{
	int rv = nng_socket_set(s->sock, opt, topic, strlen(topic) + 1);
	return rv == 0 || rv == NNG_ENOENT ? HD_OK : hd_err_from_nng(rv);
}

hd_err hd_sub_subscribe(struct hd_sub *s, const char *topic)
{
	return sub_set(s, NNG_OPT_SUB_SUBSCRIBE, topic);
}

hd_err hd_sub_unsubscribe(struct hd_sub *s, const char *topic)
{
	return sub_set(s, NNG_OPT_SUB_UNSUBSCRIBE, topic);
}

void hd_sub_close(struct hd_sub *s)
{
	if (s == NULL)
		return;
	hd_dialset_stop(s->dials);
	nng_aio_stop(s->aio);
	nng_close(s->sock);
	nng_aio_free(s->aio);
	hd_dialset_free(s->dials);
	free(s);
}
