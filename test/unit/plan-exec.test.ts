// compileExecPlan without root: the steps that start a process inside a running container, and how
// they share the process setup with create's plan; the exec process built from the command line.
import { describe, expect, it } from 'vitest';
import { ConfigError, HakoError } from '../../src/errors.ts';
import { execOptions, type ExecOptions } from '../../src/runtime/options.ts';
import { CLONE, O } from '../../src/plan/constants.ts';
import { cpuListMask } from '../../src/plan/cpu-list.ts';
import { compileExecPlan, compilePlan, encodePlan, SLOT, type ExecPlanContext, type Step } from '../../src/plan/index.ts';
import { parseSubCgroups, processFromFlags } from '../../src/runtime/exec.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import type { Process } from '../../src/spec/types.ts';
import type { ContainerRecord } from '../../src/state/record.ts';

const ctx = (extra: Partial<ExecPlanContext> = {}): ExecPlanContext => ({
  containerId: 'c1',
  namespaces: [
    { type: 'pid', path: '/proc/42/ns/pid' },
    { type: 'mount', path: '/proc/42/ns/mnt' },
    { type: 'network', path: '/proc/42/ns/net' },
  ],
  preserveFds: 0,
  foreground: false,
  noNewKeyring: false,
  ...extra,
});

function proc(edit: (p: Process) => void = () => {}): Process {
  const p = defaultSpec().process!;
  p.terminal = false;
  p.args = ['sh', '-c', 'echo hi'];
  edit(p);
  return p;
}

const ops = (steps: Step[]) => steps.map((s) => `${s.stage}:${s.op}`);

describe('compileExecPlan', () => {
  it('joins the namespaces (every file opened first), clones without flags, and runs the process at once', () => {
    const p = compileExecPlan(proc(), ctx());
    expect(ops(p.steps.filter((s) => s.stage === 'executor'))).toEqual([
      'executor:open',
      'executor:open',
      'executor:open',
      'executor:setns',
      'executor:setns',
      'executor:setns',
      'executor:close',
      'executor:close',
      'executor:close',
      'executor:clone',
    ]);
    // mount first here (no user namespace), then runc's order
    const opens = p.steps.filter((s) => s.op === 'open').map((s) => (s.op === 'open' ? s.args.path : ''));
    expect(opens).toEqual(['/proc/42/ns/mnt', '/proc/42/ns/pid', '/proc/42/ns/net']);
    const setns = p.steps.filter((s) => s.op === 'setns').map((s) => (s.op === 'setns' ? s.args.nstype : 0));
    expect(setns).toEqual([CLONE.CLONE_NEWNS, CLONE.CLONE_NEWPID, CLONE.CLONE_NEWNET]);
    const clone = p.steps.find((s) => s.op === 'clone');
    expect(clone?.args).toEqual({ flags: 0, foreground: 0 });
    expect(p.steps.some((s) => s.stage === 'parent')).toBe(false);
    // no mounts, no fifo: nothing of the container's setup is redone
    for (const op of ['mount', 'bind', 'pivot_root', 'mkfifo', 'wait_fifo', 'sethostname', 'mkpath', 'mknod']) {
      expect(p.steps.map((s) => s.op)).not.toContain(op);
    }
    expect(ops(p.steps).slice(-2)).toEqual(['init:ready', 'init:exec']);
    expect(p.steps.at(-1)?.args).toEqual({ args: ['sh', '-c', 'echo hi'], env: proc().env });
    expect(() => encodePlan(p)).not.toThrow();
  });

  it('a container without a mount namespace: its init\'s root is opened with the namespace files and chrooted into before the clone', () => {
    const namespaces = ctx().namespaces.filter((ns) => ns.type !== 'mount');
    const p = compileExecPlan(proc(), ctx({ namespaces, root: '/proc/42/root' }));
    const executor = p.steps.filter((s) => s.stage === 'executor');
    expect(executor.map((s) => `${s.op} ${s.label}`)).toEqual([
      'open container root',
      'open container namespace pid',
      'open container namespace network',
      'setns container namespace pid',
      'setns container namespace network',
      'close container namespace pid',
      'close container namespace network',
      'chroot container root',
      'close container root',
      'clone process',
    ]);
    const slot = SLOT.NS_BASE + namespaces.length;
    expect(executor[0]!.args).toEqual({ path: '/proc/42/root', flags: O.O_PATH | O.O_DIRECTORY, mode: 0, slot });
    expect(executor.find((s) => s.op === 'chroot')!.args).toEqual({ root: slot });
    expect(compileExecPlan(proc(), ctx()).steps.some((s) => s.op === 'chroot')).toBe(false);
    expect(() => encodePlan(p)).not.toThrow();
  });

  it('joins the user namespace first and becomes its root, whatever order the namespaces come in', () => {
    const p = compileExecPlan(proc(), ctx({ namespaces: [...ctx().namespaces, { type: 'user', path: '/proc/42/ns/user' }] }));
    const opens = p.steps.filter((s) => s.op === 'open').map((s) => (s.op === 'open' ? s.args.path : ''));
    expect(opens[0]).toBe('/proc/42/ns/user');
    const init = p.steps.filter((s) => s.stage === 'init');
    expect(init.slice(0, 3).map((s) => [s.op, s.args])).toEqual([
      ['setid', { uid: 0, gid: 0 }],
      ['setgroups', { gids: [] }],
      ['setsid', {}],
    ]);
  });

  it('shares create\'s process setup: the same steps from umask on, without the fifo', () => {
    const p = proc((x) => {
      x.user = { uid: 1000, gid: 1000, additionalGids: [5], umask: 0o027 };
      x.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }];
      x.capabilities!.inheritable = ['CAP_KILL'];
      x.capabilities!.ambient = ['CAP_KILL'];
      x.cwd = '/tmp';
    });
    const spec = defaultSpec();
    spec.process = p;
    const created = compilePlan(spec, { bundle: '/b', rootfs: '/b/rootfs', execFifo: '/f', noPivot: false, noNewKeyring: true, preserveFds: 2, foreground: false });
    const exec = compileExecPlan(p, ctx({ preserveFds: 2 }));
    const tail = (steps: Step[]) => {
      const from = steps.findIndex((s) => s.op === 'umask' && s.label !== 'missing mount points');
      return steps
        .slice(from)
        .filter((s) => s.stage === 'init' && !['write_file', 'bind', 'mask', 'setattr', 'wait_fifo', 'started'].includes(s.op))
        .map((s) => ({ op: s.op, label: s.label, args: s.args }));
    };
    expect(tail(exec.steps)).toEqual(tail(created.steps));
    expect(tail(exec.steps).map((s) => s.op)).toEqual([
      'umask',
      'no_new_privs',
      'setrlimit',
      'default_home',
      'chown_stdio',
      'close_fds',
      'cap_bounding',
      'chdir',
      'keepcaps',
      'setgroups',
      'setid',
      'keepcaps',
      'capset',
      'ambient',
      'chdir',
      'find_exec',
      'ready',
      'exec',
    ]);
    expect(exec.steps.find((s) => s.op === 'close_fds')?.args).toEqual({ first: 5 });
    expect(exec.steps.find((s) => s.op === 'umask')?.args).toEqual({ mask: 0o027 });
  });

  it('joins the container\'s session keyring (unchanged permissions) unless it was created with --no-new-keyring', () => {
    const keyring = compileExecPlan(proc(), ctx()).steps.find((s) => s.op === 'keyring');
    expect(keyring?.args).toEqual({ name: '_ses.c1', perm: 0 });
    expect(compileExecPlan(proc(), ctx({ noNewKeyring: true })).steps.some((s) => s.op === 'keyring')).toBe(false);
  });

  it('with a terminal: connects to the console socket before entering the mount namespace, a pty from the container\'s /dev/ptmx, no /dev/console', () => {
    const p = compileExecPlan(
      proc((x) => {
        x.terminal = true;
        x.consoleSize = { height: 30, width: 100 };
      }),
      ctx({ consoleSocket: '/run/shim/pty.sock' }),
    );
    expect(ops(p.steps).slice(0, 2)).toEqual(['executor:connect', 'executor:open']);
    expect(p.steps[0]?.args).toEqual({ path: '/run/shim/pty.sock', slot: SLOT.CONSOLE });
    const term = p.steps.find((s) => s.op === 'terminal');
    expect(term?.args).toEqual({ root: SLOT.HOST, ptmx: '/dev/ptmx', console: SLOT.CONSOLE, rows: 30, cols: 100, slot: SLOT.PTY });
    expect(p.steps.some((s) => s.op === 'bind')).toBe(false);
    const init = ops(p.steps.filter((s) => s.stage === 'init'));
    expect(init.indexOf('init:dup_stdio')).toBe(init.indexOf('init:terminal') + 1);
    expect(init.indexOf('init:setsid')).toBeLessThan(init.indexOf('init:terminal'));
    expect(() => compileExecPlan(proc((x) => (x.terminal = true)), ctx())).toThrow('process.terminal: a console socket is needed');
  });

  it('writes the container\'s oom score before any namespace; foreground keeps the executor', () => {
    const p = compileExecPlan(proc(), ctx({ oomScoreAdj: -500, foreground: true }));
    expect(p.steps[0]).toMatchObject({ stage: 'executor', op: 'write_file', args: { root: SLOT.PROC, path: 'self/oom_score_adj', content: '-500' } });
    expect(p.foreground).toBe(true);
    expect(p.steps.find((s) => s.op === 'clone')?.args).toEqual({ flags: 0, foreground: 1 });
  });

  it('refuses a process without args and warns about what hako ignores', () => {
    expect(() => compileExecPlan(proc((x) => (x.args = [])), ctx())).toThrow(ConfigError);
    const p = compileExecPlan(proc((x) => (x.execCPUAffinity = { final: '0' })), ctx());
    expect(p.warnings).toEqual([]);
    expect(p.steps.find((s) => s.op === 'affinity')!.args).toEqual({ mask: cpuListMask('0', 'f') });
    expect(() => compileExecPlan(proc((x) => (x.apparmorProfile = 'docker-default')), ctx())).toThrow(/process\.apparmorProfile: AppArmor is not enabled/);
  });
});

const flags = (extra: Partial<ExecOptions> = {}): ExecOptions => execOptions({ args: ['ls', '-l'], ...extra });

function record(edit: (p: Process) => void = () => {}): ContainerRecord {
  const config = defaultSpec();
  config.process!.terminal = true;
  config.process!.env = ['PATH=/bin', 'A=1'];
  config.process!.user = { uid: 0, gid: 0, umask: 0o077 };
  edit(config.process!);
  return { id: 'c1', ociVersion: '1.3.0', bundle: '/b', rootfs: '/b/rootfs', created: '', owner: 'root', config };
}

describe('exec process from the command line (runc getProcess)', () => {
  it('starts from the container\'s process: args replaced, env appended, terminal off unless --tty', () => {
    const p = processFromFlags(record(), flags({ env: ['B=2'] }));
    expect(p.args).toEqual(['ls', '-l']);
    expect(p.env).toEqual(['PATH=/bin', 'A=1', 'B=2']);
    expect(p.terminal).toBe(false);
    expect(p.user).toEqual({ uid: 0, gid: 0, umask: 0o077 });
    expect(p.capabilities).toEqual(record().config.process!.capabilities);
    expect(processFromFlags(record(), flags({ tty: true })).terminal).toBe(true);
  });

  it('--cwd, --user UID[:GID], --additional-gids, --no-new-privs, --cap, --apparmor', () => {
    const p = processFromFlags(
      record((x) => (x.noNewPrivileges = false)),
      flags({ cwd: '/tmp', user: '1000:2000', additionalGids: ['5', '6'], noNewPrivs: true, caps: ['CAP_SYS_ADMIN'], apparmor: 'unconfined' }),
    );
    expect(p.cwd).toBe('/tmp');
    expect(p.user).toEqual({ uid: 1000, gid: 2000, umask: 0o077, additionalGids: [5, 6] });
    expect(p.noNewPrivileges).toBe(true);
    for (const set of ['bounding', 'effective', 'permitted'] as const) expect(p.capabilities![set]).toContain('CAP_SYS_ADMIN');
    expect(p.capabilities!.ambient ?? []).not.toContain('CAP_SYS_ADMIN');
    expect(p.apparmorProfile).toBe('unconfined');
    // a uid alone keeps the config's gid
    expect(processFromFlags(record((x) => (x.user = { uid: 0, gid: 7 })), flags({ user: '1000' })).user).toEqual({ uid: 1000, gid: 7 });
  });

  it('says what is wrong with a flag, in runc\'s words', () => {
    expect(() => processFromFlags(record(), flags({ user: 'bob' }))).toThrow('parsing bob as int for uid failed');
    expect(() => processFromFlags(record(), flags({ user: '1:x' }))).toThrow('parsing x as int for gid failed');
    expect(() => processFromFlags(record(), flags({ additionalGids: ['-1'] }))).toThrow('additional-gids must be a positive number -1');
    expect(() => processFromFlags(record(), flags({ cwd: 'rel' }))).toThrow(/cwd: must be an absolute path/);
    expect(() => processFromFlags(record(), flags({ cwd: 'rel' }))).toThrow(HakoError);
  });

  it('parses --cgroup as runc: PATH alone, or CONTROLLER[,CONTROLLER]:PATH', () => {
    expect(parseSubCgroups(['sub'])).toEqual(new Map([['', 'sub']]));
    expect(parseSubCgroups(['cpu,cpuacct:a', 'memory:b'])).toEqual(
      new Map([
        ['cpu', 'a'],
        ['cpuacct', 'a'],
        ['memory', 'b'],
      ]),
    );
    expect(() => parseSubCgroups(['a', 'memory:b'])).toThrow('invalid --cgroup argument: a (missing <controller>: prefix)');
    expect(() => parseSubCgroups(['a:b:c'])).toThrow('invalid --cgroup argument: a:b:c');
  });
});
