import { constants } from 'node:os';
import { HakoError } from '../errors.ts';

/** runc's rule: a number, or a name with or without the SIG prefix, in any case. 0 checks existence. */
export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 0 && n <= 64) return n;
    throw new HakoError(`invalid signal: ${text}`);
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const offset = Number(rt[1] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? 34 + offset : 64 - offset;
    if (n >= 34 && n <= 64) return n;
  }
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new HakoError(`unknown signal "${text}"`);
  return n;
}
