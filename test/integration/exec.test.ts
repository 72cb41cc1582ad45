// `hako exec` for real (root): a new process in a running container's namespaces and cgroups,
// with the real bin/hako, a busybox rootfs and the conformance probe as console-socket receiver.
// Every test proves it left nothing behind (no process, cgroup, state folder, console folder).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { HAKO, hako, hakoDetached, plainEnv } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';
import { hasScript, inTerminal, shellQuote } from '../helpers/terminal.ts';
import type { Spec } from '../../src/spec/types.ts';

const root = `/run/hako-test-exec-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const PROBE = join(import.meta.dirname, '../../conformance/build/probe');
const ids: string[] = [];
const bundles: TestBundle[] = [];
const pids: number[] = [];
let n = 0;

const rt = (...args: string[]) => hako(['--root', root, ...args]);

function consoleFolders(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('hako-console-'));
}
let foldersBefore: string[] = [];

/** A container started with `run -d` (its init sleeps unless `edit` says otherwise). */
function started(edit: (s: Spec) => void = () => {}): { id: string; bundle: TestBundle } {
  const id = `ex-${process.pid}-${n++}`;
  const bundle = makeBundle(id, (s) => {
    s.process!.args = ['sleep', '300'];
    edit(s);
  });
  ids.push(id);
  bundles.push(bundle);
  const r = hakoDetached(['--root', root, 'run', '--detach', '--bundle', bundle.dir, id], bundle.dir);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { id, bundle };
}

/** A running container whose init sleeps. */
function running(edit: (s: Spec) => void = () => {}): { id: string; bundle: TestBundle; initPid: number } {
  const { id, bundle } = started(edit);
  const state = JSON.parse(rt('state', id).stdout) as { pid: number; status: string };
  expect(state.status).toBe('running');
  return { id, bundle, initPid: state.pid };
}

function containerPids(id: string): number[] {
  return (JSON.parse(rt('ps', '--format', 'json', id).stdout) as number[]).sort((a, b) => a - b);
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs hako asynchronously (stdout/stderr piped): for the calls that wait while the test acts. */
function hakoAsync(args: string[]) {
  const child = spawn(HAKO, ['--root', root, ...args], { env: plainEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
  return { child, output: () => stdout, done };
}

function expectNoLeaks(): void {
  for (const id of ids) if (existsSync(join(root, id))) expect(rt('delete', '--force', id).status).toBe(0);
  expect(findLeaks({ root, ids, dirs: bundles.map((b) => b.dir) })).toEqual([]);
  for (const pid of pids) expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
  expect(consoleFolders().filter((f) => !foldersBefore.includes(f))).toEqual([]);
}

beforeAll(() => mkdirSync(root, { recursive: true }));
beforeEach(() => {
  foldersBefore = consoleFolders();
});
afterEach(() => {
  for (const id of ids) if (existsSync(join(root, id))) rt('delete', '--force', id);
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
afterAll(() => {
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('hako exec (root)', () => {
  it('runs in the foreground: the process\'s stdout, stderr and exit status; 128+signal when killed', () => {
    const { id } = running();
    const r = rt('exec', id, 'sh', '-c', 'echo out; echo err >&2; exit 3');
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.status).toBe(3);
    expect(rt('exec', id, 'sh', '-c', 'kill -9 $$').status).toBe(137);
    // the container is untouched, and the exec'd processes are gone
    expect(JSON.parse(rt('state', id).stdout).status).toBe('running');
    expect(containerPids(id)).toHaveLength(1);
    expectNoLeaks();
  });

  it('--detach --pid-file: the process\'s host pid, in the init\'s namespaces and cgroups, still running after hako exits', () => {
    const { id, bundle, initPid } = running();
    const pidFile = join(bundle.dir, 'exec.pid');
    const r = hakoDetached(['--root', root, 'exec', '--detach', '--pid-file', pidFile, id, 'sh', '-c', 'echo started; exec sleep 300'], bundle.dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = readFileSync(pidFile, 'utf8');
    expect(text).toMatch(/^\d+$/);
    const pid = Number(text);
    pids.push(pid);
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8')).toBe('sleep\n');
    for (const ns of ['pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup']) {
      expect(readlinkSync(`/proc/${pid}/ns/${ns}`), ns).toBe(readlinkSync(`/proc/${initPid}/ns/${ns}`));
      expect(readlinkSync(`/proc/${pid}/ns/${ns}`), ns).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
    }
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(readFileSync(`/proc/${initPid}/cgroup`, 'utf8'));
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/hako-test/${id}\n`);
    // inside, it is a pid of the container's pid namespace: the init is 1
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.split(/\s+/);
    expect(nspid?.[0]).toBe(String(pid));
    expect(Number(nspid?.[1])).toBeGreaterThan(1);
    expect(r.output()).toBe('started\n');
    expect(containerPids(id)).toEqual([initPid, pid].sort((a, b) => a - b));
    expectNoLeaks();
  });

  it('--env, --cwd, --user UID:GID, --additional-gids, over the container\'s process (its env and umask kept)', () => {
    const { id } = running((s) => {
      s.process!.env!.push('FROM_CONFIG=yes');
      s.process!.user!.umask = 0o027;
    });
    const r = rt('exec', '--env', 'EXTRA=1', '--cwd', '/tmp', '--user', '1000:1000', '--additional-gids', '2000', id, 'sh', '-c', 'echo $EXTRA $FROM_CONFIG; pwd; id -u; id -g; id -G; umask');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1 yes\n/tmp\n1000\n1000\n1000 2000\n0027\n');
    expect(r.status).toBe(0);
    expectNoLeaks();
  });

  it.skipIf(!existsSync(PROBE))('--process JSON with a terminal: the pty master goes to --console-socket, the process has it as stdio', async () => {
    const { id, bundle } = running();
    const sock = join(bundle.dir, 'console.sock');
    const out = join(bundle.dir, 'recv.out');
    const receiver = spawn(PROBE, ['recv-fd', sock, 'console', 'timeout:15'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = '';
    receiver.stdout.on('data', (d: Buffer) => (lines += d.toString('utf8')));
    const exited = new Promise<void>((resolve) => receiver.once('close', () => resolve()));
    try {
      await waitFor(() => lines.includes('"listening"'));
      writeFileSync(
        join(bundle.dir, 'process.json'),
        JSON.stringify({
          terminal: true,
          consoleSize: { height: 20, width: 70 },
          user: { uid: 0, gid: 0 },
          args: ['sh', '-c', 'tty; stty size; echo $FROM_JSON'],
          env: ['PATH=/bin', 'FROM_JSON=yes'],
          cwd: '/',
        }),
      );
      const pidFile = join(bundle.dir, 'exec.pid');
      const r = hakoDetached(['--root', root, 'exec', '--process', join(bundle.dir, 'process.json'), '--console-socket', sock, '--detach', '--pid-file', pidFile, id], bundle.dir);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      pids.push(Number(readFileSync(pidFile, 'utf8')));
      await exited;
    } finally {
      receiver.kill('SIGKILL');
    }
    writeFileSync(out, lines);
    const parsed = lines.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.find((l) => 'received' in l)?.received).toMatchObject({ fds: 1, payload: '/dev/ptmx', isatty: true });
    const output = String(parsed.find((l) => 'output' in l)?.output ?? '');
    expect(output).toMatch(/^\/dev\/pts\/\d+\r\n20 70\r\nyes\r\n$/);
    expectNoLeaks();
  });

  it.skipIf(!hasScript)('-t in the foreground without --console-socket: hako proxies the terminal, as for run', async () => {
    const { id } = running();
    const cmd = `${shellQuote(HAKO)} --root ${shellQuote(root)} exec -t ${shellQuote(id)} sh -c 'tty; test -t 0 && echo stdin-is-a-tty; exit 4'`;
    const r = await inTerminal(cmd).done;
    expect(r.output).toMatch(/\/dev\/pts\/\d+\r\nstdin-is-a-tty\r\n/);
    expect(r.status).toBe(4);
    expectNoLeaks();
  });

  it('forwards the signals hako receives to the process in the foreground', async () => {
    const { id } = running();
    const call = hakoAsync(['exec', id, 'sh', '-c', 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.05; done']);
    await waitFor(() => call.output().includes('ready'));
    call.child.kill('SIGTERM');
    const r = await call.done;
    expect(r.stdout).toBe('ready\ngot-term\n');
    expect(r.status).toBe(9);
    expectNoLeaks();
  });

  it('runs in a created container too (runc does), before its init is started', () => {
    const id = `ex-${process.pid}-${n++}`;
    const bundle = makeBundle(id, (s) => (s.process!.args = ['sleep', '300']));
    ids.push(id);
    bundles.push(bundle);
    expect(hakoDetached(['--root', root, 'create', '--bundle', bundle.dir, id], bundle.dir).status).toBe(0);
    const r = rt('exec', id, 'cat', '/proc/1/cmdline');
    expect(r.stdout).toMatch(/^hako-executor|^\/.*hako-executor/); // the init has not exec'd yet
    expect(r.status).toBe(0);
    expect(JSON.parse(rt('state', id).stdout).status).toBe('created');
    expectNoLeaks();
  });

  it('refuses a paused container unless --ignore-paused (then waits for resume), a stopped one, a missing one, in runc\'s words', async () => {
    const { id } = running();
    expect(rt('pause', id).status).toBe(0);
    const paused = rt('exec', id, 'true');
    expect(paused.stderr).toBe('exec failed: cannot exec in a paused container (use --ignore-paused to override)\n');
    expect(paused.status).toBe(255);
    const call = hakoAsync(['exec', '--ignore-paused', id, 'echo', 'after-resume']);
    await new Promise((r) => setTimeout(r, 300));
    expect(call.output()).toBe(''); // frozen with the container
    expect(rt('resume', id).status).toBe(0);
    const r = await call.done;
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'after-resume\n', '']);

    const stopped = started((s) => (s.process!.args = ['true']));
    await waitFor(() => JSON.parse(rt('state', stopped.id).stdout).status === 'stopped');
    const s = rt('exec', stopped.id, 'true');
    expect(s.stderr).toBe('exec failed: cannot exec in a stopped container\n');
    expect(s.status).toBe(255);
    expect(rt('exec', 'ex-no-such-container', 'true').stderr).toBe('exec failed: container "ex-no-such-container" does not exist\n');
    expect(rt('exec', id).stderr).toBe('exec failed: process args cannot be empty\n');
    expectNoLeaks();
  });

  it('a missing binary or a failing execve is an error naming it; no pid file, nothing left in the container', () => {
    const { id, bundle, initPid } = running();
    const pidFile = join(bundle.dir, 'exec.pid');
    const missing = hakoDetached(['--root', root, 'exec', '--detach', '--pid-file', pidFile, id, '/no/such/binary'], bundle.dir);
    expect(missing.stderr).toBe('exec failed: process.args[0] "/no/such/binary": exec: no such file or directory\n');
    expect(missing.status).toBe(255);
    expect(rt('exec', id, 'no-such-command').stderr).toBe('exec failed: process.args[0] "no-such-command": exec: no such file or directory\n');
    // executable but not a program: found, then execve itself fails (ENOEXEC), after `ready`
    writeFileSync(join(bundle.dir, 'rootfs/bad'), 'not a program\n');
    chmodSync(join(bundle.dir, 'rootfs/bad'), 0o755);
    for (const detach of [['--detach', '--pid-file', pidFile], []]) {
      const bad = hakoDetached(['--root', root, 'exec', ...detach, id, '/bad'], bundle.dir);
      expect(bad.stderr).toContain('exec failed: process.args: execve: exec format error\n');
      expect(bad.status).toBe(255);
    }
    expect(existsSync(pidFile)).toBe(false);
    expect(containerPids(id)).toEqual([initPid]);
    expect(JSON.parse(rt('state', id).stdout).status).toBe('running');
    expectNoLeaks();
  });

  it('checks process.json and the console rules before starting anything', () => {
    const { id, bundle } = running();
    const p = join(bundle.dir, 'bad-process.json');
    writeFileSync(p, JSON.stringify({ args: ['true'], cwd: 'relative' }));
    const r = rt('exec', '--process', p, id);
    expect(r.stderr).toBe('exec failed: process.json: cwd: must be an absolute path\n');
    expect(r.status).toBe(255);
    expect(rt('exec', '--process', join(bundle.dir, 'none.json'), id).stderr).toMatch(/^exec failed: process\.json: cannot read .*none\.json: no such file or directory\n$/);
    expect(rt('exec', '--detach', '--tty', id, 'true').stderr).toBe('exec failed: cannot allocate tty if hako will detach without setting console socket\n');
    expect(rt('exec', '--console-socket', join(bundle.dir, 's.sock'), id, 'true').stderr).toBe('exec failed: cannot use console socket if hako will not detach or allocate tty\n');
    expectNoLeaks();
  });

  it('process.execCPUAffinity: the process runs on `final`, and on every CPU the cgroup allows when only `initial` is given', () => {
    const { id, bundle } = running();
    const allowed = (affinity: object) => {
      const p = join(bundle.dir, `affinity-${n++}.json`);
      writeFileSync(p, JSON.stringify({ args: ['sh', '-c', 'grep Cpus_allowed_list /proc/self/status'], cwd: '/', env: ['PATH=/bin'], execCPUAffinity: affinity }));
      const r = rt('exec', '--process', p, id);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim().split(/\s+/)[1];
    };
    expect(allowed({ initial: '0', final: '1' })).toBe('1');
    expect(allowed({ initial: '1' })).toBe('0-1');
    const bad = join(bundle.dir, 'affinity-bad.json');
    writeFileSync(bad, JSON.stringify({ args: ['true'], cwd: '/', execCPUAffinity: { initial: '9-3' } }));
    expect(rt('exec', '--process', bad, id).stderr).toMatch(/process\.execCPUAffinity\.initial: 9-3: the range ends before it starts/);
    expectNoLeaks();
  });
});
