// A pure cgroup v2 host, emulated in a tmp dir (this machine is hybrid, most users' hosts are v2):
// the tests play the kernel's part (populate a new cgroup's files, flip `frozen` in cgroup.events)
// and check what the manager writes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgroupManagerFor, loadCgroupManager, type CgroupManager } from '../../src/cgroups/index.ts';

const CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma';

/** What the kernel puts in a new cgroup2 directory (the subset the manager touches). */
function populate(dir: string, extra: Record<string, string> = {}): void {
  const files: Record<string, string> = {
    'cgroup.procs': '',
    'cgroup.controllers': CONTROLLERS,
    'cgroup.subtree_control': '',
    'cgroup.type': 'domain',
    'cgroup.freeze': '0',
    'cgroup.events': 'populated 0\nfrozen 0\n',
    'cgroup.kill': '',
    'memory.max': 'max',
    'memory.swap.max': 'max',
    'memory.low': '0',
    'cpu.weight': '100',
    'cpu.max': 'max 100000',
    'cpu.max.burst': '0',
    'cpu.idle': '0',
    'cpuset.cpus': '',
    'cpuset.mems': '',
    'pids.max': 'max',
    'io.weight': 'default 100',
    'io.max': '',
    'hugetlb.2MB.max': 'max',
    'hugetlb.2MB.rsvd.max': 'max',
    'rdma.max': '',
    'memory.oom.group': '0',
    ...extra,
  };
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value);
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');

let tmp: string;
let root: string;
let mountinfo: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hako-unit-cgv2-'));
  root = join(tmp, 'cgroup');
  populate(root, { 'cgroup.type': '' });
  unlinkSync(join(root, 'cgroup.freeze')); // the root cgroup has no cgroup.freeze
  populate(join(root, 'machine'), { 'cgroup.subtree_control': 'cpu' });
  mountinfo = `26 23 0:24 / ${root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`;
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function newManager(path = '/machine/c1'): CgroupManager {
  return cgroupManagerFor({ id: 'c1', cgroupsPath: path, mountinfo });
}

describe('create on a pure v2 host', () => {
  it('makes one directory and enables controllers down the ancestors, not in the leaf', () => {
    const m = newManager();
    expect(m.mode).toBe('v2');
    expect(m.paths).toEqual({ unified: join(root, 'machine/c1') });
    expect(m.create()).toEqual([join(root, 'machine/c1')]);
    expect(read(root, 'cgroup.subtree_control')).toBe('+cpuset +cpu +io +memory +hugetlb +pids +rdma');
    // cpu was already enabled in machine/: only the others are written
    expect(read(join(root, 'machine'), 'cgroup.subtree_control')).toBe('+cpuset +io +memory +hugetlb +pids +rdma');
    expect(m.state()).toEqual({ mode: 'v2', paths: m.paths, created: [join(root, 'machine/c1')] });
  });

  it('records new parents in creation order', () => {
    const m = newManager('/pods/p1/c1');
    const made = [join(root, 'pods'), join(root, 'pods/p1'), join(root, 'pods/p1/c1')];
    // intent(): what create will make, for the record before it makes it
    expect(m.intent().created).toEqual(made);
    expect(m.create()).toEqual(made);
  });

  it('shares a cgroup that already has processes (they are recorded as not the container\'s), refuses a frozen one', () => {
    const leaf = join(root, 'machine/c1');
    populate(leaf, { 'cgroup.procs': `${process.pid}\n` });
    const m = newManager();
    // recorded before create makes anything: nothing to make, the test process is foreign
    const intent = m.intent();
    expect(intent.created).toEqual([]);
    expect(intent.foreign).toEqual([{ pid: process.pid, startTime: expect.any(Number) }]);
    expect(m.create()).toEqual([]);
    expect(m.pids()).toEqual([process.pid]);
    expect(m.ownPids()).toEqual([]);
    const reloaded = loadCgroupManager(JSON.parse(JSON.stringify(m.state())));
    expect(reloaded.ownPids()).toEqual([]);
    populate(leaf, { 'cgroup.procs': `${process.pid}\n4242\n` });
    expect(reloaded.ownPids()).toEqual([4242]);
    populate(join(root, 'machine/c1'), { 'cgroup.freeze': '1' });
    expect(() => newManager().create()).toThrow("container's cgroup unexpectedly frozen");
  });
});

describe('a created v2 cgroup', () => {
  let m: CgroupManager;
  let dir: string;
  beforeEach(() => {
    m = newManager();
    m.create();
    dir = m.paths.unified!;
    populate(dir);
  });

  it('adds a pid and lists pids of sub-cgroups too', () => {
    m.addProcess(1234);
    expect(read(dir, 'cgroup.procs')).toBe('1234');
    populate(join(dir, 'inner'), { 'cgroup.procs': '5678\n' });
    expect(m.pids().sort()).toEqual([1234, 5678]);
    expect(m.exists()).toBe(true);
  });

  it('freezes with cgroup.freeze and waits for `frozen 1` in cgroup.events', async () => {
    const kernel = setTimeout(() => writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n'), 30);
    const t0 = Date.now();
    await m.freeze();
    clearTimeout(kernel);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(read(dir, 'cgroup.freeze')).toBe('1');
    expect(m.isFrozen()).toBe(true);

    setTimeout(() => writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n'), 20);
    await m.thaw();
    expect(read(dir, 'cgroup.freeze')).toBe('0');
    expect(m.isFrozen()).toBe(false);
  });

  it('gives up freezing after the timeout and thaws again', async () => {
    await expect(m.freeze({ timeoutMs: 50 })).rejects.toThrow(/freeze .*timed out after 50 ms/);
    expect(read(dir, 'cgroup.freeze')).toBe('0');
  });

  it('kills with one write to cgroup.kill', async () => {
    await m.killAll();
    expect(read(dir, 'cgroup.kill')).toBe('1');
  });

  it('is rebuilt from its saved state without re-resolving', () => {
    const again = loadCgroupManager(JSON.parse(JSON.stringify(m.state())));
    expect(again.mode).toBe('v2');
    expect(again.paths).toEqual(m.paths);
    expect(again.created).toEqual([dir]);
    expect(loadCgroupManager({ paths: { unified: dir } }).mode).toBe('v2');
  });

  it('applies linux.resources with the v2 file names and conversions', () => {
    const warnings = m.apply({
      memory: { limit: 512 * 1024 * 1024, swap: 768 * 1024 * 1024, reservation: 256 * 1024 * 1024, swappiness: 10 },
      cpu: { shares: 2048, quota: 50000, period: 100000, burst: 1000, cpus: '0-1', mems: '0', idle: 0 },
      pids: { limit: 64 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 100 } },
      unified: { 'memory.oom.group': '1' },
      devices: [{ allow: false, access: 'rwm' }],
    });
    expect(read(dir, 'memory.max')).toBe(String(512 * 1024 * 1024));
    expect(read(dir, 'memory.swap.max')).toBe(String(256 * 1024 * 1024)); // memory+swap − memory
    expect(read(dir, 'memory.low')).toBe(String(256 * 1024 * 1024));
    expect(read(dir, 'cpu.weight')).toBe('174'); // 2048 shares
    expect(read(dir, 'cpu.max')).toBe('50000 100000');
    expect(read(dir, 'cpu.max.burst')).toBe('1000');
    expect(read(dir, 'cpuset.cpus')).toBe('0-1');
    expect(read(dir, 'cpuset.mems')).toBe('0');
    expect(read(dir, 'pids.max')).toBe('64');
    expect(read(dir, 'io.weight')).toBe('4950');
    expect(read(dir, 'io.max')).toBe('8:0 rbps=1048576');
    expect(read(dir, 'hugetlb.2MB.max')).toBe('4194304');
    expect(read(dir, 'hugetlb.2MB.rsvd.max')).toBe('4194304');
    expect(read(dir, 'rdma.max')).toBe('mlx5_0 hca_handle=3 hca_object=100');
    expect(read(dir, 'memory.oom.group')).toBe('1');
    expect(warnings).toEqual([
      'linux.resources.memory.swappiness: ignored (no per-cgroup swappiness on cgroup v2)',
      'linux.resources.devices: not enforced on cgroup v2 yet (needs an eBPF device filter)',
    ]);
  });

  it('writes unlimited values as max, and swap 0 when swap equals the limit', () => {
    m.apply({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1 } });
    expect(read(dir, 'memory.max')).toBe('max');
    expect(read(dir, 'memory.swap.max')).toBe('max');
    expect(read(dir, 'pids.max')).toBe('max');
    expect(read(dir, 'cpu.max')).toBe('max 100000');
    m.apply({ memory: { limit: 1048576, swap: 1048576 } });
    expect(read(dir, 'memory.swap.max')).toBe('0');
  });

  it('prefers io.bfq.weight, which takes the blkio scale unconverted', () => {
    writeFileSync(join(dir, 'io.bfq.weight'), 'default 100');
    m.apply({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 16, weight: 200 }] } });
    expect(read(dir, 'io.bfq.weight')).toBe('8:16 200');
    expect(read(dir, 'io.weight')).toBe('default 100');
  });

  it('names the config field when a controller file is missing', () => {
    expect(() => m.apply({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] })).toThrow(
      /^linux\.resources\.hugepageLimits\[0\]: .*hugetlb\.1GB\.max does not exist \(controller not available\)$/,
    );
    unlinkSync(join(dir, 'memory.swap.max'));
    expect(() => m.apply({ memory: { limit: 1000, swap: 3000 } })).toThrow(/memory\.swap: this host has no swap accounting/);
    // max and 0 are what a host without swap has anyway
    expect(() => m.apply({ memory: { limit: 1000, swap: -1 } })).not.toThrow();
  });

  it('refuses net_cls/net_prio values, which cgroup v2 does not have, naming the field', () => {
    expect(() => m.apply({ network: { classID: 1048577 } })).toThrow('linux.resources.network.classID: cannot set: cgroup v2 has no net_cls controller');
    expect(() => m.apply({ network: { priorities: [{ name: 'lo', priority: 1 }] } })).toThrow(
      'linux.resources.network.priorities: cannot set: cgroup v2 has no net_prio controller',
    );
    expect(m.apply({ network: { classID: 0, priorities: [] } })).toEqual([]);
  });

  it('refuses unified keys that are not file names', () => {
    expect(() => m.apply({ unified: { '../cgroup.procs': '1' } })).toThrow(/is not a cgroup file name/);
  });
});
