// One error type for everything hako reports to a user. Messages are lower-case,
// without a trailing period, and name the thing at fault (a config field, a step, an id),
// because clients (containerd, conmon) show the text as it is and match on parts of it.

export class HakoError extends Error {
  /** Process exit status for the CLI. */
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HakoError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** How many problem lines a ConfigError's message shows; the rest are counted. */
export const MAX_SHOWN_PROBLEMS = 50;
/** Longest problem line shown (a line may quote a value from the config, which can be megabytes). */
const MAX_PROBLEM_LINE = 1000;

/** The first MAX_SHOWN_PROBLEMS lines (each cut at MAX_PROBLEM_LINE), then `… and N more problems`. */
export function formatProblems(problems: readonly string[]): string {
  // Already capped by its maker (formatSchemaErrors): its own last line counts the rest.
  const counted = problems.length === MAX_SHOWN_PROBLEMS + 1 && problems[MAX_SHOWN_PROBLEMS]!.startsWith('… and ');
  const shown = problems.slice(0, counted ? MAX_SHOWN_PROBLEMS + 1 : MAX_SHOWN_PROBLEMS).map((l) => (l.length > MAX_PROBLEM_LINE ? `${l.slice(0, MAX_PROBLEM_LINE)}…` : l));
  const more = problems.length - shown.length;
  if (more > 0) shown.push(`… and ${more} more problem${more === 1 ? '' : 's'}`);
  return shown.join('\n');
}

/**
 * Bad input: the config, a flag, an id. `problems` lists every finding, one line each; the message
 * shows the first 50 of them.
 */
export class ConfigError extends HakoError {
  readonly problems: string[];

  constructor(problems: string[], options: { cause?: unknown } = {}) {
    super(formatProblems(problems), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** One bad field of config.json: `config.json: <field>: <words>`. */
export function configError(field: string, words: string): ConfigError {
  return new ConfigError([`config.json: ${field}: ${words}`]);
}

/** A feature that exists in runc's CLI but is not built in hako yet: never a silent success. */
export class NotImplementedError extends HakoError {
  constructor(what: string) {
    super(`${what} is not implemented in hako yet`);
    this.name = 'NotImplementedError';
  }
}

/** Text of an errno-style error from node (`ENOENT: no such file or directory, open …`) as `no such file or directory`. */
export function describeSystemError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^E[A-Z0-9]+: ([^,]+)/.exec(message);
  return m?.[1] ?? message;
}
