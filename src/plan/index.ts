// The plan compiler: config.json → ordered steps (compile.ts), as text (describe.ts), as packets
// for the executor (encode.ts). Pure: no fs, no syscalls (host-facts.ts is the one impure helper).
export { compilePlan, execCandidates, idMapText, mountPointOf, SLOT } from './compile.ts';
export { describePlan, describeStep } from './describe.ts';
export { compileExecPlan, EXEC_NAMESPACE_ORDER, type ExecNamespaceType, type ExecPlanContext } from './exec.ts';
export { parseHostFacts, readHostFacts, readLsm } from './host-facts.ts';
export { encodePlan, encodeStep, packet } from './encode.ts';
export { MSG, OPS } from './protocol.ts';
export type { ContainerState, HostFacts, OpName, Plan, PlanContext, SeccompFilter, Stage, Step } from './types.ts';
