/*
 * The executor never runs as the host file while it is visible inside a container.
 *
 * The init (waiting on the exec fifo) and the process `hako exec` clones are this program until
 * their execve, and they sit in the container's pid namespace: a container process could open
 * their /proc/<pid>/exe, keep the fd, and reopen it for writing once nothing executes the file
 * any more, overwriting the host's hako-executor (CVE-2019-5736). So, first thing, the executor
 * copies itself into a memfd, seals it (no write, grow, shrink or further sealing) and re-executes
 * from that copy: /proc/<pid>/exe then names an anonymous, immutable file. It also makes itself
 * non-dumpable, so a container process can't even open /proc/<pid>/exe, fd/, cwd or root of it
 * (the kernel asks for CAP_SYS_PTRACE in the host user namespace).
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* Is the running image already a sealed memfd? */
int running_sealed(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int seals = fcntl(fd, F_GET_SEALS);
	close(fd);
	return seals >= 0 && (seals & SEALS) == SEALS;
}

/* Returns only on failure (errno set), after which the caller must not go on. */
void exec_sealed_copy(char **argv)
{
	struct stat st;
	if (running_sealed())
		return;
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return;
	int mem = (int)syscall(SYS_memfd_create, "hako-executor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0 || fstat(src, &st) < 0)
		goto fail;
	for (off_t off = 0; off < st.st_size;) {
		ssize_t n = sendfile(mem, src, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
	}
	if (fcntl(mem, F_ADD_SEALS, SEALS) < 0)
		goto fail;
	close(src);
	/* An ELF image runs from a close-on-exec fd (only scripts can't): the memfd closes on exec. */
	syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
	close_keep(mem);
	return;
fail:
	close_keep(mem);
	close_keep(src);
}

int make_undumpable(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
