// A container without a mount namespace makes its mounts in the runtime's own mount table: the
// rootfs bound onto itself, and below it every mount of the config, /dev, masks and read-only
// paths. Nothing else removes them (runc 1.1.5 leaves seven behind after delete), so create notes
// which mounts under the rootfs were there before it, and delete (and a failed create) detaches
// every other one.
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { mountinfoEntries, type MountinfoEntry } from '../plan/host-facts.ts';
import { MNT_DETACH, UMOUNT_NOFOLLOW } from '../plan/constants.ts';
import type { HostMounts } from '../state/record.ts';

export type { HostMounts };

const under = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

function mountsUnder(rootfs: string): MountinfoEntry[] {
  return mountinfoEntries(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => under(m.mountPoint, rootfs));
}

/** Before the executor runs: what is mounted under the rootfs already. */
export function snapshotHostMounts(rootfs: string): HostMounts {
  const real = realpathSync(rootfs);
  return { rootfs: real, keep: mountsUnder(real).map((m) => m.id) };
}

/**
 * No path from the rootfs down to `path` may be a symlink: the container's processes are gone when
 * this runs, but it may have left links where its mount points' parents were.
 */
function linkFree(rootfs: string, path: string): boolean {
  let p = rootfs;
  for (const part of posix.relative(rootfs, path).split('/').filter(Boolean)) {
    p = posix.join(p, part);
    try {
      if (lstatSync(p).isSymbolicLink()) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Detaches every mount under the rootfs that create did not find there, shallowest first (a
 * detach takes the mounts below it along). Returns what could not be removed, as warnings.
 */
export async function unmountHostMounts(hostMounts: HostMounts): Promise<string[]> {
  const { umount2 } = await import('../linux/libc.ts');
  const keep = new Set(hostMounts.keep);
  const failed = new Set<number>();
  const warnings: string[] = [];
  // Each round re-reads the table: a detach removes a whole subtree, and stacked mounts show up again.
  for (let round = 0; round < 1000; round++) {
    const ours = mountsUnder(hostMounts.rootfs).filter((m) => !keep.has(m.id) && !failed.has(m.id));
    if (ours.length === 0) break;
    const next = ours.reduce((a, b) => (b.mountPoint.length < a.mountPoint.length ? b : a));
    if (!linkFree(hostMounts.rootfs, next.mountPoint)) {
      failed.add(next.id);
      warnings.push(`mount ${next.mountPoint} left in place: a symlink is on its path`);
      continue;
    }
    try {
      await umount2(next.mountPoint, MNT_DETACH | UMOUNT_NOFOLLOW);
    } catch (err) {
      failed.add(next.id);
      warnings.push(`unmounting ${next.mountPoint}: ${(err as Error).message}`);
    }
  }
  return warnings;
}
