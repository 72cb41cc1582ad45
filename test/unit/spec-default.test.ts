import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostDefaultSpec } from '../../src/runtime/spec.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import { parseConfig } from '../../src/spec/load.ts';

const bundle = mkdtempSync(join(tmpdir(), 'hako-spec-default-'));
mkdirSync(join(bundle, 'rootfs'));
afterAll(() => rmSync(bundle, { recursive: true, force: true }));

describe('defaultSpec', () => {
  it('passes hako\'s own checks, schema and semantic', () => {
    const spec = defaultSpec({});
    expect(parseConfig(JSON.stringify(spec), bundle)).toEqual(spec);
  });

  it('has runc spec\'s content, with hostname hako and spec 1.3.0', () => {
    const spec = defaultSpec({});
    expect(spec.ociVersion).toBe('1.3.0');
    expect(spec.hostname).toBe('hako');
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.process).toMatchObject({
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      cwd: '/',
      noNewPrivileges: true,
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    });
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    expect(spec.process?.capabilities).toEqual({ bounding: caps, effective: caps, permitted: caps });
    expect(spec.mounts?.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    expect(spec.linux?.namespaces?.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(spec.linux?.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux?.readonlyPaths).toContain('/proc/sys');
    expect(spec.linux?.resources).toEqual({ devices: [{ allow: false, access: 'rwm' }] });
  });

  it('rootless: user namespace mapping the caller, no network namespace, /sys bound, no uid=/gid=, no resources', () => {
    const spec = defaultSpec({ rootless: true, uid: 1000, gid: 1001 });
    expect(parseConfig(JSON.stringify(spec), bundle)).toEqual(spec);
    const linux = spec.linux!;
    expect(linux.namespaces?.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
    expect(linux.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
    expect(linux.gidMappings).toEqual([{ containerID: 0, hostID: 1001, size: 1 }]);
    expect(linux.resources).toBeUndefined();
    expect(spec.mounts?.find((m) => m.destination === '/sys')).toEqual({
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    expect(spec.mounts?.find((m) => m.destination === '/dev/pts')?.options).not.toContain('gid=5');
  });

  it('rootless defaults to the effective uid and gid', () => {
    const spec = defaultSpec({ rootless: true });
    expect(spec.linux?.uidMappings?.[0]?.hostID).toBe(process.geteuid!());
    expect(spec.linux?.gidMappings?.[0]?.hostID).toBe(process.getegid!());
  });

  it('hako spec: a cgroup namespace only on a pure cgroup v2 host, as runc', () => {
    const types = (spec: ReturnType<typeof defaultSpec>) => spec.linux?.namespaces?.map((n) => n.type);
    expect(types(hostDefaultSpec({}, () => 'v2'))).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(types(hostDefaultSpec({}, () => 'hybrid'))).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(types(hostDefaultSpec({}, () => 'v1'))).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(types(hostDefaultSpec({ rootless: true }, () => 'v2'))).toEqual(['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
    expect(types(hostDefaultSpec({ rootless: true }, () => 'hybrid'))).toEqual(['pid', 'ipc', 'uts', 'mount', 'user']);
    const none = () => {
      throw new Error('no cgroup filesystem');
    };
    expect(types(hostDefaultSpec({}, none))).not.toContain('cgroup');
    // Everything else is the same default spec.
    const v1 = hostDefaultSpec({}, () => 'v1');
    expect(parseConfig(JSON.stringify(v1), bundle)).toEqual(v1);
    expect({ ...v1, linux: { ...v1.linux, namespaces: [] } }).toEqual({ ...defaultSpec({}), linux: { ...defaultSpec({}).linux, namespaces: [] } });
  });

  it('returns a fresh object each time', () => {
    const a = defaultSpec({});
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    expect(defaultSpec({}).process?.capabilities?.bounding).toHaveLength(3);
  });
});
