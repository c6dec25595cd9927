// load.h: huddle-load's shared state: clients, targets (the wire protocol of
// the server under test) and the counters the report is made of. Everything
// runs on the one lws service thread.
#ifndef HL_LOAD_H
#define HL_LOAD_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#define HL_ID_MAX 64 // participant ids, bytes with the NUL

enum hl_state {
	HL_IDLE,       // not connected yet
	HL_CONNECTING, // TCP + WebSocket handshake (and socket.io's connect)
	HL_JOINING,    // join sent, waiting for the reply
	HL_JOINED,
	HL_LEAVING, // leave sent, waiting for the reply
	HL_DONE,    // left (or closing after leaving)
	HL_FAILED,  // failed or closed before leaving
};

// hl_out is one queued outgoing frame; buf has LWS_PRE bytes of headroom.
struct hl_out {
	struct hl_out *next;
	size_t len;
	bool binary;
	uint8_t buf[];
};

// hl_client is one simulated participant.
struct hl_client {
	int idx;
	int meeting; // index into hl.meetings
	struct lws *wsi;
	enum hl_state state;
	char participant_id[HL_ID_MAX];
	int64_t start_ns;     // connect started
	int64_t join_sent_ns; // join request written to the queue
	uint32_t next_rid;
	uint32_t join_rid, leave_rid;
	int inflight;  // signals sent, reply not yet received
	int queued;    // frames in the out queue
	bool sio_open; // socket.io: namespace connect acknowledged
	bool close_now;
	struct hl_out *out_head, *out_tail;
	uint8_t *rx;
	size_t rx_len, rx_cap;
	UT_hash_handle hh; // hl.by_participant, keyed by participant_id
};

// hl_target is the wire protocol of one kind of server.
struct hl_target {
	const char *name;
	const char *path;        // WebSocket path
	const char *subprotocol; // NULL: none
	// on_open runs once the WebSocket is up.
	void (*on_open)(struct hl_client *c);
	// on_message handles one complete frame; returns -1 on a protocol error.
	int (*on_message)(struct hl_client *c, const uint8_t *data, size_t len, bool binary);
	void (*send_join)(struct hl_client *c, const char *meeting_id, const char *display_name);
	// send_signal sends an ICE candidate carrying `candidate` to participant `to`.
	void (*send_signal)(struct hl_client *c, const char *to, const char *candidate);
	void (*send_leave)(struct hl_client *c);
};

extern const struct hl_target hl_target_huddle;
extern const struct hl_target hl_target_sio;

// hl_samples is a growing array of latencies in microseconds, capped.
struct hl_samples {
	uint32_t *v;
	size_t n, cap, max, dropped;
	bool sorted;
};

// hl_phase: where the run is (see main.c).
enum hl_phase { HL_PH_JOIN, HL_PH_HOLD, HL_PH_STORM, HL_PH_DRAIN, HL_PH_LEAVE, HL_PH_END };

// hl_run is the whole run: options, clients, counters.
struct hl_run {
	// options
	const struct hl_target *target;
	char host[64];
	int port;
	int clients, meetings;
	double join_rate;  // connects + joins per second
	double leave_rate; // leaves per second
	double hold_s;     // idle hold after everyone joined
	double storm_s;    // relay storm length
	double rate;       // signals per second, all clients together (0: windowed)
	int window;        // signals in flight per client when rate is 0
	double join_timeout_s;
	int src_addrs; // source addresses 127.0.0.2...; 0: let the kernel pick
	int pids[8], n_pids;
	bool quiet;
	bool evlib_ev;     // lws on libev (epoll); false: lws's poll() loop
	const char *label; // scenario name for the report

	struct lws_context *ctx;
	struct hl_client *c;
	char (*meeting_ids)[HL_ID_MAX];
	struct hl_client *by_participant;
	char (*src)[16];

	enum hl_phase phase;
	int64_t phase_start_ns, storm_start_ns, storm_end_ns;
	int n_connect_started, n_leave_started;
	int n_joined, n_left, n_gone; // joined ever; left cleanly; failed or closed
	int64_t storm_sent_target;
	int rr; // storm round-robin position

	// counters
	uint64_t signals_sent, signals_sent_storm, signal_replies, deliveries, deliveries_storm, bad_deliveries;
	uint64_t backpressure_skips;
	uint64_t err_connect, err_closed, err_server, err_join_timeout, err_leave_timeout, err_protocol;
	uint64_t peer_joined_events;
	char first_error[256];
	struct hl_samples join_lat, peer_lat, relay_lat;
};

extern struct hl_run hl;

// ---- client.c: what targets call back ----

// hl_send queues one frame of len bytes (copied) to c and asks for a write.
void hl_send(struct hl_client *c, const void *data, size_t len, bool binary);
// hl_on_connected: the target's handshake is done (send the join now).
void hl_on_connected(struct hl_client *c);
// hl_on_join_reply: c is participant `participant_id`; roster_n others were in.
void hl_on_join_reply(struct hl_client *c, const char *participant_id, size_t roster_n);
// hl_on_peer_joined: c learned that a participant named display_name
// ("load-<index>", as hl_on_connected names them) joined its meeting.
void hl_on_peer_joined(struct hl_client *c, const char *display_name);
void hl_on_signal_reply(struct hl_client *c);
// hl_on_delivery: a signal for c arrived; candidate is its candidate string.
void hl_on_delivery(struct hl_client *c, const char *candidate, size_t len);
void hl_on_leave_reply(struct hl_client *c);
// hl_on_error: the server answered request rid with an error (rid 0: an event).
void hl_on_error(struct hl_client *c, uint32_t rid, const char *code, const char *message);

// hl_now_ns is CLOCK_MONOTONIC in nanoseconds.
int64_t hl_now_ns(void);
// hl_client_connect starts c's WebSocket; false if lws refused at once.
bool hl_client_connect(struct hl_client *c);
// hl_client_close closes c after its queued frames are written.
void hl_client_close(struct hl_client *c);
// hl_client_free frees c's queues (the wsi is lws's).
void hl_client_free(struct hl_client *c);
// hl_fail records a failure of c (first message kept) and marks it failed.
void hl_fail(struct hl_client *c, uint64_t *counter, const char *what);
// hl_signal_peer sends one timestamped signal from c to the next member of its meeting.
bool hl_signal_peer(struct hl_client *c);
int hl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

// ---- stats.c ----

void hl_samples_add(struct hl_samples *s, int64_t ns);
// hl_samples_pct sorts (once) and returns the p-th percentile (0..100) in ms; 0 when empty.
double hl_samples_pct(struct hl_samples *s, double p);
double hl_samples_max(struct hl_samples *s);
void hl_samples_free(struct hl_samples *s);

// ---- sysinfo.c ----

// hl_rss_kb reads VmRSS of pid from /proc; -1 when unreadable.
long hl_rss_kb(int pid);
// hl_cpu_ticks reads utime + stime of pid (clock ticks); -1 when unreadable.
long long hl_cpu_ticks(int pid);
// hl_http_create_meeting POSTs /api/meetings to host:port and copies the new
// id into id (idlen bytes). Returns 0, or -1 with a message in err.
int hl_http_create_meeting(const char *host, int port, char *id, size_t idlen, char *err, size_t errlen);
// hl_raise_nofile raises RLIMIT_NOFILE's soft limit to the hard one; returns it.
long hl_raise_nofile(void);

#endif
