// What every lifecycle operation gets: the global settings, the logger and the state store.
// The CLI builds it from runc's global flags (src/cli/context.ts).
import type { Logger } from '../log/logger.ts';
import type { StateStore } from '../state/store.ts';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless?: string;
}

export interface Context {
  globals: GlobalOptions;
  logger: Logger;
  store: StateStore;
  /**
   * The process this call acts for when it is not this one (the daemon's caller, src/daemon/): a
   * container's creator, the front that forks the executor.
   */
  callerPid?: number;
}
