// The CgroupManager contract; documented in index.ts.

import type { LinuxResources } from '../spec/types.ts';
import type { CgroupMode } from './host.ts';
import type { ApplyOptions } from './resources.ts';

/** What the runtime persists in the container state, and gives back to loadCgroupManager. */
export interface CgroupState {
  mode: CgroupMode;
  /** Controller (`cpu`, `memory`, `name=systemd`…) or `unified` → absolute cgroup directory. */
  paths: Record<string, string>;
  /**
   * Directories create() made (parents included), so destroy() removes exactly those and nothing
   * else. Recorded first as the directories create() is about to make (intent()), so a runtime
   * killed halfway through create still knows them.
   */
  created: string[];
  /**
   * Processes that were already in the cgroup when create() found it existing (a shared cgroup):
   * not the container's, so never signalled by killAll/destroy.
   */
  foreign?: { pid: number; startTime: number }[];
}

export interface KillOptions {
  /** How long SIGKILL may take to empty the cgroup; default 5000 ms. */
  timeoutMs?: number;
}

export interface DestroyOptions {
  /** SIGKILL the container's own processes still in the cgroup first (delete --force); default false. */
  kill?: boolean;
  /**
   * The container's processes are known to be gone (its init, with its own pid namespace, is dead:
   * the kernel killed the rest), so processes still in the cgroup belong to another container that
   * shares it: neither kill nor wait for them, leave the busy cgroup with a warning. Default false.
   */
  othersMayRemain?: boolean;
  /** Wait for processes to leave: up to this with kill (default 2000 ms), at most 500 ms without. */
  timeoutMs?: number;
}

export interface CgroupManager {
  readonly mode: CgroupMode;
  readonly paths: Readonly<Record<string, string>>;
  /** Directories made by create() so far (also in state()). */
  readonly created: readonly string[];
  /**
   * The state create() is about to produce, for the caller to record before calling it: the
   * directories it would make now, and the processes already in an existing cgroup (foreign).
   */
  intent(): CgroupState;
  /** mkdir the cgroup in every hierarchy; returns the directories this call created. */
  create(): string[];
  /** Move `pid` into the cgroup in every hierarchy. */
  addProcess(pid: number): void;
  /** Pids in the cgroup and its sub-cgroups. */
  pids(): number[];
  /**
   * The container's own processes: those in its cgroup itself (not in sub-cgroups, which may be
   * another container's, e.g. one whose cgroupsPath is below this one), foreign ones left out.
   */
  ownPids(): number[];
  /** Whether the cgroup directory exists. */
  exists(): boolean;
  /** Freeze every process and wait until the kernel reports it done (v2: timeoutMs, default 5000). */
  freeze(opts?: { timeoutMs?: number }): Promise<void>;
  thaw(opts?: { timeoutMs?: number }): Promise<void>;
  isFrozen(): boolean;
  /** Signal the container's own processes (ownPids); SIGKILL (the default) waits until they are gone. */
  killAll(signal?: NodeJS.Signals | number, opts?: KillOptions): Promise<void>;
  /**
   * Remove the directories create() made, and only those: the cgroup itself (with the empty
   * sub-cgroups its processes made) and the parents, each once empty. A cgroup that holds another
   * container's cgroup with processes is left in place; the returned warnings say which.
   */
  destroy(opts?: DestroyOptions): Promise<string[]>;
  /**
   * Write `linux.resources` (call it before addProcess). Returns warnings for settings this host
   * cannot enforce; throws on a write the kernel refuses. opts.devices: linux.devices (paths only, see ApplyOptions).
   */
  apply(resources: LinuxResources, opts?: ApplyOptions): string[];
  state(): CgroupState;
}
