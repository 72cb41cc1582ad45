// `hako run`: create + start. Detached, it returns once the container runs. In the foreground it
// waits for the container, forwarding the signals hako receives to the init, returns the
// container's exit status (128+signal when killed), and deletes the container unless --keep.
// The executor stays as the init's parent in the foreground and exits with its status, so the
// status reaches node as its child's exit, and the init's pid can't be recycled while we signal it.
import { constants } from 'node:os';
import type { RunFlags } from '../cli/commands/lifecycle.ts';
import type { Context } from '../cli/context.ts';
import { createContainer, createInternal } from './create.ts';
import { deleteContainer } from './delete.ts';
import { startContainer } from './start.ts';
import { TerminalProxy } from './terminal.ts';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

export async function runContainer(ctx: Context, id: string, flags: RunFlags): Promise<number> {
  if (flags.detach || flags.dryRun) {
    await createContainer(ctx, id, flags);
    if (flags.dryRun) return 0;
    await startOrDelete(ctx, id);
    return 0;
  }
  // A terminal and no --console-socket: hako receives the pty master and proxies it (runc does).
  const terminal = await TerminalProxy.open(flags);
  let created;
  try {
    created = await createInternal(ctx, id, terminal?.createFlags ?? flags, true);
  } finally {
    if (!created) terminal?.close();
  }
  if (!created) return 0;
  const { launched } = created;
  const forward = (signal: NodeJS.Signals) => {
    try {
      process.kill(launched.initPid, signal);
    } catch {
      // it exited: the executor is about to report it
    }
  };
  // With hako's own terminal, SIGWINCH resizes the pty (the kernel then signals the container).
  for (const s of FORWARDED) if (!(terminal && s === 'SIGWINCH')) process.on(s, forward);
  try {
    await terminal?.attach();
    await startOrDelete(ctx, id);
    const exit = await launched.executorExit;
    await terminal?.finish();
    if (exit.code !== null) return exit.code;
    return 128 + (exit.signal ? constants.signals[exit.signal] : 0);
  } finally {
    terminal?.close();
    for (const s of FORWARDED) process.off(s, forward);
    if (!flags.keep && ctx.store.exists(id)) await deleteContainer(ctx, id, true);
  }
}

async function startOrDelete(ctx: Context, id: string): Promise<void> {
  try {
    await startContainer(ctx, id);
  } catch (err) {
    await deleteContainer(ctx, id, true);
    throw err;
  }
}
