// `hako ps`: the container's processes. `--format json` prints the JSON array of host pids that
// containerd's shim parses; the table runs ps(1) and keeps the rows of the container's pids.
import { spawnSync } from 'node:child_process';
import type { Context } from './context.ts';
import { HakoError } from '../errors.ts';
import { out } from '../io.ts';
import { containerCgroups } from './cgroups.ts';

export async function containerProcesses(ctx: Context, id: string, format: 'table' | 'json', psArgs: string[]): Promise<void> {
  const record = ctx.store.read(id);
  const cgroups = containerCgroups(record);
  const pids = cgroups?.exists() ? cgroups.pids() : [];
  if (format === 'json') {
    out(`${JSON.stringify(pids)}\n`);
    return;
  }
  const r = spawnSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (r.status !== 0) throw new HakoError(`ps: ${r.stderr.trim() || `exit status ${r.status}`}`);
  const [header = '', ...rows] = r.stdout.split('\n');
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw new HakoError('ps: no PID column in its output');
  const wanted = new Set(pids);
  const kept = rows.filter((row) => wanted.has(Number(row.trim().split(/\s+/)[pidColumn])));
  out([header, ...kept].join('\n') + '\n');
}
