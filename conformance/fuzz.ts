// Fuzzing `create`: mutations of the suite's good config (wrong types, huge and negative numbers,
// NUL, unicode and lone surrogates, nesting 20,000 deep, megabytes of text, duplicate keys,
// missing keys), each given to the runtime for real. Whatever the runtime answers, it must not hang,
// print a stack trace or leave anything behind; a refusal should name config.json and a field.
//   npm run fuzz -- --runtime PATH [--count N] [--seed S] [--jobs N]
// Seeded: the same seed gives the same inputs. `npm test` runs a CI-size count; by hand, 5,000.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Case, CaseContext, RunEnv } from './lib/case.ts';
import { cleanUpOnSignals, closeSession, openSession } from './lib/env.ts';
import { runCase } from './lib/runner.ts';
import { clone } from './lib/spec.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function deep(n: number): string {
  return '['.repeat(n) + ']'.repeat(n);
}

/** Values a field may get instead of its own (JSON texts, so some are not expressible as objects). */
const VALUES: string[] = [
  'null', 'true', 'false', '0', '-1', '-2147483649', '4294967296', '18446744073709551616', '1e308', '-1e308', '0.5',
  '""', '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"\\udfff x"', '"\u2603\u{1F600}"', '"../../../../etc/passwd"', '"/"',
  '[]', '{}', '[null]', '[1,"a",{}]', '{"a":{"b":{"c":[]}}}', JSON.stringify('x'.repeat(1 << 20)), deep(20000),
];

interface Path {
  segments: (string | number)[];
  text: string;
}

/** Every path into the config, objects and arrays alike. */
function paths(v: Json, prefix: (string | number)[] = [], out: Path[] = []): Path[] {
  if (v !== null && typeof v === 'object') {
    const entries: [string | number, Json][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of entries) {
      const segments = [...prefix, k];
      out.push({ segments, text: segments.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('').slice(1) });
      paths(x, segments, out);
    }
  }
  return out;
}

const MARK = '"__hako_fuzz_value__"';

/** One mutated config text, and the field it touched (for the naming check). */
function mutate(good: Json, rnd: () => number): { text: string; field: string; kind: string } {
  const all = paths(good);
  const p = all[Math.floor(rnd() * all.length)]!;
  const copy = clone(good) as Json;
  let parent = copy as Record<string | number, Json>;
  for (const s of p.segments.slice(0, -1)) parent = parent[s] as Record<string | number, Json>;
  const last = p.segments.at(-1)!;
  const roll = rnd();
  if (roll < 0.15 && !Array.isArray(parent)) {
    delete parent[last];
    return { text: JSON.stringify(copy), field: p.text, kind: 'missing' };
  }
  if (roll < 0.2 && !Array.isArray(parent)) {
    // a duplicate key: JSON.parse keeps the last one
    const text = JSON.stringify(copy).replace(`"${String(last)}":`, `"${String(last)}":"dup","${String(last)}":`);
    return { text, field: p.text, kind: 'duplicate-key' };
  }
  parent[last] = MARK.slice(1, -1);
  const value = VALUES[Math.floor(rnd() * VALUES.length)]!;
  return { text: JSON.stringify(copy).replace(MARK, value), field: p.text, kind: `value ${value.length > 24 ? `${value.slice(0, 20)}… (${value.length} chars)` : value}` };
}

interface Tally {
  accepted: number;
  refused: number;
  named: number;
  hung: string[];
  traces: string[];
  leftovers: string[];
}

function fuzzCase(n: number, good: Json, seed: number, tally: Tally): Case {
  const rnd = prng(seed + n * 7919);
  const m = mutate(good, rnd);
  return {
    name: `fuzz/${n} ${m.field} (${m.kind})`,
    section: 'fuzz',
    async run(t: CaseContext) {
      const id = t.newId('fz');
      const b = t.bundle(['sleep']);
      writeFileSync(join(b.dir, 'config.json'), m.text);
      b.write = () => {};
      const c = await t.tryCreate(b, { id, timeoutMs: 20_000 });
      const r = c.createResult!;
      const where = `${n} ${m.field} (${m.kind})`;
      if (r.timedOut) {
        tally.hung.push(where);
        t.fail(`create hung: ${where}`);
        return;
      }
      if (/\n\s+at .+\(.+:\d+:\d+\)/.test(r.stderr)) {
        tally.traces.push(where);
        t.fail(`a stack trace: ${r.stderr.slice(0, 300)}`);
      }
      if (r.code === 0) {
        tally.accepted++;
        return; // a valid config after all: the teardown deletes it and checks for leaks
      }
      tally.refused++;
      const top = m.field.split(/[.[]/)[0]!;
      if (r.stderr.includes('config.json') && r.stderr.includes(top)) tally.named++;
      if ((await t.rt.call(['state', id])).code === 0) {
        tally.leftovers.push(where);
        t.fail(`a refused create left a container: ${where}`);
      }
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string' },
      count: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      jobs: { type: 'string', default: '2' },
    },
  });
  if (!values.runtime) {
    console.error('usage: npm run fuzz -- --runtime PATH [--count N] [--seed S] [--jobs N]');
    return 2;
  }
  const count = Number(values.count);
  const seed = Number(values.seed);
  cleanUpOnSignals();
  const session = await openSession([values.runtime], 'conformance-fuzz');
  const env = session.envs[0] as RunEnv;
  const tally: Tally = { accepted: 0, refused: 0, named: 0, hung: [], traces: [], leftovers: [] };
  const failures: string[] = [];
  const started = Date.now();
  let good: Json = null;
  try {
    // the good config, as the suite writes it
    await runCase(env, { name: 'fuzz/good', section: 'fuzz', run: async (t) => void (good = clone(t.bundle(['sleep']).spec) as Json) }, 0);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        const r = await runCase(env, fuzzCase(i, good, seed, tally), i + 1);
        for (const f of r.failures) failures.push(f);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs) || 2) }, worker));
  } finally {
    const leaks = await closeSession(session);
    for (const l of leaks) failures.push(`leak: ${l}`);
  }
  for (const f of failures.slice(0, 20)) console.log(`FAIL: ${f}`);
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `fuzz: ${count} inputs (seed ${seed}) in ${secs} s: ${tally.refused} refused (${tally.named} naming config.json and the field's section), ${tally.accepted} accepted, ` +
      `${tally.hung.length} hung, ${tally.traces.length} stack traces, ${tally.leftovers.length + failures.filter((f) => f.startsWith('leak')).length} left something`,
  );
  console.log(`${count - Math.min(count, failures.length)} passed, ${Math.min(count, failures.length)} failed`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(2);
  },
);
