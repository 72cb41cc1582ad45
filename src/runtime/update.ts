// `hako update`: change the cgroup limits of a running container, as runc does. The resources come
// from `--resources FILE` (`-` for stdin: containerd's shim and docker) and/or the single flags;
// a zero (or an empty cpuset string) means "leave as it is", because runc treats it so and docker
// sends zeros for everything it does not set. Devices are not updated.
import { readFileSync } from 'node:fs';
import type { Context } from './context.ts';
import { HakoError } from '../errors.ts';
import { validateResources } from '../spec/load.ts';
import { parseJson } from '../spec/json.ts';
import type { LinuxResources } from '../spec/types.ts';
import { containerCgroups } from './cgroups.ts';
import { statusOf } from './status.ts';

export interface UpdateFlags {
  resources?: string;
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Bytes as runc's flags take them: `67108864`, `64m`, `1g`, `512KiB`, or -1 for unlimited. */
export function parseBytes(flag: string, text: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new HakoError(`invalid value for --${flag}: ${JSON.stringify(text)}: expected bytes such as 67108864 or 64m`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

function parseInteger(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new HakoError(`invalid value for --${flag}: ${JSON.stringify(text)}: must be an integer`);
  return Number(text);
}

/** The resources the flags ask for, laid over those of --resources. */
export function resourcesFromFlags(base: LinuxResources, f: UpdateFlags): LinuxResources {
  const r: LinuxResources = structuredClone(base);
  const memory = (r.memory ??= {});
  const cpu = (r.cpu ??= {});
  if (f.memory !== undefined) memory.limit = parseBytes('memory', f.memory);
  if (f.memoryReservation !== undefined) memory.reservation = parseBytes('memory-reservation', f.memoryReservation);
  if (f.memorySwap !== undefined) memory.swap = parseBytes('memory-swap', f.memorySwap);
  if (f.cpuShare !== undefined) cpu.shares = parseInteger('cpu-share', f.cpuShare);
  if (f.cpuQuota !== undefined) cpu.quota = parseInteger('cpu-quota', f.cpuQuota);
  if (f.cpuPeriod !== undefined) cpu.period = parseInteger('cpu-period', f.cpuPeriod);
  if (f.cpuRtRuntime !== undefined) cpu.realtimeRuntime = parseInteger('cpu-rt-runtime', f.cpuRtRuntime);
  if (f.cpuRtPeriod !== undefined) cpu.realtimePeriod = parseInteger('cpu-rt-period', f.cpuRtPeriod);
  if (f.cpusetCpus !== undefined) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems !== undefined) cpu.mems = f.cpusetMems;
  if (f.pidsLimit !== undefined) r.pids = { limit: parseInteger('pids-limit', f.pidsLimit) };
  if (f.blkioWeight !== undefined) r.blockIO = { ...r.blockIO, weight: parseInteger('blkio-weight', f.blkioWeight) };
  return r;
}

/** Drops what means "unchanged" (zeros, empty cpusets) and what update never touches (devices). */
export function changesOnly(r: LinuxResources): LinuxResources {
  const drop = <T extends object>(o: T | undefined): T | undefined => {
    if (!o) return undefined;
    const kept = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0 && v !== '' && v !== undefined && v !== null)) as T;
    return Object.keys(kept).length > 0 ? kept : undefined;
  };
  const out: LinuxResources = { ...r, memory: drop(r.memory), cpu: drop(r.cpu), pids: drop(r.pids), blockIO: drop(r.blockIO) };
  delete out.devices;
  for (const k of Object.keys(out) as (keyof LinuxResources)[]) if (out[k] === undefined) delete out[k];
  return out;
}

function readResources(path: string): LinuxResources {
  const source = path === '-' ? 'resources (stdin)' : path;
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new HakoError(`--resources ${path}: ${(err as Error).message}`);
  }
  return validateResources(parseJson(text, source), source);
}

export async function updateContainer(ctx: Context, id: string, flags: UpdateFlags): Promise<void> {
  if (flags.l3CacheSchema !== undefined || flags.memBwSchema !== undefined) {
    throw new HakoError('intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported by hako');
  }
  for (const ignored of ['kernelMemory', 'kernelMemoryTcp'] as const) {
    if (flags[ignored] !== undefined) ctx.logger.warn(`--${ignored === 'kernelMemory' ? 'kernel-memory' : 'kernel-memory-tcp'} is ignored (kernel memory limits are deprecated)`);
  }
  const requested = resourcesFromFlags(flags.resources ? readResources(flags.resources) : {}, flags);
  const changes = changesOnly(requested);
  await ctx.store.withLock(id, async () => {
    const record = ctx.store.read(id);
    const status = statusOf(record, ctx.store.dir(id));
    if (status === 'stopped') throw new HakoError('container not running');
    const cgroups = containerCgroups(record);
    if (!cgroups) throw new HakoError(`container ${id} has no cgroups to update`);
    for (const warning of cgroups.apply(changes)) ctx.logger.warn(`update: ${warning}`);
    // Keep the record's view of the limits current (a later update or exec reads it).
    const linux = (record.config.linux ??= {});
    const current = (linux.resources ??= {});
    for (const [key, value] of Object.entries(changes) as [keyof LinuxResources, unknown][]) {
      const old = current[key];
      (current as Record<string, unknown>)[key] =
        old && typeof old === 'object' && !Array.isArray(old) && value && typeof value === 'object' ? { ...old, ...value } : value;
    }
    ctx.store.write(record);
  });
}
