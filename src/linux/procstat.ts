// /proc/<pid>/stat, the two fields hako needs: the state letter and the start time that tells a
// live process from a recycled pid.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Field 3: R, S, D, Z, X… */
  state: string;
  /** Field 22: start time in clock ticks since boot. */
  startTime: number;
}

/** undefined when the process is gone (or /proc cannot be read). */
export function readProcStat(pid: number): ProcStat | undefined {
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
