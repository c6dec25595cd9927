// main.c: huddle-registry: meetings and presence. A REP socket served by a
// pool of worker threads (each with its own Redis connection), a PUB socket
// for room events, and a sweeper thread that expires silent participants;
// the skeleton (common/daemon.h) runs them.
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/util.h"
#include "registry/presence.h"
#include "registry/registry.h"
#include "registry/rpc.h"

// reg_config is what main reads from the environment (see config_table).
struct reg_config {
	const char *listen;
	const char *events_listen;
	const char *redis_url;
	const char *store_uri;
	int64_t presence_ttl_ms;
	int64_t max_participants;
	int64_t sweep_interval_ms;
	int64_t workers;
	int64_t redis_timeout_ms;
	int64_t sfu_enabled;
	int64_t mesh_max;
	int64_t sfu_down_max;
	int64_t sfu_down_seconds;
	int log_level; // enum hd_log_level
};

static struct reg_config cfg;

static const struct hd_config config_table[] = {
	{"REGISTRY_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7001", 0, 0, &cfg.listen,
	 "NNG REP address for RegistryRequest calls (tcp://host:port or ipc:///path)"},
	{"REGISTRY_EVENTS_LISTEN", HD_CONFIG_STRING, "tcp://127.0.0.1:7002", 0, 0, &cfg.events_listen,
	 "NNG PUB address for room events (topic: meeting id + NUL)"},
	{"REDIS_URL", HD_CONFIG_URI, "redis://127.0.0.1:6379", 0, 0, &cfg.redis_url,
	 "Redis for presence: redis://host:port[/db] or unix:///path[?db=N]"},
	{"STORE_URI", HD_CONFIG_URI, "sqlite://huddle.db", 0, 0, &cfg.store_uri,
	 "history store for meeting records: sqlite://<path>"},
	{"PRESENCE_TTL_MS", HD_CONFIG_INT, "30000", 1000, 600000, &cfg.presence_ttl_ms,
	 "a participant not heard of for this long is removed, ms (also the resume window)"},
	{"SWEEP_INTERVAL_MS", HD_CONFIG_INT, "1000", 10, 600000, &cfg.sweep_interval_ms,
	 "how often expired participants are swept, ms"},
	{"MAX_PARTICIPANTS", HD_CONFIG_INT, "12", 0, 100000, &cfg.max_participants,
	 "people per meeting, in the call and its waiting room together; a join past it gets MEETING_FULL (0: no "
	 "limit)"},
	{"REGISTRY_WORKERS", HD_CONFIG_INT, "4", 1, 64, &cfg.workers,
	 "request worker threads, each with its own Redis connection"},
	{"REDIS_TIMEOUT_MS", HD_CONFIG_INT, "1000", 10, 60000, &cfg.redis_timeout_ms,
	 "bound on connecting to Redis and on each Redis round trip, ms"},
	{"SFU_ENABLED", HD_CONFIG_INT, "0", 0, 1, &cfg.sfu_enabled,
	 "1: meetings past MESH_MAX move to the SFU (Janus); 0: always a mesh (the browser SFU path is not built yet)"},
	{"MESH_MAX", HD_CONFIG_INT, "4", 1, 1000, &cfg.mesh_max,
	 "a meeting is a mesh up to this many participants; one more moves it to the SFU"},
	{"SFU_DOWN_MAX", HD_CONFIG_INT, "3", 0, 1000, &cfg.sfu_down_max,
	 "an SFU meeting moves back to the mesh once it has had at most this many participants ..."},
	{"SFU_DOWN_SECONDS", HD_CONFIG_INT, "30", 0, 86400, &cfg.sfu_down_seconds, "... continuously for this long, s"},
	{"LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &cfg.log_level, "error, warn, info or debug"},
};

// sweeper is the thread that expires silent participants; it owns ctx.redis.
struct sweeper {
	struct reg_ctx ctx;
	int64_t interval_ms;
	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t cv; // on CLOCK_MONOTONIC; signalled to stop
	bool stop;
};

// sweeper_wait sleeps for one interval or until told to stop; false to stop.
static bool sweeper_wait(struct sweeper *s)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += s->interval_ms / 1000;
	until.tv_nsec += (s->interval_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->mtx);
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mtx, &until) != ETIMEDOUT)
		;
	bool go_on = !s->stop;
	pthread_mutex_unlock(&s->mtx);
	return go_on;
}

// sweeper_main runs on the sweeper thread: sweep, wait, repeat. A Redis
// outage is logged once when it starts and once when it ends.
static void *sweeper_main(void *p)
{
	struct sweeper *s = p;
	struct reg_sweep_hold hold = {.down = true}; // heartbeats were not taken before we started
	hd_err last = HD_OK;
	do {
		size_t expired = 0;
		hd_err err = reg_presence_sweep_held(&s->ctx, &hold, hd_now_ms(), &expired);
		if (err != last) {
			if (err == HD_EUNAVAILABLE)
				HD_WARN("Redis is unavailable: presence is not swept and calls fail until it is back");
			else if (err != HD_OK)
				HD_WARN("presence sweep failed: %s", hd_strerror(err));
			else
				HD_INFO("Redis is reachable again: presence sweeps resumed");
			last = err;
		}
		if (expired > 0)
			HD_DEBUG("sweep expired %zu participants", expired);
	} while (sweeper_wait(s));
	return NULL;
}

static hd_err sweeper_start(struct sweeper *s)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&s->mtx, NULL);
	if (pthread_create(&s->thread, NULL, sweeper_main, s) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mtx);
		return HD_ENOMEM;
	}
	return HD_OK;
}

static void sweeper_stop(struct sweeper *s)
{
	pthread_mutex_lock(&s->mtx);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mtx);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
}

// reg_app is what the workers and the sweeper share.
struct reg_app {
	struct hd_store *store;
	nng_socket pub;
	struct sweeper sweeper;
};

// ctx_open gives c the shared store and PUB socket and its own Redis
// connection.
static hd_err ctx_open(struct reg_app *app, struct reg_ctx *c, char *why)
{
	hd_err err;
	c->store = app->store;
	c->pub = app->pub;
	c->presence_ttl_ms = cfg.presence_ttl_ms;
	c->max_participants = cfg.max_participants;
	c->mode = (struct reg_mode_policy){.sfu_enabled = cfg.sfu_enabled != 0,
					   .mesh_max = cfg.mesh_max,
					   .down_max = cfg.sfu_down_max,
					   .down_ms = cfg.sfu_down_seconds * 1000};
	if ((err = hd_redis_open(&c->redis, cfg.redis_url, (int)cfg.redis_timeout_ms)) != HD_OK) {
		char shown[HD_URI_LOG_MAX];
		snprintf(why, HD_DAEMON_WHY_MAX, "REDIS_URL '%s' is not redis://host:port[/db] or unix:///path",
			 hd_uri_redact(cfg.redis_url, shown, sizeof(shown)));
		return HD_EBADREQUEST;
	}
	return HD_OK;
}

static hd_err app_open(void *p, struct hd_store *store, nng_socket pub, char *why)
{
	struct reg_app *app = p;
	app->store = store;
	app->pub = pub;
	return HD_OK;
}

// One Redis connection per worker, and one for the sweeper.
static hd_err worker_init(void *p, void *worker, char *why)
{
	return ctx_open(p, worker, why);
}

static void worker_fini(void *p, void *worker)
{
	struct reg_ctx *c = worker;
	hd_redis_close(c->redis);
}

static hd_err app_start(void *p, char *why)
{
	struct reg_app *app = p;
	hd_err err;
	app->sweeper.interval_ms = cfg.sweep_interval_ms;
	if (cfg.sfu_down_max >= cfg.mesh_max) {
		// Otherwise a meeting just past MESH_MAX would count as small
		// enough to leave the SFU, and flap.
		snprintf(why, HD_DAEMON_WHY_MAX, "SFU_DOWN_MAX (%lld) must be below MESH_MAX (%lld)",
			 (long long)cfg.sfu_down_max, (long long)cfg.mesh_max);
		return HD_EBADREQUEST;
	}
	if ((err = ctx_open(app, &app->sweeper.ctx, why)) != HD_OK)
		return err;
	if ((err = sweeper_start(&app->sweeper)) != HD_OK) {
		hd_redis_close(app->sweeper.ctx.redis);
		snprintf(why, HD_DAEMON_WHY_MAX, "cannot start the sweeper thread");
	}
	return err;
}

static void app_stop(void *p)
{
	struct reg_app *app = p;
	sweeper_stop(&app->sweeper);
	hd_redis_close(app->sweeper.ctx.redis);
}

int main(int argc, char **argv)
{
	static struct reg_app app;
	static const struct hd_daemon registry = {
		.name = "huddle-registry",
		.summary = "Huddle's registry: meetings and who is in them (presence in Redis).",
		.config = config_table,
		.n_config = sizeof(config_table) / sizeof(config_table[0]),
		.store_setting = "STORE_URI",
		.listen_setting = "REGISTRY_LISTEN",
		.events_setting = "REGISTRY_EVENTS_LISTEN",
		.workers_setting = "REGISTRY_WORKERS",
		.handle = reg_rpc_handle,
		.worker_size = sizeof(struct reg_ctx),
		.app = &app,
		.open = app_open,
		.worker_init = worker_init,
		.worker_fini = worker_fini,
		.start = app_start,
		.stop = app_stop,
	};
	return hd_daemon_main(&registry, argc, argv);
}
