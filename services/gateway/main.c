// main.c: huddle-gateway: the only public port. One lws service thread owns
// every session; NNG threads hand replies and events over through bridge.c
// (calls.c holds the state and the NNG side). This file starts and stops.
// lws runs on a libev (epoll) loop that main owns: lws 4.1's default loop is
// poll(), which walks every socket on every wakeup.
#include <ev.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "gateway/bridge.h"
#include "gateway/chat.h"
#include "gateway/gateway.h"
#include "gateway/http.h"
#include "gateway/notes.h"
#include "gateway/websec.h"
#include "gateway/ws.h"

#define GW_DEFAULT_TURN_SECRET "huddle-dev-secret"
#define GW_DEFAULT_RECORDING_TOKEN_SECRET "huddle-dev-recording-secret"

static volatile sig_atomic_t stopping;
static struct ev_loop *loop; // the service thread's event loop (lws foreign loop)
static ev_check stop_check;
static char default_gateway_id[128];

static const struct hd_config config_table[] = {
	{"GATEWAY_HTTP_ADDR", HD_CONFIG_STRING, "0.0.0.0", 0, 0, &gw.cfg.http_addr,
	 "address to listen on for HTTP and WebSocket"},
	{"GATEWAY_HTTP_PORT", HD_CONFIG_INT, "8080", 1, 65535, &gw.cfg.http_port, "TCP port"},
	{"GATEWAY_WEB_ROOT", HD_CONFIG_STRING, "web/dist", 0, 0, &gw.cfg.web_root,
	 "folder of the built web app (index.html, assets/)"},
	{"REGISTRY_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:7001", 0, 0, &gw.cfg.registry_url,
	 "huddle-registry request address(es), comma-separated"},
	{"REGISTRY_EVENTS_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:7002", 0, 0, &gw.cfg.events_url,
	 "huddle-registry event (PUB) address(es), comma-separated"},
	{"REGISTRY_TIMEOUT_MS", HD_CONFIG_INT, "5000", 100, 60000, &gw.cfg.registry_timeout_ms,
	 "time a registry call may take, ms"},
	{"CHAT_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:7003", 0, 0, &gw.cfg.chat_url,
	 "huddle-chat request address(es), comma-separated"},
	{"CHAT_EVENTS_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:7004", 0, 0, &gw.cfg.chat_events_url,
	 "huddle-chat event (PUB) address(es), comma-separated"},
	{"CHAT_TIMEOUT_MS", HD_CONFIG_INT, "5000", 100, 60000, &gw.cfg.chat_timeout_ms,
	 "time a huddle-chat call may take, ms"},
	{"NOTES_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:7005", 0, 0, &gw.cfg.notes_url,
	 "huddle-notes request address(es), comma-separated"},
	{"NOTES_EVENTS_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:7006", 0, 0, &gw.cfg.notes_events_url,
	 "huddle-notes event (PUB) address(es), comma-separated"},
	{"NOTES_TIMEOUT_MS", HD_CONFIG_INT, "5000", 100, 60000, &gw.cfg.notes_timeout_ms,
	 "time a huddle-notes call may take, ms"},
	{"NOTES_UPDATE_RATE", HD_CONFIG_INT, "30", 1, 100000, &gw.cfg.notes_update_rate,
	 "notes_update requests per second per connection (bursts of twice that)"},
	{"NOTES_AWARENESS_RATE", HD_CONFIG_INT, "20", 1, 100000, &gw.cfg.notes_awareness_rate,
	 "notes_awareness requests per second per connection (bursts of twice that)"},
	{"MEDIA_URL", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.media_url,
	 "huddle-media (the SFU controller) to send SFU signaling to (tcp://host:7008); unset: meetings stay "
	 "peer to peer and SFU requests get UNAVAILABLE"},
	{"MEDIA_EVENTS_URL", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.media_events_url,
	 "huddle-media's event bus (tcp://host:7009): SFU publisher lists, offers, talking"},
	{"MEDIA_TIMEOUT_MS", HD_CONFIG_INT, "10000", 100, 120000, &gw.cfg.media_timeout_ms,
	 "most time an SFU request waits for huddle-media, ms"},
	{"RECORDING_URL", HD_CONFIG_STRING, "tcp://127.0.0.1:7007", 0, 0, &gw.cfg.recording_url,
	 "huddle-recording request address(es), comma-separated"},
	{"RECORDING_TIMEOUT_MS", HD_CONFIG_INT, "10000", 100, 120000, &gw.cfg.recording_timeout_ms,
	 "time a huddle-recording call may take, ms (a chunk is stored durably before it answers)"},
	{"RECORDING_TOKEN_SECRET", HD_CONFIG_SECRET, GW_DEFAULT_RECORDING_TOKEN_SECRET, 0, 0,
	 &gw.cfg.recording_token_secret,
	 "HMAC-SHA256 key of recording tokens; the same on every gateway (a token minted by one works on all)"},
	{"RECORDING_TOKEN_TTL_S", HD_CONFIG_INT, "86400", 60, 2592000, &gw.cfg.recording_token_ttl_s,
	 "lifetime of a recording token, s (long enough for a closed tab's upload queue to finish on the next "
	 "visit)"},
	{"RECORDING_RATE", HD_CONFIG_INT, "20", 1, 100000, &gw.cfg.recording_rate,
	 "recording writes (create, chunk, finish, delete) per second per participant (bursts of twice that)"},
	{"RECORDING_BUFFER_MAX", HD_CONFIG_INT, "268435456", 8388608, 17179869184, &gw.cfg.recording_buffer_max,
	 "bytes of chunk uploads and download pieces held at once (beyond: 503, Retry-After)"},
	{"TURN_URLS", HD_CONFIG_STRING,
	 "stun:127.0.0.1:3478,turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp", 0, 0,
	 &gw.cfg.turn_urls, "STUN and TURN URLs given to browsers, comma-separated"},
	{"TURN_SECRET", HD_CONFIG_SECRET, GW_DEFAULT_TURN_SECRET, 0, 0, &gw.cfg.turn_secret,
	 "coturn static-auth-secret for TURN REST credentials"},
	{"TURN_TTL", HD_CONFIG_INT, "86400", 60, 604800, &gw.cfg.turn_ttl_s, "lifetime of TURN credentials, s"},
	{"PREJOIN_TURN_TTL", HD_CONFIG_INT, "300", 30, 3600, &gw.cfg.prejoin_turn_ttl_s,
	 "lifetime of the TURN credentials of the pre-join connection check (not joined), s"},
	{"PREJOIN_ICE_RATE", HD_CONFIG_INT, "6", 1, 600, &gw.cfg.prejoin_ice_rate,
	 "pre-join connection checks (ICE servers) per connection per 60 s (all at once at most; beyond: "
	 "RATE_LIMITED)"},
	{"HEARTBEAT_INTERVAL_MS", HD_CONFIG_INT, "10000", 100, 600000, &gw.cfg.heartbeat_ms,
	 "how often presence is refreshed, ms (keep under the registry's PRESENCE_TTL_MS / 2)"},
	{"WS_MAX_MESSAGE", HD_CONFIG_INT, "65536", 65536, 16777216, &gw.cfg.max_message,
	 "largest WebSocket frame accepted, bytes (larger: close 1009); at least the protocol's 64 KiB"},
	{"WS_RATE", HD_CONFIG_INT, "50", 1, 1000000, &gw.cfg.rate, "messages per second per connection"},
	{"WS_BURST", HD_CONFIG_INT, "100", 1, 1000000, &gw.cfg.burst, "burst allowance, messages"},
	{"WS_CHUNK_RATE", HD_CONFIG_INT, "4194304", 65536, 1073741824, &gw.cfg.chunk_rate,
	 "bytes per second of chunk frames per connection (a frame counts at least 16 KiB; bucket 8 MiB)"},
	{"WS_MAX_QUEUE", HD_CONFIG_INT, "1048576", 65536, 268435456, &gw.cfg.max_queue,
	 "bytes queued to one slow client before it is disconnected"},
	{"REACTION_RATE", HD_CONFIG_INT, "5", 1, 1000, &gw.cfg.reaction_rate,
	 "reactions per participant per 10 s (all at once at most; beyond: RATE_LIMITED)"},
	{"GATEWAY_ID", HD_CONFIG_STRING, default_gateway_id, 0, 0, &gw.cfg.gateway_id,
	 "this gateway's name in presence records (default <hostname>-<pid>)"},
	{"JOIN_TOKEN_SECRET", HD_CONFIG_OPTIONAL_SECRET, "", 0, 0, &gw.cfg.join_token_secret,
	 "HS256 key of signed join links (its bytes as text); unset: no HS256 links, and the dashboard mints none"},
	{"JOIN_TOKEN_PUBLIC_KEY", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.join_token_public_key,
	 "PEM public key file verifying signed join links: RSA (RS256) or P-256 (ES256); read at start"},
	{"JOIN_TOKEN_ISSUER", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.join_token_issuer,
	 "iss a signed join link must carry (unset: not checked)"},
	{"JOIN_TOKEN_AUDIENCE", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.join_token_audience,
	 "aud a signed join link must carry (unset: not checked)"},
	{"ALLOWED_ORIGINS", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.allowed_origins,
	 "browser origins that may open the WebSocket, comma-separated (https://meet.example.com); unset: the "
	 "request's own Host over http or https"},
	{"FRAME_ANCESTORS", HD_CONFIG_STRING, "'none'", 0, 0, &gw.cfg.frame_ancestors,
	 "CSP frame-ancestors: the pages that may embed Huddle ('none': none, with X-Frame-Options DENY; or "
	 "'self' https://lms.example.com ...)"},
	{"TLS_CERT", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.tls_cert,
	 "PEM certificate (chain) file: with TLS_KEY the gateway serves HTTPS and WSS only, with HSTS"},
	{"TLS_KEY", HD_CONFIG_OPTIONAL, "", 0, 0, &gw.cfg.tls_key, "PEM private key file of TLS_CERT"},
	{"MEETINGS_PER_ADDRESS_PER_MINUTE", HD_CONFIG_INT, "30", 0, 1000000, &gw.cfg.meetings_per_address_per_minute,
	 "POST /api/meetings and /api/spaces per client address (IPv6: per /64) per minute, in bursts of as "
	 "many; over it: 429 with Retry-After (0: no limit)"},
	{"MAX_CONNECTIONS", HD_CONFIG_INT, "0", 0, 10000000, &gw.cfg.max_connections,
	 "WebSocket connections open at once on this gateway; more get 503 at the upgrade (0: what the open-file "
	 "limit allows, ulimit -n minus " HD_XSTR(GW_FD_RESERVE) " for the gateway's own files and sockets "
								 "and " HD_XSTR(
									 GW_HTTP_FD_HEADROOM) " for plain HTTP)"},
	{"MAX_CONNECTIONS_PER_ADDRESS", HD_CONFIG_INT, "50", 0, 1000000, &gw.cfg.max_connections_per_address,
	 "WebSocket connections open at once per client address (IPv6: per /64) on this gateway; more get 429 at "
	 "the upgrade (0: no limit)"},
	{"TRUST_X_FORWARDED_FOR", HD_CONFIG_INT, "0", 0, 1, &gw.cfg.trust_x_forwarded_for,
	 "1: the client's address (MEETINGS_PER_ADDRESS_PER_MINUTE, MAX_CONNECTIONS_PER_ADDRESS) is the last "
	 "X-Forwarded-For entry, as the reverse proxy in "
	 "front appends it; only when clients cannot reach the gateway but through that proxy"},
	{"LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &gw.cfg.log_level, "error, warn, info or debug"},
};

// fd_budget sizes the gateway to its open-file limit: gw.cfg.max_connections,
// when 0, becomes the limit minus GW_FD_RESERVE and GW_HTTP_FD_HEADROOM; a MAX_CONNECTIONS the
// limit cannot hold is lowered to it with a warning. Returns false (told on
// stderr) when the limit is below GW_FD_MIN.
static bool fd_budget(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 10000000)
		rl.rlim_cur = 10000000;
	if (rl.rlim_cur < GW_FD_MIN) {
		HD_ERROR("the open-file limit (ulimit -n) is %llu; the gateway needs at least %d",
			 (unsigned long long)rl.rlim_cur, GW_FD_MIN);
		return false;
	}
	int64_t fit = (int64_t)rl.rlim_cur - GW_FD_RESERVE - GW_HTTP_FD_HEADROOM;
	if (gw.cfg.max_connections == 0) {
		gw.cfg.max_connections = fit;
	} else if (gw.cfg.max_connections > fit) {
		HD_WARN("MAX_CONNECTIONS=%lld does not fit the open-file limit (ulimit -n %llu): %lld at most; raise "
			"the limit (LimitNOFILE=, ulimit -n)",
			(long long)gw.cfg.max_connections, (unsigned long long)rl.rlim_cur, (long long)fit);
		gw.cfg.max_connections = fit;
	}
	HD_INFO("at most %lld WebSocket connections (open-file limit %llu)", (long long)gw.cfg.max_connections,
		(unsigned long long)rl.rlim_cur);
	return true;
}

// ---- timers, signals, logs ----

static void keepalive_tick(lws_sorted_usec_list_t *sul)
{
	gw_ws_keepalive(hd_mono_ms());
	lws_sul_schedule(gw.ctx, 0, &gw.keepalive_timer, keepalive_tick, GW_KEEPALIVE_CHECK_MS * LWS_US_PER_MS);
}

static void heartbeat_tick(lws_sorted_usec_list_t *sul)
{
	gw_ws_heartbeat();
	lws_sul_schedule(gw.ctx, 0, &gw.heartbeat_timer, heartbeat_tick, gw.cfg.heartbeat_ms * LWS_US_PER_MS);
}

// on_signal may run on any thread: it sets the flag, then wakes the loop
// through lws's pipe, so stop_check sees the flag right after the wakeup.
static void on_signal(int sig)
{
	stopping = 1;
	if (gw.ctx != NULL)
		lws_cancel_service(gw.ctx);
}

// on_loop_check runs on the service thread after every wakeup of the loop
// and ends ev_run once a signal asked the gateway to stop.
static void on_loop_check(struct ev_loop *l, ev_check *w, int revents)
{
	if (stopping)
		ev_break(l, EVBREAK_ALL);
}

static void lws_log_emit(int level, const char *line)
{
	// lws 4.1.6's libev plugin logs every watcher start/stop at NOTICE
	// (elops_io_ev, elops_accept_ev): a line per frame would drown the rest.
	if (level == LLL_NOTICE && strncmp(line, "elops_", 6) == 0)
		return;
	int l = level == LLL_ERR ? HD_LOG_ERROR : level == LLL_WARN ? HD_LOG_WARN : HD_LOG_DEBUG;
	HD_LOG(l, "lws: %s", line);
}

// split_urls fills gw.stun_urls / gw.turn_urls from TURN_URLS.
static hd_err split_urls(const char *list)
{
	char *copy = strdup(list), *save = NULL;
	size_t n = 1;
	if (copy == NULL)
		return HD_ENOMEM;
	for (const char *c = list; *c != '\0'; c++)
		n += *c == ',';
	gw.stun_urls = calloc(n, sizeof(char *));
	gw.turn_urls = calloc(n, sizeof(char *));
	if (gw.stun_urls == NULL || gw.turn_urls == NULL) {
		free(copy);
		return HD_ENOMEM;
	}
	for (char *u = strtok_r(copy, ",", &save); u != NULL; u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		char **urls;
		size_t *n_urls;
		if (strncmp(u, "stun:", 5) == 0 || strncmp(u, "stuns:", 6) == 0) {
			urls = gw.stun_urls;
			n_urls = &gw.n_stun;
		} else if (strncmp(u, "turn:", 5) == 0 || strncmp(u, "turns:", 6) == 0) {
			urls = gw.turn_urls;
			n_urls = &gw.n_turn;
		} else if (*u == '\0') {
			continue;
		} else {
			fprintf(stderr, "huddle-gateway: TURN_URLS entry '%s' is not stun:, stuns:, turn: or turns:\n",
				u);
			free(copy);
			return HD_EBADREQUEST;
		}
		if ((urls[*n_urls] = strdup(u)) == NULL) {
			free(copy);
			return HD_ENOMEM;
		}
		(*n_urls)++;
	}
	free(copy);
	return HD_OK;
}

static void free_urls(void)
{
	for (size_t i = 0; i < gw.n_stun; i++)
		free(gw.stun_urls[i]);
	for (size_t i = 0; i < gw.n_turn; i++)
		free(gw.turn_urls[i]);
	free(gw.stun_urls);
	free(gw.turn_urls);
}

int main(int argc, char **argv)
{
	char host[64] = "gateway";
	struct lws_protocols protocols[3];
	struct lws_context_creation_info info;
	// lws's validity checks off (a hangup of 0): gw_ws_keepalive pings and
	// drops silent clients instead (GW_PING_AFTER_S explains why).
	static const lws_retry_bo_t retry = {
		.secs_since_valid_ping = 0,
		.secs_since_valid_hangup = 0,
	};
	int status = 1;

	hd_log_set_name("huddle-gateway");
	gethostname(host, sizeof(host) - 1);
	snprintf(default_gateway_id, sizeof(default_gateway_id), "%s-%d", host, (int)getpid());
	enum hd_config_result loaded =
		hd_config_load("huddle-gateway", "Huddle's gateway: web app, HTTP API and WebSocket signaling.",
			       config_table, sizeof(config_table) / sizeof(config_table[0]), argc, argv);
	if (loaded != HD_CONFIG_OK)
		return hd_config_exit_status(loaded);
	if (strcmp(gw.cfg.turn_secret, GW_DEFAULT_TURN_SECRET) == 0)
		HD_WARN("TURN_SECRET is the built-in development value; set your coturn static-auth-secret");
	if (strcmp(gw.cfg.recording_token_secret, GW_DEFAULT_RECORDING_TOKEN_SECRET) == 0)
		HD_WARN("RECORDING_TOKEN_SECRET is the built-in development value; set a random secret, the same on "
			"every gateway");
	if (gw_websec_open() != HD_OK)
		return 2; // a bad setting, told on stderr
	if (!fd_budget()) {
		gw_websec_close();
		return 2;
	}
	if (split_urls(gw.cfg.turn_urls) != HD_OK)
		goto out_urls;
	lws_set_log_level(LLL_ERR | LLL_WARN | (hd_log_level >= HD_LOG_DEBUG ? LLL_NOTICE : 0), lws_log_emit);

	if (gw_calls_open() != HD_OK)
		goto out_urls;

	memset(protocols, 0, sizeof(protocols));
	protocols[0].name = "http";
	protocols[0].callback = gw_http_callback;
	protocols[0].per_session_data_size = gw_http_pss_size;
	protocols[1].name = "huddle.v1";
	protocols[1].callback = gw_ws_callback;
	protocols[1].per_session_data_size = sizeof(void *);
	protocols[1].rx_buffer_size = 16384;
	memset(&info, 0, sizeof(info));
	info.port = (int)gw.cfg.http_port;
	info.iface = strcmp(gw.cfg.http_addr, "0.0.0.0") == 0 ? NULL : gw.cfg.http_addr;
	info.protocols = protocols;
	info.vhost_name = "huddle";
	info.retry_and_idle_policy = &retry;
	info.count_threads = 1;
	info.pt_serv_buf_size = 32768;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 * (info.iface != NULL);
	if (gw_websec_tls()) {
		// lws's OpenSSL: this vhost then speaks only TLS (HTTPS and WSS).
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = gw.cfg.tls_cert;
		info.ssl_private_key_filepath = gw.cfg.tls_key;
		// HTTP/1.1 only: the HTTP and WebSocket paths (origin check,
		// streamed downloads) are the ones tested; lws would offer h2.
		info.alpn = "http/1.1";
	}
	// lws loads its libev support as a plugin (Debian: libwebsockets-evlib-ev).
	if ((loop = ev_loop_new(EVBACKEND_EPOLL)) == NULL) {
		fprintf(stderr, "huddle-gateway: cannot create the libev (epoll) event loop\n");
		goto out_calls;
	}
	void *foreign_loops[1] = {loop};
	info.foreign_loops = foreign_loops;
	info.options |= LWS_SERVER_OPTION_LIBEV;
	if ((gw.ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr,
			"huddle-gateway: cannot listen on %s:%lld (address in use or not local? TLS_CERT and TLS_KEY "
			"not a matching PEM certificate and key? or lws's libev plugin libwebsockets-evlib_ev.so is "
			"missing: see the lws errors above)\n",
			gw.cfg.http_addr, (long long)gw.cfg.http_port);
		goto out_loop;
	}
	gw_bridge_init(gw.ctx);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_sul_schedule(gw.ctx, 0, &gw.heartbeat_timer, heartbeat_tick, gw.cfg.heartbeat_ms * LWS_US_PER_MS);
	lws_sul_schedule(gw.ctx, 0, &gw.keepalive_timer, keepalive_tick, GW_KEEPALIVE_CHECK_MS * LWS_US_PER_MS);
	gw_chat_start();
	gw_notes_start();
	HD_INFO("listening on %s://%s:%lld (gateway %s)", gw_websec_tls() ? "https" : "http", gw.cfg.http_addr,
		(long long)gw.cfg.http_port, gw.cfg.gateway_id);

	ev_check_init(&stop_check, on_loop_check);
	ev_check_start(loop, &stop_check);
	// lws (re)arms its timer watcher only after an event: this wake-up arms
	// it for the timers scheduled above, before any client connects.
	lws_cancel_service(gw.ctx);
	ev_run(loop, 0);
	ev_check_stop(loop, &stop_check);
	HD_INFO("shutting down");
	status = 0;

	// NNG first, so no thread touches the lws context while it goes away;
	// closing the client completes pending calls into the bridge.
	gw_calls_close();
	gw_bridge_init(NULL);
	lws_sul_cancel(&gw.heartbeat_timer);
	lws_sul_cancel(&gw.keepalive_timer);
	gw_chat_stop();
	gw_notes_stop();
	lws_context_destroy(gw.ctx); // closes every connection, stops lws's watchers
	gw.ctx = NULL;
	ev_loop_destroy(loop);
	loop = NULL;
	gw_drain(); // frees what was still queued; no session is left
	free_urls();
	gw_websec_close();
	return status;

out_loop:
	ev_loop_destroy(loop);
	loop = NULL;
out_calls:
	gw_calls_close();
out_urls:
	free_urls();
	gw_websec_close();
	return status;
}
