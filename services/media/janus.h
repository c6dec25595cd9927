// janus.h: huddle-media's one connection to Janus's WebSocket API (a
// libwebsockets client, subprotocol "janus-protocol"; the Janus API is
// documented at https://janus.conf.meetecho.com/docs/rest.html). It owns a
// Janus session with one VideoRoom handle (the room handle, for rooms.c's
// administrative requests): it creates them, keeps the session alive,
// reconnects with backoff when the WebSocket drops and then claims the same
// session, and matches each answer to its request by transaction id, both
// synchronous ("success") and asynchronous ("ack", then an "event" with the
// same transaction). Participants' own handles (attached in the same
// session by media_janus_attach) carry the JSEP requests; messages Janus
// sends about them unasked go to the event callback by sender. Requests come
// from REP worker threads and block until their answer; one lws service
// thread does all the I/O.
#ifndef MEDIA_JANUS_H
#define MEDIA_JANUS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

// MEDIA_JANUS_WHY_MAX is the room (bytes, with the NUL) for the reason a
// request failed.
#define MEDIA_JANUS_WHY_MAX 256

// media_janus_config: what the connection needs (strings borrowed for the
// connection's life).
struct media_janus_config {
	const char *url;          // ws://host:port[/path] of Janus's WebSocket transport
	const char *api_secret;   // every request's "apisecret"; never logged
	int64_t keepalive_ms;     // a keepalive this often while the session is up
	int64_t timeout_ms;       // most time a request waits for its reply
	int64_t reconnect_min_ms; // first wait before reconnecting; doubles each failure
	int64_t reconnect_max_ms; // ... up to this
	size_t message_max;       // largest message accepted from Janus, bytes
};

// media_janus_stats: counters since media_janus_open (for health and logs).
struct media_janus_stats {
	int ready;           // the WebSocket is up and the session and handle exist
	uint64_t connects;   // WebSocket connections established
	uint64_t claims;     // reconnections that claimed the old session
	uint64_t sessions;   // sessions created (a claim that fails creates a new one)
	uint64_t session_id; // the current Janus session (0: none)
};

struct media_janus;

// media_janus_open starts the service thread, which connects to cfg->url
// (in the background, retrying with backoff: Janus may start later).
// Returns HD_OK with *out the caller's, HD_EBADREQUEST for a URL that is not
// ws://host[:port][/path], HD_ENOMEM, or HD_EINTERNAL when lws or the thread
// cannot start.
hd_err media_janus_open(struct media_janus **out, const struct media_janus_config *cfg);

// media_janus_close stops the service thread, closes the WebSocket (the
// session then expires in Janus after its reclaim timeout), fails calls
// still waiting with HD_ECLOSED, and frees j. NULL is a no-op.
void media_janus_close(struct media_janus *j);

// media_janus_message sends body (a VideoRoom request such as {"request":
// "exists", ...}; borrowed) to the VideoRoom handle and waits for its
// synchronous answer. On HD_OK *data is the plugin's answer ("plugindata".
// "data", the caller's to cJSON_Delete); the VideoRoom's own error answers
// ({"videoroom": "event", "error_code": ...}) are returned as HD_OK too, for
// the caller to read. Errors: HD_EUNAVAILABLE (not connected or no session
// yet; why says which), HD_ETIMEOUT (no answer within timeout_ms),
// HD_EINTERNAL (Janus answered with an error: why holds its code and
// reason), HD_ECLOSED, HD_ENOMEM. why (MEDIA_JANUS_WHY_MAX bytes) is set on
// error. Thread-safe; blocks the calling thread.
hd_err media_janus_message(struct media_janus *j, const cJSON *body, cJSON **data, char *why);

// media_janus_attach attaches a new VideoRoom handle in the session (a
// participant's publisher or subscriber) and writes its id to *handle and
// the session's id to *session (handles die with their session: a caller
// compares it with media_janus_get_stats' session_id to know whether its
// handles still exist). Errors as media_janus_message.
hd_err media_janus_attach(struct media_janus *j, uint64_t *handle, uint64_t *session, char *why);

// media_janus_detach detaches handle (Janus hangs its PeerConnection up and
// the VideoRoom makes it leave its room). Errors as media_janus_message;
// HD_EINTERNAL also when Janus does not know the handle.
hd_err media_janus_detach(struct media_janus *j, uint64_t handle, char *why);

// media_janus_send sends body (a VideoRoom request; borrowed) with jsep
// ({"type", "sdp"}; borrowed; NULL: none) to handle and waits for its
// answer, synchronous or asynchronous (the "event" after Janus's "ack"). On
// HD_OK *data is the answer's plugindata.data and, when jsep_out is not
// NULL, *jsep_out its "jsep" (NULL when it has none); both the caller's to
// cJSON_Delete. VideoRoom error answers come back as HD_OK, as
// media_janus_message's. Errors as media_janus_message. Thread-safe; blocks.
hd_err media_janus_send(struct media_janus *j, uint64_t handle, const cJSON *body, const cJSON *jsep, cJSON **data,
			cJSON **jsep_out, char *why);

// media_janus_trickle passes candidate to handle's ICE agent: an object
// {"candidate", "sdpMid", "sdpMLineIndex"} or {"completed": true}
// (borrowed). Janus's "ack" is the whole answer. Errors as
// media_janus_message.
hd_err media_janus_trickle(struct media_janus *j, uint64_t handle, const cJSON *candidate, char *why);

// media_janus_event_fn receives, on the lws service thread and without j's
// lock held, every message Janus sends unasked (no transaction) about a handle
// (VideoRoom events such as "publishers", "talking", a subscriber
// renegotiation; "webrtcup", "hangup", ...): handle is its "sender" and msg
// the whole message (borrowed for the call). handle 0 with msg NULL means
// Janus was lost (the connection dropped or the session expired): every
// participant's media stopped. It must not call the blocking functions
// above (they need this thread).
typedef void (*media_janus_event_fn)(void *arg, uint64_t handle, const cJSON *msg);

// media_janus_set_events installs fn (NULL: none) with arg. Thread-safe.
void media_janus_set_events(struct media_janus *j, media_janus_event_fn fn, void *arg);

// media_janus_get_stats copies the counters. Thread-safe.
void media_janus_get_stats(struct media_janus *j, struct media_janus_stats *st);

#endif
