// redis_proxy.h: a loopback TCP proxy in front of the test Redis, for tests
// that need a reply to go missing. Armed, it forwards a connection's
// commands up to and including the next EXEC, waits until Redis has run
// them, and then closes that connection without relaying a single reply, as
// a network failure between EXEC and its reply would. Otherwise it relays
// both ways untouched. One thread serves every connection.
#ifndef HD_TEST_REDIS_PROXY_H
#define HD_TEST_REDIS_PROXY_H

#include <stdbool.h>

struct hd_test_proxy;

// hd_test_proxy_open starts a proxy on a free 127.0.0.1 port in front of the
// server of redis_url. Returns 0, or -1 when redis_url is not
// redis://<IPv4 address>:<port>[/db] (the caller may skip); socket and thread
// failures fail the test.
int hd_test_proxy_open(struct hd_test_proxy **out, const char *redis_url);

// hd_test_proxy_close stops the thread, closes every connection and frees p.
// NULL is a no-op.
void hd_test_proxy_close(struct hd_test_proxy *p);

// hd_test_proxy_url is redis_url with the proxy's port: same database.
const char *hd_test_proxy_url(const struct hd_test_proxy *p);

// hd_test_proxy_drop_exec_reply arms the proxy for one cut: the next EXEC a
// client sends (on any connection) runs in Redis, and its connection closes
// before any reply of its batch reaches the client.
void hd_test_proxy_drop_exec_reply(struct hd_test_proxy *p);

// hd_test_proxy_hold(p, true) hangs the proxy as SIGSTOP hangs Redis: it
// reads nothing and accepts nothing (the kernel still completes new
// connections), so what clients send waits in the socket buffers; with false
// it goes on and forwards all of it, even from clients that gave up and
// closed meanwhile (their bytes come before their end of stream).
void hd_test_proxy_hold(struct hd_test_proxy *p, bool held);

// hd_test_proxy_cuts counts the connections cut so far.
int hd_test_proxy_cuts(struct hd_test_proxy *p);

#endif
