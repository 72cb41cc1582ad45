// v1 device rules: the config's rules in order, then runc's defaults; linux.devices adds no rule.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_RULES, deviceRuleLine, deviceRules } from '../../src/cgroups/resources.ts';
import type { LinuxDeviceCgroup } from '../../src/spec/types.ts';

const lines = (rules: LinuxDeviceCgroup[]) => rules.map((r, i) => `${r.allow ? 'allow' : 'deny'} ${deviceRuleLine(r, i)}`);

describe('deviceRules (cgroup v1)', () => {
  const config: LinuxDeviceCgroup[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    { allow: true, type: 'c', major: 4, minor: 64, access: 'rw' },
    { allow: false, type: 'c', major: 4, minor: 64, access: 'rwm' },
  ];

  it('keeps the config order and a later deny stays after the allow it overrides', () => {
    const out = lines(deviceRules(config, { devices: [{ path: '/dev/denied', type: 'c', major: 4, minor: 64 }] }));
    expect(out.slice(0, 4)).toEqual(['deny a', 'allow c 10:229 rw', 'allow c 4:64 rw', 'deny c 4:64 rwm']);
    // nothing after the config's deny allows c 4:64 again (linux.devices gets no rule of its own)
    expect(out.slice(4).some((l) => l.startsWith('allow c 4:64') || l.startsWith('allow c 4:*') || l === 'allow a')).toBe(false);
    expect(out.slice(4)).toEqual(lines(DEFAULT_DEVICE_RULES as LinuxDeviceCgroup[]));
  });

  it('appends runc’s defaults after the config’s rules', () => {
    const out = lines(deviceRules([{ allow: false, access: 'rwm' }]));
    expect(out).toEqual([
      'deny a',
      'allow c *:* m',
      'allow b *:* m',
      'allow c 1:3 rwm',
      'allow c 1:8 rwm',
      'allow c 1:7 rwm',
      'allow c 5:0 rwm',
      'allow c 1:5 rwm',
      'allow c 1:9 rwm',
      'allow c 136:* rwm',
      'allow c 5:2 rwm',
      'allow c 10:200 rwm',
    ]);
  });

  it('a linux.devices entry at a default path drops that default rule (as runc)', () => {
    const out = lines(deviceRules([], { devices: [{ path: 'dev/null', type: 'c', major: 1, minor: 3 }, { path: '/dev/fuse', type: 'c', major: 10, minor: 229 }] }));
    expect(out).not.toContain('allow c 1:3 rwm');
    expect(out).not.toContain('allow c 10:229 rwm');
    expect(out).toContain('allow c 1:5 rwm');
    expect(out).toHaveLength(DEFAULT_DEVICE_RULES.length - 1);
  });

  it('noDefaultDevices: only the config’s rules', () => {
    expect(deviceRules(config, { noDefaultDevices: true, devices: [{ path: '/dev/x', type: 'c', major: 4, minor: 64 }] })).toEqual(config);
  });

  it('reads access as runc 1.1.5: any order, repeats, unknown letters ignored; empty refused naming the field', () => {
    const line = (access: string | undefined, type: string = 'c') => deviceRuleLine({ allow: true, type, major: 4, minor: 64, access }, 2);
    expect(line('rwm')).toBe('c 4:64 rwm');
    expect(line('mrw')).toBe('c 4:64 rwm');
    expect(line('rrw')).toBe('c 4:64 rw');
    expect(line('rwmrwm')).toBe('c 4:64 rwm');
    expect(line('wm')).toBe('c 4:64 wm');
    expect(line('rwx')).toBe('c 4:64 rw');
    expect(line('x')).toBeUndefined(); // no permission: nothing to write
    expect(line('r', 'a')).toBe('a');
    expect(() => line('')).toThrow('linux.resources.devices[2].access: cannot be empty (a combination of r, w and m)');
    expect(() => line(undefined)).toThrow('linux.resources.devices[2].access: cannot be empty');
    expect(() => line('rwm', 'p')).toThrow('linux.resources.devices[2].type: must be a, b or c, got "p"');
  });
});
