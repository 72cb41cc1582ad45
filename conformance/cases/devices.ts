// config-linux.md#devices, #default-devices and #allowed-device-list.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from '../lib/case.ts';
import { asAttempt, asStat } from '../lib/probe.ts';
import type { StatInfo } from '../lib/probe.ts';

function tree(r: Record<string, unknown>): Record<string, StatInfo> {
  return (r['tree:/dev'] ?? {}) as Record<string, StatInfo>;
}

export const deviceCases: Case[] = [
  {
    name: 'devices/default-devices',
    section: 'config-linux.md#default-devices',
    spec: 'the runtime MUST also supply /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty',
    async run(t) {
      const r = await t.probe(['tree:/dev', 'open:/dev/null', 'open:/dev/zero', 'open:/dev/urandom']);
      const d = tree(r);
      const want: [string, number, number][] = [
        ['/dev/null', 1, 3],
        ['/dev/zero', 1, 5],
        ['/dev/full', 1, 7],
        ['/dev/random', 1, 8],
        ['/dev/urandom', 1, 9],
        ['/dev/tty', 5, 0],
      ];
      for (const [p, major, minor] of want) {
        const s = d[p];
        t.equal([s?.type, s?.major, s?.minor], ['c', major, minor], `${p} must be a char device ${major}:${minor}`);
      }
      for (const p of ['/dev/null', '/dev/zero', '/dev/urandom']) t.equal(asAttempt(r[`open:${p}`]).ok, true, `${p} must be usable (cgroup allows it)`);
      t.observe('dev.modes', Object.fromEntries(want.map(([p]) => [p, d[p]?.mode])));
    },
  },
  {
    name: 'devices/ptmx',
    section: 'config-linux.md#default-devices',
    spec: '/dev/ptmx: a bind-mount or symlink of the container\'s /dev/pts/ptmx',
    async run(t) {
      const r = await t.probe(['tree:/dev', 'open:/dev/ptmx']);
      const p = tree(r)['/dev/ptmx'];
      const ok = (p?.type === 'l' && (p.target === 'pts/ptmx' || p.target === '/dev/pts/ptmx')) || (p?.type === 'c' && p.major === 5 && p.minor === 2);
      t.check(ok, `/dev/ptmx must be a symlink to pts/ptmx or the ptmx device, got ${JSON.stringify(p)}`);
      t.equal(asAttempt(r['open:/dev/ptmx']).ok, true, '/dev/ptmx must open');
    },
  },
  {
    name: 'devices/console-without-terminal',
    section: 'config-linux.md#default-devices',
    spec: '/dev/console is set up if terminal is enabled (without a terminal there is no console pty bound)',
    async run(t) {
      const r = await t.probe(['stat:/dev/console']);
      const s = asStat(r['stat:/dev/console']);
      t.check(s.errno !== undefined || s.major !== 136, `/dev/console must not be a pty without terminal: ${JSON.stringify(s)}`);
      t.observe('console', s.errno !== undefined ? 'absent' : `${s.type}${s.major}:${s.minor}`);
    },
  },
  {
    name: 'devices/fd-symlinks',
    section: 'runc-compat',
    spec: '/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr link to /proc/self/fd (what runc, crun and docker images rely on)',
    async run(t) {
      const d = tree(await t.probe(['tree:/dev']));
      const want: Record<string, string> = {
        '/dev/fd': '/proc/self/fd',
        '/dev/stdin': '/proc/self/fd/0',
        '/dev/stdout': '/proc/self/fd/1',
        '/dev/stderr': '/proc/self/fd/2',
      };
      for (const [p, target] of Object.entries(want)) t.equal([d[p]?.type, d[p]?.target], ['l', target], p);
    },
  },
  {
    name: 'devices/linux-devices',
    section: 'config-linux.md#devices',
    spec: 'devices lists devices that MUST be available in the container, with type, major, minor, fileMode, uid, gid; the path MAY be outside /dev',
    async run(t) {
      const r = await t.probe(['stat:/dev/fuse', 'stat:/dev/loop-test', 'stat:/dev/test-fifo', 'stat:/mnt/null-copy'], (s) => {
        s.linux!.devices = [
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 1000, gid: 2000 },
          { path: '/dev/loop-test', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 0, gid: 0 },
          { path: '/dev/test-fifo', type: 'p', fileMode: 0o644 },
          { path: '/mnt/null-copy', type: 'c', major: 1, minor: 3, fileMode: 0o666 },
        ];
      });
      const fuse = asStat(r['stat:/dev/fuse']);
      t.equal([fuse.type, fuse.major, fuse.minor, fuse.mode, fuse.uid, fuse.gid], ['c', 10, 229, 0o640, 1000, 2000], '/dev/fuse type major minor mode uid gid');
      const loop = asStat(r['stat:/dev/loop-test']);
      t.equal([loop.type, loop.major, loop.minor, loop.mode], ['b', 7, 200, 0o600], '/dev/loop-test type major minor mode');
      const fifo = asStat(r['stat:/dev/test-fifo']);
      t.equal(fifo.type, 'p', '/dev/test-fifo is a fifo');
      const nul = asStat(r['stat:/mnt/null-copy']);
      t.equal([nul.type, nul.major, nul.minor], ['c', 1, 3], '/mnt/null-copy (outside /dev)');
    },
  },
  {
    name: 'devices/existing-file-mismatch-errors',
    section: 'config-linux.md#devices',
    spec: 'If a file already exists at path that does not match the requested device, the runtime MUST generate an error',
    deviations: {
      runc: {
        spec: 'If a file already exists at path that does not match the requested device, the runtime MUST generate an error',
        behaviour: 'runc 1.1.5 ignores the EEXIST from mknod: create succeeds and the regular file stays at the device path',
      },
    },
    async run(t) {
      await t.control();
      const b = t.bundle(['sleep'], (s, d) => {
        writeFileSync(join(d.rootfs, 'etc/not-a-device'), 'regular file\n');
        s.linux!.devices = [{ path: '/etc/not-a-device', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
      });
      const c = await t.tryCreate(b);
      t.errors(c.createResult!, 'create with a device path that is an existing regular file');
      t.observe('file-after', existsSync(join(b.rootfs, 'etc/not-a-device')) ? readFileSync(join(b.rootfs, 'etc/not-a-device'), 'utf8') : 'gone');
    },
  },
  {
    name: 'devices/cgroup-allow-list',
    section: 'config-linux.md#allowed-device-list',
    spec: 'devices configures the allowed device list; the runtime MUST apply entries in the listed order',
    needs: ['cgroup-v1:devices'],
    async run(t) {
      const b = t.bundle(['open:/dev/allowed', 'open:/dev/denied', 'print', 'sleep'], (s) => {
        s.linux!.devices = [
          { path: '/dev/allowed', type: 'c', major: 10, minor: 229, fileMode: 0o666 },
          { path: '/dev/denied', type: 'c', major: 4, minor: 64, fileMode: 0o666 },
        ];
        s.linux!.resources!.devices = [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
          { allow: true, type: 'c', major: 4, minor: 64, access: 'rw' },
          { allow: false, type: 'c', major: 4, minor: 64, access: 'rwm' },
        ];
      });
      const c = await t.startContainer(b);
      const r = await c.report();
      const allowed = asAttempt(r['open:/dev/allowed']);
      t.check(allowed.ok || allowed.errno !== 1, `an allowed device (c 10:229) must not be refused by the cgroup: ${JSON.stringify(allowed)}`);
      const denied = asAttempt(r['open:/dev/denied']);
      t.equal([denied.ok, denied.errno], [false, 1], 'a device denied by a later entry (c 4:64) fails with EPERM');
      const list = readFileSync(join(t.host.cgroupV1.get('devices') as string, t.cgroupsPath(c.id), 'devices.list'), 'utf8');
      t.check(/^c 10:229 rw/m.test(list), `devices.list must allow c 10:229: ${JSON.stringify(list)}`);
      t.check(!list.includes('c 4:64'), `devices.list must not allow c 4:64: ${JSON.stringify(list)}`);
    },
  },
  {
    name: 'devices/cgroup-access-forms',
    section: 'config-linux.md#allowed-device-list',
    spec: 'access: a composition of r, w and m, in any order, repeated or not (runc 1.1.5 accepts them all); an empty access is an error',
    needs: ['cgroup-v1:devices'],
    async run(t) {
      const b = t.bundle(['pid', 'print', 'sleep'], (s) => {
        s.linux!.resources!.devices = [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 4, minor: 64, access: 'mrw' },
          { allow: true, type: 'c', major: 4, minor: 65, access: 'rrw' },
          { allow: true, type: 'c', major: 4, minor: 66, access: 'rwmrwm' },
          { allow: true, type: 'c', major: 4, minor: 67, access: 'wm' },
        ];
      });
      const c = await t.startContainer(b);
      await c.report();
      const list = readFileSync(join(t.host.cgroupV1.get('devices') as string, t.cgroupsPath(c.id), 'devices.list'), 'utf8');
      for (const line of ['c 4:64 rwm', 'c 4:65 rw', 'c 4:66 rwm', 'c 4:67 wm']) {
        t.check(list.split('\n').includes(line), `devices.list must hold ${line}: ${JSON.stringify(list)}`);
      }
      const bad = await t.tryCreate(
        t.bundle(['sleep'], (s) => {
          s.linux!.resources!.devices = [{ allow: true, type: 'c', major: 4, minor: 64, access: '' }];
        }),
      );
      t.errors(bad.createResult!, 'create with an empty device access');
    },
  },
];
