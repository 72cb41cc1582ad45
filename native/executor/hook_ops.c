/*
 * Hooks that run inside the container (createContainer, startContainer): the init runs them
 * itself, so they are in the container's namespaces. The plan gives the path (resolved in the
 * init's mount namespace: the host's files before pivot_root, the container's after), argv, env,
 * the state JSON for stdin (with the place where the init's host pid goes) and the timeout.
 * A failure is reported as "exit status N" / "killed by signal N" / "timed out", with the start of
 * what the hook printed; after the exec fifo was opened it also goes to `hako start` (main.c).
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t g_host_pid; /* the init's pid on the host (from the executor), for the hooks' state */

static char g_hook_error[512];

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = NOINTR(write(fd, p, n));
		if (w <= 0)
			return; /* the hook doesn't read its stdin: fine */
		p += w, n -= (size_t)w;
	}
}

/* fields: name (for messages), path, stdin, pid at, timeout, args[], env[] */
int op_run_hook(const struct op *op)
{
	const char *path = f_str(op, 1), *input = op->field[2];
	size_t inlen = op->len[2], pid_at = (size_t)f_u64(op, 3);
	unsigned timeout = (unsigned)f_u64(op, 4);
	uint32_t argc = (uint32_t)f_u64(op, 5), envc = (uint32_t)f_u64(op, 6 + argc);
	char **argv = calloc(argc + 2, sizeof *argv), **envp = calloc(envc + 1, sizeof *envp);
	int in[2], out[2];
	if (!argv || !envp)
		return FAIL;
	for (uint32_t i = 0; i < argc; i++)
		argv[i] = op->field[6 + i];
	if (argc == 0)
		argv[0] = (char *)path;
	for (uint32_t i = 0; i < envc; i++)
		envp[i] = op->field[7 + argc + i];
	if (pid_at > inlen)
		pid_at = inlen;

	TRY("pipe", pipe2(in, O_CLOEXEC));
	TRY("pipe", pipe2(out, O_CLOEXEC));
	CALL("clone");
	pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		return FAIL;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		close_range(3, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		if (timeout)
			alarm(timeout); /* kept across execve: the hook gets SIGALRM when its time is up */
		execve(path, argv, envp);
		dprintf(2, "%s: %s", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* stdin: the state JSON with our host pid spliced in; SIGPIPE ignored while we write */
	char pidtext[16];
	int pl = snprintf(pidtext, sizeof pidtext, "%d", (int)g_host_pid);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	write_all(in[1], input, pid_at);
	write_all(in[1], pidtext, (size_t)pl);
	write_all(in[1], input + pid_at, inlen - pid_at);
	signal(SIGPIPE, old);
	close(in[1]);
	/* what it printed: the start of it, for the error */
	char output[256];
	size_t got = 0;
	for (;;) {
		char buf[512];
		ssize_t n = NOINTR(read(out[0], buf, sizeof buf));
		if (n <= 0)
			break;
		size_t take = (size_t)n < sizeof output - 1 - got ? (size_t)n : sizeof output - 1 - got;
		memcpy(output + got, buf, take);
		got += take;
	}
	close(out[0]);
	while (got > 0 && (output[got - 1] == '\n' || output[got - 1] == ' '))
		got--;
	output[got] = 0;
	int status;
	CALL("waitpid");
	if (NOINTR(waitpid(pid, &status, 0)) < 0)
		return FAIL;
	free(argv);
	free(envp);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return OK;
	const char *name = f_str(op, 0);
	size_t n = (size_t)snprintf(g_hook_error, sizeof g_hook_error, "%s: ", name);
	if (n >= sizeof g_hook_error)
		n = sizeof g_hook_error - 1;
	if (WIFEXITED(status))
		n += (size_t)snprintf(g_hook_error + n, sizeof g_hook_error - n, "exit status %d", WEXITSTATUS(status));
	else if (WTERMSIG(status) == SIGALRM && timeout)
		n += (size_t)snprintf(g_hook_error + n, sizeof g_hook_error - n, "timed out after %us", timeout);
	else
		n += (size_t)snprintf(g_hook_error + n, sizeof g_hook_error - n, "killed by signal %d", WTERMSIG(status));
	if (got && n < sizeof g_hook_error)
		snprintf(g_hook_error + n, sizeof g_hook_error - n, ": %s", output);
	CALL(g_hook_error);
	errno = ECANCELED;
	return FAIL;
}
