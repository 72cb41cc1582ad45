// Entry point of bin/hako (bundled into dist/hako.mjs).
import { CommanderError } from 'commander';
import { HakoError } from '../errors.ts';
import { releaseEarlySignals } from '../runtime/early-signals.ts';
import { commandName, normalizeArgv } from './argv.ts';
import { existingContext } from './context.ts';
import { buildProgram, flagTable } from './program.ts';

async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  const { table, shortValueFlags } = flagTable(program);
  const args = normalizeArgv(argv, table, shortValueFlags);
  if (args.length === 0) {
    program.outputHelp();
    return 0;
  }
  const command = commandName(args, table, shortValueFlags);
  // Only run and exec forward the signals caught while hako loaded; for the rest they act now.
  if (command !== 'run' && command !== 'exec') void releaseEarlySignals();
  if (command !== undefined && command !== 'help' && !table.commands.has(command)) {
    // commander would print the help for `hako foo -h` and exit 0; runc refuses an unknown command whatever follows.
    process.stderr.write(`error: unknown command '${command}'\n`);
    return 1;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    const code = process.exitCode;
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    return report(err);
  } finally {
    await releaseEarlySignals(); // what a run or exec did not forward, and a command done before its first I/O
    await existingContext()?.logger.flush();
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode; // commander printed it already
  const logger = existingContext()?.logger;
  const message = err instanceof Error ? err.message : String(err);
  if (logger) logger.error(message);
  else process.stderr.write(`${message}\n`);
  if (!(err instanceof HakoError)) {
    // Not a user error: a bug. Show where, so it can be reported.
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
  return err.exitCode;
}

// stdout and stderr are synchronous on Linux (files, pipes, ttys), so exiting here loses nothing;
// exiting explicitly keeps a stray handle from holding a caller's pipe open.
void main(process.argv.slice(2)).then((code) => process.exit(code));
