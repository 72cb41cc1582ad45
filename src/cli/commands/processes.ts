import { Option, type Command } from 'commander';
import { contextOf } from '../context.ts';

export function defineProcessCommands(program: Command): void {
  program
    .command('ps')
    .description('display the processes running inside a container')
    .argument('<container-id>')
    .argument('[ps-options...]', 'options passed to ps(1) for the table format')
    .passThroughOptions()
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (id: string, psArgs: string[], opts: { format: 'table' | 'json' }, cmd: Command) => {
      const { containerProcesses } = await import('../../runtime/ps.ts');
      await containerProcesses(contextOf(cmd), id, opts.format, psArgs);
    });
}
