// bench.h: what chat-bench and notes-bench share: option parsing, timing
// and percentiles, the temporary folder, and starting and stopping the
// daemon under test (fork + exec with its env, ready when Health answers).
// Single-threaded callers except bench_now_s and bench_client_open.
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/rpc.h"

// bench_target names the daemon a benchmark runs.
struct bench_target {
	const char *prog;   // the benchmark's name, prefixing its messages ("chat-bench")
	const char *daemon; // the daemon's name, argv[0] and the file beside the bench ("huddle-chat")
	const char *env;    // its settings' prefix: <env>_LISTEN, _EVENTS_LISTEN, _WORKERS, _BATCH_MAX
	const char *bin;    // the daemon to run (--bin, else bench_default_bin)
	const char *work;   // the temporary folder (bench_work_open)
	// healthy makes one Health call of at most timeout_ms; true when it answered OK.
	bool (*healthy)(struct hd_rpc_client *c, int timeout_ms);
};

// bench_daemon is one run of the daemon: its addresses, store file and log.
struct bench_daemon {
	pid_t pid;
	char url[600], events_url[600], uri[600], log[600];
};

// bench_number parses a decimal option value into *out; false if it is not one.
bool bench_number(const char *s, double *out);
// bench_integer parses a whole option value in 0..100000000 into *out.
bool bench_integer(const char *s, int *out);
// bench_now_s is the monotonic clock in seconds.
double bench_now_s(void);
// bench_sort sorts v ascending; bench_pct is the q-quantile (nearest rank)
// of sorted v (0 when n is 0).
void bench_sort(double *v, size_t n);
double bench_pct(const double *v, size_t n, double q);

// bench_client_open opens a REQ client for url; exits on failure.
struct hd_rpc_client *bench_client_open(const struct bench_target *t, const char *url);

// bench_default_bin is $env_var when set, else t->daemon beside this
// program when it is there, else fallback. The result is static storage.
const char *bench_default_bin(const struct bench_target *t, const char *env_var, const char *fallback);

// bench_work_open creates <dir>/<prog>-XXXXXX into work (size n) and says
// so when it is on tmpfs (what: "post", "append": whose rates mean nothing
// there). Returns false (said) when it cannot; *tmpfs tells whether it is.
bool bench_work_open(const struct bench_target *t, const char *dir, char *work, size_t n, const char *what,
		     bool *tmpfs);
// bench_work_close removes the temporary folder, or says it is kept.
void bench_work_close(const struct bench_target *t, bool keep);

// bench_daemon_start runs t's daemon as name (the ipc addresses and log in
// t->work) on d->uri with workers workers, and waits (30 s at most) for its
// Health to answer; exits when it does not.
void bench_daemon_start(const struct bench_target *t, struct bench_daemon *d, const char *name, int workers);
// bench_daemon_stop sends SIGTERM and waits (30 s, then SIGKILL); a non-zero
// exit is said. The daemon's log stays at d->log.
void bench_daemon_stop(const struct bench_target *t, struct bench_daemon *d);

#endif
