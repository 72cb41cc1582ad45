// `hako exec`: a new process inside a running (or created) container, as runc does it.
//
// The process: `--process FILE` (a process.json, checked like config.json's process), or the
// container's own config.json process with the command line's args and flags over it (runc's
// getProcess). The executor is put in the container's cgroups (or the --cgroup sub-cgroups) before
// it clones, joins the init's namespaces (those that differ from ours, read from
// /proc/<init>/ns/*), and the clone sets the process up and execs it at once (no exec fifo).
// launchPlan reads the channel until the execve closes it, so a failing execve is an error here.
//
// --detach: the pid file is written and hako exits 0; the executor is gone already, so the process
// is reparented to the caller's subreaper (containerd's shim, conmon). In the foreground the
// executor stays as the process's parent and exits with its status; hako forwards its signals to
// the process and returns that status (128+signal when killed). A terminal without
// --console-socket in the foreground is proxied by hako (terminal.ts), as for `run`.
import { fstatSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { ExecOptions } from './options.ts';
import type { Context } from './context.ts';
import { loadCgroupManager, type CgroupManager } from '../cgroups/index.ts';
import { ConfigError, HakoError, describeSystemError } from '../errors.ts';
import { compileExecPlan, EXEC_NAMESPACE_ORDER, readLsm, type ExecNamespaceType } from '../plan/index.ts';
import { cpuListMask } from '../plan/cpu-list.ts';
import { seccompFilter } from './seccomp.ts';
import { stateForInit } from './state.ts';
import { parseJson } from '../spec/json.ts';
import { validateProcess } from '../spec/load.ts';
import type { Process } from '../spec/types.ts';
import type { ContainerRecord, ProcessIdentity } from '../state/record.ts';
import { containerCgroups } from './cgroups.ts';
import { launchPlan, type LaunchedInit } from './executor.ts';
import { SignalForwarder, waitInForeground } from './foreground.ts';
import { releaseEarlySignals } from './early-signals.ts';
import { writePidFile } from './pidfile.ts';
import { isAlive } from './procfs.ts';
import { statusOf } from './status.ts';
import { TerminalProxy } from './terminal.ts';


/** The file name under /proc/<pid>/ns/ of each namespace type. */
const NS_FILE: Readonly<Record<ExecNamespaceType, string>> = {
  user: 'user',
  mount: 'mnt',
  pid: 'pid',
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
};

export async function execProcess(ctx: Context, id: string, flags: ExecOptions): Promise<number> {
  const { store, logger } = ctx;
  const record = store.read(id);
  const init = checkStatus(record, store.dir(id), flags.ignorePaused);
  if (!flags.process && flags.args.length === 0) throw new HakoError('process args cannot be empty');
  const proc = flags.process ? readProcessFile(flags.process) : processFromFlags(record, flags);
  checkConsole(proc, flags);
  checkPreservedFds(flags.preserveFds);
  const cgroups = execCgroups(record, flags.cgroups);
  const namespaces = initNamespaces(init);
  // Never run the process in the host's root: a container without a mount namespace has only its
  // init's chroot to enter (read through /proc while the init is the one checked above).
  const root = namespaces.some((ns) => ns.type === 'mount') ? undefined : `/proc/${init.pid}/root`;
  const seccomp = await seccompFilter(record.config, logger, store.root); // the container's filter, as runc
  // runtime-spec: the runtime process runs on `initial` before it joins the container's cgroup
  const initialCpus = proc.execCPUAffinity?.initial === undefined ? undefined : cpuListMask(proc.execCPUAffinity.initial, 'process.execCPUAffinity.initial');

  const foregroundTerminal = proc.terminal === true && !flags.detach && flags.consoleSocket === undefined;
  const terminal = foregroundTerminal ? await TerminalProxy.forProcess() : undefined;
  // Listening before the process exists: it may print before we would otherwise be listening.
  const forwarder = flags.detach ? undefined : new SignalForwarder(terminal !== undefined);
  if (!forwarder) void releaseEarlySignals(); // nothing to forward them to
  let launched: LaunchedInit;
  try {
    const plan = compileExecPlan(proc, {
      containerId: id,
      namespaces,
      root,
      consoleSocket: terminal?.socketPath ?? (flags.consoleSocket === undefined ? undefined : posix.resolve(flags.consoleSocket)),
      preserveFds: flags.preserveFds,
      foreground: !flags.detach,
      noNewKeyring: record.noNewKeyring === true,
      oomScoreAdj: record.config.process?.oomScoreAdj,
      seccomp,
      containerState: stateForInit(record, store.dir(id)),
      lsm: readLsm(),
    });
    for (const warning of plan.warnings) logger.warn(warning);
    launched = await launchPlan(plan, {
      stdio: [0, 1, 2],
      preserveFds: flags.preserveFds,
      onSpawned: async (executorPid) => {
        // The namespaces are the init's: it must still be the one we checked (not a recycled pid).
        if (!isAlive(init)) throw new HakoError('cannot exec in a stopped container');
        if (initialCpus) {
          const { setAffinity } = await import('../linux/sched.ts');
          await setAffinity(executorPid, initialCpus).catch((err: Error) => {
            throw new HakoError(`process.execCPUAffinity.initial: ${err.message}`);
          });
        }
        // Before the clone: the process is in the container's cgroups from its first instruction.
        cgroups?.addProcess(executorPid);
      },
      onReport: logger.debugEnabled ? (r) => logger.debug(`exec step ${r.step} ${r.label}: ${r.op}${r.errno ? ` errno ${r.errno}` : ''}`) : undefined,
      untilExec: true,
    });
  } catch (err) {
    terminal?.close();
    forwarder?.stop();
    throw err;
  }
  logger.debug(`exec in container ${id}: process pid ${launched.initPid}`);
  if (flags.pidFile) writePidFile(flags.pidFile, launched.initPid);
  if (!forwarder) return 0;
  return waitInForeground(launched, forwarder, terminal);
}

/** runc's rules and words: created and running containers take an exec, paused ones only with --ignore-paused. */
function checkStatus(record: ContainerRecord, dir: string, ignorePaused: boolean): ProcessIdentity {
  const status = statusOf(record, dir);
  if (status === 'stopped') throw new HakoError('cannot exec in a stopped container');
  if (status === 'paused' && !ignorePaused) throw new HakoError('cannot exec in a paused container (use --ignore-paused to override)');
  if (status === 'creating' || !record.init) throw new HakoError('cannot exec in a container that is being created');
  return record.init;
}

/** runc's checkTerminal, with runc's words. */
function checkConsole(proc: Process, flags: ExecOptions): void {
  const terminal = proc.terminal === true;
  if (flags.detach && terminal && flags.consoleSocket === undefined) {
    throw new HakoError('cannot allocate tty if hako will detach without setting console socket');
  }
  if ((!flags.detach || !terminal) && flags.consoleSocket !== undefined) {
    throw new HakoError('cannot use console socket if hako will not detach or allocate tty');
  }
}

function checkPreservedFds(n: number): void {
  for (let i = 0; i < n; i++) {
    try {
      fstatSync(3 + i);
    } catch (err) {
      throw new HakoError(`unable to stat preserved-fd ${i} (of ${n}): ${describeSystemError(err)}`, { cause: err });
    }
  }
}

/** `--process FILE`: parsed and checked; errors name `process.json` and the field. */
export function readProcessFile(path: string): Process {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`process.json: cannot read ${path}: ${describeSystemError(err)}`], { cause: err });
  }
  return validateProcess(parseJson(text, 'process.json'), 'process.json');
}

function parseId(text: string, what: 'uid' | 'gid'): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 0xffffffff) throw new HakoError(`parsing ${text} as int for ${what} failed: invalid syntax`);
  return n;
}

/** The container's process with the command line over it, field by field as runc's getProcess. */
export function processFromFlags(record: ContainerRecord, flags: ExecOptions): Process {
  const base = record.config.process;
  if (!base) throw new HakoError('the container has no process in its config.json to start from (use --process)');
  const p = structuredClone(base);
  p.args = [...flags.args];
  if (flags.cwd) p.cwd = flags.cwd;
  if (flags.apparmor) p.apparmorProfile = flags.apparmor;
  if (flags.processLabel) p.selinuxLabel = flags.processLabel;
  if (flags.caps.length > 0) {
    // runc 1.1 adds them to the bounding, effective and permitted sets (its ambient raise fails
    // silently without inheritable, so the process never gets them as ambient).
    const caps = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), ...flags.caps];
  }
  p.env = [...(p.env ?? []), ...flags.env];
  p.terminal = flags.tty ?? false;
  if (flags.noNewPrivs) p.noNewPrivileges = true;
  if (flags.user) {
    const [uid, gid] = flags.user.split(/:(.*)/s, 2) as [string, string | undefined];
    p.user = { ...p.user, uid: parseId(uid, 'uid'), gid: gid === undefined ? (p.user?.gid ?? 0) : parseId(gid, 'gid') };
  }
  if (flags.additionalGids.length > 0) {
    const gids = flags.additionalGids.map((g) => {
      if (!/^-?\d+$/.test(g)) throw new HakoError(`invalid value ${JSON.stringify(g)} for flag --additional-gids: must be an integer`);
      if (Number(g) < 0) throw new HakoError(`additional-gids must be a positive number ${g}`);
      return parseId(g, 'gid');
    });
    p.user = { uid: p.user?.uid ?? 0, gid: p.user?.gid ?? 0, ...p.user, additionalGids: [...(p.user?.additionalGids ?? []), ...gids] };
  }
  return validateProcess(p, 'exec');
}

/**
 * runc's --cgroup: `PATH` (every hierarchy) or `CONTROLLER[,CONTROLLER]:PATH`, a path under the
 * container's cgroup. Returns controller ('' for all) → path.
 */
export function parseSubCgroups(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const arg of args) {
    const parts = arg.split(':');
    if (parts.length > 2) throw new HakoError(`invalid --cgroup argument: ${arg}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw new HakoError(`invalid --cgroup argument: ${arg} (missing <controller>: prefix)`);
      out.set('', arg);
    } else {
      for (const ctrl of parts[0]!.split(',')) out.set(ctrl, parts[1]!);
    }
  }
  return out;
}

function subCgroup(base: string, add: string): string {
  const path = posix.join(base, add);
  if (path !== base && !path.startsWith(`${base}/`)) throw new HakoError(`${add} is not a sub cgroup path`);
  return path;
}

/** The cgroups the process joins: the container's, or its --cgroup sub-cgroups (which must exist). */
function execCgroups(record: ContainerRecord, args: readonly string[]): CgroupManager | undefined {
  const cgroups = containerCgroups(record);
  if (args.length === 0 || !cgroups) return cgroups;
  const subs = parseSubCgroups(args);
  const paths: Record<string, string> = { ...cgroups.paths };
  const all = subs.get('');
  if (all !== undefined) {
    for (const key of Object.keys(paths)) paths[key] = subCgroup(paths[key]!, all);
  } else {
    for (const [ctrl, add] of subs) {
      const base = paths[ctrl];
      if (base === undefined) throw new HakoError(`unknown controller ${ctrl} in --cgroup`);
      // co-mounted controllers (cpu,cpuacct) share a directory: move every key that names it
      for (const [key, dir] of Object.entries(cgroups.paths)) if (dir === base) paths[key] = subCgroup(base, add);
    }
  }
  return loadCgroupManager({ mode: cgroups.mode, paths, created: [] });
}

function nsInode(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * The init's namespaces that are not ours (joining one's own user namespace is EINVAL; the rest
 * would be no-ops). Read while the init is the one recorded, so they are the container's.
 */
function initNamespaces(init: ProcessIdentity): { type: ExecNamespaceType; path: string }[] {
  const out: { type: ExecNamespaceType; path: string }[] = [];
  for (const type of EXEC_NAMESPACE_ORDER) {
    const path = `/proc/${init.pid}/ns/${NS_FILE[type]}`;
    const theirs = nsInode(path);
    const ours = nsInode(`/proc/self/ns/${NS_FILE[type]}`);
    if (theirs === undefined && ours === undefined) continue; // a kernel without this namespace type
    if (theirs === undefined) throw new HakoError('cannot exec in a stopped container');
    if (theirs !== ours) out.push({ type, path });
  }
  if (!isAlive(init)) throw new HakoError('cannot exec in a stopped container');
  return out;
}
