// dialer.c: a socket's dialers and the watchdog that replaces stuck ones.
#include "common/dialer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"

#define WATCH_TICK_MS 500

// dial_slot is one URL and the dialer currently dialing it.
struct dial_slot {
	char *url;
	nng_dialer dialer;
	int pipes;             // connected pipes of this dialer
	int64_t down_since_ms; // monotonic ms since it has had none
};

struct hd_dialset {
	nng_socket sock;
	pthread_mutex_t mtx; // guards slots[], stopping, connections
	pthread_cond_t cv;
	pthread_t thread;
	bool thread_started, stopping;
	unsigned connections; // established since open
	size_t n;
	struct dial_slot slots[];
};

// pipe_event runs on an NNG thread for every pipe of the socket.
static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct hd_dialset *d = arg;
	int id = nng_dialer_id(nng_pipe_dialer(p));
	pthread_mutex_lock(&d->mtx);
	for (size_t i = 0; i < d->n; i++) {
		if (nng_dialer_id(d->slots[i].dialer) != id || id <= 0)
			continue;
		if (ev == NNG_PIPE_EV_ADD_POST) {
			d->slots[i].pipes++;
			d->connections++;
		} else if (ev == NNG_PIPE_EV_REM_POST && d->slots[i].pipes > 0 && --d->slots[i].pipes == 0) {
			d->slots[i].down_since_ms = hd_mono_ms();
		}
		break;
	}
	pthread_mutex_unlock(&d->mtx);
}

// slot_dial creates and starts a dialer for slot i; the id is recorded
// before it starts so its first pipe is counted. Returns an NNG error.
static int slot_dial(struct hd_dialset *d, size_t i)
{
	nng_dialer dl;
	int rv = nng_dialer_create(&dl, d->sock, d->slots[i].url);
	if (rv != 0)
		return rv;
	pthread_mutex_lock(&d->mtx);
	d->slots[i].dialer = dl;
	d->slots[i].pipes = 0;
	d->slots[i].down_since_ms = hd_mono_ms();
	pthread_mutex_unlock(&d->mtx);
	if ((rv = nng_dialer_start(dl, NNG_FLAG_NONBLOCK)) != 0)
		nng_dialer_close(dl);
	return rv;
}

// watchdog replaces dialers without a connection for HD_REDIAL_MS (its own
// thread: closing a dialer may wait for NNG's callbacks).
static void *watchdog(void *arg)
{
	struct hd_dialset *d = arg;
	pthread_mutex_lock(&d->mtx);
	while (!d->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)WATCH_TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&d->cv, &d->mtx, &ts);
		int64_t now = hd_mono_ms();
		for (size_t i = 0; i < d->n && !d->stopping; i++) {
			struct dial_slot *s = &d->slots[i];
			if (s->pipes > 0 || now - s->down_since_ms < HD_REDIAL_MS)
				continue;
			nng_dialer old = s->dialer;
			s->down_since_ms = now;
			pthread_mutex_unlock(&d->mtx);
			HD_DEBUG("no connection to %s for %d ms: dialing it afresh", s->url, HD_REDIAL_MS);
			nng_dialer_close(old);
			int rv = slot_dial(d, i);
			if (rv != 0)
				HD_WARN("cannot dial %s again: %s (next try in %d ms)", s->url, nng_strerror(rv),
					HD_REDIAL_MS);
			pthread_mutex_lock(&d->mtx);
		}
	}
	pthread_mutex_unlock(&d->mtx);
	return NULL;
}

hd_err hd_dialset_open(struct hd_dialset **out, nng_socket sock, const char *urls)
{
	size_t max = 1;
	for (const char *c = urls; *c != '\0'; c++)
		max += *c == ',';
	struct hd_dialset *d = calloc(1, sizeof(*d) + max * sizeof(d->slots[0]));
	char *copy = NULL, *save = NULL;
	hd_err err = HD_ENOMEM;
	pthread_condattr_t ca;
	if (d == NULL)
		return HD_ENOMEM;
	d->sock = sock;
	pthread_mutex_init(&d->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((copy = strdup(urls)) == NULL)
		goto fail;
	nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, pipe_event, d);
	nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, pipe_event, d);
	for (char *u = strtok_r(copy, ",", &save); u != NULL; u = strtok_r(NULL, ",", &save)) {
		while (*u == ' ')
			u++;
		if (*u == '\0')
			continue;
		if ((d->slots[d->n].url = strdup(u)) == NULL)
			goto fail;
		d->n++;
		int rv = slot_dial(d, d->n - 1);
		if (rv != 0) {
			HD_ERROR("cannot dial %s: %s", u, nng_strerror(rv));
			err = HD_EBADREQUEST;
			goto fail;
		}
	}
	if (d->n == 0) {
		err = HD_EBADREQUEST;
		goto fail;
	}
	if (pthread_create(&d->thread, NULL, watchdog, d) != 0)
		goto fail;
	d->thread_started = true;
	free(copy);
	*out = d;
	return HD_OK;

fail:
	free(copy);
	// Unhook before freeing: dialers started here may already have pipes.
	nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
	nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
	for (size_t i = 0; i < d->n; i++)
		if (nng_dialer_id(d->slots[i].dialer) > 0)
			nng_dialer_close(d->slots[i].dialer);
	hd_dialset_free(d);
	return err;
}

void hd_dialset_stop(struct hd_dialset *d)
{
	if (d == NULL || !d->thread_started)
		return;
	pthread_mutex_lock(&d->mtx);
	d->stopping = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mtx);
	pthread_join(d->thread, NULL);
	d->thread_started = false;
}

void hd_dialset_free(struct hd_dialset *d)
{
	if (d == NULL)
		return;
	hd_dialset_stop(d);
	for (size_t i = 0; i < d->n; i++)
		free(d->slots[i].url);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mtx);
	free(d);
}

int hd_dialset_connected(struct hd_dialset *d)
{
	int n = 0;
	pthread_mutex_lock(&d->mtx);
	for (size_t i = 0; i < d->n; i++)
		n += d->slots[i].pipes;
	pthread_mutex_unlock(&d->mtx);
	return n;
}

unsigned hd_dialset_connections(struct hd_dialset *d)
{
	pthread_mutex_lock(&d->mtx);
	unsigned n = d->connections;
	pthread_mutex_unlock(&d->mtx);
	return n;
}
