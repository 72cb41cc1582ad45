// What every command gets: the global flags, the logger and the state store.
import type { Command } from 'commander';
import { Logger } from '../log/logger.ts';
import type { Context, GlobalOptions } from '../runtime/context.ts';
import { StateStore } from '../state/store.ts';

export const DEFAULT_ROOT = '/run/hako';

let current: Context | undefined;

/** The context of this invocation, built from the global flags on first use. */
export function contextOf(cmd: Command): Context {
  if (current) return current;
  const opts = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  const globals: GlobalOptions = {
    root: opts.root ?? DEFAULT_ROOT,
    log: opts.log,
    logFormat: opts.logFormat === 'json' ? 'json' : 'text',
    debug: Boolean(opts.debug),
    systemdCgroup: Boolean(opts.systemdCgroup),
    rootless: opts.rootless,
  };
  current = {
    globals,
    logger: new Logger({ file: globals.log, format: globals.logFormat, debug: globals.debug }),
    store: new StateStore(globals.root),
  };
  return current;
}

/** The context if one was built (used by the error path in main). */
export function existingContext(): Context | undefined {
  return current;
}
