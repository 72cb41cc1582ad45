// hako and runc side by side on one bundle: clients parse `state`, `list --format json` and
// `ps --format json`, so their shapes must match runc's (values that differ by nature, such as
// pids, times and the ociVersion runc was built with, are compared by type).
import { existsSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { hako, hakoDetached } from '../helpers/hako.ts';
import { spawnSync } from 'node:child_process';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
const roots = { hako: `/run/hako-test-cmp-hako-${process.pid}`, runc: `/run/hako-test-cmp-runc-${process.pid}` };
const bundles: TestBundle[] = [];

function runc(args: string[]) {
  const r = spawnSync(RUNC!, ['--root', roots.runc, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON's shape: keys in order, and each value's type. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, shape(v)]);
  return typeof value;
}

afterAll(() => {
  for (const b of bundles) b.remove();
  for (const r of Object.values(roots)) rmSync(r, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0 || !RUNC)('hako against runc, one bundle', () => {
  it('prints state, list and ps JSON in runc\'s shapes', () => {
    const id = `cmp-${process.pid}`;
    const bundle = makeBundle(id, (s) => {
      s.process!.args = ['sh', '-c', 'sleep 30 & sleep 30; true'];
      s.annotations = { 'org.example.key': 'value' };
    });
    bundles.push(bundle);
    const results: Record<string, { state: unknown[]; list: unknown; ps: number[] }> = {};
    for (const name of ['hako', 'runc'] as const) {
      const call = name === 'hako' ? (args: string[]) => hako(['--root', roots.hako, ...args]) : runc;
      const created =
        name === 'hako'
          ? hakoDetached(['--root', roots.hako, 'create', '-b', bundle.dir, id], bundle.dir)
          : spawnSync(RUNC!, ['--root', roots.runc, 'create', '-b', bundle.dir, id], { stdio: 'ignore' });
      expect(created.status, `${name} create`).toBe(0);
      const states = [JSON.parse(call(['state', id]).stdout)];
      expect(call(['start', id]).status).toBe(0);
      states.push(JSON.parse(call(['state', id]).stdout));
      // wait for the shell to have started its two sleeps
      let ps: number[] = [];
      for (let i = 0; i < 200 && ps.length < 3; i++) {
        ps = JSON.parse(call(['ps', '--format', 'json', id]).stdout);
        if (ps.length < 3) spawnSync('sleep', ['0.02']);
      }
      const list = JSON.parse(call(['list', '--format', 'json']).stdout);
      expect(call(['kill', id, 'KILL']).status).toBe(0);
      for (let i = 0; i < 200 && JSON.parse(call(['state', id]).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
      states.push(JSON.parse(call(['state', id]).stdout));
      expect(call(['delete', id]).status).toBe(0);
      results[name] = { state: states, list, ps };
    }
    const { hako: h, runc: r } = results as Record<'hako' | 'runc', (typeof results)[string]>;
    expect(shape(h.state)).toEqual(shape(r.state));
    expect(h.state.map((s) => (s as { status: string }).status)).toEqual(['created', 'running', 'stopped']);
    expect(r.state.map((s) => (s as { status: string }).status)).toEqual(['created', 'running', 'stopped']);
    for (const k of ['id', 'bundle', 'rootfs', 'annotations', 'owner']) {
      expect(h.state.map((s) => (s as Record<string, unknown>)[k])).toEqual(r.state.map((s) => (s as Record<string, unknown>)[k]));
    }
    expect(shape(h.list)).toEqual(shape(r.list));
    expect(h.ps).toHaveLength(3);
    expect(r.ps).toHaveLength(3);
    expect(shape(h.ps)).toEqual(shape(r.ps));
  });

  it('fails the same way for a missing container (exit 1, "does not exist")', () => {
    const h = hako(['--root', roots.hako, 'state', 'missing']);
    const r = runc(['state', 'missing']);
    expect(h.status).toBe(r.status);
    expect(h.stderr).toMatch(/does not exist/);
    expect(r.stderr).toMatch(/does not exist/);
  });
});
