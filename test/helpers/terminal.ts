// A shell command line run under util-linux `script`, which gives it a pty of its own: the way to
// test what hako does when its stdio is a real terminal.
import { spawn, spawnSync } from 'node:child_process';
import { plainEnv } from './hako.ts';

export const hasScript = spawnSync('script', ['--version']).status === 0;

/** single-quotes a word for the shell line `script -c` runs */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface Session {
  /** stdin of `script`: the bytes reach hako through the terminal */
  write(text: string): void;
  /** resolves once the output contains `text` */
  waitFor(text: string): Promise<void>;
  done: Promise<{ status: number | null; output: string }>;
}

/**
 * Runs a shell command line under `script` (a pty of its own: the command's stdio is a terminal,
 * 0x0 until `stty` sizes it). stdin stays open until the end: script would send its own bytes at EOF.
 */
export function inTerminal(command: string, env: NodeJS.ProcessEnv = plainEnv): Session {
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString('utf8');
    for (const w of waiters.filter((w) => output.includes(w.text))) w.resolve();
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const done = new Promise<{ status: number | null; output: string }>((resolve) => {
    child.once('close', (status) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ status, output });
    });
  });
  return {
    write: (text) => child.stdin.write(text),
    waitFor: (text) =>
      new Promise<void>((resolve) => {
        if (output.includes(text)) resolve();
        else waiters.push({ text, resolve });
      }),
    done,
  };
}
