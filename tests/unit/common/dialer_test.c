// dialer_test.c: a peer that dies during the SP handshake (accepts the
// connection and closes it before reading anything) makes libnng 1.5.2's ipc
// dialer give up for good; the dialset's watchdog must dial again so that
// subscribers and clients reach the server that comes up afterwards.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/dialer.h"
#include "common/rpc.h"
#include "common/util.h"

#define WAIT_MS (HD_REDIAL_MS + 5000) // bound on every wait for a reconnection

static char path[108], url[128];

// dying_peer_listen listens on path like a server; dying_peer_finish
// accepts one connection and closes it at once, then stops listening: what
// a SIGKILLed daemon looks like to a client that reconnected a moment too
// early.
static int dying_peer_listen(void)
{
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	assert_true(l >= 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 4), 0);
	return l;
}

static void dying_peer_finish(int l)
{
	int c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	close(c);
	usleep(300 * 1000); // the dialer has seen the failure by now
	close(l);
	unlink(path);
}

static void setup_paths(const char *name)
{
	snprintf(path, sizeof(path), "/tmp/hd-dialer-%s-%d.ipc", name, (int)getpid());
	snprintf(url, sizeof(url), "ipc://%s", path);
}

static void on_event(void *arg, const char *topic, const uint8_t *data, size_t len)
{
	(void)arg, (void)topic, (void)data, (void)len;
}

static void subscriber_redials(void **state)
{
	struct hd_sub *sub;
	nng_socket pub;
	setup_paths("sub");
	int l = dying_peer_listen();
	assert_int_equal(hd_sub_open(&sub, url, on_event, NULL), HD_OK);
	dying_peer_finish(l);
	assert_int_equal(hd_pub_open(&pub, url), HD_OK);
	int64_t start = hd_mono_ms();
	while (hd_sub_connected(sub) == 0 && hd_mono_ms() - start < WAIT_MS)
		usleep(20 * 1000);
	assert_int_equal(hd_sub_connected(sub), 1);
	hd_sub_close(sub);
	nng_close(pub);
	unlink(path);
}

static nng_msg *echo(void *state, nng_msg *req)
{
	nng_msg *rep;
	if (nng_msg_dup(&rep, req) != 0)
		return NULL;
	return rep;
}

static void client_redials(void **state)
{
	struct hd_rpc_client *client;
	struct hd_rpc_server *server;
	void *states[1] = {NULL};
	setup_paths("req");
	int l = dying_peer_listen();
	assert_int_equal(hd_rpc_client_open(&client, url), HD_OK);
	dying_peer_finish(l);
	assert_int_equal(hd_rpc_server_open(&server, url, 1, echo, states), HD_OK);
	nng_msg *req, *rep = NULL;
	assert_int_equal(nng_msg_alloc(&req, 0), 0);
	assert_int_equal(nng_msg_append(req, "ping", 4), 0);
	// One call bounded by WAIT_MS: it waits in the REQ queue until a
	// connection exists, which only the watchdog's new dialer makes.
	assert_int_equal(hd_rpc_call(client, req, WAIT_MS, &rep), HD_OK);
	assert_int_equal(nng_msg_len(rep), 4);
	assert_memory_equal(nng_msg_body(rep), "ping", 4);
	nng_msg_free(rep);
	hd_rpc_client_close(client);
	hd_rpc_server_close(server);
	unlink(path);
}

static void bad_urls(void **state)
{
	struct hd_rpc_client *client;
	assert_int_equal(hd_rpc_client_open(&client, ""), HD_EBADREQUEST);
	assert_int_equal(hd_rpc_client_open(&client, " , "), HD_EBADREQUEST);
	assert_int_equal(hd_rpc_client_open(&client, "tcp://127.0.0.1:1,nope://x"), HD_EBADREQUEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(subscriber_redials),
		cmocka_unit_test(client_redials),
		cmocka_unit_test(bad_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
