// Facts about host processes from /proc, used to tell a live init from a recycled pid.
import { readProcStat as readStat } from '../linux/procstat.ts';
import type { ProcessIdentity } from '../state/record.ts';

export function processIdentity(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime } : undefined;
}

/** Whether the process is the one we recorded and has not exited (a zombie has exited). */
export function isAlive(identity: ProcessIdentity | undefined): boolean {
  if (!identity || identity.pid <= 0) return false;
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.startTime === identity.startTime && stat.state !== 'Z' && stat.state !== 'X';
}
