// What the host offers (for skips), and the few syscalls the runner needs from libc through koffi:
// becoming a child subreaper (as containerd's shim and conmon are), reaping orphans it did not spawn,
// and lazy unmounts during teardown.
import { existsSync, readFileSync, readdirSync } from 'node:fs';

interface Libc {
  prctl: (option: number, a2: number, a3: number, a4: number, a5: number) => number;
  waitpid: (pid: number, status: number[], options: number) => number;
  umount2: (target: string, flags: number) => number;
  mount: (source: string | null, target: string, fstype: string | null, flags: number, data: string | null) => number;
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
const MNT_DETACH = 2;

let libc: Libc | undefined;

async function loadLibc(): Promise<Libc> {
  if (libc) return libc;
  const koffi = (await import('koffi')).default;
  const lib = koffi.load('libc.so.6');
  libc = {
    prctl: lib.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
    waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  };
  return libc;
}

/** Children that existed before we became a subreaper (e.g. tsx's esbuild service): never ours to reap or kill. */
const baseline = new Set<number>();

/** Makes this process a child subreaper: a container init whose `create` exits is reparented to us. */
export async function becomeSubreaper(): Promise<void> {
  const c = await loadLibc();
  for (const pid of allPids()) if (procStat(pid)?.ppid === process.pid) baseline.add(pid);
  if (c.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) throw new Error('prctl(PR_SET_CHILD_SUBREAPER) failed');
}

/** Pids of processes started with child_process that have not exited yet: libuv reaps those itself. */
export const spawnedPids = new Set<number>();

/** Exit statuses of orphans we reaped (pid -> wait status), e.g. a container init after its runtime exited. */
export const reapedStatuses = new Map<number, { code: number | null; signal: number | null }>();

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(text.indexOf('(') + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]) };
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Children of this process that it did not spawn through child_process (i.e. reparented orphans). */
export function orphanChildren(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of allPids()) {
    if (spawnedPids.has(pid) || baseline.has(pid)) continue;
    const st = procStat(pid);
    if (st && st.ppid === process.pid) out.push(st);
  }
  return out;
}

/** Collects the exit status of every zombie orphan (never a child_process child). */
export function reapOrphans(): void {
  if (!libc) return;
  for (const st of orphanChildren()) {
    if (st.state !== 'Z') continue;
    const status = [0];
    const r = libc.waitpid(st.pid, status, WNOHANG);
    if (r === st.pid) {
      const s = status[0] ?? 0;
      const sig = s & 0x7f;
      reapedStatuses.set(st.pid, sig === 0 ? { code: (s >> 8) & 0xff, signal: null } : { code: null, signal: sig });
    }
  }
}

let reaperTimer: NodeJS.Timeout | undefined;

/** Reaps orphans every 100 ms, as a subreaper must (zombies would pile up otherwise). */
export function startReaper(): void {
  reaperTimer ??= setInterval(reapOrphans, 100);
  reaperTimer.unref();
}

export function stopReaper(): void {
  if (reaperTimer) clearInterval(reaperTimer);
  reaperTimer = undefined;
}

export async function lazyUnmount(target: string): Promise<boolean> {
  const c = await loadLibc();
  return c.umount2(target, MNT_DETACH) === 0;
}

export const MS = { RDONLY: 1, BIND: 4096, REC: 16384, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20 } as const;

/** mount(2) on the host, for fixtures (a shared mount, a submount); returns whether it worked. */
export async function hostMount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): Promise<boolean> {
  const c = await loadLibc();
  return c.mount(source, target, fstype, flags, data) === 0;
}

export interface MountEntry {
  id: number;
  parent: number;
  majmin: string;
  root: string;
  mountPoint: string;
  options: string[];
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    out.push({
      id: Number(l[0]),
      parent: Number(l[1]),
      majmin: l[2] ?? '',
      root: unescapeMount(l[3] ?? ''),
      mountPoint: unescapeMount(l[4] ?? ''),
      options: (l[5] ?? '').split(','),
      optional: l.slice(6),
      fsType: r[0] ?? '',
      source: unescapeMount(r[1] ?? ''),
      superOptions: (r[2] ?? '').split(','),
    });
  }
  return out;
}

export function hostMounts(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

export interface HostInfo {
  /** v1 controller name -> mount point (cpu and cpuacct are separate mounts here). */
  cgroupV1: Map<string, string>;
  /** The cgroup2 mount (unified in hybrid mode, /sys/fs/cgroup on a pure v2 host), if any. */
  cgroupV2?: string;
  /** Controllers enabled in the cgroup2 hierarchy. */
  cgroupV2Controllers: string[];
  userns: boolean;
  overlay: boolean;
  apparmor: boolean;
  selinux: boolean;
  seccompNotify: boolean;
  capBnd: bigint;
  nofileHard: number;
}

export function capBit(name: string): number {
  const i = CAPS.indexOf(name);
  if (i < 0) throw new Error(`unknown capability ${name}`);
  return i;
}

/** Capability names by number (linux/capability.h). */
export const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Capability names in a /proc/<pid>/status hex mask. */
export function capsOf(hex: string): string[] {
  const v = BigInt(`0x${hex}`);
  return CAPS.filter((_n, i) => (v >> BigInt(i)) & 1n);
}

export function detectHost(): HostInfo {
  const mounts = hostMounts();
  const cgroupV1 = new Map<string, string>();
  let cgroupV2: string | undefined;
  for (const m of mounts) {
    if (m.fsType === 'cgroup') {
      for (const o of m.superOptions) {
        if (['rw', 'ro'].includes(o) || o.startsWith('name=') || o.includes('=')) continue;
        if (!cgroupV1.has(o)) cgroupV1.set(o, m.mountPoint);
      }
    } else if (m.fsType === 'cgroup2' && !cgroupV2) {
      cgroupV2 = m.mountPoint;
    }
  }
  let cgroupV2Controllers: string[] = [];
  if (cgroupV2) {
    try {
      cgroupV2Controllers = readFileSync(`${cgroupV2}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      cgroupV2Controllers = [];
    }
  }
  const readOr = (p: string, d: string): string => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return d;
    }
  };
  const status = readFileSync('/proc/self/status', 'utf8');
  const capBnd = BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(status)?.[1] ?? '0'}`);
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const nofile = /Max open files\s+\S+\s+(\S+)/.exec(limits)?.[1] ?? '1024';
  return {
    cgroupV1,
    cgroupV2,
    cgroupV2Controllers,
    userns: Number(readOr('/proc/sys/user/max_user_namespaces', '0')) > 0,
    overlay: readOr('/proc/filesystems', '').includes('\toverlay'),
    apparmor: readOr('/sys/module/apparmor/parameters/enabled', 'N') === 'Y',
    selinux: existsSync('/sys/fs/selinux/enforce'),
    seccompNotify: readOr('/proc/sys/kernel/seccomp/actions_avail', '').includes('user_notif'),
    capBnd,
    nofileHard: nofile === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(nofile),
  };
}

export function hasCap(host: HostInfo, name: string): boolean {
  return ((host.capBnd >> BigInt(capBit(name))) & 1n) === 1n;
}
