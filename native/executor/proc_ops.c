/*
 * Process ops: namespaces, names, limits, credentials, capabilities, fds, and the final execve.
 * Credentials use raw system calls: the init was made by a raw clone, so glibc's per-thread
 * bookkeeping is the parent's, and nothing here should depend on it.
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int op_setns(const struct op *op)
{
	int fd = slot_get(f_i64(op, 0));
	return fd < 0 || (CALL("setns"), setns(fd, (int)f_u64(op, 1))) < 0 ? FAIL : OK;
}

int op_unshare(const struct op *op)
{
	TRY("unshare", unshare((int)f_u64(op, 0)));
	return OK;
}

int op_sethostname(const struct op *op)
{
	TRY("sethostname", sethostname(f_str(op, 0), op->len[0]));
	return OK;
}

int op_setdomainname(const struct op *op)
{
	TRY("setdomainname", setdomainname(f_str(op, 0), op->len[0]));
	return OK;
}

int op_setsid(const struct op *op)
{
	(void)op;
	TRY("setsid", setsid());
	return OK;
}

int op_no_new_privs(const struct op *op)
{
	(void)op;
	TRY("prctl", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	return OK;
}

int op_setrlimit(const struct op *op)
{
	struct rlimit rl = { .rlim_cur = f_u64(op, 1), .rlim_max = f_u64(op, 2) };
	TRY("setrlimit", setrlimit((int)f_u64(op, 0), &rl));
	return OK;
}

/* Drops every capability not in `keep` from the bounding set; EINVAL marks the end of the list. */
int op_cap_bounding(const struct op *op)
{
	uint64_t keep = f_u64(op, 0);
	CALL("prctl");
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return FAIL;
		}
	}
	return OK;
}

int op_keepcaps(const struct op *op)
{
	TRY("prctl", prctl(PR_SET_KEEPCAPS, f_u64(op, 0) ? 1 : 0, 0, 0, 0));
	return OK;
}

int op_setgroups(const struct op *op)
{
	uint64_t n = f_u64(op, 0);
	gid_t *gids = calloc(n ? n : 1, sizeof *gids);
	if (!gids)
		return FAIL;
	for (uint64_t i = 0; i < n; i++)
		gids[i] = (gid_t)f_u64(op, 1 + (uint32_t)i);
	CALL("setgroups");
	long r = syscall(SYS_setgroups, (size_t)n, gids);
	int e = errno;
	free(gids);
	errno = e;
	return r < 0 ? FAIL : OK;
}

int op_setid(const struct op *op)
{
	uid_t uid = (uid_t)f_u64(op, 0);
	gid_t gid = (gid_t)f_u64(op, 1);
	TRY("setresgid", syscall(SYS_setresgid, gid, gid, gid));
	TRY("setresuid", syscall(SYS_setresuid, uid, uid, uid));
	return rearm_pdeathsig();
}

/* capset(2) v3 with 64-bit masks. */
static long capset3(uint64_t e, uint64_t p, uint64_t i)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)e, .permitted = (uint32_t)p, .inheritable = (uint32_t)i },
		{ .effective = (uint32_t)(e >> 32), .permitted = (uint32_t)(p >> 32), .inheritable = (uint32_t)(i >> 32) },
	};
	return syscall(SYS_capset, &hdr, data);
}

int op_capset(const struct op *op)
{
	TRY("capset", capset3(f_u64(op, 0), f_u64(op, 1), f_u64(op, 2)));
	return OK;
}

int op_ambient(const struct op *op)
{
	uint64_t mask = f_u64(op, 0);
	TRY("prctl", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	for (int cap = 0; cap < 64; cap++)
		if ((mask & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return FAIL;
	return OK;
}

int op_umask(const struct op *op)
{
	umask((mode_t)f_u64(op, 0));
	return OK;
}

/* Marks every fd from `first` up close-on-exec: nothing we or our caller held reaches the process. */
int op_close_fds(const struct op *op)
{
	unsigned first = (unsigned)f_u64(op, 0);
	CALL("close_range");
	if (close_range(first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return OK;
	if (errno != ENOSYS && errno != EINVAL)
		return FAIL;
	/* Older kernels: the same through /proc/self/fd. */
	for (int fd = (int)first; fd < 65536; fd++) {
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0)
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	return OK;
}

/* Joins a new session keyring named `name` and adds permission bits to it. */
int op_keyring(const struct op *op)
{
	char desc[512];
	CALL("keyctl");
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, f_str(op, 0));
	if (id < 0)
		return errno == ENOSYS ? SKIPPED : FAIL;
	long n;
	TRY("keyctl", n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc - 1));
	desc[n < (long)sizeof desc ? n : (long)sizeof desc - 1] = 0;
	/* "type;uid;gid;perm;description", perm in hex */
	char *p = desc;
	for (int i = 0; i < 3 && p; i++)
		if ((p = strchr(p, ';')))
			p++;
	if (!p) {
		errno = EINVAL;
		return FAIL;
	}
	unsigned long perm = strtoul(p, NULL, 16) | (unsigned long)f_u64(op, 1);
	TRY("keyctl", syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm));
	return OK;
}

/* Picks the first candidate that is an executable regular file; TS computed the list from PATH. */
int op_find_exec(const struct op *op)
{
	uint64_t n = f_u64(op, 0);
	int err = ENOENT;
	CALL("exec");
	for (uint64_t i = 0; i < n; i++) {
		const char *path = f_str(op, 1 + (uint32_t)i);
		struct stat st;
		if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
			err = EACCES;
			continue;
		}
		g_exec_path = op->field[1 + i];
		return OK;
	}
	errno = err;
	return FAIL;
}

/*
 * linux.seccomp: the plan's BPF, armed here and loaded by op_exec right before execve, so the
 * container's profile never sees a call of ours but the execve. Without no_new_privs the kernel
 * wants CAP_SYS_ADMIN for the load: the plan then keeps it until here and `set caps` gives the
 * process its real sets right after the load (that capset is the one call the profile must allow).
 */
static struct {
	struct sock_fprog prog;
	unsigned flags;
	int set_caps;
	uint64_t caps[3];
	/* SCMP_ACT_NOTIFY: the agent's socket (a slot), the message, where our pid goes in it */
	int listener;
	const char *message;
	size_t message_len;
	uint64_t pid_at[4];
	int npid_at;
} g_seccomp = { .listener = -1 };

int op_seccomp(const struct op *op)
{
	size_t len = op->len[0];
	if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		errno = EINVAL;
		return FAIL;
	}
	/* the field's bytes are not aligned for struct sock_filter */
	struct sock_filter *insns = malloc(len);
	if (!insns)
		return FAIL;
	memcpy(insns, op->field[0], len);
	g_seccomp.prog.filter = insns;
	g_seccomp.prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	g_seccomp.flags = (unsigned)f_u64(op, 1);
	g_seccomp.set_caps = f_u64(op, 2) != 0;
	for (int i = 0; i < 3; i++)
		g_seccomp.caps[i] = f_u64(op, 3 + (uint32_t)i);
	g_seccomp.listener = -1;
	if (f_i64(op, 6) >= 0 && (g_seccomp.listener = slot_get(f_i64(op, 6))) < 0)
		return FAIL;
	g_seccomp.message = f_str(op, 7);
	g_seccomp.message_len = op->len[7];
	uint64_t n = f_u64(op, 8);
	for (uint64_t i = 0; i < n && i < 4; i++)
		g_seccomp.pid_at[g_seccomp.npid_at++] = f_u64(op, 9 + (uint32_t)i);
	return OK;
}

/* wait_fifo closes every fd above `at`: the armed agent socket moves to `at` first. Returns the next free fd. */
int seccomp_keep_fd(int at)
{
	if (g_seccomp.listener < 0)
		return at;
	if (g_seccomp.listener != at && dup3(g_seccomp.listener, at, O_CLOEXEC) < 0)
		return -1;
	g_seccomp.listener = at;
	return at + 1;
}

/* Hands the listener fd to the agent: one sendmsg, the state JSON with our pid, SCM_RIGHTS. */
static int send_listener(int listener_fd)
{
	char text[8192], pid[16];
	size_t at = 0, out = 0;
	int pl = snprintf(pid, sizeof pid, "%d", (int)g_host_pid);
	for (int i = 0; i <= g_seccomp.npid_at; i++) {
		size_t upto = i < g_seccomp.npid_at ? g_seccomp.pid_at[i] : g_seccomp.message_len;
		if (upto > g_seccomp.message_len || upto < at || out + (upto - at) + (size_t)pl >= sizeof text) {
			errno = E2BIG;
			return -1;
		}
		memcpy(text + out, g_seccomp.message + at, upto - at);
		out += upto - at;
		at = upto;
		if (i < g_seccomp.npid_at)
			memcpy(text + out, pid, (size_t)pl), out += (size_t)pl;
	}
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { text, out };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener_fd, sizeof(int));
	return NOINTR(sendmsg(g_seccomp.listener, &msg, MSG_NOSIGNAL)) < 0 ? -1 : 0;
}

static int load_seccomp(void)
{
	if (!g_seccomp.prog.filter)
		return OK;
	long fd;
	TRY("seccomp", fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, g_seccomp.flags, &g_seccomp.prog));
	/* With a listener, the only calls between the load and execve are this sendmsg (and capset) */
	if (g_seccomp.listener >= 0)
		TRY("sending the seccomp listener to linux.seccomp.listenerPath", send_listener((int)fd));
	if (g_seccomp.set_caps)
		TRY("capset (after seccomp)", capset3(g_seccomp.caps[0], g_seccomp.caps[1], g_seccomp.caps[2]));
	return OK;
}

/* process.scheduler: sched_setattr(2) with the plan's values (struct sched_attr, version 1). */
int op_sched(const struct op *op)
{
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} attr = {
		.size = sizeof attr,
		.policy = (uint32_t)f_u64(op, 0),
		.flags = f_u64(op, 1),
		.nice = (int32_t)f_i64(op, 2),
		.priority = (uint32_t)f_u64(op, 3),
		.runtime = f_u64(op, 4),
		.deadline = f_u64(op, 5),
		.period = f_u64(op, 6),
	};
	TRY("sched_setattr", syscall(SYS_sched_setattr, 0, &attr, 0));
	return OK;
}

/* process.ioPriority: ioprio_set(IOPRIO_WHO_PROCESS, self, class << 13 | level). */
int op_ioprio(const struct op *op)
{
	TRY("ioprio_set", syscall(SYS_ioprio_set, 1, 0, (int)f_u64(op, 0)));
	return OK;
}

/* process.execCPUAffinity.final: sched_setaffinity with the plan's mask. */
int op_affinity(const struct op *op)
{
	TRY("sched_setaffinity", syscall(SYS_sched_setaffinity, 0, (size_t)op->len[0], op->field[0]));
	return OK;
}

int op_personality(const struct op *op)
{
	CALL("personality");
	return syscall(SYS_personality, (unsigned long)f_u64(op, 0)) < 0 ? FAIL : OK;
}

/*
 * HOME when process.env has none (the plan asks only then): the home of `uid` in the container's
 * /etc/passwd, "/" when the uid has no entry (or there is no passwd), as runc. Added at exec.
 */
static char *g_home;

int op_default_home(const struct op *op)
{
	uint64_t uid = f_u64(op, 0);
	char line[1024], *home = NULL;
	FILE *f = fopen("/etc/passwd", "re");
	while (f && !home && fgets(line, sizeof line, f)) {
		/* name:password:uid:gid:gecos:home:shell */
		char *field[7] = { line };
		int n = 1;
		for (char *p = line; *p && n < 7; p++)
			if (*p == ':')
				*p = 0, field[n++] = p + 1;
		if (n < 7 || !*field[2])
			continue;
		char *end;
		unsigned long long u = strtoull(field[2], &end, 10);
		if (*end == 0 && u == uid && *field[5])
			home = field[5];
	}
	if (f)
		fclose(f);
	size_t len = strlen(home ? home : "/");
	g_home = malloc(len + 6);
	if (!g_home)
		return FAIL;
	memcpy(g_home, "HOME=", 5);
	memcpy(g_home + 5, home ? home : "/", len + 1);
	return OK;
}

int op_exec(const struct op *op)
{
	uint32_t argc = (uint32_t)f_u64(op, 0);
	uint32_t envc = (uint32_t)f_u64(op, 1 + argc);
	char **argv = calloc(argc + 1, sizeof *argv);
	char **envp = calloc(envc + 2, sizeof *envp);
	if (!argv || !envp)
		return FAIL;
	for (uint32_t i = 0; i < argc; i++)
		argv[i] = op->field[1 + i];
	for (uint32_t i = 0; i < envc; i++)
		envp[i] = op->field[2 + argc + i];
	if (g_home)
		envp[envc] = g_home;
	CALL("execve");
	if (!g_exec_path) {
		errno = ENOENT;
		return FAIL;
	}
	if (load_seccomp() == FAIL) {
		int e = errno;
		dprintf(2, "hako: %s: %s\n", g_call, strerror(e));
		errno = e;
		return FAIL;
	}
	execve(g_exec_path, argv, envp);
	/* Past the fifo nobody may be listening on the channel: say it on stderr too. */
	int e = errno;
	dprintf(2, "hako: exec %s: %s\n", g_exec_path, strerror(e));
	report(op->step, e, "execve");
	_exit(e == ENOENT ? 127 : 126);
}

/* Brings a network interface up (the loopback of a new network namespace). */
int op_link_up(const struct op *op)
{
	struct ifreq ifr = { 0 };
	if (op->len[0] >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return FAIL;
	}
	memcpy(ifr.ifr_name, f_str(op, 0), op->len[0]);
	int fd, r = FAIL;
	TRY("socket", fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	CALL("ioctl(SIOCGIFFLAGS)");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		CALL("ioctl(SIOCSIFFLAGS)");
		r = ioctl(fd, SIOCSIFFLAGS, &ifr) == 0 ? OK : FAIL;
	}
	close_keep(fd);
	return r;
}
