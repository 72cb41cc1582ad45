// The lifecycle's view of cgroups: the manager rebuilt from what `create` recorded, so later
// commands never re-resolve cgroupsPath.
import { loadCgroupManager, type CgroupManager } from '../cgroups/index.ts';
import type { ContainerRecord } from '../state/record.ts';

export function containerCgroups(record: ContainerRecord): CgroupManager | undefined {
  return record.cgroups ? loadCgroupManager(record.cgroups) : undefined;
}

export function isFrozen(record: ContainerRecord): boolean {
  const cgroups = containerCgroups(record);
  return cgroups !== undefined && cgroups.exists() && cgroups.isFrozen();
}
