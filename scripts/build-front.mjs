// Compiles bin/hako, the front (native/front/front.c): the binary engines call. It carries a call to
// a warm `hako daemon` or runs node on bin/hako.cjs (the cold path). Built after the bundle: its
// build id is a hash of what a daemon would run (the bundle, the executor, the front itself), so a
// front never talks to a daemon of another build. The id is also written to dist/build-id, where
// the daemon reads its own at start.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCompiler } from './build-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native/front/front.c');
const out = join(root, 'bin/hako');
const stamp = join(root, 'native/build/hako-front.id');

export function buildId() {
  const hash = createHash('sha256');
  for (const f of ['dist/hako.cjs', 'native/build/hako-executor', 'native/front/front.c', 'bin/hako.cjs']) {
    hash.update(f).update('\0').update(readFileSync(join(root, f))).update('\0');
  }
  hash.update(process.execPath);
  return hash.digest('hex').slice(0, 32);
}

export async function buildFront() {
  const id = buildId();
  writeFileSync(join(root, 'dist/build-id.tmp'), `${id}\n`);
  renameSync(join(root, 'dist/build-id.tmp'), join(root, 'dist/build-id'));
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === id) return;
  const cc = findCompiler();
  // Beside bin/hako and renamed over it: a call starting meanwhile runs the old front or the new one.
  const tmp = join(root, `bin/.hako.${process.pid}`);
  const args = [
    '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-O2',
    `-DHAKO_BUILD_ID="${id}"`, `-DHAKO_NODE=${JSON.stringify(process.execPath)}`,
    '-o', tmp, source,
  ];
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    renameSync(tmp, out);
  } catch {
    rmSync(tmp, { force: true });
    throw new Error(`front: ${cc} ${args.join(' ')} failed`);
  }
  writeFileSync(stamp, id);
}

if (import.meta.url === `file://${process.argv[1]}`) await buildFront();
