// `hako exec`: run a new process inside a running (or created) container, with runc's flags.
// Errors read `exec failed: <why>` and exit 255, as runc's do.
import { Option, type Command } from 'commander';
import { HakoError } from '../../errors.ts';
import type { ExecOptions } from '../../runtime/options.ts';
import { contextOf, setExitCode } from '../context.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new HakoError(`invalid value ${JSON.stringify(value)} for flag --preserve-fds: must be a non-negative integer`);
  return n;
}

function execOptions(args: string[], opts: Record<string, unknown>): ExecOptions {
  const strings = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
  return {
    process: opts.process as string | undefined,
    args,
    detach: Boolean(opts.detach),
    pidFile: opts.pidFile as string | undefined,
    consoleSocket: opts.consoleSocket as string | undefined,
    tty: opts.tty === undefined ? undefined : Boolean(opts.tty),
    cwd: opts.cwd as string | undefined,
    env: strings(opts.env),
    user: opts.user as string | undefined,
    additionalGids: strings(opts.additionalGids),
    caps: strings(opts.cap),
    // commander turns `--no-new-privs` into `newPrivs: false` (default true)
    noNewPrivs: opts.newPrivs === false,
    preserveFds: parseCount(String(opts.preserveFds ?? '0')),
    cgroups: strings(opts.cgroup),
    ignorePaused: Boolean(opts.ignorePaused),
    apparmor: opts.apparmor as string | undefined,
    processLabel: opts.processLabel as string | undefined,
  };
}

export function defineExecCommand(program: Command): void {
  program
    .command('exec')
    .description('execute a new process inside the container')
    .argument('<container-id>')
    .argument('[command...]', 'command and arguments (unless --process is given)')
    .passThroughOptions()
    .option('--console-socket <path>', 'path to an AF_UNIX socket which will receive the pty master')
    .option('--cwd <path>', 'current working directory in the container')
    .option('-e, --env <var>', 'set environment variables (repeatable)', collect)
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-u, --user <uid[:gid]>', 'user id (and group id) to run as')
    .option('-g, --additional-gids <gid>', 'additional gids (repeatable)', collect)
    .option('-p, --process <path>', 'path to the process.json')
    .option('-d, --detach', 'detach from the container process')
    .option('--pid-file <path>', 'file to write the process id to')
    .option('--process-label <label>', 'set the asm process label')
    .option('--apparmor <profile>', 'set the apparmor profile')
    .option('--no-new-privs', 'set the no new privileges value for the process')
    .option('-c, --cap <cap>', 'add a capability to the bounding set (repeatable)', collect)
    .addOption(new Option('--preserve-fds <n>', 'pass N additional file descriptors to the process').default('0'))
    .option('--cgroup <path>', 'run in a sub-cgroup (repeatable)', collect)
    .option('--ignore-paused', 'allow exec in a paused container')
    .action(async (id: string, command: string[], opts: Record<string, unknown>, cmd: Command) => {
      try {
        const options = execOptions(command, opts);
        const { execProcess } = await import('../../runtime/exec.ts');
        setExitCode(await execProcess(contextOf(cmd), id, options));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (!(err instanceof HakoError)) throw err; // a bug: main shows its stack
        throw new HakoError(`exec failed: ${message}`, { exitCode: 255, cause: err });
      }
    });
}
