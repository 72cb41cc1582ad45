// The runtime-spec features document that `hako features` prints (features.md, features-linux.md).
// It is built from ONE table, `supported`, which must say only what hako really does: whoever makes
// hako support something more (a mount option, seccomp, idmapped mounts, systemd cgroups…) updates
// this table in the same change, and the features test checks the output against the schema.
import { CAPABILITY_NAMES } from './capabilities.ts';
import type { Features, LinuxNamespaceType } from './types.ts';

export const supported = {
  ociVersionMin: '1.0.0',
  ociVersionMax: '1.3.0',
  hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  /** Options mapped to mount(2) flags or propagation by the plan (see src/plan/); filesystem data options pass through. */
  mountOptions: [
    'async',
    'atime',
    'bind',
    'defaults',
    'dev',
    'diratime',
    'dirsync',
    'exec',
    'iversion',
    'lazytime',
    'loud',
    'mand',
    'noatime',
    'nodev',
    'nodiratime',
    'noexec',
    'noiversion',
    'nolazytime',
    'nomand',
    'norelatime',
    'nostrictatime',
    'nosuid',
    'nosymfollow',
    'private',
    'rbind',
    'relatime',
    'remount',
    'ro',
    'rprivate',
    'rshared',
    'rslave',
    'runbindable',
    'rw',
    'shared',
    'silent',
    'slave',
    'strictatime',
    'suid',
    'symfollow',
    'sync',
    'unbindable',
  ],
  namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'] as LinuxNamespaceType[],
  capabilities: CAPABILITY_NAMES,
  cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
  seccomp: false,
  apparmor: false,
  selinux: false,
  intelRdt: false,
  idmapMounts: false,
  netDevices: false,
};

/** The features document, from `supported`. */
export function featuresDocument(): Features {
  return {
    ociVersionMin: supported.ociVersionMin,
    ociVersionMax: supported.ociVersionMax,
    hooks: [...supported.hooks],
    mountOptions: [...supported.mountOptions],
    linux: {
      namespaces: [...supported.namespaces],
      capabilities: [...supported.capabilities],
      cgroup: { ...supported.cgroup },
      seccomp: { enabled: supported.seccomp },
      apparmor: { enabled: supported.apparmor },
      selinux: { enabled: supported.selinux },
      intelRdt: { enabled: supported.intelRdt },
      mountExtensions: { idmap: { enabled: supported.idmapMounts } },
      netDevices: { enabled: supported.netDevices },
    },
  };
}
