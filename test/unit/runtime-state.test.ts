import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../../src/state/record.ts';
import { formatTable, ociState } from '../../src/runtime/state.ts';
import { processIdentity } from '../../src/runtime/procfs.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hako-unit-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const base: ContainerRecord = {
  id: 'c1',
  ociVersion: '1.3.0',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-01-01T00:00:00.000Z',
  owner: 'root',
  config: { ociVersion: '1.3.0' } as ContainerRecord['config'],
};

describe('ociState', () => {
  it('has runc\'s keys in runc\'s order', () => {
    const s = ociState({ ...base, annotations: { a: 'b' } }, dir);
    expect(Object.keys(s)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'annotations', 'owner']);
    expect(Object.keys(ociState(base, dir))).not.toContain('annotations');
  });

  it('derives the status from the live process and the exec fifo', () => {
    const me = processIdentity(process.pid)!;
    expect(ociState({ ...base, creator: me }, dir)).toMatchObject({ status: 'creating', pid: 0 });
    writeFileSync(join(dir, 'exec.fifo'), '');
    expect(ociState({ ...base, init: me }, dir)).toMatchObject({ status: 'created', pid: process.pid });
    rmSync(join(dir, 'exec.fifo'));
    expect(ociState({ ...base, init: me }, dir)).toMatchObject({ status: 'running', pid: process.pid });
    // same pid, other start time: a recycled pid is not our init
    expect(ociState({ ...base, init: { pid: me.pid, startTime: me.startTime + 1 } }, dir)).toMatchObject({ status: 'stopped', pid: 0 });
    expect(ociState({ ...base, creator: { pid: me.pid, startTime: 1 } }, dir)).toMatchObject({ status: 'stopped' });
  });

  it('formats runc\'s list table', () => {
    const s = ociState(base, dir, true);
    const lines = formatTable([s]).split('\n');
    expect(lines[0]).toBe('ID          PID         STATUS      BUNDLE      CREATED' + ' '.repeat(20) + 'OWNER');
    expect(lines[1]).toBe('c1          0           stopped     /b          2026-01-01T00:00:00.000Z   root');
  });
});
