// What a container may leave behind on the host, looked up for real: state folders, mounts,
// cgroup directories, processes. Tests assert the list is empty after delete or a failed create.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface LeakScope {
  /** the --root the test used */
  root: string;
  /** container ids the test used */
  ids: string[];
  /** folders (bundles) no mount may remain under */
  dirs: string[];
}

function cgroupHierarchies(): string[] {
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return [];
  return readdirSync(base).map((d) => join(base, d));
}

export function findLeaks(scope: LeakScope): string[] {
  const leaks: string[] = [];
  for (const id of scope.ids) {
    if (existsSync(join(scope.root, id))) leaks.push(`state folder ${join(scope.root, id)}`);
  }
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  for (const line of mountinfo) {
    const target = line.split(' ')[4];
    if (target && scope.dirs.some((d) => target.startsWith(d))) leaks.push(`mount ${target}`);
  }
  for (const h of [...cgroupHierarchies(), '/sys/fs/cgroup']) {
    for (const id of scope.ids) {
      const dir = join(h, 'hako-test', id);
      if (existsSync(dir)) leaks.push(`cgroup ${dir}`);
    }
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cgroup = '';
    try {
      cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (scope.ids.some((id) => cgroup.includes(`/hako-test/${id}\n`))) leaks.push(`process ${pid}`);
  }
  return leaks;
}
