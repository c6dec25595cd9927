// daemon.c: run a daemon executable under test (see daemon.h).
#include "daemon.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t hd_test_daemon_start(const struct hd_test_daemon *d, const char *const *env, const char *arg)
{
	unlink(d->log_path); // output never shows an earlier run's lines
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(120);
		dup2(fd, 1);
		dup2(fd, 2);
		for (size_t i = 0; i < d->n_settings; i++)
			unsetenv(d->settings[i]);
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)*env);
		execl(d->bin, d->bin, arg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

int hd_test_daemon_finish(pid_t pid, int wait_ms)
{
	int status;
	for (int waited = 0; waited < wait_ms; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

const char *hd_test_daemon_output(const struct hd_test_daemon *d)
{
	static char buf[65536];
	FILE *f = fopen(d->log_path, "r");
	size_t n = 0;
	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}
