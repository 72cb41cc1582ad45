// Facts about host processes from /proc, used to tell a live init from a recycled pid.
import { readFileSync } from 'node:fs';
import type { ProcessIdentity } from '../state/record.ts';

interface ProcStat {
  state: string;
  startTime: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  return { state: fields[0] ?? '?', startTime: Number(fields[19]) };
}

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
