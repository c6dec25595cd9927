// janus.c: the Janus WebSocket client (see janus.h). One lws service thread
// owns the WebSocket, the session state and every timer; worker threads
// queue calls under the mutex and wake it with lws_cancel_service().
#include "media/janus.h"

#include <errno.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

// JANUS_PROTOCOL is the WebSocket subprotocol Janus's transport speaks.
#define JANUS_PROTOCOL "janus-protocol"
// JANUS_PLUGIN is the one plugin huddle-media attaches to.
#define JANUS_PLUGIN "janus.plugin.videoroom"
// JANUS_URL_MAX bounds the JANUS_URL a connection copies, bytes.
#define JANUS_URL_MAX 512
// JANUS_TXN_MAX is the room for a transaction id ("hd-" and a counter).
#define JANUS_TXN_MAX 32

// call_kind says what an answer to a queued message means.
enum call_kind {
	CALL_WORKER,    // a worker waits for it (media_janus_message)
	CALL_CREATE,    // creates the session
	CALL_CLAIM,     // claims the session after a reconnect
	CALL_ATTACH,    // attaches the VideoRoom handle
	CALL_KEEPALIVE, // keeps the session alive; the answer is only an ack
};

// session_state is where the service thread is with Janus.
enum session_state {
	ST_DISCONNECTED, // no WebSocket (connecting or waiting to retry)
	ST_OPENING,      // WebSocket up, session being created, claimed or attached
	ST_READY,        // session and handle exist: worker calls are sent
};

// call is one message to Janus and, for a worker, the answer it waits for.
// Linked in j->calls while queued or sent; freed by whoever unlinks it.
struct call {
	struct call *next;
	enum call_kind kind;
	char txn[JANUS_TXN_MAX];
	unsigned char *buf; // LWS_PRE bytes of headroom, then the JSON text
	size_t len;
	bool sent;
	bool ack_ends; // Janus's "ack" is the whole answer (trickle)
	bool done;     // answered or failed (CALL_WORKER)
	hd_err err;    // its outcome when done
	cJSON *data;   // Janus's whole answer on success (moved to the worker)
	char why[MEDIA_JANUS_WHY_MAX];
};

struct media_janus {
	struct media_janus_config cfg;
	char url[JANUS_URL_MAX];  // parsed in place by lws_parse_uri: host points into it
	char path[JANUS_URL_MAX]; // "/" and the URL's path (lws_parse_uri drops the '/')
	const char *host;
	int port;

	struct lws_context *ctx;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu; // guards everything below
	pthread_cond_t cv;  // broadcast when a worker call is done
	bool stopping;
	enum session_state state;
	uint64_t session_id, handle_id;
	uint64_t next_txn;
	struct call *calls;
	struct media_janus_stats stats;
	media_janus_event_fn on_event; // unsolicited messages and losses (set once, before use)
	void *event_arg;

	// Service thread only.
	struct lws *wsi;
	int64_t backoff_ms;
	lws_sorted_usec_list_t sul_connect, sul_keepalive;
	char *rx;
	size_t rx_len, rx_cap;
};

static void call_free(struct call *c)
{
	if (c == NULL)
		return;
	free(c->buf);
	cJSON_Delete(c->data);
	free(c);
}

// unlink_call removes c from j->calls (mutex held).
static void unlink_call(struct media_janus *j, struct call *c)
{
	for (struct call **p = &j->calls; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			c->next = NULL;
			return;
		}
}

// finish completes a call (mutex held): a worker's wakes up and frees it
// itself; an internal one is unlinked and freed here.
static void finish(struct media_janus *j, struct call *c, hd_err err, const char *why)
{
	if (c->kind == CALL_WORKER) {
		c->done = true;
		c->err = err;
		if (why != NULL)
			snprintf(c->why, sizeof(c->why), "%s", why);
		pthread_cond_broadcast(&j->cv);
		return;
	}
	unlink_call(j, c);
	call_free(c);
}

// queue_call builds a message {"janus": verb, "transaction", "apisecret",
// session/handle ids when given, body when given, a copy of each member of
// extra (such as "jsep" or "candidate") when given} (mutex held) and queues
// it. Returns the call (linked), or NULL when out of memory.
static struct call *queue_call_extra(struct media_janus *j, enum call_kind kind, const char *verb, uint64_t session,
				     uint64_t handle, const cJSON *body, const char *plugin, const cJSON *extra)
{
	struct call *c = calloc(1, sizeof(*c));
	cJSON *m = cJSON_CreateObject();
	char *text = NULL;
	if (c == NULL || m == NULL)
		goto fail;
	c->kind = kind;
	snprintf(c->txn, sizeof(c->txn), "hd-%" PRIu64, ++j->next_txn);
	if (cJSON_AddStringToObject(m, "janus", verb) == NULL ||
	    cJSON_AddStringToObject(m, "transaction", c->txn) == NULL ||
	    cJSON_AddStringToObject(m, "apisecret", j->cfg.api_secret) == NULL)
		goto fail;
	// Ids as integer literals: cJSON would print a double such as
	// 8.61149956718517e+15, which Janus (jansson) reads as a real, not an id.
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, session);
	if (session != 0 && cJSON_AddRawToObject(m, "session_id", id) == NULL)
		goto fail;
	snprintf(id, sizeof(id), "%" PRIu64, handle);
	if (handle != 0 && cJSON_AddRawToObject(m, "handle_id", id) == NULL)
		goto fail;
	if (plugin != NULL && cJSON_AddStringToObject(m, "plugin", plugin) == NULL)
		goto fail;
	if (body != NULL) {
		cJSON *copy = cJSON_Duplicate(body, 1);
		if (copy == NULL || !cJSON_AddItemToObject(m, "body", copy)) {
			cJSON_Delete(copy);
			goto fail;
		}
	}
	const cJSON *x;
	cJSON_ArrayForEach(x, extra)
	{
		cJSON *copy = cJSON_Duplicate(x, 1);
		if (copy == NULL || !cJSON_AddItemToObject(m, x->string, copy)) {
			cJSON_Delete(copy);
			goto fail;
		}
	}
	if ((text = cJSON_PrintUnformatted(m)) == NULL)
		goto fail;
	c->len = strlen(text);
	if ((c->buf = malloc(LWS_PRE + c->len)) == NULL)
		goto fail;
	memcpy(c->buf + LWS_PRE, text, c->len);
	cJSON_free(text);
	cJSON_Delete(m);
	// Appended: Janus answers in order of arrival for one session.
	struct call **p = &j->calls;
	while (*p != NULL)
		p = &(*p)->next;
	*p = c;
	return c;
fail:
	cJSON_free(text);
	cJSON_Delete(m);
	call_free(c);
	return NULL;
}

static struct call *queue_call(struct media_janus *j, enum call_kind kind, const char *verb, uint64_t session,
			       uint64_t handle, const cJSON *body, const char *plugin)
{
	return queue_call_extra(j, kind, verb, session, handle, body, plugin, NULL);
}

// fail_all completes every call with err (mutex held), on a lost
// connection: what was sent will never be answered on the new one.
static void fail_all(struct media_janus *j, hd_err err, const char *why)
{
	struct call *c = j->calls, *next;
	for (; c != NULL; c = next) {
		next = c->next;
		if (c->kind == CALL_WORKER && c->done)
			continue;
		finish(j, c, err, why);
	}
}

// open_session starts creating (or, after a reconnect, claiming) the
// session (mutex held, service thread).
static void open_session(struct media_janus *j)
{
	j->state = ST_OPENING;
	if (j->session_id != 0)
		queue_call(j, CALL_CLAIM, "claim", j->session_id, 0, NULL, NULL);
	else
		queue_call(j, CALL_CREATE, "create", 0, 0, NULL, NULL);
	if (j->wsi != NULL)
		lws_callback_on_writable(j->wsi);
}

static uint64_t json_u64(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) && v->valuedouble > 0 ? (uint64_t)v->valuedouble : 0;
}

static const char *json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

// janus_error writes Janus's {"error": {"code", "reason"}} into why.
static void janus_error(const cJSON *msg, char *why, size_t cap)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
	const char *reason = json_str(e, "reason");
	snprintf(why, cap, "janus error %" PRIu64 ": %s", json_u64(e, "code"), reason != NULL ? reason : "(no reason)");
}

// on_answer handles Janus's answer to call c (mutex held, service thread).
// A worker's call takes *msgp (then NULL).
static void on_answer(struct media_janus *j, struct call *c, const char *verb, cJSON **msgp)
{
	char why[MEDIA_JANUS_WHY_MAX];
	cJSON *msg = *msgp;
	bool ok = strcmp(verb, "success") == 0;
	if (strcmp(verb, "ack") == 0 && c->kind == CALL_WORKER && c->ack_ends) {
		finish(j, c, HD_OK, NULL);
		return;
	}
	if (strcmp(verb, "ack") == 0 && c->kind != CALL_KEEPALIVE)
		return; // an asynchronous answer follows as an "event" with the same transaction
	if (!ok && strcmp(verb, "event") != 0 && strcmp(verb, "ack") != 0)
		janus_error(msg, why, sizeof(why));
	else
		why[0] = '\0';
	switch (c->kind) {
	case CALL_WORKER: {
		if (!ok && strcmp(verb, "event") != 0) {
			finish(j, c, HD_EINTERNAL, why);
			return;
		}
		c->data = msg;
		*msgp = NULL;
		finish(j, c, HD_OK, NULL);
		return;
	}
	case CALL_CREATE:
		if (!ok) {
			HD_WARN("janus: cannot create a session: %s", why);
			break; // the keepalive timer retries
		}
		j->session_id = json_u64(cJSON_GetObjectItemCaseSensitive(msg, "data"), "id");
		j->handle_id = 0;
		j->stats.sessions++;
		HD_INFO("janus: session %" PRIu64 " created", j->session_id);
		queue_call(j, CALL_ATTACH, "attach", j->session_id, 0, NULL, JANUS_PLUGIN);
		break;
	case CALL_CLAIM:
		if (!ok || j->handle_id == 0) {
			HD_WARN("janus: cannot claim session %" PRIu64 " (%s); creating a new one", j->session_id,
				ok ? "no handle" : why);
			j->session_id = 0;
			j->handle_id = 0;
			queue_call(j, CALL_CREATE, "create", 0, 0, NULL, NULL);
			break;
		}
		j->stats.claims++;
		j->state = ST_READY;
		HD_INFO("janus: session %" PRIu64 " claimed after a reconnect", j->session_id);
		break;
	case CALL_ATTACH:
		if (!ok) {
			HD_WARN("janus: cannot attach to " JANUS_PLUGIN ": %s", why);
			break;
		}
		j->handle_id = json_u64(cJSON_GetObjectItemCaseSensitive(msg, "data"), "id");
		j->state = ST_READY;
		HD_INFO("janus: attached to " JANUS_PLUGIN ", handle %" PRIu64, j->handle_id);
		break;
	case CALL_KEEPALIVE:
		if (!ok && strcmp(verb, "ack") != 0)
			HD_WARN("janus: keepalive refused: %s", why);
		break;
	}
	finish(j, c, ok ? HD_OK : HD_EINTERNAL, NULL);
}

// on_message handles one whole text message from Janus (service thread).
static void on_message(struct media_janus *j, const char *text, size_t len)
{
	cJSON *msg = cJSON_ParseWithLength(text, len);
	const char *verb = json_str(msg, "janus"), *txn = json_str(msg, "transaction");
	if (msg == NULL || verb == NULL) {
		HD_WARN("janus: a message that is not Janus API JSON (%zu bytes); ignored", len);
		cJSON_Delete(msg);
		return;
	}
	pthread_mutex_lock(&j->mu);
	struct call *c = NULL;
	bool lost = false, unsolicited = false;
	if (txn != NULL)
		for (c = j->calls; c != NULL; c = c->next)
			if (c->sent && !(c->kind == CALL_WORKER && c->done) && strcmp(c->txn, txn) == 0)
				break;
	if (c != NULL) {
		on_answer(j, c, verb, &msg);
	} else if (strcmp(verb, "timeout") == 0 && json_u64(msg, "session_id") == j->session_id) {
		// Janus dropped the session (no keepalive in time): start over.
		HD_WARN("janus: session %" PRIu64 " timed out in Janus; creating a new one", j->session_id);
		j->session_id = 0;
		j->handle_id = 0;
		fail_all(j, HD_EUNAVAILABLE, "the Janus session timed out");
		open_session(j);
		lost = true;
	} else if (strcmp(verb, "detached") == 0 && json_u64(msg, "sender") == j->handle_id) {
		HD_WARN("janus: the VideoRoom handle was detached; attaching again");
		j->handle_id = 0;
		j->state = ST_OPENING;
		queue_call(j, CALL_ATTACH, "attach", j->session_id, 0, NULL, JANUS_PLUGIN);
		lws_callback_on_writable(j->wsi);
	} else if (txn == NULL && json_u64(msg, "sender") != 0) {
		// Janus speaking unasked about a participant's handle: the callback
		// reads it below. (An answer whose caller gave up waiting has a
		// transaction: it is no news, only late.)
		unsolicited = true;
	} else {
		HD_DEBUG("janus: %s event (transaction %s)", verb, txn != NULL ? txn : "none");
	}
	// An answer may have queued the next step (attach after create).
	for (struct call *n = j->calls; n != NULL && j->wsi != NULL; n = n->next)
		if (!n->sent) {
			lws_callback_on_writable(j->wsi);
			break;
		}
	media_janus_event_fn fn = j->on_event;
	void *arg = j->event_arg;
	pthread_mutex_unlock(&j->mu);
	// Outside the mutex: the callback may take its own locks (a worker holding
	// one of them may be waiting on j->mu).
	if (fn != NULL && unsolicited)
		fn(arg, json_u64(msg, "sender"), msg);
	if (fn != NULL && lost)
		fn(arg, 0, NULL);
	cJSON_Delete(msg);
}

static void schedule_connect(struct media_janus *j);

static void connect_now(lws_sorted_usec_list_t *sul)
{
	struct media_janus *j = lws_container_of(sul, struct media_janus, sul_connect);
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = j->ctx;
	ci.address = j->host;
	ci.port = j->port;
	ci.path = j->path;
	ci.host = j->host;
	ci.origin = j->host;
	ci.protocol = JANUS_PROTOCOL;
	ci.pwsi = &j->wsi;
	if (lws_client_connect_via_info(&ci) == NULL) {
		j->wsi = NULL;
		schedule_connect(j);
	}
}

// schedule_connect retries the connection after the backoff (service thread).
static void schedule_connect(struct media_janus *j)
{
	HD_DEBUG("janus: reconnecting in %" PRId64 " ms", j->backoff_ms);
	lws_sul_schedule(j->ctx, 0, &j->sul_connect, connect_now, j->backoff_ms * LWS_US_PER_MS);
	j->backoff_ms *= 2;
	if (j->backoff_ms > j->cfg.reconnect_max_ms)
		j->backoff_ms = j->cfg.reconnect_max_ms;
}

static void keepalive(lws_sorted_usec_list_t *sul)
{
	struct media_janus *j = lws_container_of(sul, struct media_janus, sul_keepalive);
	pthread_mutex_lock(&j->mu);
	if (j->wsi != NULL && j->state == ST_READY)
		queue_call(j, CALL_KEEPALIVE, "keepalive", j->session_id, 0, NULL, NULL);
	else if (j->wsi != NULL && j->state == ST_OPENING && j->calls == NULL)
		open_session(j); // a create or attach that Janus refused: try again
	if (j->wsi != NULL && j->calls != NULL)
		lws_callback_on_writable(j->wsi);
	pthread_mutex_unlock(&j->mu);
	lws_sul_schedule(j->ctx, 0, &j->sul_keepalive, keepalive, j->cfg.keepalive_ms * LWS_US_PER_MS);
}

// on_closed forgets the WebSocket and schedules a reconnect (service thread).
static void on_closed(struct media_janus *j, const char *what)
{
	pthread_mutex_lock(&j->mu);
	bool was = j->state != ST_DISCONNECTED;
	j->wsi = NULL;
	j->state = ST_DISCONNECTED;
	fail_all(j, HD_EUNAVAILABLE, "the connection to Janus was lost");
	bool stopping = j->stopping;
	media_janus_event_fn fn = j->on_event;
	void *arg = j->event_arg;
	pthread_mutex_unlock(&j->mu);
	if (was)
		HD_WARN("janus: connection %s", what);
	else
		HD_DEBUG("janus: connection %s", what);
	if (was && fn != NULL)
		fn(arg, 0, NULL);
	free(j->rx);
	j->rx = NULL;
	j->rx_len = j->rx_cap = 0;
	if (!stopping)
		schedule_connect(j);
}

// write_one sends the oldest unsent call (service thread, WRITEABLE).
static int write_one(struct media_janus *j, struct lws *wsi)
{
	pthread_mutex_lock(&j->mu);
	struct call *c = j->calls;
	while (c != NULL && (c->sent || (c->kind == CALL_WORKER && j->state != ST_READY)))
		c = c->next;
	bool more = false;
	int rv = 0;
	if (c != NULL) {
		if (lws_write(wsi, c->buf + LWS_PRE, c->len, LWS_WRITE_TEXT) < (int)c->len) {
			rv = -1;
		} else {
			c->sent = true;
			for (struct call *n = c->next; n != NULL; n = n->next)
				if (!n->sent)
					more = true;
		}
	}
	pthread_mutex_unlock(&j->mu);
	if (more)
		lws_callback_on_writable(wsi);
	return rv;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct media_janus *j = lws_context_user(lws_get_context(wsi));
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		HD_INFO("janus: connected to %s:%d", j->host, j->port);
		j->backoff_ms = j->cfg.reconnect_min_ms;
		pthread_mutex_lock(&j->mu);
		j->wsi = wsi;
		j->stats.connects++;
		open_session(j);
		pthread_mutex_unlock(&j->mu);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_closed(j, in != NULL ? (const char *)in : "failed");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_closed(j, "closed");
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (j->rx_len + len > j->cfg.message_max) {
			HD_WARN("janus: a message over MEDIA_JANUS_MESSAGE_MAX (%zu bytes); dropping the connection",
				j->cfg.message_max);
			return -1;
		}
		if (j->rx_len + len + 1 > j->rx_cap) {
			size_t cap = j->rx_len + len + 1 > 2 * j->rx_cap ? j->rx_len + len + 1 : 2 * j->rx_cap;
			char *p = realloc(j->rx, cap);
			if (p == NULL)
				return -1;
			j->rx = p;
			j->rx_cap = cap;
		}
		memcpy(j->rx + j->rx_len, in, len);
		j->rx_len += len;
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			on_message(j, j->rx, j->rx_len);
			j->rx_len = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return write_one(j, wsi);
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		pthread_mutex_lock(&j->mu);
		if (j->wsi != NULL && j->calls != NULL)
			lws_callback_on_writable(j->wsi);
		pthread_mutex_unlock(&j->mu);
		break;
	default:
		break;
	}
	return 0;
}

// lws_log_emit routes lws's own lines into Huddle's log.
static void lws_log_emit(int level, const char *line)
{
	int l = level == LLL_ERR ? HD_LOG_ERROR : level == LLL_WARN ? HD_LOG_WARN : HD_LOG_DEBUG;
	HD_LOG(l, "lws: %.*s", (int)strcspn(line, "\n"), line);
}

static const struct lws_protocols protocols[] = {
	{JANUS_PROTOCOL, callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service_main(void *arg)
{
	struct media_janus *j = arg;
	lws_sul_schedule(j->ctx, 0, &j->sul_connect, connect_now, 1);
	lws_sul_schedule(j->ctx, 0, &j->sul_keepalive, keepalive, j->cfg.keepalive_ms * LWS_US_PER_MS);
	for (;;) {
		pthread_mutex_lock(&j->mu);
		bool stop = j->stopping;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		if (lws_service(j->ctx, 0) < 0)
			break;
	}
	return NULL;
}

hd_err media_janus_open(struct media_janus **out, const struct media_janus_config *cfg)
{
	struct media_janus *j = calloc(1, sizeof(*j));
	const char *scheme = NULL, *host = NULL, *path = NULL;
	int port = 0;
	if (j == NULL)
		return HD_ENOMEM;
	j->cfg = *cfg;
	j->backoff_ms = cfg->reconnect_min_ms;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	if (strlen(cfg->url) >= sizeof(j->url) || strncmp(cfg->url, "ws://", 5) != 0) {
		media_janus_close(j);
		return HD_EBADREQUEST;
	}
	snprintf(j->url, sizeof(j->url), "%s", cfg->url);
	if (lws_parse_uri(j->url, &scheme, &host, &port, &path) != 0 || host[0] == '\0') {
		media_janus_close(j);
		return HD_EBADREQUEST;
	}
	j->host = host;
	j->port = port;
	snprintf(j->path, sizeof(j->path), "/%s", path);
	lws_set_log_level(LLL_ERR | LLL_WARN | (hd_log_level >= HD_LOG_DEBUG ? LLL_NOTICE : 0), lws_log_emit);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = j;
	if ((j->ctx = lws_create_context(&info)) == NULL) {
		media_janus_close(j);
		return HD_EINTERNAL;
	}
	if (pthread_create(&j->thread, NULL, service_main, j) != 0) {
		media_janus_close(j);
		return HD_EINTERNAL;
	}
	j->thread_started = true;
	*out = j;
	return HD_OK;
}

void media_janus_close(struct media_janus *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	j->stopping = true;
	pthread_mutex_unlock(&j->mu);
	if (j->thread_started) {
		lws_cancel_service(j->ctx);
		pthread_join(j->thread, NULL);
	}
	if (j->ctx != NULL)
		lws_context_destroy(j->ctx); // closes the WebSocket (CLIENT_CLOSED runs here)
	pthread_mutex_lock(&j->mu);
	fail_all(j, HD_ECLOSED, "huddle-media is stopping");
	pthread_mutex_unlock(&j->mu);
	// Only internal calls can be left (workers are joined before close).
	while (j->calls != NULL) {
		struct call *c = j->calls;
		j->calls = c->next;
		call_free(c);
	}
	free(j->rx);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

// worker_call sends one message (verb; to handle, or to the room handle when
// handle is 0 and the verb needs one) and waits for its answer, which it
// returns whole in *answer (the caller's). Errors as media_janus_message.
static hd_err worker_call(struct media_janus *j, const char *verb, uint64_t handle, bool needs_handle,
			  const cJSON *body, const char *plugin, const cJSON *extra, bool ack_ends, cJSON **answer,
			  char *why)
{
	*answer = NULL;
	pthread_mutex_lock(&j->mu);
	if (j->stopping) {
		pthread_mutex_unlock(&j->mu);
		snprintf(why, MEDIA_JANUS_WHY_MAX, "huddle-media is stopping");
		return HD_ECLOSED;
	}
	if (j->state != ST_READY) {
		pthread_mutex_unlock(&j->mu);
		snprintf(why, MEDIA_JANUS_WHY_MAX, "%s",
			 j->state == ST_DISCONNECTED ? "Janus is not connected" : "the Janus session is not ready yet");
		return HD_EUNAVAILABLE;
	}
	if (needs_handle && handle == 0)
		handle = j->handle_id;
	struct call *c = queue_call_extra(j, CALL_WORKER, verb, j->session_id, handle, body, plugin, extra);
	if (c == NULL) {
		pthread_mutex_unlock(&j->mu);
		snprintf(why, MEDIA_JANUS_WHY_MAX, "out of memory");
		return HD_ENOMEM;
	}
	c->ack_ends = ack_ends;
	pthread_mutex_unlock(&j->mu);
	lws_cancel_service(j->ctx);

	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += j->cfg.timeout_ms / 1000;
	deadline.tv_nsec += (j->cfg.timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&j->mu);
	int rv = 0;
	while (!c->done && rv != ETIMEDOUT)
		rv = pthread_cond_timedwait(&j->cv, &j->mu, &deadline);
	hd_err err;
	if (c->done) {
		err = c->err;
		*answer = c->data;
		c->data = NULL;
		snprintf(why, MEDIA_JANUS_WHY_MAX, "%s", c->why);
	} else {
		err = HD_ETIMEOUT;
		snprintf(why, MEDIA_JANUS_WHY_MAX,
			 "Janus did not answer within MEDIA_JANUS_TIMEOUT_MS (%" PRId64 " ms)", j->cfg.timeout_ms);
	}
	unlink_call(j, c);
	pthread_mutex_unlock(&j->mu);
	call_free(c);
	return err;
}

hd_err media_janus_message(struct media_janus *j, const cJSON *body, cJSON **data, char *why)
{
	cJSON *answer = NULL;
	*data = NULL;
	hd_err err = worker_call(j, "message", 0, true, body, NULL, NULL, false, &answer, why);
	if (err != HD_OK)
		return err;
	cJSON *pd = cJSON_GetObjectItemCaseSensitive(answer, "plugindata");
	*data = cJSON_DetachItemFromObjectCaseSensitive(pd, "data");
	cJSON_Delete(answer);
	if (*data == NULL) {
		snprintf(why, MEDIA_JANUS_WHY_MAX, "janus answered without plugindata.data");
		return HD_EINTERNAL;
	}
	return HD_OK;
}

hd_err media_janus_attach(struct media_janus *j, uint64_t *handle, uint64_t *session, char *why)
{
	cJSON *answer = NULL;
	*handle = 0;
	hd_err err = worker_call(j, "attach", 0, false, NULL, JANUS_PLUGIN, NULL, false, &answer, why);
	if (err != HD_OK)
		return err;
	*handle = json_u64(cJSON_GetObjectItemCaseSensitive(answer, "data"), "id");
	*session = json_u64(answer, "session_id");
	cJSON_Delete(answer);
	if (*handle == 0) {
		snprintf(why, MEDIA_JANUS_WHY_MAX, "janus answered attach without a handle id");
		return HD_EINTERNAL;
	}
	return HD_OK;
}

hd_err media_janus_detach(struct media_janus *j, uint64_t handle, char *why)
{
	cJSON *answer = NULL;
	hd_err err = worker_call(j, "detach", handle, false, NULL, NULL, NULL, false, &answer, why);
	cJSON_Delete(answer);
	return err;
}

hd_err media_janus_send(struct media_janus *j, uint64_t handle, const cJSON *body, const cJSON *jsep, cJSON **data,
			cJSON **jsep_out, char *why)
{
	cJSON *answer = NULL, *extra = NULL;
	*data = NULL;
	if (jsep_out != NULL)
		*jsep_out = NULL;
	if (jsep != NULL) {
		cJSON *copy = cJSON_Duplicate(jsep, 1);
		if ((extra = cJSON_CreateObject()) == NULL || copy == NULL ||
		    !cJSON_AddItemToObject(extra, "jsep", copy)) {
			cJSON_Delete(copy);
			cJSON_Delete(extra);
			snprintf(why, MEDIA_JANUS_WHY_MAX, "out of memory");
			return HD_ENOMEM;
		}
	}
	hd_err err = worker_call(j, "message", handle, false, body, NULL, extra, false, &answer, why);
	cJSON_Delete(extra);
	if (err != HD_OK)
		return err;
	cJSON *pd = cJSON_GetObjectItemCaseSensitive(answer, "plugindata");
	*data = cJSON_DetachItemFromObjectCaseSensitive(pd, "data");
	if (jsep_out != NULL)
		*jsep_out = cJSON_DetachItemFromObjectCaseSensitive(answer, "jsep");
	cJSON_Delete(answer);
	if (*data == NULL) {
		if (jsep_out != NULL) {
			cJSON_Delete(*jsep_out);
			*jsep_out = NULL;
		}
		snprintf(why, MEDIA_JANUS_WHY_MAX, "janus answered without plugindata.data");
		return HD_EINTERNAL;
	}
	return HD_OK;
}

hd_err media_janus_trickle(struct media_janus *j, uint64_t handle, const cJSON *candidate, char *why)
{
	cJSON *answer = NULL, *extra = cJSON_CreateObject(), *copy = cJSON_Duplicate(candidate, 1);
	if (extra == NULL || copy == NULL || !cJSON_AddItemToObject(extra, "candidate", copy)) {
		cJSON_Delete(copy);
		cJSON_Delete(extra);
		snprintf(why, MEDIA_JANUS_WHY_MAX, "out of memory");
		return HD_ENOMEM;
	}
	hd_err err = worker_call(j, "trickle", handle, false, NULL, NULL, extra, true, &answer, why);
	cJSON_Delete(extra);
	cJSON_Delete(answer);
	return err;
}

void media_janus_set_events(struct media_janus *j, media_janus_event_fn fn, void *arg)
{
	pthread_mutex_lock(&j->mu);
	j->on_event = fn;
	j->event_arg = arg;
	pthread_mutex_unlock(&j->mu);
}

void media_janus_get_stats(struct media_janus *j, struct media_janus_stats *st)
{
	pthread_mutex_lock(&j->mu);
	*st = j->stats;
	st->ready = j->state == ST_READY;
	st->session_id = j->session_id;
	pthread_mutex_unlock(&j->mu);
}
