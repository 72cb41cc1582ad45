// Escapes, tried for real: each case runs an attack against hako and against runc 1.1.5 (the
// reference) and checks the host afterwards. docs/SECURITY.md lists the classes and these tests.
// The runtime binaries under attack are copies in a temp folder, never the repo's build or the
// system's runc: a successful attack must not damage anything but the copy.
import { spawnSync, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import type { Spec } from '../../src/spec/types.ts';
import { hakoDetached, plainEnv, runtime } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';

// HAKO_UNDER_ATTACK=<checkout>: attack another build of hako (say an old one, to see these fail)
const REPO = join(import.meta.dirname, '../..');
const UNDER_ATTACK = process.env.HAKO_UNDER_ATTACK ?? REPO;
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), 'hako-test-security-'));
const bundles: TestBundle[] = [];
const sleep = (s: number) => spawnSync('sleep', [String(s)]);

interface Runtime {
  name: 'hako' | 'runc';
  /** the binary engines call */
  bin: string;
  /** the file an attacker would overwrite: hako's executor, runc itself */
  target: string;
  root: string;
}

/** A private copy of hako (bin, dist, the executor; node_modules linked) or of runc. */
function copyRuntime(name: 'hako' | 'runc'): Runtime {
  const dir = join(work, `${name}-copy`);
  const root = `/run/hako-test-sec-${name}-${process.pid}`;
  if (name === 'runc') {
    mkdirSync(dir, { recursive: true });
    copyFileSync(RUNC!, join(dir, 'runc'));
    return { name, bin: join(dir, 'runc'), target: join(dir, 'runc'), root };
  }
  for (const sub of ['bin', 'dist', 'native/build']) cpSync(join(UNDER_ATTACK, sub), join(dir, sub), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return { name, bin: join(dir, 'bin/hako'), target: join(dir, 'native/build/hako-executor'), root };
}

let runtimes: Runtime[] = [];
let attackBinary = '';

beforeAll(() => {
  if (!isRoot || !RUNC) return;
  runtimes = [copyRuntime('hako'), copyRuntime('runc')];
  attackBinary = join(work, 'exe-attack');
  const cc = spawnSync('cc', ['-static', '-O2', '-o', attackBinary, join(REPO, 'test/fixtures/exe-attack.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc exe-attack.c: ${cc.stderr}`);
});

afterAll(() => {
  for (const rt of runtimes) {
    for (const id of existsSync(rt.root) ? readdirSync(rt.root) : []) call(rt, ['delete', '--force', id]);
    rmSync(rt.root, { recursive: true, force: true });
  }
  for (const b of bundles) b.remove();
  rmSync(work, { recursive: true, force: true });
});

const call = (rt: Runtime, args: string[]) => runtime(rt.bin, ['--root', rt.root, ...args]);
const detached = (rt: Runtime, args: string[], dir: string) => hakoDetached(['--root', rt.root, ...args], dir, rt.bin);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function bundle(rt: Runtime, tag: string, edit: Parameters<typeof makeBundle>[1] = () => {}): { id: string; b: TestBundle } {
  const id = `sec-${tag}-${rt.name}-${process.pid}`;
  const b = makeBundle(id, edit);
  bundles.push(b);
  return { id, b };
}

/** Waits until `file` contains `text` (or gives up after `seconds`). */
function waitForText(file: string, text: string, seconds = 10): string {
  for (let i = 0; i < seconds * 20; i++) {
    const content = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (content.includes(text)) return content;
    sleep(0.05);
  }
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function removeContainer(rt: Runtime, id: string, b: TestBundle): void {
  call(rt, ['delete', '--force', id]);
  expect(findLeaks({ root: rt.root, ids: [id], dirs: [b.dir] })).toEqual([]);
}

const each = (fn: (rt: Runtime) => void) => () => {
  for (const rt of runtimes) fn(rt);
};

describe.skipIf(!isRoot || !RUNC)('escapes, tried against hako and runc', () => {
  it(
    'CVE-2019-5736 through the init waiting on the fifo: the runtime binary on the host stays unchanged',
    each((rt) => {
      const { id, b } = bundle(rt, 'exe1', (s) => (s.process!.args = ['sleep', '30']));
      copyFileSync(attackBinary, join(b.dir, 'rootfs/exe-attack'));
      const before = sha(rt.target);
      expect(detached(rt, ['create', '-b', b.dir, id], b.dir).status, `${rt.name} create`).toBe(0);
      expect(detached(rt, ['exec', '-d', id, '/exe-attack', 'pid1', '/report', '3'], b.dir).status).toBe(0);
      const ready = waitForText(join(b.dir, 'rootfs/report'), 'ready');
      expect(call(rt, ['start', id]).status).toBe(0);
      const report = waitForText(join(b.dir, 'rootfs/report'), 'done', 8);
      expect(report, rt.name).not.toMatch(/^wrote/m);
      expect(sha(rt.target), `${rt.name}: ${rt.target} overwritten from the container`).toBe(before);
      // hako: the kernel refuses the first step (a non-dumpable process); runc 1.1.5 lets it open
      // a read-only bind of itself, whose writes fail
      if (rt.name === 'hako') expect(ready).toMatch(/^open 1 denied 13$/m);
      removeContainer(rt, id, b);
    }),
  );

  it(
    'CVE-2019-5736 through the processes `exec` puts in the container: none can be opened, the binary stays unchanged',
    each((rt) => {
      const { id, b } = bundle(rt, 'exe2', (s) => (s.process!.args = ['sleep', '30']));
      copyFileSync(attackBinary, join(b.dir, 'rootfs/exe-attack'));
      const before = sha(rt.target);
      expect(detached(rt, ['run', '-d', '-b', b.dir, id], b.dir).status, `${rt.name} run`).toBe(0);
      expect(detached(rt, ['exec', '-d', id, '/exe-attack', 'scan', '/report', '30'], b.dir).status).toBe(0);
      waitForText(join(b.dir, 'rootfs/report'), 'ready');
      // execs until the scan has caught runtime processes (it usually does within a few), at least 10
      const seen = () => /^open \d+ denied/m.test(readFileSync(join(b.dir, 'rootfs/report'), 'utf8'));
      for (let i = 0; i < 60 && (i < 10 || !seen()); i++) expect(call(rt, ['exec', id, 'true']).status).toBe(0);
      sleep(0.2); // a last write attempt of the scan
      const report = readFileSync(join(b.dir, 'rootfs/report'), 'utf8');
      expect(report, rt.name).not.toMatch(/^wrote/m);
      expect(report, rt.name).not.toMatch(/^open \d+ ok/m);
      // the scan did see runtime processes (else this case could not fail)
      expect(report, `${rt.name}: the scan saw no runtime process`).toMatch(/^open \d+ denied/m);
      expect(sha(rt.target)).toBe(before);
      removeContainer(rt, id, b);
    }),
  );

  it(
    "CVE-2024-21626 class: fds hako's caller held reach neither the waiting init nor the container",
    each((rt) => {
      const { id, b } = bundle(rt, 'fds', (s) => (s.process!.args = ['sleep', '30']));
      const secret = join(work, `secret-${rt.name}`);
      writeFileSync(secret, 'host secret\n');
      const dirFd = openSync('/', 'r');
      const fileFd = openSync(secret, 'a');
      const out = openSync(join(b.dir, 'create.out'), 'w');
      try {
        const stdio: StdioOptions = ['ignore', out, out, ...Array<'ignore'>(27).fill('ignore'), dirFd, fileFd];
        const r = spawnSync(rt.bin, ['--root', rt.root, 'create', '-b', b.dir, id], { stdio, env: plainEnv, timeout: 30_000 });
        expect(r.status, readFileSync(join(b.dir, 'create.out'), 'utf8')).toBe(0);
      } finally {
        closeSync(dirFd);
        closeSync(fileFd);
        closeSync(out);
      }
      const pid = JSON.parse(call(rt, ['state', id]).stdout).pid as number;
      const links = readdirSync(`/proc/${pid}/fd`).map((fd) => [fd, readlinkSync(`/proc/${pid}/fd/${fd}`)]);
      expect(links.filter(([, l]) => l === '/' || l === secret), `${rt.name} init fds ${JSON.stringify(links)}`).toEqual([]);
      if (rt.name === 'hako') expect(links.map(([fd]) => fd).sort(), JSON.stringify(links)).toEqual(['0', '1', '2', '3']); // stdio + the fifo
      const inside = call(rt, ['exec', id, 'sh', '-c', 'cat /proc/1/fd/30/etc/shadow; echo from-container >> /proc/1/fd/31; ls /proc/1/fd']);
      expect(inside.stdout).not.toMatch(/root:/);
      expect(readFileSync(secret, 'utf8')).toBe('host secret\n');
      removeContainer(rt, id, b);
    }),
  );

  it(
    'linux.sysctl: keys outside a namespace of the container are refused; accepted ones never reach the host',
    each((rt) => {
      const host = (key: string) => readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim();
      const hostBefore = { core: host('kernel.core_uses_pid'), mtu: host('net.ipv4.tcp_mtu_probing'), shm: host('kernel.shmmni') };
      const refused: [string, Record<string, string>, boolean][] = [
        ['core', { 'kernel.core_uses_pid': hostBefore.core === '1' ? '0' : '1' }, true],
        ['mtu', { 'net.ipv4.tcp_mtu_probing': hostBefore.mtu === '1' ? '2' : '1' }, false],
      ];
      for (const [tag, sysctl, keepNet] of refused) {
        const { id, b } = bundle(rt, `sysctl-${tag}`, (s) => {
          s.linux!.sysctl = sysctl;
          if (!keepNet) s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
        });
        const r = detached(rt, ['run', '-b', b.dir, id], b.dir);
        expect(r.status, `${rt.name} ${JSON.stringify(sysctl)}`).not.toBe(0);
        if (rt.name === 'hako') expect(r.stderr).toMatch(/linux\.sysctl\b.*(not allowed|not in a separate kernel namespace)/);
        removeContainer(rt, id, b);
      }
      const mtu = hostBefore.mtu === '2' ? '1' : '2';
      const shm = String(Number(hostBefore.shm) - 1);
      const { id, b } = bundle(rt, 'sysctl-ok', (s) => {
        s.linux!.sysctl = { 'net.ipv4.tcp_mtu_probing': mtu, 'kernel.shmmni': shm };
        s.process!.args = ['sh', '-c', 'cat /proc/sys/net/ipv4/tcp_mtu_probing /proc/sys/kernel/shmmni'];
      });
      const r = detached(rt, ['run', '-b', b.dir, id], b.dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.output().split('\n').slice(0, 2)).toEqual([mtu, shm]);
      expect({ core: host('kernel.core_uses_pid'), mtu: host('net.ipv4.tcp_mtu_probing'), shm: host('kernel.shmmni') }).toEqual(hostBefore);
      removeContainer(rt, id, b);
    }),
  );

  it(
    'root.path that is a symlink is refused',
    each((rt) => {
      const { id, b } = bundle(rt, 'rootlink', (s) => (s.root!.path = 'rootlink'));
      symlinkSync('rootfs', join(b.dir, 'rootlink'));
      const r = detached(rt, ['create', '-b', b.dir, id], b.dir);
      expect(r.status, rt.name).not.toBe(0);
      if (rt.name === 'hako') expect(r.stderr).toMatch(/root\.path: .*symlink/);
      removeContainer(rt, id, b);
    }),
  );

  it(
    '--no-pivot: the host\'s /proc is not reachable, so a fresh procfs cannot be mounted from a user namespace',
    each((rt) => {
      // a new user namespace (root mapped: CAP_SETFCAP) locks the container's masks in the copied
      // mount namespace, so the kernel allows a new procfs only if a whole one is visible elsewhere
      const attempt = ['unshare', '-mrpf', 'sh', '-c', 'mount -t proc none /proc && echo MOUNTED'];
      const withSetfcap = (s: Spec) => {
        for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_SETFCAP');
      };
      // control: with nothing masked in the container's own /proc the same mount works (so the
      // case can fail); with the default masks only a host procfs left visible would allow it
      const control = bundle(rt, 'nopivot-ctl', (s) => {
        withSetfcap(s);
        s.process!.args = attempt;
        s.linux!.maskedPaths = [];
        s.linux!.readonlyPaths = [];
      });
      const c = detached(rt, ['run', '--no-pivot', '-b', control.b.dir, control.id], control.b.dir);
      expect(c.output(), `${rt.name} control: ${c.stderr}`).toMatch(/MOUNTED/);
      removeContainer(rt, control.id, control.b);
      const { id, b } = bundle(rt, 'nopivot', (s) => {
        withSetfcap(s);
        s.process!.args = attempt;
      });
      const r = detached(rt, ['run', '--no-pivot', '-b', b.dir, id], b.dir);
      expect(r.output(), rt.name).not.toMatch(/MOUNTED/);
      expect(r.status, rt.name).not.toBe(0);
      removeContainer(rt, id, b);
    }),
  );

  it(
    'proc and sysfs are never mounted through a symlink at their destination (CVE-2019-16884 class)',
    each((rt) => {
      for (const [dest, type] of [
        ['proc', 'proc'],
        ['sys', 'sysfs'],
      ] as const) {
        const { id, b } = bundle(rt, `link-${type}`);
        rmSync(join(b.dir, 'rootfs', dest), { recursive: true, force: true });
        mkdirSync(join(b.dir, 'rootfs/elsewhere'));
        symlinkSync('/elsewhere', join(b.dir, 'rootfs', dest));
        const r = detached(rt, ['run', '-b', b.dir, id], b.dir);
        expect(r.status, `${rt.name} ${type}`).not.toBe(0);
        if (rt.name === 'hako') expect(r.stderr).toMatch(new RegExp(`mounts\\[\\d+\\] /${dest}: a symlink as destination`));
        removeContainer(rt, id, b);
      }
    }),
  );

  it('maskedPaths never bind what a rootfs /dev/null symlink points to (CVE-2025-31133)', () => {
    for (const rt of runtimes) {
      const { id, b } = bundle(rt, 'nullink', (s) => {
        s.mounts = s.mounts!.filter((m) => m.destination !== '/dev'); // the image's own /dev
        s.linux!.readonlyPaths = [];
        s.process!.args = ['sh', '-c', 'cat /proc/timer_list | head -c 64; echo; cat /proc/sys/kernel/core_pattern'];
      });
      rmSync(join(b.dir, 'rootfs/dev'), { recursive: true, force: true });
      mkdirSync(join(b.dir, 'rootfs/dev'));
      symlinkSync('/proc/sys/kernel/core_pattern', join(b.dir, 'rootfs/dev/null'));
      const hostPattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
      const r = detached(rt, ['run', '-b', b.dir, id], b.dir);
      const lines = r.output().split('\n');
      if (rt.name === 'hako') {
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/linux\.maskedPaths\[\d+\] \/proc\/\w+: not the null device/);
      } else if (r.status === 0 && lines[0] === hostPattern.trim().slice(0, 64)) {
        // runc 1.1.5 binds core_pattern over the masked files: the documented CVE-2025-31133 (fixed in runc 1.2.8)
        console.warn('runc 1.1.5: maskedPaths bound /proc/sys/kernel/core_pattern (CVE-2025-31133, documented in docs/SECURITY.md)');
      }
      expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(hostPattern);
      removeContainer(rt, id, b);
    }
  });

  it('sysctl writes are not redirected by a mount over /proc/sys (CVE-2025-52881)', () => {
    for (const rt of runtimes) {
      const decoy = join(work, `decoy-${rt.name}`);
      writeFileSync(decoy, 'decoy\n');
      const { id, b } = bundle(rt, 'redirect', (s) => {
        s.linux!.sysctl = { 'net.ipv4.tcp_mtu_probing': '2' };
        s.mounts!.push({ destination: '/proc/sys/net/ipv4/tcp_mtu_probing', type: 'bind', source: decoy, options: ['bind'] });
        s.process!.args = ['true'];
      });
      const r = detached(rt, ['run', '-b', b.dir, id], b.dir);
      if (rt.name === 'hako') {
        expect(r.status, r.stderr).toBe(0);
        expect(readFileSync(decoy, 'utf8')).toBe('decoy\n');
      } else if (readFileSync(decoy, 'utf8') !== 'decoy\n') {
        console.warn('runc 1.1.5: the sysctl write went to the file bound over /proc/sys (CVE-2025-52881, documented in docs/SECURITY.md)');
      }
      removeContainer(rt, id, b);
    }
  });

  it(
    'mount destinations and process.cwd that are symlinks out of the rootfs stay inside it',
    each((rt) => {
      const { id, b } = bundle(rt, 'linkout', (s) => {
        s.mounts!.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        s.process!.cwd = '/work';
        s.process!.args = ['sh', '-c', 'pwd; grep -c " /inside " /proc/self/mountinfo || true'];
      });
      mkdirSync(join(b.dir, 'rootfs/inside'));
      symlinkSync('../../../../../../inside', join(b.dir, 'rootfs/evil'));
      symlinkSync('/../../../../etc', join(b.dir, 'rootfs/work'));
      const r = detached(rt, ['run', '-b', b.dir, id], b.dir);
      expect(r.status, `${rt.name} ${r.stderr}`).toBe(0);
      const [pwd, count] = r.output().trim().split('\n');
      expect(pwd).toBe('/etc');
      expect(count, `${rt.name}: the tmpfs is on the rootfs's /inside`).toBe('1');
      removeContainer(rt, id, b);
    }),
  );

  it(
    "no host file's owner, mode or content changes: /dev/null as the container's stdio, a --user 1000 process, the bundle",
    each((rt) => {
      const { id, b } = bundle(rt, 'owners', (s) => {
        s.process!.user = { uid: 1000, gid: 1000 };
        s.process!.args = ['sh', '-c', 'echo hi; exit 0'];
      });
      const watch = ['/dev/null', '/dev/ptmx', '/dev/pts/ptmx', b.dir, join(b.dir, 'config.json'), join(b.dir, 'rootfs')];
      const meta = () => watch.map((f) => {
        const st = statSync(f);
        return `${f} ${st.uid}:${st.gid} ${st.mode.toString(8)}`;
      });
      const before = meta();
      const config = readFileSync(join(b.dir, 'config.json'), 'utf8');
      const r = runtime(rt.bin, ['--root', rt.root, 'run', '-b', b.dir, id], { stdio: ['ignore', 'ignore', 'pipe'] });
      expect(r.status, r.stderr).toBe(0);
      const nullFd = openSync('/dev/null', 'r+');
      try {
        const r2 = spawnSync(rt.bin, ['--root', rt.root, 'run', '-b', b.dir, `${id}-2`], { stdio: [nullFd, nullFd, nullFd], env: plainEnv, timeout: 30_000 });
        expect(r2.status).toBe(0);
      } finally {
        closeSync(nullFd);
      }
      expect(meta()).toEqual(before);
      expect(readFileSync(join(b.dir, 'config.json'), 'utf8')).toBe(config);
      call(rt, ['delete', '--force', `${id}-2`]);
      expect(findLeaks({ root: rt.root, ids: [`${id}-2`], dirs: [b.dir] })).toEqual([]);
      removeContainer(rt, id, b);
    }),
  );

  it('the executor itself: started from the host file, it runs from a sealed memfd and leaves no decoy fd behind', () => {
    // a leftover file named like the pid-file temp must not be followed (O_EXCL); see test/unit/pidfile.test.ts
    const rt = runtimes.find((r) => r.name === 'hako')!;
    const { id, b } = bundle(rt, 'sealed', (s) => (s.process!.args = ['sleep', '30']));
    expect(detached(rt, ['create', '-b', b.dir, id], b.dir).status).toBe(0);
    const pid = JSON.parse(call(rt, ['state', id]).stdout).pid as number;
    expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:hako-executor/);
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^State:\s+S/m);
    // writing through the host's view of the memfd fails: it is sealed
    expect(() => writeFileSync(`/proc/${pid}/exe`, 'x')).toThrow();
    removeContainer(rt, id, b);
  });
});
