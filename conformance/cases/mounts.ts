// config.md#mounts and config-linux.md#rootfs-mount-propagation: what the container's mount table shows.
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext } from '../lib/case.ts';
import { sleep } from '../lib/case.ts';
import { hostMount, lazyUnmount, MS, parseMountinfo } from '../lib/host.ts';
import type { MountEntry } from '../lib/host.ts';
import { asAttempt, asStat, readText } from '../lib/probe.ts';
import type { Report } from '../lib/probe.ts';

function mounts(r: Report): MountEntry[] {
  return parseMountinfo(String(r.mountinfo ?? ''));
}

/** The last (top-most) mount at a mount point. */
function at(r: Report, point: string): MountEntry | undefined {
  return mounts(r)
    .filter((m) => m.mountPoint === point)
    .pop();
}

function propagation(m: MountEntry | undefined): string {
  if (!m) return 'absent';
  const tags = m.optional.map((o) => o.replace(/:\d+$/, ''));
  return tags.length ? tags.sort().join(',') : 'private';
}

/** A host directory with a marker file, for bind mounts. */
function hostDir(t: CaseContext, name: string, marker = 'marker'): string {
  const d = join(t.dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, marker), `${name}\n`);
  return d;
}

/** A host directory made a shared mount point (bind onto itself + MS_SHARED); unmounted in teardown. */
async function sharedHostDir(t: CaseContext, name: string): Promise<string> {
  const d = hostDir(t, name);
  t.must(await hostMount(d, d, null, MS.BIND, null), `bind-mount ${d} onto itself`);
  t.defer(async () => {
    await lazyUnmount(d);
  });
  t.must(await hostMount(null, d, null, MS.SHARED, null), `make ${d} shared`);
  return d;
}

export const mountCases: Case[] = [
  {
    name: 'mounts/order',
    section: 'config.md#mounts',
    spec: 'The runtime MUST mount entries in the listed order',
    async run(t) {
      const src = hostDir(t, 'inner');
      const r = await t.probe(['mountinfo', 'ls:/mnt/outer/inner'], (s) => {
        s.mounts!.push({ destination: '/mnt/outer', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        s.mounts!.push({ destination: '/mnt/outer/inner', type: 'bind', source: src, options: ['bind'] });
      });
      const points = mounts(r).map((m) => m.mountPoint);
      const a = points.indexOf('/mnt/outer');
      const b = points.indexOf('/mnt/outer/inner');
      t.check(a >= 0 && b > a, `/mnt/outer must be mounted before /mnt/outer/inner: ${JSON.stringify(points.filter((p) => p.startsWith('/mnt')))}`);
      t.equal(r['ls:/mnt/outer/inner'], ['marker'], 'the later bind mount is on top of the earlier tmpfs');
    },
  },
  {
    name: 'mounts/bind',
    section: 'config.md#mounts',
    spec: 'bind: bind mount of a host directory, read-write by default',
    async run(t) {
      const src = hostDir(t, 'data');
      const r = await t.probe(['file:/data/marker', 'writable:/data', 'mountinfo'], (s) => {
        s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['bind'] });
      });
      t.equal(r['file:/data/marker'], 'data\n', 'the host file is visible');
      t.equal(asAttempt(r['writable:/data']).ok, true, 'the bind mount is writable');
      t.check(at(r, '/data'), '/data must be a mount point');
    },
  },
  {
    name: 'mounts/bind-readonly',
    section: 'config.md#linux-mount-options',
    spec: 'ro (MUST): a read-only bind mount',
    async run(t) {
      const src = hostDir(t, 'data');
      const r = await t.probe(['writable:/data', 'mountinfo'], (s) => {
        s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['bind', 'ro'] });
      });
      const w = asAttempt(r['writable:/data']);
      t.equal([w.ok, w.errno], [false, 30], 'writing into a ro bind mount fails with EROFS');
      t.check(at(r, '/data')?.options.includes('ro'), `/data mount options must include ro: ${at(r, '/data')?.options.join(',')}`);
    },
  },
  {
    name: 'mounts/bind-file',
    section: 'config.md#mounts',
    spec: 'source can also be a file for bind mounts',
    async run(t) {
      const d = hostDir(t, 'files', 'the-file');
      const r = await t.probe(['file:/etc/bound-file', 'stat:/etc/bound-file'], (s) => {
        s.mounts!.push({ destination: '/etc/bound-file', type: 'bind', source: join(d, 'the-file'), options: ['bind', 'ro'] });
      });
      t.equal(r['file:/etc/bound-file'], 'files\n', 'the bound file content');
      t.equal(asStat(r['stat:/etc/bound-file']).type, 'f', 'the mount point is a file');
    },
  },
  {
    name: 'mounts/bind-source-relative-to-bundle',
    section: 'config.md#mounts',
    spec: 'Path values for bind mounts are either absolute or relative to the bundle',
    async run(t) {
      const r = await t.probe(['file:/data/marker'], (s, b) => {
        mkdirSync(join(b.dir, 'reldata'));
        writeFileSync(join(b.dir, 'reldata', 'marker'), 'relative\n');
        s.mounts!.push({ destination: '/data', type: 'bind', source: 'reldata', options: ['bind'] });
      });
      t.equal(r['file:/data/marker'], 'relative\n', 'a relative bind source is taken from the bundle');
    },
  },
  {
    name: 'mounts/bind-vs-rbind',
    section: 'config.md#linux-mount-options',
    spec: 'bind does not carry submounts; rbind (recursive bind mount) does',
    async run(t) {
      const src = hostDir(t, 'tree');
      const sub = join(src, 'sub');
      mkdirSync(sub);
      t.must(await hostMount('tmpfs', sub, 'tmpfs', 0, 'size=1m'), `mount a tmpfs at ${sub}`);
      t.defer(async () => {
        await lazyUnmount(sub);
      });
      writeFileSync(join(sub, 'in-submount'), 'x');
      const r = await t.probe(['ls:/plain/sub', 'ls:/recursive/sub'], (s) => {
        s.mounts!.push({ destination: '/plain', type: 'bind', source: src, options: ['bind'] });
        s.mounts!.push({ destination: '/recursive', type: 'bind', source: src, options: ['rbind'] });
      });
      t.equal(r['ls:/plain/sub'], [], 'a plain bind shows the empty directory under the submount');
      t.equal(r['ls:/recursive/sub'], ['in-submount'], 'an rbind carries the submount');
    },
  },
  {
    name: 'mounts/tmpfs-options',
    section: 'config.md#linux-mount-options',
    spec: 'nosuid, nodev, noexec and filesystem-specific options (mode, size) are applied',
    async run(t) {
      const r = await t.probe(['mountinfo', 'stat:/mnt/t'], (s) => {
        s.mounts!.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1770', 'size=1m'] });
      });
      const m = t.must(at(r, '/mnt/t'), '/mnt/t must be a mount point');
      t.equal(m.fsType, 'tmpfs', 'type');
      for (const o of ['nosuid', 'nodev', 'noexec']) t.check(m.options.includes(o), `option ${o}: ${m.options.join(',')}`);
      t.check(m.superOptions.includes('size=1024k'), `size=1m: ${m.superOptions.join(',')}`);
      t.equal(asStat(r['stat:/mnt/t']).mode, 0o1770, 'mode=1770');
    },
  },
  {
    name: 'mounts/atime-and-sync-options',
    section: 'config.md#linux-mount-options',
    spec: 'noatime, nodiratime, sync, ro, remount (MUST options) reach mount(2)',
    async run(t) {
      const r = await t.probe(['mountinfo'], (s) => {
        s.mounts!.push({ destination: '/mnt/a', type: 'tmpfs', source: 'tmpfs', options: ['noatime', 'nodiratime', 'sync', 'ro'] });
      });
      const m = t.must(at(r, '/mnt/a'), '/mnt/a must be a mount point');
      for (const o of ['noatime', 'nodiratime', 'ro']) t.check(m.options.includes(o), `option ${o}: ${m.options.join(',')}`);
      t.check(m.options.includes('sync') || m.superOptions.includes('sync'), `option sync: ${m.options.join(',')} / ${m.superOptions.join(',')}`);
    },
  },
  {
    name: 'mounts/proc-sysfs-devpts-mqueue-shm',
    section: 'config-linux.md#default-filesystems',
    spec: 'The following filesystems SHOULD be made available: /proc (proc), /sys (sysfs), /dev/pts (devpts), /dev/shm (tmpfs); plus mqueue as configured',
    async run(t) {
      const r = await t.probe(['mountinfo']);
      const want: [string, string][] = [
        ['/proc', 'proc'],
        ['/sys', 'sysfs'],
        ['/dev/pts', 'devpts'],
        ['/dev/shm', 'tmpfs'],
        ['/dev/mqueue', 'mqueue'],
        ['/dev', 'tmpfs'],
      ];
      for (const [p, type] of want) t.equal(at(r, p)?.fsType, type, `${p} type`);
      t.check(at(r, '/sys')?.options.includes('ro'), '/sys is mounted ro (as configured)');
      const pts = at(r, '/dev/pts');
      t.check(pts?.superOptions.some((o) => o === 'ptmxmode=666'), `devpts ptmxmode=0666: ${pts?.superOptions.join(',')}`);
      t.check(pts?.superOptions.some((o) => o === 'gid=5'), `devpts gid=5: ${pts?.superOptions.join(',')}`);
      t.observe('mount.points', mounts(r).map((m) => `${m.mountPoint} ${m.fsType}`));
    },
  },
  {
    name: 'mounts/cgroup',
    section: 'config.md#mounts',
    spec: 'a mount of type cgroup at /sys/fs/cgroup shows the container its cgroups',
    async run(t) {
      const r = await t.probe(['mountinfo', 'ls:/sys/fs/cgroup'], (s) => {
        s.mounts!.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
      });
      const cg = mounts(r).filter((m) => m.mountPoint.startsWith('/sys/fs/cgroup') && (m.fsType === 'cgroup' || m.fsType === 'cgroup2'));
      t.check(cg.length > 0, 'cgroup filesystems must be mounted under /sys/fs/cgroup');
      for (const ctrl of t.host.cgroupV1.keys()) {
        t.check(cg.some((m) => m.superOptions.includes(ctrl)), `the ${ctrl} controller must be visible under /sys/fs/cgroup`);
      }
      t.check(cg.every((m) => m.options.includes('ro')), 'the cgroup mounts must be read-only (ro was asked)');
      t.observe('cgroup.mounts', cg.map((m) => `${m.mountPoint} ${m.fsType}`));
    },
  },
  {
    name: 'mounts/overlay',
    section: 'config.md#mounts',
    spec: 'an overlay mount with lowerdir, upperdir and workdir options',
    needs: ['overlay'],
    async run(t) {
      const lower = hostDir(t, 'lower', 'from-lower');
      const upper = join(t.dir, 'upper');
      const work = join(t.dir, 'work');
      mkdirSync(upper);
      mkdirSync(work);
      const r = await t.probe(['ls:/ovl', 'touch:/ovl/from-container', 'mountinfo'], (s) => {
        s.mounts!.push({ destination: '/ovl', type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] });
      });
      t.equal(r['ls:/ovl'], ['from-lower'], 'lower files are visible');
      t.equal(at(r, '/ovl')?.fsType, 'overlay', 'type');
      t.check(existsSync(join(upper, 'from-container')), 'writes land in upperdir');
      t.check(!existsSync(join(lower, 'from-container')), 'lowerdir is untouched');
    },
  },
  {
    name: 'mounts/relative-destination',
    section: 'config.md#mounts',
    spec: 'destination MAY be a relative path, in which case it MUST be interpreted as relative to "/"',
    async run(t) {
      const r = await t.probe(['mountinfo'], (s) => {
        s.mounts!.push({ destination: 'mnt/rel', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      });
      t.equal(at(r, '/mnt/rel')?.fsType, 'tmpfs', 'mnt/rel is mounted at /mnt/rel');
    },
  },
  {
    name: 'mounts/destination-symlink-stays-in-rootfs',
    section: 'config.md#mounts',
    spec: 'a destination resolving through a symlink in the rootfs must stay inside the rootfs (never mount on the host); refusing the mount is also safe',
    async run(t) {
      await t.control();
      const outside = hostDir(t, 'outside-target');
      const b = t.bundle(['mountinfo', 'exit:0'], (s, d) => {
        // rootfs/escape -> the host directory (absolute link): resolved in the rootfs it is /<host path>.
        symlinkSync(outside, join(d.rootfs, 'escape'));
        s.mounts!.push({ destination: '/escape', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      });
      const c = await t.tryCreate(b);
      t.observe('escape.create', c.createResult?.code === 0 ? 'accepted' : 'refused');
      if (c.createResult?.code === 0) {
        t.ok(await c.start(), 'start');
        await c.waitStatus('stopped');
      }
      t.equal(readdirSync(outside), ['marker'], 'the host directory behind the symlink must be untouched');
      t.check(!readText('/proc/self/mountinfo').includes(outside), 'no mount may appear on the host');
    },
  },
  {
    name: 'mounts/bind-propagation',
    section: 'config.md#linux-mount-options',
    spec: 'rshared, rslave, rprivate (MUST): bind mount propagation; a slave receives later host mounts, a private mount does not',
    async run(t) {
      const src = await sharedHostDir(t, 'shared-src');
      const b = t.bundle(['print', 'sleep:800', 'mountinfo', 'ls:/slave/late', 'ls:/private/late', 'ls:/shared/late', 'exit:0'], (s) => {
        s.mounts!.push({ destination: '/slave', type: 'bind', source: src, options: ['rbind', 'rslave'] });
        s.mounts!.push({ destination: '/private', type: 'bind', source: src, options: ['rbind', 'rprivate'] });
        s.mounts!.push({ destination: '/shared', type: 'bind', source: src, options: ['rbind', 'rshared'] });
      });
      b.spec.process!.args = ['/bin/probe', 'pid', 'print', 'sleep:800', 'mountinfo', 'ls:/slave/late', 'ls:/private/late', 'ls:/shared/late', 'exit:0'];
      b.write();
      const c = await t.startContainer(b);
      await c.report();
      // While the container sleeps, mount something under the shared host directory.
      const late = join(src, 'late');
      mkdirSync(late);
      t.must(await hostMount('tmpfs', late, 'tmpfs', 0, 'size=1m'), 'mount a tmpfs under the shared host dir');
      t.defer(async () => {
        await lazyUnmount(late);
      });
      writeFileSync(join(late, 'propagated'), 'x');
      await c.waitStatus('stopped');
      const r = (await c.reports(2))[1] as Report;
      t.equal(propagation(at(r, '/slave')), 'master', '/slave propagation (rslave)');
      t.equal(propagation(at(r, '/private')), 'private', '/private propagation (rprivate)');
      t.check(propagation(at(r, '/shared')).includes('shared'), `/shared propagation (rshared): ${propagation(at(r, '/shared'))}`);
      t.equal(r['ls:/slave/late'], ['propagated'], 'a later host mount propagates into the rslave mount');
      t.equal(r['ls:/private/late'], [], 'a later host mount does not propagate into the rprivate mount');
      t.equal(r['ls:/shared/late'], ['propagated'], 'a later host mount propagates into the rshared mount');
      await sleep(0);
    },
  },
  {
    name: 'mounts/rootfs-propagation-private',
    section: 'config-linux.md#rootfs-mount-propagation',
    spec: "private: the rootfs mount doesn't receive mount propagation events from the host",
    async run(t) {
      const r = await t.probe(['mountinfo'], (s) => {
        s.linux!.rootfsPropagation = 'private';
      });
      t.equal(propagation(at(r, '/')), 'private', 'the root mount propagation');
    },
  },
  {
    name: 'mounts/rootfs-propagation-shared',
    section: 'config-linux.md#rootfs-mount-propagation',
    spec: 'shared: the rootfs mount belongs to a new peer group',
    deviations: {
      runc: {
        spec: 'shared: the rootfs mount belongs to a new peer group',
        behaviour: 'runc 1.1.5 makes the parent mount private for pivot_root and the rootfs ends up private',
      },
    },
    async run(t) {
      const r = await t.probe(['mountinfo'], (s) => {
        s.linux!.rootfsPropagation = 'shared';
      });
      t.check(propagation(at(r, '/')).includes('shared'), `the root mount must be shared, got ${propagation(at(r, '/'))}`);
    },
  },
  {
    name: 'mounts/rootfs-propagation-unbindable',
    section: 'config-linux.md#rootfs-mount-propagation',
    spec: 'unbindable: the rootfs mount is a private mount that cannot be bind-mounted',
    deviations: {
      runc: {
        spec: 'unbindable: the rootfs mount is a private mount that cannot be bind-mounted',
        behaviour: 'runc 1.1.5 fails create with EINVAL: it marks / unbindable and then bind-mounts the rootfs',
      },
    },
    async run(t) {
      const r = await t.probe(['mountinfo'], (s) => {
        s.linux!.rootfsPropagation = 'unbindable';
      });
      t.check(propagation(at(r, '/')).includes('unbindable'), `the root mount must be unbindable, got ${propagation(at(r, '/'))}`);
    },
  },
  {
    name: 'mounts/rootfs-propagation-slave',
    section: 'config-linux.md#rootfs-mount-propagation',
    spec: 'slave: the rootfs mount receives propagation events from the host but not the other way around',
    deviations: {
      runc: {
        spec: 'slave: the rootfs mount receives propagation events from the host (e.g. if something is mounted on the host it will also appear in the container)',
        behaviour: 'runc 1.1.5 applies slave to / only (not recursively), then makes the shared rootfs mount private for pivot_root',
      },
    },
    async run(t) {
      const b = t.bundle([], (s) => {
        s.linux!.rootfsPropagation = 'slave';
      });
      // Make the rootfs a shared mount on the host, so slave has a master to follow.
      t.must(await hostMount(b.rootfs, b.rootfs, null, MS.BIND, null), 'bind the rootfs onto itself');
      t.defer(async () => {
        await lazyUnmount(b.rootfs);
      });
      t.must(await hostMount(null, b.rootfs, null, MS.SHARED, null), 'make the rootfs shared');
      b.spec.process!.args = ['/bin/probe', 'pid', 'print', 'sleep:800', 'mountinfo', 'ls:/mnt/late', 'exit:0'];
      b.write();
      const c = await t.startContainer(b);
      await c.report();
      const late = join(b.rootfs, 'mnt', 'late');
      mkdirSync(late);
      t.must(await hostMount('tmpfs', late, 'tmpfs', 0, 'size=1m'), 'mount a tmpfs inside the shared rootfs');
      t.defer(async () => {
        await lazyUnmount(late);
      });
      writeFileSync(join(late, 'propagated'), 'x');
      await c.waitStatus('stopped');
      const r = (await c.reports(2))[1] as Report;
      t.equal(propagation(at(r, '/')), 'master', 'the root mount is a slave');
      t.equal(r['ls:/mnt/late'], ['propagated'], 'a host mount under the rootfs propagates into the container');
    },
  },
];
