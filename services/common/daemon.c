// daemon.c: start-up and shut-down of a service daemon (see daemon.h).
#include "common/daemon.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

// setting finds name in d's table with one of the types a and b; NULL (and
// a message) when the table lacks it: a mistake in the daemon's code.
static const struct hd_config *setting(const struct hd_daemon *d, const char *name, enum hd_config_type a,
				       enum hd_config_type b)
{
	for (size_t i = 0; i < d->n_config; i++)
		if (strcmp(d->config[i].name, name) == 0 && (d->config[i].type == a || d->config[i].type == b))
			return &d->config[i];
	fprintf(stderr, "%s: the config table has no setting %s of the right type\n", d->name, name);
	return NULL;
}

static const char *string_value(const struct hd_config *c)
{
	return *(const char *const *)c->field;
}

// hook_failed reports a failed hook; returns the exit status.
static int hook_failed(const struct hd_daemon *d, hd_err err, const char *why)
{
	fprintf(stderr, "%s: %s\n", d->name, why[0] != '\0' ? why : hd_strerror(err));
	return err == HD_EBADREQUEST ? 2 : 1;
}

// listen_failed reports an address that cannot be listened on; returns the
// exit status.
static int listen_failed(const struct hd_daemon *d, const struct hd_config *c, hd_err err)
{
	fprintf(stderr, "%s: cannot listen on %s '%s' (%s)\n", d->name, c->name, string_value(c),
		err == HD_EBADREQUEST ? "not a valid address" : "address in use?");
	return err == HD_EBADREQUEST ? 2 : 1;
}

int hd_daemon_main(const struct hd_daemon *d, int argc, char **argv)
{
	const struct hd_config *store_c = NULL, *listen_c, *events_c = NULL, *workers_c;
	struct hd_store *store = NULL;
	struct hd_rpc_server *server = NULL;
	char *workers = NULL;
	void **states = NULL;
	nng_socket pub = NNG_SOCKET_INITIALIZER;
	int nworkers = 0, status = 1;
	bool pub_open = false, opened = false, started = false;
	char why[HD_DAEMON_WHY_MAX] = "";
	hd_err err;

	hd_log_set_name(d->name);
	enum hd_config_result loaded = hd_config_load(d->name, d->summary, d->config, d->n_config, argc, argv);
	if (loaded != HD_CONFIG_OK)
		return hd_config_exit_status(loaded);
	if ((d->store_setting != NULL &&
	     (store_c = setting(d, d->store_setting, HD_CONFIG_URI, HD_CONFIG_STRING)) == NULL) ||
	    (listen_c = setting(d, d->listen_setting, HD_CONFIG_STRING, HD_CONFIG_STRING)) == NULL ||
	    (d->events_setting != NULL &&
	     (events_c = setting(d, d->events_setting, HD_CONFIG_STRING, HD_CONFIG_STRING)) == NULL) ||
	    (workers_c = setting(d, d->workers_setting, HD_CONFIG_INT, HD_CONFIG_INT)) == NULL || workers_c->min < 1)
		return 1;
	int64_t want_workers = *(const int64_t *)workers_c->field;

	signal(SIGPIPE, SIG_IGN); // a peer that hangs up must not kill us
	// From here a stop request is a flag: one during start-up is honoured
	// as soon as we are up, with a clean exit.
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (store_c != NULL && (err = hd_store_open(&store, string_value(store_c))) != HD_OK) {
		char shown[HD_URI_LOG_MAX];
		fprintf(stderr, "%s: cannot open %s '%s': %s\n", d->name, store_c->name,
			hd_uri_redact(string_value(store_c), shown, sizeof(shown)), hd_strerror(err));
		status = err == HD_EBADREQUEST ? 2 : 1;
		goto fail;
	}
	if (events_c != NULL) {
		if ((err = hd_pub_open(&pub, string_value(events_c))) != HD_OK) {
			status = listen_failed(d, events_c, err);
			goto fail;
		}
		pub_open = true;
	}
	if (d->open != NULL) {
		if ((err = d->open(d->app, store, pub, why)) != HD_OK) {
			status = hook_failed(d, err, why);
			goto fail;
		}
	}
	opened = true;
	if ((workers = calloc((size_t)want_workers, d->worker_size > 0 ? d->worker_size : 1)) == NULL ||
	    (states = calloc((size_t)want_workers, sizeof(*states))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", d->name);
		goto fail;
	}
	for (; nworkers < (int)want_workers; nworkers++) {
		void *w = workers + (size_t)nworkers * d->worker_size;
		if (d->worker_init != NULL && (err = d->worker_init(d->app, w, why)) != HD_OK) {
			status = hook_failed(d, err, why);
			goto fail;
		}
		states[nworkers] = w;
	}
	if ((err = hd_rpc_server_open(&server, string_value(listen_c), nworkers, d->handle, states)) != HD_OK) {
		status = listen_failed(d, listen_c, err);
		goto fail;
	}
	if (d->start != NULL) {
		if ((err = d->start(d->app, why)) != HD_OK) {
			status = hook_failed(d, err, why);
			goto fail;
		}
	}
	started = true;

	HD_INFO("serving %s with %d workers; events on %s", string_value(listen_c), nworkers,
		events_c != NULL ? string_value(events_c) : "(none)");

	// The handler only sets the flag; look at it ten times a second.
	while (!stopping) {
		struct timespec tick = {0, 100L * 1000000L};
		nanosleep(&tick, NULL);
	}
	HD_INFO("shutting down");
	status = 0;

fail:
	if (started && d->stop != NULL)
		d->stop(d->app);
	hd_rpc_server_close(server); // wakes and joins the workers (requests in flight finish first)
	for (int i = nworkers - 1; i >= 0; i--)
		if (d->worker_fini != NULL)
			d->worker_fini(d->app, states[i]);
	free(states);
	free(workers);
	if (opened && d->close != NULL)
		d->close(d->app);
	if (pub_open)
		nng_close(pub);
	hd_store_close(store);
	return status;
}
