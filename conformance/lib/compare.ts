// --compare: the same case on two runtimes, then a diff of what each showed (observations with run
// specific names, ids and pids normalised away), plus the outcome and the call summary.
import type { RunEnv } from './case.ts';
import type { CaseResult } from './runner.ts';

function normaliseString(s: string, env: RunEnv): string {
  return s
    .split(env.runDir)
    .join('<run>')
    .split(env.root)
    .join('<root>')
    .split(env.cgroupParent)
    .join('<cgroup-parent>')
    .replace(/hc-[a-z]+\d+-[a-z]+\d+/g, '<id>')
    .replace(/case-[a-z]+-\d+/g, '<case>');
}

export function normalise(v: unknown, env: RunEnv, key = ''): unknown {
  if (typeof v === 'string') return normaliseString(v, env);
  if (typeof v === 'number' && /(^|[^a-z])pid$/i.test(key)) return '<pid>';
  if (Array.isArray(v)) return v.map((x) => normalise(x, env, key));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[normaliseString(k, env)] = normalise(x, env, k);
    return out;
  }
  return v;
}

function diffInto(a: unknown, b: unknown, path: string, out: string[]): void {
  if (out.length > 40) return;
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b);
  if (bothObjects) {
    const ka = a as Record<string, unknown>;
    const kb = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(ka), ...Object.keys(kb)])].sort()) diffInto(ka[k], kb[k], path ? `${path}.${k}` : k, out);
    return;
  }
  const show = (x: unknown): string => (x === undefined ? '(absent)' : JSON.stringify(x).slice(0, 300));
  out.push(`${path || '(root)'}: ${show(a)} vs ${show(b)}`);
}

export interface Difference {
  name: string;
  lines: string[];
}

export function compareResults(a: CaseResult, envA: RunEnv, b: CaseResult, envB: RunEnv): Difference | undefined {
  const lines: string[] = [];
  if (a.outcome !== b.outcome) lines.push(`outcome: ${a.outcome} vs ${b.outcome}`);
  diffInto(normalise(a.observations, envA), normalise(b.observations, envB), '', lines);
  return lines.length ? { name: a.name, lines } : undefined;
}
