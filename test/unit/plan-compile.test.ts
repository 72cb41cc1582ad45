// compilePlan without root: the steps, their order, stages and labels, for configs by hand.
import { describe, expect, it } from 'vitest';
import { ConfigError, HakoError, NotImplementedError } from '../../src/errors.ts';
import { CLONE, MOUNT_ATTR, MS, O, S_IF } from '../../src/plan/constants.ts';
import { compilePlan, execCandidates, idMapText, mountPointOf, SLOT, type PlanContext, type Step } from '../../src/plan/index.ts';
import { parseHostFacts } from '../../src/plan/host-facts.ts';
import { CREATE, EXISTS } from '../../src/plan/protocol.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import type { Spec } from '../../src/spec/types.ts';
import { planContext } from '../helpers/plan.ts';

const ctx = planContext;

function spec(edit: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  edit(s);
  return s;
}

const ops = (steps: Step[]) => steps.map((s) => `${s.stage}:${s.op}`);
const find = (steps: Step[], label: string) => steps.filter((s) => s.label === label);
const arg = (s: Step, name: string) => (s.args as Record<string, unknown>)[name];
const labelled = (steps: Step[], prefix: string) => steps.filter((s) => s.label.startsWith(prefix));

describe('compilePlan', () => {
  it('orders the stages: executor (ending with clone), parent, init (ending with ready, fifo, exec)', () => {
    const p = compilePlan(spec(), ctx());
    const stages = p.steps.map((s) => s.stage);
    expect(stages).toEqual([...stages].sort((a, b) => ['executor', 'parent', 'init'].indexOf(a) - ['executor', 'parent', 'init'].indexOf(b)));
    const executor = p.steps.filter((s) => s.stage === 'executor');
    expect(executor.at(-1)?.op).toBe('clone');
    expect(ops(p.steps).slice(-4)).toEqual(['init:ready', 'init:wait_fifo', 'init:started', 'init:exec']);
    expect(p.warnings).toEqual([]);
  });

  it('follows runc: rootfs, mounts in config order, devices, pivot_root, then finalization and credentials', () => {
    const p = compilePlan(spec(), ctx());
    const seq = p.steps.filter((s) => s.stage === 'init').map((s) => s.op);
    const at = (op: string) => (op === 'chdir' ? seq.lastIndexOf(op as never) : seq.indexOf(op as never));
    const order = ['setsid', 'sethostname', 'setattr', 'bind', 'create_modes', 'mount', 'mknod', 'symlink', 'pivot_root', 'mkpath', 'mask', 'no_new_privs', 'setrlimit', 'close_fds', 'cap_bounding', 'keepcaps', 'setgroups', 'setid', 'capset', 'chdir', 'find_exec', 'ready', 'wait_fifo', 'exec'];
    // the cwd: tried as root before the user switch, then as the user (runc)
    expect(p.steps.filter((s) => s.op === 'chdir').map((s) => s.args)).toEqual([
      { path: '/', early: 1 },
      { path: '/', early: 0 },
    ]);
    expect(seq.indexOf('chdir' as never)).toBeLessThan(at('setid'));
    const positions = order.map(at);
    expect(positions.every((x) => x >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // mounts in config order, labelled by index and destination
    const mountLabels = labelled(p.steps, 'mounts[').map((s) => s.label);
    expect([...new Set(mountLabels)]).toEqual(['mounts[0] /proc', 'mounts[1] /dev', 'mounts[2] /dev/pts', 'mounts[3] /dev/shm', 'mounts[4] /dev/mqueue', 'mounts[5] /sys', 'mounts[6] /sys/fs/cgroup']);
    // readonly paths before masked paths, both after the sysctls, root remount before both
    const rootRo = p.steps.findIndex((s) => s.label === 'root.readonly');
    const firstRo = p.steps.findIndex((s) => s.label.startsWith('linux.readonlyPaths'));
    const firstMask = p.steps.findIndex((s) => s.label.startsWith('linux.maskedPaths'));
    expect(rootRo).toBeGreaterThan(at('pivot_root'));
    expect(firstRo).toBeGreaterThan(rootRo);
    expect(firstMask).toBeGreaterThan(firstRo);
  });

  it('clone flags from new namespaces; joined ones are opened, joined (user first) and closed before the clone', () => {
    const p = compilePlan(
      spec((s) => {
        s.linux!.namespaces = [
          { type: 'network', path: '/var/run/netns/x' },
          { type: 'mount' },
          { type: 'pid' },
          { type: 'user', path: '/proc/42/ns/user' },
        ];
      }),
      ctx(),
    );
    const clone = p.steps.find((s) => s.op === 'clone')!;
    expect(clone.args).toEqual({ flags: CLONE.CLONE_NEWNS | CLONE.CLONE_NEWPID, foreground: 0 });
    const ex = p.steps.filter((s) => s.stage === 'executor');
    expect(ex.slice(0, 6).map((s) => `${s.op} ${s.label}`)).toEqual([
      'open linux.namespaces[3] user',
      'open linux.namespaces[0] network',
      'setns linux.namespaces[3] user',
      'setns linux.namespaces[0] network',
      'close linux.namespaces[3] user',
      'close linux.namespaces[0] network',
    ]);
    expect(ex[2]!.args).toEqual({ slot: SLOT.NS_BASE, nstype: CLONE.CLONE_NEWUSER });
    // joined user namespace: no maps to write, devices are bound (no mknod in a user namespace)
    expect(p.steps.filter((s) => s.stage === 'parent')).toEqual([]);
    expect(p.steps.some((s) => s.op === 'mknod')).toBe(false);
    expect(find(p.steps, 'default device /dev/null')[0]).toMatchObject({ op: 'bind', args: { source: '/dev/null', sourceRoot: SLOT.HOST, target: '/dev/null' } });
    // a joined network namespace: no loopback to bring up
    expect(p.steps.some((s) => s.op === 'link_up')).toBe(false);
  });

  it('a new user namespace: id maps written by the parent, container root made first, fifo owned by it', () => {
    const p = compilePlan(
      spec((s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.gidMappings = [
          { containerID: 0, hostID: 200000, size: 1000 },
          { containerID: 1000, hostID: 300000, size: 10 },
        ];
      }),
      ctx(),
    );
    const parent = p.steps.filter((s) => s.stage === 'parent');
    expect(parent.map((s) => [s.label, s.args])).toEqual([
      ['linux.uidMappings', { name: 'uid_map', content: '0 100000 65536\n' }],
      ['linux.gidMappings', { name: 'gid_map', content: '0 200000 1000\n1000 300000 10\n' }],
    ]);
    const init = p.steps.filter((s) => s.stage === 'init');
    expect(init[0]).toMatchObject({ op: 'setid', args: { uid: 0, gid: 0 } });
    expect(init[1]).toMatchObject({ op: 'setgroups', args: { gids: [] } });
    expect(find(p.steps, 'exec fifo')[0]!.args).toMatchObject({ mode: 0o622, uid: 100000, gid: 200000 });
    expect(p.steps.find((s) => s.op === 'clone')!.args.flags).toBe(
      CLONE.CLONE_NEWPID | CLONE.CLONE_NEWNET | CLONE.CLONE_NEWIPC | CLONE.CLONE_NEWUTS | CLONE.CLONE_NEWNS | CLONE.CLONE_NEWCGROUP | CLONE.CLONE_NEWUSER,
    );
  });

  it('rootless: setgroups denied before the maps, no setgroups calls', () => {
    const s = spec((x) => {
      x.linux!.namespaces!.push({ type: 'user' });
      x.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      x.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    });
    const p = compilePlan(s, ctx({ hostFacts: { rootless: true } }));
    expect(p.steps.filter((x) => x.stage === 'parent').map((x) => x.args)).toEqual([
      { name: 'setgroups', content: 'deny' },
      { name: 'uid_map', content: '0 1000 1\n' },
      { name: 'gid_map', content: '0 1000 1\n' },
    ]);
    expect(p.steps.some((x) => x.op === 'setgroups')).toBe(false);
  });

  it('mount options: flags, data, a bind with attributes set on the clone, propagation and recursive attrs as separate steps', () => {
    const p = compilePlan(
      spec((s) => {
        s.mounts = [
          { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=1m', 'rshared'] },
          { destination: '/v', type: 'none', source: 'data', options: ['rbind', 'ro', 'nodev', 'rw', 'suid', 'noatime', 'private', 'rro', 'rnoexec'] },
        ];
      }),
      ctx(),
    );
    const t = find(p.steps, 'mounts[0] /t');
    expect(t.map((x) => x.op)).toEqual(['mount', 'setattr']);
    expect(t[0]!.args).toEqual({ root: SLOT.ROOT, target: '/t', create: 1, source: 'tmpfs', fstype: 'tmpfs', flags: MS.MS_NOSUID | MS.MS_STRICTATIME, data: 'mode=755,size=1m' });
    expect(t[1]!.args).toMatchObject({ propagation: MS.MS_SHARED, recursive: 1, attrSet: 0, attrClr: 0 });
    const v = find(p.steps, 'mounts[1] /v');
    expect(v.map((x) => x.op)).toEqual(['bind', 'setattr', 'setattr']);
    expect(v[0]!.args).toEqual({
      root: SLOT.ROOT,
      target: '/v',
      create: 3,
      sourceRoot: SLOT.HOST,
      source: '/b/data', // relative to the bundle
      recursive: 1,
      // ro then rw: rw wins; suid clears nosuid; noatime replaces the atime field
      attrSet: MOUNT_ATTR.MOUNT_ATTR_NODEV | MOUNT_ATTR.MOUNT_ATTR_NOATIME,
      attrClr: MOUNT_ATTR.MOUNT_ATTR_RDONLY | MOUNT_ATTR.MOUNT_ATTR_NOSUID | MOUNT_ATTR.MOUNT_ATTR__ATIME,
      missingOk: 0,
    });
    expect(v[1]!.args).toMatchObject({ propagation: MS.MS_PRIVATE, recursive: 0 });
    expect(v[2]!.args).toMatchObject({ attrSet: MOUNT_ATTR.MOUNT_ATTR_RDONLY | MOUNT_ATTR.MOUNT_ATTR_NOEXEC, attrClr: 0, propagation: 0, recursive: 1 });
  });

  it('relative destinations are relative to /, a ro /dev is made read-only after its devices, remount needs the target', () => {
    const p = compilePlan(
      spec((s) => {
        s.mounts = [
          { destination: 'data/../x', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'mode=755'] },
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/proc', type: 'proc', source: 'proc', options: ['remount', 'ro'] },
        ];
      }),
      ctx(),
    );
    expect(find(p.steps, 'mounts[0] /x')[0]!.args).toMatchObject({ target: '/x' });
    const dev = find(p.steps, 'mounts[1] /dev');
    expect(dev.map((s) => s.op)).toEqual(['mount', 'setattr']);
    expect(dev[0]!.args).toMatchObject({ flags: 0 });
    expect(dev[1]!.args).toMatchObject({ attrSet: MOUNT_ATTR.MOUNT_ATTR_RDONLY });
    expect(p.steps.indexOf(dev[1]!)).toBeGreaterThan(p.steps.findIndex((s) => s.op === 'mknod'));
    expect(find(p.steps, 'mounts[3] /proc')[0]!.args).toMatchObject({ create: CREATE.NONE | CREATE.NOFOLLOW, flags: MS.MS_REMOUNT | MS.MS_RDONLY });
  });

  it('missing mount points are created with the plan\'s modes, under umask 0, before any op creates; the process umask comes later', () => {
    const p = compilePlan(spec((s) => (s.process!.user!.umask = 0o077)), ctx());
    const creates = (s: Step) => 'create' in s.args && (Number(s.args.create) & ~CREATE.NOFOLLOW) !== 0;
    const modes = p.steps.findIndex((s) => s.op === 'create_modes');
    expect(p.steps[modes]!.args).toEqual({ dir: 0o755, file: 0o644 });
    expect(p.steps[modes]!.label).toBe('missing mount points');
    expect(p.steps[modes - 1]).toMatchObject({ op: 'umask', args: { mask: 0 } });
    expect(p.steps.findIndex(creates)).toBeGreaterThan(modes);
    const processUmask = p.steps.findIndex((s) => s.label === 'process.user.umask');
    expect(p.steps[processUmask]!.args).toEqual({ mask: 0o077 });
    expect(processUmask).toBeGreaterThan(p.steps.findLastIndex(creates));
  });

  it('a bind of /dev means no devices are made', () => {
    const p = compilePlan(spec((s) => s.mounts!.push({ destination: '/dev', source: '/dev', options: ['rbind'] })), ctx());
    expect(p.steps.some((s) => s.label.startsWith('default device'))).toBe(false);
  });

  it('devices: defaults unless linux.devices overrides the path; mode, owner and type bits', () => {
    const p = compilePlan(
      spec((s) => {
        s.linux!.devices = [
          { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 1, gid: 2 },
          { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
        ];
      }),
      ctx(),
    );
    expect(find(p.steps, 'default device /dev/null')).toEqual([]);
    // linux.devices: an existing name must be that very device; runc's defaults: any existing name is kept
    expect(find(p.steps, 'linux.devices[0] /dev/null')[0]!.args).toEqual({ root: SLOT.ROOT, path: '/dev/null', mode: S_IF.S_IFCHR | 0o600, major: 1, minor: 3, uid: 1, gid: 2, exists: EXISTS.SAME });
    expect(find(p.steps, 'linux.devices[1] /dev/sda')[0]!.args).toMatchObject({ mode: S_IF.S_IFBLK | 0o666, exists: EXISTS.SAME });
    expect(find(p.steps, 'default device /dev/zero')[0]!.args).toMatchObject({ mode: S_IF.S_IFCHR | 0o666, major: 1, minor: 5, exists: EXISTS.OK });
    expect(find(p.steps, 'default device /dev/ptmx')[0]!.args).toMatchObject({ target: 'pts/ptmx', exists: 2 });
  });

  it('a terminal: console socket connected before the clone; pty, /dev/console, stdio after pivot_root', () => {
    const p = compilePlan(
      spec((s) => {
        s.process!.terminal = true;
        s.process!.consoleSize = { height: 24, width: 80 };
      }),
      ctx({ consoleSocket: '/run/c.sock' }),
    );
    expect(find(p.steps, '--console-socket')[0]).toMatchObject({ stage: 'executor', op: 'connect', args: { path: '/run/c.sock', slot: SLOT.CONSOLE } });
    const tty = labelled(p.steps, 'process.terminal');
    expect(tty.map((s) => s.op)).toEqual(['terminal', 'bind', 'dup_stdio']);
    expect(tty[0]!.args).toEqual({ root: SLOT.ROOT, ptmx: '/dev/ptmx', console: SLOT.CONSOLE, rows: 24, cols: 80, slot: SLOT.PTY });
    expect(tty[1]!.args).toMatchObject({ target: '/dev/console', sourceRoot: SLOT.PTY, source: '' });
    expect(p.steps.indexOf(tty[0]!)).toBeGreaterThan(p.steps.findIndex((s) => s.op === 'pivot_root'));
    expect(() => compilePlan(spec((s) => (s.process!.terminal = true)), ctx())).toThrow(HakoError);
  });

  it('capabilities as 64-bit masks; keepcaps around setuid; ambient only when asked', () => {
    const p = compilePlan(
      spec((s) => {
        s.process!.capabilities = { bounding: ['CAP_BPF', 'CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_KILL'], inheritable: [], ambient: [] };
        s.process!.user = { uid: 5, gid: 6, additionalGids: [7, 8] };
      }),
      ctx(),
    );
    expect(find(p.steps, 'process.capabilities.bounding')[0]!.args).toEqual({ keep: 2 ** 39 + 2 ** 5 });
    expect(find(p.steps, 'process.capabilities')[0]!.args).toEqual({ effective: 32, permitted: 32, inheritable: 0 });
    expect(p.steps.some((s) => s.op === 'ambient')).toBe(false);
    const creds = p.steps.filter((s) => ['keepcaps', 'setgroups', 'setid', 'capset'].includes(s.op)).map((s) => [s.op, s.args]);
    expect(creds).toEqual([
      ['keepcaps', { on: 1 }],
      ['setgroups', { gids: [7, 8] }],
      ['setid', { uid: 5, gid: 6 }],
      ['keepcaps', { on: 0 }],
      ['capset', { effective: 32, permitted: 32, inheritable: 0 }],
    ]);
  });

  it('process: rlimits (unlimited), umask, oom score in the executor, fds from 3+preserveFds, exec candidates from PATH', () => {
    const p = compilePlan(
      spec((s) => {
        // JSON.parse turns 18446744073709551615 (RLIM_INFINITY) into 2 ** 64
        s.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 0, hard: 2 ** 64 }];
        s.process!.user = { uid: 0, gid: 0, umask: 0o077 };
        s.process!.oomScoreAdj = -500;
        s.process!.args = ['busybox', 'sh'];
        s.process!.env = ['PATH=/bin:/usr/bin', 'A=1'];
      }),
      ctx({ preserveFds: 2 }),
    );
    expect(find(p.steps, 'process.rlimits[0] RLIMIT_CORE')[0]!.args).toEqual({ resource: 4, soft: 0n, hard: 0xffffffffffffffffn });
    expect(find(p.steps, 'process.user.umask')[0]!.args).toEqual({ mask: 0o077 });
    expect(find(p.steps, 'process.oomScoreAdj')[0]).toMatchObject({ stage: 'executor', args: { root: SLOT.PROC, path: 'self/oom_score_adj', content: '-500' } });
    expect(find(p.steps, '--preserve-fds')[0]!.args).toEqual({ first: 5 });
    expect(find(p.steps, 'process.args[0] "busybox"')[0]!.args).toEqual({ candidates: ['/bin/busybox', '/usr/bin/busybox'] });
    expect(find(p.steps, 'process.args')[0]!.args).toEqual({ args: ['busybox', 'sh'], env: ['PATH=/bin:/usr/bin', 'A=1'] });
    expect(p.preserveFds).toBe(2);
  });

  it('hostname, sysctls, keyring, time offsets, no-pivot, no-new-keyring', () => {
    const p = compilePlan(
      spec((s) => {
        s.domainname = 'example.org';
        s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel/msgmax': '9000' };
        s.linux!.namespaces!.push({ type: 'time' });
        s.linux!.timeOffsets = { monotonic: { secs: 10, nanosecs: 5 }, boottime: { secs: 3 } };
      }),
      ctx({ noPivot: true }),
    );
    expect(find(p.steps, 'hostname')[0]!.args).toEqual({ name: 'hako' });
    expect(find(p.steps, 'domainname')[0]!.args).toEqual({ name: 'example.org' });
    expect(find(p.steps, 'linux.sysctl net.ipv4.ip_forward')[0]!.args).toEqual({ root: SLOT.PROC, path: 'sys/net/ipv4/ip_forward', content: '1', missingOk: 0 });
    expect(find(p.steps, 'linux.sysctl kernel/msgmax')[0]!.args).toMatchObject({ path: 'sys/kernel/msgmax' });
    expect(find(p.steps, 'session keyring')[0]!.args).toEqual({ name: '_ses.c1', perm: 0x80000 });
    const time = p.steps.filter((s) => s.stage === 'executor' && (s.op === 'unshare' || s.label === 'linux.timeOffsets'));
    expect(time.map((s) => s.args)).toEqual([
      { flags: CLONE.CLONE_NEWTIME },
      { root: SLOT.PROC, path: 'self/timens_offsets', content: 'monotonic 10 5\nboottime 3 0\n', missingOk: 0 },
    ]);
    expect(Number(p.steps.find((s) => s.op === 'clone')!.args.flags) & CLONE.CLONE_NEWTIME).toBe(0);
    expect(p.steps.some((s) => s.op === 'move_root')).toBe(true);
    expect(p.steps.some((s) => s.op === 'pivot_root')).toBe(false);
    expect(compilePlan(spec(), ctx({ noNewKeyring: true })).steps.some((s) => s.op === 'keyring')).toBe(false);
  });

  it('rootfs propagation: a setup step on / before the rootfs bind, the value itself on the new root after every mount', () => {
    const def = compilePlan(spec(), ctx());
    expect(find(def.steps, 'rootfs propagation (default rslave)').map((s) => s.args)).toEqual([
      { root: SLOT.HOST, target: '/', attrSet: 0, attrClr: 0, propagation: MS.MS_SLAVE, recursive: 1, missingOk: 0 },
    ]);
    const facts = { mountPoints: ['/', '/b', '/bb', '/proc'] };
    type Prop = NonNullable<NonNullable<Spec['linux']>['rootfsPropagation']>;
    const steps = (value: Prop | 'bogus', hostFacts: PlanContext['hostFacts'] = facts) =>
      compilePlan(
        spec((s) => {
          s.linux!.rootfsPropagation = value as Prop;
          s.linux!.readonlyPaths = ['/etc'];
        }),
        ctx({ hostFacts }),
      ).steps;
    const prop = (st: Step[]) =>
      find(st, 'linux.rootfsPropagation').map((s) => {
        const a = s.args as { root: number; target: string; propagation: number; recursive: number };
        return `${a.root === SLOT.HOST ? 'host' : 'root'} ${a.target} ${a.propagation}${a.recursive ? ' rec' : ''}`;
      });
    const { MS_PRIVATE: P, MS_SLAVE: SL, MS_SHARED: SH, MS_UNBINDABLE: U } = MS;
    const want: Record<Prop, string[]> = {
      private: [`host / ${SL} rec`, `root / ${P}`],
      rprivate: [`host / ${P} rec`],
      slave: [`host / ${SL} rec`],
      rslave: [`host / ${SL} rec`],
      // the mount holding the rootfs (/b) made private so the bind can't propagate and pivot_root accepts it
      shared: [`host / ${P}`, `host /b ${P}`, `root / ${SH}`],
      rshared: [`host / ${P}`, `host /b ${P}`, `root / ${SH} rec`],
      unbindable: [`host / ${SL} rec`, `root / ${U}`],
      runbindable: [`host / ${P} rec`, `root / ${U} rec`],
    };
    for (const [value, expected] of Object.entries(want)) {
      const st = steps(value as Prop);
      expect([value, prop(st)]).toEqual([value, expected]);
      // the setup steps come before the rootfs bind…
      const bind = st.findIndex((s) => s.label === 'root.path' && s.op === 'bind');
      const rootOf = (s: Step) => (s.args as { root: number }).root;
      const setupSteps = find(st, 'linux.rootfsPropagation').filter((s) => rootOf(s) === SLOT.HOST);
      expect(setupSteps.every((s) => st.indexOf(s) < bind)).toBe(true);
      // …and the root's own step after pivot_root and after the last mount step (readonly and masked paths)
      const fin = find(st, 'linux.rootfsPropagation').filter((s) => rootOf(s) === SLOT.ROOT);
      const lastMount = Math.max(...st.map((s, i) => (s.label.startsWith('linux.maskedPaths') || s.label.startsWith('linux.readonlyPaths') ? i : -1)));
      for (const f of fin) expect(st.indexOf(f)).toBeGreaterThan(lastMount);
    }
    // the rootfs on / itself: one private step on /
    expect(prop(steps('shared', { mountPoints: ['/', '/proc'] }))).toEqual([`host / ${P}`, `root / ${SH}`]);
    // no mount table: rslave for the setup (nothing can leak), the root still shared in the end
    expect(prop(steps('shared', {}))).toEqual([`host / ${SL} rec`, `root / ${SH}`]);
    expect(() => steps('bogus')).toThrow('config.json: linux.rootfsPropagation: unknown propagation bogus');
    const p = compilePlan(spec(), ctx());
    expect(find(p.steps, 'root.path').map((s) => s.op)).toEqual(['bind', 'open', 'pivot_root']);
    expect(find(p.steps, 'root.path')[1]!.args).toEqual({ path: '/b/rootfs', flags: O.O_PATH | O.O_DIRECTORY, mode: 0, slot: SLOT.ROOT });
  });

  it('cgroup mounts: cgroup2 by default; v1 hierarchies in a cgroup namespace; binds without one', () => {
    const v2 = find(compilePlan(spec(), ctx()).steps, 'mounts[6] /sys/fs/cgroup');
    expect(v2.map((s) => s.op)).toEqual(['mount']);
    expect(v2[0]!.args).toMatchObject({ fstype: 'cgroup2', flags: MS.MS_RDONLY | MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC | MS.MS_RELATIME });
    const facts = { cgroup: { version: 1 as const, hierarchies: [{ name: 'cpu,cpuacct', hostPath: '/sys/fs/cgroup/cpu,cpuacct/c1' }, { name: 'systemd' }] } };
    const v1 = find(compilePlan(spec(), ctx({ hostFacts: facts })).steps, 'mounts[6] /sys/fs/cgroup');
    expect(v1.map((s) => `${s.op} ${'path' in s.args ? s.args.path : 'target' in s.args ? s.args.target : ''}`)).toEqual([
      'mount /sys/fs/cgroup',
      'mount /sys/fs/cgroup/cpu,cpuacct',
      'symlink /sys/fs/cgroup/cpu',
      'symlink /sys/fs/cgroup/cpuacct',
      'mount /sys/fs/cgroup/systemd',
      'setattr /sys/fs/cgroup',
    ]);
    expect(v1[4]!.args).toMatchObject({ source: 'systemd', fstype: 'cgroup', data: 'name=systemd' });
    const nons = spec((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup')));
    expect(() => compilePlan(nons, ctx({ hostFacts: facts }))).toThrow(/host path of the container's systemd cgroup is unknown/);
  });

  it('refuses what it cannot do, with the field named', () => {
    expect(() => compilePlan(spec((s) => (s.linux!.namespaces = [{ type: 'pid' }, { type: 'user' }])), ctx())).toThrow(ConfigError);
    expect(() => compilePlan(spec((s) => s.mounts!.push({ destination: '/t', type: 'proc', options: ['tmpcopyup'] })), ctx())).toThrow(
      'mounts[7] /t: tmpcopyup: only a tmpfs can take the image\'s content',
    );
    const copyup = compilePlan(spec((s) => s.mounts!.push({ destination: '/t', type: 'tmpfs', options: ['tmpcopyup', 'nosuid', 'size=1m', 'ro'] })), ctx());
    expect(find(copyup.steps, 'mounts[7] /t')[0]).toMatchObject({ op: 'tmpfs_copyup', args: { target: '/t', attrSet: MOUNT_ATTR.MOUNT_ATTR_NOSUID | MOUNT_ATTR.MOUNT_ATTR_RDONLY, options: ['source=tmpfs', 'size=1m'] } });
    expect(() => compilePlan(spec((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' })), ctx())).toThrow(/filter must be built/);
    expect(() => compilePlan(spec((s) => (s.hooks = { createContainer: [{ path: '/x' }] })), ctx())).toThrow(/container state is needed/);
    expect(() => compilePlan(spec((s) => delete s.process), ctx())).toThrow(ConfigError);
    expect(() => compilePlan(spec((s) => s.mounts!.push({ destination: '/x', options: ['bind'] })), ctx())).toThrow('config.json: mounts[7].source: is required for a bind mount');
    // intelRdt: an error naming the field without resctrl (the spec's MUST); not implemented with it
    const rdt = (resctrl?: boolean) => () => compilePlan(spec((s) => (s.linux!.intelRdt = { closID: 'c1' })), ctx({ hostFacts: { resctrl } }));
    expect(rdt(false)).toThrow(new HakoError('linux.intelRdt: is set but no resctrl filesystem is mounted on this host'));
    expect(rdt(true)).toThrow(NotImplementedError);
    expect(rdt(undefined)).toThrow(NotImplementedError);
  });

  it('hooks run by node get a sync point before pivot_root; ignored fields become warnings', () => {
    const p = compilePlan(
      spec((s) => {
        s.hooks = { prestart: [{ path: '/bin/true' }] };
        s.process!.execCPUAffinity = { initial: '0' };
      }),
      ctx(),
    );
    const sync = p.steps.findIndex((s) => s.op === 'sync');
    expect(p.steps[sync]).toMatchObject({ label: 'hooks.prestart', args: { name: 'createRuntime' } });
    expect(sync).toBeLessThan(p.steps.findIndex((s) => s.op === 'pivot_root'));
    expect(p.warnings).toEqual(['process.execCPUAffinity ignored: not for the container init (runtime-spec: exec only)']);
  });

  it('is pure: the same input gives the same plan', () => {
    expect(compilePlan(spec(), ctx())).toEqual(compilePlan(spec(), ctx()));
  });
});

describe('compiler helpers', () => {
  it('execCandidates: a slash means the path itself; else each $PATH entry (last PATH wins, empty = .)', () => {
    expect(execCandidates('./run.sh', ['PATH=/bin'])).toEqual(['./run.sh']);
    expect(execCandidates('sh', ['PATH=/a', 'PATH=/x::/y'])).toEqual(['/x/sh', 'sh', '/y/sh']);
    expect(execCandidates('sh', [])).toEqual([]);
  });
  it('idMapText and mountPointOf', () => {
    expect(idMapText([{ containerID: 0, hostID: 1, size: 2 }])).toBe('0 1 2\n');
    expect(mountPointOf('/var/lib/x/rootfs', ['/', '/var', '/var/lib/x/rootfs', '/var/lib/xy'])).toBe('/var/lib/x/rootfs');
    expect(mountPointOf('/srv/b', ['/', '/sr'])).toBe('/');
  });

  it('security: --no-pivot detaches the host\'s whole proc/sysfs mounts (slave first) before move_root, never the rootfs\'s own', () => {
    const facts = parseHostFacts(
      [
        '22 1 0:21 / /proc rw - proc proc rw',
        '23 1 0:22 / /sys rw - sysfs sysfs rw',
        '24 22 0:23 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw',
        '25 1 0:21 /sys /mnt/procsys rw - proc proc rw',
        '26 1 0:24 / /b/rootfs/proc rw - proc proc rw',
      ].join('\n'),
    );
    expect(facts.fullProcSys).toEqual(['/proc', '/sys', '/b/rootfs/proc']);
    const st = compilePlan(spec(), ctx({ noPivot: true, hostFacts: facts })).steps;
    const hidden = st.filter((s) => s.label.startsWith('--no-pivot: host '));
    expect(hidden.map((s) => `${s.op} ${String(arg(s, 'path') ?? arg(s, 'target'))}`)).toEqual(['setattr /proc', 'umount /proc', 'setattr /sys', 'umount /sys']);
    expect(hidden[0]!.args).toMatchObject({ root: SLOT.HOST, propagation: MS.MS_SLAVE, recursive: 1, missingOk: 1 });
    expect(hidden[1]!.args).toEqual({ path: '/proc', flags: 2, missingOk: 1 });
    expect(st.indexOf(hidden.at(-1)!)).toBe(st.findIndex((s) => s.op === 'move_root') - 1);
    expect(compilePlan(spec(), ctx({ hostFacts: facts })).steps.some((s) => s.op === 'umount')).toBe(false);
  });

  it('no mount namespace: the host\'s / is never touched (no propagation change, pivot_root, move_root or --no-pivot detach); the init chroots', () => {
    const noMnt = (edit: (s: Spec) => void = () => {}) =>
      spec((s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
        edit(s);
      });
    const facts = parseHostFacts(['22 1 0:21 / /proc rw - proc proc rw', '30 1 0:30 / /b rw shared:5 - ext4 /dev/sda1 rw'].join('\n'));
    for (const [what, p] of [
      ['default', compilePlan(noMnt(), ctx({ hostFacts: facts }))],
      ['--no-pivot', compilePlan(noMnt(), ctx({ noPivot: true, hostFacts: facts }))],
      ['rshared', compilePlan(noMnt((s) => (s.linux!.rootfsPropagation = 'rshared')), ctx({ hostFacts: facts }))],
    ] as const) {
      const st = p.steps;
      expect(st.filter((s) => s.op === 'setattr' && s.args.root === SLOT.HOST), what).toEqual([]);
      expect(st.filter((s) => ['pivot_root', 'move_root', 'umount'].includes(s.op)), what).toEqual([]);
      const chroot = st.findIndex((s) => s.op === 'chroot');
      expect(st[chroot]!.args, what).toEqual({ root: SLOT.ROOT });
      // after every mount, before the process's cwd is made inside the new root
      expect(chroot, what).toBeGreaterThan(st.findLastIndex((s) => s.op === 'mount'));
      expect(chroot, what).toBeLessThan(st.findIndex((s) => s.label === 'process.cwd'));
      // the setup propagation goes to the rootfs's own bind, right after it is opened
      const open = st.findIndex((s) => s.op === 'open' && s.args.slot === SLOT.ROOT);
      expect(st[open + 1]!.args, what).toMatchObject({ root: SLOT.ROOT, target: '/', propagation: what === 'rshared' ? MS.MS_PRIVATE : MS.MS_SLAVE });
      expect(p.warnings.some((w) => /no mount namespace/.test(w)), what).toBe(true);
    }
    expect(compilePlan(spec(), ctx()).steps.some((s) => s.op === 'chroot')).toBe(false);
    // a new user namespace's root can't mount in the host's mount table: refused, naming the field
    expect(() => compilePlan(noMnt((s) => s.linux!.namespaces!.push({ type: 'user' })), ctx())).toThrow(/linux\.namespaces: a new user namespace needs its own mount namespace/);
  });

  it('security: proc and sysfs mounts, /dev/console and the rootfs bind never follow a symlink at their target', () => {
    const st = compilePlan(spec((s) => (s.process!.terminal = true)), ctx({ consoleSocket: '/run/c.sock' })).steps;
    const create = (label: string) => Number(arg(find(st, label)[0]!, 'create'));
    const byType = (type: string) => st.filter((s) => s.op === 'mount' && s.args.fstype === type);
    for (const m of [...byType('proc'), ...byType('sysfs')]) expect(Number(arg(m, 'create')) & CREATE.NOFOLLOW, m.label).toBe(CREATE.NOFOLLOW);
    for (const m of byType('tmpfs')) expect(Number(arg(m, 'create')) & CREATE.NOFOLLOW, m.label).toBe(0);
    expect(create('process.terminal /dev/console')).toBe(CREATE.FILE | CREATE.NOFOLLOW);
    expect(find(st, 'root.path').find((s) => s.op === 'bind')!.args).toMatchObject({ create: CREATE.NONE | CREATE.NOFOLLOW, source: '/b/rootfs' });
  });

  it('security: every procfs write (sysctl, oom score, time offsets) goes through the executor\'s own procfs, by a relative path', () => {
    const st = compilePlan(
      spec((s) => {
        s.process!.oomScoreAdj = 1;
        s.linux!.sysctl = { 'kernel.shmmax': '1' };
        s.linux!.namespaces!.push({ type: 'time' });
        s.linux!.timeOffsets = { monotonic: { secs: 1 } };
      }),
      ctx(),
    ).steps;
    const writes = st.filter((s) => s.op === 'write_file');
    expect(writes.map((s) => s.args.path)).toEqual(['self/timens_offsets', 'self/oom_score_adj', 'sys/kernel/shmmax']);
    for (const w of writes) expect(w.args.root).toBe(SLOT.PROC);
  });
});
