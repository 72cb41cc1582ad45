/*
 * Filesystem ops: paths resolved inside a root, mounts, device nodes, symlinks, pivot_root.
 *
 * Every path inside the container is opened relative to a root directory fd with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so a symlink in the image can never lead a
 * mount or a node outside the root. Missing components are created one at a time, each relative
 * to its already-resolved parent. Mounts then target the fd: fd-based calls (open_tree,
 * move_mount, mount_setattr, fsmount) where they exist, mount(2) on /proc/self/fd/N otherwise.
 */
#include "executor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define TREE_FLAGS (OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
#define MOVE_FLAGS (MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)

/* Opens `path` below `rootfd` (AT_FDCWD: a plain host path) with openat2. */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = rootfd == AT_FDCWD ? 0 : RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	CALL("openat2");
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/*
 * A procfs of our own (SLOT_PROC): a fresh, detached instance for this process's pid namespace,
 * which nothing in a rootfs or a mount namespace can have covered (CVE-2025-52881: sysctl and
 * oom_score_adj writes redirected by a mount or symlink onto another file). Paths below it are
 * opened with no mount crossed, no magic link and never above it. Cached per process: the init
 * drops the executor's (another pid namespace) when it starts.
 */
static int g_procfs = -1;

void forget_procfs(void)
{
	close_keep(g_procfs);
	g_procfs = -1;
}

static int procfs_root(void)
{
	struct statfs sfs;
	if (g_procfs >= 0)
		return g_procfs;
	CALL("fsopen proc");
	int fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs >= 0) {
		if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
			g_procfs = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		close_keep(fs);
	}
	if (g_procfs < 0 && errno == EPERM) {
		/* Not allowed a mount of our own (rootless): the /proc we see, checked to be a procfs. */
		CALL("open /proc");
		g_procfs = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	CALL("fstatfs /proc");
	if (g_procfs >= 0 && (fstatfs(g_procfs, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
		if (errno == 0)
			errno = EXDEV;
		forget_procfs();
	}
	return g_procfs;
}

/* Opens `path` (relative, e.g. "sys/kernel/shmmax", "self/oom_score_adj") below our procfs. */
static int open_in_procfs(const char *path, int flags)
{
	int proc = procfs_root();
	if (proc < 0)
		return -1;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	CALL("openat2");
	return (int)syscall(SYS_openat2, proc, path, &how, sizeof how);
}

/* The modes of what create_one makes: the plan's choice (OP_CREATE_MODES), sent before any create. */
static mode_t dir_mode, file_mode;

int op_create_modes(const struct op *op)
{
	dir_mode = (mode_t)f_u64(op, 0);
	file_mode = (mode_t)f_u64(op, 1);
	return OK;
}

/* Creates `name` in `parent` as a directory or an empty file; EEXIST is fine. */
static int create_one(int parent, const char *name, int create)
{
	if (create == CREATE_DIR) {
		CALL("mkdirat");
		return mkdirat(parent, name, dir_mode) < 0 && errno != EEXIST ? -1 : 0;
	}
	CALL("openat");
	int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, file_mode);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 0;
}

/* The directory `resolved` (absolute, free of symlinks, `..` and `.`) reopened from the root. */
static int reopen_dir(int rootfd, const char *resolved)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | (rootfd == AT_FDCWD ? 0 : RESOLVE_IN_ROOT),
	};
	CALL("openat2");
	return (int)syscall(SYS_openat2, rootfd, resolved, &how, sizeof how);
}

#define MAX_LINKS 40

static int too_long(void)
{
	errno = ENAMETOOLONG;
	return -1;
}

/*
 * Opens `path` below `rootfd` as O_PATH (openat2, RESOLVE_IN_ROOT). When it's missing and `create`
 * asks for it, walks it one component at a time instead, the way RESOLVE_IN_ROOT resolves:
 * each component opened O_PATH|O_NOFOLLOW in its parent; a symlink's target is read and spliced
 * in front of the rest of the path (an absolute one starts again at the root, never the host's
 * /); `..` drops the last resolved component and never climbs above the root; at most MAX_LINKS
 * symlinks. Missing directories are created (OP_CREATE_MODES) as the walk reaches them, the last component
 * as `create` says. Nothing is ever created or opened outside the root.
 */
static int open_walk(int rootfd, const char *path, int create);

/* Refuses an fd that is a symlink (opened O_NOFOLLOW): ELOOP. */
static int not_a_symlink(int fd)
{
	struct stat st;
	if (fd < 0)
		return -1;
	CALL("fstat");
	if (fstat(fd, &st) == 0 && !S_ISLNK(st.st_mode))
		return fd;
	if (S_ISLNK(st.st_mode)) {
		CALL("a symlink as destination");
		errno = ELOOP;
	}
	close_keep(fd);
	return -1;
}

/*
 * open_walk, and with CREATE_NOFOLLOW the last component must not be a symlink: opened
 * O_NOFOLLOW (before and, when created, after the walk) and refused when it is one.
 */
int open_path(int rootfd, const char *path, int create)
{
	if (!(create & CREATE_NOFOLLOW))
		return open_walk(rootfd, path, create);
	create &= ~CREATE_NOFOLLOW;
	int fd = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0 && errno == ENOENT && create != CREATE_NONE) {
		if ((fd = open_walk(rootfd, path, create)) < 0)
			return -1;
		close(fd);
		fd = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
	}
	return not_a_symlink(fd);
}

static int open_walk(int rootfd, const char *path, int create)
{
	char rest[PATH_MAX], resolved[PATH_MAX], name[NAME_MAX + 1], link[PATH_MAX];
	struct stat st;
	int fd = open_in_root(rootfd, path, O_PATH, 0), cur, links = 0;
	if (fd >= 0 || errno != ENOENT || create == CREATE_NONE)
		return fd;
	if (strlen(path) >= sizeof rest)
		return too_long();
	strcpy(rest, path);
	strcpy(resolved, "/");
	for (cur = reopen_dir(rootfd, resolved); cur >= 0;) {
		char *p = rest + strspn(rest, "/");
		size_t n = strcspn(p, "/"), rl = strlen(resolved);
		if (n == 0)
			return cur; /* the whole path is resolved */
		if (n > NAME_MAX) {
			too_long();
			break;
		}
		memcpy(name, p, n);
		name[n] = 0;
		memmove(rest, p + n, strlen(p + n) + 1);
		int last = rest[strspn(rest, "/")] == 0;
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, "..")) {
			char *slash = strrchr(resolved, '/');
			slash[slash == resolved] = 0; /* "/a/b" → "/a", "/a" → "/", "/" stays */
			close(cur);
			cur = reopen_dir(rootfd, resolved);
			continue;
		}
		CALL("openat");
		int next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (create_one(cur, name, last ? create : CREATE_DIR) < 0)
				break;
			CALL("openat");
			next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0 || (CALL("fstat"), fstat(next, &st)) < 0) {
			close_keep(next);
			break;
		}
		if (!S_ISLNK(st.st_mode)) {
			if (rl + 1 + n >= sizeof resolved) {
				close(next);
				too_long();
				break;
			}
			if (rl > 1)
				resolved[rl++] = '/';
			memcpy(resolved + rl, name, n + 1);
			close(cur);
			cur = next;
			continue;
		}
		/* A symlink: its target replaces it in front of the rest. */
		CALL("readlinkat");
		ssize_t len = ++links > MAX_LINKS ? (errno = ELOOP, -1) : readlinkat(next, "", link, sizeof link);
		close_keep(next);
		if (len < 0)
			break;
		size_t tail = strlen(rest);
		if ((size_t)len + 1 + tail >= sizeof rest) {
			too_long();
			break;
		}
		memmove(rest + len + (tail ? 1 : 0), rest, tail + 1);
		memcpy(rest, link, (size_t)len);
		if (tail)
			rest[len] = '/';
		if (link[0] == '/') {
			strcpy(resolved, "/");
			close(cur);
			cur = reopen_dir(rootfd, resolved);
		}
	}
	close_keep(cur);
	return -1;
}

/* Splits "/a/b/c" into the parent's fd (created if missing) and "c". */
static int open_parent(int rootfd, const char *path, char *name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t dl = slash ? (size_t)(slash - path) : 0;
	if (dl >= sizeof dir || strlen(base) > NAME_MAX || !*base) {
		errno = EINVAL;
		return -1;
	}
	memcpy(dir, path, dl);
	dir[dl] = 0;
	strcpy(name, base);
	return open_path(rootfd, dl ? dir : "/", CREATE_DIR);
}

static const char *opt(const char *s)
{
	return *s ? s : NULL;
}

int op_open(const struct op *op)
{
	CALL("open");
	int fd = open(f_str(op, 0), (int)f_u64(op, 1) | O_CLOEXEC, (mode_t)f_u64(op, 2));
	return fd < 0 || slot_set(f_i64(op, 3), fd) < 0 ? FAIL : OK;
}

int op_close(const struct op *op)
{
	return slot_set(f_i64(op, 0), -1) < 0 ? FAIL : OK;
}

int op_write_file(const struct op *op)
{
	int64_t root = f_i64(op, 0), rootfd, fd;
	if (root == SLOT_PROC)
		fd = open_in_procfs(f_str(op, 1), O_WRONLY);
	else if ((rootfd = root_fd(root)) == -1)
		fd = -1;
	else
		fd = open_in_root((int)rootfd, f_str(op, 1), O_WRONLY, 0);
	if (fd < 0)
		return errno == ENOENT && f_u64(op, 3) ? SKIPPED : FAIL;
	int r = write_once((int)fd, f_str(op, 2), op->len[2]);
	close_keep((int)fd);
	return r;
}

int op_mkfifo(const struct op *op)
{
	const char *path = f_str(op, 0);
	TRY("mkfifo", mkfifo(path, (mode_t)f_u64(op, 1)));
	TRY("chmod", chmod(path, (mode_t)f_u64(op, 1)));
	TRY("chown", chown(path, (uid_t)f_u64(op, 2), (gid_t)f_u64(op, 3)));
	return OK;
}

/* A filesystem (not bind) mount with mount(2), onto the target's /proc/self/fd path. */
int op_mount(const struct op *op)
{
	char proc[32];
	int rootfd = root_fd(f_i64(op, 0)), fd;
	if (rootfd == -1 || (fd = open_path(rootfd, f_str(op, 1), (int)f_u64(op, 2))) < 0)
		return FAIL;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	CALL("mount");
	int r = mount(opt(f_str(op, 3)), proc, opt(f_str(op, 4)), (unsigned long)f_u64(op, 5), opt(f_str(op, 6)));
	close_keep(fd);
	return r < 0 ? FAIL : OK;
}

/*
 * A bind mount: clone the source tree (open_tree), set its attributes while it's still detached
 * (so a read-only bind is never writable), then attach it onto the target (move_mount).
 * Source: a host path (source slot < 0), a path inside a root (slot >= 0), or the fd in the slot
 * itself (slot >= 0 and an empty source).
 */
int op_bind(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0)), create = (int)f_u64(op, 2);
	int64_t sslot = f_i64(op, 3);
	const char *source = f_str(op, 4);
	unsigned flags = TREE_FLAGS | (f_u64(op, 5) ? AT_RECURSIVE : 0);
	struct mount_attr attr = { .attr_set = f_u64(op, 6), .attr_clr = f_u64(op, 7) };
	int tree = -1, target = -1, sfd = -1, r = FAIL;
	struct stat st;

	if (rootfd == -1)
		return FAIL;
	if (sslot >= 0 && f_u64(op, 5) == BIND_DETACHED_TREE) {
		/* made (attributes set) by the executor on the host before a new user namespace */
		CALL("dup");
		tree = (sfd = slot_get(sslot)) < 0 ? -1 : dup(sfd);
		sfd = -1;
		attr.attr_set = attr.attr_clr = 0;
	} else if (sslot < 0 && (create & CREATE_NOFOLLOW)) {
		if ((sfd = not_a_symlink((CALL("open"), open(source, O_PATH | O_NOFOLLOW | O_CLOEXEC)))) >= 0) {
			CALL("open_tree");
			tree = open_tree(sfd, "", AT_EMPTY_PATH | flags);
		}
	} else if (sslot < 0) {
		CALL("open_tree");
		tree = open_tree(AT_FDCWD, source, flags);
	} else if (!*source) {
		int fd = slot_get(sslot);
		CALL("open_tree");
		tree = fd < 0 ? -1 : open_tree(fd, "", AT_EMPTY_PATH | flags);
	} else if ((sfd = slot_get(sslot)) >= 0 && (sfd = open_path(sfd, source, CREATE_NONE)) >= 0) {
		CALL("open_tree");
		tree = open_tree(sfd, "", AT_EMPTY_PATH | flags);
	}
	if (tree < 0)
		goto out;
	if ((create & ~CREATE_NOFOLLOW) == CREATE_LIKE_SOURCE) {
		CALL("fstat");
		if (fstat(tree, &st) < 0)
			goto out;
		create = (create & CREATE_NOFOLLOW) | (S_ISDIR(st.st_mode) ? CREATE_DIR : CREATE_FILE);
	}
	CALL("mount_setattr");
	if ((attr.attr_set || attr.attr_clr) && mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		goto out;
	if ((target = open_path(rootfd, f_str(op, 1), create)) < 0)
		goto out;
	CALL("move_mount");
	if (move_mount(tree, "", target, "", MOVE_FLAGS) == 0)
		r = OK;
out:
	if (r == FAIL && errno == ENOENT && f_u64(op, 8))
		r = SKIPPED;
	close_keep(tree);
	close_keep(target);
	close_keep(sfd);
	return r;
}

/*
 * A bind source opened on the host, before the init enters a new user namespace in which the
 * source may not be reachable (a folder of mode 0700 owned by root): a detached copy of it
 * (open_tree), its attributes set while the executor still may, kept in a slot for OP_BIND.
 */
int op_open_tree(const struct op *op)
{
	struct mount_attr attr = { .attr_set = f_u64(op, 2), .attr_clr = f_u64(op, 3) };
	CALL("open_tree");
	int tree = open_tree(AT_FDCWD, f_str(op, 0), TREE_FLAGS | (f_u64(op, 1) ? AT_RECURSIVE : 0));
	if (tree < 0)
		return FAIL;
	CALL("mount_setattr");
	if ((attr.attr_set || attr.attr_clr) && mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
		close_keep(tree);
		return FAIL;
	}
	return slot_set(f_i64(op, 4), tree) < 0 ? FAIL : OK;
}

/* Changes a mount's attributes and/or propagation (mount_setattr), optionally recursively. */
int op_setattr(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0)), fd;
	struct mount_attr attr = { .attr_set = f_u64(op, 2), .attr_clr = f_u64(op, 3), .propagation = f_u64(op, 4) };
	if (rootfd == -1 || (fd = open_path(rootfd, f_str(op, 1), CREATE_NONE)) < 0)
		return errno == ENOENT && f_u64(op, 6) ? SKIPPED : FAIL;
	CALL("mount_setattr");
	int r = mount_setattr(fd, "", AT_EMPTY_PATH | (f_u64(op, 5) ? AT_RECURSIVE : 0), &attr, sizeof attr);
	close_keep(fd);
	return r < 0 ? FAIL : OK;
}

/* Is `name` in `dir` the node `mode` (its type bits) and `dev` ask for? A symlink never is. */
static int same_node(int dir, const char *name, mode_t mode, dev_t dev)
{
	struct stat st;
	CALL("fstatat");
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if ((st.st_mode & S_IFMT) == (mode & S_IFMT) && (S_ISFIFO(mode) || st.st_rdev == dev))
		return 1;
	errno = EEXIST;
	return 0;
}

/*
 * mknod with exactly the plan's mode and owner. An existing name: `exists` says (OK: left alone,
 * SAME: left alone when it is that very node, else EEXIST; FAIL: EEXIST).
 */
int op_mknod(const struct op *op)
{
	char name[NAME_MAX + 1];
	int rootfd = root_fd(f_i64(op, 0)), dir, r = FAIL;
	mode_t mode = (mode_t)f_u64(op, 2);
	dev_t dev = makedev((unsigned)f_u64(op, 3), (unsigned)f_u64(op, 4));
	uint64_t exists = f_u64(op, 7);
	if (rootfd == -1 || (dir = open_parent(rootfd, f_str(op, 1), name)) < 0)
		return FAIL;
	CALL("mknodat");
	if (mknodat(dir, name, mode, dev) < 0) {
		if (errno == EEXIST && (exists == EXISTS_OK || (exists == EXISTS_SAME && same_node(dir, name, mode, dev) > 0)))
			r = SKIPPED;
		else if (errno == EEXIST)
			CALL("mknodat"); /* the report names the call that found the name taken */
	} else if (CALL("fchownat"), fchownat(dir, name, (uid_t)f_u64(op, 5), (gid_t)f_u64(op, 6), AT_SYMLINK_NOFOLLOW) == 0) {
		/* the node we just made, never what an existing name points to */
		r = (CALL("fchmodat"), fchmodat(dir, name, mode & 07777, 0)) == 0 ? OK : FAIL;
	}
	close_keep(dir);
	return r;
}

int op_symlink(const struct op *op)
{
	char name[NAME_MAX + 1];
	int rootfd = root_fd(f_i64(op, 0)), dir, r = OK;
	uint64_t exists = f_u64(op, 3);
	if (rootfd == -1 || (dir = open_parent(rootfd, f_str(op, 1), name)) < 0)
		return FAIL;
	CALL("unlinkat");
	if (exists == EXISTS_REPLACE && unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		r = FAIL;
	CALL("symlinkat");
	if (r == OK && symlinkat(f_str(op, 2), dir, name) < 0)
		r = errno == EEXIST && exists == EXISTS_OK ? SKIPPED : FAIL;
	close_keep(dir);
	return r;
}

/* maskedPaths: a directory gets a read-only empty tmpfs, anything else the null device. */
int op_mask(const struct op *op)
{
	struct stat st;
	int rootfd = root_fd(f_i64(op, 0)), src = -1, target, r = FAIL;
	if (rootfd == -1 || (target = open_path(rootfd, f_str(op, 1), CREATE_NONE)) < 0)
		return errno == ENOENT ? SKIPPED : FAIL;
	CALL("fstat");
	if (fstat(target, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		CALL("fsopen");
		int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
		CALL("fsconfig");
		if (fs >= 0 && fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
			src = (CALL("fsmount"), fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY));
		close_keep(fs);
	} else {
		/*
		 * Only the real null device masks (CVE-2025-31133): the name in the rootfs is opened
		 * without following a symlink and must be char 1:3; a bind of anything else (say a
		 * symlink to /proc/sys/kernel/core_pattern) would expose it instead of hiding.
		 */
		int null = open_in_root(rootfd, f_str(op, 2), O_PATH | O_NOFOLLOW, 0);
		struct stat ns;
		if (null >= 0 && (CALL("fstat"), fstat(null, &ns)) == 0 && !(S_ISCHR(ns.st_mode) && ns.st_rdev == makedev(1, 3))) {
			CALL("not the null device (char 1:3)");
			errno = ENODEV;
		} else if (null >= 0) {
			src = (CALL("open_tree"), open_tree(null, "", AT_EMPTY_PATH | TREE_FLAGS));
		}
		close_keep(null);
	}
	if (src >= 0 && (CALL("move_mount"), move_mount(src, "", target, "", MOVE_FLAGS)) == 0)
		r = OK;
out:
	close_keep(src);
	close_keep(target);
	return r;
}

/* pivot_root(".", ".") from inside the new root, then detach the old root stacked on it. */
int op_pivot_root(const struct op *op)
{
	int newroot = slot_get(f_i64(op, 0)), oldroot, r = FAIL;
	if (newroot < 0 || (CALL("open"), oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return FAIL;
	if ((CALL("fchdir"), fchdir(newroot)) == 0 && (CALL("pivot_root"), syscall(SYS_pivot_root, ".", ".")) == 0 &&
	    (CALL("fchdir"), fchdir(oldroot)) == 0 &&
	    /* don't let the unmount propagate to the host */
	    (CALL("mount"), mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL)) == 0 &&
	    (CALL("umount2"), umount2(".", MNT_DETACH)) == 0 && (CALL("chdir"), chdir("/")) == 0)
		r = OK;
	close_keep(oldroot);
	return r;
}

/* --no-pivot: move the root mount over / and chroot into it. */
int op_move_root(const struct op *op)
{
	int newroot = slot_get(f_i64(op, 0));
	if (newroot < 0)
		return FAIL;
	TRY("fchdir", fchdir(newroot));
	TRY("mount", mount(".", "/", NULL, MS_MOVE, NULL));
	TRY("chroot", chroot("."));
	TRY("chdir", chdir("/"));
	return OK;
}

/*
 * No mount namespace: the rootfs and its mounts are in the runtime's mount table, so neither
 * pivot_root nor MS_MOVE over / may touch it. chroot into the root (as runc does then).
 */
int op_chroot(const struct op *op)
{
	int newroot = slot_get(f_i64(op, 0));
	if (newroot < 0)
		return FAIL;
	TRY("fchdir", fchdir(newroot));
	TRY("chroot", chroot("."));
	TRY("chdir", chdir("/"));
	return OK;
}

/* umount2 of a host path; with `missing ok`, a path already gone (or no longer a mount) is skipped. */
int op_umount(const struct op *op)
{
	CALL("umount2");
	if (umount2(f_str(op, 0), (int)f_u64(op, 1)) == 0)
		return OK;
	return (errno == ENOENT || errno == EINVAL) && f_u64(op, 2) ? SKIPPED : FAIL;
}

int op_mkpath(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0)), fd;
	if (rootfd == -1 || (fd = open_path(rootfd, f_str(op, 1), (int)f_u64(op, 2))) < 0)
		return FAIL;
	close(fd);
	return OK;
}

/*
 * chdir, then make sure the cwd is reachable from the root (no fd leaked from outside).
 * `early` (before the user switch): a refusal (EACCES, EPERM) is no failure, the late chdir (as
 * the user) tries again; once one worked, the late one has nothing to do. runc does the same, so a
 * cwd only root can enter and one only the user can enter both work.
 */
static int g_cwd_done;

int op_chdir(const struct op *op)
{
	char buf[PATH_MAX];
	int early = f_u64(op, 1) != 0;
	if (!early && g_cwd_done)
		return SKIPPED;
	CALL("chdir");
	if (chdir(f_str(op, 0)) < 0)
		return early && (errno == EACCES || errno == EPERM) ? SKIPPED : FAIL;
	g_cwd_done = 1;
	CALL("getcwd");
	if (!getcwd(buf, sizeof buf))
		return FAIL;
	if (buf[0] != '/') {
		errno = ENOENT;
		return FAIL;
	}
	return OK;
}

/* Copies the tree under `src` into `dst` (both directories): files, folders, symlinks and nodes
 * with their modes and owners; nothing is ever followed. For tmpcopyup. */
static int copy_tree(int src, int dst, int depth)
{
	int dirfd, r = 0;
	if (depth > 64) {
		errno = ELOOP;
		return -1;
	}
	CALL("opendir");
	if ((dirfd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close_keep(dirfd);
		return -1;
	}
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		const char *name = e->d_name;
		struct stat st;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		CALL("fstatat");
		if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -1;
			break;
		}
		mode_t mode = st.st_mode & 07777;
		if (S_ISDIR(st.st_mode)) {
			int s2 = -1, d2 = -1;
			CALL("mkdirat");
			r = mkdirat(dst, name, 0700) < 0 ? -1
			    : (s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ? -1
			    : (d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ? -1
			    : copy_tree(s2, d2, depth + 1);
			if (r == 0 && ((CALL("fchown"), fchown(d2, st.st_uid, st.st_gid)) < 0 || (CALL("fchmod"), fchmod(d2, mode)) < 0))
				r = -1;
			close_keep(s2);
			close_keep(d2);
		} else if (S_ISREG(st.st_mode)) {
			int in = -1, out = -1;
			CALL("openat");
			if ((in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
			    (out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
				r = -1;
			for (off_t off = 0; r == 0 && off < st.st_size;) {
				CALL("sendfile");
				ssize_t n = sendfile(out, in, &off, (size_t)(st.st_size - off));
				if (n <= 0)
					r = -1, errno = n == 0 ? EIO : errno;
			}
			if (r == 0 && ((CALL("fchown"), fchown(out, st.st_uid, st.st_gid)) < 0 || (CALL("fchmod"), fchmod(out, mode)) < 0))
				r = -1;
			close_keep(in);
			close_keep(out);
		} else if (S_ISLNK(st.st_mode)) {
			char link[PATH_MAX];
			CALL("readlinkat");
			ssize_t n = readlinkat(src, name, link, sizeof link - 1);
			if (n < 0)
				r = -1;
			else {
				link[n] = 0;
				CALL("symlinkat");
				r = symlinkat(link, dst, name) < 0 || fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : 0;
			}
		} else {
			CALL("mknodat");
			r = mknodat(dst, name, st.st_mode, st.st_rdev) < 0 || fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ? -1 : 0;
		}
	}
	int err = errno;
	closedir(d);
	errno = err;
	return r;
}

/*
 * A tmpfs with the rootfs content of its destination copied in (the tmpcopyup option podman adds
 * for --tmpfs and --read-only): made detached (fsopen/fsmount, the plan's options), filled from
 * the destination, given its attributes, then moved onto the destination.
 */
int op_tmpfs_copyup(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0)), target, fs = -1, mnt = -1, src = -1, r = FAIL;
	struct mount_attr attr = { .attr_set = f_u64(op, 2), .attr_clr = f_u64(op, 3) };
	uint64_t n = f_u64(op, 4);
	if (rootfd == -1 || (target = open_path(rootfd, f_str(op, 1), CREATE_DIR)) < 0)
		return FAIL;
	CALL("fsopen");
	if ((fs = fsopen("tmpfs", FSOPEN_CLOEXEC)) < 0)
		goto out;
	for (uint64_t i = 0; i < n; i++) {
		char opt[512];
		const char *o = f_str(op, 5 + (uint32_t)i);
		if (strlen(o) >= sizeof opt) {
			errno = ENAMETOOLONG;
			goto out;
		}
		strcpy(opt, o);
		char *eq = strchr(opt, '=');
		if (eq)
			*eq = 0;
		CALL("fsconfig");
		if (fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, opt, eq ? eq + 1 : NULL, 0) < 0)
			goto out;
	}
	CALL("fsconfig");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto out;
	CALL("fsmount");
	if ((mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0)) < 0)
		goto out;
	CALL("openat");
	if ((src = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || copy_tree(src, mnt, 0) < 0)
		goto out;
	CALL("mount_setattr");
	if ((attr.attr_set || attr.attr_clr) && mount_setattr(mnt, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
		goto out;
	CALL("move_mount");
	if (move_mount(mnt, "", target, "", MOVE_FLAGS) == 0)
		r = OK;
out:
	close_keep(src);
	close_keep(mnt);
	close_keep(fs);
	close_keep(target);
	return r;
}
