import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.ts';

export function defineEventsCommand(program: Command): void {
  program
    .command('events')
    .description('display container events such as OOM notifications, cpu, memory and IO usage statistics')
    .argument('<container-id>')
    .option('--interval <duration>', 'interval between statistics', '5s')
    .option('--stats', 'display the container statistics once and exit')
    .action(() => {
      throw new NotImplementedError('events (container statistics and OOM notifications)');
    });
}
