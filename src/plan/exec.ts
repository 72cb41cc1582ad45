// compileExecPlan: a process (exec --process JSON, or the container's process with the command
// line's overrides) → the steps that start it inside a running container. Pure, like compile.ts,
// whose process setup it shares (terminal, umask, rlimits, capabilities, user, cwd, fds, exec).
//
// The executor joins the init's namespaces (the user namespace first, so it holds the capabilities
// the others ask for; every ns file is opened before the first setns), then clones with no flags:
// the pid and time namespaces apply to children, so the clone is born in the container's. No mounts,
// no exec fifo: the process runs right after `ready`. An execve that fails after `ready` is still
// reported on the channel (it is closed on exec), which node reads until EOF.
import { Builder, becomeNamespaceRoot, connectConsole, connectSeccompAgent, finishProcess, joinNamespaces, oomScoreAdj, openTerminal, setUmask, SLOT } from './compile.ts';
import { HakoError } from '../errors.ts';
import type { Process } from '../spec/types.ts';
import { O } from './constants.ts';
import type { ContainerState, Plan, SeccompFilter } from './types.ts';

/** The order namespaces are joined in (runc's nsexec): user, then mount, then the rest. */
export const EXEC_NAMESPACE_ORDER = ['user', 'mount', 'pid', 'network', 'ipc', 'uts', 'cgroup', 'time'] as const;
export type ExecNamespaceType = (typeof EXEC_NAMESPACE_ORDER)[number];

/** What isn't in the process: where the container is and how this exec runs. */
export interface ExecPlanContext {
  /** Names the session keyring `_ses.<id>` the process joins, as runc does. */
  containerId: string;
  /**
   * The init's namespaces to join (`/proc/<init pid>/ns/<name>`): those that differ from the
   * runtime's own (joining one's own user namespace is EINVAL). Any order: joined in EXEC_NAMESPACE_ORDER.
   */
  namespaces: readonly { type: ExecNamespaceType; path: string }[];
  /**
   * A container without a mount namespace: its init's root (`/proc/<init pid>/root`), chrooted into
   * after the namespaces are joined (there is no mount namespace to set the root).
   */
  root?: string;
  consoleSocket?: string;
  preserveFds: number;
  /** The executor waits for the process and exits with its status. */
  foreground: boolean;
  /** The container was created with --no-new-keyring. */
  noNewKeyring: boolean;
  /** The container's process.oomScoreAdj: runc gives it to every process of the container. */
  oomScoreAdj?: number;
  /** The id maps deny setgroups (rootless). */
  rootless?: boolean;
  /** The container's seccomp filter: an exec'd process gets it too, as in runc. */
  seccomp?: SeccompFilter;
  /** For a seccomp agent (SCMP_ACT_NOTIFY): the container's state. */
  containerState?: ContainerState;
  /** The host's labelling LSMs (process.apparmorProfile, selinuxLabel). */
  lsm?: { apparmor: boolean; selinux: boolean };
}

export function compileExecPlan(proc: Process, ctx: ExecPlanContext): Plan {
  const b = new Builder();
  const warnings: string[] = [];
  const rank = (t: ExecNamespaceType) => EXEC_NAMESPACE_ORDER.indexOf(t);
  const namespaces = [...ctx.namespaces].sort((a, c) => rank(a.type) - rank(c.type));
  const userns = namespaces.some((ns) => ns.type === 'user');

  // ---- executor: oom score (before the user namespace: raising it needs the host's capability),
  // the console socket (a host path: before the container's mount namespace), the namespaces ----
  oomScoreAdj(b, ctx.oomScoreAdj, 'container process.oomScoreAdj');
  const terminal = connectConsole(b, proc, ctx.consoleSocket);
  connectSeccompAgent(b, ctx.seccomp);
  const rootSlot = SLOT.NS_BASE + namespaces.length;
  if (ctx.root !== undefined) {
    if (rootSlot >= SLOT.LISTENER) throw new HakoError('too many namespaces to join');
    // opened before the first setns, like the namespace files
    b.add('executor', 'container root', 'open', { path: ctx.root, flags: O.O_PATH | O.O_DIRECTORY, mode: 0, slot: rootSlot });
  }
  joinNamespaces(
    b,
    namespaces.map((ns) => ({ label: `container namespace ${ns.type}`, type: ns.type, path: ns.path })),
  );
  if (ctx.root !== undefined) {
    b.add('executor', 'container root', 'chroot', { root: rootSlot });
    b.add('executor', 'container root', 'close', { slot: rootSlot });
  }
  b.add('executor', 'process', 'clone', { flags: 0, foreground: ctx.foreground ? 1 : 0 });

  // ---- the process ----
  if (userns) becomeNamespaceRoot(b, 'container namespace user', ctx.rootless === true);
  b.add('init', 'process', 'setsid', {});
  if (!ctx.noNewKeyring) {
    // runc's setns init joins the container's session keyring (a new one if it can't be found); no permission change.
    b.add('init', 'session keyring', 'keyring', { name: `_ses.${ctx.containerId}`, perm: 0 });
  }
  // After setns the executor's root is the container's: /dev/ptmx is the container's.
  if (terminal) openTerminal(b, proc, SLOT.HOST, false);
  setUmask(b, proc);
  finishProcess(
    b,
    proc,
    { preserveFds: ctx.preserveFds, rootless: ctx.rootless === true, waitFifo: false, seccomp: ctx.seccomp, containerState: ctx.containerState, lsm: ctx.lsm },
    warnings,
  );

  return { steps: b.steps, foreground: ctx.foreground, preserveFds: ctx.preserveFds, warnings };
}
