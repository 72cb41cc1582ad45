// releaseInit: the exec fifo's byte is what counts as "started" (issue 10's start race), made
// deterministic by playing the init inside the liveness callback.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseInit } from '../../src/runtime/start.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fifo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hako-test-start-'));
  dirs.push(dir);
  const path = join(dir, 'exec.fifo');
  execFileSync('mkfifo', [path]);
  return path;
}

/** What the init does once released: open the write side, write its byte, close (exec, exit). */
function initWritesAndExits(path: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  writeSync(fd, Buffer.from([0]));
  closeSync(fd);
}

describe('releaseInit', () => {
  it('counts a byte written after its first read as a start, though the init is gone by the liveness check', async () => {
    const path = fifo();
    let checks = 0;
    // The first read finds no writer; before the liveness check the init opens, writes, execs and exits.
    await releaseInit(path, () => {
      if (checks++ === 0) initWritesAndExits(path);
      return false;
    });
    expect(checks).toBe(1);
    expect(existsSync(path)).toBe(false);
  });

  it('fails when the init died without writing', async () => {
    const path = fifo();
    await expect(releaseInit(path, () => false)).rejects.toThrow('cannot start container: its init process exited before start');
  });

  it('waits while the init lives, then takes its byte', async () => {
    const path = fifo();
    let checks = 0;
    await releaseInit(path, () => {
      if (++checks === 3) initWritesAndExits(path);
      return true;
    });
    expect(checks).toBe(3);
    expect(existsSync(path)).toBe(false);
  });
});
