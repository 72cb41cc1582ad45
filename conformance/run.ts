// The OCI runtime conformance suite.
//   npm run conformance -- --runtime /usr/sbin/runc [--filter REGEX] [--format tap|table|json]
//                          [--compare /path/to/other] [--expected-failures FILE] [--jobs N] [--list]
// The last line printed is always `N passed, M failed[, K skipped]`; the exit status is non-zero when
// a case fails that is neither a known deviation of this runtime nor listed in --expected-failures.
import { parseArgs } from 'node:util';
import { allCases } from './cases/index.ts';
import type { Case } from './lib/case.ts';
import { compareResults } from './lib/compare.ts';
import type { Difference } from './lib/compare.ts';
import { cleanUpOnSignals, closeSession, openSession } from './lib/env.ts';
import type { Format } from './lib/report.ts';
import { count, footer, summaryLine, table, tapHeader, tapLine } from './lib/report.ts';
import type { CaseResult } from './lib/runner.ts';
import { isUnexcusedFailure, readExpectedFailures, runCase, runCases } from './lib/runner.ts';

const USAGE = `usage: npm run conformance -- --runtime PATH [--filter REGEX] [--format tap|table|json]
       [--compare PATH] [--expected-failures FILE] [--jobs N] [--list]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string' },
      filter: { type: 'string' },
      format: { type: 'string', default: 'tap' },
      compare: { type: 'string' },
      'expected-failures': { type: 'string' },
      jobs: { type: 'string', default: '2' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const filter = values.filter ? new RegExp(values.filter) : undefined;
  const cases: Case[] = allCases.filter((c) => !filter || filter.test(c.name));
  if (values.list) {
    for (const c of cases) console.log(`${c.name}\t${c.section}`);
    return 0;
  }
  if (!values.runtime) {
    console.error(USAGE);
    return 2;
  }
  const format = values.format as Format;
  if (!['tap', 'table', 'json'].includes(format)) {
    console.error(`unknown format ${format}\n${USAGE}`);
    return 2;
  }
  const expected = values['expected-failures'] ? readExpectedFailures(values['expected-failures']) : undefined;
  const jobs = Math.max(1, Number(values.jobs) || 1);
  if (process.getuid?.() !== 0) {
    console.error('the conformance suite needs root (it creates containers)');
    return 2;
  }

  cleanUpOnSignals();
  const bins = [values.runtime, ...(values.compare ? [values.compare] : [])];
  const session = await openSession(bins);
  const [envA, envB] = session.envs;
  if (!envA) return 2;
  let results: CaseResult[];
  const diffs: Difference[] = [];
  try {
    if (format === 'tap') {
      console.log(tapHeader(cases.length, envA.bin, session.versions.get(envA) ?? ''));
      if (envB) console.log(`# compared with: ${envB.bin} (${session.versions.get(envB) ?? ''})`);
    }
    const onResult = (r: CaseResult, d?: Difference): void => {
      if (format !== 'tap') return;
      console.log(tapLine(r));
      for (const l of d?.lines ?? []) console.log(`# differs from ${envB?.bin}: ${l}`);
    };
    if (!envB) {
      results = await runCases(envA, cases, { jobs, expectedFailures: expected, onResult: (r) => onResult(r) });
    } else {
      // Compare: each case runs on A, then on B; a worker pool over cases, results printed in order.
      const done: { a: CaseResult; d?: Difference }[] = [];
      let next = 0;
      let emitted = 0;
      const worker = async (): Promise<void> => {
        while (next < cases.length) {
          const i = next++;
          const c = cases[i] as Case;
          const a = await runCase(envA, c, i + 1, expected);
          const b = await runCase(envB, c, i + 1);
          const d = compareResults(a, envA, b, envB);
          done[i] = { a, d };
          if (d) diffs.push(d);
          while (emitted < cases.length && done[emitted]) {
            const x = done[emitted++] as { a: CaseResult; d?: Difference };
            onResult(x.a, x.d);
          }
        }
      };
      await Promise.all(Array.from({ length: jobs }, worker));
      results = done.map((x) => x.a);
    }
  } finally {
    const left = await closeSession(session);
    if (left.length) {
      const line = `# removed at the end of the run: ${left.join('; ')}`;
      if (format === 'json') console.error(line);
      else console.log(line);
    }
  }

  const counts = count(results);
  if (format === 'table') {
    console.log(`runtime: ${envA.bin} (${session.versions.get(envA) ?? ''})`);
    console.log(table(results));
    for (const d of diffs) for (const l of d.lines) console.log(`differs: ${d.name}: ${l}`);
    for (const l of footer(results, '')) console.log(l);
  } else if (format === 'json') {
    console.log(
      JSON.stringify({
        runtime: envA.bin,
        kind: envA.kind,
        version: session.versions.get(envA),
        compare: envB ? { runtime: envB.bin, kind: envB.kind, version: session.versions.get(envB), differences: diffs } : undefined,
        counts,
        results: results.map((r) => ({ ...r })),
      }),
    );
  } else {
    if (envB) console.log(`# ${diffs.length} case(s) differ between the two runtimes`);
    for (const l of footer(results)) console.log(l);
  }
  console.log(summaryLine(counts));
  return results.some(isUnexcusedFailure) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(2);
  },
);
