// Runs bin/hako the way a container engine does: a separate process, argv, exit status, stdio.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
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
