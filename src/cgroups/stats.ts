// Container statistics from the cgroup files, in the shape `runc events` prints (runc's
// types.Stats: cpu, cpuset, memory, pids, blkio, hugetlb; zero values left out where runc's
// `omitempty` leaves them out). v1 reads one directory per controller, v2 the one unified directory.
// Counters are kept as bigint: memory limits reach 2^63 and 2^64-1, which a double cannot hold.

import { readdirSync } from 'node:fs';
import { readCgroupFileIfExists } from './fsutil.ts';
import { UNIFIED } from './path.ts';

export interface CpuUsage {
  total?: bigint;
  percpu?: bigint[];
  percpu_kernel?: bigint[];
  percpu_user?: bigint[];
  kernel: bigint;
  user: bigint;
}

export interface Throttling {
  periods?: bigint;
  throttledPeriods?: bigint;
  throttledTime?: bigint;
}

export interface MemoryEntry {
  limit: bigint;
  usage?: bigint;
  max?: bigint;
  failcnt: bigint;
}

export interface BlkioEntry {
  major?: bigint;
  minor?: bigint;
  op?: string;
  value?: bigint;
}

export interface Stats {
  cpu: { usage: CpuUsage; throttling: Throttling };
  cpuset: Record<string, unknown>;
  memory: { cache?: bigint; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw?: Record<string, bigint> };
  pids: { current?: bigint; limit?: bigint };
  blkio: Record<string, BlkioEntry[]>;
  hugetlb: Record<string, { usage?: bigint; max?: bigint; failcnt: bigint }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

const NS_PER_SEC = 1_000_000_000n;
/** USER_HZ: cpuacct.stat counts in these ticks (runc assumes 100 too). */
const CLOCK_TICKS = 100n;
const UINT64_MAX = 2n ** 64n - 1n;

/** A cgroup counter: digits, or `max` (no limit: 2^64-1, as runc reports it). */
function num(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === 'max') return UINT64_MAX;
  return /^-?\d+$/.test(t) ? BigInt(t) : undefined;
}

function read(dir: string | undefined, file: string): string | undefined {
  return dir === undefined ? undefined : readCgroupFileIfExists(dir, file);
}

/** `key value` lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function keyValues(text: string | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    const n = num(v);
    if (k && n !== undefined) out[k] = n;
  }
  return out;
}

/** `0-2,4` → [0, 1, 2, 4]. */
export function parseCpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

const list = (text: string | undefined): bigint[] | undefined => {
  const xs = (text ?? '').trim().split(/\s+/).filter(Boolean).map((x) => BigInt(x));
  return xs.length > 0 ? xs : undefined;
};

/** Drops undefined and zero-valued optional fields, as Go's omitempty. */
function omitEmpty<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === 0n || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}

function memoryEntry(limit?: bigint, usage?: bigint, max?: bigint, failcnt?: bigint): MemoryEntry {
  return { limit: limit ?? 0n, ...omitEmpty({ usage, max }), failcnt: failcnt ?? 0n };
}

function cpusetStats(dir: string | undefined, cpusFile: string, memsFile: string): Record<string, unknown> {
  if (dir === undefined) return {};
  const out: Record<string, unknown> = {};
  const cpus = parseCpuList(read(dir, cpusFile));
  const mems = parseCpuList(read(dir, memsFile));
  if (cpus.length) out.cpus = cpus;
  for (const f of ['cpu_exclusive']) out[f] = Number(num(read(dir, `cpuset.${f}`)) ?? 0n);
  if (mems.length) out.mems = mems;
  for (const f of ['mem_hardwall', 'mem_exclusive', 'memory_migrate', 'memory_spread_page', 'memory_spread_slab', 'memory_pressure', 'sched_load_balance', 'sched_relax_domain_level']) {
    out[f] = Number(num(read(dir, `cpuset.${f}`)) ?? 0n);
  }
  return out;
}

/** blkio/io lines `8:0 Read 4096` (v1; `Total` lines skipped). */
function blkioEntries(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push(omitEmpty({ major: BigInt(m[1]!), minor: BigInt(m[2]!), op: m[3], value: BigInt(m[4]!) }));
  }
  return out;
}

// ---------------------------------------------------------------- v1

function statsV1(paths: Readonly<Record<string, string>>): Stats {
  const acct = paths.cpuacct ?? paths.cpu;
  const ticks = keyValues(read(acct, 'cpuacct.stat'));
  const throttle = keyValues(read(paths.cpu, 'cpu.stat'));
  const mem = paths.memory;
  const entry = (prefix: string) =>
    memoryEntry(
      num(read(mem, `${prefix}limit_in_bytes`)),
      num(read(mem, `${prefix}usage_in_bytes`)),
      num(read(mem, `${prefix}max_usage_in_bytes`)),
      num(read(mem, `${prefix}failcnt`)),
    );
  const raw = keyValues(read(mem, 'memory.stat'));
  const blkio: Record<string, BlkioEntry[]> = {};
  if (paths.blkio) {
    const pick = (...files: string[]) => files.map((f) => read(paths.blkio, f)).find((t) => t !== undefined);
    const bytes = blkioEntries(pick('blkio.io_service_bytes_recursive', 'blkio.bfq.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes_recursive'));
    const ios = blkioEntries(pick('blkio.io_serviced_recursive', 'blkio.bfq.io_serviced_recursive', 'blkio.throttle.io_serviced_recursive'));
    if (bytes.length) blkio.ioServiceBytesRecursive = bytes;
    if (ios.length) blkio.ioServicedRecursive = ios;
  }
  const hugetlb: Stats['hugetlb'] = {};
  if (paths.hugetlb) {
    for (const f of safeList(paths.hugetlb)) {
      const m = /^hugetlb\.([^.]+)\.usage_in_bytes$/.exec(f);
      if (!m) continue;
      const size = m[1]!;
      hugetlb[size] = {
        ...omitEmpty({ usage: num(read(paths.hugetlb, f)), max: num(read(paths.hugetlb, `hugetlb.${size}.max_usage_in_bytes`)) }),
        failcnt: num(read(paths.hugetlb, `hugetlb.${size}.failcnt`)) ?? 0n,
      };
    }
  }
  const pidsMax = num(read(paths.pids, 'pids.max'));
  return {
    cpu: {
      usage: {
        ...omitEmpty({
          total: num(read(acct, 'cpuacct.usage')),
          percpu: list(read(acct, 'cpuacct.usage_percpu')),
          percpu_kernel: list(read(acct, 'cpuacct.usage_percpu_sys')),
          percpu_user: list(read(acct, 'cpuacct.usage_percpu_user')),
        }),
        kernel: ((ticks.system ?? 0n) * NS_PER_SEC) / CLOCK_TICKS,
        user: ((ticks.user ?? 0n) * NS_PER_SEC) / CLOCK_TICKS,
      },
      throttling: omitEmpty({ periods: throttle.nr_periods, throttledPeriods: throttle.nr_throttled, throttledTime: throttle.throttled_time }),
    },
    cpuset: cpusetStats(paths.cpuset, 'cpuset.cpus', 'cpuset.mems'),
    memory: {
      ...omitEmpty({ cache: raw.cache }),
      usage: entry('memory.'),
      swap: entry('memory.memsw.'),
      kernel: entry('memory.kmem.'),
      kernelTCP: entry('memory.kmem.tcp.'),
      ...(Object.keys(raw).length ? { raw } : {}),
    },
    pids: omitEmpty({ current: num(read(paths.pids, 'pids.current')), limit: pidsMax === UINT64_MAX ? undefined : pidsMax }),
    blkio,
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------- v2

function statsV2(dir: string): Stats {
  const cpu = keyValues(read(dir, 'cpu.stat'));
  const usec = (v: bigint | undefined) => (v === undefined ? undefined : v * 1000n);
  const raw = keyValues(read(dir, 'memory.stat'));
  const events = keyValues(read(dir, 'memory.events'));
  const usage = memoryEntry(num(read(dir, 'memory.max')), num(read(dir, 'memory.current')), num(read(dir, 'memory.peak')), events.max);
  // runc reports v2 swap as memory+swap, as v1 does.
  const swapUsage = num(read(dir, 'memory.swap.current'));
  const swapMax = num(read(dir, 'memory.swap.max'));
  const swap = memoryEntry(
    swapMax === undefined || swapMax === UINT64_MAX ? swapMax : swapMax + usage.limit,
    swapUsage === undefined ? undefined : swapUsage + (usage.usage ?? 0n),
    undefined,
    undefined,
  );
  const blkio: Record<string, BlkioEntry[]> = {};
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (read(dir, 'io.stat') ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[3]!.split(' ').map((p) => p.split('=') as [string, string]));
    const dev = { major: BigInt(m[1]!), minor: BigInt(m[2]!) };
    bytes.push(omitEmpty({ ...dev, op: 'Read', value: num(kv.rbytes) }), omitEmpty({ ...dev, op: 'Write', value: num(kv.wbytes) }));
    ios.push(omitEmpty({ ...dev, op: 'Read', value: num(kv.rios) }), omitEmpty({ ...dev, op: 'Write', value: num(kv.wios) }));
  }
  if (bytes.length) blkio.ioServiceBytesRecursive = bytes;
  if (ios.length) blkio.ioServicedRecursive = ios;
  const hugetlb: Stats['hugetlb'] = {};
  for (const f of safeList(dir)) {
    const m = /^hugetlb\.([^.]+)\.current$/.exec(f);
    if (!m) continue;
    const size = m[1]!;
    const max = num(read(dir, `hugetlb.${size}.max`));
    hugetlb[size] = {
      ...omitEmpty({ usage: num(read(dir, f)), max: max === UINT64_MAX ? undefined : max }),
      failcnt: keyValues(read(dir, `hugetlb.${size}.events`)).max ?? 0n,
    };
  }
  const pidsMax = num(read(dir, 'pids.max'));
  return {
    cpu: {
      usage: { ...omitEmpty({ total: usec(cpu.usage_usec) }), kernel: usec(cpu.system_usec) ?? 0n, user: usec(cpu.user_usec) ?? 0n },
      throttling: omitEmpty({ periods: cpu.nr_periods, throttledPeriods: cpu.nr_throttled, throttledTime: usec(cpu.throttled_usec) }),
    },
    cpuset: cpusetStats(dir, 'cpuset.cpus.effective', 'cpuset.mems.effective'),
    memory: {
      ...omitEmpty({ cache: raw.file }),
      usage,
      swap,
      kernel: memoryEntry(undefined, raw.kernel ?? raw.kernel_stack, undefined, undefined),
      kernelTCP: memoryEntry(undefined, raw.sock, undefined, undefined),
      ...(Object.keys(raw).length ? { raw } : {}),
    },
    pids: omitEmpty({ current: num(read(dir, 'pids.current')), limit: pidsMax === UINT64_MAX ? undefined : pidsMax }),
    blkio,
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

// ---------------------------------------------------------------- both

/** Stats of a container from its recorded cgroup paths (mode: v1, v2 or hybrid; hybrid reads v1). */
export function readStats(mode: string, paths: Readonly<Record<string, string>>): Stats {
  if (mode === 'v2') return statsV2(paths[UNIFIED]!);
  const v1: Record<string, string> = { ...paths };
  delete v1[UNIFIED];
  return statsV1(v1);
}

/**
 * How many times the OOM killer ran in the container's cgroup (v1 memory.oom_control, v2
 * memory.events `oom_kill`); undefined when the memory cgroup is gone.
 */
export function oomKills(mode: string, paths: Readonly<Record<string, string>>): bigint | undefined {
  const text = mode === 'v2' ? read(paths[UNIFIED], 'memory.events') : read(paths.memory, 'memory.oom_control');
  if (text === undefined) return undefined;
  return keyValues(text).oom_kill ?? 0n;
}

/** JSON with bigints written as plain numbers, digit for digit. */
export function toJson(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    marks.push(v.toString());
    return `\u0000${marks.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}
