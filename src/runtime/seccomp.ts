// linux.seccomp → the BPF the executor loads: compiled (src/plan/seccomp.ts), built with
// libseccomp (src/linux/seccomp.ts). Done before anything is created, so a bad profile leaves
// nothing behind.
//
// Built filters are cached under --root as files `seccomp@bpf-<sha256>`: not folders (runc, whose
// `list` docker may run on the same root, skips anything but folders) and no container id can take it;
// keyed by the compiled rules, the architecture and the libseccomp file (path, size, mtime): a
// cache hit skips loading libseccomp and building (~25-40 ms for podman's default profile here;
// `npm run bench:seccomp`). The folder is root's, like the rest of --root.
import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { compileSeccomp, type SeccompProgram } from '../plan/seccomp.ts';
import type { SeccompFilter } from '../plan/types.ts';
import type { Spec } from '../spec/types.ts';

export const SECCOMP_CACHE_PREFIX = 'seccomp@bpf-';

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib'];

/** The libseccomp file the dynamic loader would pick, as `path size mtime`; undefined: no cache. */
function libraryIdentity(): string | undefined {
  for (const dir of LIB_DIRS) {
    try {
      const path = realpathSync(join(dir, 'libseccomp.so.2'));
      const st = statSync(path);
      return `${path} ${st.size} ${st.mtimeMs}`;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** node:crypto is loaded only here: a config without linux.seccomp (most) never pays its ~5 ms. */
async function cacheKey(program: SeccompProgram, library: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const text = JSON.stringify({ program, arch: process.arch, library }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return createHash('sha256').update(text).digest('hex');
}

export async function seccompFilter(config: Spec, logger: Logger, stateRoot?: string): Promise<SeccompFilter | undefined> {
  const seccomp = config.linux?.seccomp;
  if (seccomp === undefined) return undefined;
  const program = compileSeccomp(seccomp);
  const listener = program.notify ? { path: resolve(seccomp.listenerPath!), metadata: seccomp.listenerMetadata ?? '' } : undefined;
  const filter = (bpf: Uint8Array): SeccompFilter => ({ bpf, flags: program.flags, ...(listener ? { listener } : {}) });

  const library = stateRoot === undefined ? undefined : libraryIdentity();
  const file = library === undefined ? undefined : join(stateRoot!, SECCOMP_CACHE_PREFIX + (await cacheKey(program, library)));
  if (file) {
    try {
      const bpf = readFileSync(file);
      if (bpf.length > 0 && bpf.length % 8 === 0) {
        logger.debug(`linux.seccomp: cached filter ${file}`);
        return filter(bpf);
      }
    } catch {
      // not cached yet
    }
  }
  const { buildSeccompFilter } = await import('../linux/seccomp.ts');
  const built = await buildSeccompFilter(program);
  for (const s of built.skipped) logger.debug(`linux.seccomp rule skipped: ${s}`);
  if (file) {
    try {
      mkdirSync(stateRoot!, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, built.bpf, { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      logger.debug(`linux.seccomp: not cached: ${(err as Error).message}`);
    }
  }
  return filter(built.bpf);
}
