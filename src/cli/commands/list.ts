import { Option, type Command } from 'commander';
import { out } from '../../io.ts';
import { contextOf } from '../context.ts';

export function defineListCommand(program: Command): void {
  program
    .command('list')
    .description('list containers started by hako with the given --root')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-q, --quiet', 'display only container ids')
    .action(async (opts: { format: 'table' | 'json'; quiet?: boolean }, cmd: Command) => {
      const { listContainers, formatTable } = await import('../../runtime/state.ts');
      const states = listContainers(contextOf(cmd));
      if (opts.quiet) out(states.map((s) => `${s.id}\n`).join(''));
      // runc prints `null` for no containers (a nil Go slice); clients are written against that.
      else if (opts.format === 'json') out(`${JSON.stringify(states.length > 0 ? states : null)}\n`);
      else out(formatTable(states));
    });
}
