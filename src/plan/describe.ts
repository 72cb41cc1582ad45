// describePlan: the plan as text, one line per step (what `hako create --dry-run` prints):
//   <index> <stage> <label>: <op> <name>=<value> …   flags by name, modes in octal, slots by role.
import { CAPABILITY_NAMES, RLIMITS } from '../spec/capabilities.ts';
import { CLONE, MOUNT_ATTR, MS, O, RLIM_INFINITY, S_IF, flagNames } from './constants.ts';
import { CREATE, OPS, type FieldKind } from './protocol.ts';
import { SECCOMP_FILTER_FLAG } from './seccomp.ts';
import { SLOT } from './compile.ts';
import type { Plan, Step } from './types.ts';

type Render = (v: unknown) => string | undefined;

const SLOT_NAMES: Record<number, string> = { [-2]: 'procfs', [-1]: 'host', 0: 'rootfs', 1: 'fifo', 2: 'console', 3: 'pty' };
const slot: Render = (v) => {
  const n = Number(v);
  if (SLOT_NAMES[n] !== undefined) return SLOT_NAMES[n];
  if (n === SLOT.LISTENER) return 'seccomp-agent';
  return n >= SLOT.TREE_BASE ? `tree${n - SLOT.TREE_BASE}` : `ns${n - SLOT.NS_BASE}`;
};
const flag: Render = (v) => (Number(v) ? 'yes' : undefined);
const octal: Render = (v) => `0${Number(v).toString(8).padStart(3, '0')}`;
const names =
  (table: Readonly<Record<string, number>>): Render =>
  (v) =>
    flagNames(v as number, table);
const nonzero =
  (r: Render): Render =>
  (v) =>
    BigInt(v as number | bigint) === 0n ? undefined : r(v);
const caps: Render = (v) => {
  const m = BigInt(v as number);
  const list = CAPABILITY_NAMES.filter((_, i) => (m >> BigInt(i)) & 1n);
  return list.length ? list.join(',') : 'none';
};
const limit: Render = (v) => (BigInt(v as number | bigint) === RLIM_INFINITY ? 'unlimited' : String(v));
const one =
  (table: readonly string[]): Render =>
  (v) =>
    table[Number(v)] ?? String(v);
const fileMode: Render = (v) => {
  const n = Number(v);
  const type = Object.entries(S_IF).find(([, bit]) => (n & 0o170000) === bit)?.[0] ?? '';
  return `${type}${type ? '|' : ''}${octal(n & 0o7777)}`;
};

const OFLAGS = { ...O };
const RLIMIT_NAMES = Object.fromEntries(Object.entries(RLIMITS).map(([k, v]) => [v, k]));

/** How to show each field; anything not listed prints as it is. */
const RENDER: Record<string, Render> = {
  root: slot,
  sourceRoot: slot,
  slot,
  console: slot,
  missingOk: flag,
  recursive: flag,
  foreground: flag,
  on: (v) => (Number(v) ? '1' : '0'),
  create: (v) => `${one(['none', 'dir', 'file', 'like-source'])(Number(v) & 0xff)}${Number(v) & CREATE.NOFOLLOW ? '|nofollow' : ''}`,
  exists: one(['fail', 'ok', 'replace', 'same']),
  attrSet: nonzero(names(MOUNT_ATTR)),
  attrClr: nonzero(names(MOUNT_ATTR)),
  propagation: nonzero(names(MS)),
  keep: caps,
  effective: caps,
  permitted: caps,
  inheritable: caps,
  raise: caps,
  mask: octal,
  soft: limit,
  hard: limit,
  resource: (v) => RLIMIT_NAMES[Number(v)] ?? String(v),
  nstype: names(CLONE),
  perm: (v) => `0x${Number(v).toString(16)}`,
};
const RENDER_BY_OP: Record<string, Record<string, Render>> = {
  open: { flags: (v) => (Number(v) === 0 ? 'O_RDONLY' : flagNames(v as number, OFLAGS)), mode: nonzero(octal) },
  mount: { flags: names(MS) },
  clone: { flags: names(CLONE) },
  unshare: { flags: names(CLONE) },
  mkfifo: { mode: octal },
  mknod: { mode: fileMode },
  create_modes: { dir: octal, file: octal },
  bind: { recursive: (v) => (Number(v) === 2 ? 'detached-tree' : Number(v) ? 'yes' : undefined) },
  seccomp: { setCaps: flag, flags: nonzero(names(SECCOMP_FILTER_FLAG)) },
};

function show(v: unknown, kind: FieldKind): string {
  if (kind === 'str') {
    const s = v as string;
    return s === '' || /[\s"\\]/.test(s) ? JSON.stringify(s) : s;
  }
  if (kind === 'int') return String(v);
  if (kind === 'bytes') return `<${(v as Uint8Array).length / 8} BPF instructions>`;
  return `[${(v as unknown[]).map((e) => show(e, kind === 'ints' ? 'int' : 'str')).join(' ')}]`;
}

export function describeStep(step: Step, index: number, width = 3): string {
  const fields = OPS[step.op].fields as Readonly<Record<string, FieldKind>>;
  const args = step.args as Record<string, unknown>;
  const parts: string[] = [];
  for (const [name, kind] of Object.entries(fields)) {
    const v = args[name];
    const render = RENDER_BY_OP[step.op]?.[name] ?? RENDER[name];
    if (kind === 'str' && v === '' && name !== 'content') continue;
    const text = render && kind === 'int' ? render(v) : show(v, kind);
    if (text !== undefined) parts.push(`${name}=${text}`);
  }
  return `${String(index).padStart(width)} ${step.stage.padEnd(8)} ${step.label}: ${step.op}${parts.length ? ` ${parts.join(' ')}` : ''}`;
}

export function describePlan(plan: Plan): string {
  const count = (stage: string) => plan.steps.filter((s) => s.stage === stage).length;
  const lines = [
    `plan: ${plan.steps.length} steps (executor ${count('executor')}, parent ${count('parent')}, init ${count('init')}); ` +
      `${plan.foreground ? 'foreground' : 'detached'}; preserved fds: ${plan.preserveFds}`,
  ];
  const width = String(plan.steps.length - 1).length;
  plan.steps.forEach((s, i) => lines.push(describeStep(s, i, width)));
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
