// What every command gets: the global flags, the logger and the state store. One invocation at a
// time: a cold hako runs one, the daemon (src/daemon/) runs its callers' one after another and
// starts each with beginInvocation().
import type { Command } from 'commander';
import { Logger } from '../log/logger.ts';
import type { Context, GlobalOptions } from '../runtime/context.ts';
import { StateStore } from '../state/store.ts';

export const DEFAULT_ROOT = '/run/hako';

interface Invocation {
  context?: Context;
  exitCode?: number;
  /** The process on whose behalf this runs (the daemon's caller); this process when cold. */
  callerPid?: number;
}

let current: Invocation = {};

/** Forgets the previous invocation's context and exit code. */
export function beginInvocation(callerPid?: number): void {
  current = { callerPid };
}

/** The context of this invocation, built from the global flags on first use. */
export function contextOf(cmd: Command): Context {
  if (current.context) return current.context;
  const opts = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  const globals: GlobalOptions = {
    root: opts.root ?? DEFAULT_ROOT,
    log: opts.log,
    logFormat: opts.logFormat === 'json' ? 'json' : 'text',
    debug: Boolean(opts.debug),
    systemdCgroup: Boolean(opts.systemdCgroup),
    rootless: opts.rootless,
  };
  current.context = {
    globals,
    logger: new Logger({ file: globals.log, format: globals.logFormat, debug: globals.debug }),
    store: new StateStore(globals.root),
    ...(current.callerPid === undefined ? {} : { callerPid: current.callerPid }),
  };
  return current.context;
}

/** The context if one was built (used by the error path in main). */
export function existingContext(): Context | undefined {
  return current.context;
}

/** A command's exit status other than 0 (run and exec pass on their process's). */
export function setExitCode(code: number): void {
  current.exitCode = code;
}

export function exitCodeSet(): number | undefined {
  return current.exitCode;
}
