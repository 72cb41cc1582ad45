// The first write to any cgroup.procs after a quiet spell waits for an RCU grace period: the
// kernel's cgroup_threadgroup_rwsem (one for every hierarchy, v1 and v2) switches its readers to
// the slow path before a writer may go, and back one grace period after the last writer left.
// On this project's VM that wait is 10-30 ms, and create used to pay it on its critical path,
// moving the executor into the container's cgroups (runc pays it too; only CLONE_INTO_CGROUP, v2
// only, or the host mounting its hierarchies with favordynmods avoid it).
//
// primeCgroupMigration() starts that wait early and off node's thread: it writes this process's
// own pid to the cgroup.procs of the cgroup it is already in (a migration to where it is: the
// kernel takes the lock, finds nothing to move), asynchronously on libuv's thread pool. While
// the grace period runs, node compiles and encodes the plan and spawns the executor; the real
// write then comes within the grace period after the prime's (the lock stays in its writer
// mode that long) and does not wait. Timing matters: primed too early (at the start of create),
// the window has closed again by the join; create primes right before it compiles the plan
// (measured: the join 14.9 → 0.9 ms median; primed at the start of create 11.4 ms).
// Nothing depends on it: any error (read-only cgroupfs, no permission, an odd layout) leaves
// create as it was. (libuv opens every file close-on-exec.)
import { closeSync, constants, openSync, write } from 'node:fs';
import { join, relative } from 'node:path';
import { readHost, readProcSelfCgroup, type CgroupHost, type HostOptions } from './host.ts';

/**
 * The cgroup.procs files of this process's own cgroups, hierarchies without controllers first
 * (a named v1 hierarchy, the unified one: nothing to charge or check there).
 */
export function ownProcsFiles(opts: HostOptions & { host?: CgroupHost } = {}): string[] {
  const host = opts.host ?? readHost(opts);
  const own = readProcSelfCgroup(opts);
  const files: { file: string; rank: number }[] = [];
  const add = (mountPoint: string, root: string, path: string | undefined, rank: number) => {
    if (path === undefined) return;
    const rel = relative(root, path);
    if (rel.startsWith('..')) return; // our cgroup is outside what this mount shows
    files.push({ file: join(mountPoint, rel, 'cgroup.procs'), rank });
  };
  for (const h of host.v1) add(h.mountPoint, h.root, own.get(h.controllers.join(',')), h.controllers.every((c) => c.startsWith('name=')) ? 0 : 2);
  if (host.unified) add(host.unified.mountPoint, host.unified.root, own.get(''), 1);
  return files.sort((a, b) => a.rank - b.rank).map((f) => f.file);
}

/** Starts the grace period of the first cgroup migration now, in the background (see above). */
export function primeCgroupMigration(host?: CgroupHost): void {
  let files: string[];
  try {
    files = ownProcsFiles({ host });
  } catch {
    return;
  }
  // Opened here (microseconds), written on the thread pool: the write goes at once, whatever
  // node's thread does next (a callback would wait until it yields).
  for (const file of files) {
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY);
    } catch {
      continue;
    }
    write(fd, String(process.pid), () => closeSync(fd));
    return;
  }
}
