// Waiting for a container process in the foreground (`run`, `exec` without --detach). The
// executor stays the process's parent and exits with its status, so the status reaches us as our
// child's exit, and the pid can't be recycled while we forward signals to it.
import { constants } from 'node:os';
import type { LaunchedInit } from './executor.ts';
import type { TerminalProxy } from './terminal.ts';
import { takeEarlySignals } from './early-signals.ts';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];

/**
 * Catches the signals hako receives from before the process exists (a caller may signal hako as
 * soon as the process prints something; those that arrived while hako loaded are taken over from
 * bin/hako), keeps them until the process runs, then forwards them to it. With hako's own
 * terminal, SIGWINCH is not forwarded: it resizes the pty, and the kernel signals the process.
 */
export class SignalForwarder {
  private pid: number | undefined;
  private delivering = false;
  private pending: NodeJS.Signals[] = [];
  private readonly signals: NodeJS.Signals[];
  private readonly handler = (signal: NodeJS.Signals) => {
    if (!this.delivering) this.pending.push(signal);
    else this.send(signal);
  };

  constructor(ownTerminal: boolean) {
    this.signals = FORWARDED.filter((s) => !(ownTerminal && s === 'SIGWINCH'));
    for (const s of this.signals) process.on(s, this.handler);
    // Listening now: bin/hako may stop catching.
    this.pending.push(...takeEarlySignals());
  }

  /** The process's pid: signals keep being held until deliver(). */
  target(pid: number): void {
    this.pid = pid;
  }

  /**
   * From now on signals go to the process; those held so far go first. Called once it runs: a
   * container's init before its execve would lose them (as pid 1 of its namespace it has no handler yet).
   */
  deliver(): void {
    this.delivering = true;
    for (const s of this.pending.splice(0)) this.send(s);
  }

  stop(): void {
    for (const s of this.signals) process.off(s, this.handler);
  }

  private send(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid!, signal);
    } catch {
      // it exited: the executor is about to report it
    }
  }
}

/**
 * Points `forwarder` at the process, attaches hako's own terminal if there is one, runs
 * `whileAttached` (run: start the container), and returns the process's exit status (128+signal
 * when a signal killed it). Stops the forwarder and closes the terminal on the way out.
 */
export async function waitInForeground(
  launched: LaunchedInit,
  forwarder: SignalForwarder,
  terminal: TerminalProxy | undefined,
  whileAttached?: () => Promise<void>,
): Promise<number> {
  forwarder.target(launched.initPid);
  try {
    await terminal?.attach();
    await whileAttached?.();
    forwarder.deliver();
    const exit = await launched.executorExit;
    await terminal?.finish();
    if (exit.code !== null) return exit.code;
    return 128 + (exit.signal ? constants.signals[exit.signal] : 0);
  } finally {
    terminal?.close();
    forwarder.stop();
  }
}
