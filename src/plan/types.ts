// The plan: every step the executor and the init perform, in order, each with the config field
// that caused it. Built by compilePlan (compile.ts), printed by describePlan, sent by encodePlan.
import type { OpArgs, OpName, Stage } from './protocol.ts';

export type { OpName, Stage } from './protocol.ts';

/** One operation. `label` names the config field behind it: `mounts[3] /data`, `process.cwd`. */
export type Step = {
  [N in OpName]: { op: N; stage: Stage; label: string; args: OpArgs<N> };
}[OpName];

export interface Plan {
  /** Executor stage first (ending with `clone`), then the parent stage, then the init stage. */
  steps: Step[];
  /** The executor stays and exits with the init's status (`hako run` in the foreground). */
  foreground: boolean;
  /** fds 3..3+preserveFds-1 reach the container. */
  preserveFds: number;
  /** Things the config asks for that hako ignores, as runc 1.1 does (for the caller to log). */
  warnings: string[];
}

/** What the compiler may need to know about the host; gathered by readHostFacts() (host-facts.ts). */
export interface HostFacts {
  /** Mount points of the runtime's mount namespace (finds the mount holding the rootfs). */
  mountPoints?: string[];
  /** Mount points of whole (root "/") proc and sysfs filesystems: --no-pivot hides them (see compile.ts). */
  fullProcSys?: string[];
  /**
   * The cgroup hierarchies: v2 (unified, the default when absent) or v1 (also hybrid hosts) with
   * each v1 hierarchy as named under /sys/fs/cgroup ('cpu,cpuacct', 'memory', 'systemd') and, for
   * containers without a cgroup namespace, the host folder of the container's cgroup in it.
   */
  cgroup?: { version: 2 } | { version: 1; hierarchies: { name: string; hostPath?: string }[] };
  /** A resctrl filesystem is mounted (Intel RDT / AMD QoS): linux.intelRdt needs one. */
  resctrl?: boolean;
  /** /proc/kcore exists on the host (runc then links /dev/core to it). */
  procKcore?: boolean;
  /** The id maps can't be written with CAP_SETGID in the parent namespace: deny setgroups. */
  rootless?: boolean;
  /** The labelling LSMs this host runs (absent: treated as none). */
  lsm?: { apparmor: boolean; selinux: boolean };
}

/** What isn't in config.json. */
/** linux.seccomp built into BPF (src/linux/seccomp.ts) before the plan is compiled. */
export interface SeccompFilter {
  bpf: Uint8Array;
  /** seccomp(2) SECCOMP_SET_MODE_FILTER flags */
  flags: number;
  /** SCMP_ACT_NOTIFY: where the listener fd goes, with listenerMetadata */
  listener?: { path: string; metadata: string };
}

/** The container's state (ociState without status and pid) for what the init hands out: hook stdin, the seccomp listener. */
export type ContainerState = Record<string, unknown>;

export interface PlanContext {
  /** The state in-container hooks and a seccomp agent get (status and pid are added). */
  containerState?: ContainerState;
  /** linux.seccomp's filter: required when the config has linux.seccomp. */
  seccomp?: SeccompFilter;
  bundle: string;
  /** Absolute. */
  rootfs: string;
  execFifo: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /** The executor waits for the init and exits with its status. */
  foreground: boolean;
  /** Names the session keyring `_ses.<id>` as runc does. */
  containerId?: string;
  hostFacts?: HostFacts;
}
