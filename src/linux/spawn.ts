// Starting the executor without node:child_process. That builtin loads net, stream, dgram and
// their dependencies at its first require: 5-9 ms of builtin compilation at every create and run
// (cpu profile), for one fork + exec. ProcessWrap, the libuv process handle child_process is
// built on, does the same fork + exec; process.binding() still hands it out in node 20 to 24
// (it is on the binding allow-list; the deprecation is documentation-only unless node runs with
// --pending-deprecation). Where it is missing or changed, child_process does the spawn as before.
import { getSystemErrorName } from 'node:util';

export interface SpawnExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  pid: number;
  /** Resolves when the process exits (the handle keeps node's event loop alive until then). */
  exit: Promise<SpawnExit>;
}

interface ProcessHandle {
  pid?: number;
  onexit: (exitCode: number, signalCode: string) => void;
  spawn(options: {
    file: string;
    args: string[];
    envPairs: string[];
    stdio: { type: 'fd'; fd: number }[];
    detached: boolean;
    windowsHide: boolean;
    windowsVerbatimArguments: boolean;
  }): number;
  close(): void;
}

type ProcessWrap = new () => ProcessHandle;

let wrap: ProcessWrap | null | undefined;

function processWrap(): ProcessWrap | null {
  if (wrap !== undefined) return wrap;
  try {
    const binding = (process as unknown as { binding(name: string): { Process?: unknown } }).binding('process_wrap');
    wrap = typeof binding.Process === 'function' ? (binding.Process as ProcessWrap) : null;
  } catch {
    wrap = null;
  }
  return wrap;
}

function spawnError(file: string, errno: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(errno);
  const err = new Error(`spawn ${file} ${code}`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = errno;
  err.syscall = `spawn ${file}`;
  return err;
}

/**
 * fork + exec of `file` in its own session (setsid), with `fds[i]` of this process as its fd i,
 * this process's environment. Throws like child_process's 'error' event (ENOENT, EACCES, …).
 */
export async function spawnDetached(file: string, args: string[], fds: number[]): Promise<Spawned> {
  const Process = processWrap();
  if (!Process) return spawnWithChildProcess(file, args, fds);
  const handle = new Process();
  let resolveExit!: (exit: SpawnExit) => void;
  const exit = new Promise<SpawnExit>((resolve) => (resolveExit = resolve));
  handle.onexit = (exitCode, signalCode) => {
    handle.close();
    resolveExit(signalCode ? { code: null, signal: signalCode as NodeJS.Signals } : { code: exitCode, signal: null });
  };
  const err = handle.spawn({
    file,
    args: [file, ...args],
    envPairs: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
    stdio: fds.map((fd) => ({ type: 'fd', fd })),
    detached: true,
    windowsHide: false,
    windowsVerbatimArguments: false,
  });
  if (err !== 0 || handle.pid === undefined) {
    handle.close();
    throw spawnError(file, err || -22);
  }
  return { pid: handle.pid, exit };
}

async function spawnWithChildProcess(file: string, args: string[], fds: number[]): Promise<Spawned> {
  const { spawn } = await import('node:child_process');
  const child = spawn(file, args, { stdio: fds, detached: true });
  const exit = new Promise<SpawnExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawned || child.pid === undefined) throw spawned ?? new Error(`spawn ${file}: failed`);
  return { pid: child.pid, exit };
}
