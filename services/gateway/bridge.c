// bridge.c: the locked queue between NNG threads and the lws thread.
#include "gateway/bridge.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static pthread_mutex_t bridge_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct gw_bridge_item *bridge_head, *bridge_tail;
static struct lws_context *bridge_ctx;
static size_t bridge_event_bytes; // of the events in the queue
static uint64_t bridge_dropped;

void gw_bridge_init(struct lws_context *ctx)
{
	bridge_ctx = ctx;
}

static void bridge_push(struct gw_bridge_item *it)
{
	pthread_mutex_lock(&bridge_mtx);
	if (bridge_tail != NULL)
		bridge_tail->next = it;
	else
		bridge_head = it;
	bridge_tail = it;
	pthread_mutex_unlock(&bridge_mtx);
	if (bridge_ctx != NULL)
		lws_cancel_service(bridge_ctx);
}

void gw_bridge_push_reply(enum gw_bridge_kind kind, void *pending, hd_err err, nng_msg *msg)
{
	struct gw_bridge_item *it = calloc(1, sizeof(*it));
	if (it == NULL) {
		// Without memory the reply cannot be delivered; the pending
		// request is leaked rather than freed on a foreign thread.
		HD_ERROR("bridge: out of memory, dropping a reply");
		nng_msg_free(msg);
		return;
	}
	it->kind = kind;
	it->pending = pending;
	it->err = err;
	it->msg = msg;
	bridge_push(it);
}

void gw_bridge_push_event(enum gw_bridge_kind kind, const uint8_t *data, size_t len)
{
	pthread_mutex_lock(&bridge_mtx);
	bool full = bridge_event_bytes + len > GW_BRIDGE_EVENTS_MAX;
	if (full)
		bridge_dropped++;
	else
		bridge_event_bytes += len;
	pthread_mutex_unlock(&bridge_mtx);
	if (full) {
		HD_WARN("bridge: %u bytes of events wait for the service thread; dropping one", GW_BRIDGE_EVENTS_MAX);
		return;
	}
	struct gw_bridge_item *it = calloc(1, sizeof(*it));
	if (it == NULL || (it->data = malloc(len > 0 ? len : 1)) == NULL) {
		HD_ERROR("bridge: out of memory, dropping an event");
		pthread_mutex_lock(&bridge_mtx);
		bridge_event_bytes -= len;
		bridge_dropped++;
		pthread_mutex_unlock(&bridge_mtx);
		free(it);
		return;
	}
	it->kind = kind;
	memcpy(it->data, data, len);
	it->len = len;
	bridge_push(it);
}

struct gw_bridge_item *gw_bridge_take(void)
{
	pthread_mutex_lock(&bridge_mtx);
	struct gw_bridge_item *list = bridge_head;
	bridge_head = bridge_tail = NULL;
	bridge_event_bytes = 0; // the caller now holds them
	pthread_mutex_unlock(&bridge_mtx);
	return list;
}

uint64_t gw_bridge_dropped(void)
{
	pthread_mutex_lock(&bridge_mtx);
	uint64_t n = bridge_dropped;
	pthread_mutex_unlock(&bridge_mtx);
	return n;
}

void gw_bridge_item_free(struct gw_bridge_item *it)
{
	if (it == NULL)
		return;
	if (it->msg != NULL)
		nng_msg_free(it->msg);
	free(it->data);
	free(it);
}
