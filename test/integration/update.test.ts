// `hako update` for real: the cgroup v1 files of a running container change; bad input is named.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { hako, hakoDetached } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

const root = `/run/hako-test-update-${process.pid}`;
const bundles: TestBundle[] = [];
const ids: string[] = [];
const cg = (ctrl: string, id: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, 'hako-test', id, file), 'utf8').trim();

afterAll(() => {
  for (const id of ids) if (existsSync(join(root, id))) hako(['--root', root, 'delete', '--force', id]);
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0 || !existsSync('/sys/fs/cgroup/memory'))('update (root, cgroup v1)', () => {
  it('changes memory, cpu and pids limits of a running container, from flags and from docker\'s JSON on stdin', () => {
    const id = `upd-${process.pid}`;
    ids.push(id);
    const bundle = makeBundle(id, (s) => {
      s.process!.args = ['sleep', '30'];
    });
    bundles.push(bundle);
    expect(hakoDetached(['--root', root, 'create', '-b', bundle.dir, id], bundle.dir).status).toBe(0);
    expect(hako(['--root', root, 'start', id]).status).toBe(0);

    let r = hako(['--root', root, 'update', '--memory', '64m', '--pids-limit', '50', '--cpu-share', '512', id]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(cg('memory', id, 'memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    expect(cg('pids', id, 'pids.max')).toBe('50');
    expect(cg('cpu', id, 'cpu.shares')).toBe('512');

    // what dockerd sends through containerd's shim: zeros mean "leave it"
    const docker = { memory: { limit: 33554432, reservation: 0, swap: 67108864, kernel: 0 }, cpu: { shares: 0, quota: 50000, period: 100000 }, blockIO: { weight: 0 } };
    r = hako(['--root', root, 'update', '--resources', '-', id], { input: JSON.stringify(docker) });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(cg('memory', id, 'memory.limit_in_bytes')).toBe('33554432');
    expect(cg('cpu', id, 'cpu.cfs_quota_us')).toBe('50000');
    expect(cg('cpu', id, 'cpu.shares')).toBe('512'); // unchanged by the zero
    expect(cg('pids', id, 'pids.max')).toBe('50');

    r = hako(['--root', root, 'update', '--resources', '-', id], { input: '{"memory": {"limit": "lots"}}' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('resources (stdin): memory.limit: must be an integer\n');

    expect(hako(['--root', root, 'kill', id, 'KILL']).status).toBe(0);
    for (let i = 0; i < 100 && JSON.parse(hako(['--root', root, 'state', id]).stdout).status !== 'stopped'; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    expect(hako(['--root', root, 'update', '--memory', '32m', id]).stderr).toBe('container not running\n');
    expect(hako(['--root', root, 'delete', id]).status).toBe(0);
    expect(findLeaks({ root, ids: [id], dirs: [bundle.dir] })).toEqual([]);
  });
});
