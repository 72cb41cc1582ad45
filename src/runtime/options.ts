// What the lifecycle operations take. The runtime owns these; the CLI maps runc's flags onto them
// (src/cli/commands/), so the arrows point one way: cli → runtime.
import type { Timings } from './timings.ts';

/** `create` (and the create half of `run`). */
export interface CreateOptions {
  /** The bundle folder (config.json and the rootfs). */
  bundle: string;
  /** An AF_UNIX socket that receives the pty master when process.terminal is set. */
  consoleSocket?: string;
  /** Where to write the init's host pid. */
  pidFile?: string;
  /** MS_MOVE + chroot instead of pivot_root. */
  noPivot: boolean;
  noNewKeyring: boolean;
  /** How many fds after stdio (3..3+N-1) the container inherits. */
  preserveFds: number;
  /** Print the plan and run nothing. */
  dryRun: boolean;
  /** Record where the call spends its time (--timings: the CLI prints it). */
  timings?: Timings;
}

/** `run`: create and start. */
export interface RunOptions extends CreateOptions {
  /** Return once the container runs instead of waiting for it. */
  detach: boolean;
  /** Do not delete the container after it exits. */
  keep: boolean;
  noSubreaper: boolean;
}

/** `exec`: a new process in a running (or created) container. */
export interface ExecOptions {
  /** A process.json; the args and process options below are then ignored (runc). */
  process?: string;
  /** The command and its arguments (without `process`). */
  args: string[];
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** A terminal as asked (undefined: not asked, so no terminal). */
  tty?: boolean;
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  caps: string[];
  /** Set no_new_privs. */
  noNewPrivs: boolean;
  preserveFds: number;
  cgroups: string[];
  ignorePaused: boolean;
  apparmor?: string;
  processLabel?: string;
}

/** ExecOptions with runc's defaults for everything not given (the library and tests start from these). */
export function execOptions(given: Partial<ExecOptions> & { args: string[] }): ExecOptions {
  return { detach: false, env: [], additionalGids: [], caps: [], noNewPrivs: false, preserveFds: 0, cgroups: [], ignorePaused: false, ...given };
}
