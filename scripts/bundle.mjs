// Bundles the CLI into dist/hako.mjs. Node start-up is the floor of every hako call, so:
// one file for the common path, and code splitting so that `await import()` of heavy
// modules (pino, koffi bindings, the lifecycle) becomes a chunk loaded only when used.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export async function bundle() {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const pkg = (await import('../package.json', { with: { type: 'json' } })).default;
  await build({
    entryPoints: { hako: join(root, 'src/cli/main.ts') },
    outdir: join(root, 'dist'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // koffi is a native addon: it stays a runtime import of node_modules/koffi.
    external: ['koffi'],
    define: {
      HAKO_VERSION: JSON.stringify(pkg.version),
      HAKO_COMMIT: JSON.stringify(gitCommit()),
    },
    // CommonJS dependencies inside an ESM bundle still call require() for builtins.
    banner: { js: "import { createRequire as __hakoCreateRequire } from 'node:module'; const require = __hakoCreateRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await bundle();
