// main.c: huddle-registry: meetings and presence. A REP socket served by a
// pool of worker threads (each with its own Redis connection), a PUB socket
// for room events, and a sweeper thread that expires silent participants.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "common/rpc.h"
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
	int64_t sweep_interval_ms;
	int64_t workers;
	int64_t redis_timeout_ms;
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
	{"REGISTRY_WORKERS", HD_CONFIG_INT, "4", 1, 64, &cfg.workers,
	 "request worker threads, each with its own Redis connection"},
	{"REDIS_TIMEOUT_MS", HD_CONFIG_INT, "1000", 10, 60000, &cfg.redis_timeout_ms,
	 "bound on connecting to Redis and on each Redis round trip, ms"},
	{"LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &cfg.log_level, "error, warn, info or debug"},
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

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
	hd_err last = HD_OK;
	do {
		size_t expired = 0;
		hd_err err = reg_presence_sweep(&s->ctx, hd_now_ms(), &expired);
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

int main(int argc, char **argv)
{
	struct hd_store *store = NULL;
	struct hd_rpc_server *server = NULL;
	struct reg_ctx *workers = NULL;
	void **states = NULL;
	struct sweeper sweeper;
	nng_socket pub = NNG_SOCKET_INITIALIZER;
	int nworkers = 0, status = 1;
	bool pub_open = false;
	hd_err err;

	hd_log_set_name("huddle-registry");
	enum hd_config_result loaded =
		hd_config_load("huddle-registry", "Huddle's registry: meetings and who is in them (presence in Redis).",
			       config_table, sizeof(config_table) / sizeof(config_table[0]), argc, argv);
	if (loaded != HD_CONFIG_OK)
		return hd_config_exit_status(loaded);
	memset(&sweeper, 0, sizeof(sweeper));
	signal(SIGPIPE, SIG_IGN); // a Redis that hangs up must not kill us
	// From here a stop request is a flag: one during start-up is honoured
	// as soon as we are up, with a clean exit.
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if ((err = hd_store_open(&store, cfg.store_uri)) != HD_OK) {
		char shown[HD_URI_LOG_MAX];
		fprintf(stderr, "huddle-registry: cannot open STORE_URI '%s': %s\n",
			hd_uri_redact(cfg.store_uri, shown, sizeof(shown)), hd_strerror(err));
		status = err == HD_EBADREQUEST ? 2 : 1;
		goto fail;
	}
	if ((err = hd_pub_open(&pub, cfg.events_listen)) != HD_OK) {
		fprintf(stderr, "huddle-registry: cannot listen on REGISTRY_EVENTS_LISTEN '%s' (address in use?)\n",
			cfg.events_listen);
		goto fail;
	}
	pub_open = true;

	// One Redis connection per worker, and one for the sweeper.
	if ((workers = calloc((size_t)cfg.workers, sizeof(*workers))) == NULL ||
	    (states = calloc((size_t)cfg.workers, sizeof(*states))) == NULL)
		goto fail;
	for (; nworkers < (int)cfg.workers; nworkers++) {
		struct reg_ctx *w = &workers[nworkers];
		if ((err = hd_redis_open(&w->redis, cfg.redis_url, (int)cfg.redis_timeout_ms)) != HD_OK) {
			char shown[HD_URI_LOG_MAX];
			fprintf(stderr,
				"huddle-registry: REDIS_URL '%s' is not redis://host:port[/db] or unix:///path\n",
				hd_uri_redact(cfg.redis_url, shown, sizeof(shown)));
			status = 2;
			goto fail;
		}
		w->store = store;
		w->pub = pub;
		w->presence_ttl_ms = cfg.presence_ttl_ms;
		states[nworkers] = w;
	}
	sweeper.ctx = workers[0];
	sweeper.ctx.redis = NULL;
	sweeper.interval_ms = cfg.sweep_interval_ms;
	if ((err = hd_redis_open(&sweeper.ctx.redis, cfg.redis_url, (int)cfg.redis_timeout_ms)) != HD_OK)
		goto fail;

	if ((err = hd_rpc_server_open(&server, cfg.listen, nworkers, reg_rpc_handle, states)) != HD_OK) {
		fprintf(stderr, "huddle-registry: cannot listen on REGISTRY_LISTEN '%s' (address in use?)\n",
			cfg.listen);
		goto fail;
	}
	if (sweeper_start(&sweeper) != HD_OK) {
		fprintf(stderr, "huddle-registry: cannot start the sweeper thread\n");
		goto fail;
	}

	HD_INFO("serving %s with %d workers; events on %s", cfg.listen, nworkers, cfg.events_listen);

	// The handler only sets the flag; look at it ten times a second.
	while (!stopping) {
		struct timespec tick = {0, 100L * 1000000L};
		nanosleep(&tick, NULL);
	}
	HD_INFO("shutting down");
	sweeper_stop(&sweeper);
	status = 0;

fail:
	hd_rpc_server_close(server); // wakes and joins the workers
	hd_redis_close(sweeper.ctx.redis);
	for (int i = nworkers - 1; i >= 0; i--)
		hd_redis_close(workers[i].redis);
	free(states);
	free(workers);
	if (pub_open)
		nng_close(pub);
	hd_store_close(store);
	return status;
}
