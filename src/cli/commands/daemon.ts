// `hako daemon`: the warm path (src/daemon/server.ts). Opt-in: started by the administrator or a
// service manager, never by hako itself; bin/hako works the same without it.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { contextOf, setExitCode } from '../context.ts';

export function defineDaemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('serve calls warm on <root>/hako.sock (bin/hako forwards to it; it runs in the foreground until SIGTERM)')
    .option('--verbose', 'a line on stderr per call served or sent cold')
    .action(async (opts: { verbose?: boolean }, cmd: Command) => {
      const { runDaemon, ownBuildId } = await import('../daemon/server.ts');
      const root = resolve(contextOf(cmd).globals.root);
      setExitCode(await runDaemon({ root, buildId: ownBuildId(), verbose: Boolean(opts.verbose) }));
    });
}
