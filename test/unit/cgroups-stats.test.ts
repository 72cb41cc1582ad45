// `hako events` statistics: runc's Stats shape read from cgroup v1 and v2 files (tmp-dir fixtures
// playing cgroupfs), the OOM counter, exact big numbers, and Go durations for --interval.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oomKills, parseCpuList, readStats, toJson } from '../../src/cgroups/stats.ts';
import { parseDuration } from '../../src/runtime/events.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hako-test-stats-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function cgroup(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), `${v}\n`);
  return dir;
}

const V1_NO_LIMIT = '9223372036854771712';

describe('readStats on cgroup v1', () => {
  function v1Paths() {
    const acct = cgroup('cpuacct/c1', {
      'cpuacct.usage': '15651567',
      'cpuacct.usage_percpu': '9828749 5822818',
      'cpuacct.usage_percpu_sys': '12000000 0',
      'cpuacct.usage_percpu_user': '0 4000000',
      'cpuacct.stat': 'user 0\nsystem 1',
    });
    return {
      cpu: cgroup('cpu/c1', { 'cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 3000' }),
      cpuacct: acct,
      cpuset: cgroup('cpuset/c1', { 'cpuset.cpus': '0-1', 'cpuset.mems': '0', 'cpuset.sched_load_balance': '1', 'cpuset.sched_relax_domain_level': '-1' }),
      memory: cgroup('memory/c1', {
        'memory.limit_in_bytes': '67108864',
        'memory.usage_in_bytes': '962560',
        'memory.max_usage_in_bytes': '2789376',
        'memory.failcnt': '0',
        'memory.memsw.limit_in_bytes': V1_NO_LIMIT,
        'memory.memsw.usage_in_bytes': '962560',
        'memory.memsw.max_usage_in_bytes': '2789376',
        'memory.memsw.failcnt': '0',
        'memory.kmem.tcp.limit_in_bytes': V1_NO_LIMIT,
        'memory.kmem.tcp.usage_in_bytes': '0',
        'memory.kmem.tcp.failcnt': '0',
        'memory.stat': 'cache 360448\nrss 53248\nhierarchical_memory_limit 67108864',
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2',
      }),
      pids: cgroup('pids/c1', { 'pids.current': '1', 'pids.max': '100' }),
      blkio: cgroup('blkio/c1', { 'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096' }),
      unified: cgroup('unified/c1', { 'memory.events': 'oom_kill 7' }),
    };
  }

  it('has runc\'s shape and values, zeros left out where runc leaves them out', () => {
    const s = readStats('hybrid', v1Paths());
    expect(s.cpu).toEqual({
      usage: { total: 15651567n, percpu: [9828749n, 5822818n], percpu_kernel: [12000000n, 0n], percpu_user: [0n, 4000000n], kernel: 10000000n, user: 0n },
      throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 3000n },
    });
    expect(s.cpuset).toMatchObject({ cpus: [0, 1], mems: [0], sched_load_balance: 1, sched_relax_domain_level: -1, cpu_exclusive: 0 });
    expect(s.memory.cache).toBe(360448n);
    expect(s.memory.usage).toEqual({ limit: 67108864n, usage: 962560n, max: 2789376n, failcnt: 0n });
    expect(s.memory.swap).toEqual({ limit: BigInt(V1_NO_LIMIT), usage: 962560n, max: 2789376n, failcnt: 0n });
    expect(s.memory.kernelTCP).toEqual({ limit: BigInt(V1_NO_LIMIT), failcnt: 0n });
    expect(s.memory.kernel).toEqual({ limit: 0n, failcnt: 0n }); // no kmem files: what runc prints for them
    expect(s.memory.raw).toEqual({ cache: 360448n, rss: 53248n, hierarchical_memory_limit: 67108864n });
    expect(s.pids).toEqual({ current: 1n, limit: 100n });
    // minor 0 is left out, as runc's omitempty does
    expect(s.blkio).toEqual({ ioServiceBytesRecursive: [{ major: 8n, op: 'Read', value: 4096n }, { major: 8n, op: 'Write' }] });
    expect(s.hugetlb).toEqual({});
    expect(Object.keys(s)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  });

  it('prints big numbers digit for digit', () => {
    const json = toJson({ type: 'stats', id: 'c1', data: readStats('v1', v1Paths()) });
    expect(json).toContain(`"swap":{"limit":${V1_NO_LIMIT},`);
    expect(JSON.parse(json).data.pids).toEqual({ current: 1, limit: 100 });
  });

  it('counts OOM kills from memory.oom_control (hybrid: the v1 memory cgroup)', () => {
    expect(oomKills('hybrid', v1Paths())).toBe(2n);
    expect(oomKills('v1', { memory: join(root, 'gone') })).toBeUndefined();
  });
});

describe('readStats on cgroup v2', () => {
  function v2Paths() {
    return {
      unified: cgroup('c1', {
        'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20',
        'cpuset.cpus.effective': '0-3',
        'cpuset.mems.effective': '0',
        'memory.current': '1048576',
        'memory.max': 'max',
        'memory.peak': '2097152',
        'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1',
        'memory.swap.current': '4096',
        'memory.swap.max': 'max',
        'memory.stat': 'anon 4096\nfile 8192\nkernel 12288\nsock 0',
        'pids.current': '2',
        'pids.max': 'max',
        'io.stat': '8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0',
        'hugetlb.2MB.current': '2097152',
        'hugetlb.2MB.max': '4194304',
        'hugetlb.2MB.events': 'max 1',
      }),
    };
  }

  it('maps the v2 files onto runc\'s shape', () => {
    const s = readStats('v2', v2Paths());
    expect(s.cpu).toEqual({ usage: { total: 1500000n, kernel: 500000n, user: 1000000n }, throttling: { periods: 4n, throttledPeriods: 1n, throttledTime: 20000n } });
    expect(s.cpuset).toMatchObject({ cpus: [0, 1, 2, 3], mems: [0] });
    expect(s.memory.usage).toEqual({ limit: 2n ** 64n - 1n, usage: 1048576n, max: 2097152n, failcnt: 3n });
    // memory+swap, as v1 reports it (runc does the same)
    expect(s.memory.swap).toEqual({ limit: 2n ** 64n - 1n, usage: 1048576n + 4096n, failcnt: 0n });
    expect(s.memory.cache).toBe(8192n);
    expect(s.pids).toEqual({ current: 2n });
    expect(s.blkio.ioServiceBytesRecursive).toEqual([{ major: 8n, op: 'Read', value: 4096n }, { major: 8n, op: 'Write' }]);
    expect(s.blkio.ioServicedRecursive).toEqual([{ major: 8n, op: 'Read', value: 1n }, { major: 8n, op: 'Write' }]);
    expect(s.hugetlb).toEqual({ '2MB': { usage: 2097152n, max: 4194304n, failcnt: 1n } });
    expect(toJson(s.memory.usage)).toBe('{"limit":18446744073709551615,"usage":1048576,"max":2097152,"failcnt":3}');
  });

  it('counts OOM kills from memory.events', () => {
    expect(oomKills('v2', v2Paths())).toBe(1n);
  });
});

describe('helpers', () => {
  it('parses cpu lists', () => {
    expect(parseCpuList('0-2,4\n')).toEqual([0, 1, 2, 4]);
    expect(parseCpuList('')).toEqual([]);
  });

  it('reads --interval as Go durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('100ms')).toBe(100);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('5')).toThrow('invalid value "5" for flag --interval: time: invalid duration "5"');
    expect(() => parseDuration('5x')).toThrow(/invalid duration/);
  });
});
