// What the podman and docker tests share: the runtimes every case runs against, hako's known gaps
// (each case that needs one is an expected failure on hako, checked by its reason), the container's
// cgroup limits read from the host, and the clean-up of what an engine leaves on the host.
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { it, type TestContext } from 'vitest';
import { HAKO } from './hako.ts';

export const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
/** Every engine case runs against each of these: hako, and runc as the reference. */
export const RUNTIMES: [name: string, binary: string][] = [['hako', HAKO], ...(RUNC ? [['runc', RUNC] as [string, string]] : [])];

/** hako's gaps that engines hit with their default settings, each with a text its failure shows. */
export const GAPS = {
  /** podman and docker send their default seccomp profile */
  seccomp: 'linux.seccomp is not implemented',
  /** podman's --tmpfs asks for `tmpcopyup` (runc copies the image's content into the new tmpfs) */
  tmpcopyup: 'tmpcopyup',
  /** runc sets HOME from the image's /etc/passwd, "/" for a user not listed there */
  homeDefault: 'HOME as runc sets it',
  /** runc chowns the process's stdio (the tty) to the process user */
  stdioOwner: 'stdio owned by the process user, as runc does',
} as const;
export type Gap = keyof typeof GAPS;

/**
 * The gaps still open in hako. A case that needs one is an expected failure on hako: reported as
 * skipped when it fails with the gap's text, failed when it fails otherwise, failed when it passes.
 * When a gap closes, delete its line here: its cases then must pass on hako.
 */
export const OPEN_GAPS: readonly Gap[] = [];

/**
 * it(), or, when `runtime` is hako and `gap` is still in OPEN_GAPS, an expected failure checked by
 * its text (see OPEN_GAPS).
 */
export function engineCase(
  runtime: string,
  gap: Gap | undefined,
  name: string,
  fn: (ctx: TestContext) => void | Promise<void>,
  timeout?: number,
): void {
  if (runtime !== 'hako' || gap === undefined || !OPEN_GAPS.includes(gap)) {
    it(name, fn, timeout);
    return;
  }
  const reason = GAPS[gap];
  it(
    `${name} [expected failure on hako: ${reason}]`,
    async (ctx) => {
      try {
        await fn(ctx);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (message.includes(reason)) ctx.skip(`expected failure: ${reason}`);
        throw err;
      }
      throw new Error(`passes on hako now: delete "${gap}" from OPEN_GAPS in test/helpers/engines.ts`);
    },
    timeout,
  );
}

/** An engine command's result, checked: throws with its stderr (where the runtime's error shows) unless it exited 0. */
export function ok<T extends { status: number | null; stdout: string; stderr: string }>(r: T, what: string): T {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

/** The folder of `pid`'s cgroup for a v1 controller, or its v2 folder (under /sys/fs/cgroup/unified on a hybrid host). */
function cgroupDir(pid: number, controller: string): { dir: string; v2: boolean } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  for (const line of lines) {
    const [, controllers = '', path = ''] = line.split(':');
    if (controllers.split(',').includes(controller)) {
      const dir = [controller, controllers].map((m) => join('/sys/fs/cgroup', m, path)).find((d) => existsSync(d));
      if (dir) return { dir, v2: false };
    }
  }
  const path = lines.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
  const unified = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
  return { dir: join(unified, path), v2: true };
}

/** The memory limit, cpu quota/period and pids limit of `pid`'s cgroups, as the kernel holds them (v1 or v2 files). */
export function cgroupLimits(pid: number): { memory: number; cpuQuota: number; cpuPeriod: number; pids: string } {
  const read = (controller: string, v1: string, v2: string) => {
    const { dir, v2: isV2 } = cgroupDir(pid, controller);
    return readFileSync(join(dir, isV2 ? v2 : v1), 'utf8').trim();
  };
  const memory = Number(read('memory', 'memory.limit_in_bytes', 'memory.max'));
  const { dir, v2 } = cgroupDir(pid, 'cpu');
  const [quota, period] = v2
    ? readFileSync(join(dir, 'cpu.max'), 'utf8').trim().split(' ')
    : ['cpu.cfs_quota_us', 'cpu.cfs_period_us'].map((f) => readFileSync(join(dir, f), 'utf8').trim());
  return { memory, cpuQuota: Number(quota), cpuPeriod: Number(period), pids: read('pids', 'pids.max', 'pids.max') };
}

/**
 * Removes a cgroup parent an engine made for its containers (`/hako-test/podman-…`) in every
 * hierarchy, children first (podman's `conmon`). rmdir only removes empty folders: a cgroup that
 * still holds a process after about 5 s (conmon and the shims exit a moment after their
 * container) makes this throw.
 */
export async function removeCgroupParent(parent: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      removeCgroupParentOnce(parent);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  removeCgroupParentOnce(parent);
}

function removeCgroupParentOnce(parent: string): void {
  const left: string[] = [];
  for (const h of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const dir = join('/sys/fs/cgroup', h, parent);
    if (!existsSync(dir)) continue;
    const remove = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) remove(join(d, e.name));
      try {
        rmdirSync(d);
      } catch (err) {
        left.push(`${d} (${(err as NodeJS.ErrnoException).code})`);
      }
    };
    remove(dir);
  }
  if (left.length > 0) throw new Error(`cgroups left: ${left.join(', ')}`);
}

/**
 * Host paths an engine creates whatever its flags say (podman's lock in /dev/shm, its blob cache,
 * dockerd's key.json…): call it before starting the engine; `restore()` at the end removes those that
 * were not there before.
 */
export function hostLeftovers(paths: string[]): { restore(): void } {
  const before = new Set(paths.filter((p) => existsSync(p)));
  return {
    restore() {
      for (const p of paths) if (!before.has(p)) rmSync(p, { recursive: true, force: true });
    },
  };
}

/**
 * The containers' state folders in a runtime's --root: folders whose names a container id can take
 * (runc's rule), so not hako's own cache files there (seccomp@bpf-*).
 */
export function containerStates(root: string): string[] {
  return existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && /^[\w+.-]+$/.test(e.name))
        .map((e) => e.name)
    : [];
}

/** Pids of the processes whose command line names `dir` (an engine's daemons and shims). */
export function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Mount points under `dir` (never rm -rf across a mount: a rootfs still mounted would be emptied). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && p.startsWith(`${dir}/`));
}

/** Sleeps until `check` holds or about `tries` × 50 ms have passed; returns the last answer. */
export async function waitUntil<T>(check: () => T, tries = 100): Promise<T> {
  let v = check();
  for (let i = 0; i < tries && !v; i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = check();
  }
  return v;
}
