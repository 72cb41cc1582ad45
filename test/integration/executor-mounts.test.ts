// Mounts, devices, masked and read-only paths, as the container sees them (root needed).
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readHostFacts } from '../../src/plan/index.ts';
import { cleanupBundles, hostMountsUnder, isRoot, makeBundle, parseMountinfo, run } from './executor-harness.ts';

afterEach(() => {
  expect(cleanupBundles()).toEqual([]);
});

const MARK = '=====';

/** Runs `script` in the container, then prints its mountinfo after a marker line. */
function withMountinfo(script: string): string[] {
  return ['sh', '-c', `${script}; echo ${MARK}; cat /proc/self/mountinfo`];
}

function split(stdout: string): { out: string; mounts: ReturnType<typeof parseMountinfo> } {
  const [out, info] = stdout.split(`${MARK}\n`);
  return { out: out ?? '', mounts: parseMountinfo(info ?? '') };
}

describe.skipIf(!isRoot)('executor: mounts', () => {
  it("mounts runc's default set with the flags and data the options ask for; / read-only", async () => {
    const b = makeBundle(withMountinfo('touch /x 2>&1 | sed "s/.*: //"'));
    const r = await run(b);
    expect(r.exit.code).toBe(0);
    const { out, mounts } = split(r.stdout);
    expect(out).toBe('Read-only file system\n');
    expect(mounts.get('/')?.options).toMatch(/^ro\b/);
    expect(mounts.get('/proc')?.fstype).toBe('proc');
    const dev = mounts.get('/dev')!;
    expect(dev.fstype).toBe('tmpfs');
    expect(dev.options.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid']));
    expect(dev.superOptions.split(',')).toEqual(expect.arrayContaining(['size=65536k', 'mode=755']));
    const pts = mounts.get('/dev/pts')!;
    expect(pts.fstype).toBe('devpts');
    expect(pts.options.split(',')).toEqual(expect.arrayContaining(['nosuid', 'noexec']));
    expect(pts.superOptions.split(',')).toEqual(expect.arrayContaining(['gid=5', 'mode=620', 'ptmxmode=666']));
    expect(mounts.get('/dev/shm')?.options.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
    expect(mounts.get('/dev/mqueue')?.fstype).toBe('mqueue');
    expect(mounts.get('/sys')?.options).toMatch(/^ro,nosuid,nodev,noexec/);
    // without host facts the cgroup mount is cgroup2
    expect(mounts.get('/sys/fs/cgroup')?.fstype).toBe('cgroup2');
    expect(mounts.get('/sys/fs/cgroup')?.options).toMatch(/^ro\b/);
  });

  it('bind volumes: rw and ro, a file, a relative source and a relative destination', async () => {
    const b = makeBundle(
      withMountinfo(
        'cat /data/file; echo new > /data/new && echo rw-ok; echo x > /data-ro/y 2>/dev/null || echo ro-refused; cat /etc/hako-file; cat /rel/file',
      ),
    );
    const vol = join(b.dir, 'vol');
    mkdirSync(vol);
    writeFileSync(join(vol, 'file'), 'volume content\n');
    writeFileSync(join(b.dir, 'single'), 'single file\n');
    b.spec.root!.readonly = false;
    b.spec.mounts!.push(
      { destination: '/data', type: 'bind', source: 'vol', options: ['rbind', 'rw'] },
      { destination: '/data-ro', type: 'bind', source: vol, options: ['bind', 'ro', 'nosuid', 'nodev'] },
      { destination: '/etc/hako-file', type: 'bind', source: join(b.dir, 'single'), options: ['bind', 'ro'] },
      { destination: 'rel', source: vol, options: ['bind'] },
    );
    const r = await run(b);
    const { out, mounts } = split(r.stdout);
    expect(out).toBe('volume content\nrw-ok\nro-refused\nsingle file\nvolume content\n');
    expect(readFileSync(join(vol, 'new'), 'utf8')).toBe('new\n');
    expect(mounts.get('/data')?.options).toMatch(/^rw\b/);
    expect(mounts.get('/data-ro')?.options.split(',')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev']));
    expect(mounts.get('/etc/hako-file')?.options).toMatch(/^ro\b/);
    expect(mounts.get('/rel')).toBeDefined();
    // a file target is created as a file in the image
    expect(existsSync(join(b.rootfs, 'etc/hako-file'))).toBe(true);
  });

  it('tmpfs and overlay options reach the kernel (overlay dirs relative to the bundle)', async () => {
    const b = makeBundle(withMountinfo('cat /ov/lower-file; echo up > /ov/upper-file'));
    for (const d of ['lower', 'upper', 'work']) mkdirSync(join(b.dir, d));
    writeFileSync(join(b.dir, 'lower/lower-file'), 'from lower\n');
    b.spec.mounts!.push(
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nodev', 'noexec', 'size=1m', 'mode=1770', 'uid=5', 'noatime'] },
      { destination: '/ov', type: 'overlay', source: 'overlay', options: ['lowerdir=lower', 'upperdir=upper', 'workdir=work'] },
    );
    const r = await run(b);
    const { out, mounts } = split(r.stdout);
    expect(out).toBe('from lower\n');
    const t = mounts.get('/scratch')!;
    expect(t.options.split(',')).toEqual(expect.arrayContaining(['nodev', 'noexec', 'noatime']));
    expect(t.superOptions.split(',')).toEqual(expect.arrayContaining(['size=1024k', 'mode=1770', 'uid=5']));
    const ov = mounts.get('/ov')!;
    expect(ov.fstype).toBe('overlay');
    expect(ov.superOptions).toContain(`lowerdir=${join(b.dir, 'lower')}`);
    expect(readFileSync(join(b.dir, 'upper/upper-file'), 'utf8')).toBe('up\n');
  });

  it('masked paths (file → null device, dir → empty read-only tmpfs, missing → skipped) and read-only paths', async () => {
    const b = makeBundle(
      withMountinfo(
        'wc -c < /proc/meminfo; ls /proc/driver | wc -l; echo x > /proc/sys/kernel/hostname 2>/dev/null || echo sys-refused; cat /proc/sys/kernel/ostype',
      ),
    );
    b.spec.linux!.maskedPaths = ['/proc/meminfo', '/proc/driver', '/proc/does-not-exist'];
    b.spec.linux!.readonlyPaths = ['/proc/sys', '/proc/missing-too'];
    const r = await run(b);
    expect(r.exit.code).toBe(0);
    const { out, mounts } = split(r.stdout);
    expect(out).toBe('0\n0\nsys-refused\nLinux\n');
    expect(mounts.get('/proc/sys')?.options).toMatch(/^ro\b/);
    const driver = mounts.get('/proc/driver')!;
    expect(driver.fstype).toBe('tmpfs');
    expect(driver.options).toMatch(/^ro\b/);
    expect(mounts.get('/proc/meminfo')?.root).toBe('/null'); // the container's /dev/null, bound
    const skipped = r.reports.filter((x) => x.op === 'skipped').map((x) => x.label);
    expect(skipped).toEqual(expect.arrayContaining(['linux.maskedPaths[2] /proc/does-not-exist', 'linux.readonlyPaths[1] /proc/missing-too']));
  });

  it('default device nodes and linux.devices have the right type, numbers, mode and owner', async () => {
    const b = makeBundle(['sh', '-c', 'stat -c "%n %F %t:%T %a %u:%g" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/hako0 /dev/sub/hako-fifo; for l in /dev/ptmx /dev/fd /dev/stdin; do readlink $l; done']);
    b.spec.linux!.devices = [
      { path: '/dev/hako0', type: 'c', major: 1, minor: 7, fileMode: 0o640, uid: 7, gid: 8 },
      { path: '/dev/sub/hako-fifo', type: 'p', fileMode: 0o600 },
    ];
    const r = await run(b);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      '/dev/null character special file 1:3 666 0:0',
      '/dev/zero character special file 1:5 666 0:0',
      '/dev/full character special file 1:7 666 0:0',
      '/dev/random character special file 1:8 666 0:0',
      '/dev/urandom character special file 1:9 666 0:0',
      '/dev/tty character special file 5:0 666 0:0',
      '/dev/hako0 character special file 1:7 640 7:8',
      '/dev/sub/hako-fifo fifo 0:0 600 0:0',
      'pts/ptmx',
      '/proc/self/fd',
      '/proc/self/fd/0',
      '',
    ]);
  });

  it('linux.devices: an existing node that is that device is kept, anything else at the path fails create', async () => {
    const ok = makeBundle(['sh', '-c', 'stat -c "%n %F %t:%T" /mnt/null-copy /mnt/fifo']);
    mkdirSync(join(ok.rootfs, 'mnt'), { recursive: true });
    execFileSync('mknod', ['-m', '0600', join(ok.rootfs, 'mnt', 'null-copy'), 'c', '1', '3']);
    execFileSync('mkfifo', [join(ok.rootfs, 'mnt', 'fifo')]);
    ok.spec.linux!.devices = [
      { path: '/mnt/null-copy', type: 'c', major: 1, minor: 3 },
      { path: '/mnt/fifo', type: 'p' },
    ];
    const r = await run(ok);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/mnt/null-copy character special file 1:3\n/mnt/fifo fifo 0:0\n');
    expect(r.reports.filter((x) => x.label.startsWith('linux.devices')).map((x) => x.op)).toEqual(['skipped', 'skipped']);

    for (const [what, make, dev] of [
      ['a regular file', (p: string) => writeFileSync(p, 'regular file\n'), { type: 'c', major: 1, minor: 3 }],
      ['another device', (p: string) => execFileSync('mknod', [p, 'c', '1', '5']), { type: 'c', major: 1, minor: 3 }],
      ['a block device with the same numbers', (p: string) => execFileSync('mknod', [p, 'b', '1', '3']), { type: 'c', major: 1, minor: 3 }],
      ['a symlink to the right device', (p: string) => symlinkSync('/dev/null', p), { type: 'c', major: 1, minor: 3 }],
      ['a regular file for a fifo', (p: string) => writeFileSync(p, ''), { type: 'p' }],
    ] as const) {
      const b = makeBundle(['true']);
      const path = join(b.rootfs, 'etc', 'not-a-device');
      make(path);
      const before = lstatSync(path).ino;
      b.spec.linux!.devices = [{ path: '/etc/not-a-device', ...dev }];
      const err = await run(b).catch((e: Error) => e);
      expect([what, (err as Error).message]).toEqual([what, 'linux.devices[0] /etc/not-a-device: mknodat: file already exists']);
      expect(lstatSync(path).ino).toBe(before); // left as it was
    }
  });

  it('a symlink in the image never leads a mount, a directory or a device outside the rootfs', async () => {
    const b = makeBundle(withMountinfo('ls -d /etc/hako-test-escape-a /etc/hako-test-escape-b; ls -l /etc/hako-test-escape-dev | cut -c1'));
    symlinkSync('/etc', join(b.rootfs, 'abs-escape'));
    symlinkSync('../../../../../../../../etc', join(b.rootfs, 'rel-escape'));
    b.spec.mounts!.push(
      { destination: '/abs-escape/hako-test-escape-a', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/rel-escape/hako-test-escape-b', type: 'bind', source: b.dir, options: ['bind'] },
    );
    b.spec.linux!.devices = [{ path: '/abs-escape/hako-test-escape-dev', type: 'c', major: 1, minor: 3 }];
    const r = await run(b);
    const { out, mounts } = split(r.stdout);
    expect(out).toBe('/etc/hako-test-escape-a\n/etc/hako-test-escape-b\nc\n');
    expect(mounts.get('/etc/hako-test-escape-a')?.fstype).toBe('tmpfs');
    expect(mounts.get('/etc/hako-test-escape-b')).toBeDefined();
    // created inside the image, never on the host
    for (const name of ['hako-test-escape-a', 'hako-test-escape-b', 'hako-test-escape-dev']) {
      expect(existsSync(join('/etc', name))).toBe(false);
      expect(existsSync(join(b.rootfs, 'etc', name))).toBe(true);
    }
  });

  it('a missing target behind a symlink is created inside the rootfs, following the link as the root sees it', async () => {
    // A host directory that the image does not have: /escape resolves to it inside the rootfs only.
    const outside = mkdtempSync('/tmp/hako-test-outside-');
    try {
      writeFileSync(join(outside, 'marker'), '');
      const b = makeBundle(withMountinfo('ls -d /escape/ /up/ /deep; ls -l /file-link | cut -c1; cat /deep/data/hello'));
      symlinkSync(outside, join(b.rootfs, 'escape')); // absolute, dangling in the rootfs
      symlinkSync('../../../../hako-test-clamped/x', join(b.rootfs, 'up')); // `..` never above the root
      mkdirSync(join(b.rootfs, 'a'));
      symlinkSync('../b/c', join(b.rootfs, 'a', 'hop')); // relative, through a missing directory
      symlinkSync('/a/hop', join(b.rootfs, 'deep'));
      symlinkSync('missing-file', join(b.rootfs, 'file-link')); // a file bind through a dangling link
      writeFileSync(join(b.dir, 'hello'), 'hi\n');
      mkdirSync(join(b.dir, 'data'));
      writeFileSync(join(b.dir, 'data', 'hello'), 'data\n');
      b.spec.mounts!.push(
        { destination: '/escape', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/up', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/deep/data', type: 'bind', source: 'data', options: ['rbind'] },
        { destination: '/file-link', type: 'bind', source: 'hello', options: ['bind'] },
      );
      b.spec.linux!.devices = [{ path: '/escape/null-copy', type: 'c', major: 1, minor: 3 }];
      const r = await run(b);
      expect(r.stderr).toBe('');
      expect(r.exit.code).toBe(0);
      const { out, mounts } = split(r.stdout);
      expect(out).toBe('/deep\n/escape/\n/up/\nl\ndata\n'); // ls sorts its operands
      expect(mounts.get(outside)?.fstype).toBe('tmpfs');
      expect(mounts.get('/hako-test-clamped/x')?.fstype).toBe('tmpfs');
      expect(mounts.get('/b/c/data')).toBeDefined();
      expect(mounts.get('/missing-file')).toBeDefined();
      // made in the rootfs, under the same names the links resolve to there
      expect(statSync(join(b.rootfs, outside)).isDirectory()).toBe(true);
      expect(statSync(join(b.rootfs, 'hako-test-clamped', 'x')).isDirectory()).toBe(true);
      expect(statSync(join(b.rootfs, 'b', 'c', 'data')).isDirectory()).toBe(true);
      expect(statSync(join(b.rootfs, 'missing-file')).isFile()).toBe(true);
      // the host is untouched
      expect(readdirSync(outside)).toEqual(['marker']);
      expect(existsSync('/hako-test-clamped')).toBe(false);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(outside);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a symlink loop in a missing target fails with ELOOP and creates nothing outside', async () => {
    const b = makeBundle(['true']);
    symlinkSync('/loop-b', join(b.rootfs, 'loop-a'));
    symlinkSync('loop-a/x', join(b.rootfs, 'loop-b'));
    b.spec.mounts!.push({ destination: '/loop-a/y', type: 'tmpfs', source: 'tmpfs' });
    const r = await run(b).catch((e: Error) => e);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toMatch(/^mounts\[\d+\] \/loop-a\/y: openat2: too many symbolic links encountered$/);
  });

  it('cgroup v1 hierarchies from the host facts, each mounted in the cgroup namespace', async () => {
    const facts = readHostFacts();
    if (facts.cgroup?.version !== 1) return; // this host is cgroup v2: covered by the default test
    const b = makeBundle(withMountinfo('ls /sys/fs/cgroup'));
    const r = await run(b, { ctx: { hostFacts: facts } });
    const { out, mounts } = split(r.stdout);
    const names = facts.cgroup.hierarchies.map((h) => h.name);
    expect(out.trim().split('\n').sort()).toEqual(expect.arrayContaining(names.sort()));
    expect(mounts.get('/sys/fs/cgroup')?.fstype).toBe('tmpfs');
    expect(mounts.get('/sys/fs/cgroup')?.options).toMatch(/^ro\b/);
    for (const n of names) {
      const m = mounts.get(`/sys/fs/cgroup/${n}`);
      expect(m?.fstype).toBe('cgroup');
      expect(m?.root).toBe('/'); // the cgroup namespace's root
      expect(m?.options).toMatch(/^ro,nosuid,nodev,noexec/);
    }
  });

  it('--no-pivot moves the rootfs over / and chroots; sysctls are written before /proc/sys goes read-only; lo is up', async () => {
    const b = makeBundle(['sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward; ls /bin/busybox; cat /sys/class/net/lo/flags']);
    b.spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    const r = await run(b, { ctx: { noPivot: true } });
    expect(r.stderr).toBe('');
    // the loopback of the new network namespace is up (IFF_UP|IFF_LOOPBACK), as runc leaves it
    expect(r.stdout).toBe('1\n/bin/busybox\n0x9\n');
    expect(r.reports.some((x) => x.op === 'move_root')).toBe(true);
  });
});

/** The optional fields (shared:N, master:N, unbindable…) of each mount point in a mountinfo text. */
function propagationOf(mountinfo: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    out.set(f[4]!, f.slice(6));
  }
  return out;
}

describe.skipIf(!isRoot)('executor: linux.rootfsPropagation', () => {
  // The hard case for every value: the rootfs is itself a shared mount on the host (its own peer
  // group), so the bind can leak to the host, pivot_root refuses a shared parent, and a slave has a
  // master to follow. While the init waits on the fifo, the host mounts a tmpfs under the rootfs.
  const values = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'] as const;
  for (const [value, noPivot] of [...values.map((v) => [v, false] as const), ...values.map((v) => [v, true] as const)]) {
    it(`${value}${noPivot ? ' (--no-pivot)' : ''}: the root mount's propagation, host events, nothing on the host`, async () => {
      const b = makeBundle(withMountinfo('ls /mnt/late'));
      const late = join(b.rootfs, 'mnt', 'late');
      mkdirSync(late, { recursive: true });
      const mounted: string[] = [];
      try {
        execFileSync('mount', ['--bind', b.rootfs, b.rootfs]);
        mounted.unshift(b.rootfs);
        execFileSync('mount', ['--make-shared', b.rootfs]);
        const hostPeer = propagationOf(readFileSync('/proc/self/mountinfo', 'utf8')).get(b.rootfs)!.find((t) => t.startsWith('shared:'));
        expect(hostPeer).toBeDefined();
        b.spec.linux!.rootfsPropagation = value;
        const r = await run(b, {
          ctx: { hostFacts: readHostFacts(), noPivot },
          whileCreated: () => {
            execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', late]);
            mounted.unshift(late);
            writeFileSync(join(late, 'propagated'), '');
            // the container's mounts stay in its namespace: the host has only its own two
            expect(hostMountsUnder(b.dir)).toEqual([b.rootfs, late]);
          },
        });
        expect(r.stderr).toBe('');
        expect(r.exit.code).toBe(0);
        const [out, info] = r.stdout.split(`${MARK}\n`) as [string, string];
        const tags = propagationOf(info);
        const root = tags.get('/')!;
        const kinds = root.map((t) => t.replace(/:\d+$/, '')).sort();
        const receives = out === 'propagated\n'; // else the image's empty /mnt/late
        if (value.endsWith('slave')) {
          expect(root).toEqual([`master:${hostPeer!.slice(7)}`]);
          expect(receives).toBe(true);
        } else if (value.endsWith('shared')) {
          expect(kinds).toEqual(['shared']); // a new peer group, not the host's, no master
          expect(root).not.toContain(hostPeer);
          expect(receives).toBe(false);
        } else {
          expect(kinds).toEqual(value.endsWith('unbindable') ? ['unbindable'] : []);
          expect(receives).toBe(false);
        }
        // the r* forms reach the mounts below the root; the others leave /proc alone
        const proc = (tags.get('/proc') ?? []).map((t) => t.replace(/:\d+$/, ''));
        if (value === 'rshared') expect(proc).toEqual(['shared']);
        if (value === 'runbindable') expect(proc).toEqual(['unbindable']);
        if (value === 'shared' || value === 'unbindable' || value === 'private') expect(proc).toEqual([]);
        // the host's rootfs mount is as it was
        expect(propagationOf(readFileSync('/proc/self/mountinfo', 'utf8')).get(b.rootfs)).toEqual([hostPeer]);
      } finally {
        for (const m of mounted) execFileSync('umount', ['-l', m]);
      }
    });
  }
});
