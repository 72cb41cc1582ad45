// linux.seccomp → the BPF the executor loads: compiled (src/plan/seccomp.ts), built with
// libseccomp (src/linux/seccomp.ts). Done before anything is created, so a bad profile leaves
// nothing behind.
import { resolve } from 'node:path';
import type { Logger } from '../log/logger.ts';
import type { SeccompFilter } from '../plan/types.ts';
import type { Spec } from '../spec/types.ts';

export async function seccompFilter(config: Spec, logger: Logger): Promise<SeccompFilter | undefined> {
  const seccomp = config.linux?.seccomp;
  if (seccomp === undefined) return undefined;
  const { compileSeccomp } = await import('../plan/seccomp.ts');
  const { buildSeccompFilter } = await import('../linux/seccomp.ts');
  const program = compileSeccomp(seccomp);
  const built = await buildSeccompFilter(program);
  for (const s of built.skipped) logger.debug(`linux.seccomp rule skipped: ${s}`);
  const listener = program.notify ? { path: resolve(seccomp.listenerPath!), metadata: seccomp.listenerMetadata ?? '' } : undefined;
  return { bpf: built.bpf, flags: program.flags, ...(listener ? { listener } : {}) };
}
