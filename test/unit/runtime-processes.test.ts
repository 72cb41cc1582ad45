// Signalling by identity: a pidfd pins the pid, the start time proves it is still our process.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { processIdentity } from '../../src/runtime/procfs.ts';
import { signalProcess, waitForExit } from '../../src/runtime/processes.ts';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function sleeper() {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  return processIdentity(child.pid!)!;
}

describe('signalProcess', () => {
  it('signals the recorded process', async () => {
    const id = sleeper();
    await signalProcess(id, 15);
    expect(await waitForExit(id, 5000)).toBe(true);
  });

  it('never signals a process that only shares the pid (a recycled pid)', async () => {
    const id = sleeper();
    await expect(signalProcess({ pid: id.pid, startTime: id.startTime - 1 }, 9)).rejects.toThrow('container not running');
    expect(await waitForExit(id, 100)).toBe(false); // still alive
  });

  it('reports a process that is gone as not running', async () => {
    const id = sleeper();
    children[0]!.kill('SIGKILL');
    await new Promise((r) => children[0]!.once('exit', r));
    await expect(signalProcess(id, 15)).rejects.toThrow('container not running');
  });
});
