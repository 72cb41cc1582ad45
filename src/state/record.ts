// What hako keeps about a container in <root>/<id>/state.json. This is hako's own record, not
// the OCI state document; runtime/status.ts derives the OCI state from it and from the live
// process.
import type { CgroupState } from '../cgroups/types.ts';
import type { Spec } from '../spec/types.ts';

/** A container without a mount namespace: its mounts are in the host's table (runtime/host-mounts.ts). */
export interface HostMounts {
  /** The rootfs as the mount table names it (symlinks in the bundle's path resolved). */
  rootfs: string;
  /** Mount ids under the rootfs before create: not the container's, never unmounted. */
  keep: number[];
}

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22): guards against pid reuse. */
  startTime: number;
}

export interface ContainerRecord {
  id: string;
  ociVersion: string;
  /** Absolute path of the bundle. */
  bundle: string;
  /** Absolute path of the root filesystem. */
  rootfs: string;
  /** RFC 3339 time of creation. */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The container's init, once it exists. */
  init?: ProcessIdentity;
  /** The `hako create` that is building the container, while status is creating. */
  creator?: ProcessIdentity;
  /** The caller a daemon served this create for (bin/hako's front): kept, so that caller can tell the container is its own if the daemon dies before answering. */
  requestedBy?: ProcessIdentity;
  /** The container's cgroups as resolved and created at create (what delete removes). */
  cgroups?: CgroupState;
  /** The validated config the container was created from (hooks, namespaces, process defaults for exec). */
  config: Spec;
  /** Created with --no-new-keyring: exec'd processes don't join the container's session keyring either. */
  noNewKeyring?: true;
  /** No mount namespace: the mounts under the rootfs before create (delete unmounts every other one). */
  hostMounts?: HostMounts;
}
