// Built seccomp filters are cached under --root: a hit skips libseccomp, a changed profile or a
// damaged file is built again; the cache folder is never taken for a container.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/log/logger.ts';
import { SECCOMP_CACHE_PREFIX, seccompFilter } from '../../src/runtime/seccomp.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import { StateStore } from '../../src/state/store.ts';
import type { Spec } from '../../src/spec/types.ts';

// made in beforeAll: a run filtered with -t skips afterAll, and must not leave the folder behind
let root = '';
beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'hako-test-seccomp-cache-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lines: string[] = [];
const logger = { debug: (m: string) => lines.push(m) } as unknown as Logger;
const spec = (names: string[]): Spec => {
  const s = defaultSpec();
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names, action: 'SCMP_ACT_ERRNO' }] };
  return s;
};

describe('seccomp filter cache', () => {
  it('builds once, then reads the cache; another profile is another entry; a damaged entry is built again', async () => {
    const first = await seccompFilter(spec(['mkdir']), logger, root);
    const entries = () => readdirSync(root).filter((f) => f.startsWith(SECCOMP_CACHE_PREFIX));
    expect(entries()).toHaveLength(1);
    const mkdirEntry = join(root, entries()[0]!);
    lines.length = 0;
    const second = await seccompFilter(spec(['mkdir']), logger, root);
    expect(lines.some((l) => l.includes('cached filter'))).toBe(true);
    expect(Buffer.from(second!.bpf).equals(Buffer.from(first!.bpf))).toBe(true);

    await seccompFilter(spec(['rmdir']), logger, root);
    expect(entries()).toHaveLength(2);

    writeFileSync(mkdirEntry, 'bad');
    lines.length = 0;
    const rebuilt = await seccompFilter(spec(['mkdir']), logger, root);
    expect(Buffer.from(rebuilt!.bpf).equals(Buffer.from(first!.bpf))).toBe(true);
    expect(lines.some((l) => l.includes('cached filter'))).toBe(false);
    expect(readFileSync(mkdirEntry).equals(Buffer.from(first!.bpf))).toBe(true);
  });

  it('without a --root (no place for it) nothing is cached; the store never lists the cache as a container', async () => {
    expect(await seccompFilter(spec(['mkdir']), logger)).toBeDefined();
    expect(readdirSync(root).filter((f) => f.startsWith(SECCOMP_CACHE_PREFIX))).toHaveLength(2);
    expect(new StateStore(root).ids()).toEqual([]);
  });
});
