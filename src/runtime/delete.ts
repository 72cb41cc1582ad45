// `hako delete`: removes a stopped container and everything it holds. A created container is
// killed first (runc and crun do this and containerd relies on it); a running or paused one only
// with --force.
import type { Context } from './context.ts';
import { HakoError } from '../errors.ts';
import type { ContainerRecord } from '../state/record.ts';
import { validateId } from '../state/ids.ts';
import { doesNotExist } from '../state/store.ts';
import { containerCgroups } from './cgroups.ts';
import { runHooksWarning } from './hooks.ts';
import { unmountHostMounts } from './host-mounts.ts';
import { isAlive } from './procfs.ts';
import { ociState } from './state.ts';
import { waitForExit } from './processes.ts';
import { statusOf } from './status.ts';

const KILL_TIMEOUT_MS = 10_000;

export async function deleteContainer(ctx: Context, id: string, force: boolean): Promise<void> {
  const { store } = ctx;
  validateId(id); // an invalid id is an error even with --force, as in runc
  // runc: `delete --force` of an id that does not exist succeeds silently (podman runs it after
  // every failed create).
  if (!store.hasFolder(id)) {
    if (force) return;
    throw doesNotExist(id);
  }
  try {
    await store.withLock(id, () => deleteLocked(ctx, id, force));
  } catch (err) {
    // removed by another delete while we waited for the lock
    if (force && err instanceof HakoError && err.message === doesNotExist(id).message) return;
    throw err;
  }
}

async function deleteLocked(ctx: Context, id: string, force: boolean): Promise<void> {
  const { store } = ctx;
  const record = store.readIfValid(id);
  if (!record) {
    // A folder without a valid record, and its lock was free: a create killed before it wrote
    // the record (nothing but the folder, maybe a temp .state.json.<pid>; cgroups are only made
    // after the record names them). --force removes it and the id can be used again.
    if (!force) throw doesNotExist(id);
    store.remove(id);
    return;
  }
  const status = statusOf(record, store.dir(id));
  if ((status === 'running' || status === 'paused') && !force) {
    throw new HakoError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  if (status === 'creating') {
    if (!force) throw new HakoError(`cannot delete container ${id} that is being created`);
    if (record.creator && isAlive(record.creator)) process.kill(record.creator.pid, 'SIGKILL');
  }
  await destroyContainer(ctx, record);
}

/** Kills whatever is left of the container and removes its cgroups and state. */
export async function destroyContainer(ctx: Context, record: ContainerRecord): Promise<void> {
  const cgroups = containerCgroups(record);
  if (record.init && isAlive(record.init)) {
    // A frozen process can't die: thaw first.
    await cgroups?.thaw();
    try {
      process.kill(record.init.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
    if (!(await waitForExit(record.init, KILL_TIMEOUT_MS))) {
      throw new HakoError(`container ${record.id}: init process ${record.init.pid} did not exit after SIGKILL`);
    }
  }
  // With its own pid namespace, the container's processes died with its init (the kernel kills the
  // namespace): whatever is still in the cgroup is another container's that shares it (runc leaves
  // those too). Otherwise processes outside the init's pid namespace can outlive it: the container's
  // own (its cgroup's, less those there before it) are killed. Only the directories create made go.
  const ownPidNs = record.config.linux?.namespaces?.some((ns) => ns.type === 'pid' && ns.path === undefined) === true;
  const opts = ownPidNs && record.init ? { othersMayRemain: true } : { kill: true };
  for (const warning of (await cgroups?.destroy(opts)) ?? []) ctx.logger.warn(warning);
  // No mount namespace: the container's mounts are in this mount table (after its processes are gone).
  if (record.hostMounts) for (const warning of await unmountHostMounts(record.hostMounts)) ctx.logger.warn(warning);
  const state = { ...ociState(record, ctx.store.dir(record.id)), status: 'stopped' as const, pid: 0 };
  ctx.store.remove(record.id);
  await runHooksWarning(record.config.hooks, 'poststop', state, ctx.logger);
  ctx.logger.debug(`container ${record.id} deleted`);
}
