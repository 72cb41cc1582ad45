// One source of truth for the protocol: src/plan/protocol.ts. The C side (native/executor/
// protocol.h and the op table in main.c) must say the same, or this fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MSG, OPS } from '../../src/plan/protocol.ts';

const native = join(import.meta.dirname, '../../native/executor');
const header = readFileSync(join(native, 'protocol.h'), 'utf8');
const mainC = readFileSync(join(native, 'main.c'), 'utf8');

function cEnum(prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of header.matchAll(new RegExp(`\\b${prefix}([A-Z_]+) = (\\d+),`, 'g'))) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('executor protocol: TS and C agree', () => {
  it('message types', () => {
    const c = cEnum('MSG_');
    expect(Object.fromEntries(c)).toEqual({ ...MSG });
  });

  it('opcodes: every TS op has the same code in C, and nothing else is in C', () => {
    const c = cEnum('OP_');
    const max = c.get('MAX');
    c.delete('MAX');
    const ts = Object.fromEntries(Object.entries(OPS).map(([name, op]) => [name.toUpperCase(), op.code]));
    expect(Object.fromEntries(c)).toEqual(ts);
    expect(max).toBe(Math.max(...Object.values(ts)) + 1);
  });

  it("field counts: the C op table's fixed fields and lists match the TS field lists", () => {
    const table = new Map<string, { nfields: number; lists: number }>();
    for (const m of mainC.matchAll(/\[OP_([A-Z_]+)\] = \{ "[a-z_]+", \w+, (\d+), (\d+) \}/g)) {
      table.set(m[1]!, { nfields: Number(m[2]), lists: Number(m[3]) });
    }
    for (const [name, op] of Object.entries(OPS)) {
      const kinds = Object.values(op.fields) as string[];
      const lists = kinds.filter((k) => k === 'ints' || k === 'strs').length;
      // lists come last, so a list is never followed by a fixed field
      expect(kinds.slice(kinds.length - lists).every((k) => k === 'ints' || k === 'strs'), name).toBe(true);
      expect(table.get(name.toUpperCase()), name).toEqual({ nfields: kinds.length, lists });
    }
    expect(table.size).toBe(Object.keys(OPS).length);
  });
});
