// Where a command's own output goes. A cold hako writes to its stdout and stderr; the daemon runs
// one call at a time for a caller elsewhere (src/daemon/), and points these at that caller for the
// call's duration. Every served path writes through out()/err(), never process.stdout/stderr.

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

let current: Output = processOutput;

/** Text for the command's stdout. */
export function out(text: string): void {
  current.out(text);
}

/** Text for the command's stderr. */
export function err(text: string): void {
  current.err(text);
}

/** Runs `fn` with its output going to `output` (one call at a time: the daemon serializes). */
export async function withOutput<T>(output: Output, fn: () => Promise<T>): Promise<T> {
  const previous = current;
  current = output;
  try {
    return await fn();
  } finally {
    current = previous;
  }
}
