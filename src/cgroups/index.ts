// cgroups: one CgroupManager over cgroup v1, v2 and hybrid hosts. Plain node:fs, synchronous where
// it can be, nothing heavy at import.
//
//   const cg = cgroupManagerFor({ id, cgroupsPath: spec.linux?.cgroupsPath, systemd: flags.systemdCgroup });
//   saveState({ cgroups: cg.intent() });    // what create() will make, recorded before it makes it
//   const created = cg.create();            // mkdir everywhere (processes already there: foreign)
//   cg.apply(spec.linux?.resources ?? {}, { devices: spec.linux?.devices }); // limits; returns warnings
//   cg.addProcess(executorPid);             // before the executor clones the init
//   saveState({ cgroups: cg.state() });     // { mode, paths, created }
//   …
//   const cg = loadCgroupManager(state.cgroups);   // pause/resume/ps/kill/delete: no re-resolving
//   await cg.freeze(); await cg.thaw(); cg.isFrozen(); cg.pids();
//   await cg.killAll('SIGTERM'); await cg.killAll();          // SIGKILL waits until empty
//   const warnings = await cg.destroy({ kill: force });   // removes only what create() made
//
// Modes: v1 = one directory per mounted hierarchy (paths keyed by controller, comounted ones share
// a directory; named ones like name=systemd included); v2 = one directory under the cgroup2 mount
// (key `unified`), with the controllers enabled down the ancestors; hybrid = both, the cgroup2
// hierarchy (/sys/fs/cgroup/unified) used for pids and cgroup.kill, the v1 freezer for pause.
// Path policy (runc's cgroupfs driver): see path.ts.

import type { CgroupHost, CgroupMode, HostOptions } from './host.ts';
import { readHost, readProcSelfCgroup, systemdRunning } from './host.ts';
import { checkSystemdDriver, resolveCgroupPaths, UNIFIED } from './path.ts';
import { Manager } from './manager.ts';
import type { CgroupManager, CgroupState } from './types.ts';
import { HakoError } from '../errors.ts';

export type { CgroupManager, CgroupState, DestroyOptions, KillOptions } from './types.ts';
export type { CgroupHost, CgroupMode, HostOptions, V1Hierarchy, UnifiedHierarchy } from './host.ts';
export { detectCgroupMode, parseMountinfo, parseProcCgroup, readHost } from './host.ts';
export { cleanCgroupPath, parseSystemdCgroupPath, resolveCgroupPaths, UNIFIED } from './path.ts';
export type { ApplyOptions } from './resources.ts';
export { DEFAULT_DEVICE_RULES } from './resources.ts';
export { cpuSharesToWeight, cpuSharesToWeightLegacy, blkioWeightToIoWeight, memorySwapToV2 } from './convert.ts';

export interface CgroupManagerOptions extends HostOptions {
  /** Container id: the default cgroup name when cgroupsPath is empty. */
  id: string;
  /** `linux.cgroupsPath` from config.json. */
  cgroupsPath?: string | undefined;
  /** `--systemd-cgroup`. */
  systemd?: boolean | undefined;
  /** Tests: whether systemd manages this host; default: /run/systemd/system exists. */
  systemdAvailable?: boolean;
  /** Tests: a host description instead of reading /proc/self/mountinfo. */
  host?: CgroupHost;
}

/** A manager for a new container: resolves the path in every hierarchy of this host. */
export function cgroupManagerFor(opts: CgroupManagerOptions): CgroupManager {
  if (opts.systemd) checkSystemdDriver(opts, opts.systemdAvailable ?? systemdRunning());
  const host = opts.host ?? readHost(opts);
  const paths = resolveCgroupPaths(host, opts, () => readProcSelfCgroup(opts));
  return new Manager(host.mode, paths, [], host.unified?.mountPoint);
}

/** A manager from what state() returned at create (mode inferred from the keys when absent). */
export function loadCgroupManager(saved: Partial<CgroupState> & Pick<CgroupState, 'paths'>): CgroupManager {
  const keys = Object.keys(saved.paths);
  if (keys.length === 0) throw new HakoError('cgroup: the saved state has no cgroup paths');
  const inferred: CgroupMode = !keys.includes(UNIFIED) ? 'v1' : keys.length === 1 ? 'v2' : 'hybrid';
  // foreign: [] for a record from before it was kept (then every process in the cgroup is the container's).
  return new Manager(saved.mode ?? inferred, saved.paths, saved.created ?? [], undefined, saved.foreign ?? []);
}
