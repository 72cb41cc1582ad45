// Shared by the executor-*.test.ts files: a busybox bundle in /tmp/hako-test-exec-*, a plan run
// through the real executor (foreground, so its exit status is the container's), and the checks
// that nothing is left behind (no process, no mount under the bundle).
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { compilePlan, type PlanContext, type Plan } from '../../src/plan/index.ts';
import { makeBusyboxRootfs } from '../../src/runtime/busybox.ts';
import { launchPlan, type ExecutorExit, type ExecutorReport, type LaunchOptions } from '../../src/runtime/executor.ts';
import { releaseInit } from '../../src/runtime/start.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import type { Spec } from '../../src/spec/types.ts';

export const isRoot = process.getuid?.() === 0;

export interface Bundle {
  dir: string;
  rootfs: string;
  spec: Spec;
  fifo: string;
}

const bundles: Bundle[] = [];

/** A fresh bundle: busybox rootfs, runc's default spec without a terminal, args set by the caller. */
export function makeBundle(args: string[] = ['true']): Bundle {
  const dir = mkdtempSync('/tmp/hako-test-exec-');
  const rootfs = join(dir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = args;
  const b = { dir, rootfs, spec, fifo: join(dir, 'exec.fifo') };
  bundles.push(b);
  return b;
}

export function context(b: Bundle, extra: Partial<PlanContext> = {}): PlanContext {
  return { bundle: b.dir, rootfs: b.rootfs, execFifo: b.fifo, noPivot: false, noNewKeyring: false, preserveFds: 0, foreground: true, containerId: 'exec-test', ...extra };
}

export interface RunResult {
  exit: ExecutorExit;
  stdout: string;
  stderr: string;
  initPid: number;
  executorPid: number;
  reports: ExecutorReport[];
  plan: Plan;
}

export interface RunOptions {
  ctx?: Partial<PlanContext>;
  launch?: Partial<LaunchOptions>;
  /** Runs while the init waits on the fifo (before it is released). */
  whileCreated?: (initPid: number) => void | Promise<void>;
  /** Runs once the fifo is released (the container runs). */
  whileRunning?: (initPid: number) => void | Promise<void>;
}

/** Compiles, launches, releases the fifo and waits for the container to exit. */
export async function run(b: Bundle, opts: RunOptions = {}): Promise<RunResult> {
  const plan = compilePlan(b.spec, context(b, opts.ctx));
  const outFile = join(b.dir, 'stdout');
  const errFile = join(b.dir, 'stderr');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  const inp = openSync('/dev/null', 'r');
  const reports: ExecutorReport[] = [];
  try {
    const launched = await launchPlan(plan, {
      stdio: [inp, out, err],
      preserveFds: plan.preserveFds,
      onReport: (r) => reports.push(r),
      ...opts.launch,
    });
    try {
      await opts.whileCreated?.(launched.initPid);
      await releaseInit(b.fifo, () => existsSync(`/proc/${launched.initPid}`));
      await opts.whileRunning?.(launched.initPid);
    } catch (e) {
      kill(launched.initPid);
      await launched.executorExit;
      throw e;
    }
    const exit = await launched.executorExit;
    return {
      exit,
      stdout: readFileSync(outFile, 'utf8'),
      stderr: readFileSync(errFile, 'utf8'),
      initPid: launched.initPid,
      executorPid: launched.executorPid,
      reports,
      plan,
    };
  } finally {
    closeSync(out);
    closeSync(err);
    closeSync(inp);
  }
}

export function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

export function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  // a zombie is not alive for our purposes
  return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Mounts of the host under `dir` (none should ever be there: all mounts are in the container's namespace). */
export function hostMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((t) => t === dir || t.startsWith(`${dir}/`));
}

/** Removes every bundle made by makeBundle (after checking nothing is mounted under it). */
export function cleanupBundles(): string[] {
  const leaks: string[] = [];
  for (const b of bundles.splice(0)) {
    leaks.push(...hostMountsUnder(b.dir).map((m) => `mount ${m}`));
    rmSync(b.dir, { recursive: true, force: true });
  }
  return leaks;
}

/** The container's parsed /proc/self/mountinfo lines: mount point → { options, fstype, superOptions, root }. */
export function parseMountinfo(text: string): Map<string, { root: string; options: string; fstype: string; source: string; superOptions: string }> {
  const out = new Map<string, { root: string; options: string; fstype: string; source: string; superOptions: string }>();
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const l = line.slice(0, sep).split(' ');
    const r = line.slice(sep + 3).split(' ');
    out.set(l[4]!, { root: l[3]!, options: l[5]!, fstype: r[0]!, source: r[1]!, superOptions: r[2]! });
  }
  return out;
}
