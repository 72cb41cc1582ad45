import type { Command } from 'commander';
import { HakoError } from '../../errors.ts';

export function defineSpecCommand(program: Command): void {
  program
    .command('spec')
    .description('create a new specification file (config.json) in the bundle directory')
    .option('-b, --bundle <path>', 'path to the root of the bundle directory', '.')
    .option('--rootless', 'generate a configuration for a rootless container')
    .action(async (opts: { bundle: string; rootless?: boolean }) => {
      const { existsSync, writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { hostDefaultSpec } = await import('../../runtime/spec.ts');
      const path = join(opts.bundle, 'config.json');
      if (existsSync(path)) throw new HakoError(`file ${path} exists: remove it first`);
      writeFileSync(path, `${JSON.stringify(hostDefaultSpec({ rootless: opts.rootless }), null, '\t')}\n`, { mode: 0o666 });
    });
}
