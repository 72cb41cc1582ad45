import type { Command } from 'commander';
import { out } from '../../io.ts';
import { contextOf } from '../context.ts';

export function defineStateCommand(program: Command): void {
  program
    .command('state')
    .description('output the state of a container (OCI state JSON)')
    .argument('<container-id>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { containerState } = await import('../../runtime/state.ts');
      out(`${JSON.stringify(containerState(contextOf(cmd), id), null, 2)}\n`);
    });
}
