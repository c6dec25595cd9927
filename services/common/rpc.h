// rpc.h: NNG request/reply between Huddle daemons (REQ/REP with nng_ctx)
// and the room-event bus (PUB/SUB, topic = meeting id + NUL).
#ifndef HD_RPC_H
#define HD_RPC_H

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

// HD_RPC_MSG_MAX is the most bytes of one request, reply or event a Huddle
// socket receives (NNG_OPT_RECVMAXSZ): a larger message is dropped by the
// receiver, so a reply or event must be packed to fit. 4 MiB and 64 KiB: a
// recording chunk of 4 MiB (recording.proto) fits with its envelope.
#define HD_RPC_MSG_MAX ((4 << 20) + (64 << 10))

// hd_msg_pack packs a protobuf message into a new nng_msg (*out, owned by the
// caller). Returns HD_OK or HD_ENOMEM.
hd_err hd_msg_pack(const ProtobufCMessage *pb, nng_msg **out);

// hd_rpc_error_reply packs a reply of type reply_desc carrying only an Error
// {code, why} for request_id (why NULL: hd_strerror(code)). reply_desc is a
// service's *Reply message, which has `uint64 request_id = 1` and
// `Error error = 2` (proto/huddle/v1). Returns the message (the caller's), or
// NULL when out of memory or reply_desc lacks those fields (logged).
nng_msg *hd_rpc_error_reply(const ProtobufCMessageDescriptor *reply_desc, uint64_t request_id, hd_err code,
			    const char *why);

// ---- serving a service's requests through its op table ----

// hd_rpc_reply is the reply to one request while its op runs: the service's
// *Reply message (request_id set) and, once packed, the bytes to send.
struct hd_rpc_reply {
	ProtobufCMessage *msg;
	nng_msg *out;
};

// hd_rpc_op serves one request body (the set member of the request's oneof,
// e.g. a ChatServicePostRequest) on a REP worker thread with that worker's
// state. On success it packs the reply with hd_rpc_reply_pack while the data
// the reply body points at is still alive, and returns HD_OK; on error it
// returns the code and sets *why to a static text naming the field at fault,
// and the dispatcher answers with an Error. body is borrowed.
typedef hd_err (*hd_rpc_op)(void *worker_state, const void *body, struct hd_rpc_reply *rep, const char **why);

// hd_rpc_service is one daemon's REQ/REP calls: request and reply are the
// descriptors of its *Request (uint64 request_id = 1, one oneof body of
// messages) and *Reply (request_id = 1, Error error = 2, one oneof body whose
// members each have their own message type); ops is the op table, indexed by
// the request body's field number (NULL entries: unknown bodies).
struct hd_rpc_service {
	const char *name; // the daemon, as in "request carries no body huddle-chat knows"
	const ProtobufCMessageDescriptor *request;
	const ProtobufCMessageDescriptor *reply;
	const hd_rpc_op *ops;
	size_t n_ops;
};

// hd_rpc_dispatch serves one packed request of svc (msg, borrowed) with
// worker_state: it unpacks it, finds request_id and the body through the
// descriptor, runs the body's op and frees the request. The reply echoes
// request_id and carries Error{code, why} when the op fails; bytes that do
// not decode get MALFORMED with request_id 0, a request without a body in
// the table UNKNOWN_TYPE. Internal failures (HD_EINTERNAL, HD_ENOMEM) are
// logged. Returns the packed reply (the caller's), or NULL only when even an
// error reply cannot be allocated (the client then times out).
nng_msg *hd_rpc_dispatch(const struct hd_rpc_service *svc, void *worker_state, nng_msg *msg);

// hd_rpc_reply_pack packs rep->msg with body (borrowed) as the member of its
// oneof whose type is body's, into rep->out. Returns HD_OK, HD_ENOMEM, or
// HD_EINTERNAL when the reply has no member of that type (logged).
hd_err hd_rpc_reply_pack(struct hd_rpc_reply *rep, const ProtobufCMessage *body);

// ---- client side (REQ) ----

struct hd_rpc_client;

// hd_rpc_client_callback receives the outcome of hd_rpc_call_async on an NNG
// thread. On HD_OK it owns reply; otherwise reply is NULL and err is
// HD_ETIMEOUT, HD_EUNAVAILABLE, HD_ECLOSED (client closing) or HD_ENOMEM.
typedef void (*hd_rpc_client_callback)(void *arg, hd_err err, nng_msg *reply);

// hd_rpc_client_open opens a REQ socket dialing every comma-separated URL in
// urls (in the background, retrying, so the server may start later).
// Requests are spread over connected servers. Returns HD_OK,
// HD_EBADREQUEST for a bad URL, or HD_ENOMEM.
hd_err hd_rpc_client_open(struct hd_rpc_client **out, const char *urls);

// hd_rpc_client_close cancels outstanding calls (each callback not yet run
// runs with HD_ECLOSED before it returns) and frees the client. NULL is a
// no-op. Never call it from a callback.
void hd_rpc_client_close(struct hd_rpc_client *c);

// hd_rpc_call_async sends req and calls cb once with the reply or an error,
// at most timeout_ms later. Takes ownership of req when it returns HD_OK
// (then cb always runs); on error nothing is sent and req is still the
// caller's. Thread-safe.
hd_err hd_rpc_call_async(struct hd_rpc_client *c, nng_msg *req, int32_t timeout_ms, hd_rpc_client_callback cb,
			 void *arg);

// hd_rpc_client_connected returns how many servers c is connected to now
// (0 while dialing or after they went away: a call then waits for a server
// until its timeout). Thread-safe.
int hd_rpc_client_connected(struct hd_rpc_client *c);

// hd_rpc_call is the blocking form: on HD_OK *reply is the caller's; req is
// always consumed. Errors as for the callback.
hd_err hd_rpc_call(struct hd_rpc_client *c, nng_msg *req, int32_t timeout_ms, nng_msg **reply);

// ---- server side (REP) ----

struct hd_rpc_server;

// hd_rpc_handler serves one request on worker thread `worker` (0..n-1) with
// that worker's state. It borrows req and returns the reply (owned by the
// server afterwards), or NULL to drop the request (the client times out).
typedef nng_msg *(*hd_rpc_handler)(void *worker_state, nng_msg *req);

// hd_rpc_server_open listens on url with a REP socket and starts nworkers
// threads, each with its own nng_ctx, calling fn with worker_states[i]
// (borrowed; must outlive the server). Returns HD_OK, HD_EUNAVAILABLE when
// the address cannot be bound, HD_EBADREQUEST for a bad URL, HD_ENOMEM.
hd_err hd_rpc_server_open(struct hd_rpc_server **out, const char *url, int nworkers, hd_rpc_handler fn,
			  void **worker_states);

// hd_rpc_server_close closes the socket, which wakes the workers, and joins
// them; a handler running finishes first. NULL is a no-op.
void hd_rpc_server_close(struct hd_rpc_server *s);

// ---- events (PUB/SUB) ----

// hd_pub_open listens on url with a PUB socket. Errors as hd_rpc_server_open.
hd_err hd_pub_open(nng_socket *out, const char *url);

// hd_pub_send publishes data (len bytes) under topic (a meeting id): the
// message is topic, one NUL byte, data. Never blocks; slow subscribers lose
// messages (NNG pub0 semantics). Returns HD_OK, HD_ENOMEM or HD_ECLOSED.
hd_err hd_pub_send(nng_socket pub, const char *topic, const uint8_t *data, size_t len);

// hd_pub_pack packs an event for hd_pub_send_msg: topic, one NUL byte,
// then pb packed. On HD_OK *out is the caller's. Returns HD_OK, HD_ENOMEM.
hd_err hd_pub_pack(const char *topic, const ProtobufCMessage *pb, nng_msg **out);

// hd_pub_send_msg publishes an event packed by hd_pub_pack, taking m
// whatever the outcome. Never blocks. Returns HD_OK or HD_ECLOSED.
hd_err hd_pub_send_msg(nng_socket pub, nng_msg *m);

struct hd_sub;

// hd_sub_callback gets each event (topic NUL-terminated, data borrowed for
// the call) on an NNG thread, one event at a time, in arrival order.
typedef void (*hd_sub_callback)(void *arg, const char *topic, const uint8_t *data, size_t len);

// hd_sub_open opens a SUB socket dialing every comma-separated URL (in the
// background, retrying) and starts delivering subscribed topics to cb.
// Errors as hd_rpc_client_open.
hd_err hd_sub_open(struct hd_sub **out, const char *urls, hd_sub_callback cb, void *arg);

// hd_sub_subscribe / hd_sub_unsubscribe add or drop a topic (a meeting id).
// Subscriptions are not counted: subscribe once, unsubscribe once. Returns
// HD_OK or HD_ENOMEM.
hd_err hd_sub_subscribe(struct hd_sub *s, const char *topic);
hd_err hd_sub_unsubscribe(struct hd_sub *s, const char *topic);

// hd_sub_connected returns how many publishers the socket is connected to
// now (0 while dialing or after they went away). Thread-safe.
int hd_sub_connected(struct hd_sub *s);

// hd_sub_connections returns how many times a publisher connection was
// established since hd_sub_open (it only grows, wrapping at UINT_MAX). A
// change means a publisher (re)connected and events sent while it was away
// were lost; callers compare it with the value they saw last. Thread-safe.
unsigned hd_sub_connections(struct hd_sub *s);

// hd_sub_close stops delivery (waits for a running callback) and frees s.
void hd_sub_close(struct hd_sub *s);

#endif
