// `hako run` of a container with process.terminal and no --console-socket: hako receives the pty
// master itself and proxies it, as runc does. `script` gives hako a real terminal (its own pty);
// without it, stdin/stdout are pipes and bytes still flow. Everything for real: root, namespaces,
// cgroups, a busybox rootfs, the real bin/hako; each test proves nothing is left behind, the
// console socket's folder included.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { HAKO, hako, plainEnv } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';
import { hasScript, inTerminal, shellQuote } from '../helpers/terminal.ts';
import type { Spec } from '../../src/spec/types.ts';

const root = `/run/hako-test-terminal-${process.pid}`;
const runcRoot = `/run/hako-test-terminal-runc-${process.pid}`;
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;
const ids: string[] = [];
const bundles: TestBundle[] = [];
let n = 0;


function newContainer(args: string[], edit: (s: Spec) => void = () => {}): { id: string; bundle: TestBundle } {
  const id = `tty-${process.pid}-${n++}`;
  const bundle = makeBundle(id, (s) => {
    s.process!.terminal = true;
    s.process!.args = args;
    edit(s);
  });
  ids.push(id);
  bundles.push(bundle);
  return { id, bundle };
}

const hakoRun = (id: string, bundle: TestBundle) => `${shellQuote(HAKO)} --root ${shellQuote(root)} run --bundle ${shellQuote(bundle.dir)} ${shellQuote(id)}`;

function consoleFolders(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('hako-console-'));
}

let foldersBefore: string[] = [];

function expectNoLeaks(): void {
  expect(findLeaks({ root, ids, dirs: bundles.map((b) => b.dir) })).toEqual([]);
  expect(consoleFolders().filter((f) => !foldersBefore.includes(f))).toEqual([]);
}

beforeAll(() => mkdirSync(root, { recursive: true }));
beforeEach(() => {
  foldersBefore = consoleFolders();
});
afterEach(() => {
  for (const id of ids) if (existsSync(join(root, id))) hako(['--root', root, 'delete', '--force', id]);
});
afterAll(() => {
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
  rmSync(runcRoot, { recursive: true, force: true });
});

describe.skipIf(!isRoot || !hasScript)('run with a terminal and no console socket (root)', () => {
  it('gives the container a pty sized like the user terminal (not consoleSize), and passes its output', async () => {
    const { id, bundle } = newContainer(['sh', '-c', 'tty; stty size; echo hello'], (s) => {
      s.process!.consoleSize = { height: 12, width: 34 };
    });
    const r = await inTerminal(`stty rows 30 cols 100; ${hakoRun(id, bundle)}`).done;
    // the container's pty turns \n into \r\n; the user's terminal is raw, so it adds nothing
    expect(r.output).toBe('/dev/pts/0\r\n30 100\r\nhello\r\n');
    expect(r.status).toBe(0);
    expectNoLeaks();
  });

  it('passes the exit status through', async () => {
    const { id, bundle } = newContainer(['sh', '-c', 'exit 7']);
    const r = await inTerminal(hakoRun(id, bundle)).done;
    expect(r.output).toBe('');
    expect(r.status).toBe(7);
    expectNoLeaks();
  });

  it('sends what the user types to the container, and puts the terminal mode back afterwards', async () => {
    const { id, bundle } = newContainer(['sh', '-c', 'echo ready; read x; echo "got $x"; exit 3']);
    const s = inTerminal(`stty -g; ${hakoRun(id, bundle)}; echo "status $?"; stty -g`);
    await s.waitFor('ready\r\n');
    s.write('data\n');
    const r = await s.done;
    const lines = r.output.split('\r\n');
    // the container's pty echoes the line (hako's terminal is raw: no echo of its own)
    expect(lines.slice(1, 5)).toEqual(['ready', 'data', 'got data', 'status 3']);
    expect(lines[0]).toMatch(/^[0-9a-f:]+$/);
    expect(lines[5]).toBe(lines[0]); // stty -g before and after: the same mode
    expect(r.status).toBe(0);
    expectNoLeaks();
  });

  it('turns ^C into SIGINT inside the container (raw mode: the key is not hako\'s)', async () => {
    const { id, bundle } = newContainer(['sh', '-c', 'trap "echo INT; exit 5" INT; echo ready; while :; do sleep 0.1; done']);
    const s = inTerminal(hakoRun(id, bundle));
    await s.waitFor('ready\r\n');
    s.write('\x03');
    const r = await s.done;
    expect(r.output).toBe('ready\r\n^CINT\r\n');
    expect(r.status).toBe(5);
    expectNoLeaks();
  });

  it('resizes the pty when the user terminal is resized (SIGWINCH)', async () => {
    const { id, bundle } = newContainer(['sh', '-c', 'stty size; echo ready; while [ "$(stty size)" = "30 100" ]; do sleep 0.05; done; stty size']);
    const flag = join(bundle.dir, 'resize-now');
    // a helper in script's session resizes its terminal once told: the kernel signals hako (foreground)
    const helper = `(while [ ! -e ${shellQuote(flag)} ]; do sleep 0.05; done; stty rows 40 cols 120 </dev/tty) &`;
    const s = inTerminal(`stty rows 30 cols 100; ${helper} ${hakoRun(id, bundle)}`);
    await s.waitFor('ready\r\n');
    writeFileSync(flag, '');
    const r = await s.done;
    expect(r.output).toBe('30 100\r\nready\r\n40 120\r\n');
    expect(r.status).toBe(0);
    expectNoLeaks();
  });

  it('without a terminal (pipes), still proxies bytes both ways and uses consoleSize', () => {
    const { id, bundle } = newContainer(['sh', '-c', 'tty; stty size; head -c 4; echo; echo done'], (s) => {
      s.process!.consoleSize = { height: 12, width: 34 };
    });
    const r = hako(['--root', root, 'run', '--bundle', bundle.dir, id], { input: 'data\n' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // the pty's echo of the input line comes whenever hako wrote it, between whole lines
    expect(r.stdout.replace('data\r\n', '')).toBe('/dev/pts/0\r\n12 34\r\ndata\r\ndone\r\n');
    expectNoLeaks();
  });

  it('loses no output to a slow reader, and does not deadlock on input the container does not read yet', () => {
    // The container writes 109 kB before it reads anything: hako must keep reading the pty while
    // its writes to it would block, and stop reading while its stdout is full.
    const { id, bundle } = newContainer(['sh', '-c', 'stty -echo; touch /ready; seq 1 20000; head -c 300000 | md5sum']);
    const input = join(bundle.dir, 'input.txt');
    const text = Buffer.alloc(400_000, 'abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij012345\n').toString();
    writeFileSync(input, text);
    const expectedSum = spawnSync('md5sum', { input: text.slice(0, 300_000) }).stdout.toString().trim();
    const expectedSeq = Array.from({ length: 20000 }, (_, i) => `${i + 1}\r\n`).join('');
    // the input goes in once echo is off (else the pty would echo it back)
    const ready = shellQuote(join(bundle.dir, 'rootfs/ready'));
    const feed = `{ while [ ! -e ${ready} ]; do sleep 0.02; done; cat ${shellQuote(input)}; }`;
    // its own session: on a timeout (a deadlock) the whole pipeline, hako included, is killed
    const r = spawnSync('setsid', ['sh', '-c', `${feed} | ${hakoRun(id, bundle)} | (sleep 1; cat)`], { env: plainEnv, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    try {
      process.kill(-r.pid, 'SIGKILL');
    } catch {
      // all gone
    }
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${expectedSeq}${expectedSum}\r\n`);
    expectNoLeaks();
  });

  it('run -d keeps refusing a terminal without a console socket, with runc\'s words', () => {
    const { id, bundle } = newContainer(['true']);
    const r = hako(['--root', root, 'run', '-d', '--bundle', bundle.dir, id]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot allocate tty if hako will detach without setting console socket');
    expectNoLeaks();
  });

  it.skipIf(!RUNC)('prints what runc prints for the same bundle, and exits the same', async () => {
    const { id, bundle } = newContainer(['sh', '-c', 'tty; ls -l /dev/console | cut -c1; echo hello; exit 7']);
    const ours = await inTerminal(hakoRun(id, bundle)).done;
    const theirs = await inTerminal(`${shellQuote(RUNC!)} --root ${shellQuote(runcRoot)} run --bundle ${shellQuote(bundle.dir)} ${shellQuote(`${id}-runc`)}`).done;
    expect(theirs.status).toBe(7);
    expect(ours.output).toBe(theirs.output);
    expect(ours.output).toBe('/dev/pts/0\r\nc\r\nhello\r\n');
    expect(ours.status).toBe(7);
    expectNoLeaks();
    expect(findLeaks({ root: runcRoot, ids: [`${id}-runc`], dirs: [bundle.dir] })).toEqual([]);
  });
});
