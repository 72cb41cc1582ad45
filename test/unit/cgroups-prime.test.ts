// The files primeCgroupMigration writes this process's pid to: its own cgroups, from mountinfo
// and /proc/self/cgroup fixtures (no root needed; the prime itself is measured by --timings).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownProcsFiles } from '../../src/cgroups/prime.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/cgroups', name), 'utf8');
const host = (name: string, procSelfCgroup = fixture(`${name}.proc-cgroup`)) => ({ mountinfo: fixture(`${name}.mountinfo`), procSelfCgroup });

describe('ownProcsFiles', () => {
  it('hybrid: the named hierarchy first, then the unified one, then the controllers, each at our own cgroup', () => {
    const files = ownProcsFiles(host('hybrid'));
    expect(files.slice(0, 2)).toEqual(['/sys/fs/cgroup/systemd/cgroup.procs', '/sys/fs/cgroup/unified/cgroup.procs']);
    expect(files).toContain('/sys/fs/cgroup/memory/session/abc/cgroup.procs');
    expect(files).toContain('/sys/fs/cgroup/pids/cgroup.procs');
    expect(files).toHaveLength(10);
  });

  it('v2: the one cgroup2 mount, at our own cgroup', () => {
    expect(ownProcsFiles(host('v2'))).toEqual(['/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/cgroup.procs']);
  });

  it('skips a hierarchy whose mount does not show our cgroup (a bind of a subtree elsewhere)', () => {
    const mountinfo = '40 23 0:40 /other / rw - cgroup2 cgroup2 rw\n';
    expect(ownProcsFiles({ mountinfo, procSelfCgroup: '0::/mine\n' })).toEqual([]);
    expect(ownProcsFiles({ mountinfo, procSelfCgroup: '0::/other/sub\n' })).toEqual(['/sub/cgroup.procs']);
  });
});
