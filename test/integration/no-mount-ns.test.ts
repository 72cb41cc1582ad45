// A config without a mount namespace is valid and runc runs it: the rootfs is set up in the
// runtime's own mount table and the init chroots. hako runs it too, never touches the host's `/`
// (no propagation change, no pivot_root or MS_MOVE over it), and delete leaves no mount behind
// (runc 1.1.5 leaves every mount it made: the rootfs bind, /proc, /dev, /sys, cgroups...).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { HAKO, hako, hakoDetached, plainEnv } from '../helpers/hako.ts';
import { findLeaks } from '../helpers/leaks.ts';
import type { Spec } from '../../src/spec/types.ts';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
const root = `/run/hako-test-nomnt-${process.pid}`;
const bundles: TestBundle[] = [];
const cleanups: (() => void)[] = [];

afterAll(() => {
  for (const c of cleanups.reverse()) c();
  for (const b of bundles) b.remove();
  rmSync(root, { recursive: true, force: true });
});

/** The default spec less its mount namespace; runc also refuses masked and read-only paths without one. */
function withoutMountNs(args: string[], keepMasks = false) {
  return (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
    if (!keepMasks) {
      delete s.linux!.maskedPaths;
      delete s.linux!.readonlyPaths;
    }
    s.process!.args = args;
  };
}

function bundle(id: string, edit: (s: Spec) => void): TestBundle {
  const b = makeBundle(id, edit);
  bundles.push(b);
  return b;
}

/** Mount points under `dir` in this process's mount table (mountinfo field 5). */
function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((t) => t === dir || t.startsWith(`${dir}/`));
}

/** The optional fields of the mount at `target` (shared:N, master:N): its propagation. */
function propagationOf(target: string): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === target)
    .at(-1);
  return line?.split(' - ')[0]!.split(' ').slice(6).join(' ') ?? 'none';
}

const WRITE_AND_LIST = ['sh', '-c', 'echo marker > /marker; ls / > /out; hostname >> /out; ls /proc/1/ns >/dev/null && echo proc >> /out'];

describe.skipIf(process.getuid?.() !== 0)('a config without a mount namespace', () => {
  it.skipIf(!RUNC)('runs on runc and hako alike (create, start, delete in a throwaway mount namespace); hako leaves no mount, runc\'s leftovers are logged', () => {
    const outputs: Record<string, string> = {};
    for (const [name, bin] of [
      ['runc', RUNC!],
      ['hako', HAKO],
    ] as const) {
      const id = `nomnt-${name}-${process.pid}`;
      const b = bundle(id, withoutMountNs(WRITE_AND_LIST));
      // each runtime in a private copy of the host's mount table (unshare -m): runc's changes to `/`
      // and its leftovers vanish with it
      const script = [
        'set -e',
        '"$RT" --root "$R" create -b "$B" "$ID" </dev/null >"$B/create.out" 2>"$B/create.err"',
        '"$RT" --root "$R" start "$ID"',
        'i=0; until "$RT" --root "$R" state "$ID" | grep -q stopped; do sleep 0.05; i=$((i+1)); [ $i -lt 400 ]; done',
        '"$RT" --root "$R" delete "$ID"',
        'echo LEFT; awk \'{print $5}\' /proc/self/mountinfo | grep "^$B/" || true',
      ].join('\n');
      const r = spawnSync('unshare', ['-m', 'sh', '-c', script], {
        encoding: 'utf8',
        env: { ...plainEnv, RT: bin, R: `${root}-${name}`, B: b.dir, ID: id },
        timeout: 60_000,
      });
      cleanups.push(() => rmSync(`${root}-${name}`, { recursive: true, force: true }));
      expect(r.status, `${name}: ${r.stderr}${existsSync(`${b.dir}/create.err`) ? readFileSync(`${b.dir}/create.err`, 'utf8') : ''}`).toBe(0);
      const left = r.stdout.split('LEFT\n')[1]!.split('\n').filter(Boolean);
      if (name === 'runc') console.log(`runc 1.1.5 left ${left.length} mounts after delete (gone with the test's mount namespace): ${left.join(' ')}`);
      else expect(left).toEqual([]);
      // the container's / was the rootfs: its files landed there, and it saw only the rootfs's entries
      expect(readFileSync(join(b.dir, 'rootfs/marker'), 'utf8')).toBe('marker\n');
      outputs[name] = readFileSync(join(b.dir, 'rootfs/out'), 'utf8');
    }
    expect(outputs.hako).toBe(outputs.runc);
    expect(outputs.hako).toMatch(/^bin\ndev\n(.*\n)*marker\nout\nproc\n(.*\n)*hako\nproc\n$/);
  });

  it('hako in the host\'s own mount table: exec enters the container\'s root, delete removes every mount, / untouched', () => {
    const id = `nomnt-host-${process.pid}`;
    const b = bundle(id, withoutMountNs(['sh', '-c', 'echo in-container > /marker; exec sleep 60'], true));
    const rootfs = join(b.dir, 'rootfs');
    const before = propagationOf('/');
    const c = hakoDetached(['--root', root, 'create', '-b', b.dir, id], b.dir);
    cleanups.push(() => hako(['--root', root, 'delete', '--force', id]));
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/no mount namespace/); // the warning: chroot, the host's mount table
    expect(mountsUnder(rootfs).length).toBeGreaterThan(3); // rootfs, /proc, /dev, /sys… really in this table
    expect(hako(['--root', root, 'start', id]).status).toBe(0);
    for (let i = 0; i < 200 && !existsSync(join(rootfs, 'marker')); i++) spawnSync('sleep', ['0.02']);
    // exec: the init's chroot, not the host's /
    const e = hako(['--root', root, 'exec', id, 'sh', '-c', 'cat /marker; ls /']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toBe(`in-container\n${spawnSync('ls', [rootfs], { encoding: 'utf8' }).stdout}`);
    expect(e.stdout).not.toBe(`in-container\n${spawnSync('ls', ['/'], { encoding: 'utf8' }).stdout}`);
    // masked paths work in the host's table too (runc refuses them without a mount namespace)
    const m = hako(['--root', root, 'exec', id, 'stat', '-c', '%F', '/proc/keys', '/proc/self/status']);
    expect(m.stdout).toBe('character special file\nregular empty file\n');
    expect(hako(['--root', root, 'delete', '--force', id]).status).toBe(0);
    expect(mountsUnder(rootfs)).toEqual([]);
    expect(propagationOf('/')).toBe(before);
    expect(findLeaks({ root, ids: [id], dirs: [b.dir] })).toEqual([]);
  });

  it('a failed create (missing binary) leaves no mount either', () => {
    const id = `nomnt-fail-${process.pid}`;
    const b = bundle(id, withoutMountNs(['/no/such/binary']));
    const c = hakoDetached(['--root', root, 'create', '-b', b.dir, id], b.dir);
    expect(c.status).not.toBe(0);
    expect(c.stderr).toMatch(/no\/such\/binary/);
    expect(findLeaks({ root, ids: [id], dirs: [b.dir] })).toEqual([]);
  });

  it('under a shared mount: the rootfs bind\'s copies in the peer are removed too, and the parent\'s propagation is unchanged', () => {
    // a shared tmpfs at A with a peer at P: whatever hako mounts under A appears under P as well
    const top = mkdtempSync(join(tmpdir(), 'hako-test-nomnt-shared-'));
    const [a, p] = [join(top, 'a'), join(top, 'p')];
    mkdirSync(a);
    mkdirSync(p);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'hako-test', a]).status).toBe(0);
    cleanups.push(() => {
      spawnSync('umount', ['-R', '-l', p]);
      spawnSync('umount', ['-R', '-l', a]);
      rmSync(top, { recursive: true, force: true });
    });
    expect(spawnSync('mount', ['--make-shared', a]).status).toBe(0);
    expect(spawnSync('mount', ['--bind', a, p]).status).toBe(0);
    const propagation = propagationOf(a);
    expect(propagation).toMatch(/shared:/);

    const id = `nomnt-shared-${process.pid}`;
    const made = bundle(id, withoutMountNs(['sh', '-c', 'echo ok > /marker']));
    spawnSync('cp', ['-a', made.dir, join(a, 'bundle')]);
    const r = hako(['--root', root, 'run', '-b', join(a, 'bundle'), id], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => hako(['--root', root, 'delete', '--force', id]));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(p, 'bundle/rootfs/marker'), 'utf8')).toBe('ok\n');
    expect(mountsUnder(a)).toEqual([a]);
    expect(mountsUnder(p)).toEqual([p]);
    expect(propagationOf(a)).toBe(propagation);
    expect(findLeaks({ root, ids: [id], dirs: [join(a, 'bundle'), join(p, 'bundle')] })).toEqual([]);
  });
});
