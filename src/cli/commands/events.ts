// `hako events`: container statistics and OOM notifications, as runc's (one JSON object a line).
import type { Command } from 'commander';
import { contextOf } from '../context.ts';

export function defineEventsCommand(program: Command): void {
  program
    .command('events')
    .description('display container events such as OOM notifications, cpu, memory and IO usage statistics')
    .argument('<container-id>')
    .option('--interval <duration>', 'interval between statistics', '5s')
    .option('--stats', 'display the container statistics once and exit')
    .action(async (id: string, opts: { interval: string; stats?: boolean }, cmd: Command) => {
      const { containerEvents, parseDuration } = await import('../../runtime/events.ts');
      await containerEvents(contextOf(cmd), id, { stats: Boolean(opts.stats), intervalMs: parseDuration(opts.interval) });
    });
}
