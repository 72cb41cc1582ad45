// The container lifecycle for real: root, namespaces, cgroups, a busybox rootfs, the real
// bin/hako. Every test proves it left nothing behind.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { hako, hakoDetached } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

const root = `/run/hako-test-lifecycle-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const ids: string[] = [];
const bundles: TestBundle[] = [];
let n = 0;

function newContainer(edit?: Parameters<typeof makeBundle>[1]): { id: string; bundle: TestBundle } {
  const id = `lc-${process.pid}-${n++}`;
  const bundle = makeBundle(id, edit);
  ids.push(id);
  bundles.push(bundle);
  return { id, bundle };
}

const rt = (...args: string[]) => hako(['--root', root, ...args]);

function expectNoLeaks(): void {
  expect(findLeaks({ root, ids, dirs: bundles.map((b) => b.dir) })).toEqual([]);
}

/** `create` with the container's stdio in files (see hakoDetached). */
function createWithOutput(id: string, bundle: TestBundle, extra: string[] = []) {
  return hakoDetached(['--root', root, 'create', '--bundle', bundle.dir, ...extra, id], bundle.dir);
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(() => mkdirSync(root, { recursive: true }));
afterEach(() => {
  for (const id of ids) if (existsSync(join(root, id))) rt('delete', '--force', id);
});
afterAll(() => {
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('lifecycle (root)', () => {
  it('runs a container in the foreground: stdout, exit status, then deletes it', () => {
    const { id, bundle } = newContainer((s) => {
      s.process!.args = ['sh', '-c', 'echo hello; echo oops >&2; exit 3'];
    });
    const r = rt('run', '--bundle', bundle.dir, id);
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe('oops\n');
    expect(r.status).toBe(3);
    expectNoLeaks();
  });

  it('returns 128+signal for a container killed by a signal', () => {
    // Without a pid namespace: the kernel protects the init of a pid namespace from its own signals.
    const { id, bundle } = newContainer((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
      s.process!.args = ['sh', '-c', 'kill -9 $$'];
    });
    expect(rt('run', '-b', bundle.dir, id).status).toBe(137);
    expectNoLeaks();
  });

  it('goes created → running → stopped, with runc\'s state JSON and pid file', async () => {
    const { id, bundle } = newContainer((s) => {
      s.process!.args = ['sh', '-c', 'read x < /dev/null; echo started; sleep 30'];
    });
    const pidFile = join(bundle.dir, 'init.pid');
    const created = createWithOutput(id, bundle, ['--pid-file', pidFile]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const pidText = readFileSync(pidFile, 'utf8');
    expect(pidText).toMatch(/^\d+$/); // digits only, no newline

    let state = JSON.parse(rt('state', id).stdout);
    expect(state).toEqual({
      ociVersion: '1.3.0',
      id,
      pid: Number(pidText),
      status: 'created',
      bundle: bundle.dir,
      rootfs: join(bundle.dir, 'rootfs'),
      created: expect.any(String),
      owner: '',
    });
    expect(created.output()).toBe(''); // nothing ran yet

    expect(rt('start', id).status).toBe(0);
    expect(JSON.parse(rt('state', id).stdout).status).toBe('running');
    await waitFor(() => created.output() === 'started\n');
    expect(rt('start', id).stderr).toBe('cannot start an already running container\n');

    expect(rt('delete', id).stderr).toMatch(/^cannot delete container .* that is not stopped: running\n$/);
    expect(rt('kill', id, 'KILL').status).toBe(0);
    await waitFor(() => JSON.parse(rt('state', id).stdout).status === 'stopped');
    state = JSON.parse(rt('state', id).stdout);
    expect(state.pid).toBe(0);
    expect(rt('kill', id, '9').stderr).toBe('container not running\n');
    expect(rt('delete', id).status).toBe(0);
    expect(rt('state', id).stderr).toBe(`container "${id}" does not exist\n`);
    expectNoLeaks();
  });

  it('deletes a created container without --force (kills its init), as containerd expects', () => {
    const { id, bundle } = newContainer();
    expect(createWithOutput(id, bundle).status).toBe(0);
    expect(rt('delete', id).status).toBe(0);
    expectNoLeaks();
  });

  it('refuses a duplicate id and leaves the first container alone', () => {
    const { id, bundle } = newContainer();
    expect(createWithOutput(id, bundle).status).toBe(0);
    const again = createWithOutput(id, bundle);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(`container with id exists: ${id}\n`);
    expect(JSON.parse(rt('state', id).stdout).status).toBe('created');
  });

  it('isolates: its own hostname, pid 1, mount table and devices', () => {
    const { id, bundle } = newContainer((s) => {
      s.hostname = 'boxed';
      s.process!.args = ['sh', '-c', 'hostname; echo $$; awk \'$5 == "/"\' /proc/self/mountinfo | wc -l; ls -ln /dev/null | tr -s " " | cut -d" " -f5,6; readlink /dev/fd'];
    });
    const r = rt('run', '-b', bundle.dir, id);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['boxed', '1', '1', '1, 3', '/proc/self/fd', '']);
    expectNoLeaks();
  });

  it('masks and write-protects paths', () => {
    const { id, bundle } = newContainer((s) => {
      // a masked file reads empty, a masked folder is an empty read-only tmpfs, /proc/sys is read-only
      s.process!.args = ['sh', '-c', 'wc -c < /proc/keys; ls -A /sys/firmware | wc -l; touch /sys/firmware/x || echo no-write; echo 1 > /proc/sys/kernel/ns_last_pid && echo writable || echo readonly'];
    });
    expect(existsSync('/proc/keys') && existsSync('/sys/firmware')).toBe(true);
    const r = rt('run', '-b', bundle.dir, id);
    expect(r.stdout).toBe('0\n0\nno-write\nreadonly\n');
    expectNoLeaks();
  });

  it('mounts a bind volume read-write and read-only', () => {
    const { id, bundle } = newContainer();
    const vol = join(bundle.dir, 'vol');
    mkdirSync(vol);
    writeFileSync(join(vol, 'in.txt'), 'from host\n');
    bundle.spec.mounts!.push(
      { destination: '/data', type: 'bind', source: vol, options: ['rbind', 'rw'] },
      { destination: '/ro', type: 'bind', source: vol, options: ['rbind', 'ro'] },
    );
    bundle.spec.process!.args = ['sh', '-c', 'cat /data/in.txt; echo x > /data/out.txt; echo y > /ro/no.txt || echo denied'];
    bundle.save();
    const r = rt('run', '-b', bundle.dir, id);
    expect(r.stdout).toBe('from host\ndenied\n');
    expect(readFileSync(join(vol, 'out.txt'), 'utf8')).toBe('x\n');
    expectNoLeaks();
  });

  it('creates missing mount points and the cwd 0755 whatever umask its caller has; the process gets its own umask', () => {
    const { id, bundle } = newContainer((s) => {
      s.mounts!.push({ destination: '/new/deep/mnt', type: 'tmpfs', source: 'tmpfs' });
      s.process!.cwd = '/work/here';
      s.process!.args = ['sh', '-c', 'stat -c "%a %n" /new /new/deep /work /work/here; umask'];
    });
    const callerUmask = process.umask(0o077); // spawnSync's child inherits it
    let r;
    try {
      r = rt('run', '-b', bundle.dir, id);
    } finally {
      process.umask(callerUmask);
    }
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('755 /new\n755 /new/deep\n755 /work\n755 /work/here\n0022\n');
    expectNoLeaks();
  });

  it('fails a bad mount naming the field, and leaves nothing', () => {
    const { id, bundle } = newContainer((s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/hako-test', options: ['rbind'] });
    });
    const index = bundle.spec.mounts!.length - 1;
    const log = join(bundle.dir, 'log.json');
    const r = hako(['--root', root, '--log', log, '--log-format', 'json', 'create', '-b', bundle.dir, id]);
    expect(r.status).not.toBe(0);
    // the field, the call that failed (binds are made with open_tree + move_mount), the errno's words
    const message = `mounts[${index}] /data: open_tree: no such file or directory`;
    expect(r.stderr).toBe(`${message}\n`);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    expect(last).toMatchObject({ level: 'error', msg: message });
    expectNoLeaks();
  });

  it('fails an unwritable --pid-file naming the flag, after undoing the container', () => {
    const { id, bundle } = newContainer();
    const r = createWithOutput(id, bundle, ['--pid-file', '/nonexistent/hako-test/init.pid']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('--pid-file /nonexistent/hako-test/init.pid: no such file or directory\n');
    expectNoLeaks();
  });

  it('fails an invalid config before touching anything', () => {
    const { id, bundle } = newContainer();
    (bundle.spec.process as unknown as Record<string, unknown>).cwd = 42;
    bundle.save();
    const r = rt('create', '-b', bundle.dir, id);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('config.json: process.cwd: must be a string\n');
    expectNoLeaks();
  });

  it('fails a missing executable naming it, and leaves nothing', () => {
    const { id, bundle } = newContainer((s) => {
      s.process!.args = ['/no/such/binary'];
    });
    const r = rt('run', '-b', bundle.dir, id);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\/no\/such\/binary.*no such file or directory/);
    expectNoLeaks();
  });

  it('prints the plan with --dry-run and creates nothing', () => {
    const { id, bundle } = newContainer();
    const r = rt('create', '--dry-run', '-b', bundle.dir, id);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/pivot_root/);
    expect(r.stdout).toMatch(/mounts\[0\] \/proc/);
    expect(existsSync(join(root, id))).toBe(false);
    expectNoLeaks();
  });
});
