import type { Command } from 'commander';
import { out } from '../../io.ts';

export function defineFeaturesCommand(program: Command): void {
  program
    .command('features')
    .description('show the enabled features (runtime-spec features document)')
    .action(async () => {
      const { featuresDocument } = await import('../../spec/features.ts');
      const { seccompFeatures } = await import('../../linux/seccomp.ts');
      out(`${JSON.stringify(featuresDocument(await seccompFeatures()), null, '    ')}\n`);
    });
}
