// hako as a library: the container lifecycle, typed, for TypeScript callers and for the daemon.
//
//   import { openRuntime, create, start, state, kill, deleteContainer } from 'hako';
//   const rt = openRuntime({ root: '/run/hako' });
//   await create(rt, 'web', { bundle: '/srv/web' });
//   await start(rt, 'web');
//
// Each call does what the command of the same name does (same checks, same errors: HakoError
// with runc's words and an exit code; ConfigError naming config.json's fields). Containers made
// here are the CLI's: `hako --root /run/hako list` shows them. The process calling create
// becomes the executor's parent, so the init is reparented to this process's subreaper when
// create returns, as with the CLI. Paths are resolved against this process's working directory.
import type { Context } from '../runtime/context.ts';
import { execOptions, type CreateOptions, type ExecOptions, type RunOptions } from '../runtime/options.ts';
import type { OciState } from '../runtime/state.ts';
import type { UpdateFlags } from '../runtime/update.ts';
import { Logger } from '../log/logger.ts';
import { StateStore } from '../state/store.ts';

export type { Context, GlobalOptions } from '../runtime/context.ts';
export type { CreateOptions, ExecOptions, RunOptions } from '../runtime/options.ts';
export type { OciState } from '../runtime/state.ts';
export type { UpdateFlags } from '../runtime/update.ts';
export { HakoError, ConfigError } from '../errors.ts';

export interface RuntimeOptions {
  /** The state folder (runc's --root). Default /run/hako. */
  root?: string;
  /** A log file (runc's --log); without it errors go to stderr only. */
  log?: string;
  logFormat?: 'text' | 'json';
  debug?: boolean;
  /** The systemd cgroup driver's `slice:prefix:name` cgroupsPath (runc's --systemd-cgroup). */
  systemdCgroup?: boolean;
}

/** A handle on one state folder: what every call below takes. */
export function openRuntime(opts: RuntimeOptions = {}): Context {
  const root = opts.root ?? '/run/hako';
  const logFormat = opts.logFormat ?? 'text';
  const debug = opts.debug ?? false;
  return {
    globals: { root, log: opts.log, logFormat, debug, systemdCgroup: opts.systemdCgroup ?? false },
    logger: new Logger({ file: opts.log, format: logFormat, debug }),
    store: new StateStore(root),
  };
}

const createDefaults = { bundle: '.', noPivot: false, noNewKeyring: false, preserveFds: 0, dryRun: false } satisfies CreateOptions;

/** `hako create`: the init waits on the exec fifo when this resolves. */
export async function create(rt: Context, id: string, opts: Partial<CreateOptions> & { bundle: string }): Promise<void> {
  const { createContainer } = await import('../runtime/create.ts');
  await createContainer(rt, id, { ...createDefaults, ...opts });
}

/** `hako start`: releases the init of a created container into its process. */
export async function start(rt: Context, id: string): Promise<void> {
  const { startContainer } = await import('../runtime/start.ts');
  await startContainer(rt, id);
}

/** `hako run`: create and start; resolves with the process's exit status (0 at once with `detach`). */
export async function run(rt: Context, id: string, opts: Partial<RunOptions> & { bundle: string }): Promise<number> {
  const { runContainer } = await import('../runtime/run.ts');
  return runContainer(rt, id, { ...createDefaults, detach: false, keep: false, noSubreaper: false, ...opts });
}

/** `hako state`: the OCI state of one container. */
export async function state(rt: Context, id: string): Promise<OciState> {
  const { containerState } = await import('../runtime/state.ts');
  return containerState(rt, id);
}

/** `hako list`: every container in the state folder. */
export async function list(rt: Context): Promise<OciState[]> {
  const { listContainers } = await import('../runtime/state.ts');
  return listContainers(rt);
}

/** `hako kill`: a signal (name or number, default SIGTERM) to the init, or with `all` to every process. */
export async function kill(rt: Context, id: string, signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
  const { killContainer } = await import('../runtime/kill.ts');
  await killContainer(rt, id, String(signal), opts.all ?? false);
}

/** `hako delete`: removes a stopped container (any, with `force`: it is killed first). */
export async function deleteContainer(rt: Context, id: string, opts: { force?: boolean } = {}): Promise<void> {
  const { deleteContainer: remove } = await import('../runtime/delete.ts');
  await remove(rt, id, opts.force ?? false);
}

/** `hako pause`: freezes every process of the container. */
export async function pause(rt: Context, id: string): Promise<void> {
  const { pauseContainer } = await import('../runtime/pause.ts');
  await pauseContainer(rt, id);
}

/** `hako resume`: thaws a paused container. */
export async function resume(rt: Context, id: string): Promise<void> {
  const { resumeContainer } = await import('../runtime/pause.ts');
  await resumeContainer(rt, id);
}

/** `hako update`: new resource limits (runc's single flags, or `resources` naming a LinuxResources JSON file). */
export async function update(rt: Context, id: string, flags: UpdateFlags): Promise<void> {
  const { updateContainer } = await import('../runtime/update.ts');
  await updateContainer(rt, id, flags);
}

/** `hako exec`: a new process in the container; resolves with its exit status (0 at once with `detach`). */
export async function exec(rt: Context, id: string, opts: Partial<ExecOptions> & { args: string[] }): Promise<number> {
  const { execProcess } = await import('../runtime/exec.ts');
  return execProcess(rt, id, execOptions(opts));
}

/** Writes what the logger holds (a --log file); call before exiting. */
export async function flush(rt: Context): Promise<void> {
  await rt.logger.flush();
}
