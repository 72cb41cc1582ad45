import type { Command } from 'commander';
import { contextOf, setExitCode } from '../context.ts';

export function defineDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a demo container: a busybox bundle from the embedded default spec, in a temporary folder')
    .action(async (_opts: unknown, cmd: Command) => {
      const { runDemo } = await import('../../runtime/demo.ts');
      setExitCode(await runDemo(contextOf(cmd)));
    });
}
