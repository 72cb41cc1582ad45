// Signals that reach hako while it is still loading. bin/hako catches them from its first line
// (before the ~200 KB bundle is read), so a SIGTERM sent to `hako run` in its first milliseconds no
// longer kills it before the container exists: `run` and `exec` in the foreground hand them to
// their SignalForwarder, which delivers them once the process runs (as runc does). Every other
// command releases them as soon as it is known: each then acts as it would have (SIGTERM ends hako).

/** What bin/hako leaves on globalThis. */
interface EarlySignals {
  /** Stops catching and returns what was caught, in order. */
  take(): NodeJS.Signals[];
}

/** The signals caught since bin/hako started; catching stops. [] when bin/hako did not catch (tests). */
export function takeEarlySignals(): NodeJS.Signals[] {
  const early = (globalThis as { hakoEarlySignals?: EarlySignals }).hakoEarlySignals;
  return early ? early.take() : [];
}

/**
 * Stops catching and lets each signal caught so far act with its default action, after one turn of
 * the event loop: node reads a signal from libuv's pipe in the loop's poll phase, so one that
 * arrived while the code ran synchronously is only caught then.
 */
export async function releaseEarlySignals(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  for (const s of takeEarlySignals()) process.kill(process.pid, s);
}
