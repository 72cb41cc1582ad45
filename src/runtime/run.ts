// `hako run`: create + start. Detached, it returns once the container runs. In the foreground it
// waits for the container, forwarding the signals hako receives to the init, returns the
// container's exit status (128+signal when killed), and deletes the container unless --keep.
// The executor stays as the init's parent in the foreground and exits with its status, so the
// status reaches node as its child's exit, and the init's pid can't be recycled while we signal it.
import type { RunOptions } from './options.ts';
import type { Context } from './context.ts';
import { createContainer, createInternal } from './create.ts';
import { deleteContainer } from './delete.ts';
import { releaseEarlySignals } from './early-signals.ts';
import { SignalForwarder, waitInForeground } from './foreground.ts';
import { startContainer } from './start.ts';
import { TerminalProxy } from './terminal.ts';

export async function runContainer(ctx: Context, id: string, flags: RunOptions): Promise<number> {
  if (flags.detach || flags.dryRun) {
    void releaseEarlySignals(); // nothing to forward them to
    await createContainer(ctx, id, flags);
    flags.timings?.mark('executor', 'the executor exits');
    if (flags.dryRun) return 0;
    await startOrDelete(ctx, id);
    flags.timings?.mark('start', 'release the init (exec fifo), poststart hooks');
    return 0;
  }
  // A terminal and no --console-socket: hako receives the pty master and proxies it (runc does).
  const terminal = await TerminalProxy.open(flags);
  const forwarder = new SignalForwarder(terminal !== undefined);
  let created;
  try {
    created = await createInternal(ctx, id, terminal?.createFlags ?? flags, true);
  } finally {
    if (!created) {
      terminal?.close();
      forwarder.stop();
    }
  }
  if (!created) return 0;
  try {
    return await waitInForeground(created.launched, forwarder, terminal, async () => {
      await startOrDelete(ctx, id);
      flags.timings?.mark('start', 'release the init (exec fifo), poststart hooks');
    });
  } finally {
    flags.timings?.mark('container', 'the process runs and exits');
    if (!flags.keep && ctx.store.exists(id)) await deleteContainer(ctx, id, true);
    flags.timings?.mark('delete', 'kill, remove the cgroups and the state');
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
