// A `hako daemon` for a test's --root: started detached with its --verbose log in a file (one line
// per call: `served (exit N): argv` or `cold (why): argv`), so a test can tell which path a call took.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAKO, plainEnv } from './hako.ts';

export interface TestDaemon {
  pid: number;
  /** The daemon's log so far. */
  log(): string;
  /** Whether the process still runs. */
  alive(): boolean;
  /** SIGTERM and wait for the exit (its code), or SIGKILL with `kill`. */
  stop(opts?: { kill?: boolean }): Promise<number | null>;
  exited: Promise<number | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the daemon; resolves once its socket is in place, or rejects with its log. */
export async function startDaemon(root: string, logFile: string, bin = HAKO): Promise<TestDaemon> {
  const fd = openSync(logFile, 'a');
  let child;
  try {
    // started as README.md says
    child = spawn(bin, ['--root', root, 'daemon', '--verbose'], { stdio: ['ignore', fd, fd], env: { ...plainEnv, NODE_OPTIONS: '--max-semi-space-size=1' } });
  } finally {
    closeSync(fd);
  }
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r((code = c))));
  const d: TestDaemon = {
    pid: child.pid!,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    alive: () => code === undefined,
    exited,
    stop: async (opts = {}) => {
      if (code === undefined) child.kill(opts.kill ? 'SIGKILL' : 'SIGTERM');
      return exited;
    },
  };
  for (let i = 0; i < 400 && code === undefined && !d.log().includes('hako daemon: serving'); i++) await sleep(25);
  if (!d.log().includes('hako daemon: serving') || !existsSync(join(root, 'hako.sock'))) {
    await d.stop({ kill: true });
    throw new Error(`hako daemon --root ${root} did not start: ${d.log()}`);
  }
  return d;
}
