/*
 * The executor protocol: packet types and opcodes. The source of truth is src/plan/protocol.ts;
 * test/unit/plan-protocol.test.ts fails when this file and that one disagree.
 *
 * Every packet on the SOCK_SEQPACKET channel: u32 type, u32 length, then `length` bytes of payload
 * (little-endian). An op packet's payload: u32 opcode, u32 step index, u32 nfields, then nfields
 * fields, each `u32 len + bytes` (integers: 8-byte little-endian; strings: no NUL; a list: a u64
 * count field followed by that many fields). See native/README.md.
 */
#ifndef HAKO_PROTOCOL_H
#define HAKO_PROTOCOL_H

/* node -> executor */
enum msg_type {
	MSG_OP_EXECUTOR = 1, /* op run by the executor before it clones the init */
	MSG_OP_PARENT = 2,   /* op run by the executor after the clone, on the init's behalf */
	MSG_OP_INIT = 3,     /* op run by the init */
	MSG_END = 4,         /* end of the plan */
	MSG_SYNC_REPLY = 5,  /* u32 errno: answer to MSG_SYNC (0: carry on) */
	/* executor / init -> node */
	MSG_REPORT = 16,     /* u32 step, u32 errno, u64 start ns, u64 end ns (CLOCK_MONOTONIC), text: failing call (or op name / "skipped") */
	MSG_PID = 17,        /* u32 host pid of the init, right after the clone */
	MSG_READY = 18,      /* u32 host pid of the init, which is about to wait on the exec fifo */
	MSG_SYNC = 19,       /* u32 step, text: the init waits for MSG_SYNC_REPLY */
	MSG_ERROR = 20,      /* u32 errno, text: a failure outside any step (protocol, internal) */
	MSG_TIMING = 21,     /* u64 start ns, u64 end ns (CLOCK_MONOTONIC), text: a phase outside the steps */
};

enum opcode {
	OP_OPEN = 1,          /* path, flags, mode, slot */
	OP_CLOSE = 2,         /* slot */
	OP_SETNS = 3,         /* slot, nstype */
	OP_UNSHARE = 4,       /* flags */
	OP_WRITE_FILE = 5,    /* root slot, path, content, missing ok */
	OP_MKFIFO = 6,        /* path, mode, uid, gid */
	OP_CONNECT = 7,       /* path, slot */
	OP_CLONE = 8,         /* flags, foreground */
	OP_WRITE_CHILD = 9,   /* name under /proc/<init pid>/, content */
	OP_SYNC = 10,         /* name */
	OP_SETHOSTNAME = 11,  /* name */
	OP_SETDOMAINNAME = 12, /* name */
	OP_MOUNT = 13,        /* root slot, target, create, source, fstype, flags, data */
	OP_BIND = 14,         /* root slot, target, create, source slot, source, recursive, attr set, attr clr,
	                         missing ok */
	OP_SETATTR = 15,      /* root slot, target, attr set, attr clr, propagation, recursive, missing ok */
	OP_MKNOD = 16,        /* root slot, path, mode, major, minor, uid, gid, exists mode */
	OP_SYMLINK = 17,      /* root slot, path, link target, exists mode */
	OP_MASK = 18,         /* root slot, path, null device path */
	OP_PIVOT_ROOT = 19,   /* root slot */
	OP_MOVE_ROOT = 20,    /* root slot */
	OP_MKPATH = 21,       /* root slot, path, create */
	OP_CHDIR = 22,        /* path, early (a refusal is left to the late one) */
	OP_SETSID = 23,       /* - */
	OP_TERMINAL = 24,     /* root slot, ptmx path, console slot, rows, cols, slave slot */
	OP_DUP_STDIO = 25,    /* slot */
	OP_NO_NEW_PRIVS = 26, /* - */
	OP_SETRLIMIT = 27,    /* resource, soft, hard */
	OP_CAP_BOUNDING = 28, /* mask of capabilities to keep */
	OP_KEEPCAPS = 29,     /* on */
	OP_SETGROUPS = 30,    /* list of gids */
	OP_SETID = 31,        /* uid, gid */
	OP_CAPSET = 32,       /* effective, permitted, inheritable */
	OP_AMBIENT = 33,      /* mask */
	OP_UMASK = 34,        /* mask */
	OP_CLOSE_FDS = 35,    /* first fd */
	OP_KEYRING = 36,      /* name, permission bits to add */
	OP_FIND_EXEC = 37,    /* list of candidate paths */
	OP_READY = 38,        /* - */
	OP_WAIT_FIFO = 39,    /* slot */
	OP_EXEC = 40,         /* list of args, list of env */
	OP_LINK_UP = 41,      /* interface name */
	OP_CREATE_MODES = 42, /* dir mode, file mode */
	OP_UMOUNT = 43,       /* host path, umount2 flags, missing ok */
	OP_SECCOMP = 44,      /* BPF bytes, seccomp(2) flags, set caps after, effective, permitted, inheritable,
	                         listener slot, message, list of pid offsets in it */
	OP_RUN_HOOK = 45,     /* name, path, stdin, pid offset in stdin, timeout, args[], env[] */
	OP_STARTED = 46,      /* - : the exec fifo's byte, after the startContainer hooks */
	OP_SCHED = 47,        /* policy, flags, nice, priority, runtime, deadline, period */
	OP_IOPRIO = 48,       /* ioprio value (class << 13 | level) */
	OP_PERSONALITY = 49,  /* persona */
	OP_DEFAULT_HOME = 50, /* uid: HOME from the container's /etc/passwd, added at exec */
	OP_CHOWN_STDIO = 51,  /* uid, pty: stdio that is the container's own goes to the process's user */
	OP_TMPFS_COPYUP = 52, /* root slot, target, attr set, attr clr, list of tmpfs options */
	OP_OPEN_TREE = 53,    /* host path, recursive, attr set, attr clr, slot: a detached copy of a bind source */
	OP_AFFINITY = 54,     /* CPU mask bytes: sched_setaffinity */
	OP_CHROOT = 55,       /* root slot: chroot into it (no mount namespace: the host's mount table stays as is) */
	OP_MAX = 56,
};

/* OP_MOUNT / OP_BIND / OP_MKPATH: what to create when the target is missing. */
enum create_kind { CREATE_NONE = 0, CREATE_DIR = 1, CREATE_FILE = 2, CREATE_LIKE_SOURCE = 3 };
/* OP_BIND's `recursive` field: the source slot holds a detached tree (OP_OPEN_TREE): attach it as is. */
#define BIND_DETACHED_TREE 2
/* Or'ed into a create field: the target (and a bind's host source) must not itself be a symlink. */
#define CREATE_NOFOLLOW 0x100

/* OP_SYMLINK / OP_MKNOD: what to do when the path exists (SAME: mknod, fine if it is that node, else EEXIST). */
enum exists_mode { EXISTS_FAIL = 0, EXISTS_OK = 1, EXISTS_REPLACE = 2, EXISTS_SAME = 3 };

#define NSLOTS 64
/* A root field naming no slot: a fresh procfs instance of the caller's pid namespace (OP_WRITE_FILE). */
#define SLOT_PROC (-2)

#endif
