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

function intField(v: number | bigint, where: string): Buffer {
  const n = typeof v === 'bigint' ? v : Number.isInteger(v) ? BigInt(v) : undefined;
  if (n === undefined || n < -(2n ** 63n) || n >= 2n ** 64n) throw new HakoError(`${where}: ${String(v)} is not a 64-bit integer`);
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt.asUintN(64, n));
  return buf;
}

function fieldsOf(step: Step, where: string): Buffer[] {
  const spec = OPS[step.op].fields as Readonly<Record<string, FieldKind>>;
  const args = step.args as Record<string, unknown>;
  const out: Buffer[] = [];
  for (const [name, kind] of Object.entries(spec)) {
    const v = args[name];
    const at = `${where} ${name}`;
    if (kind === 'int') out.push(intField(v as number | bigint, at));
    else if (kind === 'str') out.push(Buffer.from(v as string, 'utf8'));
    else if (kind === 'bytes') out.push(Buffer.from(v as Uint8Array));
    else {
      const list = v as (number | string)[];
      out.push(intField(list.length, at));
      for (const e of list) out.push(kind === 'ints' ? intField(e as number, at) : Buffer.from(e as string, 'utf8'));
    }
    if (kind === 'str' && (v as string).includes('\0')) throw new HakoError(`${step.label}: ${name} contains a NUL byte`);
    if (kind === 'strs' && (v as string[]).some((s) => s.includes('\0'))) throw new HakoError(`${step.label}: ${name} contains a NUL byte`);
  }
  return out;
}

export function encodeStep(step: Step, index: number): Buffer {
  const fields = fieldsOf(step, `step ${index} (${step.op})`);
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.writeUInt32LE(OPS[step.op].code, 0);
  head.writeUInt32LE(index, 4);
  head.writeUInt32LE(fields.length, 8);
  parts.push(head);
  for (const f of fields) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(f.length);
    parts.push(len, f);
  }
  const pkt = packet(STAGE_MSG[step.stage], Buffer.concat(parts));
  if (pkt.length > MAX_PACKET) throw new HakoError(`${step.label}: too large for the executor (${pkt.length} bytes)`);
  return pkt;
}

/** One packet per step, then END. Steps keep their plan index: reports name them by it. */
export function encodePlan(plan: Plan): Buffer[] {
  const out = plan.steps.map((s, i) => encodeStep(s, i));
  out.push(packet(MSG.END, Buffer.alloc(0)));
  return out;
}
