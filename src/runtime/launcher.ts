// Who forks the executor. Cold, launchPlan spawns it as node's child. Warm, the daemon
// (src/daemon/server.ts) asks its caller's front to fork it, so the executor is the caller's child
// and the init ends up with the caller's subreaper (containerd's shim, conmon), as when cold. The
// daemon serves one call at a time and sets the launcher for that call's duration.
import type { ExecutorExit } from './executor.ts';

export interface LaunchedExecutor {
  pid: number;
  /** This process's end of the SOCK_SEQPACKET channel (the executor's is its fd 3+preserveFds). */
  channel: number;
  exit: Promise<ExecutorExit>;
}

/** Starts `executorPath` with the caller's fds 0..2+preserveFds and the channel at 3+preserveFds. */
export type ExecutorLauncher = (executorPath: string, preserveFds: number) => Promise<LaunchedExecutor>;

let current: ExecutorLauncher | undefined;

export function currentLauncher(): ExecutorLauncher | undefined {
  return current;
}

export async function withLauncher<T>(launcher: ExecutorLauncher, fn: () => Promise<T>): Promise<T> {
  const previous = current;
  current = launcher;
  try {
    return await fn();
  } finally {
    current = previous;
  }
}
