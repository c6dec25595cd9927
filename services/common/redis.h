// redis.h: one Redis connection that reconnects by itself (hiredis 0.14).
// Not thread-safe: each worker thread owns its own.
#ifndef HD_REDIS_H
#define HD_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct hd_redis;

// hd_redis_open parses url ("redis://host:port[/db]" or "unix:///path[?db=N]")
// and connects; a server that is down now is retried on each command.
// timeout_ms bounds connect and each command. Returns HD_OK, HD_EBADREQUEST
// for a bad URL, HD_ENOMEM.
hd_err hd_redis_open(struct hd_redis **out, const char *url, int timeout_ms);

// hd_redis_url_valid tells whether hd_redis_open would accept url, without
// connecting (the parser alone, for the config fuzz harness).
bool hd_redis_url_valid(const char *url);

// hd_redis_close closes the connection and frees r. NULL is a no-op.
void hd_redis_close(struct hd_redis *r);

// hd_redis_command runs one command given as argv (binary-safe; argvlen may
// be NULL for C strings). When the connection is lost it reconnects and
// retries once, so commands must be idempotent. On HD_OK *reply is the
// caller's (freeReplyObject); a Redis error reply gives HD_EINTERNAL (logged)
// with *reply NULL; no connection gives HD_EUNAVAILABLE.
hd_err hd_redis_command(struct hd_redis *r, redisReply **reply, int argc, const char **argv, const size_t *argvlen);

// hd_redis_deadline_ms gives, on the Redis server's clock (ms since the
// epoch, as its TIME tells), the moment after which a command sent now on r
// is one the caller has stopped waiting for (now plus r's command timeout).
// A write that must not happen once its caller was told it failed (a Redis
// that hung, then resumed and ran what waited in its socket) carries it and
// checks it against TIME in a script. The server's clock is measured on r's
// connection (TIME, again after a minute), so the two hosts' clocks need
// not agree. Connects when needed. Returns HD_OK (*deadline_ms set) or
// HD_EUNAVAILABLE.
hd_err hd_redis_deadline_ms(struct hd_redis *r, int64_t *deadline_ms);

// hd_redis_ping checks the connection (PING). Returns HD_OK or HD_EUNAVAILABLE.
hd_err hd_redis_ping(struct hd_redis *r);

// hd_redis_cmd is one command of a pipeline, given as for hd_redis_command.
struct hd_redis_cmd {
	int argc;
	const char **argv;
	const size_t *argvlen; // NULL for C strings
};

// hd_redis_pipeline sends n commands in one write and then reads their n
// replies: one round trip for the batch. Commands run in order; a MULTI/EXEC
// inside the batch is fine. When the connection is lost it reconnects and
// retries the whole batch once, so the batch must be idempotent. On HD_OK
// replies[0..n-1] are the caller's (freeReplyObject each), and *resent (may
// be NULL) tells whether the batch had to be sent again: then its first run
// may have happened too, unseen, and the replies are the second run's (an
// HDEL the first run applied answers 0). A Redis error reply to any command
// gives HD_EINTERNAL (logged); no connection gives HD_EUNAVAILABLE; on any
// error every replies[i] is NULL. n == 0 is HD_OK.
hd_err hd_redis_pipeline(struct hd_redis *r, const struct hd_redis_cmd *cmds, size_t n, redisReply **replies,
			 bool *resent);

#endif
