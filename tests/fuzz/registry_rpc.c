// registry_rpc.c: fuzzes the registry's request handler (registry/rpc.c,
// reg_rpc_handle) against a real redis-server (HUDDLE_TEST_REDIS_URL, as
// make test gives, or a private one on a free loopback port started by
// tests/unit/support/redis_fixture.c), a real SQLite store on tmpfs and a
// PUB socket, as main.c serves it. Redis is flushed before each input, so
// an input is replayed alone (the store keeps meetings of earlier inputs).
// Input: records of a 16-bit length and that many bytes, each one packed
// RegistryRequest served in turn (create, join, relay, leave, ...).
#include <unistd.h>

#include "common/log.h"
#include "common/redis.h"
#include "common/store.h"
#include "huddle/v1/registry.pb-c.h"
#include "redis_fixture.h"
#include "registry/registry.h"
#include "registry/rpc.h"
#include "support/input.h"
#include "support/rpc.h"

static struct reg_ctx ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char uri[256], url[256], redis_url[256];
	hd_log_level = -1;
	const char *dir = fz_tmpdir("registry");
	snprintf(uri, sizeof(uri), "sqlite://%s/huddle.db", dir);
	snprintf(url, sizeof(url), "ipc://%s/events.ipc", dir);
	const char *base = hd_test_redis_url();
	// A database of its own (15) when the URL names none: make test's
	// server is shared with the other tests.
	if (strncmp(base, "redis://", 8) == 0 && strchr(base + 8, '/') == NULL)
		snprintf(redis_url, sizeof(redis_url), "%s/15", base);
	else
		snprintf(redis_url, sizeof(redis_url), "%s", base);
	if (hd_store_open(&ctx.store, uri) != HD_OK || hd_pub_open(&ctx.pub, url) != HD_OK ||
	    hd_redis_open(&ctx.redis, redis_url, 2000) != HD_OK)
		abort();
	ctx.presence_ttl_ms = 30000;
	// The meeting the seeds join (ids are random otherwise: no input could
	// name one). Its host key is "fuzz-host-key" (hex SHA-256 below).
	struct hd_meeting m = {
		.id = "fuzzmeeting00000000000", .created_at_ms = 1700000000000, .title = "fuzz", .access_mode = 1};
	if (hd_meeting_insert(ctx.store, &m) != HD_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	redisReply *rep;
	const char *flush[] = {"FLUSHDB"};
	if (hd_redis_command(ctx.redis, &rep, 1, flush, NULL) != HD_OK)
		abort(); // Redis went away: the run is void
	freeReplyObject(rep);
	fz_init(&in, data, size);
	while (in.left > 0) {
		size_t n;
		const uint8_t *p = fz_slice(&in, &n);
		ProtobufCMessage *r = fz_rpc_serve(reg_rpc_handle, &ctx, &huddle__v1__registry_request__descriptor,
						   &huddle__v1__registry_reply__descriptor, p, n);
		if (r != NULL)
			protobuf_c_message_free_unpacked(r, NULL);
	}
	return 0;
}
