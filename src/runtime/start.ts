// `hako start`: releases a created container's init into execve by opening its exec fifo for
// reading. The init is blocked in open(fifo, O_WRONLY); once we open the read side it writes one
// byte and execs. We open non-blocking and poll, so an init that died never hangs `start`.
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import type { Context } from './context.ts';
import { HakoError } from '../errors.ts';
import { runHooksWarning } from './hooks.ts';
import { isAlive } from './procfs.ts';
import { ociState } from './state.ts';
import { execFifoPath, statusOf } from './status.ts';

const START_TIMEOUT_MS = 10_000;

export async function startContainer(ctx: Context, id: string): Promise<void> {
  const { store } = ctx;
  await store.withLock(id, async () => {
    const record = store.read(id);
    const dir = store.dir(id);
    const status = statusOf(record, dir);
    if (status === 'stopped') throw new HakoError('cannot start a container that has stopped');
    if (status === 'running' || status === 'paused') throw new HakoError('cannot start an already running container');
    if (status !== 'created') throw new HakoError(`cannot start a container in the ${status} state`);
    await releaseInit(execFifoPath(dir), () => isAlive(record.init));
    ctx.logger.debug(`container ${id} started (init pid ${record.init?.pid})`);
    await runHooksWarning(record.config.hooks, 'poststart', ociState(record, dir), ctx.logger);
  });
}

/** Opens the fifo's read side and waits for the init's byte. */
export async function releaseInit(fifo: string, initAlive: () => boolean): Promise<void> {
  // (libuv opens every file O_CLOEXEC, so nothing we spawn later inherits it.)
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let answer: string | undefined;
    while ((answer = readAnswer(fd)) === undefined) {
      // No byte: no writer yet (the init is between its checks and its open) or no longer. The init may
      // have opened, written its byte, exec'd and exited since the read above: the byte stays in the
      // fifo while we hold the read side, so read once more after seeing it dead. A byte is a start,
      // whatever the init did next.
      if (!initAlive()) {
        if ((answer = readAnswer(fd)) !== undefined) break;
        throw new HakoError('cannot start container: its init process exited before start');
      }
      if (Date.now() > deadline) throw new HakoError('cannot start container: its init did not answer on the exec fifo');
      await new Promise((r) => setTimeout(r, 1));
    }
    // "0": started. "E<what>": a step after the go-ahead failed (a startContainer hook): the init
    // exits without running the process, so the container is stopped.
    if (answer.startsWith('E')) throw new HakoError(`cannot start container: ${answer.slice(1)}`);
  } finally {
    closeSync(fd);
  }
  // From here the container is running: the fifo's absence is what `state` reads.
  unlinkSync(fifo);
}

/** One non-blocking read of the init's answer (what one write put there), or undefined if none yet. */
function readAnswer(fd: number): string | undefined {
  const buf = Buffer.alloc(1024);
  try {
    const n = readSync(fd, buf, 0, buf.length, null);
    return n > 0 ? buf.subarray(0, n).toString('utf8') : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    return undefined;
  }
}
