// What cgroup layout this host has: the mode (v1, v2, hybrid), every mounted hierarchy
// (from /proc/self/mountinfo) and the runtime's own cgroup in each (from /proc/self/cgroup).
// Both texts are injectable so tests can describe any host (a pure v2 one in a tmp dir).

import { readFileSync, readdirSync, statfsSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { HakoError } from '../errors.ts';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** One v1 hierarchy: its controllers (`cpu`, `cpuacct`, `name=systemd`…) and where it is mounted. */
export interface V1Hierarchy {
  controllers: string[];
  mountPoint: string;
  /** The mount's root inside the hierarchy (mountinfo field 4), `/` unless a subtree is bind-mounted. */
  root: string;
}

export interface UnifiedHierarchy {
  mountPoint: string;
  root: string;
}

export interface CgroupHost {
  mode: CgroupMode;
  v1: V1Hierarchy[];
  unified?: UnifiedHierarchy;
}

/** statfs magic numbers (linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const TMPFS_MAGIC = 0x01021994;

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** v1 mount options that are not controller names. */
const V1_MOUNT_OPTIONS = new Set([
  'rw', 'ro', 'none', 'all', 'xattr', 'noprefix', 'clone_children', 'cpuset_v2_mode',
  'favordynmods', 'nofavordynmods', 'nodev', 'nosuid', 'noexec', 'relatime', 'noatime',
]);

let cachedDefaultMode: CgroupMode | undefined;

/**
 * The host's cgroup mode. With `mountinfo` given, decided from that text; otherwise from the
 * filesystem type of `root` (default /sys/fs/cgroup) and `root/unified`: two statfs calls,
 * cached for the default root.
 */
export function detectCgroupMode(opts: { root?: string; mountinfo?: string } = {}): CgroupMode {
  if (opts.mountinfo !== undefined) return parseMountinfo(opts.mountinfo).mode;
  const root = opts.root ?? DEFAULT_CGROUP_ROOT;
  const useCache = opts.root === undefined;
  if (useCache && cachedDefaultMode) return cachedDefaultMode;
  const mode = modeFromStatfs(root);
  if (useCache) cachedDefaultMode = mode;
  return mode;
}

function fsType(path: string): number | undefined {
  try {
    return statfsSync(path).type;
  } catch {
    return undefined;
  }
}

function modeFromStatfs(root: string): CgroupMode {
  const t = fsType(root);
  if (t === CGROUP2_SUPER_MAGIC) return 'v2';
  if (t === CGROUP_SUPER_MAGIC) return 'v1'; // a lone v1 hierarchy mounted at root
  if (t === TMPFS_MAGIC) {
    if (fsType(join(root, 'unified')) === CGROUP2_SUPER_MAGIC) return 'hybrid';
    // v1: a tmpfs of hierarchy mount points; make sure at least one is a cgroup.
    let names: string[] = [];
    try {
      names = readdirSync(root);
    } catch {
      // unreadable: fall through to the error
    }
    if (names.some((n) => fsType(join(root, n)) === CGROUP_SUPER_MAGIC)) return 'v1';
  }
  throw new HakoError(`cgroup: ${root}: no cgroup filesystem mounted`);
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * Cgroup hierarchies from a mountinfo text. The first mount of a hierarchy wins (later ones are
 * bind mounts of it). v1 hierarchies that carry only a name (name=systemd) do not make a host
 * hybrid; a cgroup2 mount next to v1 controller hierarchies does.
 */
export function parseMountinfo(text: string): CgroupHost {
  const v1: V1Hierarchy[] = [];
  const seen = new Set<string>();
  let unified: UnifiedHierarchy | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const post = line.slice(sep + 3).split(' ');
    const fstype = post[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const pre = line.slice(0, sep).split(' ');
    const root = pre[3];
    const mountPoint = pre[4];
    if (root === undefined || mountPoint === undefined) continue;
    const hier = { root: unescapeMountinfo(root), mountPoint: unescapeMountinfo(mountPoint) };
    if (fstype === 'cgroup2') {
      // Prefer the conventional places if cgroup2 is mounted more than once.
      if (!unified || hier.mountPoint === DEFAULT_CGROUP_ROOT) unified = hier;
      continue;
    }
    const controllers = (post[2] ?? '')
      .split(',')
      .filter((o) => o !== '' && !V1_MOUNT_OPTIONS.has(o) && (!o.includes('=') || o.startsWith('name=')))
      .sort();
    if (controllers.length === 0) continue;
    const key = controllers.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    v1.push({ controllers, ...hier });
  }
  const hasV1Controllers = v1.some((h) => h.controllers.some((c) => !c.startsWith('name=')));
  let mode: CgroupMode;
  if (unified && !hasV1Controllers) mode = 'v2';
  else if (unified) mode = 'hybrid';
  else if (v1.length > 0) mode = 'v1';
  else throw new HakoError('cgroup: no cgroup filesystem is mounted (see /proc/self/mountinfo)');
  // On a v2 host, stray named v1 hierarchies are not ours to manage.
  return mode === 'v2' ? { mode, v1: [], unified } : unified ? { mode, v1, unified } : { mode, v1 };
}

/**
 * /proc/self/cgroup as a map from the controller list (sorted, comma-joined, `name=` kept)
 * to the path; the cgroup2 entry (`0::/x`) has the key ''.
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second).split(',').filter(Boolean).sort().join(',');
    out.set(controllers, line.slice(second + 1).replace(/ \(deleted\)$/, ''));
  }
  return out;
}

export interface HostOptions {
  /** Text of /proc/self/mountinfo (tests); default: read it. */
  mountinfo?: string;
  /** Text of /proc/self/cgroup (tests); default: read it when a relative path needs it. */
  procSelfCgroup?: string;
}

export function readHost(opts: HostOptions = {}): CgroupHost {
  const text = opts.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  return parseMountinfo(text);
}

export function readProcSelfCgroup(opts: HostOptions = {}): Map<string, string> {
  return parseProcCgroup(opts.procSelfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8'));
}

/** sd_booted(3): systemd is PID 1 and manages cgroups when /run/systemd/system exists. */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

/** Test hook: forget the cached mode. */
export function resetCgroupModeCache(): void {
  cachedDefaultMode = undefined;
}
