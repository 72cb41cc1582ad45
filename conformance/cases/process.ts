// config.md: root, process (args, env, cwd, user, capabilities, rlimits, noNewPrivileges, oomScoreAdj,
// scheduler, ioPriority), hostname, domainname, annotations, extensibility.
import { readFileSync } from 'node:fs';
import type { Case, CaseContext } from '../lib/case.ts';
import { capsOf } from '../lib/host.ts';
import { asAttempt, numbers, parseStatus } from '../lib/probe.ts';
import type { Report } from '../lib/probe.ts';
import { DEFAULT_PATH_ENV } from '../lib/spec.ts';
import type { Spec } from '../lib/spec.ts';

const SPEC_13 = 'runc 1.1.5 implements runtime-spec 1.0.2: the field is unknown to it and silently ignored';

function status(r: Report): Record<string, string> {
  return parseStatus(r.status);
}

/** create must fail, or succeed while naming `word` in a warning (for "MUST be logged as a warning"). */
function logText(t: CaseContext): string {
  return t
    .logLines()
    .map((l) => JSON.stringify(l))
    .join('\n');
}

async function mustRefuse(t: CaseContext, edit: (s: Spec) => void, what: string): Promise<void> {
  await t.control();
  const c = await t.tryCreate(t.bundle(['sleep'], edit));
  t.errors(c.createResult!, what);
}

export const processCases: Case[] = [
  {
    name: 'root/readonly',
    section: 'config.md#root',
    spec: 'readonly: if true then the root filesystem MUST be read-only inside the container',
    async run(t) {
      const r = await t.probe(['writable:/', 'writable:/etc/passwd'], (s) => {
        s.root!.readonly = true;
      });
      const root = asAttempt(r['writable:/']);
      t.equal([root.ok, root.errno], [false, 30], 'creating a file in / must fail with EROFS');
      t.equal(asAttempt(r['writable:/etc/passwd']).ok, false, '/etc/passwd must not be writable');
    },
  },
  {
    name: 'root/writable-by-default',
    section: 'config.md#root',
    spec: 'readonly defaults to false',
    async run(t) {
      const r = await t.probe(['writable:/', 'writable:/tmp'], (s) => {
        delete s.root!.readonly;
      });
      t.equal(asAttempt(r['writable:/']).ok, true, '/ must be writable');
    },
  },
  {
    name: 'root/absolute-path',
    section: 'config.md#root',
    spec: 'path is either an absolute path or a relative path to the bundle',
    async run(t) {
      const r = await t.probe(['stat:/bin/probe'], (s, b) => {
        s.root!.path = b.rootfs;
      });
      t.equal((r['stat:/bin/probe'] as { type?: string }).type, 'f', 'the rootfs given by absolute path is the container root');
    },
  },
  {
    name: 'root/missing-path-errors',
    section: 'config.md#root',
    spec: 'A directory MUST exist at the path declared by the field',
    async run(t) {
      await mustRefuse(t, (s) => {
        s.root!.path = 'no-such-rootfs';
      }, 'create with a missing root.path');
    },
  },
  {
    name: 'process/args-path-lookup',
    section: 'config.md#process',
    spec: 'args[0] is used with the same semantics as execvp\'s file: a relative name is searched in $PATH',
    async run(t) {
      const r = await t.probe(['args'], (s) => {
        s.process!.args = ['probe', 'args', 'exit:0'];
        s.process!.env = ['PATH=/usr/bin:/bin'];
      });
      t.equal(r.args, ['probe', 'args', 'exit:0'], 'argv (argv[0] as given)');
    },
  },
  {
    name: 'process/env',
    section: 'config.md#process',
    spec: 'env (array of strings) with the same semantics as environ',
    async run(t) {
      const r = await t.probe(['env'], (s) => {
        s.process!.env = [DEFAULT_PATH_ENV, 'ONE=1', 'WITH_EQUALS=a=b', 'EMPTY='];
      });
      const env = r.env as string[];
      for (const e of [DEFAULT_PATH_ENV, 'ONE=1', 'WITH_EQUALS=a=b', 'EMPTY=']) t.check(env.includes(e), `env must contain ${e}: ${JSON.stringify(env)}`);
      t.observe('env.extra', env.filter((e) => ![DEFAULT_PATH_ENV, 'ONE=1', 'WITH_EQUALS=a=b', 'EMPTY='].includes(e)).map((e) => e.split('=')[0]));
    },
  },
  {
    name: 'process/cwd',
    section: 'config.md#process',
    spec: 'cwd is the working directory that will be set for the executable',
    async run(t) {
      const r = await t.probe(['cwd'], (s) => {
        s.process!.cwd = '/home/tester';
      });
      t.equal(r.cwd, '/home/tester', 'cwd');
    },
  },
  {
    name: 'process/user-uid-gid',
    section: 'config.md#user',
    spec: 'uid and gid specify the user and group ID in the container namespace',
    async run(t) {
      const r = await t.probe(['status', 'ids'], (s) => {
        s.process!.user = { uid: 1000, gid: 1000 };
      });
      const st = status(r);
      t.equal(numbers(st.Uid), [1000, 1000, 1000, 1000], 'Uid (real, effective, saved, fs)');
      t.equal(numbers(st.Gid), [1000, 1000, 1000, 1000], 'Gid (real, effective, saved, fs)');
    },
  },
  {
    name: 'process/additional-gids',
    section: 'config.md#user',
    spec: 'additionalGids specifies additional group IDs in the container namespace to be added to the process',
    async run(t) {
      const r = await t.probe(['ids'], (s) => {
        s.process!.user = { uid: 1000, gid: 1000, additionalGids: [3000, 3001] };
      });
      const groups = (r.ids as { groups: number[] }).groups;
      t.check(groups.includes(3000) && groups.includes(3001), `groups must include 3000 and 3001: ${JSON.stringify(groups)}`);
      t.observe('groups', groups);
    },
  },
  {
    name: 'process/umask',
    section: 'config.md#user',
    spec: 'umask specifies the umask of the user',
    async run(t) {
      const r = await t.probe(['umask'], (s) => {
        s.process!.user = { uid: 0, gid: 0, umask: 0o027 };
      });
      t.equal(r.umask, 0o027, 'umask');
    },
  },
  {
    name: 'process/capabilities-sets',
    section: 'config.md#linux-process',
    spec: 'capabilities: effective, bounding, inheritable, permitted and ambient are the sets kept for the process',
    async run(t) {
      const r = await t.probe(['status'], (s) => {
        s.process!.capabilities = {
          bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
          effective: ['CAP_CHOWN', 'CAP_KILL'],
          permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          ambient: ['CAP_NET_BIND_SERVICE'],
        };
        s.process!.noNewPrivileges = true;
      });
      const st = status(r);
      t.equal(capsOf(st.CapBnd ?? '0'), ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID', 'CAP_NET_BIND_SERVICE'].sort(byCap), 'bounding set');
      t.equal(capsOf(st.CapPrm ?? '0'), ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'].sort(byCap), 'permitted set');
      t.equal(capsOf(st.CapInh ?? '0'), ['CAP_KILL', 'CAP_NET_BIND_SERVICE'].sort(byCap), 'inheritable set');
      t.equal(capsOf(st.CapAmb ?? '0'), ['CAP_NET_BIND_SERVICE'], 'ambient set');
      // Ambient capabilities are added to the effective set across execve.
      t.equal(capsOf(st.CapEff ?? '0'), ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'].sort(byCap), 'effective set (configured + ambient)');
    },
  },
  {
    name: 'process/capabilities-non-root-ambient',
    section: 'config.md#linux-process',
    spec: 'a non-root process keeps the ambient capabilities across execve',
    async run(t) {
      const r = await t.probe(['status'], (s) => {
        s.process!.user = { uid: 1000, gid: 1000 };
        const set = ['CAP_NET_BIND_SERVICE'];
        s.process!.capabilities = { bounding: set, effective: set, permitted: set, inheritable: set, ambient: set };
      });
      const st = status(r);
      t.equal(capsOf(st.CapEff ?? '0'), ['CAP_NET_BIND_SERVICE'], 'effective set of uid 1000');
      t.equal(capsOf(st.CapAmb ?? '0'), ['CAP_NET_BIND_SERVICE'], 'ambient set of uid 1000');
    },
  },
  {
    name: 'process/capabilities-none',
    section: 'config.md#linux-process',
    spec: 'empty capability sets leave the process without capabilities',
    async run(t) {
      const r = await t.probe(['status', 'sethostname:nope'], (s) => {
        s.process!.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
      });
      const st = status(r);
      for (const k of ['CapBnd', 'CapPrm', 'CapEff', 'CapInh', 'CapAmb']) t.equal(capsOf(st[k] ?? '0'), [], k);
      t.equal(asAttempt(r['sethostname:nope']).errno, 1, 'sethostname without CAP_SYS_ADMIN must fail with EPERM');
    },
  },
  {
    name: 'process/capabilities-unknown-reported',
    section: 'config.md#linux-process',
    spec: 'Any value which cannot be mapped to a relevant kernel interface MUST be logged as a warning by the runtime (or refused with an error naming it)',
    async run(t) {
      await t.control();
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s) => {
          s.process!.capabilities!.effective!.push('CAP_NOT_A_CAPABILITY');
          s.process!.capabilities!.permitted!.push('CAP_NOT_A_CAPABILITY');
        }),
      );
      const r = c.createResult!;
      t.observe('unknown-cap', r.code === 0 ? 'accepted' : 'refused');
      const text = `${r.stderr}\n${logText(t)}`;
      t.check(text.includes('CAP_NOT_A_CAPABILITY'), `the unknown capability must be named in a warning or an error, got ${JSON.stringify(text.slice(0, 400))}`);
    },
  },
  {
    name: 'process/rlimits',
    section: 'config.md#posix-process',
    spec: 'rlimits: rlim.rlim_cur MUST match soft and rlim.rlim_max MUST match hard',
    async run(t) {
      const r = await t.probe(['rlimits'], (s) => {
        s.process!.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 },
          { type: 'RLIMIT_CORE', soft: 1024, hard: 2048 },
          { type: 'RLIMIT_NICE', soft: 0, hard: 0 },
        ];
      });
      const rl = r.rlimits as Record<string, number[]>;
      t.equal(rl.RLIMIT_NOFILE, [512, 1000], 'RLIMIT_NOFILE');
      t.equal(rl.RLIMIT_CORE, [1024, 2048], 'RLIMIT_CORE');
      t.equal(rl.RLIMIT_NICE, [0, 0], 'RLIMIT_NICE');
    },
  },
  {
    name: 'process/rlimits-raise-hard',
    section: 'config.md#posix-process',
    spec: 'Only a privileged process (e.g. one with CAP_SYS_RESOURCE) can raise a hard limit',
    needs: ['cap:CAP_SYS_RESOURCE'],
    async run(t) {
      const r = await t.probe(['rlimits'], (s) => {
        s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }];
      });
      t.equal((r.rlimits as Record<string, number[]>).RLIMIT_NOFILE, [1048576, 1048576], 'RLIMIT_NOFILE above the caller hard limit');
    },
  },
  {
    name: 'process/rlimits-unknown-type-errors',
    section: 'config.md#posix-process',
    spec: 'The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface',
    async run(t) {
      await mustRefuse(t, (s) => {
        s.process!.rlimits = [{ type: 'RLIMIT_NOT_A_LIMIT', soft: 1, hard: 1 }];
      }, 'create with an unknown rlimit type');
    },
  },
  {
    name: 'process/rlimits-duplicate-errors',
    section: 'config.md#posix-process',
    spec: 'If rlimits contains duplicated entries with same type, the runtime MUST generate an error',
    deviations: {
      runc: {
        spec: 'If rlimits contains duplicated entries with same type, the runtime MUST generate an error',
        behaviour: 'runc 1.1.5 accepts duplicated rlimit types (the last entry wins)',
      },
    },
    async run(t) {
      await mustRefuse(t, (s) => {
        s.process!.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 512, hard: 512 },
          { type: 'RLIMIT_NOFILE', soft: 256, hard: 256 },
        ];
      }, 'create with a duplicated rlimit type');
    },
  },
  {
    name: 'process/no-new-privileges',
    section: 'config.md#linux-process',
    spec: 'noNewPrivileges set to true prevents the process from gaining additional privileges (prctl PR_SET_NO_NEW_PRIVS)',
    async run(t) {
      const on = await t.probe(['status'], (s) => {
        s.process!.noNewPrivileges = true;
      });
      t.equal(status(on).NoNewPrivs, '1', 'NoNewPrivs with noNewPrivileges: true');
      const off = await t.probe(['status'], (s) => {
        s.process!.noNewPrivileges = false;
      });
      t.equal(status(off).NoNewPrivs, '0', 'NoNewPrivs with noNewPrivileges: false');
    },
  },
  {
    name: 'process/oom-score-adj',
    section: 'config.md#linux-process',
    spec: 'If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value',
    async run(t) {
      const r = await t.probe(['oom'], (s) => {
        s.process!.oomScoreAdj = 345;
      });
      t.equal(String(r.oom).trim(), '345', 'oom_score_adj');
    },
  },
  {
    name: 'process/oom-score-adj-unset',
    section: 'config.md#linux-process',
    spec: 'If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj',
    async run(t) {
      const mine = readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
      const r = await t.probe(['oom'], (s) => {
        delete s.process!.oomScoreAdj;
      });
      t.equal(String(r.oom).trim(), mine, "oom_score_adj must be the caller's");
    },
  },
  {
    name: 'process/oom-score-adj-negative',
    section: 'config.md#linux-process',
    spec: 'oomScoreAdj below the caller value (needs CAP_SYS_RESOURCE)',
    needs: ['cap:CAP_SYS_RESOURCE'],
    async run(t) {
      const r = await t.probe(['oom'], (s) => {
        s.process!.oomScoreAdj = -500;
      });
      t.equal(String(r.oom).trim(), '-500', 'oom_score_adj');
    },
  },
  {
    name: 'process/scheduler',
    section: 'config.md#linux-process',
    spec: 'scheduler: policy and nice for the process (runtime-spec 1.2)',
    deviations: { runc: { spec: 'scheduler (object, OPTIONAL) is an object describing the scheduler properties for the process', behaviour: SPEC_13 } },
    async run(t) {
      const r = await t.probe(['sched'], (s) => {
        s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
      });
      const sc = r.sched as { policy: number; nice: number };
      t.equal(sc.policy, 3, 'policy must be SCHED_BATCH (3)');
      t.equal(sc.nice, 7, 'nice');
    },
  },
  {
    name: 'process/io-priority',
    section: 'config.md#linux-process',
    spec: 'ioPriority configures the I/O priority (runtime-spec 1.2)',
    deviations: { runc: { spec: 'ioPriority (object, OPTIONAL) configures the I/O priority settings for the container processes', behaviour: SPEC_13 } },
    async run(t) {
      const r = await t.probe(['sched'], (s) => {
        s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
      });
      const sc = r.sched as { ioprioClass: number; ioprioData: number };
      t.equal([sc.ioprioClass, sc.ioprioData], [2, 6], 'I/O priority class BE (2), level 6');
    },
  },
  {
    name: 'process/apparmor-profile',
    section: 'config.md#linux-process',
    spec: 'apparmorProfile specifies the name of the AppArmor profile for the process',
    needs: ['apparmor'],
    async run(t) {
      const r = await t.probe(['file:/proc/self/attr/current'], (s) => {
        s.process!.apparmorProfile = 'unconfined';
      });
      t.check(String(r['file:/proc/self/attr/current']).includes('unconfined'), 'AppArmor label');
    },
  },
  {
    name: 'process/selinux-label',
    section: 'config.md#linux-process',
    spec: 'selinuxLabel specifies the SELinux label for the process',
    needs: ['selinux'],
    async run(t) {
      const r = await t.probe(['file:/proc/self/attr/current'], (s) => {
        s.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
      });
      t.check(String(r['file:/proc/self/attr/current']).includes('container_t'), 'SELinux label');
    },
  },
  {
    name: 'config/hostname',
    section: 'config.md#hostname',
    spec: "hostname specifies the container's hostname as seen by processes running inside the container",
    async run(t) {
      const r = await t.probe(['uts'], (s) => {
        s.hostname = 'conformance-host';
      });
      t.equal((r.uts as { hostname: string }).hostname, 'conformance-host', 'hostname');
    },
  },
  {
    name: 'config/domainname',
    section: 'config.md#domainname',
    spec: "domainname specifies the container's domainname as seen by processes running inside the container",
    deviations: {
      runc: {
        spec: "domainname specifies the container's domainname as seen by processes running inside the container",
        behaviour: 'runc 1.1.5 ignores domainname: the container sees the default "(none)"',
      },
    },
    async run(t) {
      const r = await t.probe(['uts'], (s) => {
        s.domainname = 'conformance.test';
      });
      t.equal((r.uts as { domainname: string }).domainname, 'conformance.test', 'domainname');
    },
  },
  {
    name: 'config/unknown-properties-ignored',
    section: 'config.md#extensibility',
    spec: 'Runtimes MAY log unknown properties but MUST otherwise ignore them. That includes not generating errors',
    async run(t) {
      const r = await t.probe(['pid'], (s) => {
        s['org.example.unknownTopLevel'] = { nested: [1, 2, 3] };
        s.process!['org.example.unknownProcessField'] = true;
        s.linux!['org.example.unknownLinuxField'] = 'x';
      });
      t.check(r.pid !== undefined, 'the container with unknown properties must run');
    },
  },
];

function byCap(a: string, b: string): number {
  return capsOf('ffffffffffff').indexOf(a) - capsOf('ffffffffffff').indexOf(b);
}
