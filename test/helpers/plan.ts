// A plan context for the compiler's unit tests (no host is read): bundle /b, a created container c1.
import type { PlanContext } from '../../src/plan/index.ts';

export function planContext(extra: Partial<PlanContext> = {}): PlanContext {
  return {
    bundle: '/b',
    rootfs: '/b/rootfs',
    execFifo: '/run/hako/c1/exec.fifo',
    noPivot: false,
    noNewKeyring: false,
    preserveFds: 0,
    foreground: false,
    containerId: 'c1',
    ...extra,
  };
}
