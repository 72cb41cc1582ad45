// pidfds: a handle on one process that never comes to mean another one, however pids are recycled.
import { closeSync } from 'node:fs';
import { lastErrno, libcFunction, systemError } from './libc.ts';

/** pidfd_open(2). Throws ESRCH when there is no such process. */
export async function pidfdOpen(pid: number): Promise<number> {
  const fn = await libcFunction('int pidfd_open(int pid, unsigned int flags)');
  const fd = fn(pid, 0) as number;
  if (fd < 0) throw systemError('pidfd_open', lastErrno());
  return fd;
}

/** pidfd_send_signal(2). Throws ESRCH when the process has exited. */
export async function pidfdSendSignal(pidfd: number, signal: number): Promise<void> {
  const fn = await libcFunction('int pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags)');
  if ((fn(pidfd, signal, null, 0) as number) < 0) throw systemError('pidfd_send_signal', lastErrno());
}

/**
 * Opens a pidfd for `pid`, lets `check` confirm it is the expected process (now that the pid is
 * pinned to this process, the check can't be fooled by reuse), and runs `fn` with it.
 */
export async function withPidfd<T>(pid: number, check: () => boolean, fn: (pidfd: number) => Promise<T>): Promise<T | undefined> {
  let pidfd: number;
  try {
    pidfd = await pidfdOpen(pid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
  try {
    if (!check()) return undefined;
    return await fn(pidfd);
  } finally {
    closeSync(pidfd);
  }
}
