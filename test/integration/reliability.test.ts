// Reliability under faults and bad input (issue 8): a hostile --root, a runtime killed in the middle
// of create, cgroups shared with or nested in other containers. Each case leaves nothing behind,
// never prints a stack trace, and never touches what is not the container's.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { HAKO, hako, plainEnv } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

const root = `/run/hako-test-reliability-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const ids: string[] = [];
const bundles: TestBundle[] = [];
const mounts: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'hako-test-reliability-'));
let n = 0;

function newContainer(edit?: Parameters<typeof makeBundle>[1]): { id: string; bundle: TestBundle } {
  const id = `rel-${process.pid}-${n++}`;
  const bundle = makeBundle(id, edit);
  ids.push(id);
  bundles.push(bundle);
  return { id, bundle };
}

const rt = (...args: string[]) => hako(['--root', root, ...args]);

function expectNoLeaks(stateRoot = root): void {
  expect(findLeaks({ root: stateRoot, ids, dirs: bundles.map((b) => b.dir) })).toEqual([]);
}

/** A tmpfs of its own at a new folder under the scratch folder (unmounted in afterAll). */
function tmpfs(options: string): string {
  const dir = mkdtempSync(join(scratch, 'fs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** One clear line on stderr, exit 1, no stack trace. */
function expectOneLine(r: { status: number | null; stderr: string }, text: string): void {
  expect(r.stderr).toBe(`${text}\n`);
  expect(r.status).toBe(1);
}

beforeAll(() => mkdirSync(root, { recursive: true }));
afterEach(() => {
  for (const id of ids) if (existsSync(join(root, id))) rt('delete', '--force', id);
});
afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // already gone
    }
  }
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('a hostile --root (root)', () => {
  it('on a read-only filesystem: says EROFS (node said ENOENT), exit 1, nothing left', () => {
    const { id, bundle } = newContainer();
    const ro = tmpfs('ro,size=64k');
    const stateRoot = join(ro, 'state');
    expectOneLine(hako(['--root', stateRoot, 'create', '--bundle', bundle.dir, id]), `--root ${stateRoot}: mkdir ${stateRoot}: read-only file system`);
    expectNoLeaks(stateRoot);
  });

  it('that is a regular file, or under one: says not a directory', () => {
    const { id, bundle } = newContainer();
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    expectOneLine(hako(['--root', file, 'create', '--bundle', bundle.dir, id]), `--root ${file}: ${file} is not a directory`);
    expectOneLine(hako(['--root', join(file, 'sub'), 'create', '--bundle', bundle.dir, id]), `--root ${file}/sub: mkdir ${file}/sub: not a directory`);
    expectOneLine(hako(['--root', file, 'list']), `--root: cannot list ${file}: not a directory`);
    expectNoLeaks(file);
  });

  it('on a full filesystem: says ENOSPC naming the file, removes the half-made container', () => {
    const { id, bundle } = newContainer();
    const full = tmpfs('size=64k');
    const stateRoot = join(full, 'state');
    mkdirSync(stateRoot);
    // Fill every block: the state folder can still be made (an inode), its state.json cannot.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(full, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd stops with ENOSPC: that is the point
    }
    const r = hako(['--root', stateRoot, 'create', '--bundle', bundle.dir, id]);
    expectOneLine(r, `container ${id}: cannot write ${join(stateRoot, id, 'state.json')}: no space left on device`);
    expectNoLeaks(stateRoot);
  });
});

describe.skipIf(!isRoot)('signals while hako loads (root)', () => {
  const env = { ...plainEnv, NODE_OPTIONS: `--require ${join(import.meta.dirname, '../fixtures/sigterm-while-loading.cjs')}` };
  /** hako with the preload; the result keeps the signal that ended it, if one did. */
  const signalled = (args: string[]) => spawnSync(HAKO, ['--root', root, ...args], { env, encoding: 'utf8', timeout: 30_000 });

  it('run: a SIGTERM that arrives before the container exists reaches the container once it runs', () => {
    // Without a pid namespace, so that sh gets the signal whether or not its trap is set yet.
    const { id, bundle } = newContainer((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
      s.process!.args = ['sh', '-c', 'trap "exit 42" TERM; sleep 10 & wait; exit 7'];
    });
    const r = signalled(['run', '--bundle', bundle.dir, id]);
    // hako itself was not killed (before: signal SIGTERM, status null, the container never made)
    expect(r.signal).toBeNull();
    // the container got it: 42 if sh had set its trap, 143 if not; 7 would mean it never came
    expect([42, 143]).toContain(r.status);
    expectNoLeaks();
  });

  it('any other command: the signal acts as it would have (state is ended by it)', () => {
    const r = signalled(['state', 'no-such-container']);
    expect(r.signal).toBe('SIGTERM');
  });
});
