// The CgroupManager: v1 (V1Cgroups), v2 (V2Cgroup) or hybrid (both: every v1 hierarchy, plus the
// cgroup2 hierarchy at /sys/fs/cgroup/unified for process tracking and cgroup.kill).
// See index.ts for the interface contract.

import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname } from 'node:path';
import type { LinuxResources } from '../spec/types.ts';
import { HakoError } from '../errors.ts';
import { readProcStat } from '../linux/procstat.ts';
import { errnoCode, readProcs, sleep, subCgroups, tryRmdir } from './fsutil.ts';
import type { CgroupMode } from './host.ts';
import { UNIFIED } from './path.ts';
import { removeCreatedParents, removeOwnedCgroup } from './tree.ts';
import { V1Cgroups } from './v1.ts';
import { V2Cgroup } from './v2.ts';
import { applyV1, applyV2 } from './resources.ts';
import type { ApplyOptions } from './resources.ts';
import type { CgroupManager, CgroupState, KillOptions, DestroyOptions } from './types.ts';

type ForeignProcess = NonNullable<CgroupState['foreign']>[number];

export class Manager implements CgroupManager {
  readonly mode: CgroupMode;
  readonly paths: Readonly<Record<string, string>>;
  private readonly createdDirs: string[];
  private readonly v1: V1Cgroups | undefined;
  private readonly v2: V2Cgroup | undefined;

  /** The cgroup2 mount point, known for a new container on a pure v2 host (create enables controllers). */
  private readonly unifiedMount: string | undefined;

  /**
   * Processes found in the cgroup before the container's (a shared cgroup). A new manager reads
   * them at intent() or create(); a manager loaded from state gets the recorded ones.
   */
  private foreign: ForeignProcess[] | undefined;

  constructor(mode: CgroupMode, paths: Record<string, string>, created: string[] = [], unifiedMount?: string, foreign?: ForeignProcess[]) {
    this.mode = mode;
    this.foreign = foreign === undefined ? undefined : [...foreign];
    this.unifiedMount = mode === 'v2' ? unifiedMount : undefined;
    this.paths = Object.freeze({ ...paths });
    this.createdDirs = [...created];
    const v1Paths: Record<string, string> = {};
    for (const [k, v] of Object.entries(paths)) if (k !== UNIFIED) v1Paths[k] = v;
    this.v1 = mode === 'v2' ? undefined : new V1Cgroups(v1Paths);
    const u = paths[UNIFIED];
    this.v2 = u === undefined ? undefined : new V2Cgroup(u);
    if (mode === 'v2' && !this.v2) throw new HakoError('cgroup: no cgroup2 path for a cgroup v2 host');
  }

  get created(): readonly string[] {
    return this.createdDirs;
  }

  intent(): CgroupState {
    this.foreignNow();
    return { ...this.state(), created: [...this.createdDirs, ...this.missingDirs()] };
  }

  create(): string[] {
    // A cgroup that already holds processes is shared (runc warns and goes on; the caller warns):
    // those processes are remembered as not the container's.
    this.foreignNow();
    // Not behind exists(): that looks at one hierarchy (unified on a hybrid host), the freezer dir may exist alone (runc).
    if (this.isFrozen()) throw new HakoError(`container's cgroup unexpectedly frozen`);
    const before = this.createdDirs.length;
    try {
      this.v1?.create(this.createdDirs);
      this.v2?.create(this.createdDirs, this.unifiedMount);
    } catch (err) {
      // Leave nothing half-made behind: remove what this call created, deepest first.
      const mine = this.createdDirs.splice(before);
      removeCreatedParents(mine, new Set());
      throw err;
    }
    return this.createdDirs.slice(before);
  }

  addProcess(pid: number): void {
    this.v1?.addProcess(pid);
    this.v2?.addProcess(pid);
  }

  pids(): number[] {
    return this.v2 ? this.v2.pids() : (this.v1?.pids() ?? []);
  }

  ownPids(): number[] {
    const foreign = this.foreign ?? [];
    const procs = this.leafProcs();
    if (foreign.length === 0) return procs;
    return procs.filter((pid) => !foreign.some((f) => f.pid === pid && readProcStat(pid)?.startTime === f.startTime));
  }

  /** Pids in the cgroup itself, not in its sub-cgroups. */
  private leafProcs(): number[] {
    const dir = this.v2?.dir ?? this.v1?.primaryDir();
    return dir === undefined ? [] : readProcs(dir);
  }

  private foreignNow(): ForeignProcess[] {
    if (this.foreign === undefined) {
      this.foreign = [];
      for (const pid of this.leafProcs()) {
        const stat = readProcStat(pid);
        if (stat) this.foreign.push({ pid, startTime: stat.startTime });
      }
    }
    return this.foreign;
  }

  /** One directory per hierarchy (comounted v1 controllers share one). */
  private leaves(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  /** What mkdir -p of every leaf would make now, top-down, each once. */
  private missingDirs(): string[] {
    const seen = new Set(this.createdDirs);
    const out: string[] = [];
    for (const leaf of this.leaves()) {
      const missing: string[] = [];
      for (let d = leaf; d !== '/' && !existsSync(d); d = dirname(d)) missing.unshift(d);
      for (const d of missing) {
        if (seen.has(d)) continue;
        seen.add(d);
        out.push(d);
      }
    }
    return out;
  }

  exists(): boolean {
    const dir = this.v2?.dir ?? this.v1?.primaryDir();
    return dir !== undefined && existsSync(dir);
  }

  async freeze(opts: { timeoutMs?: number } = {}): Promise<void> {
    // Hybrid freezes with the v1 freezer, like runc: that is where a v1-era client looks.
    if (this.v1?.hasFreezer()) return this.v1.freeze();
    if (this.v2) return this.v2.freeze(opts.timeoutMs);
    throw new HakoError('cgroup: cannot freeze: no freezer cgroup hierarchy is mounted');
  }

  async thaw(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.v1?.hasFreezer()) return this.v1.thaw();
    if (this.v2) return this.v2.thaw(opts.timeoutMs);
  }

  isFrozen(): boolean {
    if (this.v1?.hasFreezer()) return this.v1.isFrozen();
    return this.v2?.isFrozen() ?? false;
  }

  async killAll(signal: NodeJS.Signals | number = 'SIGKILL', opts: KillOptions = {}): Promise<void> {
    const sig = typeof signal === 'number' ? signal : osConstants.signals[signal];
    if (sig === undefined) throw new HakoError(`cgroup: unknown signal ${String(signal)}`);
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (sig !== osConstants.signals.SIGKILL) {
      for (const pid of this.ownPids()) signalPid(pid, sig);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    // cgroup.kill kills the whole subtree: only when nothing below or beside the container's own is there.
    if (this.v2?.canKill() && subCgroups(this.v2.dir).length === 0 && this.ownPids().length === this.leafProcs().length) {
      this.v2.kill();
      // Tasks frozen by the v1 freezer (hybrid) only die once thawed.
      if (this.v1?.isFrozen()) this.v1.thaw();
      if (await this.waitEmpty(deadline)) return;
    }
    // No cgroup.kill: freeze so nothing forks between listing and signalling, signal, thaw, repeat.
    for (;;) {
      let froze = false;
      if (!this.isFrozen() && (this.v1?.hasFreezer() || this.v2?.canFreeze())) {
        try {
          await this.freeze();
          froze = true;
        } catch {
          // a freezer stuck in FREEZING: signal anyway
        }
      }
      for (const pid of this.ownPids()) signalPid(pid, sig);
      if (froze || this.isFrozen()) await this.thaw();
      if (await this.waitEmpty(Math.min(deadline, Date.now() + 100))) return;
      if (Date.now() >= deadline) {
        throw new HakoError(`cgroup: processes still running after SIGKILL: ${this.ownPids().join(' ')}`);
      }
    }
  }

  async destroy(opts: DestroyOptions = {}): Promise<string[]> {
    const errors: string[] = [];
    const warnings: string[] = [];
    const timeoutMs = opts.timeoutMs ?? 2000;
    if (opts.kill) {
      try {
        await this.killAll('SIGKILL', { timeoutMs });
      } catch (err) {
        errors.push((err as Error).message);
      }
    } else if (!opts.othersMayRemain && !(await this.waitEmpty(Date.now() + Math.min(timeoutMs, 500)))) {
      // rmdir would only fail with EBUSY, hierarchy after hierarchy: say why, once, and keep it all.
      const n = this.ownPids().length;
      throw new HakoError(`cgroup: cannot remove ${this.v2?.dir ?? this.v1?.primaryDir()}: device or resource busy (${n} process(es) still running)`);
    }
    const leaves = new Set(this.leaves());
    const created = new Set(this.createdDirs);
    // The hierarchies at once: a busy one waits out its retries (~150 ms) in parallel with the others.
    const results = await Promise.all(
      [...leaves].map(async (leaf) => {
        if (created.has(leaf)) return removeOwnedCgroup(leaf, opts.othersMayRemain === true);
        // A cgroup that existed before create is not ours; one we shared with another container's
        // processes goes once it is empty (the other container could not remove it while we were in it).
        if ((this.foreign ?? []).length > 0) tryRmdir(leaf);
        return {};
      }),
    );
    for (const r of results) {
      if (r.error) errors.push(r.error);
      if (r.warning) warnings.push(r.warning);
    }
    removeCreatedParents(this.createdDirs, leaves);
    // Forget only what is gone, so a failed destroy can be retried from state().
    const left = this.createdDirs.filter((d) => existsSync(d));
    this.createdDirs.splice(0, this.createdDirs.length, ...left);
    if (errors.length > 0) throw new HakoError(errors.join('; '));
    return warnings;
  }

  apply(resources: LinuxResources, opts: ApplyOptions = {}): string[] {
    if (this.mode === 'v2' && this.v2) return applyV2(this.v2.dir, resources, opts);
    const v1Paths: Record<string, string> = { ...this.paths };
    delete v1Paths[UNIFIED];
    return applyV1(v1Paths, resources, opts);
  }

  state(): CgroupState {
    const foreign = this.foreign ?? [];
    return { mode: this.mode, paths: { ...this.paths }, created: [...this.createdDirs], ...(foreign.length > 0 ? { foreign: [...foreign] } : {}) };
  }

  /** Poll until no process is left or `deadline` passes; true when empty. */
  private async waitEmpty(deadline: number): Promise<boolean> {
    let delay = 1;
    for (;;) {
      if (this.ownPids().length === 0) return true;
      if (Date.now() >= deadline) return false;
      await sleep(delay);
      delay = Math.min(delay * 2, 20);
    }
  }
}

function signalPid(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw new HakoError(`cgroup: signal ${sig} to pid ${pid}: ${(err as Error).message}`, { cause: err });
  }
}
