// Linux constants the plan carries (x86-64 / arm64 values; the generic ones), with their names
// so describePlan can print flags by name.

export const MS = Object.freeze({
  MS_RDONLY: 0x1,
  MS_NOSUID: 0x2,
  MS_NODEV: 0x4,
  MS_NOEXEC: 0x8,
  MS_SYNCHRONOUS: 0x10,
  MS_REMOUNT: 0x20,
  MS_MANDLOCK: 0x40,
  MS_DIRSYNC: 0x80,
  MS_NOSYMFOLLOW: 0x100,
  MS_NOATIME: 0x400,
  MS_NODIRATIME: 0x800,
  MS_BIND: 0x1000,
  MS_MOVE: 0x2000,
  MS_REC: 0x4000,
  MS_SILENT: 0x8000,
  MS_POSIXACL: 0x10000,
  MS_UNBINDABLE: 0x20000,
  MS_PRIVATE: 0x40000,
  MS_SLAVE: 0x80000,
  MS_SHARED: 0x100000,
  MS_RELATIME: 0x200000,
  MS_I_VERSION: 0x800000,
  MS_STRICTATIME: 0x1000000,
  MS_LAZYTIME: 0x2000000,
});

export const MOUNT_ATTR = Object.freeze({
  MOUNT_ATTR_RDONLY: 0x1,
  MOUNT_ATTR_NOSUID: 0x2,
  MOUNT_ATTR_NODEV: 0x4,
  MOUNT_ATTR_NOEXEC: 0x8,
  MOUNT_ATTR__ATIME: 0x70,
  MOUNT_ATTR_NOATIME: 0x10,
  MOUNT_ATTR_STRICTATIME: 0x20,
  MOUNT_ATTR_NODIRATIME: 0x80,
  MOUNT_ATTR_NOSYMFOLLOW: 0x200000,
});
/** MOUNT_ATTR_RELATIME is 0: the atime field cleared. */
export const MOUNT_ATTR_RELATIME = 0;
/** umount2 flag: detach now, let go of it once unused (with its submounts). */
export const MNT_DETACH = 2;
export const UMOUNT_NOFOLLOW = 8;

export const CLONE = Object.freeze({
  CLONE_NEWTIME: 0x80,
  CLONE_NEWNS: 0x20000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
});

/** config.json namespace type → CLONE_NEW* flag. */
export const NAMESPACE_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  pid: CLONE.CLONE_NEWPID,
  network: CLONE.CLONE_NEWNET,
  mount: CLONE.CLONE_NEWNS,
  ipc: CLONE.CLONE_NEWIPC,
  uts: CLONE.CLONE_NEWUTS,
  user: CLONE.CLONE_NEWUSER,
  cgroup: CLONE.CLONE_NEWCGROUP,
  time: CLONE.CLONE_NEWTIME,
});

export const O = Object.freeze({
  O_WRONLY: 0x1,
  O_RDWR: 0x2,
  O_DIRECTORY: 0x10000,
  O_NOFOLLOW: 0x20000,
  O_CLOEXEC: 0x80000,
  O_PATH: 0x200000,
});
export const O_RDONLY = 0;

export const S_IF = Object.freeze({ S_IFIFO: 0o010000, S_IFCHR: 0o020000, S_IFBLK: 0o060000 });

/** RLIM_INFINITY, as a 64-bit unsigned integer. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** Names of the bits set in `value`, from a name → bit table; leftover bits in hex. */
export function flagNames(value: number | bigint, table: Readonly<Record<string, number>>): string {
  let rest = BigInt(value);
  const names: string[] = [];
  for (const [name, bit] of Object.entries(table)) {
    const b = BigInt(bit);
    if (b !== 0n && (rest & b) === b) {
      names.push(name);
      rest &= ~b;
    }
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names.length ? names.join('|') : '0';
}
