// Where a command's own output goes. A cold hako writes to its stdout and stderr; the daemon runs
// one call at a time for a caller elsewhere (src/daemon/), and points these at that caller for the
// call's duration. Every served path writes through out()/err(), never process.stdout/stderr.

import { writeSync } from 'node:fs';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Straight to fd 1 or 2 with write(2): process.stdout and process.stderr load node:stream (and
 * net or tty for a pipe or a terminal), 3-5 ms of a call whose whole output may be one line
 * (`state` of a missing id). Should a write fail (a full non-blocking pipe: EAGAIN; EPIPE…),
 * the rest of the text and everything after it go through node's stream, as before.
 */
const fallen = { 1: false, 2: false };
function writeFd(fd: 1 | 2, text: string): void {
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  if (fallen[fd]) return void stream().write(text);
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off);
  } catch {
    fallen[fd] = true;
    stream().write(buf.subarray(off));
  }
}

const processOutput: Output = {
  out: (text) => writeFd(1, text),
  err: (text) => writeFd(2, text),
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
