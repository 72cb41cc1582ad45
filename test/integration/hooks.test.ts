// Runtime-namespace hooks for real: order, the state on stdin, failure handling and cleanup.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(entries[0]!.state).toMatchObject({ id, status: 'created', pid: initPid, bundle: bundle.dir }); // prestart: step 3, created
    expect(entries[1]!.state).toMatchObject({ id, status: 'creating', pid: initPid });
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

  it('in-container hooks: a failing createContainer fails create naming it; a failing startContainer fails start, the process never runs; nothing left', () => {
    mkdirSync(root, { recursive: true });
    const id = `hooks-${process.pid}-c`;
    const id2 = `hooks-${process.pid}-d`;
    ids.push(id, id2);
    const create = makeBundle(id, (s) => {
      s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'read -r state; echo "$state" >&2; exit 3'] }] };
    });
    bundles.push(create);
    const r = hakoDetached(['--root', root, 'create', '-b', create.dir, id], create.dir);
    expect(r.status).toBe(1);
    // its stdin was the state, with the init's host pid and status creating
    expect(r.stderr).toMatch(/^hooks\.createContainer\[0\]: \/bin\/sh: exit status 3: \{"ociVersion":"[^"]+","id":"hooks-\d+-c","status":"creating","pid":[1-9]\d*,"bundle"/);
    expect(findLeaks({ root, ids: [id], dirs: [create.dir] })).toEqual([]);

    const start = makeBundle(id2, (s) => {
      s.process!.args = ['sh', '-c', 'echo user-program-ran'];
      // runs inside the container: the path is the rootfs's
      s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no >&2; exit 4'] }] };
    });
    bundles.push(start);
    expect(hakoDetached(['--root', root, 'create', '-b', start.dir, id2], start.dir).status).toBe(0);
    const st = hako(['--root', root, 'start', id2]);
    expect(st.status).toBe(1);
    expect(st.stderr).toBe('cannot start container: hooks.startContainer[0]: /bin/sh: exit status 4: no\n');
    expect(JSON.parse(hako(['--root', root, 'state', id2]).stdout).status).toBe('stopped');
    expect(hako(['--root', root, 'delete', id2]).status).toBe(0);
    expect(readdirSync(start.dir).filter((f) => f.startsWith('stdout-')).map((f) => readFileSync(join(start.dir, f), 'utf8'))).toEqual(['']);
    expect(findLeaks({ root, ids: [id2], dirs: [start.dir] })).toEqual([]);
  });
});
