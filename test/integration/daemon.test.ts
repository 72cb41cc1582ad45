// The warm path for real (issue 12): bin/hako's front forwarding to `hako daemon`, and every way
// the front must go cold instead. Which path a call took is read from the daemon's --verbose log.
// HAKO_TEST_DAEMON_KILLS sets how many creates the kill storm runs (30 here; the 500 by hand).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { HAKO, hako, hakoDetached, plainEnv, runtime } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

const isRoot = process.getuid?.() === 0;
const REPO = join(import.meta.dirname, '../..');
const root = `/run/hako-test-daemon-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'hako-test-daemon-'));
const logFile = join(work, 'daemon.log');
const KILLS = Number(process.env.HAKO_TEST_DAEMON_KILLS ?? 30);
const ids: string[] = [];
const bundles: TestBundle[] = [];
const extraRoots: string[] = [];
const daemons: TestDaemon[] = [];
let daemon: TestDaemon;
let n = 0;

const rt = (...args: string[]) => hako(['--root', root, ...args]);
const cold = (...args: string[]) => hako(['--root', root, ...args], { env: { ...plainEnv, HAKO_NO_DAEMON: '1' } });

function newContainer(edit?: Parameters<typeof makeBundle>[1]): { id: string; bundle: TestBundle } {
  const id = `dm-${process.pid}-${n++}`;
  const bundle = makeBundle(id, edit);
  ids.push(id);
  bundles.push(bundle);
  return { id, bundle };
}

/** The daemon's log lines for calls since `mark` (a length of the log). */
const linesSince = (d: TestDaemon, mark: number) => d.log().slice(mark).split('\n').filter(Boolean);

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function parentOf(pid: number): number {
  return Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

beforeAll(async () => {
  if (!isRoot) return;
  daemon = await startDaemon(root, logFile);
  daemons.push(daemon);
});

afterAll(async () => {
  for (const d of daemons) await d.stop({ kill: true });
  for (const r of [root, ...extraRoots]) {
    if (!existsSync(r)) continue;
    for (const e of readdirSync(r, { withFileTypes: true })) if (e.isDirectory()) cold('--root', r, 'delete', '--force', e.name);
    rmSync(r, { recursive: true, force: true });
  }
  for (const b of bundles) b.remove();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('hako daemon: the warm path', () => {
  it('listens on <root>/hako.sock, mode 0600, which list and the leak checks do not take for a container', () => {
    const st = statSync(join(root, 'hako.sock'));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(0);
    const mark = daemon.log().length;
    const r = rt('list', '-q');
    expect(r).toMatchObject({ status: 0, stdout: '' });
    expect(linesSince(daemon, mark)).toEqual([`hako daemon: served (exit 0): --root ${root} list -q`]);
  });

  it('serves create, state, start, ps, exec -d, pause, resume, list, update, kill and delete; the init is the caller\'s, not the daemon\'s', async () => {
    const { id, bundle } = newContainer((s) => (s.process!.args = ['sleep', '60']));
    const pidFile = join(bundle.dir, 'pid');
    const mark = daemon.log().length;
    const c = hakoDetached(['--root', root, 'create', '--bundle', bundle.dir, '--pid-file', pidFile, id], bundle.dir);
    expect(c).toMatchObject({ status: 0, stderr: '' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // the front forked the executor: the init was never the daemon's child
    expect(parentOf(pid)).not.toBe(daemon.pid);
    expect(JSON.parse(rt('state', id).stdout)).toMatchObject({ id, pid, status: 'created' });
    expect(rt('start', id).status).toBe(0);
    expect(JSON.parse(rt('ps', '--format', 'json', id).stdout)).toEqual([pid]);
    const e = hakoDetached(['--root', root, 'exec', '-d', '--pid-file', join(bundle.dir, 'exec.pid'), id, 'sleep', '60'], bundle.dir);
    expect(e).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(rt('ps', '--format', 'json', id).stdout)).toHaveLength(2);
    expect(rt('pause', id).status).toBe(0);
    expect(JSON.parse(rt('state', id).stdout).status).toBe('paused');
    expect(rt('resume', id).status).toBe(0);
    expect(rt('list', '-q').stdout).toBe(`${id}\n`);
    expect(rt('update', '--pids-limit', '50', id).status).toBe(0);
    expect(rt('kill', id, 'KILL').status).toBe(0);
    await waitFor(() => JSON.parse(rt('state', id).stdout).status === 'stopped');
    expect(rt('delete', id)).toMatchObject({ status: 0, stdout: '', stderr: '' });
    const lines = linesSince(daemon, mark);
    expect(lines.filter((l) => l.includes('cold'))).toEqual([]);
    expect(lines.length).toBeGreaterThanOrEqual(14);
    expect(findLeaks({ root, ids: [id], dirs: [bundle.dir] })).toEqual([]);
  });

  it('answers errors as the cold path does: same status and words, a bad config named by its field, nothing left', () => {
    const { id, bundle } = newContainer((s) => ((s.process as unknown as Record<string, unknown>).args = 'not-a-list'));
    const mark = daemon.log().length;
    const warm = rt('create', '--bundle', bundle.dir, id);
    expect(linesSince(daemon, mark)).toEqual([`hako daemon: served (exit ${warm.status}): --root ${root} create --bundle ${bundle.dir} ${id}`]);
    const coldR = cold('create', '--bundle', bundle.dir, id);
    expect(warm.status).not.toBe(0);
    expect(warm.stderr).toMatch(/process\.args/);
    expect({ status: warm.status, stdout: warm.stdout, stderr: warm.stderr }).toEqual({ status: coldR.status, stdout: coldR.stdout, stderr: coldR.stderr });
    for (const args of [['state', 'nope'], ['delete', 'nope'], ['kill', 'nope'], ['start', 'nope'], ['bogus'], ['state']]) {
      const w = rt(...args);
      const c = cold(...args);
      expect({ args, status: w.status, stdout: w.stdout, stderr: w.stderr }).toEqual({ args, status: c.status, stdout: c.stdout, stderr: c.stderr });
    }
    expect(findLeaks({ root, ids: [id], dirs: [bundle.dir] })).toEqual([]);
  });

  it('goes cold for a caller in another mount namespace and with HAKO_NO_DAEMON', () => {
    const mark = daemon.log().length;
    const r = spawnSync('unshare', ['-m', HAKO, '--root', root, 'list', '-q'], { encoding: 'utf8', env: plainEnv });
    expect(r.status).toBe(0);
    expect(linesSince(daemon, mark)).toEqual([`hako daemon: cold (other namespaces or root): --root ${root} list -q`]);
    const before = daemon.log().length;
    expect(cold('list', '-q').status).toBe(0);
    expect(daemon.log().length).toBe(before);
  });

  it('serves run in the foreground: the container\'s stdin and exit status, and the signals bin/hako receives reach it', async () => {
    const script = 'read x; echo "got $x"; trap "echo term; exit 7" TERM; echo ready; sleep 30 & wait';
    const { id, bundle } = newContainer((s) => (s.process!.args = ['sh', '-c', script]));
    const mark = daemon.log().length;
    const child = spawn(HAKO, ['--root', root, 'run', '--bundle', bundle.dir, id], { env: plainEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stdin.end('hello\n');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(() => output.includes('ready'), 10_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(7);
    expect(output).toBe('got hello\nready\nterm\n');
    expect(linesSince(daemon, mark)).toEqual([`hako daemon: served (exit 7): --root ${root} run --bundle ${bundle.dir} ${id}`]);
    expect(findLeaks({ root, ids: [id], dirs: [bundle.dir] })).toEqual([]);
  });

  it('a caller of another uid cannot reach the socket and runs cold', () => {
    const mark = daemon.log().length;
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', HAKO, '--root', root, 'state', 'x'], { encoding: 'utf8', env: plainEnv });
    // cold and unprivileged: node runs (the bundle is world-readable) and fails on its own
    expect(r.status).not.toBe(0);
    expect(r.stderr).not.toMatch(/daemon/);
    expect(linesSince(daemon, mark)).toEqual([]);
  });

  it('never uses a daemon of another build: the front of this build goes cold', async () => {
    // a copy of hako whose build id differs (as an older install's would)
    const copy = join(work, 'other-build');
    for (const sub of ['bin', 'dist', 'native/build']) cpSync(join(REPO, sub), join(copy, sub), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
    writeFileSync(join(copy, 'dist/build-id'), 'an-older-build\n');
    const otherRoot = `/run/hako-test-daemon-other-${process.pid}`;
    extraRoots.push(otherRoot);
    const other = await startDaemon(otherRoot, join(work, 'other.log'), join(copy, 'bin/hako'));
    daemons.push(other);
    const r = hako(['--root', otherRoot, 'list', '-q']);
    expect(r).toMatchObject({ status: 0, stdout: '' });
    expect(linesSince(other, 0).filter((l) => !l.includes('serving'))).toEqual([`hako daemon: cold (another build): --root ${otherRoot} list -q`]);
    await other.stop();
  });

  it('two daemons racing for one root: one serves, the other exits saying so; SIGTERM removes the socket', async () => {
    const raceRoot = `/run/hako-test-daemon-race-${process.pid}`;
    extraRoots.push(raceRoot);
    const logs = [join(work, 'race-a.log'), join(work, 'race-b.log')];
    const started = await Promise.allSettled(logs.map((l) => startDaemon(raceRoot, l)));
    const winners = started.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<TestDaemon>).value);
    daemons.push(...winners);
    expect(winners).toHaveLength(1);
    const loserLog = readFileSync(logs[started.findIndex((s) => s.status === 'rejected')]!, 'utf8');
    expect(loserLog).toMatch(/another hako daemon serves --root/);
    expect(hako(['--root', raceRoot, 'list', '-q']).status).toBe(0);
    expect(winners[0]!.log()).toMatch(/served \(exit 0\)/);
    expect(await winners[0]!.stop()).toBe(0);
    expect(readdirSync(raceRoot)).toEqual([]);
  });

  it(`daemon SIGKILLed at random points of ${KILLS} creates: every create succeeds (warm or cold) or fails cleanly, nothing left`, async () => {
    const { id: tag, bundle } = newContainer((s) => (s.process!.args = ['sleep', '60']));
    // how long a warm create takes here: the kills land across it (a fresh daemon's first create takes longer)
    const t0 = performance.now();
    expect(hakoDetached(['--root', root, 'create', '--bundle', bundle.dir, `${tag}-probe`], bundle.dir).status).toBe(0);
    const span = performance.now() - t0;
    ids.push(`${tag}-probe`);
    expect(rt('delete', '--force', `${tag}-probe`).status).toBe(0);
    let d = daemon;
    const outcome = { ok: 0, failed: 0, killedDuring: 0 };
    const problems: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      if (!d.alive()) {
        d = await startDaemon(root, logFile);
        daemons.push(d);
      }
      const id = `${tag}-${i}`;
      ids.push(id);
      const errFile = join(bundle.dir, `err-${i}`);
      // stderr to a file: the created init holds the runtime's stdio (a pipe would stay open)
      const errFd = openSync(errFile, 'w');
      const result = new Promise<number | null>((resolve) => {
        const child = spawn(HAKO, ['--root', root, 'create', '--bundle', bundle.dir, id], { env: plainEnv, stdio: ['ignore', 'ignore', errFd] });
        child.once('exit', (code) => resolve(code));
      });
      closeSync(errFd);
      const delay = Math.random() * span * 3;
      let done = false;
      const killer = new Promise<void>((resolve) =>
        setTimeout(() => {
          if (!done) outcome.killedDuring++;
          void d.stop({ kill: true }).then(() => resolve());
        }, delay),
      );
      const code = await result;
      done = true;
      await killer;
      const state = runtime(HAKO, ['--root', root, 'state', id], { env: { ...plainEnv, HAKO_NO_DAEMON: '1' } });
      if (code === 0) {
        outcome.ok++;
        if (state.status !== 0 || JSON.parse(state.stdout).status !== 'created') problems.push(`${id}: create said 0, state: ${state.stdout}${state.stderr}`);
      } else {
        outcome.failed++;
        const err = readFileSync(errFile, 'utf8');
        if (/\n\s+at /.test(err)) problems.push(`${id}: a stack trace: ${err}`);
        if (existsSync(join(root, id))) problems.push(`${id}: create failed (${code}: ${err.trim()}) but left its state folder`);
      }
      cold('delete', '--force', id);
      const leaks = findLeaks({ root, ids: [id], dirs: [bundle.dir] });
      if (leaks.length) problems.push(`${id}: ${leaks.join(', ')}`);
    }
    const servedWarm = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('served (exit 0)') && l.includes(` create --bundle ${bundle.dir} ${tag}-`) && !l.endsWith('-probe')).length;
    console.log(
      `daemon kill storm: ${KILLS} creates, ${outcome.ok} succeeded (${servedWarm} answered by the daemon before it was killed, the rest cold), ${outcome.failed} failed cleanly, ${outcome.killedDuring} kills landed while a create ran`,
    );
    expect(problems).toEqual([]);
    expect(outcome.ok + outcome.failed).toBe(KILLS);
    // the kills were spread over the create's own length: some landed in it
    expect(outcome.killedDuring).toBeGreaterThan(0);
    if (!d.alive()) daemons.push((daemon = await startDaemon(root, logFile)));
    else daemon = d;
  }, 600_000);

  it('the library: create, start, state, kill and delete in-process, seen by the CLI', async () => {
    const api = await import('../../src/api/index.ts');
    const libRoot = `/run/hako-test-daemon-lib-${process.pid}`;
    extraRoots.push(libRoot);
    mkdirSync(libRoot, { recursive: true });
    const { id, bundle } = newContainer((s) => (s.process!.args = ['sleep', '60']));
    const r = api.openRuntime({ root: libRoot });
    await api.create(r, id, { bundle: bundle.dir });
    expect((await api.state(r, id)).status).toBe('created');
    expect(hako(['--root', libRoot, 'list', '-q']).stdout).toBe(`${id}\n`);
    await api.start(r, id);
    expect((await api.state(r, id)).status).toBe('running');
    await api.kill(r, id, 'KILL');
    await waitFor(() => JSON.parse(hako(['--root', libRoot, 'state', id]).stdout).status === 'stopped');
    await api.deleteContainer(r, id);
    await expect(api.state(r, id)).rejects.toThrow(`container "${id}" does not exist`);
    // the package's own name (package.json exports) gives the built library and its declarations
    const built = createRequire(import.meta.url)('hako') as Record<string, unknown>;
    for (const name of ['openRuntime', 'create', 'start', 'state', 'kill', 'deleteContainer', 'exec', 'list']) expect(typeof built[name], name).toBe('function');
    expect(readFileSync(join(REPO, 'dist/types/api/index.d.ts'), 'utf8')).toMatch(/export declare function create\(rt: Context, id: string/);
    expect(findLeaks({ root: libRoot, ids: [id], dirs: [bundle.dir] })).toEqual([]);
  });
});
