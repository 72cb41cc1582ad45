#!/usr/bin/env node
// `npm test`: everything CI holds a submission to, in one command.
//   1. tsc --noEmit     2. eslint     3. vitest (unit + integration; integration needs root)
//   4. the conformance suite against runc (must pass) and against hako, cold and warm (`hako daemon`)
//      (counts; may only go up)
//   5. the bad-input corpus against hako (every bad config refused, naming the field, nothing left)
//   6. a CI-size fuzz of create against hako (no hang, no stack trace, nothing left)
//   7. a short soak against hako (injected failures, then a leak check)
// The last line is the plain total `tests: N passed, M failed, K skipped`. Conformance cases that
// fail as documented (a runtime's known deviation from the spec, or a hako feature listed as not
// built yet in conformance/expected-failures/hako.txt) don't fail the run: they are counted with
// the skipped ones, and said so in a line of their own.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules/.bin', name);
const totals = { passed: 0, failed: 0, skipped: 0 };
const known = [];
const problems = [];

function step(name, cmd, args, opts = {}) {
  console.log(`\n=== ${name}: ${[cmd, ...args].join(' ')}`);
  const env = opts.env ? { ...process.env, ...opts.env } : process.env;
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (opts.capture) process.stdout.write(r.stdout ?? '');
  if (r.status !== 0) problems.push(`${name} exited with ${r.status ?? r.signal}`);
  return r;
}

/** Adds the `N passed, M failed[, K skipped]` closing line of a runner's output to the totals. */
function countClosingLine(name, output) {
  const lines = (output ?? '').trim().split('\n');
  const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(lines[lines.length - 1] ?? '');
  if (!m) {
    problems.push(`${name}: no closing count line`);
    return;
  }
  const deviations = lines.filter((l) => /\bFAIL \(deviation\)/.test(l)).length;
  const expected = lines.filter((l) => /\bFAIL \(expected\)/.test(l)).length;
  totals.passed += Number(m[1]);
  totals.failed += Number(m[2]) - deviations - expected;
  totals.skipped += Number(m[3] ?? 0) + deviations + expected;
  if (deviations + expected > 0) known.push(`${name}: ${deviations} known deviations from the spec, ${expected} listed as not built yet`);
}

step('typecheck', bin('tsc'), ['--noEmit']);
step('lint', bin('eslint'), ['.']);

const results = join(root, '.vitest-results.json');
rmSync(results, { force: true });
step('vitest', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`]);
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += r.numPendingTests + r.numTodoTests;
  // Name each failed test again at the end, where a reader of the log's tail will see it.
  for (const file of r.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status !== 'failed') continue;
      const why = (t.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      problems.push(`vitest failed: ${file.name.slice(root.length + 1)} > ${t.fullName}: ${why}`);
    }
  }
} else {
  problems.push('vitest wrote no results');
}

const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
if (existsSync(join(root, 'conformance/run.ts'))) {
  if (runc) {
    const r = step('conformance (runc)', bin('tsx'), ['conformance/run.ts', '--runtime', runc, '--format', 'table'], { capture: true });
    countClosingLine('conformance (runc)', r.stdout);
  } else {
    problems.push('conformance: runc is not installed (apt-get install runc)');
  }
  const expected = join(root, 'conformance/expected-failures/hako.txt');
  const r = step(
    'conformance (hako)',
    bin('tsx'),
    ['conformance/run.ts', '--runtime', join(root, 'bin/hako'), '--format', 'table', ...(existsSync(expected) ? ['--expected-failures', expected] : [])],
    { capture: true },
  );
  countClosingLine('conformance (hako)', r.stdout);
  // the same suite through the warm path: a `hako daemon` for the run's --root (conformance/lib/env.ts)
  const w = step(
    'conformance (hako, warm)',
    bin('tsx'),
    ['conformance/run.ts', '--runtime', join(root, 'bin/hako'), '--format', 'table', ...(existsSync(expected) ? ['--expected-failures', expected] : [])],
    { capture: true, env: { HAKO_CONFORMANCE_WARM: '1' } },
  );
  countClosingLine('conformance (hako, warm)', w.stdout);
}

// Bad input: every invalid config must be refused, naming the field, leaving nothing (hako's bar).
if (existsSync(join(root, 'conformance/bad-input.ts'))) {
  const r = step('bad input (hako)', bin('tsx'), ['conformance/bad-input.ts', '--runtime', join(root, 'bin/hako'), '--expect-field-names'], { capture: true });
  const m = /bad-input: (\d+) inputs, (\d+) refused, (\d+) accepted, (\d+) refused without naming the field, (\d+) left something/.exec(r.stdout ?? '');
  if (m) {
    const bad = Number(m[3]) + Number(m[4]) + Number(m[5]);
    totals.failed += Math.min(bad, Number(m[1]));
    totals.passed += Math.max(0, Number(m[1]) - bad);
  } else {
    problems.push('bad input: no summary line');
  }
}

// Fuzzing at CI size: mutated configs (types, huge numbers, NUL/unicode, 20,000-deep nesting, duplicate
// keys…): no hang, no stack trace, nothing left. `npm run fuzz -- --count 5000` by hand.
if (existsSync(join(root, 'conformance/fuzz.ts'))) {
  const r = step('fuzz (hako)', bin('tsx'), ['conformance/fuzz.ts', '--runtime', join(root, 'bin/hako'), '--count', '150'], { capture: true });
  countClosingLine('fuzz (hako)', r.stdout);
}

// A short soak: lifecycles with injected failures (bad configs, a runtime killed mid-create,
// concurrent creates of one id), then a leak check. `npm run soak` runs the full 1,000.
if (existsSync(join(root, 'conformance/soak.ts'))) {
  // the round robin, then the concurrency yardstick (20 creates of one id, 50 in parallel, start/kill vs delete
  // races) and the runtime killed during start, exec and delete
  for (const [name, extra] of [
    ['soak (hako)', ['--count', '40']],
    ['soak concurrency and faults (hako)', ['--scenario', 'concurrency,faults', '--count', '7']],
  ]) {
    const r = step(name, bin('tsx'), ['conformance/soak.ts', '--runtime', join(root, 'bin/hako'), ...extra], { capture: true });
    const m = /soak: (\d+) iterations in [\d.]+ s, (\d+) unexpected, (\d+) leaks/.exec(r.stdout ?? '');
    if (m) {
      const bad = Math.min(Number(m[1]), Number(m[2]) + Number(m[3]));
      totals.passed += Number(m[1]) - bad;
      totals.failed += bad;
    } else {
      problems.push(`${name}: no summary line`);
    }
  }
}

console.log('');
for (const k of known) console.log(`counted as skipped: ${k}`);
for (const p of problems) console.log(`problem: ${p}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(problems.length > 0 ? 1 : 0);
