// v1 → v2 value conversions (runc's, opencontainers/cgroups).
import { describe, expect, it } from 'vitest';
import {
  blkioWeightToIoWeight,
  cpuSharesToWeight,
  cpuSharesToWeightLegacy,
  memorySwapToV2,
} from '../../src/cgroups/index.ts';
import { cpuMax, v2Limit } from '../../src/cgroups/convert.ts';

describe('cpuSharesToWeight', () => {
  it('maps min, default and max onto cpu.weight’s min, default and max', () => {
    expect(cpuSharesToWeight(0)).toBe(0); // unset
    expect(cpuSharesToWeight(1)).toBe(1);
    expect(cpuSharesToWeight(2)).toBe(1);
    expect(cpuSharesToWeight(3)).toBe(2);
    expect(cpuSharesToWeight(1024)).toBe(100);
    expect(cpuSharesToWeight(262143)).toBe(10000);
    expect(cpuSharesToWeight(262144)).toBe(10000);
    expect(cpuSharesToWeight(300000)).toBe(10000);
  });

  it('is monotonic over the whole range', () => {
    let prev = 0;
    for (let s = 2; s <= 262144; s += 97) {
      const w = cpuSharesToWeight(s);
      expect(w).toBeGreaterThanOrEqual(prev);
      prev = w;
    }
  });

  it('keeps the old linear conversion available', () => {
    expect(cpuSharesToWeightLegacy(0)).toBe(0);
    expect(cpuSharesToWeightLegacy(2)).toBe(1);
    expect(cpuSharesToWeightLegacy(1024)).toBe(39);
    expect(cpuSharesToWeightLegacy(262144)).toBe(10000);
  });
});

describe('blkioWeightToIoWeight', () => {
  it('maps [10, 1000] onto [1, 10000]', () => {
    expect(blkioWeightToIoWeight(0)).toBe(0);
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
  });
});

describe('memorySwapToV2', () => {
  it('turns memory+swap into swap alone', () => {
    expect(memorySwapToV2(0, 0)).toBe(0);
    expect(memorySwapToV2(-1, 0)).toBe(-1);
    expect(memorySwapToV2(0, -1)).toBe(-1);
    expect(memorySwapToV2(-1, 1000)).toBe(-1);
    expect(memorySwapToV2(1000, 1000)).toBe(0);
    expect(memorySwapToV2(3000, 1000)).toBe(2000);
    expect(memorySwapToV2(5000, -1)).toBe(5000);
  });

  it('refuses what cannot be expressed', () => {
    expect(() => memorySwapToV2(1000, 0)).toThrow(/without memory.limit/);
    expect(() => memorySwapToV2(-2, 0)).toThrow(/without memory.limit/);
    expect(() => memorySwapToV2(500, 1000)).toThrow(/must be >= memory.limit/);
    expect(() => memorySwapToV2(500, -5)).toThrow(/invalid value -5/);
  });
});

describe('cpu.max and v2 limits', () => {
  it('writes quota and period, max when unlimited, the default period when absent', () => {
    expect(cpuMax(undefined, undefined)).toBeUndefined();
    expect(cpuMax(50000, 100000)).toBe('50000 100000');
    expect(cpuMax(50000, undefined)).toBe('50000 100000');
    expect(cpuMax(-1, 250000)).toBe('max 250000');
    expect(cpuMax(undefined, 20000)).toBe('max 20000');
  });

  it('turns -1 into max and 0 into unset', () => {
    expect(v2Limit(-1)).toBe('max');
    expect(v2Limit(0)).toBeUndefined();
    expect(v2Limit(undefined)).toBeUndefined();
    expect(v2Limit(4096)).toBe('4096');
  });
});
