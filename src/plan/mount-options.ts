// mounts[].options → what the kernel takes: mount(2) flags, the rest as the data string,
// propagation changes, recursive attributes (mount_setattr) and the per-mount attributes of a
// bind mount. The table is runc's (libcontainer/specconv/spec_linux.go) plus nosymfollow.
import { MOUNT_ATTR, MS } from './constants.ts';

/** option → [clear?, MS_* flag]: `rw` clears MS_RDONLY, `ro` sets it. */
const FLAGS: Readonly<Record<string, [boolean, number]>> = {
  acl: [false, MS.MS_POSIXACL],
  async: [true, MS.MS_SYNCHRONOUS],
  atime: [true, MS.MS_NOATIME],
  bind: [false, MS.MS_BIND],
  defaults: [false, 0],
  dev: [true, MS.MS_NODEV],
  diratime: [true, MS.MS_NODIRATIME],
  dirsync: [false, MS.MS_DIRSYNC],
  exec: [true, MS.MS_NOEXEC],
  iversion: [false, MS.MS_I_VERSION],
  lazytime: [false, MS.MS_LAZYTIME],
  loud: [true, MS.MS_SILENT],
  mand: [false, MS.MS_MANDLOCK],
  noacl: [true, MS.MS_POSIXACL],
  noatime: [false, MS.MS_NOATIME],
  nodev: [false, MS.MS_NODEV],
  nodiratime: [false, MS.MS_NODIRATIME],
  noexec: [false, MS.MS_NOEXEC],
  noiversion: [true, MS.MS_I_VERSION],
  nolazytime: [true, MS.MS_LAZYTIME],
  nomand: [true, MS.MS_MANDLOCK],
  norelatime: [true, MS.MS_RELATIME],
  nostrictatime: [true, MS.MS_STRICTATIME],
  nosuid: [false, MS.MS_NOSUID],
  nosymfollow: [false, MS.MS_NOSYMFOLLOW],
  symfollow: [true, MS.MS_NOSYMFOLLOW],
  rbind: [false, MS.MS_BIND | MS.MS_REC],
  relatime: [false, MS.MS_RELATIME],
  remount: [false, MS.MS_REMOUNT],
  ro: [false, MS.MS_RDONLY],
  rw: [true, MS.MS_RDONLY],
  silent: [false, MS.MS_SILENT],
  strictatime: [false, MS.MS_STRICTATIME],
  suid: [true, MS.MS_NOSUID],
  sync: [false, MS.MS_SYNCHRONOUS],
};

/** Propagation options: each becomes its own call, in the order given. */
const PROPAGATION: Readonly<Record<string, { type: number; recursive: boolean }>> = {
  private: { type: MS.MS_PRIVATE, recursive: false },
  rprivate: { type: MS.MS_PRIVATE, recursive: true },
  shared: { type: MS.MS_SHARED, recursive: false },
  rshared: { type: MS.MS_SHARED, recursive: true },
  slave: { type: MS.MS_SLAVE, recursive: false },
  rslave: { type: MS.MS_SLAVE, recursive: true },
  unbindable: { type: MS.MS_UNBINDABLE, recursive: false },
  runbindable: { type: MS.MS_UNBINDABLE, recursive: true },
};

const A = MOUNT_ATTR;
/** Recursive attributes (mount_setattr with AT_RECURSIVE): the attributes each sets and clears. */
const REC_ATTRS: Readonly<Record<string, { set: number; clr: number }>> = {
  rro: { set: A.MOUNT_ATTR_RDONLY, clr: 0 },
  rrw: { set: 0, clr: A.MOUNT_ATTR_RDONLY },
  rnosuid: { set: A.MOUNT_ATTR_NOSUID, clr: 0 },
  rsuid: { set: 0, clr: A.MOUNT_ATTR_NOSUID },
  rnodev: { set: A.MOUNT_ATTR_NODEV, clr: 0 },
  rdev: { set: 0, clr: A.MOUNT_ATTR_NODEV },
  rnoexec: { set: A.MOUNT_ATTR_NOEXEC, clr: 0 },
  rexec: { set: 0, clr: A.MOUNT_ATTR_NOEXEC },
  rnodiratime: { set: A.MOUNT_ATTR_NODIRATIME, clr: 0 },
  rdiratime: { set: 0, clr: A.MOUNT_ATTR_NODIRATIME },
  rrelatime: { set: 0, clr: A.MOUNT_ATTR__ATIME },
  rnorelatime: { set: 0, clr: 0 },
  rnoatime: { set: A.MOUNT_ATTR_NOATIME, clr: A.MOUNT_ATTR__ATIME },
  ratime: { set: 0, clr: 0 },
  rstrictatime: { set: A.MOUNT_ATTR_STRICTATIME, clr: A.MOUNT_ATTR__ATIME },
  rnostrictatime: { set: 0, clr: 0 },
  rnosymfollow: { set: A.MOUNT_ATTR_NOSYMFOLLOW, clr: 0 },
  rsymfollow: { set: 0, clr: A.MOUNT_ATTR_NOSYMFOLLOW },
};

/** Every option the plan maps to a flag, a propagation change or a recursive attribute: `hako features` lists these. */
export const MAPPED_MOUNT_OPTIONS: readonly string[] = Object.freeze(
  [...Object.keys(FLAGS), ...Object.keys(PROPAGATION), ...Object.keys(REC_ATTRS), 'tmpcopyup'].sort(),
);

/** Options runc knows as extensions that hako doesn't implement. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  idmap: 'idmapped mounts are not supported',
  ridmap: 'idmapped mounts are not supported',
};

export interface ParsedOptions {
  /** MS_* flags set (the last of ro/rw, suid/nosuid… wins, as in mount(8)). */
  flags: number;
  /** MS_* flags explicitly cleared (`rw`, `suid`, `dev`…), to clear on a bind mount. */
  cleared: number;
  /** Unknown options, for the data string. */
  data: string[];
  propagation: { option: string; type: number; recursive: boolean }[];
  recursive: { set: number; clr: number };
  /** Options hako can't honour, with why. */
  unsupported: string[];
  /** tmpcopyup (a runc extension): the rootfs content of the destination is copied into the new tmpfs. */
  tmpcopyup: boolean;
}

export function parseMountOptions(options: readonly string[]): ParsedOptions {
  const out: ParsedOptions = { flags: 0, cleared: 0, data: [], propagation: [], recursive: { set: 0, clr: 0 }, unsupported: [], tmpcopyup: false };
  for (const option of options) {
    const flag = FLAGS[option];
    const prop = PROPAGATION[option];
    const rec = REC_ATTRS[option];
    if (flag) {
      const [clear, bit] = flag;
      if (clear) {
        out.flags &= ~bit;
        out.cleared |= bit;
      } else {
        out.flags |= bit;
        out.cleared &= ~bit;
      }
    } else if (prop) {
      out.propagation.push({ option, ...prop });
    } else if (rec) {
      // A later option for the same attribute replaces an earlier one.
      const touched = rec.set | rec.clr;
      out.recursive.set = (out.recursive.set & ~touched) | rec.set;
      out.recursive.clr = (out.recursive.clr & ~touched) | rec.clr;
    } else if (option === 'tmpcopyup') {
      out.tmpcopyup = true;
    } else if (Object.hasOwn(UNSUPPORTED, option)) {
      out.unsupported.push(`${option}: ${UNSUPPORTED[option]}`);
    } else {
      out.data.push(option);
    }
  }
  return out;
}

/**
 * The per-mount attributes a bind mount gets from its flags (a bind ignores them in mount(2)):
 * set what's asked, clear what's explicitly negated, leave everything else as the source has it.
 */
export function bindAttributes(p: ParsedOptions): { set: number; clr: number } {
  let set = 0;
  let clr = 0;
  const pairs: [number, number][] = [
    [MS.MS_RDONLY, A.MOUNT_ATTR_RDONLY],
    [MS.MS_NOSUID, A.MOUNT_ATTR_NOSUID],
    [MS.MS_NODEV, A.MOUNT_ATTR_NODEV],
    [MS.MS_NOEXEC, A.MOUNT_ATTR_NOEXEC],
    [MS.MS_NODIRATIME, A.MOUNT_ATTR_NODIRATIME],
    [MS.MS_NOSYMFOLLOW, A.MOUNT_ATTR_NOSYMFOLLOW],
  ];
  for (const [ms, attr] of pairs) {
    if (p.flags & ms) set |= attr;
    else if (p.cleared & ms) clr |= attr;
  }
  // atime is one field: noatime, strictatime or relatime replaces it.
  if (p.flags & MS.MS_NOATIME) {
    set |= A.MOUNT_ATTR_NOATIME;
    clr |= A.MOUNT_ATTR__ATIME;
  } else if (p.flags & MS.MS_STRICTATIME) {
    set |= A.MOUNT_ATTR_STRICTATIME;
    clr |= A.MOUNT_ATTR__ATIME;
  } else if (p.flags & MS.MS_RELATIME) {
    clr |= A.MOUNT_ATTR__ATIME;
  }
  return { set, clr };
}
