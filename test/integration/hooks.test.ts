// Runtime-namespace hooks for real: order, the state on stdin, failure handling and cleanup.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { hako, hakoDetached } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

const root = `/run/hako-test-hooks-${process.pid}`;
const bundles: TestBundle[] = [];
const ids: string[] = [];
afterAll(() => {
  for (const id of ids) if (existsSync(join(root, id))) hako(['--root', root, 'delete', '--force', id]);
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
});

/** A hook script that appends "<name> <stdin>" to the log: what ran, in which order, with which state. */
function hookScript(dir: string, log: string): string {
  const path = join(dir, 'hook.sh');
  writeFileSync(path, `#!/bin/sh\nprintf '%s %s\\n' "$1" "$(cat)" >> ${log}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe.skipIf(process.getuid?.() !== 0)('hooks (root)', () => {
  it('runs prestart, createRuntime, poststart and poststop in order, each with the state on stdin', () => {
    mkdirSync(root, { recursive: true });
    const id = `hooks-${process.pid}-a`;
    ids.push(id);
    const bundle = makeBundle(id);
    bundles.push(bundle);
    const log = join(bundle.dir, 'hooks.log');
    const script = hookScript(bundle.dir, log);
    const hook = (name: string) => [{ path: script, args: ['hook.sh', name] }];
    bundle.spec.hooks = { prestart: hook('prestart'), createRuntime: hook('createRuntime'), poststart: hook('poststart'), poststop: hook('poststop') };
    bundle.spec.process!.args = ['sleep', '30'];
    bundle.save();

    expect(hakoDetached(['--root', root, 'create', '-b', bundle.dir, id], bundle.dir).status).toBe(0);
    const initPid = JSON.parse(hako(['--root', root, 'state', id]).stdout).pid;
    expect(hako(['--root', root, 'start', id]).status).toBe(0);
    expect(hako(['--root', root, 'delete', '--force', id]).status).toBe(0);

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const entries = lines.map((l) => {
      const space = l.indexOf(' ');
      return { name: l.slice(0, space), state: JSON.parse(l.slice(space + 1)) };
    });
    expect(entries.map((e) => e.name)).toEqual(['prestart', 'createRuntime', 'poststart', 'poststop']);
    expect(entries[0]!.state).toMatchObject({ id, status: 'creating', pid: initPid, bundle: bundle.dir });
    expect(entries[2]!.state).toMatchObject({ id, status: 'running', pid: initPid });
    expect(entries[3]!.state).toMatchObject({ id, status: 'stopped' });
  });

  it('fails create when a createRuntime hook fails, naming the hook, and leaves nothing', () => {
    mkdirSync(root, { recursive: true });
    const id = `hooks-${process.pid}-b`;
    ids.push(id);
    const bundle = makeBundle(id, (s) => {
      s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo broken >&2; exit 3'] }] };
    });
    bundles.push(bundle);
    const r = hakoDetached(['--root', root, 'create', '-b', bundle.dir, id], bundle.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('hooks.createRuntime[0]: /bin/sh: exit status 3: broken\n');
    expect(findLeaks({ root, ids: [id], dirs: [bundle.dir] })).toEqual([]);
  });
});
