// mounts[].options → mount(2) flags, data, propagation, recursive and bind attributes (runc's table).
import { describe, expect, it } from 'vitest';
import { MOUNT_ATTR as A, MS } from '../../src/plan/constants.ts';
import { bindAttributes, parseMountOptions } from '../../src/plan/mount-options.ts';
import { parseHostFacts } from '../../src/plan/host-facts.ts';

describe('parseMountOptions', () => {
  it.each([
    ['ro', MS.MS_RDONLY],
    ['nosuid', MS.MS_NOSUID],
    ['nodev', MS.MS_NODEV],
    ['noexec', MS.MS_NOEXEC],
    ['sync', MS.MS_SYNCHRONOUS],
    ['dirsync', MS.MS_DIRSYNC],
    ['remount', MS.MS_REMOUNT],
    ['mand', MS.MS_MANDLOCK],
    ['noatime', MS.MS_NOATIME],
    ['nodiratime', MS.MS_NODIRATIME],
    ['relatime', MS.MS_RELATIME],
    ['strictatime', MS.MS_STRICTATIME],
    ['lazytime', MS.MS_LAZYTIME],
    ['iversion', MS.MS_I_VERSION],
    ['silent', MS.MS_SILENT],
    ['acl', MS.MS_POSIXACL],
    ['nosymfollow', MS.MS_NOSYMFOLLOW],
    ['bind', MS.MS_BIND],
    ['rbind', MS.MS_BIND | MS.MS_REC],
    ['defaults', 0],
  ])('%s sets its flag', (option, flag) => {
    expect(parseMountOptions([option]).flags).toBe(flag);
  });

  it.each([
    ['rw', 'ro', MS.MS_RDONLY],
    ['suid', 'nosuid', MS.MS_NOSUID],
    ['dev', 'nodev', MS.MS_NODEV],
    ['exec', 'noexec', MS.MS_NOEXEC],
    ['async', 'sync', MS.MS_SYNCHRONOUS],
    ['atime', 'noatime', MS.MS_NOATIME],
    ['diratime', 'nodiratime', MS.MS_NODIRATIME],
    ['norelatime', 'relatime', MS.MS_RELATIME],
    ['nostrictatime', 'strictatime', MS.MS_STRICTATIME],
    ['nomand', 'mand', MS.MS_MANDLOCK],
    ['nolazytime', 'lazytime', MS.MS_LAZYTIME],
    ['loud', 'silent', MS.MS_SILENT],
  ])('%s clears what %s sets (the last one wins)', (clear, set, flag) => {
    expect(parseMountOptions([set, clear])).toMatchObject({ flags: 0, cleared: flag });
    expect(parseMountOptions([clear, set])).toMatchObject({ flags: flag, cleared: 0 });
  });

  it('unknown options are data, in order; propagation and recursive attributes are set apart', () => {
    const p = parseMountOptions(['nosuid', 'mode=755', 'rshared', 'size=1m', 'private', 'rro', 'rnoatime', 'rrw']);
    expect(p.flags).toBe(MS.MS_NOSUID);
    expect(p.data).toEqual(['mode=755', 'size=1m']);
    expect(p.propagation).toEqual([
      { option: 'rshared', type: MS.MS_SHARED, recursive: true },
      { option: 'private', type: MS.MS_PRIVATE, recursive: false },
    ]);
    // rrw after rro: read-write wins; rnoatime replaces the atime field
    expect(p.recursive).toEqual({ set: A.MOUNT_ATTR_NOATIME, clr: A.MOUNT_ATTR_RDONLY | A.MOUNT_ATTR__ATIME });
  });

  it('idmap is reported as unsupported; tmpcopyup is taken', () => {
    expect(parseMountOptions(['tmpcopyup', 'idmap']).unsupported).toHaveLength(1);
    expect(parseMountOptions(['tmpcopyup']).tmpcopyup).toBe(true);
  });
});

describe('bindAttributes', () => {
  it('sets what is asked, clears what is negated, leaves the rest to the source', () => {
    expect(bindAttributes(parseMountOptions(['rbind', 'ro', 'nosuid']))).toEqual({ set: A.MOUNT_ATTR_RDONLY | A.MOUNT_ATTR_NOSUID, clr: 0 });
    expect(bindAttributes(parseMountOptions(['bind', 'rw', 'exec']))).toEqual({ set: 0, clr: A.MOUNT_ATTR_RDONLY | A.MOUNT_ATTR_NOEXEC });
    expect(bindAttributes(parseMountOptions(['bind']))).toEqual({ set: 0, clr: 0 });
    expect(bindAttributes(parseMountOptions(['bind', 'strictatime']))).toEqual({ set: A.MOUNT_ATTR_STRICTATIME, clr: A.MOUNT_ATTR__ATIME });
    expect(bindAttributes(parseMountOptions(['bind', 'relatime']))).toEqual({ set: 0, clr: A.MOUNT_ATTR__ATIME });
  });
});

describe('parseHostFacts', () => {
  const hybrid = [
    '22 27 0:21 / /proc rw,relatime - proc proc rw',
    '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    '50 27 0:40 / /mnt/with\\040space rw - tmpfs tmpfs rw',
  ].join('\n');
  it('finds the v1 hierarchies (not the unified one) and the mount points', () => {
    const f = parseHostFacts(hybrid, false);
    expect(f.cgroup).toEqual({ version: 1, hierarchies: [{ name: 'cpu,cpuacct' }, { name: 'systemd' }] });
    expect(f.mountPoints).toContain('/mnt/with space');
    expect(f.procKcore).toBe(false);
    expect(f.resctrl).toBe(false);
    expect(parseHostFacts(`${hybrid}\n60 23 0:50 / /sys/fs/resctrl rw,relatime - resctrl resctrl rw\n`).resctrl).toBe(true);
  });
  it('a cgroup2 /sys/fs/cgroup is v2', () => {
    expect(parseHostFacts('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n').cgroup).toEqual({ version: 2 });
  });
});
