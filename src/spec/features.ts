// The runtime-spec features document that `hako features` prints (features.md, features-linux.md).
// It is built from ONE table, `supported`, which must say only what hako really does: whoever makes
// hako support something more (a mount option, seccomp, idmapped mounts, systemd cgroups…) updates
// this table in the same change, and the features test checks the output against the schema.
import { MAPPED_MOUNT_OPTIONS } from '../plan/mount-options.ts';
import { CAPABILITY_NAMES } from './capabilities.ts';
import type { Features, LinuxNamespaceType, SeccompFeatures } from './types.ts';

export const supported = {
  ociVersionMin: '1.0.0',
  ociVersionMax: '1.3.0',
  // createContainer and startContainer are run by the init, inside the container (src/plan/compile.ts).
  hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  /** The options the plan compiler maps (flags, propagation, recursive attributes); filesystem data options pass through. */
  mountOptions: MAPPED_MOUNT_OPTIONS,
  namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'] as LinuxNamespaceType[],
  capabilities: CAPABILITY_NAMES,
  cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
  // linux.seccomp: what this host's libseccomp and kernel support is asked at run time (seccompFeatures)
  apparmor: false,
  selinux: false,
  intelRdt: false,
  idmapMounts: false,
  netDevices: false,
};

/** The features document, from `supported` and what seccompFeatures() found on this host. */
export function featuresDocument(seccomp: SeccompFeatures = { enabled: false }): Features {
  return {
    ociVersionMin: supported.ociVersionMin,
    ociVersionMax: supported.ociVersionMax,
    hooks: [...supported.hooks],
    mountOptions: [...supported.mountOptions],
    linux: {
      namespaces: [...supported.namespaces],
      capabilities: [...supported.capabilities],
      cgroup: { ...supported.cgroup },
      seccomp,
      apparmor: { enabled: supported.apparmor },
      selinux: { enabled: supported.selinux },
      intelRdt: { enabled: supported.intelRdt },
      mountExtensions: { idmap: { enabled: supported.idmapMounts } },
      netDevices: { enabled: supported.netDevices },
    },
  };
}
