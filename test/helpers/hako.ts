// Runs bin/hako the way a container engine does: a separate process, argv, exit status, stdio.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAKO = join(import.meta.dirname, '../../bin/hako');

export interface HakoResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function hako(args: string[], opts: SpawnSyncOptions = {}): HakoResult {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync(HAKO, args, { encoding: 'utf8', env, timeout: 30_000, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * Runs a command that leaves a container behind (create, run -d) with stdout and stderr going to
 * files: the runtime's stdio becomes the container's, so with pipes spawnSync would wait until the
 * container exits. hako's own error text lands in the stderr file (containerd reads --log instead).
 * `output()` reads what the container wrote to its stdout so far.
 */
export function hakoDetached(args: string[]): HakoResult & { output: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'hako-test-stdio-'));
  const out = join(dir, 'stdout');
  const outFd = openSync(out, 'w');
  const errFd = openSync(join(dir, 'stderr'), 'w');
  try {
    const r = hako(args, { stdio: ['ignore', outFd, errFd] });
    const stderr = readFileSync(join(dir, 'stderr'), 'utf8');
    let captured = '';
    return {
      status: r.status,
      stdout: '',
      stderr,
      output: () => {
        try {
          captured = readFileSync(out, 'utf8');
        } catch {
          // removed by the afterAll below: keep what was read last
        }
        return captured;
      },
    };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    // The container keeps its own descriptors to the files; the names can go at process exit.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
}
