// cgroup v1: one directory per mounted hierarchy (comounted controllers such as cpu,cpuacct share
// one), named hierarchies (name=systemd) included. Freezing uses the freezer hierarchy.

import { dirname } from 'node:path';
import { HakoError } from '../errors.ts';
import {
  readCgroupFile,
  readCgroupFileIfExists,
  readProcsRecursive,
  sleep,
  writeCgroupFile,
  writePid,
} from './fsutil.ts';
import { makeCgroupDirs } from './tree.ts';

/** Order of preference for the hierarchy that answers "which processes are in the container". */
const PRIMARY = ['freezer', 'devices', 'pids', 'memory', 'cpu', 'name=systemd'];

export class V1Cgroups {
  /** controller -> directory (only v1 keys). */
  readonly paths: Readonly<Record<string, string>>;

  constructor(paths: Record<string, string>) {
    this.paths = paths;
  }

  /** Distinct directories (comounted controllers appear once). */
  dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  dir(controller: string): string | undefined {
    return this.paths[controller];
  }

  primaryDir(): string | undefined {
    for (const c of PRIMARY) {
      const d = this.paths[c];
      if (d) return d;
    }
    return this.dirs()[0];
  }

  create(created: string[]): void {
    for (const d of this.dirs()) {
      makeCgroupDirs(d, created);
      if (d === this.paths.cpuset) fillCpuset(d);
    }
  }

  addProcess(pid: number): void {
    for (const d of this.dirs()) writePid(d, pid);
  }

  pids(): number[] {
    const d = this.primaryDir();
    return d ? readProcsRecursive(d) : [];
  }

  async freeze(): Promise<void> {
    const d = this.requireFreezer('freeze');
    await freezeV1(d);
  }

  thaw(): void {
    const d = this.paths.freezer;
    if (d) writeCgroupFile(d, 'freezer.state', 'THAWED');
  }

  /** FROZEN by this cgroup's own request (not only through a frozen ancestor), like runc. */
  isFrozen(): boolean {
    const d = this.paths.freezer;
    if (!d) return false;
    const state = readCgroupFileIfExists(d, 'freezer.state');
    if (state !== 'FROZEN') return false;
    return readCgroupFileIfExists(d, 'freezer.self_freezing') !== '0';
  }

  hasFreezer(): boolean {
    return this.paths.freezer !== undefined;
  }

  private requireFreezer(what: string): string {
    const d = this.paths.freezer;
    if (!d) throw new HakoError(`cgroup: cannot ${what}: no freezer cgroup hierarchy is mounted`);
    return d;
  }
}

/**
 * A new v1 cpuset cgroup starts with empty cpuset.cpus/mems, and a process cannot join it
 * (ENOSPC) until they are set: copy them from the parent, top-down, where empty, into `dir` and
 * every ancestor up to the hierarchy's root, existing ones included (runc's ensureParent).
 */
function fillCpuset(dir: string): void {
  const dirs: string[] = [];
  for (let d = dir; readCgroupFileIfExists(d, 'cpuset.cpus') !== undefined; d = dirname(d)) {
    dirs.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of dirs) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const cur = readCgroupFileIfExists(d, file);
      if (cur === undefined || cur.trim() !== '') continue;
      const parent = readCgroupFileIfExists(dirname(d), file);
      if (parent !== undefined && parent.trim() !== '') writeCgroupFile(d, file, parent);
    }
  }
}

/**
 * Write FROZEN and wait for freezer.state to settle. A v1 freeze can stay in FREEZING while
 * processes keep forking; like runc, retry, and thaw-and-retry every so often. On failure the
 * cgroup is thawed again: a half-frozen container is worse than a running one.
 */
async function freezeV1(dir: string): Promise<void> {
  try {
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeCgroupFile(dir, 'freezer.state', 'THAWED');
        await sleep(10);
      }
      writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      if (i > 0) await sleep(1);
      const state = readCgroupFile(dir, 'freezer.state').trim();
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING') throw new HakoError(`cgroup: unexpected freezer state ${state} while freezing ${dir}`);
    }
    throw new HakoError(`cgroup: unable to freeze ${dir}: still FREEZING`);
  } catch (err) {
    try {
      writeCgroupFile(dir, 'freezer.state', 'THAWED');
    } catch {
      // the original error matters more
    }
    throw err;
  }
}
