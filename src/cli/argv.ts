// Go-style flags: containerd's go-runc and other Go callers emit single-dash long flags
// (`-bundle x`, `-no-subreaper`, `-pid-file=x`). commander only knows `--bundle`, so we
// rewrite them before parsing. Only names the command really declares are rewritten, and
// rewriting stops at the first positional argument after the subcommand, so a container
// command line (`exec id ls -all`) is never touched.

export interface FlagTable {
  /** long option names (without dashes) → whether the option takes a value */
  global: Map<string, boolean>;
  commands: Map<string, Map<string, boolean>>;
}

function rewrite(arg: string, names: Map<string, boolean>): string {
  if (!arg.startsWith('-') || arg.startsWith('--') || arg.length < 3) return arg;
  const eq = arg.indexOf('=');
  const name = arg.slice(1, eq === -1 ? undefined : eq);
  return names.has(name) ? `-${arg}` : arg;
}

/** Flags given as `--name` or `-name`, with or without `=value`: does it need the next argument? */
function takesValue(arg: string, names: Map<string, boolean>, shortValue: Set<string>): boolean {
  if (arg.includes('=')) return false;
  if (arg.startsWith('--')) return names.get(arg.slice(2)) === true;
  return shortValue.has(arg);
}

export function normalizeArgv(args: string[], table: FlagTable, shortValueFlags: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  let i = 0;
  // global flags, up to the subcommand
  for (; i < args.length; i++) {
    const a = rewrite(args[i]!, table.global);
    out.push(a);
    if (a === '--') return out.concat(args.slice(i + 1));
    if (!a.startsWith('-')) break; // the subcommand
    if (takesValue(a, table.global, shortValueFlags.get('') ?? new Set()) && i + 1 < args.length) out.push(args[++i]!);
  }
  const command = args[i];
  const names = command === undefined ? undefined : table.commands.get(command);
  i++;
  if (!names) return out.concat(args.slice(i));
  const shorts = shortValueFlags.get(command!) ?? new Set<string>();
  for (; i < args.length; i++) {
    const a = rewrite(args[i]!, names);
    if (a === '--' || !a.startsWith('-') || a === '-') return out.concat(args.slice(i));
    out.push(a);
    if (takesValue(a, names, shorts) && i + 1 < args.length) out.push(args[++i]!);
  }
  return out;
}

/** The subcommand of (normalized) args: the first argument after the global flags and their values. */
export function commandName(args: string[], table: FlagTable, shortValueFlags: Map<string, Set<string>>): string | undefined {
  const shorts = shortValueFlags.get('') ?? new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (!a.startsWith('-') || a === '-') return a;
    if (takesValue(a, table.global, shorts)) i++;
  }
  return undefined;
}
