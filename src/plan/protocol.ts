// The executor protocol: packet types and the op table. This file is the source of truth;
// native/executor/protocol.h mirrors it and test/unit/plan-protocol.test.ts fails when the two
// disagree (codes, names, field counts).
//
// Packet: u32 type, u32 length, then `length` payload bytes, little-endian, one per SEQPACKET message.
// Op payload: u32 opcode, u32 step index, u32 nfields, then nfields fields, each `u32 len + bytes`.
//   int:  8 bytes, little-endian (two's complement for negatives such as slot -1)
//   str:  the UTF-8 bytes, no NUL
//   list: a u64 count field, then that many fields
// Node → executor: OP_EXECUTOR / OP_PARENT / OP_INIT (one per op, in plan order), END, SYNC_REPLY (u32 errno).
// Executor → node: REPORT (u32 step, u32 errno, text), PID (u32), READY (u32), SYNC (u32 step, text),
// ERROR (u32 errno, text).

export const MSG = Object.freeze({
  OP_EXECUTOR: 1,
  OP_PARENT: 2,
  OP_INIT: 3,
  END: 4,
  SYNC_REPLY: 5,
  REPORT: 16,
  PID: 17,
  READY: 18,
  SYNC: 19,
  ERROR: 20,
  TIMING: 21,
});

/** Where an op runs: in the executor before the clone, in the executor on the init's behalf, in the init. */
export type Stage = 'executor' | 'parent' | 'init';

export const STAGE_MSG: Readonly<Record<Stage, number>> = Object.freeze({
  executor: MSG.OP_EXECUTOR,
  parent: MSG.OP_PARENT,
  init: MSG.OP_INIT,
});

export type FieldKind = 'int' | 'str' | 'bytes' | 'ints' | 'strs';

/** Fields, in wire order. */
type Fields = Readonly<Record<string, FieldKind>>;

// Slots: fds the executor keeps by number (an int field naming a slot; -1 = no root, a host path).
export const NSLOTS = 64;

/** What OP_MOUNT / OP_BIND / OP_MKPATH create when the target is missing (with the modes OP_CREATE_MODES set). */
export const CREATE = Object.freeze({ NONE: 0, DIR: 1, FILE: 2, LIKE_SOURCE: 3, NOFOLLOW: 0x100 });
// NOFOLLOW is a flag or'ed into the kind: the target (and a bind's host source) must not be a
// symlink itself; it is refused (ELOOP), never followed.
/** OP_SYMLINK / OP_MKNOD when the path exists. SAME (mknod): fine if it is that very node (type, major, minor), else EEXIST. */
export const EXISTS = Object.freeze({ FAIL: 0, OK: 1, REPLACE: 2, SAME: 3 });

export const OPS = {
  open: { code: 1, fields: { path: 'str', flags: 'int', mode: 'int', slot: 'int' } },
  close: { code: 2, fields: { slot: 'int' } },
  setns: { code: 3, fields: { slot: 'int', nstype: 'int' } },
  unshare: { code: 4, fields: { flags: 'int' } },
  write_file: { code: 5, fields: { root: 'int', path: 'str', content: 'str', missingOk: 'int' } },
  mkfifo: { code: 6, fields: { path: 'str', mode: 'int', uid: 'int', gid: 'int' } },
  connect: { code: 7, fields: { path: 'str', slot: 'int' } },
  clone: { code: 8, fields: { flags: 'int', foreground: 'int' } },
  write_child: { code: 9, fields: { name: 'str', content: 'str' } },
  sync: { code: 10, fields: { name: 'str' } },
  sethostname: { code: 11, fields: { name: 'str' } },
  setdomainname: { code: 12, fields: { name: 'str' } },
  mount: {
    code: 13,
    fields: { root: 'int', target: 'str', create: 'int', source: 'str', fstype: 'str', flags: 'int', data: 'str' },
  },
  bind: {
    code: 14,
    fields: {
      root: 'int',
      target: 'str',
      create: 'int',
      sourceRoot: 'int',
      source: 'str',
      recursive: 'int',
      attrSet: 'int',
      attrClr: 'int',
      missingOk: 'int',
    },
  },
  setattr: {
    code: 15,
    fields: { root: 'int', target: 'str', attrSet: 'int', attrClr: 'int', propagation: 'int', recursive: 'int', missingOk: 'int' },
  },
  mknod: { code: 16, fields: { root: 'int', path: 'str', mode: 'int', major: 'int', minor: 'int', uid: 'int', gid: 'int', exists: 'int' } },
  symlink: { code: 17, fields: { root: 'int', path: 'str', target: 'str', exists: 'int' } },
  mask: { code: 18, fields: { root: 'int', path: 'str', nullDevice: 'str' } },
  pivot_root: { code: 19, fields: { root: 'int' } },
  move_root: { code: 20, fields: { root: 'int' } },
  chroot: { code: 55, fields: { root: 'int' } },
  mkpath: { code: 21, fields: { root: 'int', path: 'str', create: 'int' } },
  chdir: { code: 22, fields: { path: 'str', early: 'int' } },
  setsid: { code: 23, fields: {} },
  terminal: { code: 24, fields: { root: 'int', ptmx: 'str', console: 'int', rows: 'int', cols: 'int', slot: 'int' } },
  dup_stdio: { code: 25, fields: { slot: 'int' } },
  no_new_privs: { code: 26, fields: {} },
  setrlimit: { code: 27, fields: { resource: 'int', soft: 'int', hard: 'int' } },
  cap_bounding: { code: 28, fields: { keep: 'int' } },
  keepcaps: { code: 29, fields: { on: 'int' } },
  setgroups: { code: 30, fields: { gids: 'ints' } },
  setid: { code: 31, fields: { uid: 'int', gid: 'int' } },
  capset: { code: 32, fields: { effective: 'int', permitted: 'int', inheritable: 'int' } },
  ambient: { code: 33, fields: { raise: 'int' } },
  umask: { code: 34, fields: { mask: 'int' } },
  close_fds: { code: 35, fields: { first: 'int' } },
  keyring: { code: 36, fields: { name: 'str', perm: 'int' } },
  find_exec: { code: 37, fields: { candidates: 'strs' } },
  ready: { code: 38, fields: {} },
  wait_fifo: { code: 39, fields: { slot: 'int' } },
  exec: { code: 40, fields: { args: 'strs', env: 'strs' } },
  link_up: { code: 41, fields: { name: 'str' } },
  umount: { code: 43, fields: { path: 'str', flags: 'int', missingOk: 'int' } },
  create_modes: { code: 42, fields: { dir: 'int', file: 'int' } },
  run_hook: {
    code: 45,
    fields: { name: 'str', path: 'str', stdin: 'str', pidAt: 'int', timeout: 'int', args: 'strs', env: 'strs' },
  },
  started: { code: 46, fields: {} },
  sched: { code: 47, fields: { policy: 'int', flags: 'int', nice: 'int', priority: 'int', runtime: 'int', deadline: 'int', period: 'int' } },
  ioprio: { code: 48, fields: { value: 'int' } },
  personality: { code: 49, fields: { persona: 'int' } },
  default_home: { code: 50, fields: { uid: 'int' } },
  chown_stdio: { code: 51, fields: { uid: 'int', pty: 'int' } },
  affinity: { code: 54, fields: { mask: 'bytes' } },
  open_tree: { code: 53, fields: { path: 'str', recursive: 'int', attrSet: 'int', attrClr: 'int', slot: 'int' } },
  tmpfs_copyup: { code: 52, fields: { root: 'int', target: 'str', attrSet: 'int', attrClr: 'int', options: 'strs' } },
  seccomp: {
    code: 44,
    fields: {
      filter: 'bytes',
      flags: 'int',
      setCaps: 'int',
      effective: 'int',
      permitted: 'int',
      inheritable: 'int',
      listener: 'int',
      message: 'str',
      pidAt: 'ints',
    },
  },
} as const satisfies Record<string, { code: number; fields: Fields }>;

export type OpName = keyof typeof OPS;

type KindType<K> = K extends 'int'
  ? number | bigint
  : K extends 'str'
    ? string
    : K extends 'bytes'
      ? Uint8Array
      : K extends 'ints'
        ? number[]
        : string[];

/** The arguments of an op, by field name. */
export type OpArgs<N extends OpName> = { -readonly [F in keyof (typeof OPS)[N]['fields']]: KindType<(typeof OPS)[N]['fields'][F]> };
