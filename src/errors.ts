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

/** Bad input: the config, a flag, an id. `problems` lists every finding, one line each. */
export class ConfigError extends HakoError {
  readonly problems: string[];

  constructor(problems: string[], options: { cause?: unknown } = {}) {
    super(problems.join('\n'), options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
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
