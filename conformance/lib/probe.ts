// Reading what the probe printed: JSON lines in a container's stdout, plus parsers for the raw kernel
// text it passes through (/proc/self/status, mountinfo, id maps).
import { readFileSync } from 'node:fs';

export type Report = Record<string, unknown>;

/** Every JSON object line in a text (other lines, e.g. a terminal's echo, are ignored). */
export function jsonLines(text: string): Report[] {
  const out: Report[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const v = JSON.parse(line.slice(start)) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Report);
    } catch {
      // not a probe line
    }
  }
  return out;
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** /proc/self/status as key -> value (values trimmed). */
export function parseStatus(text: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof text !== 'string') return out;
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** "0\t0\t0\t0" -> [0,0,0,0] (Uid:/Gid: lines); "1 2 3" -> [1,2,3] (Groups:). */
export function numbers(s: string | undefined): number[] {
  return (s ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

/** A uid_map/gid_map text -> [[inside, outside, count], ...]. */
export function parseIdMap(text: unknown): number[][] {
  if (typeof text !== 'string') return [];
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => numbers(l));
}

export interface StatInfo {
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  major?: number;
  minor?: number;
  size?: number;
  target?: string;
  errno?: number;
  error?: string;
}

export interface Attempt {
  ok: boolean;
  errno?: number;
  error?: string;
}

export function asStat(v: unknown): StatInfo {
  return v && typeof v === 'object' ? (v as StatInfo) : { errno: -1 };
}

export function asAttempt(v: unknown): Attempt {
  return v && typeof v === 'object' ? (v as Attempt) : { ok: false, errno: -1 };
}

export const ERRNO = { EPERM: 1, ENOENT: 2, EACCES: 13, EEXIST: 17, EXDEV: 18, EROFS: 30, ENOSYS: 38 } as const;
