// Compiles the C programs with the system C compiler. No prebuilt binaries, no downloads.
// Each target: a list of sources, an output path and extra flags. A target is rebuilt
// when any of its sources (or headers in its folder) is newer than its output.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const nativeTargets = [
  // The executor: runs a plan inside the new namespaces (see native/README.md).
  { name: 'hako-executor', dir: 'native/executor', out: 'native/build/hako-executor', flags: ['-O2'] },
  // The executor's channel (a SOCK_SEQPACKET socketpair) for node, without loading koffi: a Node-API addon.
  { name: 'chanpair', dir: 'native/chanpair', out: 'native/build/hako-chanpair.node', flags: ['-O2', '-shared', '-fPIC'] },
  // The conformance probe: a static binary placed in test rootfs to report what a container sees.
  { name: 'probe', dir: 'conformance/probe', out: 'conformance/build/probe', flags: ['-O2', '-static'] },
];

export function findCompiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return cc;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'no C compiler found (tried $CC, cc, gcc, clang). hako compiles its executor from native/ at install time: ' +
      'install one, e.g. `apt-get install gcc libc6-dev`, then run `npm run build`.',
  );
}

function newestMtime(dir) {
  let newest = 0;
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.c') || f.endsWith('.h')) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  }
  return newest;
}

export async function buildNative() {
  let cc;
  for (const t of nativeTargets) {
    const dir = join(root, t.dir);
    if (!existsSync(dir)) continue;
    const sources = readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));
    if (sources.length === 0) continue;
    const out = join(root, t.out);
    if (existsSync(out) && statSync(out).mtimeMs >= newestMtime(dir)) continue;
    cc ??= findCompiler();
    mkdirSync(dirname(out), { recursive: true });
    const args = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', ...t.flags, '-o', out, ...sources];
    try {
      execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    } catch {
      throw new Error(`${t.name}: ${cc} ${args.join(' ')} failed`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await buildNative();
