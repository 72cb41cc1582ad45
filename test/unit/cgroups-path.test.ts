// linux.cgroupsPath resolution against fixture hosts (no root needed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cgroupManagerFor,
  cleanCgroupPath,
  parseMountinfo,
  parseProcCgroup,
  parseSystemdCgroupPath,
  resolveCgroupPaths,
} from '../../src/cgroups/index.ts';
import { ConfigError, HakoError, NotImplementedError } from '../../src/errors.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/cgroups', name), 'utf8');
const hosts = {
  v1: parseMountinfo(fixture('v1.mountinfo')),
  v2: parseMountinfo(fixture('v2.mountinfo')),
  hybrid: parseMountinfo(fixture('hybrid.mountinfo')),
};
const self = {
  v1: () => parseProcCgroup(fixture('v1.proc-cgroup')),
  v2: () => parseProcCgroup(fixture('v2.proc-cgroup')),
  hybrid: () => parseProcCgroup(fixture('hybrid.proc-cgroup')),
};
const noSelf = () => {
  throw new Error('/proc/self/cgroup must not be read for an absolute path');
};

describe('cleanCgroupPath', () => {
  it('drops empty and . segments and applies .. inside the path', () => {
    expect(cleanCgroupPath('/a//b/./c/../d/')).toEqual({ absolute: true, parts: ['a', 'b', 'd'] });
    expect(cleanCgroupPath('x/y')).toEqual({ absolute: false, parts: ['x', 'y'] });
  });

  it('rejects .. that climbs out of its base', () => {
    expect(() => cleanCgroupPath('/../etc')).toThrow(ConfigError);
    expect(() => cleanCgroupPath('a/../../b')).toThrow(/climbs out of its cgroup hierarchy/);
    expect(() => cleanCgroupPath('/a\0b')).toThrow(/NUL/);
  });
});

describe('resolveCgroupPaths', () => {
  it('absolute: under every hierarchy mount point, comounted controllers share a directory', () => {
    const p = resolveCgroupPaths(hosts.v1, { id: 'c1', cgroupsPath: '/kubepods/pod1/c1' }, noSelf);
    expect(p.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1');
    expect(p.cpuacct).toBe(p.cpu);
    expect(p.net_cls).toBe('/sys/fs/cgroup/net_cls,net_prio/kubepods/pod1/c1');
    expect(p['name=systemd']).toBe('/sys/fs/cgroup/systemd/kubepods/pod1/c1');
    expect(p.memory).toBe('/sys/fs/cgroup/memory/kubepods/pod1/c1');
    expect(p.unified).toBeUndefined();
    expect(Object.keys(p)).toHaveLength(13);
  });

  it('absolute on v2 and hybrid', () => {
    expect(resolveCgroupPaths(hosts.v2, { id: 'c1', cgroupsPath: '/machine/c1' }, noSelf)).toEqual({
      unified: '/sys/fs/cgroup/machine/c1',
    });
    const h = resolveCgroupPaths(hosts.hybrid, { id: 'c1', cgroupsPath: '/machine/c1' }, noSelf);
    expect(h.unified).toBe('/sys/fs/cgroup/unified/machine/c1');
    expect(h.freezer).toBe('/sys/fs/cgroup/freezer/machine/c1');
    expect(h['name=systemd']).toBe('/sys/fs/cgroup/systemd/machine/c1');
  });

  it('relative on v1: below the runtime’s own cgroup in each hierarchy', () => {
    const p = resolveCgroupPaths(hosts.v1, { id: 'c1', cgroupsPath: 'mine/c1' }, self.v1);
    expect(p.memory).toBe('/sys/fs/cgroup/memory/system.slice/containerd.service/mine/c1');
    expect(p.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct/system.slice/containerd.service/mine/c1');
    expect(p.cpuset).toBe('/sys/fs/cgroup/cpuset/mine/c1');
  });

  it('relative on pure v2: below the parent of the runtime’s own cgroup (runc fs2)', () => {
    const p = resolveCgroupPaths(hosts.v2, { id: 'c1', cgroupsPath: 'c1' }, self.v2);
    expect(p).toEqual({ unified: '/sys/fs/cgroup/user.slice/user-1000.slice/c1' });
  });

  it('absent: the container id, relative (runc: Name = id, Path = "")', () => {
    expect(resolveCgroupPaths(hosts.v2, { id: 'web' }, self.v2)).toEqual({
      unified: '/sys/fs/cgroup/user.slice/user-1000.slice/web',
    });
    const h = resolveCgroupPaths(hosts.hybrid, { id: 'web', cgroupsPath: '' }, self.hybrid);
    expect(h.memory).toBe('/sys/fs/cgroup/memory/session/abc/web');
    expect(h.pids).toBe('/sys/fs/cgroup/pids/web');
    expect(h.unified).toBe('/sys/fs/cgroup/unified/web');
  });

  it('relative paths below a mount whose root is a subtree', () => {
    const host = parseMountinfo('60 70 0:29 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n');
    const p = resolveCgroupPaths(host, { id: 'c1' }, () => parseProcCgroup('0::/docker/abc/init\n'));
    expect(p.unified).toBe('/sys/fs/cgroup/c1');
  });

  it('refuses paths that name the hierarchy root or the runtime’s own cgroup', () => {
    expect(() => resolveCgroupPaths(hosts.v2, { id: 'c', cgroupsPath: '/' }, noSelf)).toThrow(/root cgroup/);
    expect(() => resolveCgroupPaths(hosts.v2, { id: 'c', cgroupsPath: '/a/..' }, noSelf)).toThrow(ConfigError);
    expect(() => resolveCgroupPaths(hosts.v1, { id: 'c', cgroupsPath: '.' }, self.v1)).toThrow(/runtime's own cgroup/);
    expect(() => resolveCgroupPaths(hosts.v1, { id: 'c', cgroupsPath: '../x' }, self.v1)).toThrow(/climbs out/);
  });

  it('refuses an id that cannot be a cgroup name when it is the default', () => {
    expect(() => resolveCgroupPaths(hosts.v2, { id: '..' }, self.v2)).toThrow(HakoError);
    expect(() => resolveCgroupPaths(hosts.v2, { id: 'a/b' }, self.v2)).toThrow(/cannot name a cgroup/);
  });
});

describe('systemd driver', () => {
  it('is refused on a host without systemd', () => {
    const f = () => cgroupManagerFor({ id: 'c', cgroupsPath: 'system.slice:hako:c', systemd: true, systemdAvailable: false });
    expect(f).toThrow('systemd cgroup driver is not supported on this host: no systemd');
  });

  it('checks the slice:prefix:name shape, then reports the driver as not built yet', () => {
    const bad = () => cgroupManagerFor({ id: 'c', cgroupsPath: '/a/b', systemd: true, systemdAvailable: true });
    expect(bad).toThrow('expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/a/b" instead');
    const good = () => cgroupManagerFor({ id: 'c', cgroupsPath: 'system.slice:hako:c', systemd: true, systemdAvailable: true });
    expect(good).toThrow(NotImplementedError);
    expect(parseSystemdCgroupPath('machine.slice:libpod:abc')).toEqual({ slice: 'machine.slice', prefix: 'libpod', name: 'abc' });
  });
});

describe('cgroupManagerFor with injected host texts', () => {
  it('builds a manager whose state carries the mode and paths', () => {
    const m = cgroupManagerFor({ id: 'c9', mountinfo: fixture('hybrid.mountinfo'), procSelfCgroup: fixture('hybrid.proc-cgroup') });
    expect(m.mode).toBe('hybrid');
    expect(m.state()).toEqual({ mode: 'hybrid', paths: m.paths, created: [] });
    expect(m.paths.memory).toBe('/sys/fs/cgroup/memory/session/abc/c9');
  });
});
