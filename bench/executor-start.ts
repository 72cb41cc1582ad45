// What the executor's own start costs, sealed copy included (docs/SECURITY.md, CVE-2019-5736):
// it copies itself into a sealed memfd and re-executes from it before reading its plan.
//   npm run bench:executor -- [--runs N] [--baseline-executor PATH]
// Each run starts hako-executor with an fd that is no socket: it makes its sealed copy, re-execs,
// fails to read a plan and exits, which is the whole fixed cost before a plan's first step.
// --baseline-executor: another build to compare with (an executor from before the sealed copy
// gives the copy's price as the difference).
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleave, table, timeOnce, type BenchCase } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 200);
const executor = join(root, 'native/build/hako-executor');
const baseline = arg('--baseline-executor');
const notASocket = openSync('/dev/null', 'r');
const start = (path: string) => () => timeOnce([path, '3'], { stdio: ['ignore', 'ignore', 'ignore', notASocket] }).ms;

const cases: BenchCase[] = [
  { name: '/bin/true (an exec, the floor)', run: () => timeOnce(['/bin/true']).ms },
  { name: 'hako-executor (sealed copy + re-exec)', run: start(executor) },
];
if (baseline) cases.push({ name: `baseline ${baseline}`, run: start(baseline) });

try {
  const samples = interleave(cases, runs);
  console.log(`executor start, ${runs} interleaved runs each, ${new Date().toISOString()}`);
  console.log(table(samples, '/bin/true (an exec, the floor)'));
} finally {
  closeSync(notASocket);
}
