import { describe, expect, it } from 'vitest';
import { parseSignal } from '../../src/runtime/signals.ts';

describe('parseSignal', () => {
  it('takes numbers and names with or without SIG, in any case', () => {
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('0')).toBe(0);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('SIGKILL')).toBe(9);
    expect(parseSignal('term')).toBe(15);
    expect(parseSignal('SIGUSR1')).toBe(10);
    expect(parseSignal('RTMIN+2')).toBe(36);
    expect(parseSignal('SIGRTMAX')).toBe(64);
  });

  it('rejects what is not a signal', () => {
    expect(() => parseSignal('FOO')).toThrow('unknown signal "FOO"');
    expect(() => parseSignal('65')).toThrow('invalid signal: 65');
  });
});
