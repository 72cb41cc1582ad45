import { describe, expect, it } from 'vitest';
import { normalizeArgv } from '../../src/cli/argv.ts';
import { buildProgram, COMMAND_GROUPS, flagTable } from '../../src/cli/program.ts';

const { table, shortValueFlags } = flagTable(buildProgram());
const norm = (...args: string[]) => normalizeArgv(args, table, shortValueFlags);

describe('Go-style flags', () => {
  it('rewrites single-dash long global and command flags, as go-runc emits them', () => {
    expect(norm('-root', '/r', '-log', '/l', '-log-format', 'json', 'create', '-bundle', '/b', '-pid-file', '/p', 'id1')).toEqual([
      '--root', '/r', '--log', '/l', '--log-format', 'json', 'create', '--bundle', '/b', '--pid-file', '/p', 'id1',
    ]);
    expect(norm('run', '-no-subreaper', '-detach', '-bundle=/b', 'x')).toEqual(['run', '--no-subreaper', '--detach', '--bundle=/b', 'x']);
  });

  it('leaves short flags, double-dash flags and unknown names alone', () => {
    expect(norm('--root=/r', 'kill', '-a', 'x', 'KILL')).toEqual(['--root=/r', 'kill', '-a', 'x', 'KILL']);
    expect(norm('delete', '-f', 'x')).toEqual(['delete', '-f', 'x']);
    expect(norm('create', '-bogus', 'x')).toEqual(['create', '-bogus', 'x']);
  });

  it('does not take a flag value for a flag', () => {
    // `-log -x`: the value of --log is "-x" and must not be rewritten or skipped past
    expect(norm('-log', '-debug', 'state', 'x')).toEqual(['--log', '-debug', 'state', 'x']);
  });

  it('never touches the container command line after the id', () => {
    expect(norm('exec', '-tty', 'x', 'ls', '-all', '-tty')).toEqual(['exec', '--tty', 'x', 'ls', '-all', '-tty']);
    expect(norm('exec', '-p', '/proc.json', '-detach', 'x')).toEqual(['exec', '-p', '/proc.json', '--detach', 'x']);
  });
});

describe('buildProgram(command)', () => {
  it('COMMAND_GROUPS names exactly the commands each define function makes, and together every command', () => {
    const all = buildProgram().commands.map((c) => c.name());
    const grouped = COMMAND_GROUPS.flatMap(([names]) => [...names]);
    expect([...grouped].sort()).toEqual([...all].sort());
    for (const [names] of COMMAND_GROUPS) {
      expect(buildProgram(names[0]).commands.map((c) => c.name()).sort()).toEqual([...names].sort());
    }
  });

  it('builds every command for help, an unknown name or none, and none with null', () => {
    const all = buildProgram().commands.length;
    expect(buildProgram('help').commands).toHaveLength(all);
    expect(buildProgram('nosuchcommand').commands).toHaveLength(all);
    expect(buildProgram(null).commands).toHaveLength(0);
    expect(buildProgram(null).options.map((o) => o.long)).toContain('--root');
  });
});
