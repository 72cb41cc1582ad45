// One hako invocation: argv in, exit status out, output through src/io.ts. bin/hako's cold path
// (src/cli/main.ts) runs one per process; the daemon (src/daemon/server.ts) runs its callers'.
import { CommanderError } from 'commander';
import { HakoError } from '../errors.ts';
import { err, out } from '../io.ts';
import { releaseEarlySignals } from '../runtime/early-signals.ts';
import { commandName, normalizeArgv } from './argv.ts';
import { beginInvocation, existingContext, exitCodeSet } from './context.ts';
import { buildProgram, flagTable } from './program.ts';

/** The subcommand argv names (after the global flags), or undefined. */
export function subcommandOf(argv: string[]): string | undefined {
  const program = buildProgram();
  const { table, shortValueFlags } = flagTable(program);
  return commandName(normalizeArgv(argv, table, shortValueFlags), table, shortValueFlags);
}

export async function runCli(argv: string[], callerPid?: number): Promise<number> {
  beginInvocation(callerPid);
  // The command from the global flags alone, then a program of only its group (see buildProgram).
  const globals = flagTable(buildProgram(null));
  const program = buildProgram(commandName(normalizeArgv(argv, globals.table, globals.shortValueFlags), globals.table, globals.shortValueFlags));
  // On every command, not only the program: commander's own exit (a missing argument) must not end a
  // daemon, and its messages go where this invocation's output goes.
  for (const cmd of [program, ...program.commands]) cmd.exitOverride().configureOutput({ writeOut: (s) => out(s), writeErr: (s) => err(s) });
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
    err(`error: unknown command '${command}'\n`);
    return 1;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCodeSet() ?? 0;
  } catch (e) {
    return report(e);
  } finally {
    await releaseEarlySignals(); // what a run or exec did not forward, and a command done before its first I/O
    await existingContext()?.logger.flush();
  }
}

function report(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode; // commander printed it already
  const logger = existingContext()?.logger;
  const message = e instanceof Error ? e.message : String(e);
  if (logger) logger.error(message);
  else err(`${message}\n`);
  if (!(e instanceof HakoError)) {
    // Not a user error: a bug. Show where, so it can be reported.
    if (e instanceof Error && e.stack) err(`${e.stack}\n`);
    return 1;
  }
  return e.exitCode;
}
