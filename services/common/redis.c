// redis.c: a self-reconnecting hiredis connection.
#include "common/redis.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/log.h"
#include "common/util.h"

// HD_REDIS_CLOCK_SYNC_MS: how long a measure of the server's clock is
// trusted before hd_redis_deadline_ms asks TIME again (a step of the server's
// wall clock is followed within this).
#define HD_REDIS_CLOCK_SYNC_MS 60000

struct hd_redis {
	redisContext *ctx;
	char host[256];
	char path[256]; // unix socket, when set
	int port;
	int db;
	struct timeval timeout;
	int64_t timeout_ms;
	int64_t clock_offset_ms; // the server's TIME (ms) minus our hd_mono_ms, as last measured
	int64_t clock_synced_ms; // hd_mono_ms of that measure; 0: never
};

static hd_err redis_parse(struct hd_redis *r, const char *url)
{
	if (strncmp(url, "unix://", 7) == 0) {
		const char *p = url + 7;
		const char *q = strchr(p, '?');
		size_t n = q != NULL ? (size_t)(q - p) : strlen(p);
		if (n == 0 || n >= sizeof(r->path))
			return HD_EBADREQUEST;
		memcpy(r->path, p, n);
		r->path[n] = '\0';
		if (q != NULL) {
			char *end;
			long db = strncmp(q, "?db=", 4) == 0 ? strtol(q + 4, &end, 10) : -1;
			if (db < 0 || db > 1000000 || *end != '\0' || end == q + 4)
				return HD_EBADREQUEST;
			r->db = (int)db;
		}
		return HD_OK;
	}
	if (strncmp(url, "redis://", 8) == 0) {
		// redis://host[:port][/db]; credentials are not supported yet.
		const char *p = url + 8;
		size_t n = strcspn(p, ":/@");
		if (n == 0 || n >= sizeof(r->host) || p[n] == '@')
			return HD_EBADREQUEST;
		memcpy(r->host, p, n);
		r->host[n] = '\0';
		p += n;
		r->port = 6379;
		if (*p == ':') {
			char *end;
			long port = strtol(p + 1, &end, 10);
			if (end == p + 1 || port <= 0 || port > 65535)
				return HD_EBADREQUEST;
			r->port = (int)port;
			p = end;
		}
		if (*p == '/' && p[1] != '\0') {
			char *end;
			long db = strtol(p + 1, &end, 10);
			if (end == p + 1 || *end != '\0' || db < 0 || db > 1000000)
				return HD_EBADREQUEST;
			r->db = (int)db;
		} else if (*p != '\0' && strcmp(p, "/") != 0) {
			return HD_EBADREQUEST;
		}
		return HD_OK;
	}
	return HD_EBADREQUEST;
}

// clock_sync measures the server's clock on c (TIME, halfway through the
// round trip). Returns HD_OK or HD_EUNAVAILABLE.
static hd_err clock_sync(struct hd_redis *r, redisContext *c)
{
	int64_t t0 = hd_mono_ms();
	redisReply *rep = redisCommand(c, "TIME");
	int64_t t1 = hd_mono_ms();
	bool ok = rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
		  rep->element[0]->type == REDIS_REPLY_STRING && rep->element[1]->type == REDIS_REPLY_STRING;
	if (ok) {
		int64_t server_ms =
			strtoll(rep->element[0]->str, NULL, 10) * 1000 + strtoll(rep->element[1]->str, NULL, 10) / 1000;
		r->clock_offset_ms = server_ms - (t0 + t1) / 2;
		r->clock_synced_ms = t1 > 0 ? t1 : 1;
	}
	if (rep != NULL)
		freeReplyObject(rep);
	return ok ? HD_OK : HD_EUNAVAILABLE;
}

// redis_connect (re)establishes the connection and selects the database.
static hd_err redis_connect(struct hd_redis *r)
{
	if (r->ctx != NULL) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
	r->clock_synced_ms = 0; // maybe another server now (a failover): measure again
	redisContext *c = r->path[0] != '\0' ? redisConnectUnixWithTimeout(r->path, r->timeout)
					     : redisConnectWithTimeout(r->host, r->port, r->timeout);
	if (c == NULL)
		return HD_ENOMEM;
	if (c->err != 0) {
		HD_DEBUG("redis connect failed: %s", c->errstr);
		redisFree(c);
		return HD_EUNAVAILABLE;
	}
	redisSetTimeout(c, r->timeout);
	if (r->db != 0) {
		redisReply *rep = redisCommand(c, "SELECT %d", r->db);
		int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
		if (rep != NULL)
			freeReplyObject(rep);
		if (!ok) {
			redisFree(c);
			return HD_EUNAVAILABLE;
		}
	}
	r->ctx = c;
	return HD_OK;
}

bool hd_redis_url_valid(const char *url)
{
	struct hd_redis r;
	memset(&r, 0, sizeof(r));
	return redis_parse(&r, url) == HD_OK;
}

hd_err hd_redis_open(struct hd_redis **out, const char *url, int timeout_ms)
{
	struct hd_redis *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return HD_ENOMEM;
	if (redis_parse(r, url) != HD_OK) {
		char shown[HD_URI_LOG_MAX];
		HD_ERROR("bad Redis URL '%s' (want redis://host:port[/db] or unix:///path)",
			 hd_uri_redact(url, shown, sizeof(shown)));
		free(r);
		return HD_EBADREQUEST;
	}
	r->timeout_ms = timeout_ms;
	r->timeout.tv_sec = timeout_ms / 1000;
	r->timeout.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (redis_connect(r) != HD_OK) {
		char shown[HD_URI_LOG_MAX];
		HD_WARN("Redis at %s is not reachable yet; will retry", hd_uri_redact(url, shown, sizeof(shown)));
	}
	*out = r;
	return HD_OK;
}

void hd_redis_close(struct hd_redis *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		redisFree(r->ctx);
	free(r);
}

hd_err hd_redis_command(struct hd_redis *r, redisReply **reply, int argc, const char **argv, const size_t *argvlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((r->ctx == NULL || r->ctx->err != 0) && redis_connect(r) != HD_OK)
			continue;
		redisReply *rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
		if (rep == NULL) {
			HD_WARN("redis %s failed: %s; reconnecting", argv[0], r->ctx->errstr);
			redisFree(r->ctx);
			r->ctx = NULL;
			continue;
		}
		if (rep->type == REDIS_REPLY_ERROR) {
			HD_ERROR("redis %s: %s", argv[0], rep->str);
			freeReplyObject(rep);
			*reply = NULL;
			return HD_EINTERNAL;
		}
		*reply = rep;
		return HD_OK;
	}
	*reply = NULL;
	return HD_EUNAVAILABLE;
}

hd_err hd_redis_deadline_ms(struct hd_redis *r, int64_t *deadline_ms)
{
	if ((r->ctx == NULL || r->ctx->err != 0) && redis_connect(r) != HD_OK)
		return HD_EUNAVAILABLE;
	if (r->clock_synced_ms == 0 || hd_mono_ms() - r->clock_synced_ms > HD_REDIS_CLOCK_SYNC_MS) {
		if (clock_sync(r, r->ctx) != HD_OK) {
			HD_WARN("redis TIME failed: %s; reconnecting", r->ctx->err != 0 ? r->ctx->errstr : "bad reply");
			redisFree(r->ctx);
			r->ctx = NULL;
			return HD_EUNAVAILABLE;
		}
	}
	*deadline_ms = hd_mono_ms() + r->clock_offset_ms + r->timeout_ms;
	return HD_OK;
}

hd_err hd_redis_ping(struct hd_redis *r)
{
	const char *argv[] = {"PING"};
	redisReply *rep;
	hd_err err = hd_redis_command(r, &rep, 1, argv, NULL);
	if (err == HD_OK)
		freeReplyObject(rep);
	return err == HD_OK ? HD_OK : HD_EUNAVAILABLE;
}

// pipeline_drop frees the first n replies of a failed batch.
static void pipeline_drop(redisReply **replies, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (replies[i] != NULL)
			freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
}

hd_err hd_redis_pipeline(struct hd_redis *r, const struct hd_redis_cmd *cmds, size_t n, redisReply **replies,
			 bool *resent)
{
	bool sent = false; // an earlier attempt wrote the batch and lost its replies
	for (size_t i = 0; i < n; i++)
		replies[i] = NULL;
	if (resent != NULL)
		*resent = false;
	if (n == 0)
		return HD_OK;
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t i;
		if ((r->ctx == NULL || r->ctx->err != 0) && redis_connect(r) != HD_OK)
			continue;
		if (resent != NULL)
			*resent = sent;
		// Appending only fills hiredis's output buffer; the first
		// redisGetReply writes it all, then replies are read in order.
		for (i = 0; i < n; i++)
			if (redisAppendCommandArgv(r->ctx, cmds[i].argc, cmds[i].argv, cmds[i].argvlen) != REDIS_OK)
				break;
		if (i < n) {
			// A half-written buffer leaves the connection unusable.
			HD_ERROR("redis pipeline: cannot queue %s: %s", cmds[i].argv[0], r->ctx->errstr);
			redisFree(r->ctx);
			r->ctx = NULL;
			return HD_ENOMEM;
		}
		for (i = 0; i < n; i++) {
			void *rep = NULL;
			if (redisGetReply(r->ctx, &rep) != REDIS_OK || rep == NULL)
				break;
			replies[i] = rep;
		}
		if (i < n) {
			HD_WARN("redis pipeline of %zu failed at %s: %s; reconnecting", n, cmds[i].argv[0],
				r->ctx->errstr);
			pipeline_drop(replies, i);
			redisFree(r->ctx);
			r->ctx = NULL;
			sent = true;
			continue;
		}
		for (i = 0; i < n; i++)
			if (replies[i]->type == REDIS_REPLY_ERROR) {
				HD_ERROR("redis %s (command %zu of %zu): %s", cmds[i].argv[0], i + 1, n,
					 replies[i]->str);
				pipeline_drop(replies, n);
				return HD_EINTERNAL;
			}
		return HD_OK;
	}
	return HD_EUNAVAILABLE;
}
