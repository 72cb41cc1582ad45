/*
 * hako-executor: performs a plan compiled by hako (src/plan/) and reports each step.
 *
 *   hako-executor <channel fd>
 *
 * fds 0-2 are the container's stdio, 3..channel-1 the preserved fds, <channel fd> is a
 * SOCK_SEQPACKET socket to node. The executor reads the whole plan (three stages of ops, then
 * END), runs the executor stage (setns, unshare, mkfifo, ...), clones the init with the plan's
 * namespace flags, runs the parent stage on the init's behalf (id maps), releases the init, and
 * reports READY with the init's host pid once the init is about to wait on the exec fifo. Then it
 * exits (detached) or waits for the init and exits with its status (foreground).
 *
 * It decides nothing: every path, flag, mode and id comes from the plan. The first failing step
 * is reported with its errno; the init is killed and reaped and the executor exits 1.
 * This file: the channel, plan decoding, the stages and the clone. See native/README.md.
 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int g_chan = -1;
int g_internal = -1;
int g_slots[NSLOTS];
const char *g_call = "";
char *g_exec_path;
static pid_t g_child;

/* ---- helpers ---- */

void close_keep(int fd)
{
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
}

int write_once(int fd, const void *buf, size_t len)
{
	CALL("write");
	ssize_t n = write(fd, buf, len);
	if (n == (ssize_t)len)
		return OK;
	if (n >= 0)
		errno = EIO;
	return FAIL;
}

/* ---- channel ---- */

int send_msg(uint32_t type, const void *payload, size_t len)
{
	uint32_t hdr[2] = { type, (uint32_t)len };
	struct iovec iov[2] = { { hdr, sizeof hdr }, { (void *)payload, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	return NOINTR(sendmsg(g_chan, &msg, MSG_NOSIGNAL)) < 0 ? -1 : 0;
}

/* CLOCK_MONOTONIC in ns: node's process.hrtime() reads the same clock, so it can place our steps on its timeline. */
uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A buffer of fixed fields then text (cut to fit), sent as one packet. */
static void send_fixed_text(uint32_t type, const void *fixed, size_t flen, const char *text)
{
	char buf[512];
	size_t tl = strlen(text);
	memcpy(buf, fixed, flen);
	if (tl > sizeof buf - flen)
		tl = sizeof buf - flen;
	memcpy(buf + flen, text, tl);
	send_msg(type, buf, flen + tl);
}

static void send_u32_text(uint32_t type, uint32_t a, const char *text)
{
	send_fixed_text(type, &a, 4, text);
}

/* A step's outcome and when it ran: u32 step, u32 errno, u64 start, u64 end, text. */
void report_timed(uint32_t step, int err, uint64_t start, uint64_t end, const char *text)
{
	char fixed[24];
	uint32_t e = (uint32_t)err;
	memcpy(fixed, &step, 4);
	memcpy(fixed + 4, &e, 4);
	memcpy(fixed + 8, &start, 8);
	memcpy(fixed + 16, &end, 8);
	send_fixed_text(MSG_REPORT, fixed, sizeof fixed, text);
}

void report(uint32_t step, int err, const char *text)
{
	uint64_t t = now_ns();
	report_timed(step, err, t, t, text);
}

/* A phase outside the steps (start-up, waiting for the plan): u64 start, u64 end, name. */
void send_timing(const char *name, uint64_t start, uint64_t end)
{
	char fixed[16];
	memcpy(fixed, &start, 8);
	memcpy(fixed + 8, &end, 8);
	send_fixed_text(MSG_TIMING, fixed, sizeof fixed, name);
}

static void kill_child(void)
{
	if (g_child > 0) {
		kill(g_child, SIGKILL);
		NOINTR(waitpid(g_child, NULL, 0));
		g_child = 0;
	}
}

/* A failure outside any step: tell node, kill the init, exit. */
static void __attribute__((noreturn)) fatal(int err, const char *text)
{
	send_u32_text(MSG_ERROR, (uint32_t)err, text);
	kill_child();
	_exit(2);
}

/* Reads one packet into a fresh buffer; returns its type, or 0 at EOF. */
static uint32_t recv_packet(char **payload, uint32_t *plen)
{
	ssize_t n = NOINTR(recv(g_chan, NULL, 0, MSG_PEEK | MSG_TRUNC));
	if (n == 0)
		return 0;
	if (n < 0)
		fatal(errno, "recv");
	if (n < 8)
		fatal(EPROTO, "short packet");
	char *buf = malloc((size_t)n);
	if (!buf)
		fatal(ENOMEM, "malloc");
	ssize_t m = NOINTR(recv(g_chan, buf, (size_t)n, 0));
	if (m != n)
		fatal(m < 0 ? errno : EPROTO, "recv");
	uint32_t hdr[2];
	memcpy(hdr, buf, 8);
	if (hdr[1] != (uint32_t)(n - 8))
		fatal(EPROTO, "packet length does not match its header");
	*payload = buf + 8;
	*plen = hdr[1];
	return hdr[0];
}

int wait_sync_reply(void)
{
	for (;;) {
		char *p;
		uint32_t len;
		uint32_t type = recv_packet(&p, &len);
		if (type == 0) {
			errno = EPIPE;
			return -1;
		}
		if (type == MSG_SYNC_REPLY && len >= 4) {
			uint32_t err;
			memcpy(&err, p, 4);
			free(p - 8);
			errno = (int)err;
			return err ? -1 : 0;
		}
		free(p - 8);
	}
}

/* ---- fields ---- */

static void __attribute__((noreturn)) bad_field(const struct op *op, uint32_t i, const char *want)
{
	char text[128];
	snprintf(text, sizeof text, "step %u: field %u is not %s", op->step, i, want);
	fatal(EPROTO, text);
}

const char *f_str(const struct op *op, uint32_t i)
{
	if (i >= op->nfields)
		bad_field(op, i, "present");
	if (memchr(op->field[i], 0, op->len[i]))
		bad_field(op, i, "a string");
	return op->field[i];
}

uint64_t f_u64(const struct op *op, uint32_t i)
{
	uint64_t v;
	if (i >= op->nfields || op->len[i] != 8)
		bad_field(op, i, "an integer");
	memcpy(&v, op->field[i], 8);
	return v;
}

int64_t f_i64(const struct op *op, uint32_t i)
{
	return (int64_t)f_u64(op, i);
}

/* ---- slots ---- */

int slot_get(int64_t slot)
{
	if (slot < 0 || slot >= NSLOTS || g_slots[slot] < 0) {
		errno = EBADF;
		return -1;
	}
	return g_slots[slot];
}

int slot_set(int64_t slot, int fd)
{
	if (slot < 0 || slot >= NSLOTS) {
		close(fd);
		errno = EBADF;
		return -1;
	}
	if (g_slots[slot] >= 0)
		close(g_slots[slot]);
	g_slots[slot] = fd;
	return 0;
}

int root_fd(int64_t slot)
{
	return slot < 0 ? AT_FDCWD : slot_get(slot);
}

/* ---- ops ---- */

static int op_clone_placeholder(const struct op *op);
static int op_write_child(const struct op *op);
static int op_sync(const struct op *op);
static int op_ready(const struct op *op);
static int op_wait_fifo(const struct op *op);
static int op_started(const struct op *op);
static int g_fifo = -1; /* the exec fifo's write side, between wait_fifo and started */

static const struct {
	const char *name;
	op_fn fn;
	uint32_t nfields; /* exact count, or the minimum for ops ending in lists */
	int lists;        /* number of trailing list fields */
} OPS[OP_MAX] = {
	[OP_OPEN] = { "open", op_open, 4, 0 },
	[OP_CLOSE] = { "close", op_close, 1, 0 },
	[OP_SETNS] = { "setns", op_setns, 2, 0 },
	[OP_UNSHARE] = { "unshare", op_unshare, 1, 0 },
	[OP_WRITE_FILE] = { "write", op_write_file, 4, 0 },
	[OP_MKFIFO] = { "mkfifo", op_mkfifo, 4, 0 },
	[OP_CONNECT] = { "connect", op_connect, 2, 0 },
	[OP_CLONE] = { "clone", op_clone_placeholder, 2, 0 },
	[OP_WRITE_CHILD] = { "write", op_write_child, 2, 0 },
	[OP_SYNC] = { "sync", op_sync, 1, 0 },
	[OP_SETHOSTNAME] = { "sethostname", op_sethostname, 1, 0 },
	[OP_SETDOMAINNAME] = { "setdomainname", op_setdomainname, 1, 0 },
	[OP_MOUNT] = { "mount", op_mount, 7, 0 },
	[OP_BIND] = { "bind", op_bind, 9, 0 },
	[OP_SETATTR] = { "mount_setattr", op_setattr, 7, 0 },
	[OP_MKNOD] = { "mknod", op_mknod, 8, 0 },
	[OP_SYMLINK] = { "symlink", op_symlink, 4, 0 },
	[OP_MASK] = { "mask", op_mask, 3, 0 },
	[OP_PIVOT_ROOT] = { "pivot_root", op_pivot_root, 1, 0 },
	[OP_MOVE_ROOT] = { "move_root", op_move_root, 1, 0 },
	[OP_CHROOT] = { "chroot", op_chroot, 1, 0 },
	[OP_MKPATH] = { "mkpath", op_mkpath, 3, 0 },
	[OP_CHDIR] = { "chdir", op_chdir, 2, 0 },
	[OP_SETSID] = { "setsid", op_setsid, 0, 0 },
	[OP_TERMINAL] = { "terminal", op_terminal, 6, 0 },
	[OP_DUP_STDIO] = { "dup_stdio", op_dup_stdio, 1, 0 },
	[OP_NO_NEW_PRIVS] = { "no_new_privs", op_no_new_privs, 0, 0 },
	[OP_SETRLIMIT] = { "setrlimit", op_setrlimit, 3, 0 },
	[OP_CAP_BOUNDING] = { "cap_bounding", op_cap_bounding, 1, 0 },
	[OP_KEEPCAPS] = { "keepcaps", op_keepcaps, 1, 0 },
	[OP_SETGROUPS] = { "setgroups", op_setgroups, 1, 1 },
	[OP_SETID] = { "setid", op_setid, 2, 0 },
	[OP_CAPSET] = { "capset", op_capset, 3, 0 },
	[OP_AMBIENT] = { "ambient", op_ambient, 1, 0 },
	[OP_UMASK] = { "umask", op_umask, 1, 0 },
	[OP_CLOSE_FDS] = { "close_fds", op_close_fds, 1, 0 },
	[OP_KEYRING] = { "keyring", op_keyring, 2, 0 },
	[OP_FIND_EXEC] = { "find_exec", op_find_exec, 1, 1 },
	[OP_READY] = { "ready", op_ready, 0, 0 },
	[OP_WAIT_FIFO] = { "wait_fifo", op_wait_fifo, 1, 0 },
	[OP_EXEC] = { "exec", op_exec, 2, 2 },
	[OP_LINK_UP] = { "link_up", op_link_up, 1, 0 },
	[OP_CREATE_MODES] = { "create_modes", op_create_modes, 2, 0 },
	[OP_UMOUNT] = { "umount", op_umount, 3, 0 },
	[OP_SECCOMP] = { "seccomp", op_seccomp, 9, 1 },
	[OP_RUN_HOOK] = { "run_hook", op_run_hook, 7, 2 },
	[OP_STARTED] = { "started", op_started, 0, 0 },
	[OP_SCHED] = { "sched", op_sched, 7, 0 },
	[OP_IOPRIO] = { "ioprio", op_ioprio, 1, 0 },
	[OP_PERSONALITY] = { "personality", op_personality, 1, 0 },
	[OP_DEFAULT_HOME] = { "default_home", op_default_home, 1, 0 },
	[OP_CHOWN_STDIO] = { "chown_stdio", op_chown_stdio, 2, 0 },
	[OP_TMPFS_COPYUP] = { "tmpfs_copyup", op_tmpfs_copyup, 5, 1 },
	[OP_OPEN_TREE] = { "open_tree", op_open_tree, 5, 0 },
	[OP_AFFINITY] = { "affinity", op_affinity, 1, 0 },
};

/* Checks the field count; lists are a count field followed by that many fields. */
static void check_fields(const struct op *op)
{
	uint32_t want = OPS[op->code].nfields;
	if (OPS[op->code].lists == 0) {
		if (op->nfields != want)
			bad_field(op, op->nfields, "expected (wrong field count)");
		return;
	}
	/* fixed fields first, then `lists` lists, each count + elements */
	uint32_t i = want - (uint32_t)OPS[op->code].lists;
	for (int l = 0; l < OPS[op->code].lists; l++) {
		uint64_t count = f_u64(op, i);
		if (count > op->nfields - i - 1)
			bad_field(op, i, "a valid list count");
		i += 1 + (uint32_t)count;
	}
	if (i != op->nfields)
		bad_field(op, i, "expected (wrong field count)");
}

static int run_op(const struct op *op)
{
	errno = 0;
	CALL(OPS[op->code].name);
	uint64_t start = now_ns();
	int r = OPS[op->code].fn(op);
	uint64_t end = now_ns();
	if (r == FAIL) {
		int e = errno ? errno : EIO;
		report_timed(op->step, e, start, end, g_call);
		if (g_fifo >= 0) {
			/* past the fifo only `hako start` listens: "E" and what failed, instead of the byte */
			char text[600];
			int n = snprintf(text, sizeof text, "E%s: %s", g_call, e == ECANCELED ? "" : strerror(e));
			if (e == ECANCELED && n > 2)
				n -= 2; /* a hook's text says it all */
			write_once(g_fifo, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
		}
		return -1;
	}
	report_timed(op->step, 0, start, end, r == SKIPPED ? "skipped" : OPS[op->code].name);
	return 0;
}

/* ---- the plan ---- */

struct stage {
	struct op *ops;
	size_t n, cap;
};
static struct stage g_stage[3]; /* executor, parent, init */

static void decode_op(uint32_t type, char *p, uint32_t len)
{
	struct stage *s = &g_stage[type - MSG_OP_EXECUTOR];
	struct op op = { 0 };
	if (len < 12)
		fatal(EPROTO, "short op");
	memcpy(&op.code, p, 4);
	memcpy(&op.step, p + 4, 4);
	memcpy(&op.nfields, p + 8, 4);
	if (op.code == 0 || op.code >= OP_MAX || !OPS[op.code].fn)
		fatal(EPROTO, "unknown opcode");
	if (op.nfields > len / 4)
		fatal(EPROTO, "bad field count");
	op.field = calloc(op.nfields + 1, sizeof *op.field);
	op.len = calloc(op.nfields + 1, sizeof *op.len);
	char *data = malloc(len + op.nfields + 1);
	if (!op.field || !op.len || !data)
		fatal(ENOMEM, "malloc");
	uint32_t off = 12;
	for (uint32_t i = 0; i < op.nfields; i++) {
		uint32_t fl;
		if (len - off < 4)
			fatal(EPROTO, "truncated field");
		memcpy(&fl, p + off, 4);
		off += 4;
		if (fl > len - off)
			fatal(EPROTO, "truncated field");
		memcpy(data, p + off, fl);
		data[fl] = 0;
		op.field[i] = data;
		op.len[i] = fl;
		data += fl + 1;
		off += fl;
	}
	if (off != len)
		fatal(EPROTO, "trailing bytes in op");
	check_fields(&op);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ops = realloc(s->ops, s->cap * sizeof *s->ops);
		if (!s->ops)
			fatal(ENOMEM, "malloc");
	}
	s->ops[s->n++] = op;
}

static void read_plan(void)
{
	for (;;) {
		char *p;
		uint32_t len;
		uint32_t type = recv_packet(&p, &len);
		if (type == 0)
			_exit(1); /* node went away before sending the whole plan */
		if (type == MSG_END) {
			free(p - 8);
			return;
		}
		if (type < MSG_OP_EXECUTOR || type > MSG_OP_INIT)
			fatal(EPROTO, "unexpected packet type");
		decode_op(type, p, len);
		free(p - 8);
	}
}

/* ---- ops tied to the clone ---- */

static int op_clone_placeholder(const struct op *op)
{
	(void)op;
	errno = EPROTO;
	return FAIL; /* only valid as the last executor op, handled by run_clone */
}

static int op_write_child(const struct op *op)
{
	char path[64];
	const char *content = f_str(op, 1);
	int fd;
	snprintf(path, sizeof path, "/proc/%d/%s", (int)g_child, f_str(op, 0));
	TRY("open", fd = open(path, O_WRONLY | O_CLOEXEC));
	int r = write_once(fd, content, op->len[1]);
	close_keep(fd);
	return r;
}

static int op_sync(const struct op *op)
{
	send_u32_text(MSG_SYNC, op->step, f_str(op, 0));
	CALL("sync");
	return wait_sync_reply() < 0 ? FAIL : OK;
}

/*
 * Until `ready` the init dies with the executor (so node never waits on a half-made container).
 * The kernel clears the parent-death signal when the effective ids change: setid re-arms it, and
 * checks the executor didn't go in between (its end of the internal socket would have hung up).
 */
static int g_pdeathsig;

int rearm_pdeathsig(void)
{
	struct pollfd p = { .fd = g_internal, .events = POLLRDHUP };
	if (!g_pdeathsig)
		return OK;
	TRY("prctl", prctl(PR_SET_PDEATHSIG, g_pdeathsig));
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP)))
		_exit(1);
	return OK;
}

static int op_ready(const struct op *op)
{
	(void)op;
	g_pdeathsig = 0;
	TRY("prctl", prctl(PR_SET_PDEATHSIG, 0));
	if (write_once(g_internal, "R", 1) < 0)
		return FAIL;
	close(g_internal);
	g_internal = -1;
	return OK;
}

/*
 * The init will block on the fifo for as long as the container stays created: give back the
 * pages it touched while setting up. Only the segments of loaded objects that are never written
 * (PT_LOAD without PF_W: code and read-only data; RELRO lives in the writable segment), rounded
 * inwards to whole pages: they stay in the page cache and fault back in when used again.
 * From the drop to the blocking open only this program's code runs (raw system calls), so libc's
 * pages aren't faulted straight back in.
 */
static struct { uintptr_t start, len; } g_drop[32];
static int g_ndrop;

static int collect_segment(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	if (strstr(info->dlpi_name, "vdso"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum && g_ndrop < 32; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr + page - 1) & ~(page - 1);
		uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(page - 1);
		if (end > start)
			g_drop[g_ndrop].start = start, g_drop[g_ndrop++].len = end - start;
	}
	return 0;
}

static long raw3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
#else
	long r = syscall(nr, a, b, c);
	return r < 0 ? -errno : r;
#endif
}

/* Writes "/proc/self/fd/<fd>" without stdio. */
static void fd_path(char *out, int fd)
{
	char digits[16];
	int n = 0;
	memcpy(out, "/proc/self/fd/", 14);
	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) > 0);
	for (int i = 0; i < n; i++)
		out[14 + i] = digits[n - 1 - i];
	out[14 + n] = 0;
}

static int op_wait_fifo(const struct op *op)
{
	char path[32];
	long w;
	int fd = slot_get(f_i64(op, 0));
	if (fd < 0)
		return FAIL;
	/*
	 * From here the init may wait for a long time, visible in the container's pid namespace: it
	 * keeps stdio, the preserved fds (below the channel's number) and the fifo, and closes the rest
	 * for real: the channel to node (so node sees EOF if the executor dies now), the rootfs, the
	 * console socket, anything left. The fifo moves to the channel's number.
	 */
	CALL("dup3");
	if (fd != g_chan && dup3(fd, g_chan, O_CLOEXEC) < 0)
		return FAIL;
	fd = g_chan;
	g_chan = -1; /* no more reports: nobody reads them once READY was sent */
	int keep = seccomp_keep_fd(fd + 1); /* and the seccomp agent's socket, if armed */
	if (keep < 0)
		return FAIL;
	close_range((unsigned)keep, ~0U, 0);
	for (int i = 0; i < NSLOTS; i++)
		g_slots[i] = -1;
	fd_path(path, fd);
	dl_iterate_phdr(collect_segment, NULL);
	for (int i = 0; i < g_ndrop; i++)
		raw3(SYS_madvise, (long)g_drop[i].start, (long)g_drop[i].len, MADV_DONTNEED);
	do
		w = raw3(SYS_openat, AT_FDCWD, (long)path, O_WRONLY | O_CLOEXEC);
	while (w == -EINTR);
	CALL("open");
	if (w < 0) {
		errno = (int)-w;
		return FAIL;
	}
	close_keep(fd);
	g_fifo = (int)w; /* `started` writes the byte; a failure before it goes to `hako start` */
	return OK;
}

/* The go-ahead came and the startContainer hooks ran: `hako start` may return. */
static int op_started(const struct op *op)
{
	(void)op;
	int r = write_once(g_fifo, "0", 1);
	close_keep(g_fifo);
	g_fifo = -1;
	return r;
}

/* ---- stages ---- */

static void __attribute__((noreturn)) run_init(void)
{
	g_pdeathsig = SIGKILL;
	rearm_pdeathsig();
	forget_procfs();
	/*
	 * Wait until the parent has written the id maps. EOF: the parent failed and reported. While it
	 * writes them, /proc/<init>/ must belong to it (an unprivileged parent can't write the maps of a
	 * non-dumpable child); nothing else is in the new namespaces yet.
	 */
	if (g_stage[1].n > 0)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	/* "G" and our pid on the host (for the state that in-container hooks get) */
	char go[5];
	if (read(g_internal, go, sizeof go) != sizeof go)
		_exit(1);
	memcpy(&g_host_pid, go + 1, 4);
	if (make_undumpable() < 0)
		_exit(1);
	for (size_t i = 0; i < g_stage[2].n; i++)
		if (run_op(&g_stage[2].ops[i]) < 0)
			_exit(1);
	_exit(0);
}

static int wait_status(pid_t pid)
{
	int status;
	if (NOINTR(waitpid(pid, &status, 0)) < 0)
		return 255;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static void __attribute__((noreturn)) run_clone(const struct op *op)
{
	int sp[2];
	uint64_t flags = f_u64(op, 0);
	int foreground = f_u64(op, 1) != 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		report(op->step, errno, "socketpair");
		_exit(1);
	}
	uint64_t start = now_ns();
	/* Raw clone with fork semantics: the child continues here on a copy of our stack. */
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)((flags & ~0xffULL) | SIGCHLD), NULL, NULL, NULL, NULL);
	if (pid < 0) {
		report(op->step, errno, "clone");
		_exit(1);
	}
	if (pid == 0) {
		close(sp[0]);
		g_internal = sp[1];
		run_init();
	}
	close(sp[1]);
	g_internal = sp[0];
	g_child = pid;
	report_timed(op->step, 0, start, now_ns(), "clone");
	uint32_t p32 = (uint32_t)pid;
	send_msg(MSG_PID, &p32, 4);

	for (size_t i = 0; i < g_stage[1].n; i++) {
		if (run_op(&g_stage[1].ops[i]) < 0) {
			kill_child();
			_exit(1);
		}
	}
	char go[5] = { 'G' };
	memcpy(go + 1, &p32, 4);
	uint64_t released = now_ns();
	if (write(g_internal, go, sizeof go) != sizeof go) {
		kill_child();
		fatal(errno, "releasing the init");
	}
	char c;
	if (NOINTR(read(g_internal, &c, 1)) != 1) {
		/* The init failed (it reported the step) or died. */
		int status = wait_status(pid);
		g_child = 0;
		if (status != 1) {
			char text[96];
			snprintf(text, sizeof text, "init exited before it was ready (status %d)", status);
			send_u32_text(MSG_ERROR, ECHILD, text);
		}
		_exit(1);
	}
	send_timing("init released, until ready", released, now_ns());
	send_msg(MSG_READY, &p32, 4);
	if (!foreground)
		_exit(0);
	/* Only waiting from here: hold none of the caller's pipes or preserved fds. */
	close_range(0, ~0U, 0);
	_exit(wait_status(pid));
}

int main(int argc, char **argv)
{
	char *end;
	if (argc != 2) {
		fprintf(stderr, "usage: hako-executor <channel fd>\n(started by hako; see native/README.md)\n");
		return 2;
	}
	long chan = strtol(argv[1], &end, 10);
	if (*end || chan < 3 || chan > INT_MAX || fcntl((int)chan, F_GETFD) < 0) {
		fprintf(stderr, "hako-executor: %s is not an open fd\n", argv[1]);
		return 2;
	}
	g_chan = (int)chan;
	/*
	 * Hold nothing of our caller's but stdio, the preserved fds and the channel: node hands on every
	 * fd it inherited without close-on-exec, and a container process must never reach one of them.
	 */
	close_range((unsigned)g_chan + 1, ~0U, 0);
	/* Never the host file while visible in a container (sealed_self.c); returns here on failure. */
	exec_sealed_copy(argv);
	if (!running_sealed())
		fatal(errno ? errno : EIO, "running from a sealed copy of hako-executor");
	fcntl(g_chan, F_SETFD, FD_CLOEXEC); /* after the re-exec, which must keep it */
	prctl(PR_SET_NAME, "hako-executor", 0, 0, 0); /* an exec from an fd is named after the fd number */
	if (make_undumpable() < 0)
		fatal(errno, "prctl(PR_SET_DUMPABLE)");
	/* No host directory as our cwd either (CVE-2024-21626): every plan path is absolute. */
	if (chdir("/") < 0)
		fatal(errno, "chdir /");
	for (int i = 0; i < NSLOTS; i++)
		g_slots[i] = -1;

	uint64_t started = now_ns();
	send_timing("start: exec, sealed self-copy, re-exec (from node's spawn)", 0, started);
	read_plan();
	send_timing("waiting for the plan", started, now_ns());
	struct stage *ex = &g_stage[0];
	for (size_t i = 0; i < ex->n; i++) {
		if (ex->ops[i].code == OP_CLONE) {
			if (i != ex->n - 1)
				fatal(EPROTO, "clone must be the last executor op");
			run_clone(&ex->ops[i]);
		}
		if (run_op(&ex->ops[i]) < 0)
			_exit(1);
	}
	fatal(EPROTO, "plan has no clone op");
}
