// hako's own console: a foreground `run` of a container with `process.terminal` and no
// `--console-socket` proxies the container's terminal itself, as runc does.
//
//   1. open():   before create, a private folder (0700) with an AF_UNIX listening socket (0600) in
//                it; its path goes to create as the console socket, so the plan is the one
//                `--console-socket` gives (the executor connects before the clone, the init sends
//                the pty master in one sendmsg before `ready`).
//   2. attach(): after create (whose READY only comes once the master was sent): accept and
//                recvmsg without waiting (nothing there is an error, never a hang), then the socket
//                and its folder are gone. The pty gets the user's terminal size, the user's terminal
//                goes raw, and bytes flow: stdin → master, master → stdout (also without a terminal).
//   3. finish(): once the container exited: stop reading stdin, read what the container wrote up
//                to EIO (every slave fd closed; a quiet spell if a leftover process holds one),
//                wait until stdout took it all (a pipe may be slow), put the terminal back.
// Nothing blocks the event loop: the master is O_NONBLOCK, a full pty pauses stdin (the user's
// side waits) and a full stdout pauses the pty reads (the container's side waits).
//   close():     idempotent and synchronous; also run on process exit, so the user's terminal mode
//                is restored on every path (errors, forwarded signals, process.exit).
//
// The user's terminal is, as for runc, the first of stderr, stdout, stdin that is one; it is put in
// raw mode (cfmakeraw: no echo, no line editing, no signals from keys, no output processing: the
// container's pty does all that) and gives the size. Like runc, its size wins over
// process.consoleSize (which the init already put on the pty); a 0x0 answer keeps consoleSize.
// SIGWINCH resizes the pty, and the kernel signals the container's foreground process group.
// Stdin's end is not forwarded (runc neither): a pty has no "end of input" but the EOF character.
import { chmodSync, closeSync, mkdtempSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ReadStream } from 'node:tty';
import type { CreateOptions } from './options.ts';
import { HakoError } from '../errors.ts';
import { acceptNow, duplicateFd, getWindowSize, listenUnix, makeRaw, receiveFd, setNonBlocking, setWindowSize } from '../linux/console.ts';

/** How long the output may stay quiet after the container exited before hako stops waiting for EIO. */
const DRAIN_QUIET_MS = 100;
/** The most hako waits for the rest of the output after the container exited (a leftover process may hold the pty). */
const DRAIN_MAX_MS = 2000;
/** Reads of what is left at the end, at most (64 kB each). */
const DRAIN_MAX_READS = 256;
/** Retry delay when the pty's input queue is full (the container doesn't read). */
const INPUT_RETRY_MS = 10;
const SUN_PATH_MAX = 107;
/** createFlags of a proxy made for exec (never passed to create). */
const NO_CREATE: CreateOptions = { bundle: '', noPivot: false, noNewKeyring: false, preserveFds: 0, dryRun: false };

/** process.terminal of the bundle's config.json, read cheaply; create reads and checks it properly. */
function wantsTerminal(bundle: string): boolean {
  try {
    const config = JSON.parse(readFileSync(join(resolve(bundle), 'config.json'), 'utf8')) as { process?: { terminal?: unknown } };
    return config.process?.terminal === true;
  } catch {
    return false; // create reports it
  }
}

function socketFolder(): string {
  for (const base of [tmpdir(), '/tmp']) {
    const dir = mkdtempSync(join(base, 'hako-console-'));
    if (Buffer.byteLength(join(dir, 'console.sock')) <= SUN_PATH_MAX) return dir;
    rmSync(dir, { recursive: true, force: true });
  }
  throw new HakoError('console socket: no temporary folder with a path short enough for a unix socket');
}

export class TerminalProxy {
  /** Flags for create: the same, with hako's socket as the console socket. */
  readonly createFlags: CreateOptions;
  private listenFd: number | undefined;
  private master: number | undefined;
  /** reads a dup of the master, so that libuv closing it never closes the master itself */
  private output: ReadStream | undefined;
  /** the output stream ended: the slave hung up (EIO, or libuv's EOF on POLLHUP after a partial read) */
  private hungUp: Promise<void> = Promise.resolve();
  /** our stdout failed (EPIPE): the container's output goes nowhere */
  private outputGone = false;
  private lastOutput = 0;
  private input: NodeJS.ReadStream | undefined;
  /** the user's terminal (one of fds 0-2), if any */
  private hostFd: number | undefined;
  private restoreMode: (() => void) | undefined;
  private pending: Buffer[] = [];
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onExit = () => this.close();
  private readonly onWinch = () => void this.resize().catch(() => {});
  private readonly onInput = (chunk: Buffer) => {
    this.pending.push(chunk);
    this.flushInput();
  };
  private readonly onStdoutError = () => {
    this.outputGone = true;
    this.output?.resume();
  };
  private readonly onOutput = (chunk: Buffer) => {
    this.lastOutput = Date.now();
    if (this.outputGone || process.stdout.write(chunk)) return;
    // stdout is a pipe whose reader is slower: stop reading the pty (the container blocks) until it drains
    const output = this.output;
    output?.pause();
    void stdoutDrained().then(() => output?.resume());
  };

  private constructor(
    private readonly dir: string,
    readonly socketPath: string,
    flags: CreateOptions | undefined,
  ) {
    this.createFlags = { ...(flags ?? NO_CREATE), consoleSocket: socketPath };
  }

  /**
   * The proxy a foreground run needs: undefined when the caller gave a console socket or the
   * container has no terminal. Listens already: pass `createFlags` to create.
   */
  static async open(flags: CreateOptions): Promise<TerminalProxy | undefined> {
    if (flags.consoleSocket !== undefined || flags.dryRun || !wantsTerminal(flags.bundle)) return undefined;
    return TerminalProxy.listen(flags);
  }

  /** The proxy of a foreground `exec -t` without --console-socket: its socket is `socketPath`. */
  static async forProcess(): Promise<TerminalProxy> {
    return TerminalProxy.listen(undefined);
  }

  private static async listen(flags: CreateOptions | undefined): Promise<TerminalProxy> {
    const dir = socketFolder();
    const path = join(dir, 'console.sock');
    const proxy = new TerminalProxy(dir, path, flags);
    try {
      proxy.listenFd = await listenUnix(path);
      chmodSync(path, 0o600);
    } catch (err) {
      proxy.close();
      throw new HakoError(`console socket ${path}: ${(err as Error).message}`, { cause: err });
    }
    process.once('exit', proxy.onExit);
    return proxy;
  }

  /** After create: takes the pty master the init sent, sizes it, makes the user's terminal raw and starts the proxy. */
  async attach(): Promise<void> {
    const listenFd = this.listenFd;
    if (listenFd === undefined) throw new HakoError('console socket: closed');
    const conn = await acceptNow(listenFd);
    if (conn === undefined) throw new HakoError('console socket: the container did not connect');
    let received;
    try {
      received = await receiveFd(conn);
    } catch (err) {
      throw new HakoError(`console socket: ${(err as Error).message}`, { cause: err });
    } finally {
      closeSync(conn);
      this.closeSocket();
    }
    if (!received) throw new HakoError('console socket: the container sent no terminal');
    this.master = received.fd;
    await setNonBlocking(this.master);
    // node:tty only here: it loads net and stream (~3-5 ms), which a run without a terminal never needs
    const { ReadStream, isatty } = await import('node:tty');
    this.hostFd = [2, 1, 0].find((fd) => isatty(fd));
    await this.resize();
    process.on('SIGWINCH', this.onWinch);

    const output = new ReadStream(await duplicateFd(this.master));
    this.output = output;
    this.hungUp = new Promise<void>((done) => {
      output.once('end', () => done());
      output.once('close', () => done());
      output.on('error', () => done()); // EIO (anything else too: finish() reads the rest itself)
    });
    process.stdout.on('error', this.onStdoutError);
    output.on('data', this.onOutput);

    if (this.hostFd !== undefined) this.restoreMode = await makeRaw(this.hostFd);
    const input = process.stdin;
    this.input = input;
    input.on('data', this.onInput);
    input.resume();
  }

  /**
   * Once the container exited: stops input, waits until the slave hung up (every fd of it closed)
   * or the output stayed quiet, reads what is left of it, waits until stdout took it all, then close().
   */
  async finish(): Promise<void> {
    this.stopInput();
    if (this.output) {
      const started = Date.now();
      this.lastOutput = started;
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<void>((done) => {
        const check = () => {
          const now = Date.now();
          if (now - this.lastOutput >= DRAIN_QUIET_MS || now - started >= DRAIN_MAX_MS) done();
          else timer = setTimeout(check, DRAIN_QUIET_MS);
        };
        timer = setTimeout(check, DRAIN_QUIET_MS);
      });
      await Promise.race([this.hungUp, quiet]);
      clearTimeout(timer);
    }
    const write = async (chunk: Buffer) => {
      if (!this.outputGone && !process.stdout.write(chunk)) await stdoutDrained();
    };
    for (const chunk of this.stopOutput()) await write(chunk);
    if (this.master !== undefined) {
      for (const chunk of readRest(this.master)) await write(chunk);
    }
    if (!this.outputGone && process.stdout.writableLength > 0) await stdoutDrained();
    this.close();
  }

  /** Restores the user's terminal, stops both directions, closes every fd and removes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.off('exit', this.onExit);
    process.off('SIGWINCH', this.onWinch);
    this.stopInput();
    // finish() did this unless something failed: then whatever can be written without waiting
    const rest = this.stopOutput();
    if (this.master !== undefined) {
      rest.push(...readRest(this.master));
      closeSync(this.master);
      this.master = undefined;
    }
    if (!this.outputGone) for (const chunk of rest) process.stdout.write(chunk);
    process.stdout.off('error', this.onStdoutError);
    this.restoreMode?.();
    this.restoreMode = undefined;
    this.closeSocket();
  }

  private closeSocket(): void {
    if (this.listenFd !== undefined) {
      closeSync(this.listenFd);
      this.listenFd = undefined;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Closes the output stream; returns what it had read and not passed on yet (paused for stdout). */
  private stopOutput(): Buffer[] {
    const output = this.output;
    if (!output) return [];
    this.output = undefined;
    output.off('data', this.onOutput);
    const rest: Buffer[] = [];
    for (let chunk = output.read() as Buffer | null; chunk !== null; chunk = output.read() as Buffer | null) rest.push(chunk);
    output.destroy();
    return rest;
  }

  private stopInput(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    this.pending = [];
    const input = this.input;
    if (!input) return;
    this.input = undefined;
    input.off('data', this.onInput);
    input.pause();
  }

  /** Writes what stdin gave to the master without ever blocking: a full pty pauses stdin and retries. */
  private flushInput(): void {
    const master = this.master;
    if (master === undefined || !this.input) return;
    while (this.pending.length > 0) {
      const chunk = this.pending[0]!;
      let n: number;
      try {
        n = writeSync(master, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.input.pause();
          this.retry ??= setTimeout(() => {
            this.retry = undefined;
            this.flushInput();
          }, INPUT_RETRY_MS);
          return;
        }
        this.stopInput(); // EIO: the container's side is closed
        return;
      }
      if (n < chunk.length) this.pending[0] = chunk.subarray(n);
      else this.pending.shift();
    }
    this.input.resume();
  }

  /** The user's terminal size onto the pty. */
  private async resize(): Promise<void> {
    if (this.master === undefined || this.hostFd === undefined) return;
    const size = await getWindowSize(this.hostFd);
    if (!size || size.rows === 0 || size.cols === 0) return;
    await setWindowSize(this.master, size);
  }
}

/** Resolves once stdout's queue is written (or stdout failed or closed). */
function stdoutDrained(): Promise<void> {
  const stdout = process.stdout;
  return new Promise<void>((done) => {
    const end = () => {
      stdout.off('drain', end);
      stdout.off('error', end);
      stdout.off('close', end);
      done();
    };
    stdout.on('drain', end);
    stdout.on('error', end);
    stdout.on('close', end);
  });
}

/**
 * What is left on the (non-blocking) master: reads until EIO (the slave is closed) or EAGAIN
 * (someone still holds it), bounded in case a leftover process keeps writing.
 */
function readRest(master: number): Buffer[] {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let i = 0; i < DRAIN_MAX_READS; i++) {
    let n: number;
    try {
      n = readSync(master, buf, 0, buf.length, null);
    } catch {
      break; // EIO, EAGAIN
    }
    if (n <= 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return chunks;
}
