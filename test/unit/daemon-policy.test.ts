// The daemon's choice of warm or cold, and the front ⇄ daemon wire format (src/cli/daemon/).
import { describe, expect, it } from 'vitest';
import { callParts, coldReason } from '../../src/cli/daemon/policy.ts';
import { FrameReader, MAGIC, frame, parseRequest } from '../../src/cli/daemon/protocol.ts';

const ROOT = '/run/hako-x';
const warm = (argv: string[], env: Record<string, string> = {}, cwd = '/tmp') => coldReason(argv, env, cwd, ROOT);

describe('daemon policy', () => {
  it('reads --root in every form runc callers use, and the command, its flags and positionals', () => {
    for (const argv of [['--root', ROOT, 'state', 'a'], [`--root=${ROOT}`, 'state', 'a'], ['-root', ROOT, 'state', 'a'], ['--log', '/x', '--root', ROOT, 'state', 'a']]) {
      const p = callParts(argv);
      expect(p.root).toBe(ROOT);
      expect(p.command).toBe('state');
      expect(p.positionals).toEqual(['a']);
    }
    const p = callParts(['--root', ROOT, 'exec', '-d', '--pid-file', 'p', 'c1', 'sh', '-c', 'true']);
    expect(p.flags.get('d')).toBe(true);
    expect(p.flags.get('pid-file')).toBe('p');
    expect(p.positionals).toEqual(['c1', 'sh', '-c', 'true']);
    expect(callParts(['state', 'a']).root).toBe('/run/hako');
  });

  it('serves the calls engines make on its own root', () => {
    for (const argv of [
      ['--root', ROOT, 'create', '--bundle', 'b', 'c1'],
      ['--root', ROOT, 'start', 'c1'],
      ['--root', ROOT, 'state', 'c1'],
      ['--root', ROOT, 'kill', 'c1', 'KILL'],
      ['--root', ROOT, 'delete', '--force', 'c1'],
      ['--root', ROOT, 'exec', '--detach', '--process', 'p.json', 'c1'],
      ['--root', ROOT, 'run', '-d', '-b', 'b', 'c1'],
      ['--root', ROOT, 'ps', '--format', 'json', 'c1'],
      ['--root', ROOT, 'update', '--memory', '1m', 'c1'],
      ['--root', ROOT, 'list'],
      ['--root', ROOT, 'features'],
      ['--root', ROOT, 'pause', 'c1'],
      ['--root', ROOT, 'resume', 'c1'],
    ]) {
      expect(warm(argv), argv.join(' ')).toBeUndefined();
    }
    // a relative --root is the caller's: resolved against its cwd
    expect(warm(['--root', 'hako-x', 'state', 'a'], {}, '/run')).toBeUndefined();
  });

  it('leaves to the cold path what it cannot serve the same way', () => {
    expect(warm(['--root', '/run/other', 'state', 'a'])).toBe('another --root');
    expect(warm(['state', 'a'])).toBe('another --root');
    expect(warm(['--root', ROOT, 'run', '-b', '/nonexistent', 'c1'])).toBe('run with a terminal'); // unreadable config: cold decides
    expect(warm(['--root', ROOT, 'exec', '-t', 'c1', 'sh'])).toBe('exec with a terminal');
    expect(warm(['--root', ROOT, 'exec', 'c1', 'true'])).toBeUndefined();
    expect(warm(['--root', ROOT, 'exec', '-d', '--preserve-fds', '2', 'c1', 'true'])).toBe('exec --preserve-fds');
    expect(warm(['--root', ROOT, 'update', '-r', '-', 'c1'])).toBe('update reads stdin');
    expect(warm(['--root', ROOT, 'events', 'c1'])).toMatch(/not served/);
    expect(warm(['--root', ROOT, 'daemon'])).toMatch(/not served/);
    expect(warm(['--root', ROOT, 'spec'])).toMatch(/not served/);
    expect(warm(['--root', ROOT, 'create', '--timings', '-b', 'b', 'c1'])).toBe('--timings');
    expect(warm(['--root', ROOT, 'state', 'a'], { NODE_OPTIONS: '--require x' })).toBe('NODE_OPTIONS is set');
    expect(warm([])).toMatch(/no command/);
  });
});

describe('front protocol', () => {
  it('parses the request the front sends, cut at any byte', () => {
    const fields = [MAGIC, 'id123', '/tmp', '3', '--root', ROOT, 'list', '2', 'A=1', 'B=x=y'];
    const body = Buffer.from(fields.map((f) => `${f}\0`).join(''));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    const wire = Buffer.concat([len, body, frame('W', Buffer.alloc(8))]);
    for (const cut of [1, 3, 7, wire.length - 2]) {
      const r = new FrameReader();
      r.push(wire.subarray(0, cut));
      const first = r.takeRequest();
      r.push(wire.subarray(cut));
      const req = parseRequest(first ?? r.takeRequest()!);
      expect(req).toEqual({ buildId: 'id123', cwd: '/tmp', argv: ['--root', ROOT, 'list'], env: { A: '1', B: 'x=y' } });
      expect(r.takeFrame()).toEqual({ type: 'W', body: Buffer.alloc(8) });
      expect(r.takeFrame()).toBeUndefined();
    }
  });

  it('refuses what is not a front', () => {
    expect(() => parseRequest(Buffer.from('GET / HTTP/1.1\r\n\0'))).toThrow(/not a hako front/);
    expect(() => parseRequest(Buffer.from(`${MAGIC}\0id\0/\x005\0a\0`))).toThrow(/short/);
  });
});
