// load.h: huddle-load's shared state: clients, targets (the wire protocol of
// the server under test), worker threads and the counters the report is made
// of. Each worker thread has its own lws context and libev loop and owns whole
// meetings (meeting m belongs to worker m % threads), so a signal and its
// delivery stay on one thread; the main thread moves the run through its
// phases and merges the workers' counters and histograms.
#ifndef HL_LOAD_H
#define HL_LOAD_H

#include <ev.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HL_ID_MAX 64  // participant ids, bytes with the NUL
#define HL_PIDS_MAX 8 // --pid

enum hl_state {
	HL_IDLE,       // not connected yet (soak: waiting to rejoin)
	HL_CONNECTING, // TCP + WebSocket handshake (and socket.io's connect)
	HL_JOINING,    // join sent, waiting for the reply
	HL_JOINED,
	HL_DRAINING, // soak churn: joined, no longer a signal target, leaves at leave_at_ns
	HL_LEAVING,  // leave sent, waiting for the reply
	HL_DONE,     // left (or closing after leaving)
	HL_FAILED,   // failed or closed before leaving
};

// hl_out is one queued outgoing frame; buf has LWS_PRE bytes of headroom.
struct hl_out {
	struct hl_out *next;
	size_t len;
	bool binary;
	uint8_t buf[];
};

// hl_client is one simulated participant.
struct hl_worker;
struct hl_client {
	int idx;
	struct hl_worker *w; // the thread that owns it
	int meeting;         // index into hl.meetings
	struct lws *wsi;
	enum hl_state state;
	char participant_id[HL_ID_MAX];
	int64_t start_ns;     // connect started
	int64_t join_sent_ns; // join request written to the queue
	int64_t leave_at_ns;  // soak churn: when a draining client sends its leave
	uint32_t next_rid;
	uint32_t join_rid, leave_rid;
	int inflight;  // signals sent, reply not yet received
	int queued;    // frames in the out queue
	bool sio_open; // socket.io: namespace connect acknowledged
	bool close_now;
	char close_why[96]; // ": CODE reason" of the server's close frame, or ""
	struct hl_out *out_head, *out_tail;
	uint8_t *rx;
	size_t rx_len, rx_cap;
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

// hl_hist is a latency histogram in microseconds: exact below 1024 us, then
// 512 bins per octave (at most 0.2 % off) up to ~2.4 hours. Written by one
// worker, read (merged, diffed) by the main thread, hence atomic.
#define HL_HIST_SUB_BITS 9
#define HL_HIST_SUB (1 << HL_HIST_SUB_BITS)
#define HL_HIST_OCTAVES 24
#define HL_HIST_BINS (2 * HL_HIST_SUB + HL_HIST_OCTAVES * HL_HIST_SUB)
struct hl_hist {
	_Atomic uint64_t bin[HL_HIST_BINS];
	_Atomic uint64_t n;
	_Atomic uint64_t max_us;
};

// hl_ctr names the counters each worker keeps (hl_worker.ctr) and the report sums.
enum hl_ctr {
	HL_C_SIGNALS_SENT,
	HL_C_SIGNALS_SENT_STORM,
	HL_C_SIGNAL_REPLIES,
	HL_C_DELIVERIES,
	HL_C_DELIVERIES_STORM,
	HL_C_BAD_DELIVERIES,
	HL_C_BACKPRESSURE_SKIPS,
	HL_C_ERR_CONNECT,
	HL_C_ERR_CLOSED,
	HL_C_ERR_SERVER,
	HL_C_ERR_JOIN_TIMEOUT,
	HL_C_ERR_LEAVE_TIMEOUT,
	HL_C_ERR_PROTOCOL,
	HL_C_PEER_JOINED_EVENTS,
	HL_C_JOINED, // joins answered (soak: rejoins too)
	HL_C_LEFT,   // leaves answered
	HL_C_GONE,   // clients failed or closed before leaving
	HL_C_CHURN_LEAVES,
	HL_C_CHURN_JOINS,
	HL_C_COUNT
};

// hl_phase: where the run is (see main.c). The soak runs in HL_PH_STORM.
enum hl_phase { HL_PH_JOIN, HL_PH_HOLD, HL_PH_STORM, HL_PH_DRAIN, HL_PH_LEAVE, HL_PH_END };

// hl_worker is one thread: its lws context and loop, the clients of its
// meetings, its counters and histograms.
struct hl_worker {
	int id;
	pthread_t thread;
	struct lws_context *ctx;
	struct ev_loop *loop;
	ev_timer tick_timer;
	lws_sorted_usec_list_t tick_sul;
	bool stop;                                 // --poll loop: leave lws_service
	int *ci, n;                                // indices into hl.c of its clients
	double join_rate, leave_rate, rate, churn; // its share of the run's rates (per second)
	enum hl_phase phase;                       // the phase it last acted on
	int64_t phase_start_ns;
	int n_connect_started, n_leave_started; // positions in ci
	int64_t storm_sent_target;
	int max_pending; // its share of --max-pending (0: none)
	int rr, churn_rr;
	int64_t churn_leaves_due, churn_joins_due, last_sweep_ns;
	int *drain_q, drain_head, drain_len;    // soak: draining clients in leave order (ring of n)
	int *rejoin_q, rejoin_head, rejoin_len; // soak: left clients waiting to rejoin (ring of n)
	double cpu_storm_start, cpu_storm_end;  // this thread's CPU seconds
	_Atomic bool join_done, drained, leave_done, finished;
	_Atomic uint64_t ctr[HL_C_COUNT];
	struct hl_hist join_lat, peer_lat, relay_lat;
	char first_error[256];
	int64_t first_error_ns;
};

// hl_run is the whole run: options, clients, workers, the current phase.
struct hl_run {
	// options
	const struct hl_target *target;
	char host[64];
	int port;
	int clients, meetings;
	double join_rate;  // connects + joins per second
	double leave_rate; // leaves per second
	double hold_s;     // idle hold after everyone joined
	double storm_s;    // relay storm length (soak: the soak's length)
	double rate;       // signals per second, all clients together (0: windowed)
	int window;        // signals in flight per client when rate is 0
	double join_timeout_s;
	int src_addrs; // source addresses 127.0.0.2...; 0: let the kernel pick
	int pids[HL_PIDS_MAX], n_pids;
	char pid_names[HL_PIDS_MAX][24];
	bool quiet;
	bool evlib_ev;     // lws on libev (epoll); false: lws's poll() loop
	const char *label; // scenario name for the report
	int threads;
	int max_pending; // join phase: clients connecting or joining at once (0: no limit)
	// soak (--soak): churn and per-interval reports during the storm
	bool soak;
	double churn;             // joins and leaves per second, all clients together
	double interval_s;        // report every interval_s seconds
	double churn_grace_s;     // a churned client is no signal target for this long before it leaves
	double rss_tolerance_pct; // verdict: RSS growth allowed over the warm baseline
	double rss_slack_kb;      // ... and at least this many KiB (small processes)

	struct hl_client *c;
	char (*meeting_ids)[HL_ID_MAX];
	char (*src)[16];
	struct hl_worker *w;

	_Atomic int phase;
	_Atomic int64_t phase_start_ns;
	_Atomic bool interrupted;
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
// hl_client_connect starts c's WebSocket on its worker; false if lws refused at once.
bool hl_client_connect(struct hl_client *c);
// hl_client_close closes c after its queued frames are written.
void hl_client_close(struct hl_client *c);
// hl_client_free frees c's queues (the wsi is lws's).
void hl_client_free(struct hl_client *c);
// hl_fail records a failure of c under counter (its worker keeps the first
// message) and marks it failed.
void hl_fail(struct hl_client *c, enum hl_ctr counter, const char *what);
// hl_note_error keeps what as w's first error (if it has none yet).
void hl_note_error(struct hl_worker *w, int idx, const char *what);
// hl_client_closed: c's connection is gone (soak: a client that left queues to rejoin).
void hl_client_closed(struct hl_client *c);
// hl_signal_peer sends one timestamped signal from c to the next member of its meeting.
bool hl_signal_peer(struct hl_client *c);
int hl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

// ---- stats.c ----

// hl_hist_add records one latency of ns nanoseconds (negative counts as 0).
void hl_hist_add(struct hl_hist *h, int64_t ns);
// hl_hist_merge adds src's counts to dst (dst may be a plain snapshot).
void hl_hist_merge(struct hl_hist *dst, const struct hl_hist *src);
// hl_hist_diff sets out = cur - prev, bin by bin (both cumulative; prev older);
// out's max is the upper edge of its highest non-empty bin.
void hl_hist_diff(struct hl_hist *out, const struct hl_hist *cur, const struct hl_hist *prev);
// hl_hist_pct returns the p-th percentile (0..100, nearest rank) in ms (a bin's
// midpoint; p = 100: the exact maximum); 0 when empty.
double hl_hist_pct(const struct hl_hist *h, double p);
// hl_hist_n returns the number of samples.
uint64_t hl_hist_n(const struct hl_hist *h);

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
