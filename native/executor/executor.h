/* Shared declarations of hako-executor: the op type, field accessors, state and the op handlers. */
#ifndef HAKO_EXECUTOR_H
#define HAKO_EXECUTOR_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol.h"

/* One decoded op. Strings are NUL-terminated copies; integers are 8-byte fields. */
struct op {
	uint32_t code;
	uint32_t step;
	uint32_t nfields;
	char **field;     /* field[i]: bytes of field i, followed by a NUL */
	uint32_t *len;    /* len[i]: length of field i without the NUL */
};

/* Handler result: OK, SKIPPED (nothing to do, e.g. a missing optional path) or FAIL (errno set). */
enum { FAIL = -1, OK = 0, SKIPPED = 1 };

typedef int (*op_fn)(const struct op *op);

/* Field accessors: a field of the wrong kind or index is a protocol error (the executor exits). */
const char *f_str(const struct op *op, uint32_t i);
uint64_t f_u64(const struct op *op, uint32_t i);
int64_t f_i64(const struct op *op, uint32_t i);

/* The name of the system call a handler is about to make, reported with its errno on failure. */
extern const char *g_call;
#define CALL(name) (g_call = (name))
/* Names the call, makes it, returns FAIL from the handler when it returns < 0. */
#define TRY(name, expr)                  \
	do {                             \
		CALL(name);              \
		if ((expr) < 0)          \
			return FAIL;     \
	} while (0)

/* Retries a call interrupted by a signal. */
#define NOINTR(expr)                                         \
	({                                                   \
		long _r;                                     \
		do                                           \
			_r = (long)(expr);                   \
		while (_r < 0 && errno == EINTR);            \
		_r;                                          \
	})

/* close() for cleanup paths: keeps errno, ignores fd < 0. */
void close_keep(int fd);
/* One write(2) of all of buf; FAIL (errno set, EIO when short) otherwise. */
int write_once(int fd, const void *buf, size_t len);

/* fds the plan refers to by number (root directory, fifo, console socket, …); -1 when empty. */
extern int g_slots[NSLOTS];
int slot_get(int64_t slot);             /* the fd in `slot`, or -1 with errno EBADF */
int slot_set(int64_t slot, int fd);     /* stores fd, closing what was there */
int root_fd(int64_t slot);              /* slot < 0: AT_FDCWD (host paths); else the slot's fd */

/* Paths inside a root (fs_ops.c). */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode);
int open_path(int rootfd, const char *path, int create);
void forget_procfs(void); /* the init: the executor's procfs is of another pid namespace */

/* Channel to node, the init <-> executor socket, the executable FIND_EXEC chose. */
extern int g_chan;
extern int g_internal;
extern char *g_exec_path;
int send_msg(uint32_t type, const void *payload, size_t len);
void report(uint32_t step, int err, const char *text);
uint64_t now_ns(void);
void report_timed(uint32_t step, int err, uint64_t start, uint64_t end, const char *text);
void send_timing(const char *name, uint64_t start, uint64_t end);
int wait_sync_reply(void);
int rearm_pdeathsig(void); /* after a credential change, until `ready` */

/* Running from a sealed memfd copy, non-dumpable (sealed_self.c). */
void exec_sealed_copy(char **argv);
int running_sealed(void);
int make_undumpable(void);

/* Handlers (one file per concern). */
int op_open(const struct op *op);
int op_close(const struct op *op);
int op_write_file(const struct op *op);
int op_mkfifo(const struct op *op);
int op_mount(const struct op *op);
int op_bind(const struct op *op);
int op_setattr(const struct op *op);
int op_mknod(const struct op *op);
int op_symlink(const struct op *op);
int op_mask(const struct op *op);
int op_pivot_root(const struct op *op);
int op_move_root(const struct op *op);
int op_chroot(const struct op *op);
int op_umount(const struct op *op);
int op_mkpath(const struct op *op);
int op_chdir(const struct op *op);

int op_setns(const struct op *op);
int op_unshare(const struct op *op);
int op_sethostname(const struct op *op);
int op_setdomainname(const struct op *op);
int op_setsid(const struct op *op);
int op_no_new_privs(const struct op *op);
int op_setrlimit(const struct op *op);
int op_cap_bounding(const struct op *op);
int op_keepcaps(const struct op *op);
int op_setgroups(const struct op *op);
int op_setid(const struct op *op);
int op_capset(const struct op *op);
int op_ambient(const struct op *op);
int op_umask(const struct op *op);
int op_close_fds(const struct op *op);
int op_keyring(const struct op *op);
int op_find_exec(const struct op *op);
int op_exec(const struct op *op);
int op_seccomp(const struct op *op);
int seccomp_keep_fd(int at); /* wait_fifo: keep the armed agent socket at `at` */
int op_run_hook(const struct op *op);
int op_sched(const struct op *op);
int op_ioprio(const struct op *op);
int op_personality(const struct op *op);
int op_default_home(const struct op *op);
int op_chown_stdio(const struct op *op);
int op_tmpfs_copyup(const struct op *op);
int op_open_tree(const struct op *op);
int op_affinity(const struct op *op);
extern pid_t g_host_pid;
int op_link_up(const struct op *op);
int op_create_modes(const struct op *op);

int op_connect(const struct op *op);
int op_terminal(const struct op *op);
int op_dup_stdio(const struct op *op);

#endif
