// The lifecycle's view of cgroups: rebuilds the container's cgroup manager from its record.
// Filled in on top of src/cgroups once that lands.
import type { ContainerRecord } from '../state/record.ts';

export function isFrozen(_record: ContainerRecord): boolean {
  return false;
}

export interface ContainerCgroups {
  pids(): number[];
  signalAll(signal: number): void;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  destroy(): Promise<void>;
}

export function containerCgroups(_record: ContainerRecord): ContainerCgroups | undefined {
  return undefined;
}
