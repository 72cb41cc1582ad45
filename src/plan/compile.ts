// compilePlan: a validated config.json (+ what isn't in it) → the ordered steps the executor and the
// init perform. Pure: no fs, no syscalls; host facts come in through ctx.hostFacts.
// The order follows runc 1.1 (nsexec.c, rootfs_linux.go, standard_init_linux.go) unless noted.
import { posix } from 'node:path';
import { configError, HakoError, NotImplementedError } from '../errors.ts';
import { CAPABILITIES, RLIMITS } from '../spec/capabilities.ts';
import type { Hook, LinuxIDMapping, Mount, Process, Spec } from '../spec/types.ts';
import { CLONE, MNT_DETACH, MOUNT_ATTR, MS, NAMESPACE_FLAGS, O, O_RDONLY, RLIM_INFINITY, S_IF } from './constants.ts';
import { cpuListMask } from './cpu-list.ts';
import { bindAttributes, parseMountOptions } from './mount-options.ts';
import { CREATE, EXISTS, NSLOTS, type OpArgs, type OpName, type Stage } from './protocol.ts';
import type { ContainerState, HostFacts, Plan, PlanContext, SeccompFilter, Step } from './types.ts';

/** fd slots in the executor (see protocol.ts). */
// HOST: a plain host path; PROC (write_file only): a path below a fresh procfs instance the
// executor mounts for itself, so no rootfs or mount can redirect a procfs write (CVE-2025-52881).
// LISTENER: the seccomp agent's socket (linux.seccomp.listenerPath), the last slot.
// TREE_BASE..: bind sources the executor opened on the host before a new user namespace (userns binds).
export const SLOT = Object.freeze({ PROC: -2, HOST: -1, ROOT: 0, FIFO: 1, CONSOLE: 2, PTY: 3, NS_BASE: 4, LISTENER: 15, TREE_BASE: 16, TREE_END: NSLOTS });
/** OP_BIND's `recursive`: the source slot holds a detached tree made by open_tree, attached as is. */
export const BIND_DETACHED_TREE = 2;

// runc's AllowedDevices that have a path: made in every container that sets up its own /dev.
const DEFAULT_DEVICES: readonly { path: string; major: number; minor: number }[] = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/tty', major: 5, minor: 0 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/urandom', major: 1, minor: 9 },
];

const DEV_SYMLINKS: readonly [string, string][] = [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
];

interface Propagation {
  type: number;
  recursive: boolean;
}
const rec = (type: number): Propagation => ({ type, recursive: true });
const one = (type: number): Propagation => ({ type, recursive: false });

/**
 * linux.rootfsPropagation in two steps. `setup`: applied to the namespace's `/` before the rootfs is
 * bound onto itself, so nothing the container mounts reaches the host and pivot_root's rule holds
 * (neither the new root mount nor its parent may be shared). `final`: applied to the new root once
 * every mount is made (an unbindable root can't be a bind source, a shared one would propagate them).
 * shared/rshared: `/` and the mount holding the rootfs are made private (this namespace's copies
 * only), not slaves, so bind volumes keep their host peer groups (bidirectional propagation); the
 * root then gets a new peer group. Without the mount table: rslave, which can't leak either.
 * runc 1.1.5 applies the value to `/` before binding the rootfs (so unbindable fails with EINVAL)
 * and makes the rootfs's parent private (so shared ends up private and slave gets no events).
 */
const ROOTFS_PROPAGATION: Readonly<Record<string, { setup?: Propagation; final?: Propagation; parentPrivate?: boolean }>> = {
  private: { setup: rec(MS.MS_SLAVE), final: one(MS.MS_PRIVATE) },
  rprivate: { setup: rec(MS.MS_PRIVATE) },
  slave: { setup: rec(MS.MS_SLAVE) },
  rslave: { setup: rec(MS.MS_SLAVE) },
  shared: { setup: one(MS.MS_PRIVATE), parentPrivate: true, final: one(MS.MS_SHARED) },
  rshared: { setup: one(MS.MS_PRIVATE), parentPrivate: true, final: rec(MS.MS_SHARED) },
  unbindable: { setup: rec(MS.MS_SLAVE), final: one(MS.MS_UNBINDABLE) },
  runbindable: { setup: rec(MS.MS_PRIVATE), final: rec(MS.MS_UNBINDABLE) },
};

// runc mounts the tmpfs that holds cgroup v1 hierarchies with these.
const CGROUP_V1_FLAGS = MS.MS_NOEXEC | MS.MS_NOSUID | MS.MS_NODEV;

/** The idmap text the kernel takes: one `inside outside count` line per range. */
export function idMapText(maps: readonly LinuxIDMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** The host id that `id` inside the container maps to (itself without a mapping). */
function hostId(maps: readonly LinuxIDMapping[] | undefined, id: number): number {
  if (!maps || maps.length === 0) return id;
  const m = maps.find((r) => id >= r.containerID && id < r.containerID + r.size);
  return m ? m.hostID + (id - m.containerID) : 0;
}

function capMask(names: readonly string[] | undefined, field: string, warnings: string[]): number {
  let mask = 0n; // capabilities go past bit 31
  for (const name of names ?? []) {
    const bit = CAPABILITIES[name];
    if (bit === undefined) warnings.push(`${field}: unknown capability ${name} ignored`);
    else mask |= 1n << BigInt(bit);
  }
  return Number(mask);
}

function rlimitValue(v: number): bigint {
  if (v < 0 || v >= 2 ** 64 - 1) return RLIM_INFINITY;
  return BigInt(Math.trunc(v));
}

/** Candidates for execve, tried in order after chdir: args[0] itself when it has a slash, else $PATH. */
export function execCandidates(arg0: string, env: readonly string[]): string[] {
  if (arg0.includes('/')) return [arg0];
  let pathVar: string | undefined;
  for (const e of env) if (e.startsWith('PATH=')) pathVar = e.slice(5); // the last one wins, as in getenv after setenv
  if (pathVar === undefined || pathVar === '') return [];
  return pathVar.split(':').map((dir) => posix.join(dir === '' ? '.' : dir, arg0));
}

/** The mount point holding `path`: the longest mount point that is `path` or one of its parents. */
export function mountPointOf(path: string, mountPoints: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const mp of mountPoints) {
    const inside = mp === '/' || path === mp || path.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
    if (inside && (best === undefined || mp.length > best.length)) best = mp;
  }
  return best;
}

/** Collects steps in order; the compilers of create (compilePlan) and exec (exec.ts) share it. */
export class Builder {
  readonly steps: Step[] = [];
  add<N extends OpName>(stage: Stage, label: string, op: N, args: OpArgs<N>): void {
    this.steps.push({ op, stage, label, args } as Step);
  }
}

export function compilePlan(spec: Spec, ctx: PlanContext): Plan {
  const proc = spec.process;
  if (!proc) throw configError('process', 'is required to create a container');
  if ((proc.args ?? []).length === 0) throw configError('process.args', 'must be a non-empty array');
  const linux = spec.linux ?? {};
  const facts: HostFacts = ctx.hostFacts ?? {};
  const warnings: string[] = [];
  const b = new Builder();
  const S = SLOT;

  // ---- namespaces ----
  const namespaces = linux.namespaces ?? [];
  const nsIndex = new Map<string, number>();
  namespaces.forEach((ns, i) => nsIndex.set(ns.type, i));
  const nsLabel = (type: string) => `linux.namespaces[${nsIndex.get(type)}] ${type}`;
  const isNew = (type: string) => nsIndex.has(type) && namespaces[nsIndex.get(type)!]!.path === undefined;
  // Without a mount namespace (valid, and runc runs it) the rootfs is set up in the runtime's own
  // mount table: nothing may touch the host's / (propagation, pivot_root, MS_MOVE, --no-pivot's
  // detaches); the init chroots, and delete unmounts what was made (runtime/host-mounts.ts).
  const sharedMountNs = !nsIndex.has('mount');
  if (sharedMountNs && isNew('user')) {
    throw configError('linux.namespaces', 'a new user namespace needs its own mount namespace too (its root may not mount in the host\'s): add {"type": "mount"}');
  }
  if (sharedMountNs) {
    warnings.push('linux.namespaces: no mount namespace: the container\'s mounts are made in the host\'s mount table and it runs in a chroot, which a process with CAP_SYS_CHROOT can leave');
  }
  const userns = nsIndex.has('user');
  const rootless = facts.rootless === true;
  let cloneFlags = 0;
  for (const ns of namespaces) {
    const flag = NAMESPACE_FLAGS[ns.type];
    if (flag === undefined) throw configError(`linux.namespaces[${nsIndex.get(ns.type)}].type`, `unknown namespace type ${ns.type}`);
    if (ns.path === undefined && ns.type !== 'time') cloneFlags |= flag;
  }

  // ---- executor stage: joined namespaces, time namespace, oom score, fifo, console ----
  const joined = namespaces
    .map((ns, i) => ({ ns, i }))
    .filter((j) => j.ns.path !== undefined)
    .sort((a, b2) => Number(b2.ns.type === 'user') - Number(a.ns.type === 'user')); // the user namespace first
  if (S.NS_BASE + joined.length > S.LISTENER) throw configError('linux.namespaces', 'too many namespaces to join');
  joinNamespaces(b, joined.map((j) => ({ label: `linux.namespaces[${j.i}] ${j.ns.type}`, type: j.ns.type, path: j.ns.path! })));
  if (isNew('time')) {
    // clone() can't make a time namespace: unshare it here, the init is born in it.
    b.add('executor', nsLabel('time'), 'unshare', { flags: CLONE.CLONE_NEWTIME });
    const offsets = Object.entries(linux.timeOffsets ?? {}).filter(([, v]) => v !== undefined);
    if (offsets.length > 0) {
      const content = offsets.map(([clock, o]) => `${clock} ${o?.secs ?? 0} ${o?.nanosecs ?? 0}\n`).join('');
      b.add('executor', 'linux.timeOffsets', 'write_file', { root: S.PROC, path: 'self/timens_offsets', content, missingOk: 0 });
    }
  }
  oomScoreAdj(b, proc.oomScoreAdj);
  const rootUid = hostId(linux.uidMappings, 0);
  const rootGid = hostId(linux.gidMappings, 0);
  b.add('executor', 'exec fifo', 'mkfifo', { path: ctx.execFifo, mode: 0o622, uid: rootUid, gid: rootGid });
  b.add('executor', 'exec fifo', 'open', { path: ctx.execFifo, flags: O.O_PATH, mode: 0, slot: S.FIFO });
  const terminal = connectConsole(b, proc, ctx.consoleSocket);
  connectSeccompAgent(b, linux.seccomp === undefined ? undefined : ctx.seccomp);
  // With a new user namespace, bind sources are opened here, on the host (runc does the same): the
  // init may not reach a source only root can enter once it is root of its own namespace.
  const trees = new Map<number, number>();
  if (isNew('user')) {
    (spec.mounts ?? []).forEach((m, i) => {
      const slot = S.TREE_BASE + trees.size;
      if (!isBindMount(m) || !m.source || slot >= S.TREE_END) return;
      const p = parseMountOptions(m.options ?? []);
      const attrs = bindAttributes(p);
      b.add('executor', `mounts[${i}] ${posix.join('/', m.destination)}`, 'open_tree', {
        path: resolveSource(m.source, ctx.bundle),
        recursive: p.flags & MS.MS_REC ? 1 : 0,
        attrSet: attrs.set,
        attrClr: attrs.clr,
        slot,
      });
      trees.set(i, slot);
    });
  }
  b.add('executor', 'linux.namespaces', 'clone', { flags: cloneFlags, foreground: ctx.foreground ? 1 : 0 });

  // ---- parent stage: id maps of a new user namespace ----
  if (isNew('user')) {
    if (!linux.uidMappings?.length) throw configError('linux.uidMappings', 'is required when a new user namespace is created');
    if (!linux.gidMappings?.length) throw configError('linux.gidMappings', 'is required when a new user namespace is created');
    if (rootless) b.add('parent', 'linux.gidMappings', 'write_child', { name: 'setgroups', content: 'deny' });
    b.add('parent', 'linux.uidMappings', 'write_child', { name: 'uid_map', content: idMapText(linux.uidMappings) });
    b.add('parent', 'linux.gidMappings', 'write_child', { name: 'gid_map', content: idMapText(linux.gidMappings) });
  }

  // ---- init stage ----
  if (userns) becomeNamespaceRoot(b, nsLabel('user'), rootless);
  b.add('init', 'process', 'setsid', {});
  if (isNew('network')) b.add('init', nsLabel('network'), 'link_up', { name: 'lo' });
  if (!ctx.noNewKeyring) {
    // runc: a session keyring per container; searchable by the container's uid (other with a user namespace).
    b.add('init', 'session keyring', 'keyring', { name: `_ses.${ctx.containerId ?? ''}`.replace(/\.$/, ''), perm: userns ? 0x8 : 0x80000 });
  }
  if (spec.hostname !== undefined && spec.hostname !== '') b.add('init', 'hostname', 'sethostname', { name: spec.hostname });
  if (spec.domainname !== undefined && spec.domainname !== '') b.add('init', 'domainname', 'setdomainname', { name: spec.domainname });

  // The root mount: propagation of / for the setup (see ROOTFS_PROPAGATION), rootfs bound onto itself.
  const propName = linux.rootfsPropagation ?? 'rslave';
  const prop = ROOTFS_PROPAGATION[propName];
  if (!prop) throw configError('linux.rootfsPropagation', `unknown propagation ${propName}`);
  const propLabel = linux.rootfsPropagation ? 'linux.rootfsPropagation' : 'rootfs propagation (default rslave)';
  const rootParent = facts.mountPoints && mountPointOf(ctx.rootfs, facts.mountPoints);
  const setup = prop.parentPrivate && !rootParent ? rec(MS.MS_SLAVE) : prop.setup;
  const propagate = (root: number, target: string, p: Propagation) =>
    b.add('init', propLabel, 'setattr', { root, target, attrSet: 0, attrClr: 0, propagation: p.type, recursive: p.recursive ? 1 : 0, missingOk: 0 });
  if (setup && !sharedMountNs) propagate(S.HOST, '/', setup);
  if (prop.parentPrivate && rootParent && rootParent !== '/' && !sharedMountNs) propagate(S.HOST, rootParent, one(MS.MS_PRIVATE));
  // NOFOLLOW: root.path swapped for a symlink after it was checked is refused, not followed
  b.add('init', 'root.path', 'bind', { root: S.HOST, target: ctx.rootfs, create: CREATE.NONE | CREATE.NOFOLLOW, sourceRoot: S.HOST, source: ctx.rootfs, recursive: 1, attrSet: 0, attrClr: 0, missingOk: 0 });
  createMountPointsAs(b, MOUNT_POINT_MODES);
  b.add('init', 'root.path', 'open', { path: ctx.rootfs, flags: O.O_PATH | O.O_DIRECTORY, mode: 0, slot: S.ROOT });
  // In the host's table, the setup propagation goes to the rootfs's own bind instead of /: the
  // container's mounts below it then reach no other mount (the bind itself may have propagated to
  // peers of a shared parent: unmounting it at delete removes those copies too).
  if (setup && sharedMountNs) propagate(S.ROOT, '/', setup);

  const mounts = spec.mounts ?? [];
  const dests = mounts.map((m) => posix.join('/', m.destination));
  const isBind = isBindMount;
  const setupDev = !mounts.some((m, i) => isBind(m) && dests[i] === '/dev');
  const readonlyLater: { label: string; dest: string }[] = [];
  mounts.forEach((m, i) => {
    const label = `mounts[${i}] ${dests[i]}`;
    compileMount(b, m, dests[i]!, label, ctx, facts, isNew('cgroup'), isBind(m), readonlyLater, trees.get(i));
  });

  if (setupDev) {
    const specDevices = linux.devices ?? [];
    const overridden = new Set(specDevices.map((d) => posix.join('/', d.path)));
    // An existing name: left alone for runc's defaults (as runc does); for linux.devices only when it
    // is that very device ("If a file already exists at path that does not match the requested
    // device, the runtime MUST generate an error"; runc 1.1.5 ignores it).
    const device = (label: string, path: string, typeBits: number, major: number, minor: number, mode: number, uid: number, gid: number, exists: number) => {
      if (userns) {
        // mknod is not allowed in a user namespace: bind the host's node instead.
        b.add('init', label, 'bind', { root: S.ROOT, target: path, create: CREATE.FILE, sourceRoot: S.HOST, source: path, recursive: 0, attrSet: 0, attrClr: 0, missingOk: 0 });
      } else {
        b.add('init', label, 'mknod', { root: S.ROOT, path, mode: typeBits | (mode & 0o7777), major, minor, uid, gid, exists });
      }
    };
    for (const d of DEFAULT_DEVICES) {
      if (!overridden.has(d.path)) device(`default device ${d.path}`, d.path, S_IF.S_IFCHR, d.major, d.minor, 0o666, 0, 0, EXISTS.OK);
    }
    specDevices.forEach((d, i) => {
      const path = posix.join('/', d.path);
      const typeBits = d.type === 'b' ? S_IF.S_IFBLK : d.type === 'p' ? S_IF.S_IFIFO : S_IF.S_IFCHR;
      device(`linux.devices[${i}] ${path}`, path, typeBits, d.major ?? 0, d.minor ?? 0, d.fileMode ?? 0o666, d.uid ?? 0, d.gid ?? 0, EXISTS.SAME);
    });
    b.add('init', 'default device /dev/ptmx', 'symlink', { root: S.ROOT, path: '/dev/ptmx', target: 'pts/ptmx', exists: EXISTS.REPLACE });
    for (const [path, target] of DEV_SYMLINKS) b.add('init', `default device ${path}`, 'symlink', { root: S.ROOT, path, target, exists: EXISTS.OK });
    if (facts.procKcore !== false) b.add('init', 'default device /dev/core', 'symlink', { root: S.ROOT, path: '/dev/core', target: '/proc/kcore', exists: EXISTS.OK });
  }

  // Hooks run by node while the init waits, after the mounts and before pivot_root (runc's order).
  const hooks = spec.hooks ?? {};
  if ((hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) > 0) {
    b.add('init', hooks.createRuntime?.length ? 'hooks.createRuntime' : 'hooks.prestart', 'sync', { name: 'createRuntime' });
  }
  // In the container's namespaces, run by the init: after the mounts, before pivot_root, so the
  // path is the runtime's view (as runc).
  hookSteps(b, hooks.createContainer, 'createContainer', ctx.containerState, 'creating');
  if (linux.seccomp !== undefined && !ctx.seccomp) throw new HakoError('linux.seccomp: the filter must be built before the plan (buildSeccompFilter)');
  if (linux.intelRdt !== undefined) {
    // "If intelRdt is set and no mounted resctrl pseudo-filesystem is available in the runtime mount
    // namespace, the runtime MUST generate an error" (runc 1.1.5 accepts a closID alone and ignores it).
    if (facts.resctrl === false) throw new HakoError('linux.intelRdt: is set but no resctrl filesystem is mounted on this host');
    throw new NotImplementedError('linux.intelRdt (Intel RDT / resctrl)');
  }

  if (sharedMountNs) b.add('init', 'root.path (no mount namespace)', 'chroot', { root: S.ROOT });
  else if (ctx.noPivot) {
    // Without pivot_root the host's mounts stay below the chroot, and a whole procfs or sysfs
    // there lets the container mount a fresh, unmasked one (the kernel allows it when a full one
    // is visible in the namespace). Detach them first, as runc does (slave first: not on the host).
    for (const mp of facts.fullProcSys ?? []) {
      if (mp === ctx.rootfs || mp.startsWith(`${ctx.rootfs}/`)) continue;
      b.add('init', `--no-pivot: host ${mp}`, 'setattr', { root: S.HOST, target: mp, attrSet: 0, attrClr: 0, propagation: MS.MS_SLAVE, recursive: 1, missingOk: 1 });
      b.add('init', `--no-pivot: host ${mp}`, 'umount', { path: mp, flags: MNT_DETACH, missingOk: 1 });
    }
    b.add('init', '--no-pivot', 'move_root', { root: S.ROOT });
  }
  else b.add('init', 'root.path', 'pivot_root', { root: S.ROOT });
  b.add('init', 'process.cwd', 'mkpath', { root: S.ROOT, path: posix.join('/', proc.cwd), create: CREATE.DIR });

  if (terminal) openTerminal(b, proc, S.ROOT, true);

  for (const r of readonlyLater) {
    b.add('init', r.label, 'setattr', { root: S.ROOT, target: r.dest, attrSet: MOUNT_ATTR.MOUNT_ATTR_RDONLY, attrClr: 0, propagation: 0, recursive: 0, missingOk: 0 });
  }
  if (spec.root?.readonly) {
    b.add('init', 'root.readonly', 'setattr', { root: S.ROOT, target: '/', attrSet: MOUNT_ATTR.MOUNT_ATTR_RDONLY, attrClr: 0, propagation: 0, recursive: 0, missingOk: 0 });
  }
  setUmask(b, proc);

  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    if (value === undefined) continue;
    b.add('init', `linux.sysctl ${key}`, 'write_file', { root: S.PROC, path: `sys/${key.replace(/\./g, '/')}`, content: value, missingOk: 0 });
  }
  (linux.readonlyPaths ?? []).forEach((p, i) => {
    const path = posix.join('/', p);
    b.add('init', `linux.readonlyPaths[${i}] ${path}`, 'bind', { root: S.ROOT, target: path, create: CREATE.NONE, sourceRoot: S.ROOT, source: path, recursive: 1, attrSet: MOUNT_ATTR.MOUNT_ATTR_RDONLY, attrClr: 0, missingOk: 1 });
  });
  (linux.maskedPaths ?? []).forEach((p, i) => {
    const path = posix.join('/', p);
    b.add('init', `linux.maskedPaths[${i}] ${path}`, 'mask', { root: S.ROOT, path, nullDevice: '/dev/null' });
  });
  if (linux.personality) {
    // LINUX32 is PER_LINUX32; no flag is defined by the spec yet (runc 1.2 takes none either).
    if (linux.personality.flags?.length) warnings.push(`linux.personality.flags ignored: ${linux.personality.flags.join(', ')} (no flag is supported)`);
    b.add('init', 'linux.personality', 'personality', { persona: linux.personality.domain === 'LINUX32' ? 0x0008 : 0x0000 });
  }
  // The root's own propagation, last of the mounts (an unbindable root can't be a bind source).
  if (prop.final) propagate(S.ROOT, '/', prop.final);
  finishProcess(
    b,
    proc,
    {
      preserveFds: ctx.preserveFds,
      rootless,
      waitFifo: true,
      seccomp: linux.seccomp === undefined ? undefined : ctx.seccomp,
      startHooks: hooks.startContainer,
      containerState: ctx.containerState,
      lsm: facts.lsm,
    },
    warnings,
  );
  for (const [field, why] of [
    ['linux.mountLabel', 'SELinux is not supported'],
    ['linux.memoryPolicy', 'not supported yet'],
    ['linux.netDevices', 'not supported yet'],
  ] as const) {
    if ((linux as Record<string, unknown>)[field.slice('linux.'.length)] !== undefined) warnings.push(`${field} ignored: ${why}`);
  }

  return { steps: b.steps, foreground: ctx.foreground, preserveFds: ctx.preserveFds, warnings };
}

// ---- process setup shared by create (compilePlan) and exec (exec.ts) ----

/** Joins namespaces by path, in the order given: every path is opened first (a later mount namespace would hide them). */
export function joinNamespaces(b: Builder, joins: readonly { label: string; type: string; path: string }[]): void {
  const S = SLOT;
  if (S.NS_BASE + joins.length > S.LISTENER) throw new HakoError('too many namespaces to join');
  joins.forEach((j, k) => b.add('executor', j.label, 'open', { path: j.path, flags: O_RDONLY, mode: 0, slot: S.NS_BASE + k }));
  joins.forEach((j, k) => {
    const nstype = NAMESPACE_FLAGS[j.type];
    if (nstype === undefined) throw new HakoError(`${j.label}: unknown namespace type ${j.type}`);
    b.add('executor', j.label, 'setns', { slot: S.NS_BASE + k, nstype });
  });
  joins.forEach((j, k) => b.add('executor', j.label, 'close', { slot: S.NS_BASE + k }));
}

/** process.oomScoreAdj, written by the executor for itself before any user namespace: the process inherits it. */
export function oomScoreAdj(b: Builder, value: number | undefined, label = 'process.oomScoreAdj'): void {
  if (value === undefined) return;
  b.add('executor', label, 'write_file', { root: SLOT.PROC, path: 'self/oom_score_adj', content: String(value), missingOk: 0 });
}

/** With process.terminal: the executor connects to the console socket (the process sends the pty master over it). */
export function connectConsole(b: Builder, proc: Process, consoleSocket: string | undefined): boolean {
  if (proc.terminal !== true) return false;
  if (!consoleSocket) throw new HakoError('process.terminal: a console socket is needed to hand over the terminal');
  b.add('executor', '--console-socket', 'connect', { path: consoleSocket, slot: SLOT.CONSOLE });
  return true;
}

/** Becomes root of the user namespace just joined or made: what it creates is owned by the container's root. */
export function becomeNamespaceRoot(b: Builder, label: string, rootless: boolean): void {
  b.add('init', label, 'setid', { uid: 0, gid: 0 });
  if (!rootless) b.add('init', label, 'setgroups', { gids: [] });
}

/**
 * A new pty from the `ptmx` under `root` (a slot, or HOST for the process's own root): the master
 * goes to the console socket, the slave becomes stdio and the controlling terminal; with
 * `console` it is also bound onto /dev/console (the container's init only).
 */
export function openTerminal(b: Builder, proc: Process, root: number, console: boolean): void {
  const S = SLOT;
  const size = proc.consoleSize;
  b.add('init', 'process.terminal', 'terminal', { root, ptmx: '/dev/ptmx', console: S.CONSOLE, rows: size?.height ?? 0, cols: size?.width ?? 0, slot: S.PTY });
  if (console) {
    // never through a symlink the image planted (CVE-2025-52565)
    b.add('init', 'process.terminal /dev/console', 'bind', { root, target: '/dev/console', create: CREATE.FILE | CREATE.NOFOLLOW, sourceRoot: S.PTY, source: '', recursive: 0, attrSet: 0, attrClr: 0, missingOk: 0 });
  }
  b.add('init', 'process.terminal', 'dup_stdio', { slot: S.PTY });
}

/**
 * Missing mount points (and the cwd) are created as runc creates directories: 0755, so a process of
 * any uid can reach what is mounted there. Files get 0644 (runc: 0755; a bind covers it anyway).
 */
export const MOUNT_POINT_MODES = Object.freeze({ dir: 0o755, file: 0o644 });

/** The setup runs with umask 0 so the modes are exactly these, whatever umask hako's caller had; process.user.umask comes later. */
function createMountPointsAs(b: Builder, modes: { dir: number; file: number }): void {
  const label = 'missing mount points';
  b.add('init', label, 'umask', { mask: 0 });
  b.add('init', label, 'create_modes', modes);
}

export function setUmask(b: Builder, proc: Process): void {
  b.add('init', proc.user?.umask === undefined ? 'umask (default 0022)' : 'process.user.umask', 'umask', { mask: proc.user?.umask ?? 0o022 });
}

export interface FinishOptions {
  preserveFds: number;
  rootless: boolean;
  /** create: the process waits on the exec fifo after `ready`; exec: it runs at once. */
  waitFifo: boolean;
  seccomp?: SeccompFilter;
  /** the host's labelling LSMs (process.apparmorProfile, selinuxLabel) */
  lsm?: { apparmor: boolean; selinux: boolean };
  /** create: hooks.startContainer, run after the go-ahead and before execve (their path is the container's) */
  startHooks?: Hook[];
  containerState?: ContainerState;
}

// Where the init splices its host pid into a JSON text it hands out.
const PID_MARK = 2147483647;

/** The JSON text without its PID_MARKs, and where each was (the init writes its pid there). */
function withPidMarks(value: unknown): { text: string; at: number[] } {
  const parts = JSON.stringify(value).split(String(PID_MARK));
  const at: number[] = [];
  let text = parts[0]!;
  for (const part of parts.slice(1)) {
    at.push(text.length);
    text += part;
  }
  return { text, at };
}

/** The container process state a seccomp agent gets with the listener fd (config-linux.md, Seccomp). */
function agentMessage(metadata: string, state: ContainerState | undefined, status: string): unknown {
  if (!state) throw new HakoError('linux.seccomp.listenerPath: the container state is needed');
  const { ociVersion, id, ...rest } = state;
  return { ociVersion, fds: ['seccompFd'], pid: PID_MARK, metadata, state: { ociVersion, id, status, pid: PID_MARK, ...rest } };
}

/** SCMP_ACT_NOTIFY: the agent's socket is a host path, connected before any namespace is entered. */
export function connectSeccompAgent(b: Builder, seccomp: SeccompFilter | undefined): void {
  if (seccomp?.listener) b.add('executor', 'linux.seccomp.listenerPath', 'connect', { path: seccomp.listener.path, slot: SLOT.LISTENER });
}

/** One run_hook step per hook: the state JSON on stdin, its pid left for the init to fill in. */
function hookSteps(b: Builder, hooks: Hook[] | undefined, kind: 'createContainer' | 'startContainer', state: ContainerState | undefined, status: string): void {
  if (!hooks?.length) return;
  if (!state) throw new HakoError(`hooks.${kind}: the container state is needed to run them`);
  const { ociVersion, id, ...rest } = state;
  const { text: stdin, at: [at] } = withPidMarks({ ociVersion, id, status, pid: PID_MARK, ...rest }); // the spec's key order
  hooks.forEach((hook, i) => {
    const name = `hooks.${kind}[${i}]: ${hook.path}`;
    b.add('init', `hooks.${kind}[${i}] ${hook.path}`, 'run_hook', { name, path: hook.path, stdin, pidAt: at!, timeout: hook.timeout ?? 0, args: [...(hook.args ?? [])], env: [...(hook.env ?? [])] });
  });
}

/**
 * The end of every process's setup, in runc's order (finalizeNamespace): no_new_privs, rlimits,
 * fds closed on exec but stdio and the preserved ones, bounding set, user and groups, capabilities,
 * cwd, the binary found, `ready`, then execve. Warns about the process fields hako ignores.
 */
export function finishProcess(b: Builder, proc: Process, opts: FinishOptions, warnings: string[]): void {
  const args = proc.args ?? [];
  if (args.length === 0) throw configError('process.args', 'must be a non-empty array');
  const env = proc.env ?? [];
  if (proc.noNewPrivileges) b.add('init', 'process.noNewPrivileges', 'no_new_privs', {});
  (proc.rlimits ?? []).forEach((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw configError(`process.rlimits[${i}].type`, `unknown resource limit ${r.type}`);
    b.add('init', `process.rlimits[${i}] ${r.type}`, 'setrlimit', { resource, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) });
  });

  // exec only (the spec: not for the init): `initial` was set on the executor by the runtime before
  // it joined the cgroup; the process gets `final` now that it is in (every CPU when absent).
  if (!opts.waitFifo && proc.execCPUAffinity) {
    b.add('init', 'process.execCPUAffinity.final', 'affinity', { mask: cpuListMask(proc.execCPUAffinity.final, 'process.execCPUAffinity.final') });
  }
  // While the process is still root with every capability (an RT policy or a negative nice needs CAP_SYS_NICE).
  if (proc.scheduler) b.add('init', 'process.scheduler', 'sched', schedulerArgs(proc.scheduler));
  if (proc.ioPriority) b.add('init', 'process.ioPriority', 'ioprio', { value: ioPriorityValue(proc.ioPriority) });
  // LSM labels for the next execve, written while the process may still write its own attributes.
  // Without the LSM runc fails (apparmor: writing attr/exec gives EINVAL; selinux: refused up front).
  if (proc.apparmorProfile) {
    if (!opts.lsm?.apparmor) throw configError('process.apparmorProfile', 'AppArmor is not enabled on this host: the profile cannot be applied (runc fails too)');
    b.add('init', 'process.apparmorProfile', 'write_file', { root: SLOT.PROC, path: 'thread-self/attr/apparmor/exec', content: `exec ${proc.apparmorProfile}`, missingOk: 0 });
  }
  if (proc.selinuxLabel) {
    if (!opts.lsm?.selinux) throw configError('process.selinuxLabel', 'selinux label is specified in config, but selinux is disabled or not supported');
    b.add('init', 'process.selinuxLabel', 'write_file', { root: SLOT.PROC, path: 'thread-self/attr/exec', content: proc.selinuxLabel, missingOk: 0 });
  }
  // runc: HOME from the container's /etc/passwd for the process's uid ("/" without an entry) when env has none.
  if (!env.some((e) => e.startsWith('HOME='))) b.add('init', 'HOME (process.env has none)', 'default_home', { uid: proc.user?.uid ?? 0 });

  // runc gives a non-root process its stdio; hako only what is the container's own (its pty, pipes).
  const stdioOwner = proc.user?.uid ?? 0;
  if (stdioOwner !== 0) b.add('init', 'process.user (stdio owner)', 'chown_stdio', { uid: stdioOwner, pty: proc.terminal ? 1 : 0 });

  // From here on nothing of ours or of our caller's must reach the process but the preserved fds.
  b.add('init', '--preserve-fds', 'close_fds', { first: 3 + opts.preserveFds });
  const caps = proc.capabilities ?? {};
  b.add('init', 'process.capabilities.bounding', 'cap_bounding', { keep: capMask(caps.bounding, 'process.capabilities.bounding', warnings) });
  // runc: into the cwd first as root (a folder only root may enter), again as the user if refused
  // (a folder only the user may enter, e.g. root-squashed NFS).
  b.add('init', 'process.cwd (as root)', 'chdir', { path: posix.join('/', proc.cwd), early: 1 });
  b.add('init', 'process.user', 'keepcaps', { on: 1 });
  const uid = proc.user?.uid ?? 0;
  const gid = proc.user?.gid ?? 0;
  if (!opts.rootless) b.add('init', 'process.user.additionalGids', 'setgroups', { gids: [...(proc.user?.additionalGids ?? [])] });
  b.add('init', 'process.user', 'setid', { uid, gid });
  b.add('init', 'process.user', 'keepcaps', { on: 0 });
  const sets = {
    effective: capMask(caps.effective, 'process.capabilities.effective', warnings),
    permitted: capMask(caps.permitted, 'process.capabilities.permitted', warnings),
    inheritable: capMask(caps.inheritable, 'process.capabilities.inheritable', warnings),
  };
  // The seccomp filter is loaded right before execve. Without no_new_privs that load needs
  // CAP_SYS_ADMIN: the process keeps it until then and gets its real sets right after the load.
  const keepAdmin = opts.seccomp !== undefined && !proc.noNewPrivileges;
  const admin = 2 ** CAPABILITIES.CAP_SYS_ADMIN!;
  const withAdmin = (mask: number) => (keepAdmin ? Number(BigInt(mask) | BigInt(admin)) : mask);
  b.add('init', keepAdmin ? 'process.capabilities (CAP_SYS_ADMIN kept until seccomp is loaded)' : 'process.capabilities', 'capset', {
    ...sets,
    effective: withAdmin(sets.effective),
    permitted: withAdmin(sets.permitted),
  });
  if (caps.ambient?.length) {
    // The kernel raises an ambient capability only if it is permitted and inheritable too; runc logs
    // the others and goes on (a `runc spec` bundle lists ambient capabilities that are not inheritable).
    const wanted = capMask(caps.ambient, 'process.capabilities.ambient', warnings);
    const raise = Number(BigInt(wanted) & BigInt(sets.permitted) & BigInt(sets.inheritable));
    const dropped = (caps.ambient ?? []).filter((c) => CAPABILITIES[c] !== undefined && !((BigInt(raise) >> BigInt(CAPABILITIES[c]!)) & 1n));
    if (dropped.length) warnings.push(`process.capabilities.ambient: ${dropped.join(', ')} not raised: an ambient capability must also be permitted and inheritable`);
    if (raise) b.add('init', 'process.capabilities.ambient', 'ambient', { raise });
  }
  b.add('init', 'process.cwd', 'chdir', { path: posix.join('/', proc.cwd), early: 0 });
  b.add('init', `process.args[0] ${JSON.stringify(args[0])}`, 'find_exec', { candidates: execCandidates(args[0]!, env) });
  if (opts.seccomp) {
    const listener = opts.seccomp.listener;
    const message = listener ? withPidMarks(agentMessage(listener.metadata, opts.containerState, opts.waitFifo ? 'creating' : 'running')) : { text: '', at: [] };
    b.add('init', 'linux.seccomp (armed: loaded right before execve)', 'seccomp', {
      filter: opts.seccomp.bpf,
      flags: opts.seccomp.flags,
      setCaps: keepAdmin ? 1 : 0,
      ...sets,
      listener: listener ? SLOT.LISTENER : -1,
      message: message.text,
      pidAt: message.at,
    });
  }
  b.add('init', 'ready', 'ready', {});
  if (opts.waitFifo) {
    b.add('init', 'exec fifo', 'wait_fifo', { slot: SLOT.FIFO });
    hookSteps(b, opts.startHooks, 'startContainer', opts.containerState, 'created');
    b.add('init', 'exec fifo', 'started', {});
  }
  b.add('init', 'process.args', 'exec', { args: [...args], env: [...env] });

  if (opts.waitFifo && proc.execCPUAffinity !== undefined) warnings.push('process.execCPUAffinity ignored: not for the container init (runtime-spec: exec only)');
}

const SCHED_POLICY: Readonly<Record<string, number>> = { SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6 };
const SCHED_FLAG: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
const IOPRIO_CLASS: Readonly<Record<string, number>> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

/** process.scheduler → sched_setattr's fields. */
export function schedulerArgs(s: NonNullable<Process['scheduler']>): OpArgs<'sched'> {
  let flags = 0;
  for (const f of s.flags ?? []) flags |= SCHED_FLAG[f] ?? 0;
  return { policy: SCHED_POLICY[s.policy]!, flags, nice: s.nice ?? 0, priority: s.priority ?? 0, runtime: s.runtime ?? 0, deadline: s.deadline ?? 0, period: s.period ?? 0 };
}

/** process.ioPriority → ioprio_set's value: class << 13 | level (0-7). */
export function ioPriorityValue(p: NonNullable<Process['ioPriority']>): number {
  const level = p.priority ?? 0;
  if (level < 0 || level > 7) throw configError('process.ioPriority.priority', `must be 0 to 7, not ${level}`);
  return (IOPRIO_CLASS[p.class]! << 13) | level;
}

function isBindMount(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function resolveSource(source: string, bundle: string): string {
  return posix.isAbsolute(source) ? posix.normalize(source) : posix.join(bundle, source);
}

/** overlay: lowerdir/upperdir/workdir relative to the bundle, as the spec says for sources. */
function overlayData(data: string[], bundle: string): string[] {
  return data.map((opt) => {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    if (key === 'lowerdir') return `lowerdir=${opt.slice(eq + 1).split(':').map((d) => resolveSource(d, bundle)).join(':')}`;
    if (key === 'upperdir' || key === 'workdir') return `${key}=${resolveSource(opt.slice(eq + 1), bundle)}`;
    return opt;
  });
}

function compileMount(
  b: Builder,
  m: Mount,
  dest: string,
  label: string,
  ctx: PlanContext,
  facts: HostFacts,
  cgroupns: boolean,
  bind: boolean,
  readonlyLater: { label: string; dest: string }[],
  /** the slot where the executor put this bind's source, opened on the host (a new user namespace) */
  treeSlot?: number,
): void {
  const S = SLOT;
  const p = parseMountOptions(m.options ?? []);
  if (p.unsupported.length > 0) throw new HakoError(`${label}: ${p.unsupported.join('; ')}`);
  if (m.uidMappings !== undefined || m.gidMappings !== undefined) throw new HakoError(`${label}: idmapped mounts are not supported`);
  const propagate = () => {
    for (const pr of p.propagation) {
      b.add('init', label, 'setattr', { root: S.ROOT, target: dest, attrSet: 0, attrClr: 0, propagation: pr.type, recursive: pr.recursive ? 1 : 0, missingOk: 0 });
    }
    if (p.recursive.set || p.recursive.clr) {
      b.add('init', label, 'setattr', { root: S.ROOT, target: dest, attrSet: p.recursive.set, attrClr: p.recursive.clr, propagation: 0, recursive: 1, missingOk: 0 });
    }
  };

  if (bind) {
    if (!m.source) throw configError(`${label.replace(/ .*/, '')}.source`, 'is required for a bind mount');
    const attrs = bindAttributes(p);
    b.add(
      'init',
      label,
      'bind',
      treeSlot === undefined
        ? {
            root: S.ROOT,
            target: dest,
            create: CREATE.LIKE_SOURCE,
            sourceRoot: S.HOST,
            source: resolveSource(m.source, ctx.bundle),
            recursive: p.flags & MS.MS_REC ? 1 : 0,
            attrSet: attrs.set,
            attrClr: attrs.clr,
            missingOk: 0,
          }
        : { root: S.ROOT, target: dest, create: CREATE.LIKE_SOURCE, sourceRoot: treeSlot, source: '', recursive: BIND_DETACHED_TREE, attrSet: 0, attrClr: 0, missingOk: 0 },
    );
    propagate();
    return;
  }

  const type = m.type ?? '';
  if (type === 'cgroup') {
    compileCgroupMount(b, m, dest, label, p.flags, facts, cgroupns);
    propagate();
    return;
  }
  let flags = p.flags & ~MS.MS_REC;
  // /dev is mounted writable so the devices can be made; made read-only once they are.
  if (dest === '/dev' && flags & MS.MS_RDONLY) {
    flags &= ~MS.MS_RDONLY;
    readonlyLater.push({ label, dest });
  }
  const data = type === 'overlay' ? overlayData(p.data, ctx.bundle) : p.data;
  if (p.tmpcopyup) {
    if (type !== 'tmpfs') throw new HakoError(`${label}: tmpcopyup: only a tmpfs can take the image's content`);
    // a detached tmpfs, filled from the destination, then moved onto it (runc's tmpcopyup)
    const attrs = bindAttributes(p);
    b.add('init', label, 'tmpfs_copyup', { root: S.ROOT, target: dest, attrSet: attrs.set, attrClr: attrs.clr, options: [`source=${m.source ?? 'tmpfs'}`, ...data] });
    propagate();
    return;
  }
  b.add('init', label, 'mount', {
    root: S.ROOT,
    target: dest,
    // proc and sysfs only on an ordinary directory, never through a symlink (CVE-2019-16884 class)
    create: (flags & MS.MS_REMOUNT ? CREATE.NONE : CREATE.DIR) | (type === 'proc' || type === 'sysfs' ? CREATE.NOFOLLOW : 0),
    source: m.source ?? '',
    fstype: type,
    flags,
    data: data.join(','),
  });
  propagate();
}

/** cgroup v2: one cgroup2 mount. v1: a tmpfs with one mount (or bind) per hierarchy, as runc does. */
function compileCgroupMount(b: Builder, m: Mount, dest: string, label: string, flags: number, facts: HostFacts, cgroupns: boolean): void {
  const S = SLOT;
  const cg = facts.cgroup ?? { version: 2 as const };
  const ro = flags & MS.MS_RDONLY;
  if (cg.version === 2) {
    b.add('init', label, 'mount', { root: S.ROOT, target: dest, create: CREATE.DIR, source: m.source ?? 'cgroup', fstype: 'cgroup2', flags: flags & ~MS.MS_REC, data: '' });
    return;
  }
  b.add('init', label, 'mount', { root: S.ROOT, target: dest, create: CREATE.DIR, source: 'tmpfs', fstype: 'tmpfs', flags: CGROUP_V1_FLAGS, data: 'mode=755' });
  for (const h of cg.hierarchies) {
    const target = posix.join(dest, h.name);
    if (cgroupns) {
      const systemd = h.name === 'systemd';
      b.add('init', label, 'mount', {
        root: S.ROOT,
        target,
        create: CREATE.DIR,
        source: systemd ? 'systemd' : 'cgroup',
        fstype: 'cgroup',
        flags: CGROUP_V1_FLAGS | ro,
        data: systemd ? 'name=systemd' : h.name,
      });
    } else {
      if (!h.hostPath) throw new HakoError(`${label}: the host path of the container's ${h.name} cgroup is unknown (no cgroup namespace)`);
      b.add('init', label, 'bind', {
        root: S.ROOT,
        target,
        create: CREATE.DIR,
        sourceRoot: S.HOST,
        source: h.hostPath,
        recursive: 0,
        attrSet: MOUNT_ATTR.MOUNT_ATTR_NOEXEC | MOUNT_ATTR.MOUNT_ATTR_NOSUID | MOUNT_ATTR.MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR.MOUNT_ATTR_RDONLY : 0),
        attrClr: 0,
        missingOk: 0,
      });
    }
    // Co-mounted controllers (cpu,cpuacct) are also reachable by each name.
    if (h.name.includes(',')) {
      for (const sub of h.name.split(',')) {
        b.add('init', label, 'symlink', { root: S.ROOT, path: posix.join(dest, sub), target: h.name, exists: EXISTS.OK });
      }
    }
  }
  if (ro) b.add('init', label, 'setattr', { root: S.ROOT, target: dest, attrSet: MOUNT_ATTR.MOUNT_ATTR_RDONLY, attrClr: 0, propagation: 0, recursive: 0, missingOk: 0 });
}

