import type { Command } from 'commander';
import { contextOf } from '../context.ts';

export function defineUpdateCommand(program: Command): void {
  const cmd = program
    .command('update')
    .description('update container resource constraints')
    .argument('<container-id>')
    .option('-r, --resources <path>', 'path to a LinuxResources JSON file, or - for stdin');
  for (const [flag, help] of [
    ['blkio-weight', 'block IO weight (10-1000)'],
    ['cpu-period', 'CPU CFS period in microseconds'],
    ['cpu-quota', 'CPU CFS quota in microseconds'],
    ['cpu-share', 'CPU shares (relative weight)'],
    ['cpu-rt-period', 'CPU realtime period in microseconds'],
    ['cpu-rt-runtime', 'CPU realtime runtime in microseconds'],
    ['cpuset-cpus', 'CPUs to use'],
    ['cpuset-mems', 'memory nodes to use'],
    ['kernel-memory', 'kernel memory limit (ignored, as by runc)'],
    ['kernel-memory-tcp', 'kernel TCP memory limit (ignored, as by runc)'],
    ['memory', 'memory limit in bytes'],
    ['memory-reservation', 'memory reservation (soft limit) in bytes'],
    ['memory-swap', 'memory + swap limit in bytes'],
    ['pids-limit', 'maximum number of pids'],
    ['l3-cache-schema', 'intel RDT L3 cache schema'],
    ['mem-bw-schema', 'intel RDT memory bandwidth schema'],
  ] as const) {
    cmd.option(`--${flag} <value>`, help);
  }
  cmd.action(async (id: string, opts: Record<string, string | undefined>, command: Command) => {
    const { updateContainer } = await import('../../runtime/update.ts');
    await updateContainer(contextOf(command), id, opts);
  });
}
