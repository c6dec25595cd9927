// session.h: one WebSocket connection (a browser) and its outgoing queue.
// Service thread only.
#ifndef GW_SESSION_H
#define GW_SESSION_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <uthash.h>

#include "common/store.h"
#include "common/util.h"
#include "gateway/chunk.h"
#include "gateway/ratelimit.h"
#include "huddle/v1/client.pb-c.h"
#include "huddle/v1/registry.pb-c.h"

struct lws;

enum gw_session_state {
	GW_SESSION_CONNECTED, // not in a meeting
	GW_SESSION_JOINING,   // Join sent to the registry
	GW_SESSION_JOINED,    // member of room
};

// gw_admission is where a joined session stands in its meeting (access.c).
enum gw_admission {
	GW_ADMISSION_NONE,      // not joined
	GW_ADMISSION_WAITING,   // in the waiting room: only its own events, no roster, no requests but leave/ping
	GW_ADMISSION_ADMITTING, // admitted by a host; the roster is being read (room events are buffered)
	GW_ADMISSION_ADMITTED,  // in the call
};

// GW_NAME_MAX is the size of a display name (bytes of UTF-8, JoinRequest).
#define GW_NAME_MAX 64

enum gw_chat_state {
	GW_CHAT_NONE,       // no chat subscription
	GW_CHAT_MEETING,    // GetMeeting sent to the registry
	GW_CHAT_WAITING,    // in a chat room that is learning its last_seq
	GW_CHAT_SUBSCRIBED, // receives the room's chat_message events
};

enum gw_notes_state {
	GW_NOTES_NONE,       // no notes subscription
	GW_NOTES_MEETING,    // GetMeeting sent to the registry
	GW_NOTES_WAITING,    // in a notes room that is learning its documents' last_seq
	GW_NOTES_SUBSCRIBED, // receives the room's notes events
};

// gw_notes_sub is a session's subscription to a meeting's shared documents
// (notes.c): one meeting per connection, joined or not.
struct gw_notes_sub {
	enum gw_notes_state state;
	uint32_t request_id; // the pending notes_subscribe
	char meeting_id[HD_ID_LEN + 1];
	char title[HD_MEETING_TITLE_MAX + 1];
	int64_t created_at_ms;
	char origin[HD_ID_LEN + 1];     // names this connection in awareness events; random, so unique on every gateway
	struct gw_notes_room *room;     // set while WAITING or SUBSCRIBED
	struct gw_session *prev, *next; // room's waiting or members list
	struct gw_ratelimit updates;    // NOTES_UPDATE_RATE
	struct gw_ratelimit awareness;  // NOTES_AWARENESS_RATE
	int access_mode;                // the meeting's AccessMode (updated by meeting_updated events)
};

struct gw_early_event {
	struct gw_early_event *next;
	size_t len;
	uint8_t data[]; // a packed RoomEvent
};

struct gw_out {
	struct gw_out *next;
	size_t len;
	bool chunk;    // one part of a message over a frame (FrameChunk)
	uint8_t buf[]; // LWS_PRE bytes of headroom, then len bytes
};

// gw_session is our per-connection state; lws's per-session data holds
// only a pointer to it, and everything else finds it by id.
struct gw_session {
	uint64_t id;
	struct lws *wsi;
	enum gw_session_state state;
	char meeting_id[HD_ID_LEN + 1];
	char participant_id[HD_ID_LEN + 1];
	struct gw_room *room; // set while JOINING or JOINED
	uint32_t join_request_id;

	// Hosts and access (access.c), set by the join reply while JOINED.
	enum gw_admission admission;
	int64_t hand_raised_at_ms;           // as the registry last said
	int64_t created_at_ms, starts_at_ms; // the joined meeting's record, with title and access_mode
	struct gw_ratelimit reactions;       // REACTION_RATE
	struct gw_ratelimit prejoin_rl;      // PREJOIN_ICE_RATE (prejoin.c)
	int role;                            // huddle.v1.Role
	int access_mode;                     // huddle.v1.AccessMode of the joined meeting
	uint32_t presence_ttl_ms;
	int media_mode;       // huddle.v1.MediaMode of the joined meeting (join reply, media_mode events)
	uint32_t media_epoch; // its epoch (low 32 bits: a meeting switches far fewer times)
	char resume_token[HD_ID_LEN + 1];
	char display_name[GW_NAME_MAX + 1];
	char title[HD_MEETING_TITLE_MAX + 1];
	bool host_present; // an admitted host is in the call (last WaitingChanged)

	uint8_t *rx; // reassembly of a fragmented message
	size_t rx_len, rx_cap;
	uint32_t malformed; // undecodable frames so far
	struct gw_ratelimit rl;
	struct gw_chunk_rx chunk_rx;  // a chunked ClientMessage in assembly
	struct gw_ratelimit chunk_rl; // bytes of chunk frames (WS_CHUNK_RATE)
	uint32_t chunk_out_id;        // message_id of the last chunked ServerMessage
	uint32_t limit_errors;        // RATE_LIMITED errors sent in limit_window_ms's window
	int64_t limit_window_ms;

	struct gw_out *out_head, *out_tail;
	size_t out_bytes;       // bytes of every frame queued
	size_t out_chunk_bytes; // of those, bytes of chunk frames
	uint16_t close_code;    // non-zero: close after the queue drains
	char close_reason[64];
	int64_t close_since_ms; // monotonic ms when closing began
	int64_t last_rx_ms;     // monotonic ms of the last data received

	// Room events that arrived while JOINING: the registry may publish
	// them before its join reply reaches us; replayed after the reply.
	// Also while ADMITTING: the admission's roster is read then.
	struct gw_early_event *early, *early_tail;
	size_t n_early;
	bool buffering; // on room->joining: events are kept in early
	bool ping_due;  // a keepalive PING waits for the next writeable
	bool ping_sent; // a PING went out since the last frame received
	bool sfu_used;  // an SFU request went to huddle-media (a leave follows when the session goes)
	struct gw_session *joining_prev, *joining_next; // room->joining list
	// Participants of the join reply's roster whose participant_joined may
	// still arrive late (the registry read them before publishing): each is
	// suppressed once so the client learns everyone exactly once. Owned by
	// room.c: set by gw_room_replay, freed by it and by gw_room_detach.
	char (*roster_pending)[HD_ID_LEN + 1];
	size_t n_roster_pending;

	// Chat (chat.c): one meeting per connection, joined or not.
	enum gw_chat_state chat_state;
	uint32_t chat_request_id; // the pending chat_subscribe
	char chat_meeting_id[HD_ID_LEN + 1];
	char chat_title[HD_MEETING_TITLE_MAX + 1];
	int64_t chat_created_at_ms;
	int chat_access_mode;                     // the chat meeting's AccessMode
	struct gw_chat_room *chat_room;           // set while WAITING or SUBSCRIBED
	struct gw_session *chat_prev, *chat_next; // chat_room's waiting or members list

	struct gw_notes_sub notes; // shared documents (notes.c)

	char addr_key[INET6_ADDRSTRLEN]; // MAX_CONNECTIONS_PER_ADDRESS's count this session is in; "" when none

	UT_hash_handle hh;        // gw.sessions, by id
	UT_hash_handle hh_member; // room->members, by participant id
};

// gw_session_admitted tells whether s is in the call (joined and admitted).
static inline bool gw_session_admitted(const struct gw_session *s)
{
	return s->state == GW_SESSION_JOINED && s->admission == GW_ADMISSION_ADMITTED;
}

// gw_session_may_read tells whether s may read and write the chat and
// notes of meeting_id, whose huddle.v1.AccessMode is access_mode: anyone
// for an OPEN meeting (0 reads as OPEN), otherwise only a session admitted
// in that meeting; never a session in a waiting room.
static inline bool gw_session_may_read(const struct gw_session *s, const char *meeting_id, int access_mode)
{
	if (s->state == GW_SESSION_JOINED && s->admission != GW_ADMISSION_ADMITTED)
		return false;
	if (access_mode == HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_OPEN ||
	    access_mode == HUDDLE__V1__ACCESS_MODE__ACCESS_MODE_UNSPECIFIED)
		return true;
	return gw_session_admitted(s) && strcmp(s->meeting_id, meeting_id) == 0;
}

// gw_session_alloc creates a session for wsi and indexes it. NULL on ENOMEM.
struct gw_session *gw_session_alloc(struct lws *wsi);

// gw_session_free unindexes and frees s (leaving its room first). NULL is a
// no-op.
void gw_session_free(struct gw_session *s);

// gw_session_find returns the session with this id, or NULL.
struct gw_session *gw_session_find(uint64_t id);

// gw_session_send packs m and queues it: in one frame, or, when it packs
// larger than GW_WS_FRAME_MAX, as consecutive FrameChunk frames (nothing
// comes between them). Closes s (1008) when the bytes queued pass
// WS_MAX_QUEUE, not counting chunk frames up to HD_WS_MESSAGE_MAX (one
// largest message may always be on its way). Returns HD_OK, HD_ENOMEM,
// HD_ECLOSED (closing), HD_ETOOLARGE (m packs over HD_WS_MESSAGE_MAX;
// nothing queued).
hd_err gw_session_send(struct gw_session *s, const Huddle__V1__ServerMessage *m);

// gw_session_send_error queues an Error reply naming request_id.
void gw_session_send_error(struct gw_session *s, uint32_t request_id, hd_err code, const char *message);

// gw_session_send_body queues a ServerMessage whose oneof body (case c) is
// body, borrowed for the call; request_id 0 makes it an event. A reply too
// large to send becomes a TOO_LARGE Error.
void gw_session_send_body(struct gw_session *s, uint32_t request_id, Huddle__V1__ServerMessage__BodyCase c, void *body);

// gw_session_registry_failed tells whether a registry call (err) or its
// reply r failed and, if so, sends the client an Error for request_id:
// TIMEOUT or UNAVAILABLE (or the transport's code) for the call, the
// registry's own code and message for the reply.
bool gw_session_registry_failed(struct gw_session *s, uint32_t request_id, hd_err err,
				const Huddle__V1__RegistryReply *r);

// gw_session_close asks lws to close s with a WebSocket close code (RFC 6455
// section 7.4) once its queued messages are written, and drops the
// connection anyway GW_CLOSE_KILL_S seconds later.
void gw_session_close(struct gw_session *s, uint16_t code, const char *reason);

// gw_session_writeable writes the next queued message. Returns 0, or -1 when
// the connection must close now (lws close reason already set). A closing
// session whose peer is still sending waits (GW_CLOSE_QUIET_MS of silence,
// at most GW_CLOSE_DRAIN_MS) before it closes, because closing a socket with
// unread input resets it and the peer would lose the close frame.
#define GW_CLOSE_QUIET_MS 50
#define GW_CLOSE_DRAIN_MS 2000
// GW_CLOSE_KILL_S: a closing session whose socket stays unwriteable (a
// client that stopped reading) is dropped this many seconds after
// gw_session_close, close frame or not.
#define GW_CLOSE_KILL_S 5
int gw_session_writeable(struct gw_session *s);

#endif
