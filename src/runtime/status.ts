// The OCI status of a container, derived from hako's record and the live system:
//   creating  the record exists, no init yet, and the `hako create` building it is alive
//   created   the init is alive and still blocked on the exec fifo
//   running   the init is alive and has been started
//   paused    running, with its cgroup frozen
//   stopped   the init has exited (or never came to be and its creator is gone)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from '../state/record.ts';
import { isAlive } from './procfs.ts';
import { isFrozen } from './cgroups.ts';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export const EXEC_FIFO = 'exec.fifo';

export function execFifoPath(containerDir: string): string {
  return join(containerDir, EXEC_FIFO);
}

export function statusOf(record: ContainerRecord, containerDir: string): ContainerStatus {
  if (!record.init) return isAlive(record.creator) ? 'creating' : 'stopped';
  if (!isAlive(record.init)) return 'stopped';
  if (existsSync(execFifoPath(containerDir))) return 'created';
  return isFrozen(record) ? 'paused' : 'running';
}
