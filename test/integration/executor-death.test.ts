// The executor dies after the init is ready but before it could tell node (issue 8): `create`
// must fail, not hang, and leave nothing behind. The init closes its copy of the channel before it
// waits on the fifo, so node's read sees end-of-file when the executor goes.
// A prestart hook (run by hako while the init waits at its sync point) stops the executor, then
// kills it a moment after the init got past `ready` and blocked on the fifo.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { hako, hakoDetached } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

const root = `/run/hako-test-exdeath-${process.pid}`;
const bundles: TestBundle[] = [];
afterAll(() => {
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
});

// stdin: the state JSON; the init's parent is the executor
const STOP_THEN_KILL_EXECUTOR = [
  'pid=$(sed -n \'s/.*"pid": *\\([0-9]*\\).*/\\1/p\')',
  'ex=$(awk \'/^PPid:/ {print $2}\' /proc/$pid/status)',
  'kill -STOP $ex',
  '( sleep 1; kill -KILL $ex ) </dev/null >/dev/null 2>&1 &',
].join('\n');

describe.skipIf(process.getuid?.() !== 0)('executor death after the init is ready', () => {
  it('create fails within its timeout instead of hanging, and leaves nothing', () => {
    const id = `exdeath-${process.pid}`;
    const b = makeBundle(id, (s) => {
      s.process!.args = ['sleep', '30'];
      s.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', STOP_THEN_KILL_EXECUTOR] }] };
    });
    bundles.push(b);
    const started = Date.now();
    const r = hakoDetached(['--root', root, 'create', '-b', b.dir, id], b.dir); // spawnSync: 30 s timeout
    expect(r.status, `create took ${Date.now() - started} ms: ${r.stderr}`).not.toBe(null);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/executor exited before the container was ready \(signal SIGKILL\)/);
    hako(['--root', root, 'delete', '--force', id]);
    expect(findLeaks({ root, ids: [id], dirs: [b.dir] })).toEqual([]);
  });
});
