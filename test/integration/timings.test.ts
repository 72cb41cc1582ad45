// --timings and --debug for real: a create and a run of a busybox bundle, with the real bin/hako,
// report node's phases and the executor's timed steps, and node's phases add up to the call's
// wall time as the test measured it (roughly: the test's clock also counts the fork and exec of
// node). No assertion on speed.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { hako, hakoDetached } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

const root = `/run/hako-test-timings-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const ids: string[] = [];
const bundles: TestBundle[] = [];
let n = 0;

function newContainer(): { id: string; bundle: TestBundle } {
  const id = `tm-${process.pid}-${n++}`;
  const bundle = makeBundle(id);
  ids.push(id);
  bundles.push(bundle);
  return { id, bundle };
}

const rt = (...args: string[]) => hako(['--root', root, ...args]);

interface Report {
  total: number;
  /** node's groups: total and phases */
  node: Map<string, { ms: number; items: { ms: number; name: string }[] }>;
  executor: Map<string, { ms: number; items: { ms: number; name: string }[] }>;
}

/** Parses what --timings printed (src/runtime/timings.ts render()). */
function parseReport(text: string): Report {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => / ms from node's start/.test(l));
  expect(head, text).toBeGreaterThanOrEqual(0);
  const report: Report = { total: Number(/: ([\d.]+) ms from node's start/.exec(lines[head]!)![1]), node: new Map(), executor: new Map() };
  let section: Map<string, { ms: number; items: { ms: number; name: string }[] }> | undefined;
  let group: { ms: number; items: { ms: number; name: string }[] } | undefined;
  for (const line of lines.slice(head + 1)) {
    if (line.startsWith('node (')) section = report.node;
    else if (line.startsWith('executor (')) section = report.executor;
    else if (section && /^\s+[\d.]+ ms {2}/.test(line)) {
      const m = /^\s+([\d.]+) ms {2}(.+?)(?: \(\d+ (?:phases|spans)\))?$/.exec(line)!;
      group = { ms: Number(m[1]), items: [] };
      section.set(m[2]!, group);
    } else if (group && /^\s+[\d.]+ {5}\S/.test(line)) {
      const m = /^\s+([\d.]+) {5}(.+)$/.exec(line)!;
      group.items.push({ ms: Number(m[1]), name: m[2]! });
    }
  }
  return report;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

beforeAll(() => mkdirSync(root, { recursive: true }));
afterEach(() => {
  for (const id of ids) if (existsSync(join(root, id))) rt('delete', '--force', id);
});
afterAll(() => {
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('--timings and --debug (root)', () => {
  it('create --timings: node phases and the executor steps with durations, adding up to the wall time', () => {
    const { id, bundle } = newContainer();
    const t0 = process.hrtime.bigint();
    const r = hakoDetached(['--root', root, 'create', '--timings', '--bundle', bundle.dir, id], bundle.dir);
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(r.status, r.stderr).toBe(0);
    const report = parseReport(r.stderr);

    // node's phases: the ones every create has, each with a duration
    for (const group of ['node', 'config', 'state', 'cgroups', 'plan', 'executor']) expect(report.node.has(group), r.stderr).toBe(true);
    const phases = [...report.node.values()].flatMap((g) => g.items.map((i) => i.name));
    expect(phases).toEqual(expect.arrayContaining(['join: the executor into its cgroups', 'spawn', 'load and validate config.json']));
    // one after the other from node's start: they add up to the total (to the printed rounding)
    const groups = sum([...report.node.values()].map((g) => g.ms));
    expect(Math.abs(groups - report.total)).toBeLessThan(0.01 * report.node.size + 0.01);
    for (const g of report.node.values()) expect(Math.abs(sum(g.items.map((i) => i.ms)) - g.ms)).toBeLessThan(0.01 * g.items.length + 0.01);
    // and to the wall time the test measured, less what comes before node's clock starts (fork, exec, the front)
    expect(report.total).toBeLessThanOrEqual(wall);
    expect(report.total).toBeGreaterThan(wall * 0.6);

    // the executor's steps, by stage, with the labels of the plan, and its phases
    const init = report.executor.get('init: steps');
    expect(init, r.stderr).toBeDefined();
    expect(init!.items.length).toBeGreaterThan(3);
    expect(init!.items.some((i) => /^root\.path: pivot_root$/.test(i.name) || /^mounts\[\d+\] \/proc: mount$/.test(i.name))).toBe(true);
    expect(report.executor.get('executor: steps before the clone')?.items.map((i) => i.name)).toContain('linux.namespaces: clone');
    expect(report.executor.get('executor: phases')?.items.map((i) => i.name)).toEqual(
      expect.arrayContaining(['waiting for the plan', "start: exec, sealed self-copy, re-exec (from node's spawn)"]),
    );
    // the executor ran inside node's wait for it (spans on the same clock)
    const executorPhases = report.executor.get('executor: phases')!.items;
    expect(sum(executorPhases.map((i) => i.ms))).toBeLessThan(report.total);
    expect(rt('delete', id).status).toBe(0);
    expect(findLeaks({ root, ids, dirs: bundles.map((b) => b.dir) })).toEqual([]);
  });

  it('run --timings: the container runs as without it, and start, run and delete are phases too', () => {
    const { id, bundle } = newContainer();
    bundle.spec.process!.args = ['sh', '-c', 'echo out'];
    bundle.save();
    const r = rt('run', '--timings', '--bundle', bundle.dir, id);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('out\n');
    const report = parseReport(r.stderr);
    for (const group of ['start', 'container', 'delete']) expect(report.node.has(group), r.stderr).toBe(true);
    expect(report.executor.get('init: steps')!.items.length).toBeGreaterThan(3);
    expect(findLeaks({ root, ids, dirs: bundles.map((b) => b.dir) })).toEqual([]);
  });

  it('without --timings nothing is printed; --debug logs each step and phase with its ms', () => {
    const { id, bundle } = newContainer();
    bundle.spec.process!.args = ['true'];
    bundle.save();
    const quiet = rt('run', '--bundle', bundle.dir, id);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');

    const debug = rt('--debug', 'run', '--bundle', bundle.dir, id);
    expect(debug.status, debug.stderr).toBe(0);
    expect(debug.stderr).toMatch(/plan step \d+ root\.path: pivot_root \(\d+\.\d{3} ms\)/);
    expect(debug.stderr).toMatch(/timing cgroups: join: the executor into its cgroups: \d+\.\d{2} ms/);
    expect(debug.stderr).toMatch(/timing executor: phases: waiting for the plan: \d+\.\d{2} ms/);
    expect(debug.stderr).not.toMatch(/from node's start/); // the report is --timings'
    expect(findLeaks({ root, ids, dirs: bundles.map((b) => b.dir) })).toEqual([]);
  });
});
