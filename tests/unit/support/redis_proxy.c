// redis_proxy.c: a Redis proxy that can lose the replies to an EXEC (see
// redis_proxy.h).
#include "redis_proxy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROXY_CONNS 16         // client connections at once
#define PROXY_CUT_WAIT_MS 2000 // bounds the wait for Redis to run a cut batch
#define PROXY_IO 65536         // bytes per read
#define PROXY_HOLD_POLL_MS 10  // while held, how often the thread looks whether it is released

// The proxy's own command after a cut batch: Redis answers a connection's
// commands in order, so its reply says everything before it has run.
static const char marker_cmd[] = "*2\r\n$4\r\nECHO\r\n$16\r\nhd-proxy-cut-now\r\n";
static const char marker[] = "hd-proxy-cut-now";

// proxy_conn is one client connection and the proxy's connection to Redis
// for it.
struct proxy_conn {
	int client, server; // -1: slot free
	char *in;           // client bytes not forwarded yet: an incomplete command
	size_t in_len, in_cap;
};

struct hd_test_proxy {
	pthread_t thread;
	pthread_mutex_t mtx; // guards armed, held and cuts
	bool armed;
	bool held; // hung: nothing is read or accepted (see hd_test_proxy_hold)
	int cuts;
	int listen_fd;
	int wake[2]; // "x": hd_test_proxy_close stops the thread; "h": the hold changed
	struct sockaddr_in upstream;
	char url[192];
	struct proxy_conn conn[PROXY_CONNS]; // the proxy thread's alone
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static void conn_close(struct proxy_conn *c)
{
	close(c->client);
	close(c->server);
	free(c->in);
	*c = (struct proxy_conn){.client = -1, .server = -1};
}

// resp_int reads "<type><digits>\r\n" at b[*i]: 1 when read (*i moves past
// it), 0 when more bytes are needed, -1 when something else is there.
static int resp_int(const char *b, size_t len, size_t *i, char type, long *v)
{
	size_t j = *i;
	long n = 0;
	if (j >= len)
		return 0;
	if (b[j++] != type)
		return -1;
	for (; j < len && b[j] >= '0' && b[j] <= '9'; j++) {
		if (n > 100000000)
			return -1;
		n = n * 10 + (b[j] - '0');
	}
	if (j + 1 >= len)
		return 0;
	if (b[j] != '\r' || b[j + 1] != '\n')
		return -1;
	*v = n;
	*i = j + 2;
	return 1;
}

// command_len measures the command at the start of b, a RESP array of bulk
// strings as hiredis writes it: its length, 0 when more bytes are needed, -1
// when it is not one. *exec tells whether it is EXEC.
static long command_len(const char *b, size_t len, bool *exec)
{
	size_t i = 0;
	long argc, n;
	int rv;
	*exec = false;
	if ((rv = resp_int(b, len, &i, '*', &argc)) != 1)
		return rv;
	for (long a = 0; a < argc; a++) {
		if ((rv = resp_int(b, len, &i, '$', &n)) != 1)
			return rv;
		if (i + (size_t)n + 2 > len)
			return 0;
		if (a == 0)
			*exec = n == 4 && strncasecmp(b + i, "EXEC", 4) == 0;
		i += (size_t)n + 2;
	}
	return (long)i;
}

// take_arm disarms p and tells whether it was armed.
static bool take_arm(struct hd_test_proxy *p)
{
	pthread_mutex_lock(&p->mtx);
	bool armed = p->armed;
	p->armed = false;
	pthread_mutex_unlock(&p->mtx);
	return armed;
}

// wait_marker reads and drops what Redis answers on c until the marker's
// reply, for at most PROXY_CUT_WAIT_MS; true when it came.
static bool wait_marker(struct proxy_conn *c)
{
	char buf[PROXY_IO];
	size_t kept = 0;
	int64_t until = mono_ms() + PROXY_CUT_WAIT_MS;
	while (mono_ms() < until) {
		struct pollfd pf = {.fd = c->server, .events = POLLIN};
		if (poll(&pf, 1, 10) <= 0)
			continue;
		ssize_t n = read(c->server, buf + kept, sizeof(buf) - kept);
		if (n <= 0)
			return false;
		kept += (size_t)n;
		for (size_t i = 0; i + sizeof(marker) - 1 <= kept; i++)
			if (memcmp(buf + i, marker, sizeof(marker) - 1) == 0)
				return true;
		// Keep a tail that may hold the marker's first bytes.
		if (kept >= sizeof(marker) - 1) {
			memmove(buf, buf + kept - (sizeof(marker) - 1), sizeof(marker) - 1);
			kept = sizeof(marker) - 1;
		}
	}
	return false;
}

// from_client forwards the client's complete commands to Redis; armed, an
// EXEC is the last thing forwarded before the connection is cut.
static void from_client(struct hd_test_proxy *p, struct proxy_conn *c)
{
	if (c->in_cap - c->in_len < PROXY_IO) {
		size_t cap = c->in_cap + 2 * (size_t)PROXY_IO;
		char *in = realloc(c->in, cap);
		if (in == NULL) {
			conn_close(c);
			return;
		}
		c->in = in;
		c->in_cap = cap;
	}
	ssize_t n = read(c->client, c->in + c->in_len, c->in_cap - c->in_len);
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	size_t done = 0;
	for (;;) {
		bool exec;
		long len = command_len(c->in + done, c->in_len - done, &exec);
		if (len < 0) {
			done = c->in_len; // not what hiredis writes: passed on as it is
			break;
		}
		if (len == 0)
			break;
		done += (size_t)len;
		if (exec && take_arm(p)) {
			bool cut = send_all(c->server, c->in, done) &&
				   send_all(c->server, marker_cmd, sizeof(marker_cmd) - 1) && wait_marker(c);
			if (!cut)
				fprintf(stderr, "redis_proxy: Redis did not run the batch to cut\n");
			conn_close(c);
			pthread_mutex_lock(&p->mtx);
			p->cuts += cut;
			pthread_mutex_unlock(&p->mtx);
			return;
		}
	}
	if (!send_all(c->server, c->in, done)) {
		conn_close(c);
		return;
	}
	memmove(c->in, c->in + done, c->in_len - done);
	c->in_len -= done;
}

static void from_server(struct proxy_conn *c)
{
	char buf[PROXY_IO];
	ssize_t n = read(c->server, buf, sizeof(buf));
	if (n <= 0 || !send_all(c->client, buf, (size_t)n))
		conn_close(c);
}

static void proxy_accept(struct hd_test_proxy *p)
{
	int fd = accept(p->listen_fd, NULL, NULL);
	if (fd < 0)
		return;
	for (int i = 0; i < PROXY_CONNS; i++) {
		struct proxy_conn *c = &p->conn[i];
		if (c->client >= 0)
			continue;
		int up = socket(AF_INET, SOCK_STREAM, 0);
		if (up < 0 || connect(up, (struct sockaddr *)&p->upstream, sizeof(p->upstream)) != 0) {
			if (up >= 0)
				close(up);
			break;
		}
		c->client = fd;
		c->server = up;
		return;
	}
	fprintf(stderr, "redis_proxy: connection refused (no slot or no Redis)\n");
	close(fd);
}

// proxy_main is the proxy's thread: it polls the listening socket and every
// connection until hd_test_proxy_close wakes it.
static void *proxy_main(void *arg)
{
	struct hd_test_proxy *p = arg;
	for (;;) {
		struct pollfd pf[2 + 2 * PROXY_CONNS];
		struct proxy_conn *owner[2 + 2 * PROXY_CONNS];
		nfds_t n = 0;
		pthread_mutex_lock(&p->mtx);
		bool held = p->held;
		pthread_mutex_unlock(&p->mtx);
		// Held, every fd but the wake pipe is left out of the poll (a
		// negative fd is ignored): bytes wait in the kernel's buffers and
		// new connections in the accept queue, as with a stopped Redis.
		int off = held ? -1 : 1;
		pf[n++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = off * p->listen_fd, .events = POLLIN};
		for (int i = 0; i < PROXY_CONNS; i++) {
			if (p->conn[i].client < 0)
				continue;
			owner[n] = &p->conn[i];
			pf[n++] = (struct pollfd){.fd = off * p->conn[i].client, .events = POLLIN};
			owner[n] = &p->conn[i];
			pf[n++] = (struct pollfd){.fd = off * p->conn[i].server, .events = POLLIN};
		}
		if (poll(pf, n, held ? PROXY_HOLD_POLL_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("redis_proxy: poll");
			break;
		}
		if (pf[0].revents != 0) {
			char why = 'x';
			if (read(p->wake[0], &why, 1) != 1 || why == 'x')
				break; // hd_test_proxy_close
			continue;      // hd_test_proxy_hold: poll again with the new setting
		}
		// A slot closed in this round is only reused by the next accept.
		for (nfds_t k = 2; k < n; k++) {
			struct proxy_conn *c = owner[k];
			if (pf[k].revents == 0 || c->client < 0)
				continue;
			if (pf[k].fd == c->client)
				from_client(p, c);
			else
				from_server(c);
		}
		if (pf[1].revents != 0)
			proxy_accept(p);
	}
	return NULL;
}

int hd_test_proxy_open(struct hd_test_proxy **out, const char *redis_url)
{
	char host[64];
	char *end;
	if (strncmp(redis_url, "redis://", 8) != 0)
		return -1;
	const char *h = redis_url + 8;
	size_t hn = strcspn(h, ":/");
	if (hn == 0 || hn >= sizeof(host) || h[hn] != ':')
		return -1;
	memcpy(host, h, hn);
	host[hn] = '\0';
	long port = strtol(h + hn + 1, &end, 10);
	if (end == h + hn + 1 || port <= 0 || port > 65535 || (*end != '\0' && *end != '/'))
		return -1;

	struct hd_test_proxy *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->upstream.sin_family = AF_INET;
	p->upstream.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &p->upstream.sin_addr) != 1) {
		free(p);
		return -1;
	}
	for (int i = 0; i < PROXY_CONNS; i++)
		p->conn[i] = (struct proxy_conn){.client = -1, .server = -1};

	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->listen_fd >= 0);
	assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(p->listen_fd, PROXY_CONNS), 0);
	assert_int_equal(getsockname(p->listen_fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(p->url, sizeof(p->url), "redis://127.0.0.1:%d%s", ntohs(a.sin_port), end);
	assert_int_equal(pipe(p->wake), 0);
	pthread_mutex_init(&p->mtx, NULL);
	assert_int_equal(pthread_create(&p->thread, NULL, proxy_main, p), 0);
	*out = p;
	return 0;
}

void hd_test_proxy_close(struct hd_test_proxy *p)
{
	if (p == NULL)
		return;
	if (write(p->wake[1], "x", 1) != 1)
		perror("redis_proxy: wake");
	pthread_join(p->thread, NULL);
	for (int i = 0; i < PROXY_CONNS; i++)
		if (p->conn[i].client >= 0)
			conn_close(&p->conn[i]);
	close(p->listen_fd);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->mtx);
	free(p);
}

const char *hd_test_proxy_url(const struct hd_test_proxy *p)
{
	return p->url;
}

void hd_test_proxy_drop_exec_reply(struct hd_test_proxy *p)
{
	pthread_mutex_lock(&p->mtx);
	p->armed = true;
	pthread_mutex_unlock(&p->mtx);
}

void hd_test_proxy_hold(struct hd_test_proxy *p, bool held)
{
	pthread_mutex_lock(&p->mtx);
	p->held = held;
	pthread_mutex_unlock(&p->mtx);
	if (write(p->wake[1], "h", 1) != 1) // the thread may be in a poll without timeout
		perror("redis_proxy: wake");
}

int hd_test_proxy_cuts(struct hd_test_proxy *p)
{
	pthread_mutex_lock(&p->mtx);
	int n = p->cuts;
	pthread_mutex_unlock(&p->mtx);
	return n;
}
