// The process surface the plan applies for real: scheduler, ioPriority, personality, HOME, ambient capabilities.
import { describe, expect, it } from 'vitest';
import { compileExecPlan, compilePlan, type Step } from '../../src/plan/index.ts';
import { ioPriorityValue, schedulerArgs } from '../../src/plan/compile.ts';
import { CAPABILITIES } from '../../src/spec/capabilities.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import type { Spec } from '../../src/spec/types.ts';
import { planContext } from '../helpers/plan.ts';

const ctx = planContext();
const spec = (edit: (s: Spec) => void = () => {}): Spec => {
  const s = defaultSpec();
  s.process!.terminal = false;
  edit(s);
  return s;
};
const step = (steps: Step[], op: string) => steps.find((s) => s.op === op);
const bit = (name: string) => 1n << BigInt(CAPABILITIES[name]!);

describe('process surface', () => {
  it('scheduler and ioPriority: sched_setattr and ioprio_set values, applied before capabilities drop, for create and exec', () => {
    expect(schedulerArgs({ policy: 'SCHED_BATCH', nice: 7 })).toEqual({ policy: 3, flags: 0, nice: 7, priority: 0, runtime: 0, deadline: 0, period: 0 });
    expect(schedulerArgs({ policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 3, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_UTIL_CLAMP_MAX'] })).toMatchObject({
      policy: 6,
      flags: 0x41,
      runtime: 1,
    });
    expect(ioPriorityValue({ class: 'IOPRIO_CLASS_BE', priority: 4 })).toBe((2 << 13) | 4);
    expect(ioPriorityValue({ class: 'IOPRIO_CLASS_IDLE' })).toBe(3 << 13);
    expect(() => ioPriorityValue({ class: 'IOPRIO_CLASS_RT', priority: 9 })).toThrow(/process\.ioPriority\.priority: must be 0 to 7/);
    const s = spec((x) => {
      x.process!.scheduler = { policy: 'SCHED_IDLE' };
      x.process!.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 1 };
    });
    for (const steps of [compilePlan(s, ctx).steps, compileExecPlan(s.process!, { containerId: 'c', namespaces: [], preserveFds: 0, foreground: false, noNewKeyring: false }).steps]) {
      const ops = steps.map((x) => x.op);
      expect(ops.indexOf('sched')).toBeGreaterThan(-1);
      expect(ops.indexOf('sched')).toBeLessThan(ops.indexOf('setid'));
      expect(step(steps, 'ioprio')!.args).toEqual({ value: (1 << 13) | 1 });
    }
    expect(compilePlan(s, ctx).warnings).toEqual([]);
  });

  it('personality: LINUX32 is PER_LINUX32, LINUX is 0; flags are warned about', () => {
    const p = compilePlan(spec((x) => (x.linux!.personality = { domain: 'LINUX32', flags: ['X'] })), ctx);
    expect(step(p.steps, 'personality')!.args).toEqual({ persona: 8 });
    expect(p.warnings).toEqual(['linux.personality.flags ignored: X (no flag is supported)']);
    expect(step(compilePlan(spec((x) => (x.linux!.personality = { domain: 'LINUX' })), ctx).steps, 'personality')!.args).toEqual({ persona: 0 });
  });

  it("HOME: looked up for the process's uid only when process.env has none", () => {
    const without = compilePlan(spec((x) => (x.process!.user = { uid: 1000, gid: 1000 })), ctx).steps;
    expect(step(without, 'default_home')!.args).toEqual({ uid: 1000 });
    expect(without.indexOf(step(without, 'default_home')!)).toBeLessThan(without.indexOf(step(without, 'setid')!));
    const withHome = compilePlan(spec((x) => x.process!.env!.push('HOME=/srv')), ctx).steps;
    expect(step(withHome, 'default_home')).toBeUndefined();
  });

  it('ambient capabilities that are not also inheritable are not raised, with a warning (a `runc spec` bundle runs)', () => {
    const p = compilePlan(
      spec((x) => {
        const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
        x.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, ambient: caps };
      }),
      ctx,
    );
    expect(step(p.steps, 'ambient')).toBeUndefined();
    expect(p.warnings).toEqual(['process.capabilities.ambient: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE not raised: an ambient capability must also be permitted and inheritable']);
    const q = compilePlan(
      spec((x) => {
        x.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL', 'CAP_CHOWN'] };
      }),
      ctx,
    );
    expect(BigInt((step(q.steps, 'ambient')!.args as { raise: number }).raise)).toBe(bit('CAP_KILL'));
    expect(q.warnings).toHaveLength(1);
  });

  it("stdio of a non-root process: chown_stdio for the container's own pty or pipes, before the user switch; none for root", () => {
    const user = compilePlan(spec((x) => (x.process!.user = { uid: 1000, gid: 1000 })), ctx).steps;
    expect(step(user, 'chown_stdio')!.args).toEqual({ uid: 1000, pty: 0 });
    expect(user.indexOf(step(user, 'chown_stdio')!)).toBeLessThan(user.indexOf(step(user, 'setid')!));
    const tty = compilePlan(
      spec((x) => {
        x.process!.user = { uid: 1000, gid: 1000 };
        x.process!.terminal = true;
      }),
      { ...ctx, consoleSocket: '/run/c.sock' },
    ).steps;
    expect(step(tty, 'chown_stdio')!.args).toEqual({ uid: 1000, pty: 1 });
    expect(step(compilePlan(spec(), ctx).steps, 'chown_stdio')).toBeUndefined();
  });
});

describe('LSM labels', () => {
  it('without the LSM on the host: refused naming the field, as runc fails; with it: the exec attribute written before the user switch', () => {
    const aa = spec((x) => (x.process!.apparmorProfile = 'docker-default'));
    expect(() => compilePlan(aa, { ...ctx, hostFacts: { lsm: { apparmor: false, selinux: false } } })).toThrow(/process\.apparmorProfile: AppArmor is not enabled on this host/);
    const st = compilePlan(aa, { ...ctx, hostFacts: { lsm: { apparmor: true, selinux: false } } }).steps;
    const w = st.find((s) => s.label === 'process.apparmorProfile')!;
    expect(w.args).toEqual({ root: -2, path: 'thread-self/attr/apparmor/exec', content: 'exec docker-default', missingOk: 0 });
    expect(st.indexOf(w)).toBeLessThan(st.findIndex((s) => s.op === 'setid'));
    const se = spec((x) => (x.process!.selinuxLabel = 'system_u:system_r:container_t:s0'));
    expect(() => compilePlan(se, ctx)).toThrow(/process\.selinuxLabel: selinux label is specified in config, but selinux is disabled or not supported/);
    expect(compilePlan(se, { ...ctx, hostFacts: { lsm: { apparmor: false, selinux: true } } }).steps.find((s) => s.label === 'process.selinuxLabel')!.args).toMatchObject({
      path: 'thread-self/attr/exec',
      content: 'system_u:system_r:container_t:s0',
    });
  });
});

describe('CPU lists (process.execCPUAffinity)', () => {
  it('turns "0-2,5" into a sched_setaffinity mask, every CPU when absent, and names the field when wrong', async () => {
    const { cpuListMask, CPU_MASK_BYTES } = await import('../../src/plan/cpu-list.ts');
    const m = cpuListMask('0-2, 5,9', 'process.execCPUAffinity.final');
    expect(m).toHaveLength(CPU_MASK_BYTES);
    expect([m[0], m[1], m[2]]).toEqual([0b00100111, 0b00000010, 0]);
    expect(cpuListMask(undefined, 'x').every((b) => b === 0xff)).toBe(true);
    expect(() => cpuListMask('3-1', 'process.execCPUAffinity.initial')).toThrow(/process\.execCPUAffinity\.initial: 3-1: the range ends before it starts/);
    expect(() => cpuListMask('a', 'process.execCPUAffinity.final')).toThrow(/"a" is not a CPU or a range of CPUs/);
    expect(() => cpuListMask('', 'f')).toThrow(/names no CPU/);
    expect(() => cpuListMask('4096', 'f')).toThrow(/beyond the 1024 CPUs/);
  });
});
