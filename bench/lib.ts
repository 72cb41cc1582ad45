// Shared helpers for side-by-side benchmarks: interleaved runs, medians, ratios.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../src/runtime/busybox.ts';
import { defaultSpec } from '../src/spec/default-spec.ts';
import type { Spec } from '../src/spec/types.ts';

/** The environment a real host gives: NODE_EXTRA_CA_CERTS costs ~50 ms per node start and is unset. */
export function benchEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export function timeOnce(argv: string[], opts: SpawnSyncOptions = {}): { ms: number; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env: benchEnv(), stdio: 'ignore', ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw r.error;
  return { ms, status: r.status };
}

/** Milliseconds a synchronous piece of work took. */
export function elapsedMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Runs a runtime call with stdout discarded (a container's stdio must not be a pipe the bench waits
 * on) and stderr in `errFile`; a non-zero exit throws with what it said, named `what`.
 */
export function callQuietly(what: string, argv: string[], env: NodeJS.ProcessEnv, errFile: string): void {
  const errFd = openSync(errFile, 'w');
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', errFd] });
    if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${readFileSync(errFile, 'utf8')}`);
  } finally {
    closeSync(errFd);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * Runs every case `runs` times, interleaved (a, b, c, a, b, c, …) after one warm-up each, so
 * drift in machine load hits all cases alike. Returns the samples per case name.
 */
export interface BenchCase {
  name: string;
  /** one run; returns milliseconds */
  run: () => number;
}

export function interleave(cases: BenchCase[], runs: number): Record<string, number[]> {
  const samples: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.name, [] as number[]]));
  for (const c of cases) c.run();
  for (let i = 0; i < runs; i++) for (const c of cases) samples[c.name]!.push(c.run());
  return samples;
}

export function table(samples: Record<string, number[]>, baseline: string): string {
  const base = median(samples[baseline]!);
  const rows = Object.entries(samples).map(([name, xs]) => {
    const m = median(xs);
    return `| ${name} | ${m.toFixed(1)} | ${percentile(xs, 90).toFixed(1)} | ${(m / base).toFixed(2)}x |`;
  });
  return [`| what | median ms | p90 ms | vs ${baseline} |`, '|---|---|---|---|', ...rows].join('\n');
}

/** `<work>/bundle`: the busybox rootfs and default spec of `hako demo`, running `true`; config.json written. */
export function trueBundle(work: string, edit: (spec: Spec) => void = () => {}): { bundle: string; spec: Spec } {
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  makeBusyboxRootfs(join(bundle, 'rootfs'));
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = ['true'];
  edit(spec);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  return { bundle, spec };
}
