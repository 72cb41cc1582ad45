// The command line: runc's commands and flags, so containerd, podman and docker can call hako
// exactly as they call runc. Each command lives in commands/<name>.ts and loads the code that
// does the work only when it runs.
import { Command, Option } from 'commander';
import type { FlagTable } from './argv.ts';
import { DEFAULT_ROOT } from './context.ts';
import { defineLifecycleCommands } from './commands/lifecycle.ts';
import { defineStateCommand } from './commands/state.ts';
import { defineListCommand } from './commands/list.ts';
import { defineSpecCommand } from './commands/spec.ts';
import { defineFeaturesCommand } from './commands/features.ts';
import { defineExecCommand } from './commands/exec.ts';
import { defineProcessCommands } from './commands/processes.ts';
import { defineUpdateCommand } from './commands/update.ts';
import { defineEventsCommand } from './commands/events.ts';
import { defineDemoCommand } from './commands/demo.ts';
import { defineDaemonCommand } from './commands/daemon.ts';

declare const HAKO_VERSION: string;
declare const HAKO_COMMIT: string;

export const SPEC_VERSION = '1.3.0';

export function versionText(): string {
  const version = typeof HAKO_VERSION === 'string' ? HAKO_VERSION : 'dev';
  const commit = typeof HAKO_COMMIT === 'string' ? HAKO_COMMIT : 'unknown';
  return `hako version ${version}\ncommit: ${commit}\nspec: ${SPEC_VERSION}\nnode: ${process.version}`;
}

/**
 * Which commands each define function makes (test/unit/cli-argv.test.ts checks it against what they
 * define). Building every command and its options costs 3-5 ms at each start; a call builds the
 * one group it runs (buildProgram(command)).
 */
export const COMMAND_GROUPS: readonly (readonly [readonly string[], (program: Command) => void])[] = [
  [['create', 'start', 'run', 'kill', 'delete', 'pause', 'resume'], defineLifecycleCommands],
  [['state'], defineStateCommand],
  [['list'], defineListCommand],
  [['exec'], defineExecCommand],
  [['ps'], defineProcessCommands],
  [['update'], defineUpdateCommand],
  [['events'], defineEventsCommand],
  [['spec'], defineSpecCommand],
  [['features'], defineFeaturesCommand],
  [['demo'], defineDemoCommand],
  [['daemon'], defineDaemonCommand],
];

/**
 * The program: the global flags and every command, or, with `command` naming one, only that
 * command's group (with `null`, none: enough to find the command in argv). `help`, an unknown
 * name or none builds them all (help lists them).
 */
export function buildProgram(command?: string | null): Command {
  const program = new Command('hako')
    .description(
      'hako is an OCI runtime: it creates and runs containers from OCI bundles (a config.json and a root filesystem), like runc',
    )
    .usage('[global options] command [command options] [arguments...]')
    .enablePositionalOptions()
    .version(versionText(), '-v, --version', 'print the version')
    .option('--debug', 'enable debug logging')
    .option('--log <path>', 'write logs to this file (default: stderr)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .option('--root <path>', 'root directory for container state (on tmpfs)', DEFAULT_ROOT)
    .option('--criu <path>', 'path to criu (accepted for compatibility; checkpoint is not supported)')
    .option('--systemd-cgroup', 'use the systemd cgroup driver ("slice:prefix:name" cgroupsPath)')
    .option('--rootless <value>', 'ignore cgroup permission errors (true, false or auto)')
    .showHelpAfterError(false);

  if (command === null) return program;
  const group = command === undefined ? undefined : COMMAND_GROUPS.find(([names]) => names.includes(command));
  for (const [, define] of group ? [group] : COMMAND_GROUPS) define(program);
  return program;
}

/** Which long flags exist and take a value, for the Go-style `-flag` rewrite. */
export function flagTable(program: Command): { table: FlagTable; shortValueFlags: Map<string, Set<string>> } {
  const describe = (cmd: Command) => {
    const longs = new Map<string, boolean>();
    const shorts = new Set<string>();
    for (const o of cmd.options) {
      const takes = o.required || o.optional;
      if (o.long) longs.set(o.long.slice(2), takes);
      if (o.short && takes) shorts.add(o.short);
    }
    return { longs, shorts };
  };
  const g = describe(program);
  const commands = new Map<string, Map<string, boolean>>();
  const shortValueFlags = new Map<string, Set<string>>([['', g.shorts]]);
  for (const c of program.commands) {
    const d = describe(c);
    commands.set(c.name(), d.longs);
    shortValueFlags.set(c.name(), d.shorts);
  }
  return { table: { global: g.longs, commands }, shortValueFlags };
}
