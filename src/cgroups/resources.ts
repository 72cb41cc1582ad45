// linux.resources → cgroup files. One function per controller, v1 and v2 side by side, so the
// two stay comparable. Every write error names the config field, and so does a value for a
// controller the host does not have (the spec says MUST); what a kernel merely ignores or
// deprecates comes back as a warning (the runtime decides whether to log or refuse).

import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxDeviceCgroup,
  LinuxMemory,
  LinuxResources,
} from '../spec/types.ts';
import { HakoError, describeSystemError } from '../errors.ts';
import { errnoCode, readCgroupFileIfExists, writeCgroupFile } from './fsutil.ts';
import { blkioWeightToIoWeight, cpuMax, cpuSharesToWeight, memorySwapToV2, v2Limit } from './convert.ts';

const FIELD = 'linux.resources';

/** Write, naming the config field on failure; ENOENT → the controller is missing there. */
function set(dir: string, file: string, value: string, field: string): void {
  try {
    writeCgroupFile(dir, file, value);
  } catch (err) {
    const cause = (err as HakoError).cause ?? err;
    if (errnoCode(cause) === 'ENOENT') {
      throw new HakoError(`${FIELD}.${field}: ${join(dir, file)} does not exist (controller not available)`, { cause });
    }
    throw new HakoError(`${FIELD}.${field}: write ${value} to ${join(dir, file)}: ${describeSystemError(cause)}`, { cause });
  }
}

const has = (dir: string, file: string): boolean => existsSync(join(dir, file));

/**
 * runc's default device rules (libcontainer/specconv AllowedDevices), appended after the config's
 * own rules (a config cannot turn them off either). A rule with a path is dropped when
 * linux.devices lists the same path: the config's device takes its place, as in runc.
 */
const DEFAULT_DEVICES: readonly { path?: string; rule: LinuxDeviceCgroup }[] = [
  { rule: { allow: true, type: 'c', access: 'm' } }, // mknod of any char device
  { rule: { allow: true, type: 'b', access: 'm' } }, // mknod of any block device
  { path: '/dev/null', rule: { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' } },
  { path: '/dev/random', rule: { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' } },
  { path: '/dev/full', rule: { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' } },
  { path: '/dev/tty', rule: { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' } },
  { path: '/dev/zero', rule: { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' } },
  { path: '/dev/urandom', rule: { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 136, access: 'rwm' } }, // /dev/pts/*
  { rule: { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' } }, // /dev/ptmx
  { rule: { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' } }, // /dev/net/tun
];

export const DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = DEFAULT_DEVICES.map((d) => d.rule);

export interface ApplyOptions {
  /**
   * linux.devices: only their paths matter here. They get no cgroup rule of their own (runc 1.1
   * neither): access to them is what linux.resources.devices says, so a later deny in the config
   * wins. A path that is also one of runc's defaults drops that default rule.
   */
  devices?: readonly { path?: string; type?: string; major?: number; minor?: number }[];
  /** Skip runc's DEFAULT_DEVICE_RULES (tests). */
  noDefaultDevices?: boolean;
}

// ---------------------------------------------------------------- v1

/** Apply on a v1 or hybrid host. `paths` is keyed by controller. */
export function applyV1(
  paths: Readonly<Record<string, string>>,
  r: LinuxResources,
  opts: ApplyOptions = {},
): string[] {
  const warnings: string[] = [];
  if (r.unified && Object.keys(r.unified).length > 0) {
    // runc's words (cgroups.ErrV1NoUnified).
    throw new HakoError(`${FIELD}.unified: invalid configuration: cannot use unified on cgroup v1`);
  }
  // A value for a controller this host does not have: an error naming the field (runc: "cannot set
  // <controller> limit"), never a silent or logged no-op. Values that ask for nothing pass.
  const need = (controller: string, field: string, value: unknown): string | undefined => {
    const d = paths[controller];
    if (!d && asksFor(value)) {
      // An object (memory, cpu, blockIO): name its first field that asks for something.
      const key = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).find(([, v]) => asksFor(v))?.[0] : undefined;
      throw new HakoError(`${FIELD}.${key ? `${field}.${key}` : field}: cannot set: no ${controller} cgroup hierarchy is mounted on this host`);
    }
    return d;
  };
  if (r.cpu && (r.cpu.cpus || r.cpu.mems)) {
    const d = need('cpuset', r.cpu.cpus ? 'cpu.cpus' : 'cpu.mems', true);
    if (d && r.cpu.cpus) set(d, 'cpuset.cpus', r.cpu.cpus, 'cpu.cpus');
    if (d && r.cpu.mems) set(d, 'cpuset.mems', r.cpu.mems, 'cpu.mems');
  }
  if (r.devices || !opts.noDefaultDevices) {
    const d = paths.devices;
    if (!d) throw new HakoError(`${FIELD}.devices: no devices cgroup hierarchy is mounted: refusing to run without device rules`);
    applyDevicesV1(d, deviceRules(r.devices ?? [], opts));
  }
  if (r.memory) {
    const d = need('memory', 'memory', r.memory);
    if (d) warnings.push(...applyMemoryV1(d, r.memory));
  }
  if (r.cpu) {
    const d = need('cpu', 'cpu', { ...r.cpu, cpus: undefined, mems: undefined });
    if (d) applyCpuV1(d, r.cpu);
  }
  if (r.pids) {
    const d = need('pids', 'pids.limit', r.pids.limit);
    if (d) set(d, 'pids.max', pidsMax(r.pids.limit), 'pids.limit');
  }
  if (r.blockIO) {
    const d = need('blkio', 'blockIO', r.blockIO);
    if (d) warnings.push(...applyBlkioV1(d, r.blockIO));
  }
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const d = need('hugetlb', `hugepageLimits[${i}]`, true);
    if (d) set(d, `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit), `hugepageLimits[${i}]`);
  });
  if (r.network?.classID !== undefined) {
    const d = need('net_cls', 'network.classID', r.network.classID);
    if (d) set(d, 'net_cls.classid', String(r.network.classID), 'network.classID');
  }
  (r.network?.priorities ?? []).forEach((p, i) => {
    const d = need('net_prio', `network.priorities[${i}]`, true);
    if (d) set(d, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `network.priorities[${i}]`);
  });
  if (r.rdma && Object.keys(r.rdma).length > 0) {
    const d = need('rdma', 'rdma', true);
    if (d) applyRdma(d, r.rdma);
  }
  return [...new Set(warnings)];
}

/**
 * Whether a resources value asks for anything: zero, false, empty and negative values (unset or
 * unlimited in the spec's fields) ask for nothing, so they need no controller.
 */
function asksFor(v: unknown): boolean {
  if (typeof v === 'number') return v > 0;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.values(v).some(asksFor);
  return false;
}

/** The v1 device rules in the order they are written: the config's, then runc's defaults. */
export function deviceRules(rules: readonly LinuxDeviceCgroup[], opts: ApplyOptions = {}): LinuxDeviceCgroup[] {
  const out = [...rules];
  if (!opts.noDefaultDevices) {
    const overridden = new Set((opts.devices ?? []).map((d) => d.path && posix.join('/', d.path)));
    for (const d of DEFAULT_DEVICES) if (d.path === undefined || !overridden.has(d.path)) out.push(d.rule);
  }
  return out;
}

/**
 * `c 1:3 rwm`, read as runc 1.1.5 reads a rule: access must not be empty; r, w and m count in any
 * order, repeated or not, anything else is ignored (so `mrw`, `rrw` and `rwmrwm` are fine), and the
 * permissions are written as `rwm` would order them. Type a (every device) is written as just `a`:
 * the kernel reads any `a` line so, and runc's emulator ignores its numbers and access. undefined:
 * the rule grants or denies no permission, so it changes nothing and is not written.
 */
export function deviceRuleLine(rule: LinuxDeviceCgroup, index: number): string | undefined {
  const type = rule.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type)) throw new HakoError(`${FIELD}.devices[${index}].type: must be a, b or c, got ${JSON.stringify(type)}`);
  const access = rule.access ?? '';
  if (access === '') throw new HakoError(`${FIELD}.devices[${index}].access: cannot be empty (a combination of r, w and m)`);
  if (type === 'a') return 'a';
  const perms = ['r', 'w', 'm'].filter((p) => access.includes(p)).join('');
  if (perms === '') return undefined;
  const num = (n: number | undefined) => (n === undefined || n < 0 ? '*' : String(n));
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${perms}`;
}

/**
 * Rules in order, each to devices.allow or devices.deny. A config that starts by denying
 * everything (the usual first rule) ends up with exactly its allow list. Applied before any
 * process is in the cgroup, so the transient states do not matter.
 */
function applyDevicesV1(dir: string, rules: LinuxDeviceCgroup[]): void {
  rules.forEach((rule, i) => {
    const line = deviceRuleLine(rule, i);
    if (line !== undefined) set(dir, rule.allow ? 'devices.allow' : 'devices.deny', line, `devices[${i}]`);
  });
}

function applyMemoryV1(dir: string, m: LinuxMemory): string[] {
  const warnings: string[] = [];
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  if (limit === -1 && swap === 0) swap = -1; // unlimited memory means unlimited memory+swap (runc)
  const hasMemsw = has(dir, 'memory.memsw.limit_in_bytes');
  const setLimit = () => {
    if (limit !== 0) set(dir, 'memory.limit_in_bytes', String(limit), 'memory.limit');
  };
  const setSwap = () => {
    if (swap === 0) return;
    if (!hasMemsw) {
      if (swap !== -1) warnings.push(`${FIELD}.memory.swap: not enforced: no swap accounting on this host`);
      return;
    }
    set(dir, 'memory.memsw.limit_in_bytes', String(swap), 'memory.swap');
  };
  // memsw must stay >= limit at every step: raise memsw first when growing, lower limit first when shrinking.
  if (limit !== 0 && swap !== 0 && hasMemsw) {
    const cur = Number(readCgroupFileIfExists(dir, 'memory.memsw.limit_in_bytes') ?? '0');
    if (swap === -1 || cur < swap) {
      setSwap();
      setLimit();
    } else {
      setLimit();
      setSwap();
    }
  } else {
    setLimit();
    setSwap();
  }
  if (m.reservation) set(dir, 'memory.soft_limit_in_bytes', String(m.reservation), 'memory.reservation');
  if (m.kernel) warnings.push(`${FIELD}.memory.kernel: ignored (kernel memory limits are deprecated)`);
  if (m.kernelTCP) set(dir, 'memory.kmem.tcp.limit_in_bytes', String(m.kernelTCP), 'memory.kernelTCP');
  if (m.swappiness !== undefined && m.swappiness >= 0) {
    if (m.swappiness > 100) throw new HakoError(`${FIELD}.memory.swappiness: must be between 0 and 100`);
    set(dir, 'memory.swappiness', String(m.swappiness), 'memory.swappiness');
  }
  if (m.disableOOMKiller) set(dir, 'memory.oom_control', '1', 'memory.disableOOMKiller');
  return warnings;
}

function applyCpuV1(dir: string, c: LinuxCPU): void {
  if (c.shares) set(dir, 'cpu.shares', String(c.shares), 'cpu.shares');
  if (c.period || c.quota) {
    // A new period can be refused while the old quota does not fit it: then quota first.
    const period = () => c.period && set(dir, 'cpu.cfs_period_us', String(c.period), 'cpu.period');
    const quota = () => c.quota && set(dir, 'cpu.cfs_quota_us', String(c.quota), 'cpu.quota');
    try {
      period();
    } catch (err) {
      if (errnoCode((err as HakoError).cause) !== 'EINVAL') throw err;
      quota();
      period();
    }
    quota();
  }
  if (c.burst !== undefined) set(dir, 'cpu.cfs_burst_us', String(c.burst), 'cpu.burst');
  if (c.realtimePeriod) set(dir, 'cpu.rt_period_us', String(c.realtimePeriod), 'cpu.realtimePeriod');
  if (c.realtimeRuntime) set(dir, 'cpu.rt_runtime_us', String(c.realtimeRuntime), 'cpu.realtimeRuntime');
  if (c.idle !== undefined) set(dir, 'cpu.idle', String(c.idle), 'cpu.idle');
}

function applyBlkioV1(dir: string, b: LinuxBlockIO): string[] {
  const warnings: string[] = [];
  // Kernels with BFQ and without CFQ only have the blkio.bfq.* files.
  const weightFile = has(dir, 'blkio.weight') ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = has(dir, 'blkio.weight_device') ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (b.weight) set(dir, weightFile, String(b.weight), 'blockIO.weight');
  if (b.leafWeight) {
    if (has(dir, 'blkio.leaf_weight')) set(dir, 'blkio.leaf_weight', String(b.leafWeight), 'blockIO.leafWeight');
    else warnings.push(`${FIELD}.blockIO.leafWeight: not enforced: no blkio.leaf_weight on this kernel`);
  }
  for (const [i, wd] of (b.weightDevice ?? []).entries()) {
    if (wd.weight) set(dir, weightDeviceFile, `${wd.major}:${wd.minor} ${wd.weight}`, `blockIO.weightDevice[${i}]`);
    if (wd.leafWeight) {
      if (has(dir, 'blkio.leaf_weight_device')) {
        set(dir, 'blkio.leaf_weight_device', `${wd.major}:${wd.minor} ${wd.leafWeight}`, `blockIO.weightDevice[${i}]`);
      } else {
        warnings.push(`${FIELD}.blockIO.weightDevice[${i}].leafWeight: not enforced on this kernel`);
      }
    }
  }
  const throttles: [keyof LinuxBlockIO, string][] = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ];
  for (const [key, file] of throttles) {
    const list = (b[key] ?? []) as { major: number; minor: number; rate: number }[];
    list.forEach((t, i) => set(dir, file, `${t.major}:${t.minor} ${t.rate}`, `blockIO.${key}[${i}]`));
  }
  return warnings;
}

function pidsMax(limit: number): string {
  return limit > 0 ? String(limit) : 'max';
}

function applyRdma(dir: string, rdma: NonNullable<LinuxResources['rdma']>): void {
  for (const [dev, l] of Object.entries(rdma)) {
    if (!l) continue;
    const parts = [dev];
    if (l.hcaHandles !== undefined) parts.push(`hca_handle=${l.hcaHandles}`);
    if (l.hcaObjects !== undefined) parts.push(`hca_object=${l.hcaObjects}`);
    if (parts.length > 1) set(dir, 'rdma.max', parts.join(' '), `rdma.${dev}`);
  }
}

// ---------------------------------------------------------------- v2

/** Apply on a pure cgroup v2 host, to the container's directory `dir`. */
export function applyV2(dir: string, r: LinuxResources, _opts: ApplyOptions = {}): string[] {
  const warnings: string[] = [];
  if (r.pids) set(dir, 'pids.max', pidsMax(r.pids.limit), 'pids.limit');
  if (r.memory) warnings.push(...applyMemoryV2(dir, r.memory));
  if (r.blockIO) warnings.push(...applyIoV2(dir, r.blockIO));
  if (r.cpu) warnings.push(...applyCpuV2(dir, r.cpu));
  if (r.devices && r.devices.length > 0) {
    // TODO(devices-v2): an eBPF BPF_CGROUP_DEVICE program built from the rules (src/linux/bpf).
    warnings.push(`${FIELD}.devices: not enforced on cgroup v2 yet (needs an eBPF device filter)`);
  }
  (r.hugepageLimits ?? []).forEach((h, i) => {
    set(dir, `hugetlb.${h.pageSize}.max`, String(h.limit), `hugepageLimits[${i}]`);
    // Reservations are limited too when the kernel has them (5.7+), as in runc.
    const rsvd = `hugetlb.${h.pageSize}.rsvd.max`;
    if (has(dir, rsvd)) set(dir, rsvd, String(h.limit), `hugepageLimits[${i}]`);
  });
  if (r.rdma && Object.keys(r.rdma).length > 0) applyRdma(dir, r.rdma);
  // The spec's MUST: a value for a controller the host does not have is an error.
  if (asksFor(r.network?.classID)) throw new HakoError(`${FIELD}.network.classID: cannot set: cgroup v2 has no net_cls controller`);
  if (asksFor(r.network?.priorities)) throw new HakoError(`${FIELD}.network.priorities: cannot set: cgroup v2 has no net_prio controller`);
  for (const [file, value] of Object.entries(r.unified ?? {})) {
    if (value === undefined) continue;
    if (file.includes('/') || file.startsWith('.') || file === '') {
      throw new HakoError(`${FIELD}.unified: "${file}" is not a cgroup file name`);
    }
    set(dir, file, value, `unified["${file}"]`);
  }
  return warnings;
}

function applyMemoryV2(dir: string, m: LinuxMemory): string[] {
  const warnings: string[] = [];
  const limit = m.limit ?? 0;
  const swap = memorySwapToV2(m.swap ?? 0, limit);
  let swapStr = v2Limit(swap);
  if (swapStr === undefined && swap === 0 && (m.swap ?? 0) > 0) swapStr = '0'; // swap == limit: no swap at all
  if (swapStr !== undefined) {
    if (has(dir, 'memory.swap.max')) set(dir, 'memory.swap.max', swapStr, 'memory.swap');
    else if (swapStr !== 'max' && swapStr !== '0') {
      throw new HakoError(`${FIELD}.memory.swap: this host has no swap accounting (no memory.swap.max)`);
    }
  }
  const max = v2Limit(limit);
  if (max !== undefined) set(dir, 'memory.max', max, 'memory.limit');
  const low = v2Limit(m.reservation);
  if (low !== undefined) set(dir, 'memory.low', low, 'memory.reservation');
  if (m.kernel) warnings.push(`${FIELD}.memory.kernel: ignored (no kernel memory limit on cgroup v2)`);
  if (m.kernelTCP) warnings.push(`${FIELD}.memory.kernelTCP: ignored (no kernel TCP limit on cgroup v2)`);
  if (m.swappiness !== undefined && m.swappiness >= 0) {
    warnings.push(`${FIELD}.memory.swappiness: ignored (no per-cgroup swappiness on cgroup v2)`);
  }
  if (m.disableOOMKiller) warnings.push(`${FIELD}.memory.disableOOMKiller: ignored on cgroup v2`);
  return warnings;
}

function applyCpuV2(dir: string, c: LinuxCPU): string[] {
  const warnings: string[] = [];
  if (c.realtimePeriod || c.realtimeRuntime) {
    warnings.push(`${FIELD}.cpu.realtimeRuntime: not enforced: cgroup v2 has no realtime cpu controller`);
  }
  if (c.shares) set(dir, 'cpu.weight', String(cpuSharesToWeight(c.shares)), 'cpu.shares');
  const max = cpuMax(c.quota, c.period);
  if (max !== undefined) set(dir, 'cpu.max', max, c.quota ? 'cpu.quota' : 'cpu.period');
  if (c.burst !== undefined) set(dir, 'cpu.max.burst', String(c.burst), 'cpu.burst');
  if (c.idle !== undefined) set(dir, 'cpu.idle', String(c.idle), 'cpu.idle');
  if (c.cpus) set(dir, 'cpuset.cpus', c.cpus, 'cpu.cpus');
  if (c.mems) set(dir, 'cpuset.mems', c.mems, 'cpu.mems');
  return warnings;
}

function applyIoV2(dir: string, b: LinuxBlockIO): string[] {
  const warnings: string[] = [];
  // io.bfq.weight takes blkio's own scale; io.weight needs the conversion.
  const bfq = has(dir, 'io.bfq.weight');
  if (b.weight) {
    if (bfq) set(dir, 'io.bfq.weight', String(b.weight), 'blockIO.weight');
    else set(dir, 'io.weight', String(blkioWeightToIoWeight(b.weight)), 'blockIO.weight');
  }
  for (const [i, wd] of (b.weightDevice ?? []).entries()) {
    if (!wd.weight) continue;
    const line = bfq ? `${wd.major}:${wd.minor} ${wd.weight}` : `${wd.major}:${wd.minor} ${blkioWeightToIoWeight(wd.weight)}`;
    set(dir, bfq ? 'io.bfq.weight' : 'io.weight', line, `blockIO.weightDevice[${i}]`);
  }
  if (b.leafWeight || (b.weightDevice ?? []).some((w) => w.leafWeight)) {
    warnings.push(`${FIELD}.blockIO.leafWeight: not enforced: cgroup v2 has no leaf weights`);
  }
  const throttles: [keyof LinuxBlockIO, string][] = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ];
  for (const [key, name] of throttles) {
    const list = (b[key] ?? []) as { major: number; minor: number; rate: number }[];
    list.forEach((t, i) => set(dir, 'io.max', `${t.major}:${t.minor} ${name}=${t.rate}`, `blockIO.${key}[${i}]`));
  }
  return warnings;
}
