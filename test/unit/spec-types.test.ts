import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('src/spec/types.ts', () => {
  it('is exactly what scripts/gen-types.mjs generates from schemas/', () => {
    const generated = execFileSync(process.execPath, [join(root, 'scripts/gen-types.mjs'), '--stdout'], {
      cwd: root,
      encoding: 'utf8',
    });
    const committed = readFileSync(join(root, 'src/spec/types.ts'), 'utf8');
    // On failure: run `node scripts/gen-types.mjs` and commit src/spec/types.ts.
    expect(committed).toBe(generated);
  });

  it('exports the names other modules import', () => {
    const text = readFileSync(join(root, 'src/spec/types.ts'), 'utf8');
    const exported = new Set([...text.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]));
    const wanted = [
      'Spec', 'Process', 'User', 'Box', 'Root', 'Mount', 'Hook', 'Hooks', 'POSIXRlimit', 'LinuxCapabilities',
      'Linux', 'LinuxNamespace', 'LinuxNamespaceType', 'LinuxIDMapping', 'LinuxDevice', 'LinuxResources',
      'LinuxMemory', 'LinuxCPU', 'LinuxPids', 'LinuxBlockIO', 'LinuxHugepageLimit', 'LinuxNetwork',
      'LinuxDeviceCgroup', 'LinuxRdma', 'LinuxSeccomp', 'LinuxSyscall', 'LinuxSeccompArg', 'LinuxTimeOffset',
      'LinuxPersonality', 'LinuxIntelRdt', 'Scheduler', 'IOPriority', 'LinuxNetDevice', 'LinuxMemoryPolicy',
      'State', 'Features', 'LinuxFeatures',
    ];
    expect(wanted.filter((n) => !exported.has(n))).toEqual([]);
    // a numbered name (Hook1) means one definition was emitted twice
    expect([...exported].filter((n) => /\d$/.test(n!))).toEqual([]);
  });
});
