// Output formats: TAP (streamed, one line per case as it finishes, in order), a table, or one JSON
// line. Whatever the format, the last line is the count: `N passed, M failed[, K skipped]`.
import type { CaseResult } from './runner.ts';

export type Format = 'tap' | 'table' | 'json';

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export function count(results: CaseResult[]): Counts {
  return {
    passed: results.filter((r) => r.outcome === 'pass').length,
    failed: results.filter((r) => r.outcome === 'fail').length,
    skipped: results.filter((r) => r.outcome === 'skip').length,
  };
}

export function summaryLine(c: Counts): string {
  return `${c.passed} passed, ${c.failed} failed${c.skipped > 0 ? `, ${c.skipped} skipped` : ''}`;
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

/** One TAP test line (plus a YAML block for failures). */
export function tapLine(r: CaseResult): string {
  let line: string;
  if (r.outcome === 'skip') line = `ok ${r.index} - ${r.name} # SKIP ${r.skipReason ?? ''}`;
  else if (r.outcome === 'pass') line = `ok ${r.index} - ${r.name}${r.fixed ? ' # fixed: listed in expected failures, remove it from the list' : ''}`;
  else if (r.deviation) line = `not ok ${r.index} - ${r.name} # TODO known runtime deviation: ${r.deviation.behaviour}`;
  else if (r.expected) line = `not ok ${r.index} - ${r.name} # TODO expected failure`;
  else line = `not ok ${r.index} - ${r.name}`;
  if (r.outcome !== 'fail') return line;
  const y = ['  ---', `  section: ${yamlString(r.section)}`];
  if (r.deviation) y.push(`  spec: ${yamlString(r.deviation.spec)}`);
  else if (r.spec) y.push(`  spec: ${yamlString(r.spec)}`);
  y.push('  failures:');
  for (const f of r.failures.slice(0, 20)) y.push(`    - ${yamlString(f.slice(0, 2000))}`);
  y.push('  ...');
  return [line, ...y].join('\n');
}

export function tapHeader(total: number, runtime: string, version: string): string {
  return ['TAP version 13', `# runtime: ${runtime} (${version})`, `1..${total}`].join('\n');
}

/** The lines printed after the results, before the count: deviations, skips, fixed entries, failures. */
export function footer(results: CaseResult[], prefix = '# '): string[] {
  const out: string[] = [];
  const devs = results.filter((r) => r.deviation);
  if (devs.length) {
    out.push(`${prefix}known runtime deviations (failed, not counted against the run):`);
    for (const r of devs) out.push(`${prefix}  ${r.name}: ${r.deviation?.behaviour} (spec: ${r.deviation?.spec})`);
  }
  const gone = results.filter((r) => r.deviationGone);
  for (const r of gone) out.push(`${prefix}deviation not seen: ${r.name} passed although it is marked as a known deviation`);
  const skips = results.filter((r) => r.outcome === 'skip');
  if (skips.length) {
    out.push(`${prefix}skipped:`);
    for (const r of skips) out.push(`${prefix}  ${r.name}: ${r.skipReason}`);
  }
  const expected = results.filter((r) => r.expected);
  if (expected.length) out.push(`${prefix}expected failures: ${expected.length}`);
  for (const r of results.filter((x) => x.fixed)) out.push(`${prefix}fixed: ${r.name} now passes, remove it from the expected-failures list`);
  const bad = results.filter((r) => r.outcome === 'fail' && !r.deviation && !r.expected);
  if (bad.length) {
    out.push(`${prefix}failed:`);
    for (const r of bad) out.push(`${prefix}  ${r.name}: ${(r.failures[0] ?? '').slice(0, 300)}`);
  }
  return out;
}

export function table(results: CaseResult[]): string {
  const rows = results.map((r) => {
    const res =
      r.outcome === 'pass'
        ? r.fixed
          ? 'PASS (fixed)'
          : 'PASS'
        : r.outcome === 'skip'
          ? 'SKIP'
          : r.deviation
            ? 'FAIL (deviation)'
            : r.expected
              ? 'FAIL (expected)'
              : 'FAIL';
    const detail = r.outcome === 'skip' ? (r.skipReason ?? '') : r.outcome === 'fail' ? (r.deviation?.behaviour ?? r.failures[0] ?? '') : '';
    return [String(r.index), res, r.name, `${Math.round(r.ms)}ms`, detail.replace(/\s+/g, ' ').slice(0, 160)];
  });
  const head = ['#', 'result', 'case', 'time', 'detail'];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}
