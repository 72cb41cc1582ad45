// `hako kill`: signals the init (or, with --all, every process in the container's cgroup).
import type { Context } from './context.ts';
import { HakoError } from '../errors.ts';
import { signalProcess } from './processes.ts';
import { parseSignal } from './signals.ts';
import { statusOf } from './status.ts';
import { containerCgroups } from './cgroups.ts';

export async function killContainer(ctx: Context, id: string, signalText: string, all: boolean): Promise<void> {
  const signal = parseSignal(signalText);
  const record = ctx.store.read(id);
  const status = statusOf(record, ctx.store.dir(id));
  if (all && status === 'stopped') {
    // runc: the init is gone, but what it left in the cgroup is still signalled; nothing left is a success
    // (containerd's shim runs `kill --all` on every stop).
    const cgroups = containerCgroups(record);
    if (cgroups?.exists()) await cgroups.killAll(signal);
    return;
  }
  // containerd treats "container not running" as "already exited": keep runc's words.
  if (status === 'stopped' || status === 'creating' || !record.init) throw new HakoError('container not running');
  if (all) {
    const cgroups = containerCgroups(record);
    if (cgroups) {
      await cgroups.killAll(signal);
      return;
    }
  }
  await signalProcess(record.init, signal);
}
