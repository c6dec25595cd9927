// bench.c: the daemon-benchmark helpers of bench.h.
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TMPFS_MAGIC_ 0x01021994

bool bench_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0';
}

bool bench_integer(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 100000000)
		return false;
	*out = (int)v;
	return true;
}

double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double bench_pct(const double *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)ceil(q * (double)n);
	return v[k > 0 ? k - 1 : 0];
}

struct hd_rpc_client *bench_client_open(const struct bench_target *t, const char *url)
{
	struct hd_rpc_client *c;
	if (hd_rpc_client_open(&c, url) != HD_OK) {
		fprintf(stderr, "%s: cannot open a client for %s\n", t->prog, url);
		exit(1);
	}
	return c;
}

const char *bench_default_bin(const struct bench_target *t, const char *env_var, const char *fallback)
{
	static char path[4096];
	const char *env = getenv(env_var);
	if (env != NULL && *env != '\0')
		return env;
	// Beside this program (both are in the build's bin/).
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n > 0) {
		path[n] = '\0';
		char *slash = strrchr(path, '/');
		if (slash != NULL) {
			strcpy(slash + 1, t->daemon);
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return fallback;
}

bool bench_work_open(const struct bench_target *t, const char *dir, char *work, size_t n, const char *what, bool *tmpfs)
{
	snprintf(work, n, "%s/%s-XXXXXX", dir, t->prog);
	if (mkdtemp(work) == NULL) {
		fprintf(stderr, "%s: cannot create a folder in %s: %s\n", t->prog, dir, strerror(errno));
		return false;
	}
	struct statfs fs;
	*tmpfs = statfs(work, &fs) == 0 && (unsigned long)fs.f_type == TMPFS_MAGIC_;
	if (*tmpfs)
		fprintf(stderr,
			"%s: warning: %s is tmpfs; fsync costs nothing there, so %s rates are "
			"not those of a disk (use --dir)\n",
			t->prog, work, what);
	return true;
}

// remove_entry removes one file or folder of the temporary folder (nftw,
// children first).
static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

void bench_work_close(const struct bench_target *t, bool keep)
{
	if (!keep) {
		if (nftw(t->work, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
			fprintf(stderr, "%s: could not remove %s\n", t->prog, t->work);
	} else {
		fprintf(stderr, "%s: kept %s\n", t->prog, t->work);
	}
}

void bench_daemon_start(const struct bench_target *t, struct bench_daemon *d, const char *name, int workers)
{
	char env_listen[700], env_events[700], env_store[700], env_workers[64], env_batch[64];
	snprintf(d->url, sizeof(d->url), "ipc://%s/%s.ipc", t->work, name);
	snprintf(d->events_url, sizeof(d->events_url), "ipc://%s/%s-events.ipc", t->work, name);
	snprintf(d->log, sizeof(d->log), "%s/%s.log", t->work, name);
	snprintf(env_listen, sizeof(env_listen), "%s_LISTEN=%s", t->env, d->url);
	snprintf(env_events, sizeof(env_events), "%s_EVENTS_LISTEN=%s", t->env, d->events_url);
	snprintf(env_store, sizeof(env_store), "STORE_URI=%s", d->uri);
	snprintf(env_workers, sizeof(env_workers), "%s_WORKERS=%d", t->env, workers);
	snprintf(env_batch, sizeof(env_batch), "%s_BATCH_MAX", t->env);
	d->pid = fork();
	if (d->pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", t->prog, strerror(errno));
		exit(1);
	}
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(120);
		dup2(fd, 1);
		dup2(fd, 2);
		putenv(env_listen);
		putenv(env_events);
		putenv(env_store);
		putenv(env_workers);
		putenv("LOG_LEVEL=info");
		unsetenv(env_batch);
		execl(t->bin, t->daemon, (char *)NULL);
		_exit(127);
	}
	// Ready when Health answers OK.
	struct hd_rpc_client *c = bench_client_open(t, d->url);
	double until = bench_now_s() + 30;
	bool up = false;
	while (!up && bench_now_s() < until) {
		up = t->healthy(c, 500);
		if (!up) {
			if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
				fprintf(stderr, "%s: %s exited at start; see %s\n", t->prog, t->bin, d->log);
				exit(1);
			}
			usleep(50 * 1000);
		}
	}
	hd_rpc_client_close(c);
	if (!up) {
		fprintf(stderr, "%s: %s did not answer Health within 30 s; see %s\n", t->prog, t->bin, d->log);
		kill(d->pid, SIGKILL);
		exit(1);
	}
}

void bench_daemon_stop(const struct bench_target *t, struct bench_daemon *d)
{
	int status = 0;
	kill(d->pid, SIGTERM);
	double until = bench_now_s() + 30;
	while (waitpid(d->pid, &status, WNOHANG) == 0) {
		if (bench_now_s() > until) {
			fprintf(stderr, "%s: %s did not stop within 30 s; killed\n", t->prog, t->daemon);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		usleep(20 * 1000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "%s: %s exited with status %d; see %s\n", t->prog, t->daemon, status, d->log);
}
