// Reliability under faults and bad input (issue 8): a hostile --root, a runtime killed in the middle
// of create, cgroups shared with or nested in other containers. Each case leaves nothing behind,
// never prints a stack trace, and never touches what is not the container's.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { HAKO, hako, hakoDetached, plainEnv } from '../helpers/hako.ts';
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

  it('on a full filesystem: says ENOSPC naming the file (the lock, the first file written), removes the half-made container', () => {
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
    expectOneLine(r, `container ${id}: cannot lock ${join(stateRoot, id, 'lock')}: no space left on device`);
    expectNoLeaks(stateRoot);
  });
});

describe.skipIf(!isRoot)('a --log that cannot be written (root)', () => {
  it('says so in one line, no stack trace, for the text and the JSON format', () => {
    for (const format of ['text', 'json']) {
      const r = hako(['--log', '/proc/no-such-dir/log', '--log-format', format, '--root', root, 'state', `rel-none-${process.pid}`]);
      expect(r.stderr).toBe(`container "rel-none-${process.pid}" does not exist\n--log /proc/no-such-dir/log: cannot write: no such file or directory\n`);
      expect(r.status).toBe(1);
    }
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

/** Mount points of every cgroup hierarchy of this host (v1 controllers, named ones, cgroup2). */
function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4]!);
}

/** The cgroup directory of `path` (a cgroupsPath) in every hierarchy that has it. */
function cgroupDirs(path: string): string[] {
  return cgroupMounts()
    .map((m) => join(m, path))
    .filter((d) => existsSync(d));
}

const status = (id: string): string | undefined => {
  const r = rt('state', id);
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string }).status : undefined;
};

describe.skipIf(!isRoot)('cleanup touches only what is the container\'s (root)', () => {
  function sleeper(cgroupsPath: string): { id: string; bundle: TestBundle } {
    const c = newContainer((s) => {
      s.process!.args = ['sleep', '60'];
      s.linux!.cgroupsPath = cgroupsPath;
    });
    const r = hakoDetached(['--root', root, 'run', '-d', '--bundle', c.bundle.dir, c.id], c.bundle.dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return c;
  }

  it('a second container in an existing, busy cgroup: a warning, as runc; its failure and its delete leave the first alone', () => {
    const x = sleeper(`/hako-test/rel-shared-${process.pid}`);
    ids.push(`rel-shared-${process.pid}`); // its cgroup, for the leak check
    const path = `/hako-test/rel-shared-${process.pid}`;

    // A failing create in that cgroup (before: refused, then its cleanup SIGKILLed x and removed the cgroup)
    const bad = newContainer((s) => {
      s.process!.args = ['/no/such/binary'];
      s.linux!.cgroupsPath = path;
    });
    const failed = hakoDetached(['--root', root, 'create', '--bundle', bad.bundle.dir, bad.id], bad.bundle.dir);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("container's cgroup is not empty: 1 process(es) found");
    expect(status(x.id)).toBe('running');
    expect(cgroupDirs(path).length).toBeGreaterThan(0);

    // A container that shares the cgroup: created with runc's warning; its delete --force kills only its own
    const y = newContainer((s) => {
      s.process!.args = ['sleep', '60'];
      s.linux!.cgroupsPath = path;
    });
    const created = hakoDetached(['--root', root, 'run', '-d', '--bundle', y.bundle.dir, y.id], y.bundle.dir);
    expect(created.stderr).toBe("warn: container's cgroup is not empty: 1 process(es) found\n");
    expect(created.status).toBe(0);
    expect(status(y.id)).toBe('running');
    expect(rt('delete', '--force', y.id).status).toBe(0);
    expect(status(y.id)).toBeUndefined();
    expect(status(x.id)).toBe('running');
    const dirs = cgroupDirs(path);
    expect(dirs.length).toBe(cgroupMounts().length);

    // x made the cgroup: its delete removes it
    expect(rt('delete', '--force', x.id).status).toBe(0);
    expect(cgroupDirs(path)).toEqual([]);
    expectNoLeaks();
  });

  it('a shared cgroup, its maker deleted first: the other container keeps running, the last one out removes the cgroup', () => {
    const path = `/hako-test/rel-shared2-${process.pid}`;
    ids.push(`rel-shared2-${process.pid}`);
    const x = sleeper(path);
    const y = newContainer((s) => {
      s.process!.args = ['sleep', '60'];
      s.linux!.cgroupsPath = path;
    });
    expect(hakoDetached(['--root', root, 'run', '-d', '--bundle', y.bundle.dir, y.id], y.bundle.dir).status).toBe(0);
    // x made the cgroup, but y's processes are in it: x's delete kills x only (runc does the same) and leaves the cgroup
    const del = rt('delete', '--force', x.id);
    expect(del.status).toBe(0);
    expect(del.stderr).toContain("left in place: it holds processes that are not this container's");
    expect(status(x.id)).toBeUndefined();
    expect(status(y.id)).toBe('running');
    expect(cgroupDirs(path).length).toBe(cgroupMounts().length);
    // y did not make it, but shared it: once y is gone it is empty, and y removes it
    expect(rt('delete', '--force', y.id).status).toBe(0);
    expect(cgroupDirs(path)).toEqual([]);
    expectNoLeaks();
  });

  it('nested cgroups: delete --force of the outer container leaves the inner one running, and its cgroup', () => {
    const outerPath = `/hako-test/rel-outer-${process.pid}`;
    const innerPath = `${outerPath}/inner`;
    const b = sleeper(outerPath);
    const a = sleeper(innerPath);
    try {
      // a failed create at the outer path (before: its cleanup killed both and removed A's cgroup)
      const bad = newContainer((s) => {
        s.process!.args = ['/no/such/binary'];
        s.linux!.cgroupsPath = outerPath;
      });
      expect(hakoDetached(['--root', root, 'create', '--bundle', bad.bundle.dir, bad.id], bad.bundle.dir).status).toBe(1);
      expect(status(b.id)).toBe('running');
      expect(status(a.id)).toBe('running');

      const del = rt('delete', '--force', b.id);
      expect(del.status).toBe(0);
      expect(status(b.id)).toBeUndefined();
      expect(status(a.id)).toBe('running');
      expect(cgroupDirs(innerPath).length).toBe(cgroupMounts().length);
      // B's cgroup stays, since A's is inside it: said once per hierarchy
      expect(del.stderr).toContain(`left in place:`);
      expect(del.stderr).toContain(`inner below it holds processes that are not this container's`);

      expect(rt('delete', '--force', a.id).status).toBe(0);
      expect(cgroupDirs(innerPath)).toEqual([]);
    } finally {
      rt('delete', '--force', a.id);
      // B could not remove its cgroup while A's was inside: now it is empty
      for (const d of cgroupDirs(outerPath)) rmdirSync(d);
    }
    expectNoLeaks();
  });
});

describe.skipIf(!isRoot)('hako killed in the middle of create (root)', () => {
  const killAt = (fn: string, at: string) => ({
    ...plainEnv,
    NODE_OPTIONS: `--require ${join(import.meta.dirname, '../fixtures/sigkill-at.cjs')}`,
    HAKO_TEST_KILL_FN: fn,
    HAKO_TEST_KILL_AT: at,
  });
  const killedCreate = (id: string, bundle: TestBundle, env: NodeJS.ProcessEnv) =>
    spawnSync(HAKO, ['--root', root, 'create', '--bundle', bundle.dir, id], { env, stdio: 'ignore', timeout: 30_000 });

  it('delete --force of an id that does not exist: exit 0, silently, as runc (an invalid id is still an error)', () => {
    const r = rt('delete', '--force', `rel-none-${process.pid}`);
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(rt('delete', `rel-none-${process.pid}`).stderr).toBe(`container "rel-none-${process.pid}" does not exist\n`);
    expect(rt('delete', '--force', '../x')).toEqual({ status: 1, stdout: '', stderr: 'invalid id format: ../x\n' });
  });

  it('right after the first temp state file: delete --force removes the folder, and the id can be used again', () => {
    const { id, bundle } = newContainer();
    const r = killedCreate(id, bundle, killAt('openSync', '/\\.state\\.json\\.\\d+$'));
    expect(r.signal).toBe('SIGKILL');
    // what the kill left: a folder with no record (before: `delete --force` said it does not exist, `create` that it does)
    expect(readdirSync(join(root, id)).some((f) => f.startsWith('.state.json.'))).toBe(true);
    expect(rt('state', id).status).toBe(1);
    expect(rt('delete', '--force', id)).toEqual({ status: 0, stdout: '', stderr: '' });
    expectNoLeaks();
    expect(rt('run', '--bundle', bundle.dir, id).status).toBe(0);
    expectNoLeaks();
  });

  it('right after its first cgroup directory: delete --force removes every cgroup directory create made', () => {
    const { id, bundle } = newContainer((s) => {
      s.linux!.cgroupsPath = `/hako-test/${`rel-k-${process.pid}`}/deeper`;
    });
    ids.push(`rel-k-${process.pid}`);
    const r = killedCreate(id, bundle, killAt('mkdirSync', `^/sys/fs/cgroup/.*/hako-test/rel-k-${process.pid}$`));
    expect(r.signal).toBe('SIGKILL');
    expect(cgroupDirs(`/hako-test/rel-k-${process.pid}`).length).toBe(1);
    // before: the record did not name the cgroups yet, and delete --force left them
    expect(rt('delete', '--force', id)).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(cgroupDirs(`/hako-test/rel-k-${process.pid}`)).toEqual([]);
    expectNoLeaks();
  });
});
