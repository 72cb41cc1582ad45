import { describe, expect, it } from 'vitest';
import { parseMountOptions } from '../../src/plan/mount-options.ts';
import { CAPABILITY_NAMES } from '../../src/spec/capabilities.ts';
import { featuresDocument, supported } from '../../src/spec/features.ts';
import { validateFeatures } from '../../src/spec/load.ts';

describe('featuresDocument', () => {
  it('is valid against the features schema', () => {
    const doc = featuresDocument();
    expect(validateFeatures(doc)).toEqual(doc);
  });

  it('says what hako supports today, from the `supported` table', () => {
    const doc = featuresDocument();
    expect(doc.ociVersionMin).toBe('1.0.0');
    expect(doc.ociVersionMax).toBe('1.3.0');
    expect(doc.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(doc.linux?.namespaces).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
    expect(doc.linux?.capabilities).toEqual(CAPABILITY_NAMES);
    expect(doc.linux?.capabilities).toEqual(expect.arrayContaining(['CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE']));
    expect(doc.linux?.seccomp).toEqual({ enabled: false }); // without what seccompFeatures() found
    expect(doc.linux?.apparmor).toEqual({ enabled: false });
    expect(doc.linux?.selinux).toEqual({ enabled: false });
    expect(doc.linux?.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: false });
    expect(doc.mountOptions).toEqual(supported.mountOptions);
    expect(doc.mountOptions).toEqual(expect.arrayContaining(['ro', 'nosuid', 'rbind', 'rslave', 'strictatime', 'rro']));
    // every option it lists is one the plan compiler really maps (none that it refuses)
    for (const option of doc.mountOptions!) expect(() => parseMountOptions([option]), option).not.toThrow();
    expect(doc.mountOptions).toContain('tmpcopyup');
    expect(doc.mountOptions).toEqual([...new Set(doc.mountOptions)].sort());
  });

  it('copies the table, so callers cannot change it', () => {
    featuresDocument().mountOptions!.push('idmap');
    expect(featuresDocument().mountOptions).not.toContain('idmap');
  });
});

describe('seccompFeatures (this host: libseccomp2 and the kernel asked for real)', () => {
  it("reports this libseccomp's actions, operators and architectures, and the flags the kernel takes", async () => {
    const { seccompFeatures } = await import('../../src/linux/seccomp.ts');
    const s = await seccompFeatures();
    expect(s.enabled).toBe(true);
    expect(s.actions).toEqual(expect.arrayContaining(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG']));
    expect(s.actions).toContain('SCMP_ACT_NOTIFY'); // libseccomp 2.5 (API level 6) on this host
    expect(s.operators).toHaveLength(7);
    expect(s.archs).toEqual(expect.arrayContaining(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64']));
    expect(s.knownFlags).toEqual(expect.arrayContaining(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']));
    expect(s.supportedFlags).toEqual(expect.arrayContaining(['SECCOMP_FILTER_FLAG_LOG']));
    const doc = featuresDocument(s);
    expect(validateFeatures(doc)).toEqual(doc);
  });
});
