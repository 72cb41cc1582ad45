// linux.seccomp → the libseccomp calls that build its filter (pure; src/linux/seccomp.ts makes the
// calls and exports the BPF, the executor only loads the bytes). Every choice a runtime makes here
// follows runc 1.1 (libcontainer/seccomp/patchbpf and seccomp_linux.go) unless noted:
//   - ERRNO and TRACE return errnoRet, EPERM when absent; defaultErrnoRet likewise for the default;
//   - a rule whose action is the default action is dropped (libseccomp refuses it, and it changes
//     nothing);
//   - conditions of one syscall entry are ANDed in one rule, unless two of them test the same
//     argument: then each becomes a rule of its own (libseccomp can't AND those; runc ORs them);
//   - SCMP_CMP_MASKED_EQ tests (arg & value) == valueTwo.
import { configError } from '../errors.ts';
import type { LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArch, LinuxSeccompFlag, LinuxSeccompOperator } from '../spec/types.ts';

const EPERM = 1;

/** libseccomp's action values (seccomp.h); ERRNO and TRACE carry their data in the low 16 bits. */
export const SCMP_ACT = Object.freeze({
  SCMP_ACT_KILL: 0x00000000, // = KILL_THREAD
  SCMP_ACT_KILL_THREAD: 0x00000000,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
} satisfies Record<LinuxSeccompAction, number>);

/** enum scmp_compare */
export const SCMP_CMP = Object.freeze({
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
} satisfies Record<LinuxSeccompOperator, number>);

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags; TSYNC means nothing to a single-threaded init. */
export const SECCOMP_FILTER_FLAG = Object.freeze({
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
} satisfies Record<LinuxSeccompFlag, number>);
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

/** SCMP_ARCH_X86_64 → x86_64, the name seccomp_arch_resolve_name() takes. */
export function libseccompArchName(arch: LinuxSeccompArch): string {
  return arch.slice('SCMP_ARCH_'.length).toLowerCase();
}

export interface SeccompCondition {
  index: number;
  op: number;
  /** the value (MASKED_EQ: the mask) */
  a: bigint;
  /** MASKED_EQ: what the masked argument must equal */
  b: bigint;
}

export interface SeccompRule {
  /** where it comes from, for messages: linux.seccomp.syscalls[3].names[1] */
  field: string;
  syscall: string;
  action: number;
  conditions: SeccompCondition[];
}

export interface SeccompProgram {
  defaultAction: number;
  /** libseccomp names, each with the field it came from */
  architectures: { name: string; field: string }[];
  rules: SeccompRule[];
  /** seccomp(2) flags for loading (NEW_LISTENER added when a rule notifies) */
  flags: number;
  /** a rule or the default action is SCMP_ACT_NOTIFY */
  notify: boolean;
}

function action(name: LinuxSeccompAction, errnoRet: number | undefined): number {
  const base = SCMP_ACT[name];
  if (name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
  return base;
}

/** A uint64 from JSON (beyond 2^53 a JSON number has already lost precision). */
function u64(v: number | undefined): bigint {
  return v === undefined ? 0n : BigInt.asUintN(64, BigInt(Math.trunc(v)));
}

export function compileSeccomp(s: LinuxSeccomp): SeccompProgram {
  const defaultAction = action(s.defaultAction, s.defaultErrnoRet);
  let notify = s.defaultAction === 'SCMP_ACT_NOTIFY';
  if (notify) throw configError('linux.seccomp.defaultAction', 'SCMP_ACT_NOTIFY cannot be the default action (the agent itself could not run)');
  const rules: SeccompRule[] = [];
  const seen = new Set<string>();
  (s.syscalls ?? []).forEach((call, i) => {
    const act = action(call.action, call.errnoRet);
    if (act === defaultAction) return; // libseccomp refuses it; it would change nothing
    if (call.action === 'SCMP_ACT_NOTIFY') notify = true;
    const conditions = (call.args ?? []).map((arg, k) => {
      if (arg.index > 5) throw configError(`linux.seccomp.syscalls[${i}].args[${k}].index`, `must be 0 to 5 (a system call has six arguments), not ${arg.index}`);
      return { index: arg.index, op: SCMP_CMP[arg.op], a: u64(arg.value), b: u64(arg.valueTwo) };
    });
    const indexes = conditions.map((c) => c.index);
    const sameArgTwice = new Set(indexes).size !== indexes.length;
    call.names.forEach((syscall, n) => {
      const field = `linux.seccomp.syscalls[${i}].names[${n}]`;
      const add = (conds: SeccompCondition[]) => {
        // An exact repeat (profiles repeat entries, e.g. podman's socket rules without CAP_AUDIT_WRITE)
        // changes nothing, and libseccomp refuses it with EEXIST.
        const key = `${syscall}/${act}/${conds.map((c) => `${c.index},${c.op},${c.a},${c.b}`).join(';')}`;
        if (seen.has(key)) return;
        seen.add(key);
        rules.push({ field, syscall, action: act, conditions: conds });
      };
      if (sameArgTwice) for (const c of conditions) add([c]);
      else add(conditions);
    });
  });
  if (notify && !s.listenerPath) throw configError('linux.seccomp.listenerPath', 'is required when an action is SCMP_ACT_NOTIFY');
  let flags = 0;
  for (const f of s.flags ?? []) flags |= SECCOMP_FILTER_FLAG[f];
  flags &= ~SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_TSYNC;
  if (notify) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  const architectures = (s.architectures ?? []).map((a, i) => ({ name: libseccompArchName(a), field: `linux.seccomp.architectures[${i}]` }));
  return { defaultAction, architectures, rules, flags, notify };
}
