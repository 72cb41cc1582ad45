// Runs cases against one runtime: a worker pool, a time limit per case, and a teardown that always
// runs `delete --force`, then checks what the runtime left behind (state dir, processes, cgroups,
// mounts) before removing it by force.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, Deviation, RunEnv, RuntimeKind } from './case.ts';
import { CaseContext, CaseFailure, CaseSkip, sleep, unmet } from './case.ts';
import { hostMounts, lazyUnmount, procStat, reapOrphans } from './host.ts';
import { commandArgs, runProcess } from './runtime.ts';

export type Outcome = 'pass' | 'fail' | 'skip';

export interface CaseResult {
  index: number;
  name: string;
  section: string;
  spec?: string;
  outcome: Outcome;
  failures: string[];
  skipReason?: string;
  /** The runtime's known deviation from the spec, when this case failed on it. */
  deviation?: Deviation;
  /** A known deviation that did not show (the case passed). */
  deviationGone?: boolean;
  /** Listed in --expected-failures and failed. */
  expected?: boolean;
  /** Listed in --expected-failures but passed: remove it from the list. */
  fixed?: boolean;
  observations: Record<string, unknown>;
  ms: number;
}

export interface RunOptions {
  jobs: number;
  expectedFailures?: Set<string>;
  onResult?: (r: CaseResult) => void;
}

export async function detectKind(bin: string): Promise<{ kind: RuntimeKind; version: string }> {
  const r = await runProcess(bin, ['--version'], { timeoutMs: 5000 });
  const version = r.stdout.trim().split('\n')[0] ?? '';
  const kind: RuntimeKind = /^runc version/.test(version)
    ? 'runc'
    : /^crun version/.test(version)
      ? 'crun'
      : /hako/i.test(version)
        ? 'hako'
        : 'other';
  return { kind, version: r.code === 0 ? version : `(--version failed: exit ${r.code})` };
}

/** Every cgroup hierarchy mount point on the host (v1 controllers and the v2 mount). */
export function cgroupMounts(env: RunEnv): string[] {
  const set = new Set<string>(env.host.cgroupV1.values());
  for (const m of hostMounts()) if (m.fsType === 'cgroup' && m.mountPoint.startsWith('/sys/fs/cgroup')) set.add(m.mountPoint);
  if (env.host.cgroupV2) set.add(env.host.cgroupV2);
  return [...set];
}

function cgroupDirsFor(env: RunEnv, id: string): string[] {
  return cgroupMounts(env)
    .map((m) => join(m, env.cgroupParent, id))
    .filter((d) => existsSync(d));
}

function procsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Removes a cgroup directory tree bottom-up (cgroup dirs can only be rmdir'ed when empty of children). */
export function rmCgroupTree(dir: string): boolean {
  let ok = true;
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return !existsSync(dir);
  }
  for (const e of entries) ok = rmCgroupTree(join(dir, e)) && ok;
  try {
    rmdirSync(dir);
  } catch {
    ok = false;
  }
  return ok;
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Unmounts every host mount at or below `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const found = hostMounts()
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of found) await lazyUnmount(p);
  return found;
}

/**
 * After the case: `delete --force` every id, run the case's own cleanups, then look for what the
 * runtime left (each is a failure of the case), and remove it by force.
 */
async function teardown(t: CaseContext): Promise<string[]> {
  const env = t.env;
  const leaks: string[] = [];
  for (const id of [...t.ids].reverse()) {
    await runProcess(env.bin, ['--root', env.root, 'delete', '--force', id], { timeoutMs: 10_000 });
  }
  leaks.push(...(await t.runDefers()));
  reapOrphans();
  // A SIGKILLed init may take a moment to be gone.
  for (let i = 0; i < 40 && t.livePids().length; i++) await sleep(25);
  for (const pid of t.livePids()) leaks.push(`process ${pid} (${procStat(pid)?.comm ?? '?'}) still alive after delete --force`);
  for (const id of t.ids) {
    const stateDir = join(env.root, id);
    if (existsSync(stateDir)) {
      leaks.push(`state dir ${stateDir} left after delete --force`);
      rmSync(stateDir, { recursive: true, force: true });
    }
    for (const dir of cgroupDirsFor(env, id)) {
      const procs = procsIn(dir);
      if (procs.length) leaks.push(`processes ${procs.join(',')} left in cgroup ${dir}`);
      procs.forEach(killPid);
    }
  }
  for (const pid of t.livePids()) killPid(pid);
  await sleep(0);
  for (let i = 0; i < 20; i++) {
    reapOrphans();
    const dirs = [...t.ids].flatMap((id) => cgroupDirsFor(env, id));
    if (!dirs.length) break;
    if (i === 0) leaks.push(...dirs.map((d) => `cgroup ${d} left after delete --force`));
    dirs.forEach(rmCgroupTree);
    await sleep(25);
  }
  const mounts = await unmountUnder(t.dir);
  leaks.push(...mounts.map((m) => `mount ${m} left on the host`));
  rmSync(t.dir, { recursive: true, force: true });
  return leaks;
}

function deviationFor(c: Case, kind: RuntimeKind): Deviation | undefined {
  return c.deviations?.[kind];
}

export async function runCase(env: RunEnv, c: Case, index: number, expected?: Set<string>): Promise<CaseResult> {
  const t0 = performance.now();
  const base = { index, name: c.name, section: c.section, spec: c.spec };
  const reason = unmet(env.host, c.needs);
  if (reason) return { ...base, outcome: 'skip', skipReason: reason, failures: [], observations: {}, ms: 0 };
  mkdirSync(env.runDir, { recursive: true });
  const t = new CaseContext(env, c.name, index);
  let skipReason: string | undefined;
  const limit = c.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.run(t),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new CaseFailure(`case timed out after ${limit} ms`)), limit);
      }),
    ]);
  } catch (e) {
    if (e instanceof CaseSkip) skipReason = e.message;
    else if (e instanceof CaseFailure) t.failures.push(e.message);
    else t.failures.push(`case error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    clearTimeout(timer);
  }
  const leaks = await teardown(t).catch((e: unknown) => [`teardown error: ${String(e)}`]);
  if (!skipReason) t.failures.push(...leaks.map((l) => `leak: ${l}`));
  t.observe(
    'calls',
    t.rt.calls.filter((r) => !r.poll).map((r) => [commandArgs(r.argv)[0] ?? '', r.code === 0 ? 0 : r.timedOut ? 'timeout' : 'error']),
  );
  const ms = performance.now() - t0;
  if (skipReason && !t.failures.length) {
    return { ...base, outcome: 'skip', skipReason, failures: [], observations: t.observations, ms };
  }
  const failed = t.failures.length > 0;
  const r: CaseResult = { ...base, outcome: failed ? 'fail' : 'pass', failures: t.failures, observations: t.observations, ms };
  const dev = deviationFor(c, env.kind);
  if (dev) {
    if (failed) r.deviation = dev;
    else r.deviationGone = true;
  }
  if (expected?.has(c.name)) {
    if (failed) r.expected = true;
    else r.fixed = true;
  }
  return r;
}

/** Runs the cases with `jobs` workers; results come back in case order. */
export async function runCases(env: RunEnv, cases: Case[], opts: RunOptions): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array<CaseResult>(cases.length);
  let next = 0;
  let emitted = 0;
  const emit = (): void => {
    while (emitted < cases.length && results[emitted]) opts.onResult?.(results[emitted++] as CaseResult);
  };
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await runCase(env, cases[i] as Case, i + 1, opts.expectedFailures);
      emit();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
  return results;
}

/** A failure that makes the run fail: not a known deviation of this runtime, not an expected failure. */
export function isUnexcusedFailure(r: CaseResult): boolean {
  return r.outcome === 'fail' && !r.deviation && !r.expected;
}

export function readExpectedFailures(path: string): Set<string> {
  const set = new Set<string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const name = line.replace(/#.*/, '').trim();
    if (name) set.add(name);
  }
  return set;
}
