// gwfake.c: the gateway's NNG side and libwebsockets, faked for the
// harnesses (see gwfake.h).
#include "gwfake.h"

#include <stdio.h>
#include <stdlib.h>
#include <nng/supplemental/util/platform.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "gateway/route.h"
#include "gateway/websec.h"

// ---- the gateway's state and its calls (calls.c's place) ----

struct gw gw;

uint64_t gw_next_id(void)
{
	return ++gw.next_id;
}

hd_err gw_calls_open(void)
{
	return HD_OK;
}

void gw_calls_close(void)
{
}

void gw_drain(void)
{
}

enum fz_service { FZ_REGISTRY, FZ_CHAT, FZ_NOTES, FZ_RECORDING, FZ_MEDIA };

struct fz_call {
	struct fz_call *next;
	enum fz_service service;
	struct gw_pending p;
	ProtobufCMessage *req; // unpacked copy of what was sent
};

static struct fz_call *head, *tail;
static size_t n_pending;
bool fz_calls_down;

static hd_err call(enum fz_service service, const struct gw_pending *p, const ProtobufCMessage *req)
{
	if (fz_calls_down)
		return HD_ECLOSED;
	// Packed and unpacked again, as the service would see it.
	size_t len = protobuf_c_message_get_packed_size(req);
	uint8_t *buf = malloc(len + 1);
	struct fz_call *c = calloc(1, sizeof(*c));
	if (buf == NULL || c == NULL)
		abort();
	protobuf_c_message_pack(req, buf);
	c->req = protobuf_c_message_unpack(req->descriptor, NULL, len, buf);
	free(buf);
	if (c->req == NULL)
		abort(); // the gateway sent something that does not decode
	c->service = service;
	c->p = *p;
	if (tail != NULL)
		tail->next = c;
	else
		head = c;
	tail = c;
	n_pending++;
	return HD_OK;
}

hd_err gw_registry_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__RegistryRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	return call(FZ_REGISTRY, &p, &req->base);
}

hd_err gw_chat_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__ChatRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	return call(FZ_CHAT, &p, &req->base);
}

hd_err gw_notes_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, uint32_t document,
		     Huddle__V1__NotesRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id, .document = document};
	req->request_id = ++seq;
	return call(FZ_NOTES, &p, &req->base);
}

hd_err gw_recording_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__RecordingRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	return call(FZ_RECORDING, &p, &req->base);
}

hd_err gw_media_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__MediaRequest *req)
{
	static uint64_t seq;
	struct gw_pending p = {.op = op, .conn_id = conn_id, .request_id = request_id};
	req->request_id = ++seq;
	return call(FZ_MEDIA, &p, &req->base);
}

size_t fz_calls_pending(void)
{
	return n_pending;
}

enum gw_op fz_calls_oldest_op(void)
{
	return head != NULL ? head->p.op : GW_OP_COUNT;
}

static struct fz_call *take(void)
{
	struct fz_call *c = head;
	if (c == NULL)
		return NULL;
	head = c->next;
	if (head == NULL)
		tail = NULL;
	n_pending--;
	return c;
}

// deliver hands msg (NULL with an error) to route.c as gw_drain does, then
// frees the call: the pending record is gw_drain's to free.
static void deliver(struct fz_call *c, hd_err err, nng_msg *msg)
{
	switch (c->service) {
	case FZ_REGISTRY:
		gw_route_registry_reply(&c->p, err, msg);
		break;
	case FZ_CHAT:
		gw_route_chat_reply(&c->p, err, msg);
		break;
	case FZ_NOTES:
		gw_route_notes_reply(&c->p, err, msg);
		break;
	case FZ_RECORDING:
		gw_route_recording_reply(&c->p, err, msg);
		break;
	case FZ_MEDIA:
		gw_route_media_reply(&c->p, err, msg);
		break;
	}
	if (msg != NULL)
		nng_msg_free(msg);
	protobuf_c_message_free_unpacked(c->req, NULL);
	free(c);
}

static const ProtobufCMessageDescriptor *reply_descriptor(enum fz_service s)
{
	switch (s) {
	case FZ_REGISTRY:
		return &huddle__v1__registry_reply__descriptor;
	case FZ_CHAT:
		return &huddle__v1__chat_reply__descriptor;
	case FZ_NOTES:
		return &huddle__v1__notes_reply__descriptor;
	case FZ_MEDIA:
		return &huddle__v1__media_reply__descriptor;
	default:
		return &huddle__v1__recording_reply__descriptor;
	}
}

static nng_msg *msg_of(const uint8_t *data, size_t len)
{
	nng_msg *msg;
	if (nng_msg_alloc(&msg, 0) != 0 || nng_msg_append(msg, data, len) != 0)
		abort();
	return msg;
}

void fz_calls_answer_bytes(const uint8_t *data, size_t len)
{
	struct fz_call *c = take();
	if (c != NULL)
		deliver(c, HD_OK, msg_of(data, len));
}

void fz_calls_answer_error(hd_err err)
{
	struct fz_call *c = take();
	if (c != NULL)
		deliver(c, err, NULL);
}

void fz_calls_drop_all(void)
{
	while (head != NULL)
		fz_calls_answer_error(HD_ECLOSED);
}

// ---- well-formed replies ----

// fill sets every singular sub-message of m (depth levels down) to an empty
// one, so a reply has what the services always send; strings stay "".
static void fill(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED || depth <= 0)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			continue; // only the one the caller picks
		const ProtobufCMessageDescriptor *sd = f->descriptor;
		ProtobufCMessage *sub = calloc(1, sd->sizeof_message);
		if (sub == NULL)
			abort();
		protobuf_c_message_init(sd, sub);
		fill(sub, depth - 1);
		*(ProtobufCMessage **)((char *)m + f->offset) = sub;
	}
}

static void unfill(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED || depth <= 0)
			continue;
		ProtobufCMessage **slot = (ProtobufCMessage **)((char *)m + f->offset);
		if (*slot == NULL)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)((char *)m + f->quantifier_offset) != f->id)
			continue;
		unfill(*slot, depth - 1);
		free(*slot);
		*slot = NULL;
	}
}

// meeting_of finds a meeting id in the request (its meeting_id field, one
// level down), so a reply can be about the meeting asked for.
static const char *meeting_of(const ProtobufCMessage *req)
{
	const ProtobufCMessageDescriptor *d = req->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)((const char *)req + f->offset);
		if (sub == NULL || ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
				    *(const uint32_t *)((const char *)req + f->quantifier_offset) != f->id))
			continue;
		const ProtobufCFieldDescriptor *mf =
			protobuf_c_message_descriptor_get_field_by_name(sub->descriptor, "meeting_id");
		if (mf != NULL && mf->type == PROTOBUF_C_TYPE_STRING)
			return *(char *const *)((const char *)sub + mf->offset);
	}
	return NULL;
}

void fz_calls_answer_ok(const char *participant_id, const char *const *roster, size_t n_roster)
{
	struct fz_call *c = take();
	if (c == NULL)
		return;
	const ProtobufCMessageDescriptor *rd = reply_descriptor(c->service);
	// The body oneof of every request and reply: the same field numbers.
	uint32_t body = 0;
	const ProtobufCMessageDescriptor *qd = c->req->descriptor;
	for (unsigned i = 0; i < qd->n_fields && body == 0; i++)
		if (qd->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			body = *(const uint32_t *)((const char *)c->req + qd->fields[i].quantifier_offset);
	ProtobufCMessage *reply = calloc(1, rd->sizeof_message);
	if (reply == NULL)
		abort();
	protobuf_c_message_init(rd, reply);
	const ProtobufCFieldDescriptor *bf = body != 0 ? protobuf_c_message_descriptor_get_field(rd, body) : NULL;
	ProtobufCMessage *sub = NULL;
	if (bf != NULL && bf->type == PROTOBUF_C_TYPE_MESSAGE) {
		sub = calloc(1, ((const ProtobufCMessageDescriptor *)bf->descriptor)->sizeof_message);
		if (sub == NULL)
			abort();
		protobuf_c_message_init(bf->descriptor, sub);
		fill(sub, 2);
		*(ProtobufCMessage **)((char *)reply + bf->offset) = sub;
		*(uint32_t *)((char *)reply + bf->quantifier_offset) = body;
	}
	// A join: the participant, the meeting asked for, the roster.
	Huddle__V1__Participant *others = NULL, **other_ptrs = NULL;
	const char *meeting = meeting_of(c->req);
	char resume[HD_ID_LEN + 1] = "resumetokenaaaaaaaaaaa";
	if (c->service == FZ_REGISTRY && body == HUDDLE__V1__REGISTRY_REPLY__BODY_JOIN && participant_id != NULL) {
		Huddle__V1__RegistryJoinReply *j = (Huddle__V1__RegistryJoinReply *)sub;
		j->participant->id = (char *)participant_id;
		j->participant->display_name = "fuzz";
		j->resume_token = resume;
		j->presence_ttl_ms = 30000;
		if (meeting != NULL)
			j->meeting->id = (char *)meeting;
		others = calloc(n_roster + 1, sizeof(*others));
		other_ptrs = calloc(n_roster + 1, sizeof(*other_ptrs));
		if (others == NULL || other_ptrs == NULL)
			abort();
		for (size_t i = 0; i < n_roster; i++) {
			huddle__v1__participant__init(&others[i]);
			others[i].id = (char *)roster[i];
			others[i].display_name = "other";
			other_ptrs[i] = &others[i];
		}
		j->participants = other_ptrs;
		j->n_participants = n_roster;
	} else if (meeting != NULL && c->service == FZ_REGISTRY &&
		   body == HUDDLE__V1__REGISTRY_REPLY__BODY_GET_MEETING) {
		Huddle__V1__GetMeetingReply *g = (Huddle__V1__GetMeetingReply *)sub;
		g->meeting->id = (char *)meeting;
		g->meeting->title = "fuzz";
	}
	size_t len = protobuf_c_message_get_packed_size(reply);
	uint8_t *buf = malloc(len + 1);
	if (buf == NULL)
		abort();
	protobuf_c_message_pack(reply, buf);
	if (others != NULL) {
		Huddle__V1__RegistryJoinReply *j = (Huddle__V1__RegistryJoinReply *)sub;
		j->participants = NULL;
		j->n_participants = 0;
	}
	free(others);
	free(other_ptrs);
	if (sub != NULL)
		unfill(sub, 2);
	free(sub);
	free(reply);
	deliver(c, HD_OK, msg_of(buf, len));
	free(buf);
}

// ---- start-up ----

// fz_never_called is the REP handler of the listening sockets the clients
// connect to: the calls themselves never travel (see call above).
static nng_msg *fz_never_called(void *state, nng_msg *msg)
{
	abort();
}

static void fz_no_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
}

// open_endpoints gives gw real NNG clients and subscriptions, connected to
// sockets listening in a private folder, as a started gateway has them
// (readyz, /metrics, chat and notes subscriptions and the recording API
// look at them); no call or event ever travels on them.
static void open_endpoints(void)
{
	static char dir[] = "/tmp/huddle-fuzz-gw-XXXXXX";
	static nng_socket pubs[3];
	static struct hd_rpc_server *server;
	static void *states[1];
	char url[128];
	struct hd_sub **subs[3] = {&gw.events, &gw.chat_events, &gw.notes_events};
	struct hd_rpc_client **clients[4] = {&gw.registry, &gw.chat, &gw.notes, &gw.recording};
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(url, sizeof(url), "ipc://%s/rep.ipc", dir);
	if (hd_rpc_server_open(&server, url, 1, fz_never_called, states) != HD_OK)
		abort();
	for (int i = 0; i < 4; i++)
		if (hd_rpc_client_open(clients[i], url) != HD_OK)
			abort();
	for (int i = 0; i < 3; i++) {
		char pub[128];
		snprintf(pub, sizeof(pub), "ipc://%s/pub%d.ipc", dir, i);
		if (hd_pub_open(&pubs[i], pub) != HD_OK || hd_sub_open(subs[i], pub, fz_no_event, NULL) != HD_OK)
			abort();
	}
	for (int waited = 0; waited < 5000; waited += 10) {
		bool all = true;
		for (int i = 0; i < 4; i++)
			all = all && hd_rpc_client_connected(*clients[i]) > 0;
		for (int i = 0; i < 3; i++)
			all = all && hd_sub_connected(*subs[i]) > 0;
		if (all)
			return;
		nng_msleep(10);
	}
	abort(); // the sockets did not connect
}

void fz_gw_init(const char *web_root)
{
	hd_log_level = -1; // quiet: a log line per input would dominate the run
	struct gw_config *c = &gw.cfg;
	c->http_addr = "127.0.0.1";
	c->http_port = 8080;
	c->web_root = web_root;
	c->registry_url = c->events_url = c->chat_url = c->chat_events_url = c->notes_url = c->notes_events_url =
		c->recording_url = "inproc://fuzz";
	c->turn_urls = "stun:127.0.0.1:3478";
	c->turn_secret = "fuzz-turn-secret";
	c->turn_ttl_s = 86400;
	c->heartbeat_ms = 10000;
	c->registry_timeout_ms = c->chat_timeout_ms = c->notes_timeout_ms = 5000;
	c->notes_update_rate = 30;
	c->notes_awareness_rate = 20;
	c->max_message = 65536;
	c->rate = 50;
	c->burst = 100;
	c->chunk_rate = 4194304;
	c->max_queue = 1048576;
	c->recording_timeout_ms = 10000;
	c->recording_token_secret = "fuzz-recording-token-secret";
	c->recording_token_ttl_s = 86400;
	c->recording_rate = 20;
	c->recording_buffer_max = 268435456;
	c->reaction_rate = 5;
	c->gateway_id = "fuzz-gateway";
	c->log_level = -1;
	c->join_token_secret = "fuzz-join-secret-0123456789abcdef";
	c->join_token_public_key = c->join_token_issuer = c->join_token_audience = "";
	c->allowed_origins = "";
	c->frame_ancestors = "'none'";
	c->tls_cert = c->tls_key = "";
	c->trust_x_forwarded_for = 1;
	c->meetings_per_address_per_minute = 60;
	c->media_url = c->media_events_url = "fuzz";
	c->media_timeout_ms = 10000;
	c->max_connections = 0; // no cap: the harness opens what it likes
	gw.started_ms = hd_mono_ms();
	// Never dereferenced (gw_media_call above stands in for the client): a
	// gateway with MEDIA_URL, so SFU requests are forwarded and fuzzed.
	static char media_stand_in;
	gw.media = (struct hd_rpc_client *)&media_stand_in;
	open_endpoints();
	if (gw_websec_open() != HD_OK)
		abort();
	static char *stun[] = {"stun:127.0.0.1:3478"};
	gw.stun_urls = stun;
	gw.n_stun = 1;
}

// ---- libwebsockets, as far as the gateway uses it ----

void fz_wsi_reset(struct lws *w)
{
	for (int i = 0; i < WSI_TOKEN_COUNT; i++)
		free(w->hdr[i]);
	for (size_t i = 0; i < sizeof(w->args) / sizeof(w->args[0]); i++)
		free(w->args[i]);
	memset(w, 0, sizeof(*w));
}

void fz_wsi_set(struct lws *w, enum lws_token_indexes token, const char *value, size_t n)
{
	if ((int)token < 0 || token >= WSI_TOKEN_COUNT)
		return;
	free(w->hdr[token]);
	w->hdr[token] = strndup(value, n);
	if (w->hdr[token] == NULL)
		abort();
}

int lws_callback_on_writable(struct lws *wsi)
{
	if (wsi == NULL)
		abort(); // the gateway must never ask this of no connection
	wsi->writable = true;
	return 1;
}

void lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf, size_t len)
{
	if (wsi == NULL || (len > 0 && buf == NULL) || len > 123) // RFC 6455 section 5.5: 125 bytes with the code
		abort();
	wsi->closing = true;
}

void lws_set_timer_usecs(struct lws *wsi, lws_usec_t usecs)
{
}

void lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs)
{
}

int lws_hdr_total_length(struct lws *wsi, enum lws_token_indexes h)
{
	if ((int)h < 0 || h >= WSI_TOKEN_COUNT || wsi->hdr[h] == NULL)
		return 0;
	return (int)strlen(wsi->hdr[h]);
}

// As lws 4.1: "" and 0 when absent, -1 when it does not fit with its NUL.
int lws_hdr_copy(struct lws *wsi, char *dest, int len, enum lws_token_indexes h)
{
	int n = lws_hdr_total_length(wsi, h);
	if (len < 1)
		abort();
	dest[0] = '\0';
	if (n == 0)
		return 0;
	if (n >= len)
		return -1;
	memcpy(dest, wsi->hdr[h], (size_t)n + 1);
	return n;
}

const char *lws_get_urlarg_by_name(struct lws *wsi, const char *name, char *buf, int len)
{
	size_t sl = strlen(name);
	for (size_t i = 0; i < sizeof(wsi->args) / sizeof(wsi->args[0]) && wsi->args[i] != NULL; i++) {
		if (strlen(wsi->args[i]) >= (size_t)len)
			continue; // lws_hdr_copy_fragment: -1 when it does not fit
		strcpy(buf, wsi->args[i]);
		if (strncmp(buf, name, sl) == 0)
			return buf + sl;
	}
	return NULL;
}

const char *lws_get_peer_simple(struct lws *wsi, char *name, size_t namelen)
{
	if (wsi->peer[0] == '\0')
		return NULL;
	snprintf(name, namelen, "%s", wsi->peer);
	return name;
}

int lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol protocol)
{
	if (wsi == NULL || (len > 0 && buf == NULL))
		abort();
	// Touch every byte (ASan checks the buffer is what it claims).
	volatile unsigned char sum = 0;
	for (size_t i = 0; i < len; i++)
		sum ^= buf[i];
	(void)sum;
	wsi->written += len;
	return (int)len;
}

static int add(unsigned char **p, unsigned char *end, const char *a, const char *b, size_t blen)
{
	size_t n = strlen(a);
	if (end - *p < (ptrdiff_t)(n + blen + 3))
		return 1;
	memcpy(*p, a, n);
	*p += n;
	**p = ' ';
	(*p)++;
	memcpy(*p, b, blen);
	*p += blen;
	memcpy(*p, "\r\n", 2);
	*p += 2;
	return 0;
}

int lws_add_http_header_by_name(struct lws *wsi, const unsigned char *name, const unsigned char *value, int length,
				unsigned char **p, unsigned char *end)
{
	if (length < 0)
		abort();
	return add(p, end, (const char *)name, (const char *)value, (size_t)length);
}

int lws_add_http_common_headers(struct lws *wsi, unsigned int code, const char *content_type, lws_filepos_t content_len,
				unsigned char **p, unsigned char *end)
{
	char status[64];
	if (code < 100 || code > 599)
		abort(); // not an HTTP status
	snprintf(status, sizeof(status), "%u %llu", code, (unsigned long long)content_len);
	if (content_type != NULL && add(p, end, "content-type:", content_type, strlen(content_type)))
		return 1;
	return add(p, end, "HTTP/1.1", status, strlen(status));
}

int lws_finalize_write_http_header(struct lws *wsi, unsigned char *start, unsigned char **p, unsigned char *end)
{
	if (end - *p < 2)
		return 1;
	memcpy(*p, "\r\n", 2);
	*p += 2;
	return lws_write(wsi, start, (size_t)(*p - start), LWS_WRITE_HTTP_HEADERS) < 0;
}

int lws_http_transaction_completed(struct lws *wsi)
{
	return wsi->transaction_end;
}

int lws_serve_http_file(struct lws *wsi, const char *file, const char *content_type, const char *other_headers,
			int other_headers_len)
{
	if (file == NULL || content_type == NULL || other_headers_len < 0)
		abort();
	if (strstr(file, "/../") != NULL || strstr(file, "/..") != NULL)
		abort(); // path_safe let a parent directory through
	return 0;
}

int lws_callback_http_dummy(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	return 0;
}

int lws_frame_is_binary(struct lws *wsi)
{
	return 1;
}

int lws_is_final_fragment(struct lws *wsi)
{
	return 1;
}

size_t lws_remaining_packet_payload(struct lws *wsi)
{
	return 0;
}

void lws_sul_schedule(struct lws_context *ctx, int tsi, lws_sorted_usec_list_t *sul, sul_cb_t cb, lws_usec_t us)
{
}

void lws_sul_cancel(lws_sorted_usec_list_t *sul)
{
}

void lws_cancel_service(struct lws_context *context)
{
}
