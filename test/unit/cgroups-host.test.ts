// Host detection and hierarchy discovery from mountinfo fixtures (no root needed).
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCgroupMode, parseMountinfo, parseProcCgroup } from '../../src/cgroups/index.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/cgroups', name), 'utf8');

describe('parseMountinfo', () => {
  it('finds every v1 hierarchy and the cgroup2 mount of a hybrid host', () => {
    const host = parseMountinfo(fixture('hybrid.mountinfo'));
    expect(host.mode).toBe('hybrid');
    expect(host.unified).toEqual({ mountPoint: '/sys/fs/cgroup/unified', root: '/' });
    expect(host.v1.map((h) => h.controllers.join(','))).toEqual([
      'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd',
    ]);
    expect(host.v1.find((h) => h.controllers[0] === 'name=systemd')?.mountPoint).toBe('/sys/fs/cgroup/systemd');
  });

  it('reads a pure v2 host as one cgroup2 mount', () => {
    const host = parseMountinfo(fixture('v2.mountinfo'));
    expect(host).toEqual({ mode: 'v2', v1: [], unified: { mountPoint: '/sys/fs/cgroup', root: '/' } });
  });

  it('keeps comounted controllers together and drops mount options and bind-mount duplicates', () => {
    const host = parseMountinfo(fixture('v1.mountinfo'));
    expect(host.mode).toBe('v1');
    expect(host.unified).toBeUndefined();
    const byKey = new Map(host.v1.map((h) => [h.controllers.join(','), h]));
    expect(byKey.get('cpu,cpuacct')?.mountPoint).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(byKey.get('net_cls,net_prio')?.mountPoint).toBe('/sys/fs/cgroup/net_cls,net_prio');
    // xattr and release_agent= are options, not controllers; clone_children too.
    expect(byKey.has('name=systemd')).toBe(true);
    expect(byKey.has('cpuset')).toBe(true);
    // The second memory mount (a bind of /docker) does not replace the first.
    expect(byKey.get('memory')).toEqual({ controllers: ['memory'], mountPoint: '/sys/fs/cgroup/memory', root: '/' });
    expect(host.v1).toHaveLength(11);
  });

  it('unescapes mount points and keeps a non-/ mount root', () => {
    const host = parseMountinfo('60 70 0:29 /docker/abc /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n');
    expect(host.unified).toEqual({ mountPoint: '/mnt/my cgroup', root: '/docker/abc' });
  });

  it('treats a named-only v1 hierarchy next to cgroup2 as a v2 host', () => {
    const text = fixture('v2.mountinfo') + '40 26 0:40 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n';
    const host = parseMountinfo(text);
    expect(host.mode).toBe('v2');
    expect(host.v1).toEqual([]);
  });

  it('refuses a host without cgroups', () => {
    expect(() => parseMountinfo('28 1 8:1 / / rw - ext4 /dev/sda1 rw\n')).toThrow(/no cgroup filesystem/);
  });
});

describe('detectCgroupMode', () => {
  it('decides from an injected mountinfo', () => {
    expect(detectCgroupMode({ mountinfo: fixture('v2.mountinfo') })).toBe('v2');
    expect(detectCgroupMode({ mountinfo: fixture('v1.mountinfo') })).toBe('v1');
    expect(detectCgroupMode({ mountinfo: fixture('hybrid.mountinfo') })).toBe('hybrid');
  });

  it('refuses a root that holds no cgroup filesystem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hako-unit-cg-'));
    try {
      expect(() => detectCgroupMode({ root: dir })).toThrow(/no cgroup filesystem mounted/);
      expect(() => detectCgroupMode({ root: join(dir, 'missing') })).toThrow(/no cgroup filesystem mounted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseProcCgroup', () => {
  it('keys v1 lines by sorted controllers and the v2 line by ""', () => {
    const m = parseProcCgroup(fixture('v1.proc-cgroup'));
    expect(m.get('cpu,cpuacct')).toBe('/system.slice/containerd.service');
    expect(m.get('name=systemd')).toBe('/system.slice/containerd.service');
    expect(m.get('net_cls,net_prio')).toBe('/');
    const v2 = parseProcCgroup('0::/user.slice/x.scope (deleted)\n');
    expect(v2.get('')).toBe('/user.slice/x.scope');
  });
});
