// The library's declarations (package.json `exports` → types): tsc's declaration emit of
// src/api/index.ts and what it reaches, into dist/types/. Skipped when no source changed since.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/types/api/index.d.ts');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export async function buildTypes() {
  if (existsSync(entry) && statSync(entry).mtimeMs >= newest(join(root, 'src'))) return;
  const config = join(root, 'dist/.tsconfig.types.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: '../tsconfig.json',
      compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: './types', rootDir: '../src' },
      include: [],
      files: ['../src/api/index.ts'],
    }),
  );
  // Type errors are `npm run typecheck`'s business: tsc writes the declarations anyway.
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], { stdio: 'pipe' });
  } catch (err) {
    if (!existsSync(entry)) throw new Error(`tsc wrote no ${entry}: ${err.stdout ?? err.message}`, { cause: err });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await buildTypes();
