// The process surface seen from inside, against hako and runc: HOME as runc sets it, and a bundle
// made by `runc spec` running unchanged (a terminal, ambient capabilities that are not inheritable).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle, type TestBundle } from '../helpers/bundle.ts';
import { HAKO, hakoDetached, runtime } from '../helpers/hako.ts';
import { readLsm } from '../../src/plan/host-facts.ts';
import type { Spec } from '../../src/spec/types.ts';
import { findLeaks } from '../helpers/leaks.ts';
import { hasScript, inTerminal, shellQuote } from '../helpers/terminal.ts';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
const runtimes = [
  { name: 'hako', bin: HAKO, root: `/run/hako-test-process-hako-${process.pid}` },
  ...(RUNC ? [{ name: 'runc', bin: RUNC, root: `/run/hako-test-process-runc-${process.pid}` }] : []),
];
const bundles: TestBundle[] = [];
afterAll(() => {
  for (const b of bundles) b.remove();
  for (const rt of runtimes) rmSync(rt.root, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)('the process, seen from inside, against hako and runc', () => {
  for (const rt of runtimes) {
    it(`${rt.name}: HOME from the container's /etc/passwd when env has none: root, a passwd user, an unknown uid; an explicit HOME is kept`, () => {
      const homes: string[] = [];
      for (const [tag, uid, extraEnv] of [
        ['root', 0, []],
        ['nobody', 65534, []],
        ['unknown', 1234, []],
        ['explicit', 0, ['HOME=/srv']],
      ] as const) {
        const id = `home-${tag}-${rt.name}-${process.pid}`;
        const b = makeBundle(id, (s) => {
          s.process!.user = { uid, gid: uid };
          s.process!.env = [...s.process!.env!, ...extraEnv];
          s.process!.args = ['sh', '-c', 'echo "$HOME"'];
        });
        bundles.push(b);
        const r = hakoDetached(['--root', rt.root, 'run', '-b', b.dir, id], b.dir, rt.bin);
        expect(r.status, r.stderr).toBe(0);
        homes.push(r.output().trim());
        expect(findLeaks({ root: rt.root, ids: [id], dirs: [b.dir] })).toEqual([]);
      }
      expect(homes).toEqual(['/root', '/nonexistent', '/', '/srv']);
    });

    it(`${rt.name}: a cwd only root may enter, and one only the process user may enter, both work for --user 1000`, () => {
      const cwds: string[] = [];
      for (const [tag, owner] of [
        ['rootonly', 0],
        ['useronly', 1000],
      ] as const) {
        const id = `cwd-${tag}-${rt.name}-${process.pid}`;
        const b = makeBundle(id, (s) => {
          s.process!.user = { uid: 1000, gid: 1000 };
          s.process!.cwd = `/${tag}`;
          s.process!.args = ['sh', '-c', 'pwd'];
        });
        bundles.push(b);
        mkdirSync(join(b.dir, 'rootfs', tag), { mode: 0o700 });
        chownSync(join(b.dir, 'rootfs', tag), owner, owner);
        const r = hakoDetached(['--root', rt.root, 'run', '-b', b.dir, id], b.dir, rt.bin);
        expect(r.status, r.stderr).toBe(0);
        cwds.push(r.output().trim());
        expect(findLeaks({ root: rt.root, ids: [id], dirs: [b.dir] })).toEqual([]);
      }
      expect(cwds).toEqual(['/rootonly', '/useronly']);
    });

    it(`${rt.name}: tmpcopyup: a tmpfs over an image folder starts with its content (modes, owners, links), writes stay in the tmpfs, a read-only root stays read-only`, () => {
      const id = `copyup-${rt.name}-${process.pid}`;
      const b = makeBundle(id, (s) => {
        s.root!.readonly = true;
        s.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid', 'mode=755', 'size=1m'] });
        s.process!.args = ['sh', '-c', 'stat -c "%a %u %n" /etc/passwd /etc/sub/secret; readlink /etc/link; echo x > /etc/new && echo wrote; grep " /etc " /proc/self/mountinfo | grep -c tmpfs; touch /x 2>/dev/null || echo root-ro'];
      });
      bundles.push(b);
      mkdirSync(join(b.dir, 'rootfs/etc/sub'));
      writeFileSync(join(b.dir, 'rootfs/etc/sub/secret'), 's');
      chmodSync(join(b.dir, 'rootfs/etc/sub/secret'), 0o600);
      chownSync(join(b.dir, 'rootfs/etc/sub/secret'), 1000, 1000);
      symlinkSync('/etc/passwd', join(b.dir, 'rootfs/etc/link'));
      const r = hakoDetached(['--root', rt.root, 'run', '-b', b.dir, id], b.dir, rt.bin);
      expect(r.status, r.stderr).toBe(0);
      expect(r.output().trim().split('\n')).toEqual(['644 0 /etc/passwd', '600 1000 /etc/sub/secret', '/etc/passwd', 'wrote', '1', 'root-ro']);
      expect(existsSync(join(b.dir, 'rootfs/etc/new'))).toBe(false);
      expect(findLeaks({ root: rt.root, ids: [id], dirs: [b.dir] })).toEqual([]);
    });

    it(`${rt.name}: with a user namespace, a bind source only the host's root may enter (mode 0700) is mounted (open_tree on the host, before the user namespace)`, () => {
      const id = `usernsbind-${rt.name}-${process.pid}`;
      const b = makeBundle(id, (s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.mounts = s.mounts!.filter((m) => m.type !== 'cgroup' && m.destination !== '/sys'); // sysfs and cgroups want the host's root
        s.mounts!.push({ destination: '/private', type: 'bind', source: 'private', options: ['rbind', 'ro'] });
        // mounted; reading inside is still up to the folder's mode, as with runc
        s.process!.args = ['sh', '-c', 'grep -c " /private " /proc/self/mountinfo; cat /private/secret 2>/dev/null || echo not-readable'];
      });
      bundles.push(b);
      chmodSync(b.dir, 0o755); // the container's root (host uid 100000) reaches its rootfs, as with runc
      mkdirSync(join(b.dir, 'rootfs/private')); // the container's root can't add to the image's root dir
      const priv = join(b.dir, 'private');
      mkdirSync(priv, { mode: 0o700 });
      writeFileSync(join(priv, 'secret'), 'inside\n');
      chmodSync(join(priv, 'secret'), 0o644);
      const r = hakoDetached(['--root', rt.root, 'run', '-b', b.dir, id], b.dir, rt.bin);
      expect(r.status, r.stderr).toBe(0);
      expect(r.output()).toBe('1\nnot-readable\n');
      expect(findLeaks({ root: rt.root, ids: [id], dirs: [b.dir] })).toEqual([]);
    });

    it.skipIf(readLsm().apparmor || readLsm().selinux)(`${rt.name}: AppArmor and SELinux labels on a host without those LSMs fail the create, leaving nothing`, () => {
      for (const [tag, edit, field] of [
        ['apparmor', (s: Spec) => (s.process!.apparmorProfile = 'docker-default'), 'process.apparmorProfile'],
        ['selinux', (s: Spec) => (s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'), 'process.selinuxLabel'],
      ] as const) {
        const id = `lsm-${tag}-${rt.name}-${process.pid}`;
        const b = makeBundle(id, edit);
        bundles.push(b);
        const r = hakoDetached(['--root', rt.root, 'run', '-b', b.dir, id], b.dir, rt.bin);
        expect(r.status, `${rt.name} ${tag}`).not.toBe(0);
        if (rt.name === 'hako') expect(r.stderr).toContain(field);
        runtime(rt.bin, ['--root', rt.root, 'delete', '--force', id]);
        expect(findLeaks({ root: rt.root, ids: [id], dirs: [b.dir] })).toEqual([]);
      }
    });

    it.skipIf(!hasScript || !RUNC)(`${rt.name}: a bundle made by \`runc spec\` runs unchanged (terminal, ambient capabilities without inheritable ones)`, async () => {
      const id = `runcspec-${rt.name}-${process.pid}`;
      const b = makeBundle(id);
      bundles.push(b);
      rmSync(join(b.dir, 'config.json'));
      execFileSync(RUNC!, ['spec'], { cwd: b.dir }); // the config exactly as runc writes it
      const line = `${shellQuote(rt.bin)} --root ${shellQuote(rt.root)} run -b ${shellQuote(b.dir)} ${id}; echo "status $?"`;
      const s = inTerminal(line);
      await s.waitFor('#');
      s.write('grep -E "^Cap(Inh|Amb)" /proc/self/status; echo "home=$HOME"; exit 3\n');
      const r = await s.done;
      expect(r.output).toMatch(/CapInh:\s+0000000000000000/);
      expect(r.output).toMatch(/CapAmb:\s+0000000000000000/);
      expect(r.output).toMatch(/home=\/root/);
      expect(r.output).toMatch(/status 3/);
      expect(findLeaks({ root: rt.root, ids: [id], dirs: [b.dir] })).toEqual([]);
    });
  }
});
