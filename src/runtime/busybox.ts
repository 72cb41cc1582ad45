// A root filesystem in a few milliseconds from Debian's busybox-static: used by `hako demo`,
// and by the tests as their container image.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HakoError } from '../errors.ts';

export const BUSYBOX = '/bin/busybox';

let applets: string[] | undefined;

function listApplets(busybox: string): string[] {
  if (!existsSync(busybox)) {
    throw new HakoError(`${busybox} not found: install busybox-static (apt-get install busybox-static) for a demo root filesystem`);
  }
  applets ??= execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return applets;
}

/** Makes `rootfs` a minimal busybox system: /bin/busybox, one symlink per applet, passwd and group. */
export function makeBusyboxRootfs(rootfs: string, busybox = BUSYBOX): void {
  const names = listApplets(busybox);
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var/run']) {
    mkdirSync(join(rootfs, d), { recursive: true });
  }
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  // A copy, never a hard link: a test that chowns its rootfs (user namespaces) would change the
  // host's own busybox through a shared inode.
  copyFileSync(busybox, join(rootfs, 'bin/busybox'));
  for (const path of names) {
    if (path === 'bin/busybox') continue;
    const link = join(rootfs, path);
    mkdirSync(dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync('/bin/busybox', link);
  }
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  writeFileSync(join(rootfs, 'etc/hostname'), 'busybox\n');
}
