// sysinfo.c: what huddle-load reads from the system: a server's RSS and CPU
// time from /proc, the open-file limit, and meetings made over HTTP.
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "load.h"

long hl_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

long long hl_cpu_ticks(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	// Fields after the ")" that ends the command name: state is field 3,
	// utime 14 and stime 15 (proc(5)).
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	p++;
	long long utime = 0, stime = 0;
	for (int field = 3; field <= 15; field++) {
		char *end;
		while (*p == ' ')
			p++;
		if (field == 14)
			utime = strtoll(p, &end, 10);
		else if (field == 15)
			stime = strtoll(p, &end, 10);
		else
			end = strchr(p, ' ');
		if (end == NULL)
			return -1;
		p = end;
	}
	return utime + stime;
}

long hl_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (long)rl.rlim_cur;
}

int hl_http_create_meeting(const char *host, int port, char *id, size_t idlen, char *err, size_t errlen)
{
	static const char body[] = "{\"title\":\"huddle-load\"}";
	char req[512], resp[4096];
	struct sockaddr_in sa;
	struct timeval tv = {.tv_sec = 10};
	size_t got = 0;
	int fd = -1, rv = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "host %s is not an IPv4 address", host);
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, errlen, "connect %s:%d: %s", host, port, strerror(errno));
		goto out;
	}
	int n = snprintf(req, sizeof(req),
			 "POST /api/meetings HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 host, port, sizeof(body) - 1, body);
	if (write(fd, req, (size_t)n) != n) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);
		if (r < 0) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		resp[got] = '\0';
		// A complete JSON body ends the read even if the server keeps the connection.
		char *b = strstr(resp, "\r\n\r\n");
		if (b != NULL && strrchr(b, '}') != NULL) {
			cJSON *j = cJSON_Parse(b + 4);
			cJSON_Delete(j);
			if (j != NULL)
				break;
		}
		if (got == sizeof(resp) - 1)
			break;
	}
	resp[got] = '\0';
	if (strncmp(resp, "HTTP/1.1 201", 12) != 0 && strncmp(resp, "HTTP/1.1 200", 12) != 0) {
		char *eol = strstr(resp, "\r\n");
		if (eol != NULL)
			*eol = '\0';
		snprintf(err, errlen, "POST /api/meetings: %s", got ? resp : "no answer");
		goto out;
	}
	char *b = strstr(resp, "\r\n\r\n");
	cJSON *j = b != NULL ? cJSON_Parse(b + 4) : NULL;
	const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id");
	if (!cJSON_IsString(jid) || strlen(jid->valuestring) >= idlen) {
		snprintf(err, errlen, "POST /api/meetings: no id in the answer");
	} else {
		snprintf(id, idlen, "%s", jid->valuestring);
		rv = 0;
	}
	cJSON_Delete(j);
out:
	close(fd);
	return rv;
}
