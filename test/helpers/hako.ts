// Runs bin/hako the way a container engine does: a separate process, argv, exit status, stdio.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const HAKO = join(import.meta.dirname, '../../bin/hako');

export interface HakoResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment a real host gives: without this sandbox's NODE_EXTRA_CA_CERTS (~50 ms per node start). */
export const plainEnv: NodeJS.ProcessEnv = { ...process.env };
delete plainEnv.NODE_EXTRA_CA_CERTS;

export function hako(args: string[], opts: SpawnSyncOptions = {}): HakoResult {
  return runtime(HAKO, args, opts);
}

/** Any runc-compatible binary (hako, runc, a copy of either) called like hako(). */
export function runtime(bin: string, args: string[], opts: SpawnSyncOptions = {}): HakoResult {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: plainEnv, timeout: 30_000, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * Runs a command that leaves a container behind (create, run -d) with stdout and stderr going to
 * files in `dir` (the test's bundle folder, removed with it): the runtime's stdio becomes the
 * container's, so with pipes spawnSync would wait until the container exits. hako's own error text
 * lands in the stderr file (containerd reads --log instead). `output()` reads what the container
 * wrote to its stdout so far.
 */
export function hakoDetached(args: string[], dir: string, bin = HAKO): HakoResult & { output: () => string } {
  const tag = `${process.pid}-${seq++}`;
  const out = join(dir, `stdout-${tag}`);
  const err = join(dir, `stderr-${tag}`);
  const outFd = openSync(out, 'w');
  const errFd = openSync(err, 'w');
  try {
    const r = runtime(bin, args, { stdio: ['ignore', outFd, errFd] });
    return { status: r.status, stdout: '', stderr: readFileSync(err, 'utf8'), output: () => readFileSync(out, 'utf8') };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
  }
}

let seq = 0;
