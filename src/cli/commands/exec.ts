import { Option, type Command } from 'commander';
import { NotImplementedError } from '../../errors.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

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
    .action(() => {
      throw new NotImplementedError('exec (running a new process in a container)');
    });
}
