// Entry point of bin/hako's cold path (bundled into dist/hako.cjs, loaded by bin/hako.cjs).
import { err } from '../io.ts';
import { runCli } from './invoke.ts';

async function main(argv: string[]): Promise<number> {
  // bin/hako's front saw a warm daemon end in the middle of this call: undo its half first.
  if (process.env.HAKO_DAEMON_DIED) {
    delete process.env.HAKO_DAEMON_DIED;
    const { recoverAfterDaemon } = await import('./daemon/recover.ts');
    try {
      await recoverAfterDaemon(argv);
    } catch (e) {
      err(`${(e as Error).message}\n`);
      return (e as { exitCode?: number }).exitCode ?? 1;
    }
  }
  return runCli(argv);
}

// stdout and stderr are synchronous on Linux (files, pipes, ttys), so exiting here loses nothing;
// exiting explicitly keeps a stray handle from holding a caller's pipe open.
void main(process.argv.slice(2)).then((code) => process.exit(code));
