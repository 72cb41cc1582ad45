import { describe, expect, it } from 'vitest';
import { changesOnly, parseBytes, resourcesFromFlags } from '../../src/runtime/update.ts';

describe('update input', () => {
  it('reads byte sizes as runc\'s flags do', () => {
    expect(parseBytes('memory', '67108864')).toBe(67108864);
    expect(parseBytes('memory', '64m')).toBe(64 * 1024 * 1024);
    expect(parseBytes('memory', '1G')).toBe(1024 ** 3);
    expect(parseBytes('memory', '512KiB')).toBe(512 * 1024);
    expect(parseBytes('memory', '-1')).toBe(-1);
    expect(() => parseBytes('memory', 'lots')).toThrow('invalid value for --memory: "lots"');
  });

  it('lays the flags over --resources', () => {
    const r = resourcesFromFlags({ memory: { limit: 1 }, cpu: { shares: 512 } }, { memory: '2m', cpuQuota: '50000', pidsLimit: '20' });
    expect(r).toEqual({ memory: { limit: 2097152 }, cpu: { shares: 512, quota: 50000 }, pids: { limit: 20 } });
  });

  it('treats zeros as unchanged, as runc does with docker\'s update JSON, and never touches devices', () => {
    const docker = {
      memory: { limit: 67108864, reservation: 0, swap: 134217728, kernel: 0 },
      cpu: { shares: 0, quota: 50000, period: 100000 },
      blockIO: { weight: 0 },
      devices: [{ allow: false, access: 'rwm' }],
    };
    expect(changesOnly(docker)).toEqual({ memory: { limit: 67108864, swap: 134217728 }, cpu: { quota: 50000, period: 100000 } });
  });
});
