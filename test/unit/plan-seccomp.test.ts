// linux.seccomp → libseccomp calls (pure), and where the filter goes in a plan.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { compileExecPlan, compilePlan, type PlanContext, type Step } from '../../src/plan/index.ts';
import { compileSeccomp, SCMP_ACT, SCMP_CMP, SECCOMP_FILTER_FLAG, SECCOMP_FILTER_FLAG_NEW_LISTENER } from '../../src/plan/seccomp.ts';
import { CAPABILITIES } from '../../src/spec/capabilities.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import type { LinuxSeccomp, Spec } from '../../src/spec/types.ts';
import { planContext } from '../helpers/plan.ts';

describe('compileSeccomp', () => {
  it('maps actions with their errno (EPERM by default), default action and errno, architectures, flags', () => {
    const p = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'],
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
        { names: ['rmdir'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS' },
      ],
    });
    expect(p.defaultAction).toBe(SCMP_ACT.SCMP_ACT_ERRNO | 38);
    expect(p.architectures).toEqual([
      { name: 'x86_64', field: 'linux.seccomp.architectures[0]' },
      { name: 'x86', field: 'linux.seccomp.architectures[1]' },
    ]);
    expect(p.flags).toBe(SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_LOG); // TSYNC: nothing to sync
    expect(p.rules.map((r) => [r.syscall, r.action >>> 0])).toEqual([
      ['mkdir', SCMP_ACT.SCMP_ACT_ERRNO | 1],
      ['rmdir', SCMP_ACT.SCMP_ACT_TRACE | 5],
      ['read', SCMP_ACT.SCMP_ACT_ALLOW],
      ['write', SCMP_ACT.SCMP_ACT_ALLOW],
      ['kill', SCMP_ACT.SCMP_ACT_KILL_PROCESS],
    ]);
    expect(p.rules[3]!.field).toBe('linux.seccomp.syscalls[2].names[1]');
  });

  it('drops exact repeats of a rule (libseccomp refuses them with EEXIST), keeps the same call with other conditions or actions', () => {
    const socket = (value: number) => ({ names: ['socket'], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 2, value, op: 'SCMP_CMP_NE' as const }] });
    const p = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [socket(9), socket(9), socket(8), { names: ['socket'], action: 'SCMP_ACT_LOG' }] });
    expect(p.rules.map((r) => `${r.field} ${r.conditions.map((c) => c.a).join()}`)).toEqual([
      'linux.seccomp.syscalls[0].names[0] 9',
      'linux.seccomp.syscalls[2].names[0] 8',
      'linux.seccomp.syscalls[3].names[0] ',
    ]);
  });

  it('drops rules whose action is the default (libseccomp refuses them)', () => {
    const p = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
    expect(p.rules.map((r) => r.syscall)).toEqual(['mkdir']);
  });

  it('ANDs conditions on different arguments in one rule; splits conditions on the same argument into rules (runc)', () => {
    const s: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 16, op: 'SCMP_CMP_EQ' }, { index: 2, value: 9, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2, op: 'SCMP_CMP_EQ' }] },
        { names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      ],
    };
    const rules = compileSeccomp(s).rules;
    expect(rules.map((r) => `${r.syscall}:${r.conditions.map((c) => `${c.index}${c.op}=${c.a}/${c.b}`).join('&')}`)).toEqual([
      `socket:0${SCMP_CMP.SCMP_CMP_EQ}=16/0&2${SCMP_CMP.SCMP_CMP_EQ}=9/0`,
      `personality:0${SCMP_CMP.SCMP_CMP_EQ}=1/0`,
      `personality:0${SCMP_CMP.SCMP_CMP_EQ}=2/0`,
      `clone:0${SCMP_CMP.SCMP_CMP_MASKED_EQ}=2114060288/0`,
    ]);
  });

  it('refuses what cannot work, naming the field', () => {
    const bad = (s: LinuxSeccomp) => () => compileSeccomp(s);
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] })).toThrow(
      /linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index: must be 0 to 5/,
    );
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOTIFY' }] })).toThrow(/linux\.seccomp\.listenerPath: is required/);
    expect(bad({ defaultAction: 'SCMP_ACT_NOTIFY' })).toThrow(ConfigError);
    const n = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOTIFY' }] });
    expect(n.notify).toBe(true);
    expect(n.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER).toBe(SECCOMP_FILTER_FLAG_NEW_LISTENER);
  });
});

describe('the seccomp step in a plan', () => {
  const filter = { bpf: new Uint8Array(16), flags: 2 };
  const ctx = (extra: Partial<PlanContext> = {}) => planContext({ seccomp: filter, ...extra });
  const spec = (nnp: boolean): Spec => {
    const s = defaultSpec();
    s.process!.terminal = false;
    s.process!.noNewPrivileges = nnp;
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    return s;
  };
  const ops = (steps: Step[]) => steps.map((s) => s.op);
  const admin = 2 ** CAPABILITIES.CAP_SYS_ADMIN!;

  it('with no_new_privs: loaded right before execve, after the fifo; the process never holds more caps than asked', () => {
    const st = compilePlan(spec(true), ctx()).steps;
    expect(ops(st).slice(-6)).toEqual(['find_exec', 'seccomp', 'ready', 'wait_fifo', 'started', 'exec']);
    const sc = st.find((s) => s.op === 'seccomp')!.args as Record<string, unknown>;
    expect(sc).toMatchObject({ flags: 2, setCaps: 0 });
    expect(sc.filter).toBe(filter.bpf);
    const capset = st.find((s) => s.op === 'capset')!.args as { effective: number; permitted: number; inheritable: number };
    expect(capset.effective & admin).toBe(0);
  });

  it('without no_new_privs: CAP_SYS_ADMIN kept until the load, the real sets applied right after it', () => {
    const st = compilePlan(spec(false), ctx()).steps;
    const capset = st.find((s) => s.op === 'capset')!.args as { effective: number; permitted: number; inheritable: number };
    expect(capset.effective & admin).toBe(admin);
    expect(capset.permitted & admin).toBe(admin);
    const sc = st.find((s) => s.op === 'seccomp')!.args as unknown as { setCaps: number; effective: number; inheritable: number };
    expect(sc.setCaps).toBe(1);
    expect(sc.effective & admin).toBe(0);
    expect(sc.inheritable).toBe(capset.inheritable);
  });

  it('exec gets the container filter too, right before execve; no filter, no step', () => {
    const proc = spec(true).process!;
    const st = compileExecPlan(proc, { containerId: 'c1', namespaces: [], preserveFds: 0, foreground: false, noNewKeyring: false, seccomp: filter }).steps;
    expect(ops(st).slice(-3)).toEqual(['seccomp', 'ready', 'exec']);
    const plain = defaultSpec();
    plain.process!.terminal = false;
    expect(compilePlan(plain, ctx({ seccomp: undefined })).steps.some((s) => s.op === 'seccomp')).toBe(false);
  });
});
