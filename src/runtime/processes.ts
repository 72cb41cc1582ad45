// Signalling and waiting for container processes that are not our children (the init belongs
// to the caller's subreaper once `create` has returned).
import { HakoError } from '../errors.ts';
import type { ProcessIdentity } from '../state/record.ts';
import { isAlive } from './procfs.ts';

/**
 * Sends `signal` to the recorded process, and only to it: a pidfd pins the pid, then the identity
 * (pid + start time) is checked, so a recycled pid is never hit.
 */
export async function signalProcess(identity: ProcessIdentity, signal: number): Promise<void> {
  const { withPidfd, pidfdSendSignal } = await import('../linux/pidfd.ts');
  const sent = await withPidfd(
    identity.pid,
    () => isAlive(identity),
    async (pidfd) => {
      try {
        await pidfdSendSignal(pidfd, signal);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
        throw err;
      }
    },
  );
  // containerd reads "container not running" as "already exited".
  if (!sent) throw new HakoError('container not running');
}

/** Waits until the process has exited (or became a zombie), up to `timeoutMs`. */
export async function waitForExit(identity: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = 1;
  while (isAlive(identity)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 20);
  }
  return true;
}
