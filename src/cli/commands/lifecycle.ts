// create, start, run, kill, delete, pause, resume: the container lifecycle.
import { Option, type Command } from 'commander';
import type { CreateOptions, RunOptions } from '../../runtime/options.ts';
import { err } from '../../io.ts';
import { contextOf, setExitCode } from '../context.ts';

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid count ${JSON.stringify(value)}: must be a non-negative integer`);
  return n;
}

function addCreateOptions(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <path>', 'path to the root of the bundle directory', '.')
    .option('--console-socket <path>', 'path to an AF_UNIX socket which will receive the pty master of the console')
    .option('--pid-file <path>', 'file to write the process id to')
    .option('--no-pivot', 'do not use pivot_root to jail the process inside the rootfs (MS_MOVE + chroot)')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .addOption(new Option('--preserve-fds <n>', 'pass N additional file descriptors to the container (3..3+N-1)').argParser(parseCount).default(0))
    .option('--dry-run', 'print the plan the bundle turns into, step by step, and run nothing')
    .option('--timings', "print to stderr where this call spent its time: node's phases and the executor's steps, top costs first");
}

/** --timings: a recorder from this process's start, and its report printed once the command is done. */
async function withTimings<T>(opts: Record<string, unknown>, title: string, fn: (options: CreateOptions) => Promise<T>): Promise<T> {
  const options = createOptions(opts);
  if (!opts.timings) return fn(options);
  const { Timings } = await import('../../runtime/timings.ts');
  const timings = new Timings();
  try {
    return await fn({ ...options, timings });
  } finally {
    err(timings.render(title));
  }
}

// commander turns `--no-pivot` into `pivot: false`; map to runc's names.
function createOptions(opts: Record<string, unknown>): CreateOptions {
  return {
    bundle: String(opts.bundle ?? '.'),
    consoleSocket: opts.consoleSocket as string | undefined,
    pidFile: opts.pidFile as string | undefined,
    noPivot: opts.pivot === false,
    noNewKeyring: opts.newKeyring === false,
    preserveFds: (opts.preserveFds as number) ?? 0,
    dryRun: Boolean(opts.dryRun),
  };
}

export function defineLifecycleCommands(program: Command): void {
  addCreateOptions(program.command('create').description('create a container').argument('<container-id>')).action(
    async (id: string, opts: Record<string, unknown>, cmd: Command) => {
      const { createContainer } = await import('../../runtime/create.ts');
      await withTimings(opts, `hako create ${id}`, (options) => createContainer(contextOf(cmd), id, options));
    },
  );

  program
    .command('start')
    .description('start a created container: executes the user-defined process')
    .argument('<container-id>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { startContainer } = await import('../../runtime/start.ts');
      await startContainer(contextOf(cmd), id);
    });

  addCreateOptions(program.command('run').description('create and start a container').argument('<container-id>'))
    .option('-d, --detach', 'detach from the container process')
    .option('--keep', 'do not delete the container after it exits')
    .option('--no-subreaper', 'accepted for compatibility (hako waits through its executor, not as a subreaper)')
    .action(async (id: string, opts: Record<string, unknown>, cmd: Command) => {
      const { runContainer } = await import('../../runtime/run.ts');
      const run = (create: CreateOptions) => {
        const options: RunOptions = { ...create, detach: Boolean(opts.detach), keep: Boolean(opts.keep), noSubreaper: opts.subreaper === false };
        return runContainer(contextOf(cmd), id, options);
      };
      setExitCode(await withTimings(opts, `hako run ${id}`, run));
    });

  program
    .command('kill')
    .description('send a signal (default SIGTERM) to the container init process')
    .argument('<container-id>')
    .argument('[signal]', 'signal name (KILL, SIGKILL) or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to all processes in the container')
    .action(async (id: string, signal: string, opts: { all?: boolean }, cmd: Command) => {
      const { killContainer } = await import('../../runtime/kill.ts');
      await killContainer(contextOf(cmd), id, signal, Boolean(opts.all));
    });

  program
    .command('delete')
    .description('delete a container and everything it holds (processes, cgroups, state)')
    .argument('<container-id>')
    .option('-f, --force', 'kill the container first if it is running or paused')
    .action(async (id: string, opts: { force?: boolean }, cmd: Command) => {
      const { deleteContainer } = await import('../../runtime/delete.ts');
      await deleteContainer(contextOf(cmd), id, Boolean(opts.force));
    });

  program
    .command('pause')
    .description('suspend all processes in the container (cgroup freezer)')
    .argument('<container-id>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { pauseContainer } = await import('../../runtime/pause.ts');
      await pauseContainer(contextOf(cmd), id);
    });

  program
    .command('resume')
    .description('resume all processes of a paused container')
    .argument('<container-id>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { resumeContainer } = await import('../../runtime/pause.ts');
      await resumeContainer(contextOf(cmd), id);
    });
}
