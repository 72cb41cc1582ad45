// encodePlan: the plan as executor packets, one per step, then END. The wire format is described
// at the top of protocol.ts (and in native/README.md): u32 type, u32 length, payload; an op payload
// is u32 opcode, u32 step index, u32 nfields, then fields (u32 len + bytes; ints are 8 bytes LE;
// lists are a count field followed by their elements).
import { HakoError } from '../errors.ts';
import { MSG, OPS, STAGE_MSG, type FieldKind } from './protocol.ts';
import type { Plan, Step } from './types.ts';

/** Bigger packets than this may not fit a SOCK_SEQPACKET socket's buffer. */
export const MAX_PACKET = 200 * 1024;

export function packet(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** A field before encoding: an integer (8 bytes), a string (UTF-8) or bytes. */
type Field = bigint | string | Uint8Array;

function intField(v: number | bigint, where: string): bigint {
  const n = typeof v === 'bigint' ? v : Number.isInteger(v) ? BigInt(v) : undefined;
  if (n === undefined || n < -(2n ** 63n) || n >= 2n ** 64n) throw new HakoError(`${where}: ${String(v)} is not a 64-bit integer`);
  return BigInt.asUintN(64, n);
}

function fieldsOf(step: Step, where: string): Field[] {
  const spec = OPS[step.op].fields as Readonly<Record<string, FieldKind>>;
  const args = step.args as Record<string, unknown>;
  const out: Field[] = [];
  for (const [name, kind] of Object.entries(spec)) {
    const v = args[name];
    const at = `${where} ${name}`;
    if (kind === 'int') out.push(intField(v as number | bigint, at));
    else if (kind === 'str') out.push(v as string);
    else if (kind === 'bytes') out.push(v as Uint8Array);
    else {
      const list = v as (number | string)[];
      out.push(intField(list.length, at));
      for (const e of list) out.push(kind === 'ints' ? intField(e as number, at) : (e as string));
    }
    if (kind === 'str' && (v as string).includes('\0')) throw new HakoError(`${step.label}: ${name} contains a NUL byte`);
    if (kind === 'strs' && (v as string[]).some((s) => s.includes('\0'))) throw new HakoError(`${step.label}: ${name} contains a NUL byte`);
  }
  return out;
}

const fieldLength = (f: Field): number => (typeof f === 'bigint' ? 8 : typeof f === 'string' ? Buffer.byteLength(f, 'utf8') : f.length);

/**
 * One packet, written straight into one buffer (sizes first): a plan is ~80 packets of a few
 * fields each, and a Buffer per field and per header cost ~7 ms of allocations and garbage.
 */
export function encodeStep(step: Step, index: number): Buffer {
  const fields = fieldsOf(step, `step ${index} (${step.op})`);
  const lengths = fields.map(fieldLength);
  const size = 8 + 12 + lengths.reduce((sum, n) => sum + 4 + n, 0);
  if (size > MAX_PACKET) throw new HakoError(`${step.label}: too large for the executor (${size} bytes)`);
  const pkt = Buffer.allocUnsafe(size);
  pkt.writeUInt32LE(STAGE_MSG[step.stage], 0);
  pkt.writeUInt32LE(size - 8, 4);
  pkt.writeUInt32LE(OPS[step.op].code, 8);
  pkt.writeUInt32LE(index, 12);
  pkt.writeUInt32LE(fields.length, 16);
  let off = 20;
  fields.forEach((f, i) => {
    off = pkt.writeUInt32LE(lengths[i]!, off);
    if (typeof f === 'bigint') off = pkt.writeBigUInt64LE(f, off);
    else if (typeof f === 'string') off += pkt.write(f, off, 'utf8');
    else {
      pkt.set(f, off);
      off += f.length;
    }
  });
  return pkt;
}

/** One packet per step, then END. Steps keep their plan index: reports name them by it. */
export function encodePlan(plan: Plan): Buffer[] {
  const out = plan.steps.map((s, i) => encodeStep(s, i));
  out.push(packet(MSG.END, Buffer.alloc(0)));
  return out;
}
