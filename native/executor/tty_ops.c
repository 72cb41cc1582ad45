/*
 * Terminal ops: the console socket, the pty made inside the container, the init's stdio.
 * The master travels to the console socket as runc sends it: one sendmsg whose payload is the
 * master's path ("/dev/ptmx" as the plan names it) and whose one SCM_RIGHTS fd is the master.
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int op_connect(const struct op *op)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = f_str(op, 0);
	if (op->len[0] >= sizeof addr.sun_path) {
		CALL("connect");
		errno = ENAMETOOLONG;
		return FAIL;
	}
	memcpy(addr.sun_path, path, op->len[0]);
	int fd;
	TRY("socket", fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	CALL("connect");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		close_keep(fd);
		return FAIL;
	}
	return slot_set(f_i64(op, 1), fd) < 0 ? FAIL : OK;
}

static int send_master(int sock, int master, const char *name, size_t len)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)name, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	memset(control, 0, sizeof control);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	return NOINTR(sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 ? -1 : 0;
}

/* Opens a pty in the container's devpts, sizes it, sends the master, keeps the slave in a slot. */
int op_terminal(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0));
	int sock = slot_get(f_i64(op, 2));
	struct winsize ws = { .ws_row = (unsigned short)f_u64(op, 3), .ws_col = (unsigned short)f_u64(op, 4) };
	int slave = -1, r = FAIL, unlock = 0;
	if (rootfd == -1 || sock < 0)
		return FAIL;
	int master = open_in_root(rootfd, f_str(op, 1), O_RDWR | O_NOCTTY, 0);
	if (master < 0)
		return FAIL;
	CALL("ioctl(TIOCSPTLCK)");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		goto out;
	CALL("ioctl(TIOCGPTPEER)");
	if ((slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		goto out;
	if (ws.ws_row && ws.ws_col) {
		CALL("ioctl(TIOCSWINSZ)");
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			goto out;
	}
	CALL("sendmsg");
	if (send_master(sock, master, f_str(op, 1), op->len[1]) < 0)
		goto out;
	if (slot_set(f_i64(op, 5), slave) < 0) {
		slave = -1;
		goto out;
	}
	slave = -1;
	slot_set(f_i64(op, 2), -1); /* the console socket has done its job */
	r = OK;
out:
	close_keep(master);
	close_keep(slave);
	return r;
}

/* The slave becomes fds 0-2 and the controlling terminal of our (new) session. */
int op_dup_stdio(const struct op *op)
{
	int fd = slot_get(f_i64(op, 0));
	if (fd < 0)
		return FAIL;
	for (int i = 0; i < 3; i++)
		TRY("dup3", dup3(fd, i, 0));
	slot_set(f_i64(op, 0), -1);
	TRY("ioctl(TIOCSCTTY)", ioctl(0, TIOCSCTTY, 0));
	return OK;
}

/*
 * The process's stdio belongs to its user, as runc makes it (fixStdioPermissions), but only what
 * is the container's own: the pty made for it (`pty` set: a UNIX98 pty slave) and pipes or
 * sockets. /dev/null, a host file or a host terminal handed over as stdio is never chowned.
 * EINVAL, EPERM, EROFS (an owner not mapped in a user namespace, a read-only /dev) are skipped.
 */
int op_chown_stdio(const struct op *op)
{
	uid_t uid = (uid_t)f_u64(op, 0);
	int pty = f_u64(op, 1) != 0;
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_uid == uid)
			continue;
		int ours = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || (pty && S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143);
		if (!ours)
			continue;
		CALL("fchown");
		if (fchown(fd, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
			return FAIL;
	}
	return OK;
}
