// --pid-file: written through a temp file at a predictable name; a symlink planted there must not
// be followed (O_EXCL), and the pid still lands in the pid file.
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePidFile } from '../../src/runtime/pidfile.ts';

// made in beforeAll: a run filtered with -t skips afterAll, and must not leave the folder behind
let dir = '';
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'hako-test-pidfile-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writePidFile', () => {
  it('never follows a symlink planted at its temp name', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    const pidFile = join(dir, 'c.pid');
    const tmp = join(dir, `.c.pid.${process.pid}.tmp`);
    symlinkSync(victim, tmp);
    writePidFile(pidFile, 4242);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(pidFile, 'utf8')).toBe('4242');
    expect(lstatSync(pidFile).isSymbolicLink()).toBe(false);
    expect(existsSync(tmp)).toBe(false);
  });

  it('names --pid-file and leaves no temp file when the folder is missing', () => {
    expect(() => writePidFile(join(dir, 'missing/c.pid'), 1)).toThrow(/--pid-file .*missing\/c\.pid: /);
  });
});
