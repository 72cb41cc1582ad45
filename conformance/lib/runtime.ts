// Drives a runc-compatible runtime through its command line, the way containerd's shim does:
// `RT --root R [--log L --log-format json] <command> ...`, every call bounded by a timeout.
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { spawnedPids } from './host.ts';

export interface CallOptions {
  /** fds for the runtime's stdin/stdout/stderr; a number is an open fd, undefined means a pipe (captured). */
  stdin?: number | 'ignore';
  stdout?: number;
  stderr?: number;
  /** Extra fds placed at 3, 4, ... in the runtime process (for --preserve-fds and stray-fd checks). */
  extraFds?: number[];
  /** Text given to the runtime on stdin (through a temporary file). */
  input?: string;
  timeoutMs?: number;
  /** Omit the global --log flags (e.g. to see what reaches stderr). */
  noLog?: boolean;
  /** Omit --root (e.g. podman calls `state` without global flags). */
  noRoot?: boolean;
  /** A polling call (state in a wait loop): left out of the call summary that --compare diffs. */
  poll?: boolean;
  cwd?: string;
}

export interface CallResult {
  argv: string[];
  /** Exit code; null when killed by a signal (the runner's timeout, or a crash). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** spawn itself failed (missing binary, not executable). */
  spawnError?: string;
  ms: number;
  pid?: number;
  poll?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

export class RuntimeCli {
  /** Every call made, in order: the case's call log (an observation for --compare). */
  readonly calls: CallResult[] = [];

  constructor(
    readonly bin: string,
    readonly root: string,
    readonly logFile?: string,
  ) {}

  globalArgs(opts: CallOptions = {}): string[] {
    const g: string[] = [];
    if (!opts.noRoot) g.push('--root', this.root);
    if (this.logFile && !opts.noLog) g.push('--log', this.logFile, '--log-format', 'json');
    return g;
  }

  async call(args: string[], opts: CallOptions = {}): Promise<CallResult> {
    const argv = [...this.globalArgs(opts), ...args];
    const r = await runProcess(this.bin, argv, opts);
    if (opts.poll) r.poll = true;
    this.calls.push(r);
    return r;
  }

  /** Spawns a call without waiting (e.g. to SIGKILL it mid-create); the caller owns the child. */
  start(args: string[], opts: CallOptions = {}): RunningCall {
    return startProcess(this.bin, [...this.globalArgs(opts), ...args], opts);
  }
}

export interface RunningCall {
  pid: number | undefined;
  done: Promise<CallResult>;
  kill(signal: NodeJS.Signals): void;
}

let inputSeq = 0;

export function startProcess(bin: string, argv: string[], opts: CallOptions = {}): RunningCall {
  const t0 = performance.now();
  // Input goes through a file, not node's stdin pipe (a socketpair, which `open("/dev/stdin")` refuses).
  let inputFd: number | undefined;
  if (opts.input !== undefined) {
    const p = join(tmpdir(), `hako-conformance-input-${process.pid}-${inputSeq++}`);
    writeFileSync(p, opts.input);
    inputFd = openSync(p, 'r');
    rmSync(p);
  }
  const stdio: StdioOptions = [
    inputFd ?? opts.stdin ?? 'ignore',
    opts.stdout ?? 'pipe',
    opts.stderr ?? 'pipe',
    ...(opts.extraFds ?? []),
  ];
  let child;
  try {
    child = spawn(bin, argv, { stdio, cwd: opts.cwd });
  } catch (e) {
    if (inputFd !== undefined) closeSync(inputFd);
    const r: CallResult = { argv, code: 127, signal: null, stdout: '', stderr: '', timedOut: false, spawnError: String(e), ms: 0 };
    return { pid: undefined, done: Promise.resolve(r), kill: () => {} };
  }
  if (inputFd !== undefined) closeSync(inputFd);
  const pid = child.pid;
  if (pid !== undefined) spawnedPids.add(pid);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const done = new Promise<CallResult>((resolve) => {
    let spawnError: string | undefined;
    child.on('error', (e) => {
      spawnError = e.message;
      // ENOENT/EACCES: no 'exit' follows.
      if (child.pid === undefined) finish(127, null);
    });
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timeout);
      if (pid !== undefined) spawnedPids.delete(pid);
      // Pipes handed to a process that outlives the runtime never close: take what arrived so far.
      const settle = (): void =>
        resolve({ argv, code, signal, stdout, stderr, timedOut, spawnError, ms: performance.now() - t0, pid });
      if (child.stdout || child.stderr) {
        let pending = [child.stdout, child.stderr].filter((s) => s && !s.readableEnded).length;
        if (pending === 0) return settle();
        const grace = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          settle();
        }, 300);
        const onEnd = (): void => {
          if (--pending === 0) {
            clearTimeout(grace);
            settle();
          }
        };
        for (const s of [child.stdout, child.stderr]) if (s && !s.readableEnded) s.once('end', onEnd).once('close', () => {});
      } else {
        settle();
      }
    };
    child.on('exit', (code, signal) => finish(code, signal));
  });
  return { pid, done, kill: (s) => child.kill(s) };
}

export function runProcess(bin: string, argv: string[], opts: CallOptions = {}): Promise<CallResult> {
  return startProcess(bin, argv, opts).done;
}

/** argv without the global flags (--root, --log, --log-format). */
export function commandArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (['--root', '--log', '--log-format'].includes(a)) i++;
    else out.push(a);
  }
  return out;
}

/** A one-line summary of a call for failure messages. */
export function describeCall(r: CallResult): string {
  const how = r.timedOut
    ? 'timed out'
    : r.spawnError
      ? `spawn failed: ${r.spawnError}`
      : r.signal
        ? `killed by ${r.signal}`
        : `exit ${r.code}`;
  const err = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');
  return `${commandArgs(r.argv).join(' ')}: ${how}${err ? `: ${err.slice(0, 400)}` : ''}`;
}
