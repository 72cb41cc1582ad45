// Where a container's cgroup goes: `linux.cgroupsPath` resolved like runc's cgroupfs driver.
//   absolute `/a/b`  → <mount point of each hierarchy>/a/b
//   relative `a/b`   → <the runtime's own cgroup in each hierarchy>/a/b (v1 and hybrid),
//                      <the parent of the runtime's own cgroup>/a/b on pure v2 (runc's fs2 does
//                      this: its own cgroup has processes, so it cannot hold child domains)
//   absent or ''     → the relative path `<container id>` (runc: Name = id, Path = "")
// `..` that climbs above the base is rejected (runc clamps it silently); a path naming the base
// itself (`/`, `.`) is rejected too, since kill --all and delete would then act on the host's cgroup.
// With --systemd-cgroup the path is `slice:prefix:name`, for the systemd driver (not built yet).

import { join } from 'node:path';
import { ConfigError, HakoError, NotImplementedError } from '../errors.ts';
import type { CgroupHost } from './host.ts';

/** Key of the cgroup2 hierarchy in `paths` (pure v2 and hybrid alike). */
export const UNIFIED = 'unified';

export interface PathOptions {
  id: string;
  cgroupsPath?: string | undefined;
  systemd?: boolean | undefined;
}

/** Lexically clean `p`: parts without '', '.', and with '..' applied; throws when '..' climbs out. */
export function cleanCgroupPath(p: string): { absolute: boolean; parts: string[] } {
  if (p.includes('\0')) throw new ConfigError([`config.json: linux.cgroupsPath: contains a NUL byte`]);
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) {
        throw new ConfigError([`config.json: linux.cgroupsPath: "${p}" climbs out of its cgroup hierarchy with ..`]);
      }
      parts.pop();
      continue;
    }
    parts.push(seg);
  }
  return { absolute: p.startsWith('/'), parts };
}

/** `slice:prefix:name` of the systemd driver, checked like runc. */
export function parseSystemdCgroupPath(p: string): { slice: string; prefix: string; name: string } {
  const parts = p.split(':');
  if (parts.length !== 3) {
    throw new ConfigError([
      `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${p}" instead`,
    ]);
  }
  const [slice = '', prefix = '', name = ''] = parts;
  return { slice, prefix, name };
}

/** The systemd driver: refused here with a clear reason; the parsing is ready for when it exists. */
export function checkSystemdDriver(opts: PathOptions, systemdAvailable: boolean): never {
  if (!systemdAvailable) {
    throw new HakoError('systemd cgroup driver is not supported on this host: no systemd');
  }
  if (opts.cgroupsPath) parseSystemdCgroupPath(opts.cgroupsPath);
  throw new NotImplementedError('the systemd cgroup driver');
}

/** `path` from /proc/self/cgroup, made relative to a mount whose root is `mountRoot`. */
function ownPathUnder(mountRoot: string, procPath: string): string {
  if (mountRoot === '/' || mountRoot === '') return procPath;
  if (procPath === mountRoot) return '/';
  if (procPath.startsWith(mountRoot + '/')) return procPath.slice(mountRoot.length);
  // A cgroup namespace already shows paths relative to its root, which is what got mounted.
  return procPath;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/**
 * Absolute directory of the container's cgroup in every hierarchy of `host`, keyed by controller
 * (`cpu`, `cpuacct`, `name=systemd`…; comounted controllers share a directory) and `unified`.
 * `procSelfCgroup` is only called for relative paths.
 */
export function resolveCgroupPaths(
  host: CgroupHost,
  opts: PathOptions,
  procSelfCgroup: () => Map<string, string>,
): Record<string, string> {
  if (!opts.cgroupsPath) {
    if (!opts.id || opts.id.includes('/') || opts.id === '.' || opts.id === '..') {
      throw new HakoError(`cgroup: container id "${opts.id}" cannot name a cgroup`);
    }
  }
  const { absolute, parts } = cleanCgroupPath(opts.cgroupsPath || opts.id);
  if (parts.length === 0) {
    throw new ConfigError([
      `config.json: linux.cgroupsPath: "${opts.cgroupsPath}" names the ${absolute ? 'root cgroup' : "runtime's own cgroup"}, not a cgroup of its own`,
    ]);
  }
  const inner = parts.join('/');
  const own = absolute ? undefined : procSelfCgroup();
  const paths: Record<string, string> = {};
  for (const h of host.v1) {
    let base = h.mountPoint;
    if (own) base = join(h.mountPoint, ownPathUnder(h.root, own.get(h.controllers.join(',')) ?? '/'));
    const dir = join(base, inner);
    for (const c of h.controllers) paths[c] = dir;
  }
  if (host.unified) {
    const u = host.unified;
    let base = u.mountPoint;
    if (own) {
      const mine = ownPathUnder(u.root, own.get('') ?? '/');
      base = join(u.mountPoint, host.mode === 'v2' ? parentOf(mine) : mine);
    }
    paths[UNIFIED] = join(base, inner);
  }
  return paths;
}
