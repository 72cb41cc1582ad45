// The arrows of docs/ARCHITECTURE.md point one way: cli → runtime → {spec, plan, cgroups, state, linux, log}.
// Every import of every source file (static, type-only and dynamic) is checked.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The top-level folder under src/ of every relative import of `file`. */
function importedLayers(file: string): { spec: string; layer: string }[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((spec) => ({ spec, layer: relative(src, resolve(dirname(file), spec)).split('/')[0]! }));
}

function layerOf(file: string): string {
  return relative(src, file).split('/')[0]!;
}

const lower = new Set(['spec', 'plan', 'cgroups', 'state', 'linux', 'log']);

describe('architecture', () => {
  it('finds the imports it checks', () => {
    const kill = importedLayers(join(src, 'runtime/kill.ts'));
    expect(kill.map((i) => i.layer)).toContain('errors.ts');
    expect(importedLayers(join(src, 'cli/commands/lifecycle.ts')).some((i) => i.layer === 'runtime')).toBe(true);
  });

  it('nothing outside src/cli imports from src/cli (the runtime owns its options and context)', () => {
    const wrong = sources(src)
      .filter((f) => layerOf(f) !== 'cli')
      .flatMap((f) => importedLayers(f).filter((i) => i.layer === 'cli').map((i) => `${relative(src, f)} imports ${i.spec}`));
    expect(wrong).toEqual([]);
  });

  it('spec, plan, cgroups, state, linux and log never import the runtime', () => {
    const wrong = sources(src)
      .filter((f) => lower.has(layerOf(f)))
      .flatMap((f) => importedLayers(f).filter((i) => i.layer === 'runtime' || i.layer === 'cli').map((i) => `${relative(src, f)} imports ${i.spec}`));
    expect(wrong).toEqual([]);
  });
});
