// The CgroupManager against this host's real cgroupfs (root). This VM is hybrid: every v1
// hierarchy (cpu and cpuacct apart, name=systemd too) plus cgroup2 at /sys/fs/cgroup/unified, where
// the v2 core (cgroup.procs, cgroup.freeze, cgroup.events, cgroup.kill) is exercised. Controller
// files of a pure v2 host are covered by test/unit/cgroups-v2-fixture.test.ts.
// Every cgroup is under /hako-test-cg-<pid>-<n> and removed in afterEach, as is every process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cgroupManagerFor,
  detectCgroupMode,
  loadCgroupManager,
  readHost,
  type CgroupHost,
} from '../../src/cgroups/index.ts';

const isRoot = process.getuid?.() === 0;
const host: CgroupHost | undefined = isRoot ? readHost() : undefined;
const hasV1 = (host?.v1.length ?? 0) > 0;
const mounts = (): string[] => [...(host?.v1.map((h) => h.mountPoint) ?? []), ...(host?.unified ? [host.unified.mountPoint] : [])];

let counter = 0;
let prefix = '';
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

/** A shell that forks `sleep` only when told (a line on stdin): the fork happens inside the cgroup. */
function forker(): ChildProcess {
  const c = spawn('sh', ['-c', 'read x; sleep 60 & wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
  children.push(c);
  return c;
}

/** A shell printing a line every 10 ms: output stops while it is frozen. */
function ticker(): { child: ChildProcess; bytes: () => number; ticking: Promise<unknown> } {
  // One process that never forks: a shell loop's `sleep` children would join the cgroup too,
  // racing the assertions on cgroup.procs.
  const c = spawn(process.execPath, ['-e', 'setInterval(() => process.stdout.write("tick\\n"), 10)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(c);
  let n = 0;
  c.stdout!.on('data', (d: Buffer) => (n += d.length));
  return { child: c, bytes: () => n, ticking: once(c.stdout!, 'data') };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));

function procCgroupLines(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
}

/** Every cgroup directory under `dir`, deepest first. */
function treeOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const subs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  return [...subs.flatMap((e) => treeOf(join(dir, e.name))), dir];
}

/**
 * Remove the test's cgroups whatever state a failed test left them in: kill and thaw in every
 * hierarchy first (a task frozen by the v1 freezer dies only once thawed), then rmdir.
 */
function scrub(dirs: string[]): void {
  const all = dirs.flatMap(treeOf);
  for (const d of all) {
    for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) {
      const pid = Number(line);
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    if (existsSync(join(d, 'freezer.state'))) writeFileSync(join(d, 'freezer.state'), 'THAWED');
    if (existsSync(join(d, 'cgroup.freeze'))) writeFileSync(join(d, 'cgroup.freeze'), '0');
  }
  for (const d of all) {
    for (let i = 0; ; i++) {
      try {
        rmdirSync(d);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        if (i >= 100) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

function leftovers(): string[] {
  return mounts().filter((m) => existsSync(join(m, prefix)));
}

beforeEach(() => {
  prefix = `hako-test-cg-${process.pid}-${++counter}`;
});

afterEach(async () => {
  const mine = children.splice(0);
  for (const c of mine) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // Thaw before waiting: a process frozen by a failed test only dies once thawed.
  scrub(mounts().map((m) => join(m, prefix)));
  await Promise.all(mine.map(exited));
});

describe.skipIf(!isRoot || !host)('cgroups on this host (real cgroupfs)', () => {
  it('detectCgroupMode: statfs and the mount table agree', () => {
    expect(detectCgroupMode()).toBe(detectCgroupMode({ mountinfo: readFileSync('/proc/self/mountinfo', 'utf8') }));
    expect(detectCgroupMode()).toBe(host!.mode);
  });

  it('create makes the cgroup in every hierarchy and reports the parents it made', () => {
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/pod/c1` });
    const created = m.create();
    for (const mp of mounts()) {
      expect(existsSync(join(mp, prefix, 'pod/c1'))).toBe(true);
      expect(created).toContain(join(mp, prefix));
      expect(created).toContain(join(mp, prefix, 'pod'));
    }
    expect(created).toHaveLength(mounts().length * 3);
    if (host!.mode === 'hybrid') {
      expect(m.paths.unified).toBe(join(host!.unified!.mountPoint, prefix, 'pod/c1'));
      expect(m.paths['name=systemd']).toBe(join('/sys/fs/cgroup/systemd', prefix, 'pod/c1'));
    }
    expect(m.state().created).toEqual(created);
  });

  it('addProcess moves a process in everywhere; what it forks stays in; pids() lists both', async () => {
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/c1` });
    m.create();
    const sh = forker();
    m.addProcess(sh.pid!);
    const lines = procCgroupLines(sh.pid!);
    expect(lines.length).toBeGreaterThanOrEqual(mounts().length);
    for (const line of lines) {
      // every hierarchy the process is in (v1 ones not mounted here, like net_cls, excepted)
      const controllers = line.split(':')[1]!;
      const managed = controllers === '' ? host!.unified : host!.v1.find((h) => h.controllers.join(',') === controllers.split(',').sort().join(','));
      if (managed) expect(line.endsWith(`:/${prefix}/c1`)).toBe(true);
    }
    sh.stdin!.write('go\n');
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length < 2; i++) {
      await delay(10);
      pids = m.pids();
    }
    expect(pids).toContain(sh.pid);
    expect(pids).toHaveLength(2);
    const forked = pids.find((p) => p !== sh.pid)!;
    expect(readFileSync(`/proc/${forked}/cmdline`, 'utf8')).toMatch(/^sleep\0/);
    for (const dir of new Set(Object.values(m.paths))) {
      expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number).sort()).toEqual([...pids].sort());
    }
    await m.destroy({ kill: true });
    await exited(sh);
    expect(sh.signalCode).toBe('SIGKILL');
    expect(leftovers()).toEqual([]);
  });

  it('freeze stops the processes, thaw resumes them; state survives a reload', async () => {
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/c1` });
    m.create();
    const t = ticker();
    await t.ticking;
    m.addProcess(t.child.pid!);
    await m.freeze();
    expect(m.isFrozen()).toBe(true);
    const reloaded = loadCgroupManager(JSON.parse(JSON.stringify(m.state())));
    expect(reloaded.isFrozen()).toBe(true);
    if (m.paths.freezer) expect(readFileSync(join(m.paths.freezer, 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
    await delay(30); // a tick in flight may land
    const before = t.bytes();
    await delay(150);
    expect(t.bytes()).toBe(before);
    await reloaded.thaw();
    expect(m.isFrozen()).toBe(false);
    await delay(100);
    expect(t.bytes()).toBeGreaterThan(before);
    await reloaded.destroy({ kill: true });
    expect(leftovers()).toEqual([]);
  });

  it('killAll: another signal reaches every process; SIGKILL empties a paused container', async () => {
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/c1` });
    m.create();
    const a = sleeper();
    const b = sleeper();
    m.addProcess(a.pid!);
    m.addProcess(b.pid!);
    await m.killAll('SIGTERM');
    await Promise.all([exited(a), exited(b)]);
    expect([a.signalCode, b.signalCode]).toEqual(['SIGTERM', 'SIGTERM']);

    const c = forker();
    m.addProcess(c.pid!);
    c.stdin!.write('go\n');
    for (let i = 0; i < 100 && m.pids().length < 2; i++) await delay(10);
    await m.freeze();
    await m.killAll(); // SIGKILL, the default
    expect(m.pids()).toEqual([]);
    await exited(c);
    expect(c.signalCode).toBe('SIGKILL');
    await m.destroy();
    expect(leftovers()).toEqual([]);
  });

  it('destroy without kill refuses live processes and removes nothing; with kill it removes all', async () => {
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/c1` });
    m.create();
    const s = sleeper();
    m.addProcess(s.pid!);
    await expect(m.destroy()).rejects.toThrow(/device or resource busy/);
    expect(m.pids()).toEqual([s.pid]);
    for (const dir of Object.values(m.paths)) expect(existsSync(dir)).toBe(true);
    // a failed destroy keeps what it could not remove, so a retry from the saved state cleans up
    const saved = m.state();
    expect(saved.created).toHaveLength(mounts().length * 2);
    const again = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/c1` });
    // a second container in that cgroup shares it: nothing to make, the sleeper is not its own
    const intent = again.intent();
    expect(intent.created).toEqual([]);
    expect(intent.foreign).toEqual([{ pid: s.pid, startTime: expect.any(Number) }]);
    expect(again.ownPids()).toEqual([]);
    await loadCgroupManager(JSON.parse(JSON.stringify(saved))).destroy({ kill: true });
    await exited(s);
    expect(s.signalCode).toBe('SIGKILL');
    expect(leftovers()).toEqual([]);
  });

  it('destroy removes only the parents it created, and tolerates dirs already gone', async () => {
    for (const mp of mounts()) mkdirSync(join(mp, prefix));
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/mine/c1` });
    const created = m.create();
    expect(created.every((d) => d.includes(`/${prefix}/mine`))).toBe(true);
    // a sibling in one hierarchy keeps that `mine` busy
    const firstMine = created.find((d) => d.endsWith('/mine'))!;
    mkdirSync(join(firstMine, 'sibling'));
    rmdirSync(m.paths.pids ?? m.paths.unified!); // already gone in one hierarchy
    await m.destroy();
    await m.destroy(); // twice is fine
    for (const mp of mounts()) {
      expect(existsSync(join(mp, prefix))).toBe(true); // not ours
      expect(existsSync(join(mp, prefix, 'mine/c1'))).toBe(false);
      expect(existsSync(join(mp, prefix, 'mine'))).toBe(join(mp, prefix, 'mine') === firstMine);
    }
  });

  it.skipIf(!host?.unified)('v2 core on the cgroup2 hierarchy: procs, freeze via cgroup.events, cgroup.kill', async () => {
    // A v2 manager rooted in a test directory of the real cgroup2 mount: what it writes stays there.
    const base = join(host!.unified!.mountPoint, prefix);
    mkdirSync(base);
    const v2host: CgroupHost = { mode: 'v2', v1: [], unified: { mountPoint: base, root: '/' } };
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: '/pod/c1', host: v2host });
    expect(m.paths).toEqual({ unified: join(base, 'pod/c1') });
    expect(m.create()).toEqual([join(base, 'pod'), join(base, 'pod/c1')]);
    const dir = m.paths.unified!;
    for (const f of ['cgroup.procs', 'cgroup.freeze', 'cgroup.events']) expect(existsSync(join(dir, f))).toBe(true);

    const t = ticker();
    await t.ticking;
    m.addProcess(t.child.pid!);
    expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim()).toBe(String(t.child.pid));
    expect(m.pids()).toEqual([t.child.pid]);
    await m.freeze();
    expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    expect(m.isFrozen()).toBe(true);
    await delay(30);
    const before = t.bytes();
    await delay(150);
    expect(t.bytes()).toBe(before);
    await m.thaw();
    expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toMatch(/^frozen 0$/m);
    await delay(100);
    expect(t.bytes()).toBeGreaterThan(before);

    const hasKill = existsSync(join(dir, 'cgroup.kill'));
    await m.killAll();
    expect(m.pids()).toEqual([]);
    await exited(t.child);
    expect(t.child.signalCode).toBe('SIGKILL');
    await m.destroy();
    expect(existsSync(join(base, 'pod'))).toBe(false);
    expect(existsSync(base)).toBe(true);
    rmdirSync(base);
    if (!hasKill) console.log('cgroups-real: this kernel has no cgroup.kill; the signal loop was used');
  });

  it.skipIf(!hasV1)('v1 only (no cgroup.kill): the signal loop empties the cgroup through the freezer', async () => {
    const v1host: CgroupHost = { mode: 'v1', v1: host!.v1 };
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/c1`, host: v1host });
    expect(m.paths.unified).toBeUndefined();
    m.create();
    const c = forker();
    m.addProcess(c.pid!);
    c.stdin!.write('go\n');
    for (let i = 0; i < 100 && m.pids().length < 2; i++) await delay(10);
    expect(m.pids()).toHaveLength(2);
    await m.freeze();
    await m.killAll('SIGKILL');
    expect(m.pids()).toEqual([]);
    expect(m.isFrozen()).toBe(false);
    await m.destroy();
    for (const h of host!.v1) expect(existsSync(join(h.mountPoint, prefix))).toBe(false);
  });

  it.skipIf(!hasV1)('apply writes v1 memory, cpu, cpuset, pids, blkio and devices for real', () => {
    const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/c1`, host: { mode: 'v1', v1: host!.v1 } });
    m.create();
    const MiB = 1024 * 1024;
    const warnings = m.apply({
      memory: { limit: 64 * MiB, swap: 128 * MiB, reservation: 32 * MiB, swappiness: 10 },
      cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 32 },
      blockIO: { weight: 300 },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      ],
    });
    const rd = (c: string, f: string) => readFileSync(join(m.paths[c]!, f), 'utf8').trim();
    if (m.paths.memory) {
      expect(rd('memory', 'memory.limit_in_bytes')).toBe(String(64 * MiB));
      expect(rd('memory', 'memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
      expect(rd('memory', 'memory.swappiness')).toBe('10');
      if (existsSync(join(m.paths.memory, 'memory.memsw.limit_in_bytes'))) {
        expect(rd('memory', 'memory.memsw.limit_in_bytes')).toBe(String(128 * MiB));
        // growing and shrinking in the same apply order both work (memsw stays >= limit)
        m.apply({ memory: { limit: 256 * MiB, swap: 512 * MiB } });
        expect(rd('memory', 'memory.memsw.limit_in_bytes')).toBe(String(512 * MiB));
        m.apply({ memory: { limit: 16 * MiB, swap: 32 * MiB } });
        expect(rd('memory', 'memory.limit_in_bytes')).toBe(String(16 * MiB));
        expect(rd('memory', 'memory.memsw.limit_in_bytes')).toBe(String(32 * MiB));
      }
    }
    if (m.paths.cpu) {
      expect(rd('cpu', 'cpu.shares')).toBe('512');
      expect(rd('cpu', 'cpu.cfs_quota_us')).toBe('20000');
      expect(rd('cpu', 'cpu.cfs_period_us')).toBe('100000');
    }
    if (m.paths.cpuset) {
      expect(rd('cpuset', 'cpuset.cpus')).toBe('0');
      expect(rd('cpuset', 'cpuset.mems')).toBe('0');
    }
    if (m.paths.pids) expect(rd('pids', 'pids.max')).toBe('32');
    if (m.paths.blkio) {
      const f = existsSync(join(m.paths.blkio, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
      expect(rd('blkio', f)).toMatch(/(^|\s)300$/m);
    }
    if (m.paths.devices) {
      const list = rd('devices', 'devices.list').split('\n');
      expect(list).not.toContain('a *:* rwm');
      expect(list).toContain('c 1:3 rwm'); // the config's rw, then runc's default rwm for /dev/null
      expect(list).toContain('c 136:* rwm');
      expect(list).toContain('c *:* m');
      expect(list).not.toContain('c 1:1 rwm'); // /dev/mem: denied
    }
    expect(warnings).toEqual([]);
    // a process can join (cpuset set) and is held by the limits
    const s = sleeper();
    m.addProcess(s.pid!);
    expect(m.pids()).toEqual([s.pid]);
    expect(() => m.apply({ unified: { 'memory.max': '1' } })).toThrow(/^linux\.resources\.unified: invalid configuration: cannot use unified on cgroup v1$/);
  });

  it('create + addProcess + destroy stays cheap (reported)', async () => {
    // A holding cgroup of the test's own, where the process waits between rounds.
    for (const mp of mounts()) {
      const hold = join(mp, prefix, 'hold');
      mkdirSync(hold, { recursive: true });
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(join(hold, f))) {
          writeFileSync(join(mp, prefix, f), readFileSync(join(mp, f)));
          writeFileSync(join(hold, f), readFileSync(join(mp, f)));
        }
      }
    }
    const s = sleeper();
    for (const mp of mounts()) writeFileSync(join(mp, prefix, 'hold', 'cgroup.procs'), String(s.pid));
    const times: number[][] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const m = cgroupManagerFor({ id: 'c1', cgroupsPath: `/${prefix}/bench${i}` });
      m.create();
      const t1 = performance.now();
      m.addProcess(s.pid!);
      const t2 = performance.now();
      // back to the holding cgroup, so destroy has no process to wait for
      for (const mp of mounts()) writeFileSync(join(mp, prefix, 'hold', 'cgroup.procs'), String(s.pid));
      const t3 = performance.now();
      await m.destroy();
      const t4 = performance.now();
      times.push([t1 - t0, t2 - t1, t4 - t3]);
    }
    const median = (k: number) => times.map((t) => t[k]!).sort((a, b) => a - b)[5]!;
    console.log(
      `cgroups-real (${host!.mode}, ${mounts().length} hierarchies): resolve+create ${median(0).toFixed(2)} ms, ` +
        `addProcess ${median(1).toFixed(2)} ms, destroy ${median(2).toFixed(2)} ms (medians of 10, warm)`,
    );
    expect(median(0) + median(1) + median(2)).toBeLessThan(100);
    for (const mp of mounts()) expect(readdirSync(join(mp, prefix), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)).toEqual(['hold']);
  });
});
