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

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

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

/* Creates the last component `name` in `parent` as a directory or an empty file; EEXIST is fine. */
static int create_one(int parent, const char *name, int create)
{
	if (create == CREATE_DIR) {
		CALL("mkdirat");
		return mkdirat(parent, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
	}
	CALL("openat");
	int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 0;
}

/*
 * Opens `path` below `rootfd` as O_PATH. When it's missing and `create` asks for it, creates the
 * missing directories one by one (mode 0755), and the last component as `create` says.
 */
int open_path(int rootfd, const char *path, int create)
{
	int fd = open_in_root(rootfd, path, O_PATH, 0);
	if (fd >= 0 || errno != ENOENT || create == CREATE_NONE)
		return fd;

	char buf[PATH_MAX];
	if (strlen(path) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	int parent = rootfd == AT_FDCWD ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
					: fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (parent < 0)
		return -1;
	char *p = buf;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchr(p, '/');
		char *rest = end;
		while (rest && *rest == '/')
			rest++;
		int last = !rest || !*rest;
		if (end)
			*end = 0;
		if (create_one(parent, p, last ? create : CREATE_DIR) < 0)
			goto fail;
		if (last)
			break;
		/* Reopen the prefix through the root, following symlinks only inside it. */
		int next = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY, 0);
		if (next < 0)
			goto fail;
		close(parent);
		parent = next;
		*end = '/';
		p = end + 1;
	}
	close(parent);
	return open_in_root(rootfd, path, O_PATH, 0);
fail:;
	int e = errno;
	close(parent);
	errno = e;
	return -1;
}

/* Splits "/a/b/c" into the parent's fd (created if missing) and "c". */
static int open_parent(int rootfd, const char *path, char *name, size_t size)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dl = slash ? (size_t)(slash - path) : 0;
	if (dl >= sizeof dir || strlen(base) >= size || !*base) {
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
	if (fd < 0)
		return FAIL;
	return slot_set(f_i64(op, 3), fd) < 0 ? FAIL : OK;
}

int op_close(const struct op *op)
{
	return slot_set(f_i64(op, 0), -1) < 0 ? FAIL : OK;
}

int op_write_file(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0));
	const char *content = f_str(op, 2);
	if (rootfd == -1)
		return FAIL;
	int fd = open_in_root(rootfd, f_str(op, 1), O_WRONLY, 0);
	if (fd < 0)
		return errno == ENOENT && f_u64(op, 3) ? SKIPPED : FAIL;
	CALL("write");
	ssize_t n = write(fd, content, op->len[2]);
	int e = errno;
	close(fd);
	if (n != (ssize_t)op->len[2]) {
		errno = n < 0 ? e : EIO;
		return FAIL;
	}
	return OK;
}

int op_mkfifo(const struct op *op)
{
	const char *path = f_str(op, 0);
	CALL("mkfifo");
	if (mkfifo(path, (mode_t)f_u64(op, 1)) < 0)
		return FAIL;
	CALL("chmod");
	if (chmod(path, (mode_t)f_u64(op, 1)) < 0)
		return FAIL;
	CALL("chown");
	return chown(path, (uid_t)f_u64(op, 2), (gid_t)f_u64(op, 3)) < 0 ? FAIL : OK;
}

/* A filesystem (not bind) mount with mount(2), onto the target's /proc/self/fd path. */
int op_mount(const struct op *op)
{
	char proc[64];
	int rootfd = root_fd(f_i64(op, 0));
	if (rootfd == -1)
		return FAIL;
	int fd = open_path(rootfd, f_str(op, 1), (int)f_u64(op, 2));
	if (fd < 0)
		return FAIL;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	CALL("mount");
	int r = mount(opt(f_str(op, 3)), proc, opt(f_str(op, 4)), (unsigned long)f_u64(op, 5), opt(f_str(op, 6)));
	int e = errno;
	close(fd);
	errno = e;
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
	int rootfd = root_fd(f_i64(op, 0));
	int64_t sslot = f_i64(op, 3);
	const char *source = f_str(op, 4);
	unsigned rec = f_u64(op, 5) ? AT_RECURSIVE : 0;
	struct mount_attr attr = { .attr_set = f_u64(op, 6), .attr_clr = f_u64(op, 7) };
	int create = (int)f_u64(op, 2);
	int tree = -1, target = -1, sfd = -1, r = FAIL;
	struct stat st;

	if (rootfd == -1)
		return FAIL;
	CALL("open_tree");
	if (sslot < 0) {
		tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	} else if (!*source) {
		if ((sfd = slot_get(sslot)) >= 0)
			tree = open_tree(sfd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
		sfd = -1;
	} else {
		int sroot = slot_get(sslot);
		if (sroot >= 0 && (sfd = open_path(sroot, source, CREATE_NONE)) >= 0) {
			CALL("open_tree");
			tree = open_tree(sfd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
		}
	}
	if (tree < 0)
		goto out;
	if (create == CREATE_LIKE_SOURCE) {
		CALL("fstat");
		if (fstat(tree, &st) < 0)
			goto out;
		create = S_ISDIR(st.st_mode) ? CREATE_DIR : CREATE_FILE;
	}
	if (attr.attr_set || attr.attr_clr) {
		CALL("mount_setattr");
		if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
			goto out;
	}
	if ((target = open_path(rootfd, f_str(op, 1), create)) < 0)
		goto out;
	CALL("move_mount");
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		goto out;
	r = OK;
out:
	if (r == FAIL && errno == ENOENT && f_u64(op, 8))
		r = SKIPPED;
	int e = errno;
	if (tree >= 0)
		close(tree);
	if (target >= 0)
		close(target);
	if (sfd >= 0)
		close(sfd);
	errno = e;
	return r;
}

/* Changes a mount's attributes and/or propagation (mount_setattr), optionally recursively. */
int op_setattr(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0));
	struct mount_attr attr = { .attr_set = f_u64(op, 2), .attr_clr = f_u64(op, 3), .propagation = f_u64(op, 4) };
	unsigned flags = AT_EMPTY_PATH | (f_u64(op, 5) ? AT_RECURSIVE : 0);
	if (rootfd == -1)
		return FAIL;
	int fd = open_path(rootfd, f_str(op, 1), CREATE_NONE);
	if (fd < 0)
		return errno == ENOENT && f_u64(op, 6) ? SKIPPED : FAIL;
	CALL("mount_setattr");
	int r = mount_setattr(fd, "", flags, &attr, sizeof attr);
	int e = errno;
	close(fd);
	errno = e;
	return r < 0 ? FAIL : OK;
}

/* mknod with exactly the plan's mode and owner; an existing node is left alone (SKIPPED). */
int op_mknod(const struct op *op)
{
	char name[NAME_MAX + 1];
	int rootfd = root_fd(f_i64(op, 0));
	mode_t mode = (mode_t)f_u64(op, 2);
	if (rootfd == -1)
		return FAIL;
	int dir = open_parent(rootfd, f_str(op, 1), name, sizeof name);
	if (dir < 0)
		return FAIL;
	int r = FAIL;
	CALL("mknodat");
	if (mknodat(dir, name, mode, makedev((unsigned)f_u64(op, 3), (unsigned)f_u64(op, 4))) < 0) {
		r = errno == EEXIST ? SKIPPED : FAIL;
		goto out;
	}
	/* Only a node we just made, never what an existing name points to. */
	CALL("fchownat");
	if (fchownat(dir, name, (uid_t)f_u64(op, 5), (gid_t)f_u64(op, 6), AT_SYMLINK_NOFOLLOW) < 0)
		goto out;
	CALL("fchmodat");
	if (fchmodat(dir, name, mode & 07777, 0) < 0)
		goto out;
	r = OK;
out:;
	int e = errno;
	close(dir);
	errno = e;
	return r;
}

int op_symlink(const struct op *op)
{
	char name[NAME_MAX + 1];
	int rootfd = root_fd(f_i64(op, 0));
	uint64_t exists = f_u64(op, 3);
	if (rootfd == -1)
		return FAIL;
	int dir = open_parent(rootfd, f_str(op, 1), name, sizeof name);
	if (dir < 0)
		return FAIL;
	int r = OK;
	if (exists == EXISTS_REPLACE) {
		CALL("unlinkat");
		if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
			r = FAIL;
	}
	CALL("symlinkat");
	if (r == OK && symlinkat(f_str(op, 2), dir, name) < 0)
		r = errno == EEXIST && exists == EXISTS_OK ? SKIPPED : FAIL;
	int e = errno;
	close(dir);
	errno = e;
	return r;
}

/* maskedPaths: a directory gets a read-only empty tmpfs, anything else the null device. */
int op_mask(const struct op *op)
{
	struct stat st;
	int rootfd = root_fd(f_i64(op, 0));
	int src = -1, r = FAIL;
	if (rootfd == -1)
		return FAIL;
	int target = open_path(rootfd, f_str(op, 1), CREATE_NONE);
	if (target < 0)
		return errno == ENOENT ? SKIPPED : FAIL;
	CALL("fstat");
	if (fstat(target, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		CALL("fsopen");
		int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
		if (fs < 0)
			goto out;
		CALL("fsconfig");
		if (fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) == 0 &&
		    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0) {
			CALL("fsmount");
			src = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
		}
		int e = errno;
		close(fs);
		errno = e;
	} else {
		int null = open_path(rootfd, f_str(op, 2), CREATE_NONE);
		if (null >= 0) {
			CALL("open_tree");
			src = open_tree(null, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			int e = errno;
			close(null);
			errno = e;
		}
	}
	if (src < 0)
		goto out;
	CALL("move_mount");
	if (move_mount(src, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0)
		r = OK;
out:;
	int e = errno;
	if (src >= 0)
		close(src);
	close(target);
	errno = e;
	return r;
}

/* pivot_root(".", ".") from inside the new root, then detach the old root stacked on it. */
int op_pivot_root(const struct op *op)
{
	int newroot = slot_get(f_i64(op, 0));
	if (newroot < 0)
		return FAIL;
	CALL("open");
	int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return FAIL;
	int r = FAIL;
	CALL("fchdir");
	if (fchdir(newroot) < 0)
		goto out;
	CALL("pivot_root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		goto out;
	CALL("fchdir");
	if (fchdir(oldroot) < 0)
		goto out;
	/* Don't let the unmount propagate to the host. */
	CALL("mount");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		goto out;
	CALL("umount2");
	if (umount2(".", MNT_DETACH) < 0)
		goto out;
	CALL("chdir");
	if (chdir("/") < 0)
		goto out;
	r = OK;
out:;
	int e = errno;
	close(oldroot);
	errno = e;
	return r;
}

/* --no-pivot: move the root mount over / and chroot into it. */
int op_move_root(const struct op *op)
{
	int newroot = slot_get(f_i64(op, 0));
	if (newroot < 0)
		return FAIL;
	CALL("fchdir");
	if (fchdir(newroot) < 0)
		return FAIL;
	CALL("mount");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return FAIL;
	CALL("chroot");
	if (chroot(".") < 0)
		return FAIL;
	CALL("chdir");
	return chdir("/") < 0 ? FAIL : OK;
}

int op_mkpath(const struct op *op)
{
	int rootfd = root_fd(f_i64(op, 0));
	if (rootfd == -1)
		return FAIL;
	int fd = open_path(rootfd, f_str(op, 1), (int)f_u64(op, 2));
	if (fd < 0)
		return FAIL;
	close(fd);
	return OK;
}

/* chdir, then make sure the cwd is reachable from the root (no fd leaked from outside). */
int op_chdir(const struct op *op)
{
	char buf[PATH_MAX];
	CALL("chdir");
	if (chdir(f_str(op, 0)) < 0)
		return FAIL;
	CALL("getcwd");
	if (!getcwd(buf, sizeof buf))
		return FAIL;
	if (buf[0] != '/') {
		errno = ENOENT;
		return FAIL;
	}
	return OK;
}
