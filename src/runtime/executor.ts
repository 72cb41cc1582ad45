// launchPlan: runs a compiled plan through native/build/hako-executor and follows its reports.
//
// node ⇄ executor is one AF_UNIX SOCK_SEQPACKET socketpair (protocol: src/plan/protocol.ts,
// native/README.md). The executor gets fds 0-2 = the container's stdio, 3..3+N-1 = the preserved
// fds and its end of the socketpair right after them (its number in argv). Node then:
//   1. calls onSpawned(executorPid) BEFORE sending the plan (the lifecycle puts the executor in the
//      container's cgroups there, so the init is in them from its first instruction);
//   2. sends the plan, one packet per step, then END;
//   3. reads packets (blocking reads, one packet each) until READY → resolves, or until EOF after
//      a failure → reaps the executor and rejects with `<label>: <call>: <strerror>`. With
//      `untilExec` (exec: no fifo) it reads on after READY until EOF, i.e. until the execve.
// Every fd node makes here is close-on-exec, and node's copy of the executor's end is closed right
// after the spawn, so once the executor and the init are gone, the read gets EOF: no hang.
import { closeSync, existsSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HakoError } from '../errors.ts';
import { errnoName } from '../linux/libc.ts';
import { seqpacketPair } from '../linux/chanpair.ts';
import { spawnDetached, type Spawned } from '../linux/spawn.ts';
import { encodePlan, packet } from '../plan/encode.ts';
import { MSG } from '../plan/protocol.ts';
import type { Plan, Stage } from '../plan/types.ts';
import type { Timings } from './timings.ts';
import { currentLauncher } from './launcher.ts';

export interface ExecutorReport {
  /** Index of the step in plan.steps. */
  step: number;
  label: string;
  /** The op's name when it worked ("skipped" when there was nothing to do), the failing call otherwise. */
  op: string;
  errno: number;
  /** When the step ran, as the executor measured it (CLOCK_MONOTONIC ns, process.hrtime's clock). */
  start: bigint;
  end: bigint;
}

/** How --timings groups the executor's steps. */
const STAGE_GROUP: Readonly<Record<Stage, string>> = {
  executor: 'executor: steps before the clone',
  parent: 'executor: steps for the init after the clone',
  init: 'init: steps',
};

export interface LaunchOptions {
  /** The container's stdin, stdout, stderr (fds of this process). */
  stdio: [number, number, number];
  /** This process's fds 3..3+preserveFds-1 reach the container as the same numbers. */
  preserveFds: number;
  /** Other fds to pass as the container's 3..3+N-1 instead of this process's own (N must equal preserveFds). */
  preservedFds?: number[];
  /** Called with the executor's pid before it receives the plan (nothing is cloned yet). */
  onSpawned?: (executorPid: number) => void | Promise<void>;
  /** Every step's outcome, in order (for --debug). */
  onReport?: (report: ExecutorReport) => void;
  /**
   * A `sync` step: the init waits until this returns (e.g. hooks run meanwhile). Throwing fails
   * the step with the error's errno (EIO by default). Without a handler a sync step fails with ENOSYS.
   */
  onSync?: (name: string, initPid: number) => void | Promise<void>;
  /** Default: native/build/hako-executor of this package. */
  executorPath?: string;
  /**
   * The plan has no exec fifo (exec): after READY keep reading until EOF, which comes when the
   * process's execve closes the channel; a failed execve is reported first and rejects.
   */
  untilExec?: boolean;
  /** Records node's phases (channel, spawn, cgroup join, …) and the executor's timed steps. */
  timings?: Timings;
}

export interface ExecutorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedInit {
  /** The init's pid in this (the host's) pid namespace; it waits on the exec fifo. */
  initPid: number;
  executorPid: number;
  /** Detached: the executor exits 0 right after READY. Foreground: it exits with the init's status (128+signal). */
  executorExit: Promise<ExecutorExit>;
}

let executorPathCache: string | undefined;

/** native/build/hako-executor, found from this module whether it runs from src/runtime/ or dist/. */
export function defaultExecutorPath(): string {
  if (executorPathCache) return executorPathCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'native', 'build', 'hako-executor');
    if (existsSync(candidate)) return (executorPathCache = candidate);
    dir = dirname(dir);
  }
  throw new HakoError('native/build/hako-executor not found: build it with `npm run build` (needs a C compiler)');
}

function errorText(errno: number): string {
  return errnoName(errno).text;
}

const READ_BUFFER = 64 * 1024;

/**
 * Starts the executor with its channel: node's child (cold), or the caller's, forked by the front
 * when the daemon serves the call (src/runtime/launcher.ts: the same fds and argv).
 */
async function startExecutor(executor: string, opts: LaunchOptions): Promise<{ mine: number; executorPid: number; executorExit: Promise<ExecutorExit> }> {
  const launcher = currentLauncher();
  if (launcher) {
    if (opts.preservedFds !== undefined || opts.stdio.some((fd, i) => fd !== i)) throw new HakoError("the daemon can hand the executor only its caller's own fds");
    const l = await launcher(executor, opts.preserveFds);
    return { mine: l.channel, executorPid: l.pid, executorExit: l.exit };
  }
  const timings = opts.timings;
  const [mine, theirs] = await seqpacketPair(dirname(executor));
  timings?.mark('executor', 'channel (socketpair)');
  const preserved = opts.preservedFds ?? Array.from({ length: opts.preserveFds }, (_, i) => 3 + i);
  if (preserved.length !== opts.preserveFds) throw new HakoError(`preservedFds: ${preserved.length} fds given for --preserve-fds=${opts.preserveFds}`);
  const chanFd = 3 + opts.preserveFds;
  let child: Spawned;
  try {
    // Its own process group and session (detached): a Ctrl-C meant for hako doesn't kill the
    // executor (in the foreground it must survive to report the init's status).
    child = await spawnDetached(executor, [String(chanFd)], [...opts.stdio, ...preserved, theirs]);
  } catch (err) {
    closeSync(mine);
    throw new HakoError(`${executor}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(theirs);
  }
  // (not unref'd: whoever awaits executorExit needs the event loop alive until the executor exits)
  return { mine, executorPid: child.pid, executorExit: child.exit };
}

/**
 * `plan` as a function: the executor is spawned first and the plan compiled while it starts up
 * (its exec and sealed self-copy take 4-10 ms); a plan that fails to compile then kills it.
 */
export async function launchPlan(planOrCompile: Plan | (() => Plan), opts: LaunchOptions): Promise<LaunchedInit> {
  const executor = opts.executorPath ?? defaultExecutorPath();
  const timings = opts.timings;
  let plan = typeof planOrCompile === 'function' ? undefined : planOrCompile;
  let packets: Buffer[] = [];
  if (plan) {
    packets = encodePlan(plan); // before anything is started: a bad plan throws here
    timings?.mark('executor', 'encode the plan');
  }
  const spawnAt = process.hrtime.bigint();
  const { mine, executorPid, executorExit } = await startExecutor(executor, opts);
  timings?.mark('executor', 'spawn');

  const abandon = async (err: unknown): Promise<never> => {
    closeSync(mine);
    try {
      process.kill(executorPid, 'SIGKILL');
    } catch {
      // gone already
    }
    await executorExit;
    throw err;
  };

  if (!plan) {
    try {
      plan = (planOrCompile as () => Plan)();
      packets = encodePlan(plan);
    } catch (err) {
      return abandon(err);
    }
    timings?.mark('executor', 'encode the plan');
  }
  const steps = plan.steps;

  try {
    await opts.onSpawned?.(executorPid);
  } catch (err) {
    return abandon(err);
  }
  timings?.mark('cgroups', 'join: the executor into its cgroups');

  for (const pkt of packets) {
    try {
      writeSync(mine, pkt);
    } catch (err) {
      // EPIPE: the executor is gone; its reports (read below) say why.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') return abandon(err);
      break;
    }
  }

  timings?.mark('executor', 'send the plan');
  const buf = Buffer.alloc(READ_BUFFER);
  let initPid = 0;
  let ready = false;
  let failure: string | undefined;
  for (;;) {
    let n: number;
    try {
      n = readSync(mine, buf, 0, buf.length, null);
    } catch (err) {
      return abandon(err);
    }
    if (n === 0) break; // EOF: the executor and the init are gone
    if (n < 8) continue;
    const type = buf.readUInt32LE(0);
    const len = buf.readUInt32LE(4);
    const body = buf.subarray(8, 8 + len);
    if (type === MSG.REPORT) {
      const step = body.readUInt32LE(0);
      const errno = body.readUInt32LE(4);
      const start = body.readBigUInt64LE(8);
      const end = body.readBigUInt64LE(16);
      const op = body.subarray(24).toString('utf8');
      const label = steps[step]?.label ?? `step ${step}`;
      opts.onReport?.({ step, label, op, errno, start, end });
      timings?.addExecutor(STAGE_GROUP[steps[step]?.stage ?? 'init'], `${label}: ${op}`, start, end);
      // a hook run by the init says itself what failed (`hooks.createContainer[0]: /x: exit status 1`)
      if (errno !== 0 && failure === undefined) failure = steps[step]?.op === 'run_hook' ? op : `${label}: ${op}: ${errorText(errno)}`;
    } else if (type === MSG.TIMING) {
      // a start of 0: since node spawned the executor (which can't know when that was)
      const start = body.readBigUInt64LE(0);
      timings?.addExecutor('executor: phases', body.subarray(16).toString('utf8'), start === 0n ? spawnAt : start, body.readBigUInt64LE(8));
    } else if (type === MSG.PID) {
      initPid = body.readUInt32LE(0);
    } else if (type === MSG.READY) {
      initPid = body.readUInt32LE(0);
      if (opts.untilExec) {
        ready = true;
        continue;
      }
      timings?.mark('executor', 'running the plan, until the init is ready');
      closeSync(mine);
      return { initPid, executorPid, executorExit };
    } else if (type === MSG.SYNC) {
      const name = body.subarray(4).toString('utf8');
      let errno = 0;
      timings?.mark('executor', 'running the plan, until the init is ready');
      if (!opts.onSync) errno = 38; // ENOSYS
      else {
        try {
          await opts.onSync(name, initPid);
        } catch (err) {
          const e = (err as NodeJS.ErrnoException).errno;
          errno = typeof e === 'number' && e !== 0 ? Math.abs(e) : 5; // EIO
        }
      }
      timings?.mark('hooks', `sync ${name}: the runtime's hooks`);
      const reply = Buffer.alloc(4);
      reply.writeUInt32LE(errno);
      try {
        writeSync(mine, packet(MSG.SYNC_REPLY, reply));
      } catch {
        // the executor died; EOF follows
      }
    } else if (type === MSG.ERROR) {
      const errno = body.readUInt32LE(0);
      if (failure === undefined) failure = `executor: ${body.subarray(4).toString('utf8')}: ${errorText(errno)}`;
    }
  }
  closeSync(mine);
  if (ready && failure === undefined) return { initPid, executorPid, executorExit };
  const exit = await executorExit;
  if (failure === undefined) {
    failure = `executor exited before the container was ready (${exit.signal ? `signal ${exit.signal}` : `status ${exit.code}`})`;
  }
  throw new HakoError(failure);
}
