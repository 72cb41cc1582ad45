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
    // createContainer/startContainer run inside the container and are not built yet
    expect(doc.hooks).toEqual(['prestart', 'createRuntime', 'poststart', 'poststop']);
    expect(doc.linux?.namespaces).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
    expect(doc.linux?.capabilities).toEqual(CAPABILITY_NAMES);
    expect(doc.linux?.capabilities).toEqual(expect.arrayContaining(['CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE']));
    expect(doc.linux?.seccomp).toEqual({ enabled: false });
    expect(doc.linux?.apparmor).toEqual({ enabled: false });
    expect(doc.linux?.selinux).toEqual({ enabled: false });
    expect(doc.linux?.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: false });
    expect(doc.mountOptions).toEqual(supported.mountOptions);
    expect(doc.mountOptions).toEqual(expect.arrayContaining(['ro', 'nosuid', 'rbind', 'rslave', 'strictatime', 'rro']));
    // every option it lists is one the plan compiler really maps (none that it refuses)
    for (const option of doc.mountOptions!) expect(() => parseMountOptions([option]), option).not.toThrow();
    expect(doc.mountOptions).not.toContain('tmpcopyup');
    expect(doc.mountOptions).toEqual([...new Set(doc.mountOptions)].sort());
  });

  it('copies the table, so callers cannot change it', () => {
    featuresDocument().mountOptions!.push('idmap');
    expect(featuresDocument().mountOptions).not.toContain('idmap');
  });
});
