// main.c: huddle-media: the controller of Huddle's SFU. It drives Janus's
// VideoRoom plugin over Janus's WebSocket API (janus.c: one session, a room
// handle and each participant's publisher and subscriber handles,
// keepalives, reconnect and claim), serves the gateways' calls on a REP
// socket with a pool of workers (rpc.c, rooms.c, sfu.c) and publishes
// MediaEvents on MEDIA_EVENTS_LISTEN; the skeleton (common/daemon.h) runs
// them.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "media/janus.h"
#include "media/rooms.h"
#include "media/rpc.h"

// MEDIA_DEFAULT_API_SECRET is the development value of JANUS_API_SECRET
// (huddle-media warns while it is in use).
#define MEDIA_DEFAULT_API_SECRET "huddle-dev-janus-secret"
// MEDIA_JANUS_MESSAGE_MAX is the largest message accepted from Janus, bytes
// (a room list of thousands of rooms fits).
#define MEDIA_JANUS_MESSAGE_MAX (4 << 20)
// MEDIA_RECONNECT_MIN_MS is the first wait before reconnecting to Janus.
#define MEDIA_RECONNECT_MIN_MS 100

// media_config is what main reads from the environment (see config_table).
struct media_config {
	const char *listen;
	const char *events_listen;
	int64_t workers;
	const char *janus_url;
	const char *api_secret;
	int64_t keepalive_s;
	int64_t timeout_ms;
	int64_t reconnect_max_ms;
	int64_t publishers_max;
	int64_t bitrate;
	int log_level; // enum hd_log_level
};

static struct media_config cfg;

static const struct hd_config config_table[] = {
	{"MEDIA_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7008", 0, 0, &cfg.listen,
	 "NNG REP address for MediaRequest calls (tcp://host:port or ipc:///path)"},
	{"MEDIA_EVENTS_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7009", 0, 0, &cfg.events_listen,
	 "NNG PUB address for MediaEvents (topic = meeting id): publisher lists, subscriber offers, talking, "
	 "media stopped"},
	{"MEDIA_WORKERS", HD_CONFIG_INT, "8", 1, 256, &cfg.workers,
	 "request worker threads (each waits for Janus while its request runs)"},
	{"JANUS_URL", HD_CONFIG_STRING, "ws://127.0.0.1:8188", 0, 0, &cfg.janus_url,
	 "Janus's WebSocket API (ws://host:port; Huddle's Janus binds it to loopback)"},
	{"JANUS_API_SECRET", HD_CONFIG_SECRET, MEDIA_DEFAULT_API_SECRET, 0, 0, &cfg.api_secret,
	 "Janus's api_secret, also the VideoRoom admin_key and the key rooms' secrets, pins and tokens are derived "
	 "from; the same value as deploy/janus/render.sh's. Set it in production"},
	{"MEDIA_KEEPALIVE_SECONDS", HD_CONFIG_INT, "15", 1, 300, &cfg.keepalive_s,
	 "a keepalive to Janus this often (keep it under JANUS_SESSION_TIMEOUT)"},
	{"MEDIA_JANUS_TIMEOUT_MS", HD_CONFIG_INT, "5000", 100, 60000, &cfg.timeout_ms,
	 "most time one request waits for Janus's answer"},
	{"MEDIA_RECONNECT_MAX_MS", HD_CONFIG_INT, "5000", MEDIA_RECONNECT_MIN_MS, 60000, &cfg.reconnect_max_ms,
	 "longest wait between reconnection attempts (the wait doubles from " HD_XSTR(MEDIA_RECONNECT_MIN_MS) " ms)"},
	{"MEDIA_PUBLISHERS_MAX", HD_CONFIG_INT, "12", 1, 256, &cfg.publishers_max,
	 "publishers one room takes at once (a request may ask for fewer)"},
	{"MEDIA_BITRATE", HD_CONFIG_INT, "1500000", 0, 100000000, &cfg.bitrate,
	 "a publisher's bitrate cap in the rooms it creates, bits/s (0: Janus's default)"},
	{"LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &cfg.log_level, "error, warn, info or debug"},
};

// media_app is what the workers share.
struct media_app {
	struct media_janus *janus;
	struct media_rooms rooms;
	struct media_sfu *sfu;
};

static hd_err app_open(void *p, struct hd_store *store, nng_socket pub, char *why)
{
	struct media_app *app = p;
	if (strcmp(cfg.api_secret, MEDIA_DEFAULT_API_SECRET) == 0)
		HD_WARN("JANUS_API_SECRET is the built-in development value; set the one Janus is configured with");
	struct media_janus_config jc = {
		.url = cfg.janus_url,
		.api_secret = cfg.api_secret,
		.keepalive_ms = cfg.keepalive_s * 1000,
		.timeout_ms = cfg.timeout_ms,
		.reconnect_min_ms = MEDIA_RECONNECT_MIN_MS,
		.reconnect_max_ms = cfg.reconnect_max_ms,
		.message_max = MEDIA_JANUS_MESSAGE_MAX,
	};
	hd_err err = media_janus_open(&app->janus, &jc);
	if (err != HD_OK) {
		snprintf(why, HD_DAEMON_WHY_MAX, "%s",
			 err == HD_EBADREQUEST ? "JANUS_URL is not ws://host[:port][/path]"
					       : "cannot start the Janus client");
		return err;
	}
	app->rooms.janus = app->janus;
	app->rooms.key = cfg.api_secret;
	app->rooms.publishers_max = (uint32_t)cfg.publishers_max;
	app->rooms.bitrate = (uint32_t)cfg.bitrate;
	if ((err = media_sfu_open(&app->sfu, &app->rooms, pub)) != HD_OK) {
		media_janus_close(app->janus);
		snprintf(why, HD_DAEMON_WHY_MAX, "out of memory");
		return err;
	}
	return HD_OK;
}

static void app_close(void *p)
{
	struct media_app *app = p;
	struct media_janus_stats st;
	media_janus_get_stats(app->janus, &st);
	HD_INFO("stats: %llu connections to Janus, %llu sessions created, %llu claimed",
		(unsigned long long)st.connects, (unsigned long long)st.sessions, (unsigned long long)st.claims);
	media_janus_close(app->janus);
	media_sfu_close(app->sfu); // after Janus: its event callback ran until then
}

static hd_err worker_init(void *p, void *worker, char *why)
{
	struct media_app *app = p;
	struct media_ctx *c = worker;
	c->rooms = &app->rooms;
	c->sfu = app->sfu;
	return HD_OK;
}

int main(int argc, char **argv)
{
	static struct media_app app;
	static const struct hd_daemon media = {
		.name = "huddle-media",
		.summary =
			"Huddle's SFU controller: one Janus VideoRoom per meeting, driven over Janus's WebSocket API.",
		.config = config_table,
		.n_config = sizeof(config_table) / sizeof(config_table[0]),
		.listen_setting = "MEDIA_LISTEN",
		.events_setting = "MEDIA_EVENTS_LISTEN",
		.workers_setting = "MEDIA_WORKERS",
		.handle = media_rpc_handle,
		.worker_size = sizeof(struct media_ctx),
		.app = &app,
		.open = app_open,
		.close = app_close,
		.worker_init = worker_init,
	};
	return hd_daemon_main(&media, argc, argv);
}
