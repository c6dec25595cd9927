// redis_fixture.c: start/stop a private redis-server for tests.
#include "redis_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char url[128];
static pid_t server_pid;
static int server_port;

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("free_port");
		exit(2);
	}
	close(fd);
	return ntohs(a.sin_port);
}

static int can_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {
		.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void stop_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
}

static void start_server(void)
{
	char port[16];
	snprintf(port, sizeof(port), "%d", server_port);
	server_pid = fork();
	if (server_pid == 0) {
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		       "--appendonly", "no", "--loglevel", "warning", (char *)NULL);
		perror("exec redis-server");
		_exit(127);
	}
	for (int i = 0; i < 200 && !can_connect(server_port); i++)
		usleep(20 * 1000);
	if (!can_connect(server_port)) {
		fprintf(stderr, "redis-server did not start on port %d\n", server_port);
		stop_server();
		exit(2);
	}
}

const char *hd_test_redis_url(void)
{
	if (url[0] != '\0')
		return url;
	const char *env = getenv("HUDDLE_TEST_REDIS_URL");
	if (env != NULL && *env != '\0') {
		snprintf(url, sizeof(url), "%s", env);
		return url;
	}
	server_port = free_port();
	start_server();
	atexit(stop_server);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", server_port);
	return url;
}

int hd_test_redis_restart(int down_ms)
{
	if (server_pid <= 0)
		return -1;
	stop_server();
	usleep((useconds_t)down_ms * 1000);
	start_server();
	return 0;
}
