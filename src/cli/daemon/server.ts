// `hako daemon`: keeps the TypeScript side warm (bundle loaded, validators and plan compiler
// JIT-compiled, koffi loaded) and serves the calls of bin/hako's front (native/front/front.c) on
// <root>/hako.sock, one at a time. The front forks the executor when a call needs one, so the
// container's init is the caller's descendant exactly as on the cold path.
//
// Trust: the socket is 0600 in the root folder; a caller is served only when SO_PEERCRED says it
// is this uid and it shares this process's mount, pid, user, cgroup and network namespaces and
// root directory (else it sees other paths and processes than the daemon: it goes cold). A front of
// another build id goes cold. See docs/SECURITY.md.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../invoke.ts';
import { primeCgroupMigration } from '../../cgroups/prime.ts';
import { HakoError } from '../../errors.ts';
import { withOutput } from '../../io.ts';
import { flock, LOCK_EX, LOCK_NB, peerCred, takeFd } from '../../linux/socket.ts';
import type { ExecutorExit } from '../../runtime/executor.ts';
import { withLauncher, type LaunchedExecutor } from '../../runtime/launcher.ts';
import { coldReason, waitsInForeground } from './policy.ts';
import { FrameReader, frame, parseRequest, type Request } from './protocol.ts';

export const SOCKET_NAME = 'hako.sock';
const LOCK_NAME = 'hako.sock.lock';
const NAMESPACES = ['mnt', 'pid', 'user', 'cgroup', 'net'] as const;
/** Commands that put a process into the container's cgroups. */
const MIGRATES = new Set(['create', 'run', 'exec']);

export interface DaemonOptions {
  root: string;
  /** The build id fronts must present (dist/build-id). */
  buildId: string;
  /** A line per call on stderr. */
  verbose?: boolean;
}

/** This build's id, written by the build next to the bundle (scripts/build-front.mjs). */
export function ownBuildId(): string {
  const file = join(import.meta.dirname, 'build-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new HakoError(`${file}: missing: the daemon runs from a built bundle (npm run build)`);
  }
}

/** What a process sees: its namespaces and root, to compare with a caller's. */
function viewOf(pid: number | 'self'): string {
  const parts = NAMESPACES.map((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`));
  const root = statSync(`/proc/${pid}/root`);
  return `${parts.join(' ')} root:${root.dev}:${root.ino}`;
}

function decodeStatus(status: number): ExecutorExit {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0] as NodeJS.Signals | undefined;
  return { code: null, signal: name ?? null };
}

/** One caller: its request, then the frames its front sends during the call ('P', 'W'). */
class Caller {
  readonly reader = new FrameReader();
  request?: Request;
  onRequest?: () => void;
  private waiting: { type: string; resolve: (body: Buffer) => void }[] = [];
  private exits = new Map<number, (e: ExecutorExit) => void>();
  closed = false;

  constructor(
    readonly sock: Socket,
    readonly pid: number,
  ) {
    sock.on('data', (chunk: Buffer) => this.data(chunk));
    sock.on('close', () => this.close());
    sock.on('error', () => this.close());
  }

  private data(chunk: Buffer): void {
    this.reader.push(chunk);
    if (!this.request) {
      const req = this.reader.takeRequest();
      if (!req) return;
      try {
        this.request = parseRequest(req);
      } catch {
        this.sock.destroy();
        return;
      }
      this.onRequest?.();
    }
    for (let f = this.reader.takeFrame(); f; f = this.reader.takeFrame()) {
      if (f.type === 'W') this.exits.get(f.body.readInt32LE(0))?.(decodeStatus(f.body.readInt32LE(4)));
      if (f.type === 'G') forwardSignal(f.body.readUInt32LE(0));
      const i = this.waiting.findIndex((w) => w.type === f.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(f.body);
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.resolve(Buffer.alloc(0));
    for (const done of this.exits.values()) done({ code: null, signal: null });
  }

  send(type: string, body: Buffer | string = Buffer.alloc(0)): void {
    if (!this.closed) this.sock.write(frame(type, body));
  }

  next(type: string): Promise<Buffer> {
    if (this.closed) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve) => this.waiting.push({ type, resolve }));
  }

  /** The front forks the executor; this process takes a copy of its channel end. */
  readonly launcher = async (executorPath: string, preserveFds: number): Promise<LaunchedExecutor> => {
    const path = Buffer.from(`${executorPath}\0`);
    const body = Buffer.alloc(4 + path.length);
    body.writeUInt32LE(preserveFds, 0);
    path.copy(body, 4);
    const answer = this.next('P');
    this.send('F', body);
    const p = await answer;
    if (p.length < 8) throw new HakoError('the caller went away before the executor started');
    const pid = p.readUInt32LE(0);
    if (pid === 0) throw new HakoError(`fork of the executor: errno ${p.readUInt32LE(4)}`);
    const exit = new Promise<ExecutorExit>((resolve) => {
      if (this.closed) resolve({ code: null, signal: null });
      else this.exits.set(pid, resolve);
    });
    let channel: number;
    try {
      channel = await takeFd(this.pid, p.readUInt32LE(4));
    } catch (err) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      throw err;
    }
    this.send('K');
    return { pid, channel, exit };
  };
}

const GC_EVERY = 20;
let collectGarbage: (() => void) | undefined;

export class Daemon {
  private server?: Server;
  private queue: Promise<void> = Promise.resolve();
  private lockFd?: number;
  private readonly view = viewOf('self');
  private readonly socketPath: string;
  private stopping = false;
  served = 0;

  constructor(private readonly opts: DaemonOptions) {
    this.socketPath = join(opts.root, SOCKET_NAME);
  }

  /**
   * Takes the root's daemon lock (another daemon holding it: refused), then puts the socket in
   * place: made under a temporary name with mode 0600 and renamed over any stale one.
   */
  async listen(): Promise<void> {
    mkdirSync(this.opts.root, { recursive: true, mode: 0o711 });
    const lockFd = openSync(join(this.opts.root, LOCK_NAME), 'w', 0o600);
    if (!(await flock(lockFd, LOCK_EX | LOCK_NB))) {
      closeSync(lockFd);
      throw new HakoError(`another hako daemon serves --root ${this.opts.root}`);
    }
    this.lockFd = lockFd;
    const tmp = join(this.opts.root, `.${SOCKET_NAME}.${process.pid}`);
    rmSync(tmp, { force: true });
    const server = createServer({ allowHalfOpen: false }, (sock) => void this.accept(sock));
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(tmp, () => resolveListen());
      });
    } finally {
      process.umask(umask);
    }
    renameSync(tmp, this.socketPath);
    this.server = server;
  }

  /** Stops accepting, lets the call in progress finish, removes the socket and the lock. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    rmSync(this.socketPath, { force: true });
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    await this.queue;
    rmSync(join(this.opts.root, LOCK_NAME), { force: true });
    if (this.lockFd !== undefined) closeSync(this.lockFd);
  }

  private async accept(sock: Socket): Promise<void> {
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    let pid: number;
    try {
      if (fd === undefined || fd < 0) throw new Error('no fd');
      const cred = await peerCred(fd);
      if (cred.uid !== process.getuid?.()) throw new Error('another uid');
      pid = cred.pid;
    } catch {
      sock.destroy(); // the front sees the socket close before 'A': it goes cold
      return;
    }
    const caller = new Caller(sock, pid);
    caller.onRequest = () => {
      // A call that will move a process into a cgroup: the kernel's wait before the first cgroup
      // migration after a quiet spell (src/cgroups/prime.ts) starts now, while the call is read,
      // queued and compiled, not when the executor joins.
      if (MIGRATES.has(caller.request!.argv.find((a) => MIGRATES.has(a)) ?? '')) primeCgroupMigration();
      this.queue = this.queue.then(() => this.serve(caller)).catch(() => {});
    };
  }

  private async serve(caller: Caller): Promise<void> {
    const req = caller.request!;
    if (caller.closed) return;
    let reason: string | undefined;
    try {
      if (req.buildId !== this.opts.buildId) reason = 'another build';
      else if (viewOf(caller.pid) !== this.view) reason = 'other namespaces or root';
      else reason = coldReason(req.argv, req.env, req.cwd, resolve(this.opts.root));
      if (reason === undefined && !existsSync(req.cwd)) reason = 'cwd not reachable';
    } catch {
      reason = 'caller gone'; // its /proc entries vanished
    }
    if (reason !== undefined) {
      if (this.opts.verbose) process.stderr.write(`hako daemon: cold (${reason}): ${req.argv.join(' ')}\n`);
      caller.send('C');
      caller.sock.end();
      return;
    }
    const savedCwd = process.cwd();
    const savedEnv = { ...process.env };
    let code = 1;
    try {
      process.chdir(req.cwd);
      replaceEnv(req.env);
      caller.send('A');
      if (waitsInForeground(req.argv)) caller.send('S');
      code = await withOutput(
        { out: (t) => caller.send('O', t), err: (t) => caller.send('E', t) },
        () => withLauncher(caller.launcher, () => runCli(req.argv, caller.pid)),
      );
    } catch (err) {
      caller.send('E', `hako daemon: ${(err as Error).message}\n`);
    } finally {
      process.chdir(savedCwd);
      replaceEnv(savedEnv as Record<string, string>);
    }
    this.served++;
    // A full collection every so many calls: old space otherwise grows with each call's leftovers
    // until V8 decides to collect, all of it RSS meanwhile (~5 ms, once per GC_EVERY calls).
    if (this.served % GC_EVERY === 0) collectGarbage?.();
    if (this.opts.verbose) process.stderr.write(`hako daemon: served (exit ${code}): ${req.argv.join(' ')}\n`);
    const status = Buffer.alloc(4);
    status.writeUInt32LE(code >>> 0);
    caller.send('X', status);
    caller.sock.end();
  }
}

/** A marker on the signals a caller's front forwarded, so the daemon's own SIGTERM handler leaves them alone. */
const FROM_CALLER = Symbol('hako: forwarded by the caller');

/**
 * A signal the front received while its call waits in the foreground: handed to the listeners of
 * that signal (the call's SignalForwarder, src/runtime/foreground.ts), as if it came to this process.
 */
function forwardSignal(signo: number): void {
  const name = Object.entries(constants.signals).find(([, n]) => n === signo)?.[0];
  if (name) (process.emit as (event: string, ...args: unknown[]) => boolean)(name, name, FROM_CALLER);
}

function replaceEnv(env: Record<string, string>): void {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
}

/** `hako daemon`: serves until SIGTERM or SIGINT, then removes its socket. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  collectGarbage = runInNewContext('gc') as () => void;
  const daemon = new Daemon(opts);
  await daemon.listen();
  // Warm what the first calls would otherwise load: koffi, the validators, the lifecycle modules.
  await Promise.all([
    import('../../runtime/create.ts'),
    import('../../runtime/start.ts'),
    import('../../runtime/delete.ts'),
    import('../../runtime/kill.ts'),
    import('../../runtime/state.ts'),
    import('../../runtime/exec.ts'),
    import('../../runtime/pause.ts'),
    import('../../runtime/ps.ts'),
    import('../../runtime/update.ts'),
    import('../../spec/load.ts'),
  ]);
  if (opts.verbose) process.stderr.write(`hako daemon: serving ${join(opts.root, SOCKET_NAME)} (build ${opts.buildId})\n`);
  // V8 grows a busy process's young generation to 16 MiB semi-spaces, all of it RSS (README.md)
  if (![...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-semi-space-size'))) {
    process.stderr.write('hako daemon: started without NODE_OPTIONS=--max-semi-space-size=1: expect ~20 MiB more RSS\n');
  }
  await new Promise<void>((done) => {
    const stop = (_signal?: unknown, from?: unknown) => {
      if (from === FROM_CALLER) return;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void daemon.stop().then(done);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
