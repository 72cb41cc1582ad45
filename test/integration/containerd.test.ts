// hako under a real containerd 1.6, as the binary of its runc shim (`ctr --runc-binary`): the
// shim's own argv (go-runc: `--root … --log … --log-format json create --bundle … --pid-file …`,
// `start`, `ps --format json`, `exec --process … --detach`, `pause`, `resume`, `kill`, `delete`),
// its subreaper wait for the reparented init, its console socket for -t. A private containerd (its
// own root, state and socket), an image built here, hako's state under its own --root and the
// containers' cgroups under /hako-test. Every test proves the runtime left nothing behind, and every
// test runs against runc too: what it expects is what containerd gets from the reference.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImageArchive, hasContainerd, startContainerd, type Containerd } from '../helpers/containerd.ts';
import { containerStates } from '../helpers/engines.ts';
import { HAKO } from '../helpers/hako.ts';
import { inTerminal, shellQuote } from '../helpers/terminal.ts';

const isRoot = process.getuid?.() === 0;
const IMAGE = 'docker.io/library/hako-test-busybox:latest';
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
const RUNTIMES: [name: string, binary: string][] = [['hako', HAKO], ...(RUNC ? [['runc', RUNC] as [string, string]] : [])];
let containerd: Containerd;
let imageDir: string;
let n = 0;

const newId = () => `ctr-${process.pid}-${n++}`;

function taskStatus(id: string): string | undefined {
  const r = containerd.ctr(['task', 'ls']);
  const line = r.stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
  return line?.trim().split(/\s+/)[2];
}

async function waitForStatus(id: string, status: string): Promise<void> {
  for (let i = 0; i < 100 && taskStatus(id) !== status; i++) await new Promise((r) => setTimeout(r, 50));
  expect(taskStatus(id)).toBe(status);
}

/** What the runtime and the container could leave: a state folder in its root (containerd's namespace is `default`), a cgroup. */
function expectNothingLeft(runtimeRoot: string, id: string): void {
  expect(containerStates(join(runtimeRoot, 'default'))).toEqual([]);
  const cgroups = readdirSync('/sys/fs/cgroup')
    .map((h) => join('/sys/fs/cgroup', h, 'hako-test', id))
    .filter((d) => existsSync(d));
  expect(cgroups).toEqual([]);
  expect(containerd.ctr(['container', 'ls', '-q']).stdout.split('\n')).not.toContain(id);
}

describe.skipIf(!isRoot || !hasContainerd)('under containerd (ctr, runc shim)', () => {
  beforeAll(async () => {
    imageDir = mkdtempSync(join(tmpdir(), 'hako-test-image-'));
    const archive = busyboxImageArchive(imageDir, IMAGE);
    containerd = await startContainerd();
    const r = containerd.ctr(['image', 'import', archive]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await containerd?.stop();
    rmSync(imageDir, { recursive: true, force: true });
  }, 30_000);

  describe.each(RUNTIMES)('%s', (name, binary) => {
    const runtimeRoot = `/run/hako-test-containerd-${name}-${process.pid}`;
    afterAll(() => rmSync(runtimeRoot, { recursive: true, force: true }));

    /** ctr's flags that make the runc shim call this runtime, with its state in our root and the cgroup under /hako-test. */
    const runtimeFlags = (id: string) => ['--runc-binary', binary, '--runc-root', runtimeRoot, '--cgroup', `/hako-test/${id}`];

    it('ctr run --rm: the output reaches ctr and the exit status is the container\'s', () => {
      const id = newId();
      const r = containerd.ctr(['run', '--rm', ...runtimeFlags(id), IMAGE, id, 'sh', '-c', 'echo hello from pid $$; exit 3']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hello from pid 1\n');
      expect(r.status).toBe(3);
      expectNothingLeft(runtimeRoot, id);
    });

    it('a detached task: ps, exec, pause/resume, kill, delete', async () => {
      const id = newId();
      const started = containerd.ctr(['run', '-d', ...runtimeFlags(id), IMAGE, id, 'sleep', '300']);
      expect(started.stderr).toBe('');
      expect(started.status).toBe(0);
      try {
        await waitForStatus(id, 'RUNNING');
        const pid = Number(containerd.ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(`${id} `))?.trim().split(/\s+/)[1]);
        expect(pid).toBeGreaterThan(0);
        // `task ps` is the shim's `ps --format json`: host pids of the container's cgroup
        expect(containerd.ctr(['task', 'ps', id]).stdout).toMatch(new RegExp(`^${pid}\\s`, 'm'));

        const exec = containerd.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; exit 5']);
        expect(exec.stderr).toBe('');
        expect(exec.stdout).toBe('sleep 300 '); // the container's pid namespace
        expect(exec.status).toBe(5);

        expect(containerd.ctr(['task', 'pause', id]).status).toBe(0);
        await waitForStatus(id, 'PAUSED');
        expect(containerd.ctr(['task', 'resume', id]).status).toBe(0);
        await waitForStatus(id, 'RUNNING');

        expect(containerd.ctr(['task', 'kill', '-s', 'SIGKILL', id]).status).toBe(0);
        await waitForStatus(id, 'STOPPED');
        expect(existsSync(`/proc/${pid}`)).toBe(false);
      } finally {
        containerd.ctr(['task', 'delete', '--force', id]);
        containerd.ctr(['container', 'delete', id]);
      }
      expectNothingLeft(runtimeRoot, id);
    }, 60_000);

    it('ctr run -t: the shim\'s console socket gives the container a terminal', async () => {
      const id = newId();
      const cmd = `${containerd.ctrCommand} run --rm -t ${runtimeFlags(id).map(shellQuote).join(' ')} ${IMAGE} ${id} sh -c 'tty; exit 2'`;
      const r = await inTerminal(cmd).done;
      // ctr leaves its own terminal cooked: \r\n from the container's pty becomes \r\r\n (runc too)
      expect(r.output).toMatch(/^\/dev\/pts\/\d+\r+\n$/);
      expect(r.status).toBe(2);
      expectNothingLeft(runtimeRoot, id);
    }, 30_000);

    it('a failing create: ctr shows hako\'s error and nothing is left', () => {
      const id = newId();
      const r = containerd.ctr(['run', '--rm', ...runtimeFlags(id), IMAGE, id, '/no/such/binary']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('/no/such/binary');
      containerd.ctr(['container', 'delete', id]);
      expectNothingLeft(runtimeRoot, id);
    }, 30_000);
  });
});
