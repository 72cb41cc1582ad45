// cgroup v2: one directory. Freezing is cgroup.freeze + `frozen 1` in cgroup.events; killing
// everything is one write to cgroup.kill (Linux 5.14+).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HakoError } from '../errors.ts';
import {
  errnoCode,
  readCgroupFileIfExists,
  readProcsRecursive,
  sleep,
  writeCgroupFile,
  writePid,
} from './fsutil.ts';
import { makeCgroupDirs } from './tree.ts';

export class V2Cgroup {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * mkdir -p. With `enableFrom` (the cgroup2 mount point, on pure v2 hosts) every ancestor of the
   * leaf from that mount point down gets in cgroup.subtree_control the controllers it has, so the
   * leaf can be limited (runc does the same). Refusals are ignored as in runc: a parent with
   * processes of its own cannot delegate (EBUSY); apply() then fails on the missing file.
   */
  create(created: string[], enableFrom?: string): void {
    makeCgroupDirs(this.dir, created);
    if (enableFrom === undefined) return;
    const ancestors: string[] = [];
    for (let d = dirname(this.dir); d === enableFrom || d.startsWith(enableFrom + '/'); d = dirname(d)) {
      ancestors.unshift(d);
      if (d === enableFrom) break;
    }
    for (const d of ancestors) enableSubtreeControllers(d);
  }

  addProcess(pid: number): void {
    writePid(this.dir, pid);
  }

  pids(): number[] {
    return readProcsRecursive(this.dir);
  }

  /** Whether this kernel has cgroup.freeze (5.2+) in this cgroup. */
  canFreeze(): boolean {
    return existsSync(join(this.dir, 'cgroup.freeze'));
  }

  async freeze(timeoutMs = 5000): Promise<void> {
    if (!this.canFreeze()) throw new HakoError(`cgroup: cannot freeze ${this.dir}: no cgroup.freeze (kernel older than 5.2)`);
    writeCgroupFile(this.dir, 'cgroup.freeze', '1');
    try {
      await this.waitFrozen(true, timeoutMs);
    } catch (err) {
      try {
        writeCgroupFile(this.dir, 'cgroup.freeze', '0');
      } catch {
        // keep the original error
      }
      throw err;
    }
  }

  async thaw(timeoutMs = 5000): Promise<void> {
    if (!this.canFreeze()) return;
    writeCgroupFile(this.dir, 'cgroup.freeze', '0');
    await this.waitFrozen(false, timeoutMs);
  }

  /** Frozen by this cgroup's own cgroup.freeze (what `pause` wrote). */
  isFrozen(): boolean {
    return readCgroupFileIfExists(this.dir, 'cgroup.freeze') === '1';
  }

  /** `frozen` from cgroup.events: the kernel's view, true once every task has stopped. */
  eventsFrozen(): boolean | undefined {
    const events = readCgroupFileIfExists(this.dir, 'cgroup.events');
    if (events === undefined) return undefined;
    const m = /^frozen (\d)$/m.exec(events);
    return m ? m[1] === '1' : undefined;
  }

  private async waitFrozen(want: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    for (;;) {
      const frozen = this.eventsFrozen();
      // A cgroup that disappeared, or a kernel without `frozen` in cgroup.events: nothing to wait for.
      if (frozen === undefined || frozen === want) return;
      if (Date.now() >= deadline) {
        throw new HakoError(`cgroup: ${want ? 'freeze' : 'thaw'} ${this.dir}: timed out after ${timeoutMs} ms`);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  /** True when cgroup.kill exists (Linux 5.14+). */
  canKill(): boolean {
    return existsSync(join(this.dir, 'cgroup.kill'));
  }

  /** SIGKILL every process in this cgroup and below, in one write. */
  kill(): void {
    try {
      writeCgroupFile(this.dir, 'cgroup.kill', '1');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return; // already gone
      throw err;
    }
  }
}

/** Enable, in `dir`'s cgroup.subtree_control, every controller `dir` has (cgroup.controllers). */
export function enableSubtreeControllers(dir: string): void {
  const available = readCgroupFileIfExists(dir, 'cgroup.controllers');
  if (!available) return;
  const enabled = new Set((readCgroupFileIfExists(dir, 'cgroup.subtree_control') ?? '').split(/\s+/));
  const wanted = available.split(/\s+/).filter((c) => c && !enabled.has(c));
  if (wanted.length === 0) return;
  try {
    writeCgroupFile(dir, 'cgroup.subtree_control', wanted.map((c) => '+' + c).join(' '));
  } catch {
    // One at a time: some may be refused (threaded subtree, rootless); the rest still help.
    for (const c of wanted) {
      try {
        writeCgroupFile(dir, 'cgroup.subtree_control', '+' + c);
      } catch {
        // reported by apply() if a limit later needs it
      }
    }
  }
}
