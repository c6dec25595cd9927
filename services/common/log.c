// log.c: the stderr log sink shared by Huddle, lws and NNG messages.
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

int hd_log_level = HD_LOG_INFO;
static const char *log_name = "huddle";

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

int hd_log_parse_level(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	if (strcasecmp(name, "warning") == 0)
		return HD_LOG_WARN;
	return -1;
}

void hd_log_set_name(const char *name)
{
	log_name = name;
}

void hd_log_write(int level, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	va_list ap;

	if (level < 0)
		level = 0;
	if (level > HD_LOG_DEBUG)
		level = HD_LOG_DEBUG;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s ", (long)(tv.tv_usec / 1000), log_name,
			      level_names[level]);
	va_start(ap, fmt);
	int w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (w < 0)
		w = 0;
	n += (size_t)w;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	// One fwrite per line keeps concurrent threads' lines whole.
	fwrite(line, 1, n, stderr);
}
