// Reliability under faults and bad input (issue 8): a hostile --root, a runtime killed in the middle
// of create, cgroups shared with or nested in other containers. Each case leaves nothing behind,
// never prints a stack trace, and never touches what is not the container's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { hako } from '../helpers/hako.ts';
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
