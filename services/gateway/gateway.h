// gateway.h: the gateway's process-wide state, owned by the lws service
// thread (only that thread reads or writes it, except where noted).
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <libwebsockets.h>
#include <stdint.h>

#include "common/jwt.h"
#include "common/rpc.h"
#include "common/util.h"
#include "huddle/v1/chat.pb-c.h"
#include "huddle/v1/media.pb-c.h"
#include "huddle/v1/notes.pb-c.h"
#include "huddle/v1/recording.pb-c.h"
#include "huddle/v1/registry.pb-c.h"

struct gw_session;
struct gw_room;
struct gw_chat_room;
struct gw_notes_room;
struct gw_http;

// gw_config is what main reads from the environment (see main.c's table).
struct gw_config {
	const char *http_addr;
	int64_t http_port;
	const char *web_root;
	const char *registry_url;
	const char *events_url;
	const char *turn_urls;
	const char *turn_secret;
	int64_t turn_ttl_s;
	int64_t heartbeat_ms;
	int64_t registry_timeout_ms;
	const char *chat_url;
	const char *chat_events_url;
	int64_t chat_timeout_ms;
	const char *notes_url;
	const char *notes_events_url;
	int64_t notes_timeout_ms;
	int64_t notes_update_rate;    // notes updates per second per connection (bucket: twice that)
	int64_t notes_awareness_rate; // awareness updates per second per connection (bucket: twice that)
	int64_t max_message;          // bytes per WebSocket message
	int64_t rate;                 // messages per second per connection
	int64_t burst;                // bucket size
	int64_t chunk_rate;           // bytes of chunk frames per second per connection (bucket: GW_WS_CHUNK_BURST)
	int64_t max_queue;            // bytes queued to one slow client before closing it
	const char *recording_url;
	int64_t recording_timeout_ms;
	const char *media_url;        // huddle-media (SFU) requests; "" = no SFU on this gateway
	const char *media_events_url; // huddle-media's MediaEvents; "" = none
	int64_t media_timeout_ms;
	const char *recording_token_secret;
	int64_t recording_token_ttl_s;
	int64_t recording_rate;       // recording writes per second per participant (bucket: twice that)
	int64_t recording_buffer_max; // bytes of upload bodies and download pieces held at once
	int64_t reaction_rate;        // reactions per GW_REACTION_WINDOW_S per session (the bucket holds as many)
	const char *gateway_id;
	int log_level; // enum hd_log_level
	// web security and signed join links (websec.c); "" when unset
	const char *join_token_secret;     // HS256 key: the bytes of this string
	const char *join_token_public_key; // path of a PEM public key (RS256 or ES256)
	const char *join_token_issuer;
	const char *join_token_audience;
	const char *allowed_origins;   // comma list of origins; "": the request's own Host
	const char *frame_ancestors;   // CSP frame-ancestors source list
	const char *tls_cert;          // PEM certificate chain path; with tls_key: HTTPS/WSS
	const char *tls_key;           // PEM private key path
	int64_t trust_x_forwarded_for; // 1: a client's address is X-Forwarded-For's last entry (behind a proxy)
	int64_t meetings_per_address_per_minute; // POST /api/meetings and /api/spaces per client address per minute; 0: no limit
	int64_t max_connections_per_address; // WebSockets open at once per client address; 0: no limit
	int64_t max_connections;    // WebSockets open at once on this gateway (main sets it from the fd limit when 0)
	int64_t prejoin_turn_ttl_s; // lifetime of pre-join TURN credentials, s (prejoin.c)
	int64_t prejoin_ice_rate;   // pre-join ICE server requests per connection per GW_PREJOIN_WINDOW_S
};

// GW_REACTION_WINDOW_S is REACTION_RATE's window: a session may send
// REACTION_RATE reactions per this many seconds, all at once at most.
#define GW_REACTION_WINDOW_S 10

// GW_FD_RESERVE is how many of the process's file descriptors (ulimit -n)
// are kept from clients: NNG sockets and pipes, Redis, the store, logs,
// lws's own. With MAX_CONNECTIONS from the limit (main.c fd_budget), the
// WebSockets and GW_HTTP_FD_HEADROOM plain HTTP connections fit beside
// them, so accept() does not fail with EMFILE (seen at 10,000 connections
// with a limit of 11,024 before the cap).
#define GW_FD_RESERVE 128
// GW_HTTP_FD_HEADROOM: client descriptors left for plain HTTP (the web app,
// API, downloads) when MAX_CONNECTIONS comes from the fd limit.
#define GW_HTTP_FD_HEADROOM 128
// GW_FD_MIN is the smallest fd limit the gateway starts with.
#define GW_FD_MIN (GW_FD_RESERVE + GW_HTTP_FD_HEADROOM + 16)

// Keepalive (RFC 6455 section 5.5.2): a client silent for GW_PING_AFTER_S
// gets a WebSocket PING (browsers answer with a PONG by themselves), and
// one silent for GW_HANGUP_AFTER_S is dropped. Checked every
// GW_KEEPALIVE_CHECK_MS over all sessions (gw_ws_keepalive), with the time
// of the last frame kept per session. Not lws's retry policy: lws 4.1.6
// re-inserts a connection's validity timer into one sorted list on every
// frame received, a walk over every connection (with 10,000 connections it
// was a quarter of the gateway's CPU and relays waited for seconds).
#define GW_PING_AFTER_S 20
#define GW_HANGUP_AFTER_S 35
#define GW_KEEPALIVE_CHECK_MS 1000

// GW_WS_CHUNK_BURST is the bucket of WS_CHUNK_RATE, bytes: two largest
// messages may arrive back to back.
#define GW_WS_CHUNK_BURST ((uint32_t)(2 * HD_WS_MESSAGE_MAX))

// gw_stats are counters for /metrics.
struct gw_stats {
	uint64_t ws_opened, ws_closed, frames_in, frames_out, joins, resumes, signals_local, signals_remote,
		errors_sent, rate_limited, malformed, http_requests, origin_refused, conn_refused, slow_closed,
		full_refused, idle_closed;
	uint64_t chunks_in, chunked_in, chunked_out, chunk_errors;
	uint64_t chat_subscribes, chat_posts, chat_history, chat_events_in, chat_delivered, chat_fills, chat_failures,
		chat_exports;
	uint64_t notes_subscribes, notes_opens, notes_updates, notes_awareness, notes_snapshots, notes_versions,
		notes_events_in, notes_delivered, notes_awareness_delivered, notes_fills, notes_failures,
		notes_rate_limited, notes_exports;
	uint64_t rec_creates, rec_chunks, rec_finishes, rec_lists, rec_gets, rec_files, rec_deletes, rec_chunk_bytes,
		rec_file_bytes, rec_unauthorized, rec_forbidden, rec_rate_limited, rec_busy, rec_failures;
	uint64_t access_refused, admissions, denials, removals, reactions; // access.c
	uint64_t prejoin_ice;                                              // prejoin.c: ICE servers given
};

struct gw {
	struct gw_config cfg;
	struct lws_context *ctx;
	struct hd_rpc_client *registry;    // thread-safe
	struct hd_sub *events;             // thread-safe
	struct gw_session *sessions;       // by id (uthash)
	struct gw_room *rooms;             // by meeting id (uthash)
	struct hd_rpc_client *chat;        // huddle-chat requests; thread-safe
	struct hd_sub *chat_events;        // huddle-chat event bus; thread-safe
	struct gw_chat_room *chat_rooms;   // by meeting id (uthash)
	struct hd_rpc_client *notes;       // huddle-notes requests; thread-safe
	struct hd_sub *notes_events;       // huddle-notes event bus; thread-safe
	struct gw_notes_room *notes_rooms; // by meeting id (uthash)
	struct hd_rpc_client *recording;   // huddle-recording requests; thread-safe
	struct hd_rpc_client *media;       // huddle-media requests (NULL: no MEDIA_URL); thread-safe
	struct hd_sub *media_events;       // huddle-media's event bus (NULL: no MEDIA_EVENTS_URL)
	struct gw_http *https;             // HTTP requests waiting for the registry
	uint64_t next_id;
	char **stun_urls, **turn_urls;
	size_t n_stun, n_turn;
	struct gw_stats stats;
	lws_sorted_usec_list_t heartbeat_timer;
	lws_sorted_usec_list_t keepalive_timer;
	int64_t started_ms;
	// jwt verifies (and mints, with a secret) signed join links: filled at
	// start from JOIN_TOKEN_* (the public key's PEM text read from its file).
	struct hd_jwt_config jwt;
	struct gw_websec *websec; // origins, headers, create rate limits (websec.c)
};

extern struct gw gw;

// gw_op names what a pending registry, chat or notes call was for. Its order means
// nothing: route.c's table says which service each op calls and who takes
// its reply (a new op needs an entry there).
enum gw_op {
	// registry calls for a WebSocket session
	GW_OP_JOIN,
	GW_OP_LEAVE,
	GW_OP_RELAY,
	GW_OP_MEDIA,
	GW_OP_CHAT_MEETING,  // GetMeeting before a chat subscription
	GW_OP_NOTES_MEETING, // GetMeeting before a notes subscription
	GW_OP_HEARTBEAT,
	GW_OP_ADMIT,        // a host's admit (access.c)
	GW_OP_MODERATE,     // a host's moderate
	GW_OP_SET_ACCESS,   // a host's set_access
	GW_OP_END_MEETING,  // a host's end_meeting
	GW_OP_HAND,         // a participant's hand
	GW_OP_REACTION,     // a participant's reaction
	GW_OP_ADMIT_ROSTER, // ListParticipants for a session a host admitted
	GW_OP_WATCH,        // a participant's watch (watch.c)
	GW_OP_ICE_SERVERS,  // GetMeeting before pre-join ICE servers (prejoin.c)
	// registry calls for an HTTP request
	GW_OP_HTTP_CREATE,
	GW_OP_HTTP_GET,
	GW_OP_HTTP_READY,
	GW_OP_HTTP_CHAT_MEETING,  // GetMeeting before a chat export
	GW_OP_HTTP_NOTES_MEETING, // GetMeeting before a notes export
	GW_OP_HTTP_REC_MEETING,   // GetMeeting before a recording list
	GW_OP_HTTP_SPACE_CREATE,  // POST /api/spaces (access_http.c)
	GW_OP_HTTP_SPACE_GET,     // GET /api/space
	GW_OP_HTTP_SPACE_MEETING, // POST /api/space/meetings
	GW_OP_HTTP_ADMIT,         // POST /api/meetings/<id>/admit
	GW_OP_HTTP_ACCESS,        // POST /api/meetings/<id>/access
	GW_OP_HTTP_LINKS,         // CheckHost before POST /api/meetings/<id>/links mints
	// huddle-chat calls
	GW_OP_CHAT_INIT,      // a new chat room learns its last_seq
	GW_OP_CHAT_FILL,      // a chat room reads the messages it missed
	GW_OP_CHAT_POST,      // a session's post
	GW_OP_CHAT_HISTORY,   // a session's history page
	GW_OP_HTTP_CHAT_PAGE, // a page of a chat export
	// huddle-notes calls
	GW_OP_NOTES_INIT,        // a new notes room learns a document's last_seq
	GW_OP_NOTES_FILL,        // a notes room reads the updates it missed
	GW_OP_NOTES_OPEN,        // a session's notes_open
	GW_OP_NOTES_UPDATE,      // a session's notes_update
	GW_OP_NOTES_AWARENESS,   // a session's notes_awareness
	GW_OP_NOTES_SNAPSHOT,    // a session's notes_snapshot
	GW_OP_NOTES_VERSIONS,    // a session's notes_versions
	GW_OP_NOTES_VERSION,     // a session's notes_version
	GW_OP_HTTP_NOTES_EXPORT, // the newest snapshot for a notes export
	// huddle-recording calls
	GW_OP_HTTP_RECORDING, // a call for a recording request over HTTP (recording.c knows its step)
	// huddle-media calls
	GW_OP_SFU,        // a session's ClientMessage.sfu (sfu.c)
	GW_OP_SFU_NOTICE, // a leave or revoke the gateway sends on a participant's behalf (sfu.c)
	GW_OP_COUNT,      // the number of ops; keep last
};

// gw_pending travels with a registry, chat, notes or recording call and comes back
// with its reply.
struct gw_pending {
	enum gw_op op;
	uint64_t conn_id;    // session, HTTP request, chat or notes room id; 0 for none
	uint32_t request_id; // the client's request id
	uint32_t document;   // notes calls: the DocumentKind they are about (replies do not name it)
};

// The calls below live in calls.c.

// gw_calls_open opens the clients and event subscriptions of every service
// (REGISTRY_URL ... RECORDING_URL; they dial in the background). Returns
// HD_OK, or the error of the first that cannot open (told on stderr;
// nothing stays open). gw_calls_close closes them, which completes every
// pending call into the bridge.
hd_err gw_calls_open(void);
void gw_calls_close(void);

// gw_registry_call sends req to the registry; the reply reaches op's
// handler in route.c on the service thread. Returns HD_OK, or
// HD_ENOMEM / HD_ECLOSED (nothing sent; the caller answers the client).
hd_err gw_registry_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__RegistryRequest *req);

// gw_chat_call sends req to huddle-chat (CHAT_TIMEOUT_MS bound); the reply
// reaches op's handler in route.c on the service thread.
// Returns HD_OK, or HD_ENOMEM / HD_ECLOSED (nothing sent; the caller
// answers).
hd_err gw_chat_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__ChatRequest *req);

// gw_notes_call sends req to huddle-notes (NOTES_TIMEOUT_MS bound) about
// document (a DocumentKind, handed back in the pending record); the reply
// reaches op's handler in route.c on the service thread. Returns HD_OK, or
// HD_ENOMEM / HD_ECLOSED (nothing sent; the caller answers).
hd_err gw_notes_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, uint32_t document,
		     Huddle__V1__NotesRequest *req);

// gw_media_call sends req (its request_id is set here) to huddle-media for
// op on behalf of conn_id/request_id. Returns HD_OK, HD_ECLOSED without
// MEDIA_URL, or the send's error (HD_ENOMEM).
hd_err gw_media_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__MediaRequest *req);

// gw_recording_call sends req to huddle-recording (RECORDING_TIMEOUT_MS
// bound); the reply reaches op's handler in route.c on the service thread.
// Returns HD_OK, or HD_ENOMEM / HD_ECLOSED (nothing sent; the caller
// answers).
hd_err gw_recording_call(enum gw_op op, uint64_t conn_id, uint32_t request_id, Huddle__V1__RecordingRequest *req);

// gw_drain handles everything NNG threads queued for the service thread
// (registry, chat, notes and recording replies, room, chat and notes events). Called on
// LWS_CALLBACK_EVENT_WAIT_CANCELLED.
void gw_drain(void);

// gw_next_id returns a fresh non-zero id for a session or HTTP request.
uint64_t gw_next_id(void);

#endif
