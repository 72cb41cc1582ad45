// `hako spec`: the default config.json for this host. Like runc, a cgroup namespace only on a pure
// cgroup v2 host (on v1 and hybrid hosts runc's example spec has none).
import { detectCgroupMode, type CgroupMode } from '../cgroups/host.ts';
import { defaultSpec } from '../spec/default-spec.ts';
import type { Spec } from '../spec/types.ts';

export interface SpecOptions {
  rootless?: boolean;
}

export function hostDefaultSpec(opts: SpecOptions, hostMode: () => CgroupMode = detectCgroupMode): Spec {
  let v2 = false;
  try {
    v2 = hostMode() === 'v2';
  } catch {
    // no cgroup filesystem at all: not a cgroup v2 host
  }
  return defaultSpec({ rootless: Boolean(opts.rootless), cgroupNamespace: v2 });
}
