// The CgroupManager contract; documented in index.ts.

import type { LinuxResources } from '../spec/types.ts';
import type { CgroupMode } from './host.ts';
import type { ApplyOptions } from './resources.ts';

/** What the runtime persists in the container state, and gives back to loadCgroupManager. */
export interface CgroupState {
  mode: CgroupMode;
  /** Controller (`cpu`, `memory`, `name=systemd`…) or `unified` → absolute cgroup directory. */
  paths: Record<string, string>;
  /** Directories create() made (parents included), so destroy() removes exactly those parents. */
  created: string[];
}

export interface KillOptions {
  /** How long SIGKILL may take to empty the cgroup; default 5000 ms. */
  timeoutMs?: number;
}

export interface DestroyOptions {
  /** SIGKILL whatever is still in the cgroup first (delete --force); default false. */
  kill?: boolean;
  /** Wait for processes to leave: up to this with kill (default 2000 ms), at most 500 ms without. */
  timeoutMs?: number;
}

export interface CgroupManager {
  readonly mode: CgroupMode;
  readonly paths: Readonly<Record<string, string>>;
  /** Directories made by create() so far (also in state()). */
  readonly created: readonly string[];
  /** mkdir the cgroup in every hierarchy; returns the directories this call created. */
  create(): string[];
  /** Move `pid` into the cgroup in every hierarchy. */
  addProcess(pid: number): void;
  /** Pids in the cgroup and its sub-cgroups. */
  pids(): number[];
  /** Whether the cgroup directory exists. */
  exists(): boolean;
  /** Freeze every process and wait until the kernel reports it done (v2: timeoutMs, default 5000). */
  freeze(opts?: { timeoutMs?: number }): Promise<void>;
  thaw(opts?: { timeoutMs?: number }): Promise<void>;
  isFrozen(): boolean;
  /** Signal every process; SIGKILL (the default) waits until the cgroup is empty. */
  killAll(signal?: NodeJS.Signals | number, opts?: KillOptions): Promise<void>;
  /** Remove the cgroup everywhere, and the parents create() made once they are empty. */
  destroy(opts?: DestroyOptions): Promise<void>;
  /**
   * Write `linux.resources` (call it before addProcess). Returns warnings for settings this host
   * cannot enforce; throws on a write the kernel refuses. opts.devices: linux.devices (paths only, see ApplyOptions).
   */
  apply(resources: LinuxResources, opts?: ApplyOptions): string[];
  state(): CgroupState;
}
