// The one impure corner of src/plan: reads the host facts compilePlan takes through
// ctx.hostFacts (the compiler itself never touches the filesystem). parseHostFacts is pure.
import { existsSync, readFileSync } from 'node:fs';
import type { HostFacts } from './types.ts';

export interface MountinfoEntry {
  /** Field 1: unique while the mount exists. */
  id: number;
  root: string;
  mountPoint: string;
  fstype: string;
  superOptions: string;
}

/** /proc/self/mountinfo: mount id, root (field 4), mount point (field 5), fs type and super options after " - ", octal escapes undone. */
export function mountinfoEntries(mountinfo: string): MountinfoEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountinfoEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 5 || right.length < 3) continue;
    out.push({ id: Number(left[0]), root: unescape(left[3]!), mountPoint: unescape(left[4]!), fstype: right[0]!, superOptions: right[2]! });
  }
  return out;
}

/** Facts from the text of /proc/self/mountinfo (and whether /proc/kcore exists). */
export function parseHostFacts(mountinfo: string, procKcore = true): HostFacts {
  const entries = mountinfoEntries(mountinfo);
  const root = entries.filter((e) => e.mountPoint === '/sys/fs/cgroup').at(-1);
  const v1 = entries.filter((e) => e.fstype === 'cgroup' && e.mountPoint.startsWith('/sys/fs/cgroup/'));
  const cgroup: HostFacts['cgroup'] =
    root?.fstype === 'cgroup2' || v1.length === 0
      ? { version: 2 }
      : { version: 1, hierarchies: [...new Set(v1.map((e) => e.mountPoint.slice('/sys/fs/cgroup/'.length)))].map((name) => ({ name })) };
  const resctrl = entries.some((e) => e.fstype === 'resctrl');
  const fullProcSys = entries.filter((e) => e.root === '/' && (e.fstype === 'proc' || e.fstype === 'sysfs')).map((e) => e.mountPoint);
  return { mountPoints: [...new Set(entries.map((e) => e.mountPoint))], fullProcSys: [...new Set(fullProcSys)], cgroup, procKcore, resctrl };
}

/** Reads this process's mount table. For containers without a cgroup namespace, fill in hierarchies[].hostPath. */
export function readHostFacts(): HostFacts {
  return { ...parseHostFacts(readFileSync('/proc/self/mountinfo', 'utf8'), existsSync('/proc/kcore')), lsm: readLsm() };
}

/** Which labelling LSMs this host runs (process.apparmorProfile and selinuxLabel need them). */
export function readLsm(): { apparmor: boolean; selinux: boolean } {
  let apparmor = false;
  try {
    apparmor = readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    // no AppArmor module
  }
  return { apparmor, selinux: existsSync('/sys/fs/selinux/enforce') };
}
