// v1-shaped `linux.resources` values → cgroup v2 file values, with runc's conversions
// (opencontainers/cgroups, used by runc ≥ 1.3.2; crun ≥ 1.23 agrees for cpu.weight).

import { ConfigError } from '../errors.ts';

/**
 * cpu.shares [2, 262144] → cpu.weight [1, 10000]; 0 means unset. The quadratic fit runc and crun
 * use since 2025 maps the default 1024 to the default 100 (the old linear one gave 39):
 * weight = ceil(10^((log2(s)² + 125·log2(s)) / 612 − 7/34)).
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(Math.pow(10, exponent));
}

/** The linear conversion of runc ≤ 1.3.1: 1 + (s − 2)·9999 / 262142 (integer division). */
export function cpuSharesToWeightLegacy(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight [10, 1000] → io.weight [1, 10000]; 0 means unset. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * `memory.swap` is memory+swap (v1 memsw); memory.swap.max is swap alone. -1 means max,
 * 0 means unset. Errors name the config field.
 */
export function memorySwapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw new ConfigError(['config.json: linux.resources.memory.swap: cannot be set without memory.limit']);
  if (memory < 0) throw new ConfigError([`config.json: linux.resources.memory.limit: invalid value ${memory}`]);
  if (swap < memory) {
    throw new ConfigError(['config.json: linux.resources.memory.swap: must be >= memory.limit (it is memory+swap)']);
  }
  return swap - memory;
}

/** v2 memory.* value: -1 → max, 0 → unset (undefined). */
export function v2Limit(value: number | undefined): string | undefined {
  if (value === undefined || value === 0) return undefined;
  return value === -1 ? 'max' : String(value);
}

/** cpu.max from quota/period: "max 100000", "50000 100000"; undefined when neither is set. */
export function cpuMax(quota: number | undefined, period: number | undefined): string | undefined {
  if (!quota && !period) return undefined;
  const q = quota !== undefined && quota > 0 ? String(quota) : 'max';
  return `${q} ${period || 100000}`;
}
