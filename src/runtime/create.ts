// `hako create`: validate the bundle, claim the id, make the cgroups, compile the plan and have
// the executor perform it, then exit with the init blocked on the exec fifo. Any failure undoes
// everything this call made: no process, cgroup, state folder or fifo is left behind.
import { resolve } from 'node:path';
import type { CreateOptions } from './options.ts';
import type { Context } from './context.ts';
import { cgroupManagerFor, readHost, type CgroupManager } from '../cgroups/index.ts';
import { primeCgroupMigration } from '../cgroups/prime.ts';
import { HakoError } from '../errors.ts';
import { out } from '../io.ts';
import { compilePlan, describePlan, type HostFacts, type Plan, type PlanContext, type SeccompFilter } from '../plan/index.ts';
import { seccompFilter } from './seccomp.ts';
import { readHostFacts } from '../plan/host-facts.ts';
import { loadConfig } from '../spec/load.ts';
import type { Spec } from '../spec/types.ts';
import { validateId } from '../state/ids.ts';
import type { ContainerRecord } from '../state/record.ts';
import { launchPlan, type LaunchedInit } from './executor.ts';
import { snapshotHostMounts, unmountHostMounts, type HostMounts } from './host-mounts.ts';
import { runHooks } from './hooks.ts';
import { writePidFile } from './pidfile.ts';
import { processIdentity } from './procfs.ts';
import { ociState, stateForInit } from './state.ts';
import { execFifoPath } from './status.ts';
import { ms, Timings } from './timings.ts';

export interface CreatedContainer {
  record: ContainerRecord;
  launched: LaunchedInit;
}

/** runc's rules for terminals and console sockets, with runc's words. */
function checkConsole(config: Spec, flags: CreateOptions, foreground: boolean): void {
  const terminal = config.process?.terminal === true;
  if (terminal && !flags.consoleSocket && !foreground) {
    throw new HakoError('cannot allocate tty if hako will detach without setting console socket');
  }
  if (!terminal && flags.consoleSocket) {
    throw new HakoError('cannot use console socket if hako will not detach or allocate tty');
  }
}

/**
 * What the plan needs to know about this host: its mount table and cgroup hierarchies, and for a
 * container without its own cgroup namespace, where its cgroup is in each v1 hierarchy (a
 * `cgroup` mount then binds that folder).
 */
function hostFacts(config: Spec, cgroups: CgroupManager | undefined): HostFacts {
  const facts = readHostFacts();
  const ownCgroupNs = config.linux?.namespaces?.some((ns) => ns.type === 'cgroup');
  if (cgroups && !ownCgroupNs && facts.cgroup?.version === 1) {
    const dirs = Object.values(cgroups.paths);
    for (const h of facts.cgroup.hierarchies) {
      const base = `/sys/fs/cgroup/${h.name}`;
      h.hostPath = dirs.find((d) => d === base || d.startsWith(`${base}/`));
    }
  }
  return facts;
}

function planContext(
  config: Spec,
  bundle: string,
  containerDir: string,
  flags: CreateOptions,
  foreground: boolean,
  id: string,
  cgroups: CgroupManager | undefined,
  seccomp: SeccompFilter | undefined,
  record: ContainerRecord,
): PlanContext {
  return {
    seccomp,
    containerState: stateForInit(record, containerDir),
    containerId: id,
    hostFacts: hostFacts(config, cgroups),
    bundle,
    rootfs: resolve(bundle, config.root?.path ?? 'rootfs'),
    execFifo: execFifoPath(containerDir),
    consoleSocket: flags.consoleSocket === undefined ? undefined : resolve(flags.consoleSocket),
    noPivot: flags.noPivot,
    noNewKeyring: flags.noNewKeyring,
    preserveFds: flags.preserveFds,
    foreground,
  };
}

export async function createContainer(ctx: Context, id: string, flags: CreateOptions): Promise<void> {
  const created = await createInternal(ctx, id, flags, false);
  if (created) await created.launched.executorExit;
}

/** Creates the container; in foreground mode the executor stays and exits with the init's status. */
export async function createInternal(ctx: Context, id: string, flags: CreateOptions, foreground: boolean): Promise<CreatedContainer | undefined> {
  const { store, logger } = ctx;
  // Where the time goes: printed by --timings, logged by --debug (each phase and step with its ms).
  const timings = flags.timings ?? (logger.debugEnabled ? new Timings() : undefined);
  if (timings && logger.debugEnabled) timings.onSpan = (s) => logger.debug(`timing ${s.group}: ${s.name}: ${ms(s.start, s.end).toFixed(2)} ms`);
  timings?.mark('node', 'start, load hako, parse the command line');
  validateId(id);
  const bundle = resolve(flags.bundle);
  const config = await loadConfig(bundle);
  checkConsole(config, flags, foreground);
  timings?.mark('config', 'load and validate config.json');
  const seccomp = await seccompFilter(config, logger, store.root);
  timings?.mark('config', 'seccomp filter');

  const record: ContainerRecord = {
    id,
    ociVersion: config.ociVersion,
    bundle,
    rootfs: resolve(bundle, config.root?.path ?? 'rootfs'),
    created: new Date().toISOString(),
    owner: 'root',
    annotations: config.annotations as Record<string, string> | undefined,
    creator: processIdentity(ctx.callerPid ?? process.pid),
    ...(ctx.callerPid === undefined ? {} : { requestedBy: processIdentity(ctx.callerPid) }),
    config,
    ...(flags.noNewKeyring ? { noNewKeyring: true as const } : {}),
  };
  if (flags.dryRun) {
    const plan = compilePlan(config, planContext(config, bundle, store.dir(id), flags, foreground, id, undefined, seccomp, record));
    timings?.mark('plan', 'read host facts, compile the plan');
    out(describePlan(plan));
    return undefined;
  }

  const dir = store.reserve(id);

  let cgroups: CgroupManager | undefined;
  let launched: LaunchedInit | undefined;
  try {
    store.write(record);
    timings?.mark('state', 'reserve the id, write the record');
    return await store.withLock(id, async () => {
      timings?.mark('state', 'lock');
      const cgroupHost = readHost(); // once: the manager and the prime below both need it
      cgroups = cgroupManagerFor({ id, cgroupsPath: config.linux?.cgroupsPath, systemd: ctx.globals.systemdCgroup, host: cgroupHost });
      // runc 1.1 warns and goes on (shared cgroups are a supported pattern); those processes are
      // remembered as not the container's, so no cleanup ever signals them.
      const shared = cgroups.exists() ? cgroups.pids().length : 0;
      if (shared > 0) logger.warn(`container's cgroup is not empty: ${shared} process(es) found`);
      // What create() is about to make goes into the record first: killed halfway, delete --force still finds it.
      record.cgroups = cgroups.intent();
      store.write(record);
      cgroups.create();
      record.cgroups = cgroups.state();
      store.write(record);
      timings?.mark('cgroups', 'create the directories (and record them)');
      // Limits are in place before the first process joins.
      for (const warning of cgroups.apply(config.linux?.resources ?? {}, { devices: config.linux?.devices })) {
        logger.warn(`linux.resources: ${warning}`);
      }
      timings?.mark('cgroups', 'apply linux.resources');

      // The executor joins these cgroups in ~15 ms: the kernel's wait before a first cgroup
      // migration (an RCU grace period) starts now, off this thread (src/cgroups/prime.ts).
      primeCgroupMigration(cgroupHost);
      timings?.mark('cgroups', 'prime the first migration');
      const cg = cgroups;
      // Compiled once the executor is spawned, while it starts up.
      const compile = (): Plan => {
        const plan = compilePlan(config, planContext(config, bundle, dir, flags, foreground, id, cg, seccomp, record));
        for (const warning of plan.warnings) logger.warn(warning);
        timings?.mark('plan', 'read host facts, compile the plan');
        if (!config.linux?.namespaces?.some((ns) => ns.type === 'mount')) {
          // Mounts go into this (the host's) mount table: note what was there, so delete can undo the rest.
          record.hostMounts = snapshotHostMounts(record.rootfs);
          store.write(record);
        }
        return plan;
      };
      // A hook's own error says more than the sync step's errno: keep it and throw it instead.
      let hookError: unknown;
      launched = await launchPlan(compile, {
        stdio: [0, 1, 2],
        preserveFds: flags.preserveFds,
        // Before the executor clones the init: the init is in its cgroup from its first instruction.
        onSpawned: (executorPid) => cg.addProcess(executorPid),
        onReport: logger.debugEnabled
          ? (r) => logger.debug(`plan step ${r.step} ${r.label}: ${r.op}${r.errno ? ` errno ${r.errno}` : ''} (${ms(r.start, r.end).toFixed(3)} ms)`)
          : undefined,
        timings,
        // The init waits here, mounts done and before pivot_root, while node runs the runtime's hooks.
        onSync: async (name, initPid) => {
          if (name !== 'createRuntime') throw new HakoError(`unknown sync point ${name}`);
          const state = { ...ociState(record, dir), status: 'creating' as const, pid: initPid };
          try {
            // runtime.md: prestart hooks belong to step 3, after the container is created
            await runHooks(config.hooks, 'prestart', { ...state, status: 'created' });
            await runHooks(config.hooks, 'createRuntime', state);
          } catch (err) {
            hookError = err;
            throw err;
          }
        },
      }).catch((err: unknown) => {
        throw hookError ?? err;
      });
      const init = processIdentity(launched.initPid);
      if (!init) throw new HakoError(`container init (pid ${launched.initPid}) exited during create`);
      record.init = init;
      delete record.creator;
      store.write(record);
      if (flags.pidFile) writePidFile(flags.pidFile, launched.initPid);
      timings?.mark('state', 'write the record with the init, pid file');
      logger.debug(`container ${id} created, init pid ${launched.initPid}`);
      return { record, launched };
    }, { held: true });
  } catch (err) {
    await undoCreate(ctx, id, cgroups, launched, record.hostMounts);
    throw err;
  }
}

async function undoCreate(
  ctx: Context,
  id: string,
  cgroups: CgroupManager | undefined,
  launched: LaunchedInit | undefined,
  hostMounts: HostMounts | undefined,
): Promise<void> {
  if (launched) {
    try {
      process.kill(launched.initPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    // Kills what the executor left in the cgroup (the container's processes only), then removes what create made.
    for (const warning of (await cgroups?.destroy({ kill: true })) ?? []) ctx.logger.warn(warning);
  } catch (err) {
    ctx.logger.warn(`cleanup after failed create: ${(err as Error).message}`);
  }
  // after the processes: nothing of the container runs while its mounts go
  if (hostMounts) for (const warning of await unmountHostMounts(hostMounts)) ctx.logger.warn(`cleanup after failed create: ${warning}`);
  ctx.store.remove(id);
}
