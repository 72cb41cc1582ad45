// Bundles the CLI into dist/hako.cjs. Node start-up is the floor of every hako call (and every ms
// of it costs 3-4 ms per container under containerd or podman), so:
// - CommonJS, not ESM: node 20's ESM loader costs ~6 ms more per start for the same code.
// - one file for all of hako's own code: a module that is only imported with `await import()` is
//   wrapped by esbuild so its body runs only when first imported.
// - pino, the one heavy dependency, is its own file, required on first use (a log line).
// - commander's `child_process` import (for git-style executable subcommands, which hako does not
//   use) is replaced by an empty module: loading child_process costs ~3 ms at every start.
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Modules that become their own file in dist/, required lazily from the main bundle. */
const SEPARATE = { pino: 'pino.cjs' };

const plugins = [
  {
    name: 'hako-bundle-layout',
    setup(b) {
      b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
        args.importer.includes(`${'node_modules'}/commander/`) ? { path: 'commander-no-child-process', namespace: 'hako-stub' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'hako-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
      b.onResolve({ filter: /^pino$/ }, (args) =>
        args.kind === 'dynamic-import' ? { path: `./${SEPARATE.pino}`, external: true } : undefined,
      );
    },
  },
];

export async function bundle() {
  // Built beside dist/ and renamed into it file by file: a hako started meanwhile (a test run
  // while another rebuilds) reads the old bundle or the new one, never a missing or half file.
  mkdirSync(dist, { recursive: true });
  const out = mkdtempSync(join(dist, '.build-'));
  try {
    await bundleInto(out);
    for (const name of readdirSync(out)) renameSync(join(out, name), join(dist, name));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  warmCodeCache();
}

async function bundleInto(out) {
  const pkg = (await import('../package.json', { with: { type: 'json' } })).default;
  const common = {
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'warning',
    // `await import('x')` becomes a require() inside a promise: no trip through the ESM loader.
    supported: { 'dynamic-import': false },
  };
  await build({
    ...common,
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: join(out, 'hako.cjs'),
    // koffi is a native addon: it stays a runtime require of node_modules/koffi.
    external: ['koffi'],
    plugins,
    define: {
      HAKO_VERSION: JSON.stringify(pkg.version),
      HAKO_COMMIT: JSON.stringify(gitCommit()),
      // Source files locate siblings (native/build/…) from import.meta.url; in the bundle that is dist/hako.cjs.
      'import.meta.url': '__hakoModuleUrl',
      'import.meta.dirname': '__dirname',
    },
    banner: { js: 'const __hakoModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  // The library (package.json `exports`): the lifecycle as typed functions, src/api/index.ts.
  await build({
    ...common,
    entryPoints: [join(root, 'src/api/index.ts')],
    outfile: join(out, 'api.cjs'),
    external: ['koffi'],
    plugins,
    define: {
      'import.meta.url': '__hakoModuleUrl',
      'import.meta.dirname': '__dirname',
    },
    banner: { js: 'const __hakoModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  await build({
    ...common,
    stdin: { contents: "module.exports = require('pino');", resolveDir: root, loader: 'js' },
    outfile: join(out, SEPARATE.pino),
  });
}

/**
 * Runs the fresh bundle once through bin/hako.cjs (the cold path) so that its V8 code cache (dist/hako.cjs.v8cache)
 * exists before the first real call and holds the functions of the most frequent path (state).
 */
function warmCodeCache() {
  const stateRoot = mkdtempSync(join(tmpdir(), 'hako-build-'));
  try {
    spawnSync(process.execPath, [join(root, 'bin/hako.cjs'), '--root', stateRoot, 'state', 'warm-up'], { stdio: 'ignore' });
  } finally {
    rmSync(stateRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await bundle();
