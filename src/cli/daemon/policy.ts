// Which calls the daemon serves warm. Everything here is decided from the call alone (argv, cwd,
// environment); a call not served goes cold, which is always correct, so the rules lean cold.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { normalizeArgv } from '../argv.ts';
import { DEFAULT_ROOT } from '../context.ts';
import { buildProgram, flagTable } from '../program.ts';

export interface CallParts {
  /** --root as given (relative to the caller's cwd), or the default. */
  root: string;
  command?: string;
  /** The subcommand's flags before its first positional argument: name (no dashes) → value or true. */
  flags: Map<string, string | true>;
  positionals: string[];
}

let tableCache: ReturnType<typeof flagTable> | undefined;

/** argv split the way the CLI reads it (Go-style `-flag` and `--flag=value` included). */
export function callParts(argv: string[]): CallParts {
  tableCache ??= flagTable(buildProgram());
  const { table, shortValueFlags } = tableCache;
  const args = normalizeArgv(argv, table, shortValueFlags);
  let root = DEFAULT_ROOT;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '--') break;
    const [name, value] = splitFlag(a);
    const takes = a.startsWith('--') ? table.global.get(name) === true : (shortValueFlags.get('') ?? new Set()).has(a);
    const v = value ?? (takes ? args[++i] : undefined);
    if (name === 'root' && v !== undefined) root = v;
  }
  if (args[i] === '--') i++;
  const command = args[i++];
  const flags = new Map<string, string | true>();
  const names = command === undefined ? undefined : table.commands.get(command);
  const shorts = command === undefined ? new Set<string>() : (shortValueFlags.get(command) ?? new Set<string>());
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const [name, value] = splitFlag(a);
    const takes = a.startsWith('--') ? names?.get(name) === true : shorts.has(a);
    flags.set(name, value ?? (takes && i + 1 < args.length ? args[++i]! : true));
  }
  return { root, command, flags, positionals: args.slice(i) };
}

function splitFlag(a: string): [string, string | undefined] {
  const body = a.replace(/^--?/, '');
  const eq = body.indexOf('=');
  return eq === -1 ? [body, undefined] : [body.slice(0, eq), body.slice(eq + 1)];
}

/** Commands whose whole work is done by the time they answer: no terminal, no waiting on a container. */
const SERVED = new Set(['create', 'start', 'state', 'kill', 'delete', 'pause', 'resume', 'ps', 'update', 'features', 'list', 'exec', 'run']);

/**
 * Why the daemon leaves this call to the cold path, or undefined when it serves it.
 * `daemonRoot` is the daemon's --root (absolute); `cwd` the caller's.
 */
export function coldReason(argv: string[], env: Record<string, string>, cwd: string, daemonRoot: string): string | undefined {
  // node-level settings (a preloaded module, inspector flags) ask for a node of the caller's own
  if (env.NODE_OPTIONS) return 'NODE_OPTIONS is set';
  const call = callParts(argv);
  if (call.command === undefined || !SERVED.has(call.command)) return `${call.command ?? 'no command'} is not served warm`;
  if (resolve(cwd, call.root) !== daemonRoot) return 'another --root';
  const f = call.flags;
  const detached = f.has('d') || f.has('detach');
  // --timings prints node's own phases: a cold start is what it measures
  if (f.has('timings')) return '--timings';
  // In the foreground the daemon waits for the process and the front forwards its signals; a terminal
  // hako would proxy is the caller's, so that stays cold.
  if (call.command === 'run' && !detached && terminalAsked(resolve(cwd, String(f.get('bundle') ?? f.get('b') ?? '.'), 'config.json'))) return 'run with a terminal';
  if (call.command === 'exec') {
    if (!detached && (f.has('t') || f.has('tty'))) return 'exec with a terminal';
    const processFile = f.get('process') ?? f.get('p');
    if (!detached && processFile !== undefined && terminalAsked(resolve(cwd, String(processFile)), true)) return 'exec with a terminal';
    // exec checks fds 3..3+N-1 in its own process: they are the caller's
    const n = f.get('preserve-fds');
    if (n !== undefined && n !== '0') return 'exec --preserve-fds';
  }
  if (call.command === 'update') {
    const r = f.get('r') ?? f.get('resources');
    if (r === '-') return 'update reads stdin';
  }
  return undefined;
}

/** process.terminal of a config.json (or a process.json with `bare`); unreadable counts as asked (cold). */
function terminalAsked(file: string, bare = false): boolean {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { terminal?: unknown; process?: { terminal?: unknown } };
    return (bare ? doc.terminal : doc.process?.terminal) === true;
  } catch {
    return true;
  }
}

/** A served call that waits for its process: the front forwards the signals it receives. */
export function waitsInForeground(argv: string[]): boolean {
  const call = callParts(argv);
  const detached = call.flags.has('d') || call.flags.has('detach');
  return (call.command === 'run' || call.command === 'exec') && !detached;
}
