// The conformance runner's pure parts: result lines, counting, expected failures, comparison,
// error classes and the parsers of what the probe prints. No root, no containers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEnv } from '../../conformance/lib/case.ts';
import { errorClass, unmet } from '../../conformance/lib/case.ts';
import { compareResults, normalise } from '../../conformance/lib/compare.ts';
import { capsOf, parseMountinfo } from '../../conformance/lib/host.ts';
import type { HostInfo } from '../../conformance/lib/host.ts';
import { jsonLines, numbers, parseIdMap, parseStatus } from '../../conformance/lib/probe.ts';
import { count, footer, summaryLine, tapLine } from '../../conformance/lib/report.ts';
import type { CaseResult } from '../../conformance/lib/runner.ts';
import { isUnexcusedFailure, readExpectedFailures } from '../../conformance/lib/runner.ts';
import { commandArgs } from '../../conformance/lib/runtime.ts';
import type { CallResult } from '../../conformance/lib/runtime.ts';

function result(over: Partial<CaseResult>): CaseResult {
  return { index: 1, name: 'x/y', section: 's', outcome: 'pass', failures: [], observations: {}, ms: 1, ...over };
}

function call(over: Partial<CallResult>): CallResult {
  return { argv: [], code: 1, signal: null, stdout: '', stderr: '', timedOut: false, ms: 1, ...over };
}

const host: HostInfo = {
  cgroupV1: new Map([['memory', '/sys/fs/cgroup/memory']]),
  cgroupV2: '/sys/fs/cgroup/unified',
  cgroupV2Controllers: ['hugetlb'],
  userns: true,
  overlay: true,
  apparmor: false,
  selinux: false,
  seccompNotify: true,
  capBnd: 0x1fffeffffffn,
  nofileHard: 20000,
};

describe('summary line', () => {
  it('is "N passed, M failed" and appends skipped only when there are some', () => {
    expect(summaryLine({ passed: 3, failed: 1, skipped: 0 })).toBe('3 passed, 1 failed');
    expect(summaryLine({ passed: 3, failed: 0, skipped: 2 })).toBe('3 passed, 0 failed, 2 skipped');
  });

  it('counts outcomes, deviations and expected failures included in failed', () => {
    const rs = [result({}), result({ outcome: 'fail', expected: true }), result({ outcome: 'fail', deviation: { spec: 's', behaviour: 'b' } }), result({ outcome: 'skip' })];
    expect(count(rs)).toEqual({ passed: 1, failed: 2, skipped: 1 });
  });
});

describe('TAP lines', () => {
  it('marks skips, known deviations and expected failures', () => {
    expect(tapLine(result({ outcome: 'skip', skipReason: 'no AppArmor' }))).toBe('ok 1 - x/y # SKIP no AppArmor');
    expect(tapLine(result({ outcome: 'fail', failures: ['boom'], deviation: { spec: 'MUST', behaviour: 'does not' } }))).toMatch(
      /^not ok 1 - x\/y # TODO known runtime deviation: does not\n {2}---\n/,
    );
    expect(tapLine(result({ outcome: 'fail', failures: ['boom'], expected: true })).split('\n')[0]).toBe('not ok 1 - x/y # TODO expected failure');
    expect(tapLine(result({ outcome: 'fail', failures: ['boom'] }))).toContain('    - "boom"');
    expect(tapLine(result({ fixed: true }))).toContain('# fixed');
  });

  it('lists fixed entries in the footer so the expected-failures list only shrinks', () => {
    const lines = footer([result({ name: 'a/fixed', fixed: true })]);
    expect(lines.join('\n')).toContain('fixed: a/fixed now passes, remove it from the expected-failures list');
  });
});

describe('exit status', () => {
  it('fails only on failures that are neither known deviations nor expected', () => {
    expect(isUnexcusedFailure(result({ outcome: 'fail' }))).toBe(true);
    expect(isUnexcusedFailure(result({ outcome: 'fail', expected: true }))).toBe(false);
    expect(isUnexcusedFailure(result({ outcome: 'fail', deviation: { spec: '', behaviour: '' } }))).toBe(false);
    expect(isUnexcusedFailure(result({ outcome: 'skip' }))).toBe(false);
  });
});

describe('expected-failures file', () => {
  it('reads one case per line and ignores # comments and blank lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hako-conformance-unit-'));
    try {
      const f = join(dir, 'list.txt');
      writeFileSync(f, '# header\nlifecycle/a\n\n  hooks/b  # not built yet\n');
      expect([...readExpectedFailures(f)]).toEqual(['lifecycle/a', 'hooks/b']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('requirements', () => {
  it('explains why a case is skipped', () => {
    expect(unmet(host, ['cgroup-v1:memory'])).toBeUndefined();
    expect(unmet(host, ['cgroup-v1:hugetlb'])).toMatch(/hugetlb controller is not mounted/);
    expect(unmet(host, ['cgroup-v2:memory'])).toMatch(/v2 has hugetlb/);
    expect(unmet(host, ['cap:CAP_SYS_RESOURCE'])).toMatch(/CAP_SYS_RESOURCE/);
    expect(unmet(host, ['cap:CAP_SYS_ADMIN'])).toBeUndefined();
    expect(unmet(host, ['apparmor'])).toMatch(/AppArmor/);
  });
});

describe('compare', () => {
  const env = (tag: string): RunEnv => ({
    bin: `/bin/${tag}`,
    kind: 'other',
    tag,
    root: `/run/hako-conformance-${tag}`,
    runDir: '/tmp/hako-conformance-1',
    template: '/tmp/hako-conformance-1/template',
    host,
    cgroupParent: `/hako-conformance-1-${tag}`,
  });

  it('normalises ids, paths and pids away', () => {
    const v = normalise({ pid: 1234, path: '/tmp/hako-conformance-1/case-a-3/bundle0', id: 'hc-a3-c1' }, env('a'));
    expect(v).toEqual({ pid: '<pid>', path: '<run>/<case>/bundle0', id: '<id>' });
  });

  it('reports only what differs once normalised', () => {
    const a = result({ observations: { 'state.keys': ['id', 'pid'], cgroup: '/hako-conformance-1-a/hc-a1-c0' } });
    const b = result({ observations: { 'state.keys': ['id', 'pid', 'extra'], cgroup: '/hako-conformance-1-b/hc-b1-c0' } });
    const d = compareResults(a, env('a'), b, env('b'));
    expect(d?.lines).toEqual(['state.keys: ["id","pid"] vs ["id","pid","extra"]']);
    expect(compareResults(a, env('a'), a, env('a'))).toBeUndefined();
  });
});

describe('error classes', () => {
  it('groups wordings clients match on', () => {
    expect(errorClass(call({ stderr: 'container "x" does not exist' }))).toBe('does-not-exist');
    expect(errorClass(call({ stderr: 'container with id exists: x' }))).toBe('exists');
    expect(errorClass(call({ stderr: 'cannot kill: container not running' }))).toBe('not-running');
    expect(errorClass(call({ stderr: 'Incorrect Usage.\nrunc: "delete" requires a minimum of 1 argument' }))).toBe('usage');
    expect(errorClass(call({ code: 0 }))).toBe('none');
    expect(errorClass(call({ timedOut: true, code: null }))).toBe('timeout');
  });

  it('drops the global flags from a call for messages', () => {
    expect(commandArgs(['--root', '/r', '--log', '/l', '--log-format', 'json', 'kill', 'id', '9'])).toEqual(['kill', 'id', '9']);
  });
});

describe('probe output parsers', () => {
  it('takes JSON object lines and skips terminal noise', () => {
    expect(jsonLines('garbage\n{"a":1}\r\n\u001b[0m{"b":2}\n[1]\n{broken\n')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('parses /proc/self/status, id maps and capability masks', () => {
    const st = parseStatus('Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000420\n');
    expect(numbers(st.Uid)).toEqual([1000, 1000, 1000, 1000]);
    expect(capsOf(st.CapEff ?? '0')).toEqual(['CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    expect(parseIdMap('         0     100000      65536\n')).toEqual([[0, 100000, 65536]]);
  });

  it('parses mountinfo including optional fields and escapes', () => {
    const [m] = parseMountinfo('36 25 0:32 / /mnt/with\\040space rw,nosuid shared:7 master:2 - tmpfs tmpfs rw,size=1024k\n');
    expect(m).toMatchObject({ id: 36, parent: 25, mountPoint: '/mnt/with space', optional: ['shared:7', 'master:2'], fsType: 'tmpfs' });
    expect(m?.options).toContain('nosuid');
    expect(m?.superOptions).toContain('size=1024k');
  });
});
