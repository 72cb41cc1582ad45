// `hako pause` / `hako resume`: freeze and thaw every process of the container (cgroup freezer).
import type { Context } from './context.ts';
import { HakoError } from '../errors.ts';
import { containerCgroups } from './cgroups.ts';
import { statusOf } from './status.ts';

async function withContainer(ctx: Context, id: string, expected: 'running' | 'paused', fn: (cg: NonNullable<ReturnType<typeof containerCgroups>>) => Promise<void>) {
  await ctx.store.withLock(id, async () => {
    const record = ctx.store.read(id);
    const status = statusOf(record, ctx.store.dir(id));
    if (status !== expected) throw new HakoError(`container not ${expected}`);
    const cgroups = containerCgroups(record);
    if (!cgroups) throw new HakoError(`container ${id} has no cgroup to freeze`);
    await fn(cgroups);
  });
}

export async function pauseContainer(ctx: Context, id: string): Promise<void> {
  await withContainer(ctx, id, 'running', (cg) => cg.freeze());
}

export async function resumeContainer(ctx: Context, id: string): Promise<void> {
  await withContainer(ctx, id, 'paused', (cg) => cg.thaw());
}
