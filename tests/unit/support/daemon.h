// daemon.h: runs a Huddle daemon executable for the main_test.c files, with
// a clean environment and its output in a log file.
#ifndef HD_TEST_DAEMON_H
#define HD_TEST_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

// hd_test_daemon names the executable, the settings it reads (unset before
// each start so the caller's environment never leaks in) and the log file.
struct hd_test_daemon {
	const char *bin;             // path of the executable
	const char *const *settings; // its environment variables' names
	size_t n_settings;
	const char *log_path; // stdout and stderr of each run
};

// hd_test_daemon_start runs d->bin with one optional argument (NULL: none)
// and env ("NAME=value" strings, NULL-terminated, may be NULL) on top of the
// cleaned environment. The log file is emptied first. Returns the child's
// pid (the test fails when fork fails).
pid_t hd_test_daemon_start(const struct hd_test_daemon *d, const char *const *env, const char *arg);

// hd_test_daemon_finish waits at most wait_ms for pid and returns its exit
// status, or -1 when it died by a signal or had to be killed (SIGKILL).
int hd_test_daemon_finish(pid_t pid, int wait_ms);

// hd_test_daemon_output returns what the last run printed (a static buffer,
// at most 64 KiB).
const char *hd_test_daemon_output(const struct hd_test_daemon *d);

#endif
