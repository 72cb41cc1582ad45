// cgroup v1 edge cases against a tmp-dir tree playing cgroupfs: controllers the host does not have,
// runc's error words, an existing empty cpuset parent, an already frozen cgroup.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCgroupManager } from '../../src/cgroups/index.ts';
import { writePid } from '../../src/cgroups/fsutil.ts';
import { applyV1 } from '../../src/cgroups/resources.ts';
import { V1Cgroups } from '../../src/cgroups/v1.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hako-test-cgv1-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function cgroup(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value);
  return dir;
}

describe('applyV1: a value for a controller the host does not have is an error naming the field', () => {
  const paths = () => ({ memory: cgroup(join(root, 'memory/c1'), { 'memory.limit_in_bytes': '' }) });
  const noDevices = { noDefaultDevices: true };

  it.each([
    [{ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, 'hugepageLimits[0]', 'hugetlb'],
    [{ network: { classID: 1048577 } }, 'network.classID', 'net_cls'],
    [{ network: { priorities: [{ name: 'lo', priority: 1 }] } }, 'network.priorities[0]', 'net_prio'],
    [{ pids: { limit: 10 } }, 'pids.limit', 'pids'],
    [{ cpu: { shares: 512 } }, 'cpu.shares', 'cpu'],
    [{ cpu: { shares: 0, quota: 20000 } }, 'cpu.quota', 'cpu'],
    [{ cpu: { cpus: '0' } }, 'cpu.cpus', 'cpuset'],
    [{ blockIO: { weight: 300 } }, 'blockIO.weight', 'blkio'],
    [{ rdma: { mlx5_0: { hcaHandles: 3 } } }, 'rdma', 'rdma'],
  ])('%j', (resources, field, controller) => {
    expect(() => applyV1(paths(), resources, noDevices)).toThrow(
      `linux.resources.${field}: cannot set: no ${controller} cgroup hierarchy is mounted on this host`,
    );
  });

  it('names the first field of an object that asks for something', () => {
    expect(() => applyV1({}, { memory: { limit: 0, reservation: 1048576 } }, noDevices)).toThrow(
      'linux.resources.memory.reservation: cannot set: no memory cgroup hierarchy is mounted on this host',
    );
  });

  it('values that ask for nothing need no controller', () => {
    expect(applyV1(paths(), { pids: { limit: -1 }, cpu: { shares: 0, quota: -1 }, network: { classID: 0, priorities: [] } }, noDevices)).toEqual([]);
  });

  it('writes where the controller is there', () => {
    const p = paths();
    applyV1(p, { memory: { limit: 1048576 } }, noDevices);
    expect(readFileSync(join(p.memory, 'memory.limit_in_bytes'), 'utf8')).toBe('1048576');
  });

  it('a unified key says invalid configuration, as runc', () => {
    expect(() => applyV1(paths(), { unified: { 'memory.max': '1' } }, noDevices)).toThrow(
      'linux.resources.unified: invalid configuration: cannot use unified on cgroup v1',
    );
  });
});

describe('cgroup v1 join and create', () => {
  it('a failed join says adding pid, as runc', () => {
    const dir = cgroup(join(root, 'cpu/c1'), {});
    expect(() => writePid(dir, 4242)).toThrow(`cgroup: adding pid 4242 to ${join(dir, 'cgroup.procs')}: no such file or directory`);
  });

  it('copies cpuset.cpus/mems down into every empty ancestor, existing ones included', () => {
    const top = cgroup(join(root, 'cpuset'), { 'cpuset.cpus': '0-1', 'cpuset.mems': '0' });
    const parent = cgroup(join(top, 'parent'), { 'cpuset.cpus': '', 'cpuset.mems': '' });
    const mid = cgroup(join(parent, 'mid'), { 'cpuset.cpus': '1', 'cpuset.mems': '' });
    const leaf = cgroup(join(mid, 'c1'), { 'cpuset.cpus': '', 'cpuset.mems': '' });
    new V1Cgroups({ cpuset: leaf }).create([]);
    const rd = (d: string, f: string) => readFileSync(join(d, f), 'utf8');
    expect([rd(parent, 'cpuset.cpus'), rd(parent, 'cpuset.mems')]).toEqual(['0-1', '0']);
    expect([rd(mid, 'cpuset.cpus'), rd(mid, 'cpuset.mems')]).toEqual(['1', '0']); // set values stay
    expect([rd(leaf, 'cpuset.cpus'), rd(leaf, 'cpuset.mems')]).toEqual(['1', '0']);
  });

  it('an already frozen freezer cgroup fails create at once, even where the primary hierarchy has no dir yet', () => {
    const freezer = cgroup(join(root, 'freezer/c1'), { 'freezer.state': 'FROZEN', 'freezer.self_freezing': '1', 'cgroup.procs': '' });
    const m = loadCgroupManager({ mode: 'hybrid', paths: { freezer, unified: join(root, 'unified/c1') } });
    expect(() => m.create()).toThrow("container's cgroup unexpectedly frozen");
  });
});
