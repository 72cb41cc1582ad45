// The CLI as clients see it: exit codes, stdout, stderr and --log lines of the real binary.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hako } from '../helpers/hako.ts';
import { detectCgroupMode } from '../../src/cgroups/host.ts';
import { loadConfig, validateFeatures } from '../../src/spec/load.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hako-unit-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('hako CLI', () => {
  it('prints its version like runc', () => {
    const r = hako(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^hako version \d+\.\d+\.\d+\ncommit: \S+\nspec: 1\.3\.0\n/);
  });

  it('reports a missing container with runc\'s words and exit 1', () => {
    const r = hako(['--root', dir, 'state', 'nope']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('container "nope" does not exist\n');
  });

  it('writes JSON log lines in the shape containerd and conmon parse', () => {
    const log = join(dir, 'log.json');
    const r = hako(['-root', dir, '-log', log, '-log-format', 'json', 'delete', 'nope']);
    expect(r.status).toBe(1);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({ level: 'error', msg: 'container "nope" does not exist', time: expect.any(String) });
    expect(new Date(lines[0].time).toISOString()).toBe(lines[0].time); // RFC 3339
  });

  it('writes text log lines like runc\'s logrus', () => {
    const log = join(dir, 'log.txt');
    hako(['--root', dir, '--log', log, 'kill', 'nope', 'KILL']);
    expect(readFileSync(log, 'utf8')).toMatch(/^time="[^"]+" level=error msg="container \\"nope\\" does not exist"\n$/);
  });

  it('lists no containers like runc', () => {
    expect(hako(['--root', dir, 'list', '--format', 'json']).stdout).toBe('null\n');
    expect(hako(['--root', dir, 'list', '-q']).stdout).toBe('');
    expect(hako(['--root', dir, 'list']).stdout).toBe('ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  });

  it('events: runc\'s words for a missing container, Go durations for --interval', () => {
    const r = hako(['--root', dir, 'events', '--stats', 'x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('container "x" does not exist\n');
    expect(hako(['--root', dir, 'events', '--interval', '5', 'x']).stderr).toBe('invalid value "5" for flag --interval: time: invalid duration "5"\n');
    expect(hako(['--root', dir, 'events', '--interval', '0s', 'x']).stderr).toBe('duration interval must be greater than 0\n');
  });

  it('rejects unknown flags and signals', () => {
    expect(hako(['--root', dir, 'kill', 'x', 'NOPE']).stderr).toBe('unknown signal "NOPE"\n');
    const r = hako(['--bogus', 'state', 'x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('refuses an unknown command, also with -h, like runc', () => {
    for (const args of [['foo'], ['foo', '-h'], ['--root', dir, 'foo', '--help'], ['--log-format', 'json', 'foo', '-h']]) {
      const r = hako(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe("error: unknown command 'foo'\n");
    }
    expect(hako(['-h']).status).toBe(0);
    expect(hako(['--root', dir, 'state', '-h']).status).toBe(0);
    expect(hako(['help', 'state']).status).toBe(0);
  });

  it('writes a default config.json that validates, and refuses to overwrite it', async () => {
    for (const rootless of [false, true]) {
      const bundle = join(dir, rootless ? 'rootless' : 'plain');
      mkdirSync(join(bundle, 'rootfs'), { recursive: true });
      const r = hako(['spec', '--bundle', bundle, ...(rootless ? ['--rootless'] : [])]);
      expect(r.status).toBe(0);
      const spec = await loadConfig(bundle);
      expect(spec.ociVersion).toBe('1.3.0');
      expect(spec.linux?.namespaces?.some((ns) => ns.type === 'user')).toBe(rootless);
      // runc's rule: a cgroup namespace only on a pure cgroup v2 host.
      expect(spec.linux?.namespaces?.some((ns) => ns.type === 'cgroup')).toBe(detectCgroupMode() === 'v2');
      const again = hako(['spec', '--bundle', bundle]);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/config\.json exists/);
    }
  });

  it('prints a features document that validates against the features schema', () => {
    const r = hako(['features']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(validateFeatures(doc)).toBeTruthy();
    expect(doc.ociVersionMax).toBe('1.3.0');
  });
});
