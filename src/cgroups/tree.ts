// Creating and removing cgroup directories, shared by v1 and v2.

import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { HakoError } from '../errors.ts';
import { errnoCode, mkdirOne, readProcs, readProcsRecursive, sleep, subCgroups, tryRmdir } from './fsutil.ts';

/**
 * mkdir -p `dir`, pushing every directory this call created onto `created` (top-down), so the
 * caller can later remove exactly those. Returns the directories created by this call.
 */
export function makeCgroupDirs(dir: string, created: string[]): string[] {
  const mine: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const missing: string[] = [];
    for (let d = dir; !existsSync(d); d = dirname(d)) {
      if (d === '/') break;
      missing.unshift(d);
    }
    try {
      for (const d of missing) {
        if (mkdirOne(d)) {
          created.push(d);
          mine.push(d);
        }
      }
      return mine;
    } catch (err) {
      // A shared parent removed meanwhile by another container's delete: walk again.
      if (errnoCode(err) !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

/** Sub-cgroups first, then `dir`. Returns the first errno that stopped it, undefined when gone. */
function removeTreeOnce(dir: string): string | undefined {
  for (const sub of subCgroups(dir)) {
    const err = removeTreeOnce(sub);
    if (err) return err;
  }
  return tryRmdir(dir);
}

/**
 * Remove `dir` and any sub-cgroups the container made below it. EBUSY (processes still leaving)
 * and ENOTEMPTY (a sub-cgroup appearing meanwhile) are retried with a doubling delay
 * (10 ms … 160 ms, like runc); an already-gone directory is success.
 */
export async function removeCgroupTree(dir: string, attempts = 5): Promise<void> {
  let delay = 10;
  for (let i = 0; ; i++) {
    const err = removeTreeOnce(dir);
    if (!err) return;
    if ((err !== 'EBUSY' && err !== 'ENOTEMPTY') || i + 1 >= attempts) {
      throw new HakoError(`cgroup: remove ${dir}: ${errnoText(err)}`);
    }
    await sleep(delay);
    delay *= 2;
  }
}

/**
 * Remove `dir`, a cgroup this runtime created, with the empty sub-cgroups below it (its processes
 * may have made some). A sub-cgroup that still holds processes once removeCgroupTree's retries are
 * spent is not the container's (its own are dead by now): another container's cgroup nested below
 * this one. Then `dir` is left in place, and the warning says why; nothing in it is touched.
 * `othersMayRemain`: processes still in `dir` itself are someone else's too (a shared cgroup whose
 * own processes died with the container's pid namespace): leave it the same way.
 */
export async function removeOwnedCgroup(dir: string, othersMayRemain = false): Promise<{ warning?: string; error?: string }> {
  try {
    await removeCgroupTree(dir);
    return {};
  } catch (err) {
    if (othersMayRemain && readProcs(dir).length > 0) {
      return { warning: `cgroup ${dir} left in place: it holds processes that are not this container's (${readProcs(dir).join(' ')})` };
    }
    const busy = subCgroups(dir).find((sub) => readProcsRecursive(sub).length > 0);
    if (busy !== undefined && readProcs(dir).length === 0) {
      return { warning: `cgroup ${dir} left in place: ${busy} below it holds processes that are not this container's` };
    }
    return { error: (err as Error).message };
  }
}

/**
 * Remove parents this runtime created (deepest first), leaving any that are in use
 * (ENOTEMPTY: another container's cgroup below; EBUSY: processes). Returns what was left.
 */
export function removeCreatedParents(created: readonly string[], leaves: ReadonlySet<string>): string[] {
  const left: string[] = [];
  const parents = created.filter((d) => !leaves.has(d)).sort((a, b) => b.length - a.length);
  for (const d of parents) {
    const err = tryRmdir(d);
    if (err) left.push(d);
  }
  return left;
}

function errnoText(code: string): string {
  switch (code) {
    case 'EBUSY':
      return 'device or resource busy';
    case 'ENOTEMPTY':
      return 'directory not empty';
    case 'EACCES':
      return 'permission denied';
    case 'EPERM':
      return 'operation not permitted';
    case 'EROFS':
      return 'read-only file system';
    default:
      return code.toLowerCase();
  }
}
