// config-linux.md: sysctl, maskedPaths, readonlyPaths, personality, intelRdt, cgroups (v1 here; v2 core where
// the host shows it) and seccomp (errno, kill, argument filters, SCMP_ACT_NOTIFY with listenerPath).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Case, CaseContext, Container } from '../lib/case.ts';
import { hostMounts } from '../lib/host.ts';
import { asAttempt, parseStatus } from '../lib/probe.ts';
import type { Spec } from '../lib/spec.ts';

const SPEC_13 = 'runc 1.1.5 implements runtime-spec 1.0.2: the field is unknown to it and silently ignored';

/** A file of the container's cgroup in a v1 hierarchy. */
function cgroupFile(t: CaseContext, c: Container, ctrl: string, file: string): string {
  const mount = t.must(t.host.cgroupV1.get(ctrl), `cgroup v1 ${ctrl} is not mounted`);
  try {
    return readFileSync(join(mount, t.cgroupsPath(c.id), file), 'utf8').trim();
  } catch (e) {
    t.fail(`read ${ctrl}/${file}: ${String(e)}`);
  }
}

async function runningWithResources(t: CaseContext, resources: Record<string, unknown>): Promise<Container> {
  const c = await t.startContainer(
    t.bundle(['pid', 'print', 'sleep'], (s) => {
      Object.assign(s.linux!.resources!, resources);
    }),
  );
  await c.report();
  return c;
}

function seccomp(s: Spec, names: string[], action: string, extra: Record<string, unknown> = {}): void {
  s.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names, action, ...extra }],
  };
}

export const linuxCases: Case[] = [
  {
    name: 'linux/sysctl',
    section: 'config-linux.md#sysctl',
    spec: 'sysctl allows kernel parameters to be modified at runtime for the container',
    async run(t) {
      const r = await t.probe(['sysctl:net.ipv4.ip_forward', 'sysctl:kernel.shmmax', 'sysctl:net.ipv4.tcp_keepalive_time'], (s) => {
        s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '123456789', 'net.ipv4.tcp_keepalive_time': '321' };
      });
      t.equal(r['sysctl:net.ipv4.ip_forward'], '1', 'net.ipv4.ip_forward (network namespace)');
      t.equal(r['sysctl:kernel.shmmax'], '123456789', 'kernel.shmmax (ipc namespace)');
      t.equal(r['sysctl:net.ipv4.tcp_keepalive_time'], '321', 'net.ipv4.tcp_keepalive_time');
      t.check(readFileSync('/proc/sys/kernel/shmmax', 'utf8').trim() !== '123456789', 'the host value must be unchanged');
    },
  },
  {
    name: 'linux/masked-paths',
    section: 'config-linux.md#masked-paths',
    spec: 'maskedPaths will mask over the provided paths inside the container so that they cannot be read',
    async run(t) {
      const r = await t.probe(['file:/proc/kcore', 'file:/etc/secret', 'ls:/etc/secret-dir', 'ls:/sys/firmware'], (s, b) => {
        writeFileSync(join(b.rootfs, 'etc/secret'), 'top secret\n');
        mkdirSync(join(b.rootfs, 'etc/secret-dir'));
        writeFileSync(join(b.rootfs, 'etc/secret-dir/inside'), 'x');
        s.linux!.maskedPaths = [...(s.linux!.maskedPaths ?? []), '/etc/secret', '/etc/secret-dir'];
      });
      t.check(!String(r['file:/etc/secret']).includes('top secret'), `a masked file must not be readable: ${JSON.stringify(r['file:/etc/secret'])}`);
      t.equal(r['ls:/etc/secret-dir'], [], 'a masked directory must look empty');
      t.check(typeof r['file:/proc/kcore'] !== 'string' || r['file:/proc/kcore'] === '', '/proc/kcore must not be readable');
      const fw = r['ls:/sys/firmware'];
      t.check(!Array.isArray(fw) || fw.length === 0, `/sys/firmware must look empty: ${JSON.stringify(fw)}`);
    },
  },
  {
    name: 'linux/readonly-paths',
    section: 'config-linux.md#readonly-paths',
    spec: 'readonlyPaths will set the provided paths as readonly inside the container',
    async run(t) {
      const r = await t.probe(['writable:/proc/sys/kernel/hostname', 'writable:/etc/ro-dir', 'writable:/etc'], (s, b) => {
        mkdirSync(join(b.rootfs, 'etc/ro-dir'));
        s.linux!.readonlyPaths = [...(s.linux!.readonlyPaths ?? []), '/etc/ro-dir'];
        s.process!.capabilities!.effective!.push('CAP_SYS_ADMIN');
        s.process!.capabilities!.permitted!.push('CAP_SYS_ADMIN');
        s.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
      });
      t.equal(asAttempt(r['writable:/proc/sys/kernel/hostname']).errno, 30, '/proc/sys must be read-only (EROFS), even with CAP_SYS_ADMIN');
      t.equal(asAttempt(r['writable:/etc/ro-dir']).errno, 30, '/etc/ro-dir must be read-only (EROFS)');
      t.equal(asAttempt(r['writable:/etc']).ok, true, 'its parent stays writable');
    },
  },
  {
    name: 'linux/personality',
    section: 'config-linux.md#personality',
    spec: 'personality sets the Linux execution personality; LINUX32 sets uname to show a 32 bit CPU type',
    deviations: { runc: { spec: 'personality (object, OPTIONAL) sets the Linux execution personality', behaviour: SPEC_13 } },
    async run(t) {
      const r = await t.probe(['personality', 'uname'], (s) => {
        s.linux!.personality = { domain: 'LINUX32' };
      });
      t.equal(Number(r.personality) & 0xff, 8, 'personality domain PER_LINUX32 (8)');
      t.check(/^i[3-6]86$/.test(String(r.uname)), `uname machine must be 32 bit, got ${String(r.uname)}`);
    },
  },
  {
    name: 'linux/mount-label',
    section: 'config-linux.md#mount-label',
    spec: 'mountLabel will set the SELinux context for the mounts in the container',
    needs: ['selinux'],
    async run(t) {
      const r = await t.probe(['mountinfo'], (s) => {
        s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0';
        s.mounts!.push({ destination: '/mnt/labelled', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      });
      t.check(String(r.mountinfo).includes('container_file_t'), 'the tmpfs carries the context= option');
    },
  },
  {
    name: 'linux/intel-rdt-without-resctrl-errors',
    section: 'config-linux.md#intelrdt',
    spec: 'If intelRdt is set and no mounted resctrl pseudo-filesystem is available in the runtime mount namespace, the runtime MUST generate an error',
    deviations: {
      runc: {
        spec: 'If no mounted resctrl pseudo-filesystem is available in the runtime mount namespace, the runtime MUST generate an error',
        behaviour: 'runc 1.1.5 accepts intelRdt with only closID on a host without resctrl and ignores it',
      },
    },
    async run(t) {
      if (readFileSync('/proc/self/mountinfo', 'utf8').includes(' - resctrl ')) t.skip('resctrl is mounted on this host');
      await t.control();
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s) => {
          s.linux!.intelRdt = { closID: 'hako-conformance' };
        }),
      );
      t.errors(c.createResult!, 'create with intelRdt on a host without resctrl');
    },
  },
  {
    name: 'cgroups/path-and-membership',
    section: 'config-linux.md#cgroups-path',
    spec: 'an absolute cgroupsPath is taken relative to the cgroups mount point; the container process is in that cgroup',
    async run(t) {
      const c = await runningWithResources(t, {});
      const pid = c.pid();
      const inside = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      for (const [ctrl, mount] of t.host.cgroupV1) {
        const dir = join(mount, t.cgroupsPath(c.id));
        if (!existsSync(dir)) {
          t.observe(`cgroup.${ctrl}`, 'not created');
          continue;
        }
        const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
        t.check(procs.includes(pid), `${ctrl}: the init must be in ${dir}/cgroup.procs`);
      }
      for (const ctrl of ['memory', 'pids', 'cpu']) {
        if (!t.host.cgroupV1.has(ctrl)) continue;
        t.check(
          inside.split('\n').some((l) => l.split(':')[1]?.split(',').includes(ctrl) && l.endsWith(t.cgroupsPath(c.id))),
          `/proc/<pid>/cgroup must show ${ctrl} at ${t.cgroupsPath(c.id)}: ${inside}`,
        );
      }
    },
  },
  {
    name: 'cgroups/memory',
    section: 'config-linux.md#memory',
    spec: 'memory: limit, reservation, swappiness, disableOOMKiller',
    needs: ['cgroup-v1:memory'],
    async run(t) {
      const c = await runningWithResources(t, { memory: { limit: 67108864, reservation: 33554432, swappiness: 10, disableOOMKiller: true } });
      t.equal(cgroupFile(t, c, 'memory', 'memory.limit_in_bytes'), '67108864', 'memory.limit_in_bytes');
      t.equal(cgroupFile(t, c, 'memory', 'memory.soft_limit_in_bytes'), '33554432', 'memory.soft_limit_in_bytes');
      t.equal(cgroupFile(t, c, 'memory', 'memory.swappiness'), '10', 'memory.swappiness');
      t.check(/oom_kill_disable 1/.test(cgroupFile(t, c, 'memory', 'memory.oom_control')), 'memory.oom_control oom_kill_disable 1');
    },
  },
  {
    name: 'cgroups/memory-swap',
    section: 'config-linux.md#memory',
    spec: 'memory.swap sets limit of memory+swap usage',
    needs: ['cgroup-v1:memory'],
    async run(t) {
      const mount = t.host.cgroupV1.get('memory') as string;
      if (!existsSync(join(mount, 'memory.memsw.limit_in_bytes'))) t.skip('swap accounting (memory.memsw.*) is off on this host');
      const c = await runningWithResources(t, { memory: { limit: 67108864, swap: 134217728 } });
      t.equal(cgroupFile(t, c, 'memory', 'memory.memsw.limit_in_bytes'), '134217728', 'memory.memsw.limit_in_bytes');
    },
  },
  {
    name: 'cgroups/cpu',
    section: 'config-linux.md#cpu',
    spec: 'cpu: shares, quota, period',
    needs: ['cgroup-v1:cpu'],
    async run(t) {
      const c = await runningWithResources(t, { cpu: { shares: 512, quota: 50000, period: 100000 } });
      t.equal(cgroupFile(t, c, 'cpu', 'cpu.shares'), '512', 'cpu.shares');
      t.equal(cgroupFile(t, c, 'cpu', 'cpu.cfs_quota_us'), '50000', 'cpu.cfs_quota_us');
      t.equal(cgroupFile(t, c, 'cpu', 'cpu.cfs_period_us'), '100000', 'cpu.cfs_period_us');
    },
  },
  {
    name: 'cgroups/cpu-burst',
    section: 'config-linux.md#cpu',
    spec: 'burst: the maximum accumulated time in microseconds for which tasks can run additionally (runtime-spec 1.1)',
    needs: ['cgroup-v1:cpu'],
    deviations: { runc: { spec: 'burst (uint64, OPTIONAL) specifies the maximum amount of accumulated time in microseconds', behaviour: SPEC_13 } },
    async run(t) {
      const c = await runningWithResources(t, { cpu: { quota: 50000, period: 100000, burst: 20000 } });
      t.equal(cgroupFile(t, c, 'cpu', 'cpu.cfs_burst_us'), '20000', 'cpu.cfs_burst_us');
    },
  },
  {
    name: 'cgroups/cpuset',
    section: 'config-linux.md#cpu',
    spec: 'cpus and mems: list of CPUs and memory nodes the container will run in',
    needs: ['cgroup-v1:cpuset'],
    async run(t) {
      const b = t.bundle(['sched', 'print', 'sleep'], (s) => {
        s.linux!.resources!.cpu = { cpus: '0', mems: '0' };
      });
      const c = await t.startContainer(b);
      const r = await c.report();
      t.equal(cgroupFile(t, c, 'cpuset', 'cpuset.cpus'), '0', 'cpuset.cpus');
      t.equal(cgroupFile(t, c, 'cpuset', 'cpuset.mems'), '0', 'cpuset.mems');
      t.equal((r.sched as { cpus: number[] }).cpus, [0], 'the process may only run on CPU 0');
    },
  },
  {
    name: 'cgroups/pids',
    section: 'config-linux.md#pids',
    spec: 'pids.limit specifies the maximum number of tasks in the cgroup',
    needs: ['cgroup-v1:pids'],
    async run(t) {
      const c = await runningWithResources(t, { pids: { limit: 64 } });
      t.equal(cgroupFile(t, c, 'pids', 'pids.max'), '64', 'pids.max');
    },
  },
  {
    name: 'cgroups/blkio-weight',
    section: 'config-linux.md#block-io',
    spec: 'blockIO.weight specifies the per-cgroup weight',
    needs: ['cgroup-v1:blkio'],
    async run(t) {
      const mount = t.host.cgroupV1.get('blkio') as string;
      const found = ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(join(mount, f)));
      const file = found ?? t.skip('no blkio weight file on this host (no CFQ/BFQ I/O scheduler)');
      const c = await runningWithResources(t, { blockIO: { weight: 500 } });
      t.check(cgroupFile(t, c, 'blkio', file).split(/\s+/).includes('500'), `${file} must be 500`);
    },
  },
  {
    name: 'cgroups/hugetlb',
    section: 'config-linux.md#huge-page-limits',
    spec: 'hugepageLimits represents the hugetlb controller',
    needs: ['cgroup-v1:hugetlb'],
    async run(t) {
      const c = await runningWithResources(t, { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
      t.equal(cgroupFile(t, c, 'hugetlb', 'hugetlb.2MB.limit_in_bytes'), '4194304', 'hugetlb.2MB.limit_in_bytes');
    },
  },
  {
    name: 'cgroups/network',
    section: 'config-linux.md#network',
    spec: 'network represents the cgroup subsystems net_cls and net_prio',
    needs: ['cgroup-v1:net_cls'],
    async run(t) {
      const c = await runningWithResources(t, { network: { classID: 1048577 } });
      t.equal(cgroupFile(t, c, 'net_cls', 'net_cls.classid'), '1048577', 'net_cls.classid');
    },
  },
  {
    name: 'cgroups/unified-on-v1-errors',
    section: 'config-linux.md#unified',
    spec: 'The runtime MUST generate an error when the configuration refers to a cgroup controller that is not present or that cannot be enabled',
    async run(t) {
      if (t.host.cgroupV2Controllers.includes('memory')) t.skip('memory is a cgroup v2 controller on this host');
      await t.control();
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s) => {
          s.linux!.resources!.unified = { 'memory.max': '67108864' };
        }),
      );
      t.errors(c.createResult!, 'create with unified memory.max while memory is not on cgroup v2');
    },
  },
  {
    name: 'cgroups/v2-unified',
    section: 'config-linux.md#unified',
    spec: 'unified: each key refers to a file in the cgroup unified hierarchy, written as given',
    needs: ['cgroup-v2:memory'],
    async run(t) {
      const c = await runningWithResources(t, { unified: { 'memory.max': '67108864' } });
      const v = readFileSync(join(t.host.cgroupV2 as string, t.cgroupsPath(c.id), 'memory.max'), 'utf8').trim();
      t.equal(v, '67108864', 'memory.max');
    },
  },
  {
    name: 'cgroups/v2-hybrid-hugetlb',
    section: 'config-linux.md#unified',
    spec: 'unified keys are written to the cgroup v2 hierarchy; a runtime that cannot enable the controller MUST generate an error (hybrid host: hugetlb lives on cgroup2)',
    needs: ['cgroup-v2:hugetlb'],
    async run(t) {
      await t.control();
      if (!existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB')) t.skip('no 2MB huge pages on this host');
      const b = t.bundle(['pid', 'print', 'sleep'], (s) => {
        s.linux!.resources!.unified = { 'hugetlb.2MB.max': '4194304' };
      });
      const c = await t.tryCreate(b);
      if (c.createResult?.code !== 0) {
        t.observe('v2-hugetlb', 'refused');
        return;
      }
      t.observe('v2-hugetlb', 'applied');
      const file = join(t.host.cgroupV2 as string, t.cgroupsPath(c.id), 'hugetlb.2MB.max');
      t.check(existsSync(file), `create accepted the unified hugetlb limit, so ${file} must exist`);
      if (existsSync(file)) t.equal(readFileSync(file, 'utf8').trim(), '4194304', 'hugetlb.2MB.max');
    },
  },
  {
    name: 'cgroups/cpuset-empty-parent',
    section: 'config-linux.md#cpu',
    spec: 'a cpuset parent that exists with empty cpuset.cpus/mems: the runtime copies the values down into every empty ancestor (runc) so the container can join',
    needs: ['cgroup-v1:cpuset'],
    async run(t) {
      const mount = t.host.cgroupV1.get('cpuset') as string;
      const id = t.newId('cs');
      // The run's own parent keeps working cpuset values (other cases use it)...
      const session = dirname(join(mount, t.cgroupsPath(id)));
      if (!existsSync(session)) {
        mkdirSync(session, { recursive: true });
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(session, f), readFileSync(join(mount, f), 'utf8').trim());
      }
      // ...and <parent>/<id> is made by hand below it (a new v1 cpuset cgroup starts empty), the container below that.
      const parent = join(mount, t.cgroupsPath(id));
      mkdirSync(parent);
      t.defer(() => {
        // runc 1.1.5 leaves the parents it made in the other hierarchies: remove every empty <parent>.
        for (const m of hostMounts()) {
          if (!m.mountPoint.startsWith('/sys/fs/cgroup') || (m.fsType !== 'cgroup' && m.fsType !== 'cgroup2')) continue;
          try {
            rmdirSync(join(m.mountPoint, t.cgroupsPath(id)));
          } catch {
            // not there, or not empty: the leak check says so
          }
        }
      });
      const empty = readFileSync(join(parent, 'cpuset.cpus'), 'utf8').trim() === '';
      if (!empty) t.skip(`a new cpuset cgroup is not empty here (cgroup.clone_children): ${parent}`);
      const b = t.bundle(['pid', 'print', 'exit:0'], (s) => {
        s.linux!.cgroupsPath = `${t.cgroupsPath(id)}/inner`;
      });
      const c = await t.startContainer(b, { id });
      await c.report();
      await c.waitStatus('stopped');
      t.check(readFileSync(join(parent, 'cpuset.cpus'), 'utf8').trim() !== '', 'the empty parent must have been given cpuset.cpus');
      t.check(readFileSync(join(parent, 'cpuset.mems'), 'utf8').trim() !== '', 'the empty parent must have been given cpuset.mems');
      t.ok(await c.delete(), 'delete');
    },
  },
  {
    name: 'cgroups/frozen-cgroup-errors',
    section: 'config-linux.md#control-groups',
    spec: 'a container cgroup that is already frozen: create fails at once ("container\'s cgroup unexpectedly frozen", runc) instead of hanging',
    needs: ['cgroup-v1:freezer'],
    async run(t) {
      await t.control();
      const id = t.newId('frz');
      const dir = join(t.host.cgroupV1.get('freezer') as string, t.cgroupsPath(id));
      mkdirSync(dir, { recursive: true });
      t.defer(() => {
        if (!existsSync(dir)) return;
        writeFileSync(join(dir, 'freezer.state'), 'THAWED');
        rmdirSync(dir);
      });
      writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
      const c = await t.tryCreate(t.bundle(['sleep']), { id, timeoutMs: 10_000 });
      t.errors(c.createResult!, 'create in a frozen cgroup');
      t.check(/unexpectedly frozen/.test(c.createResult!.stderr), `the error must say the cgroup is frozen: ${c.createResult!.stderr.trim()}`);
    },
  },
  {
    name: 'cgroups/missing-controller-errors',
    section: 'config-linux.md#control-groups',
    spec: 'The runtime MUST generate an error when the configuration refers to a cgroup controller that is not present (hugepageLimits, network.classID, network.priorities)',
    async run(t) {
      const pureV2 = t.host.cgroupV1.size === 0;
      const missing = (v1: string, v2: string | undefined) => !t.host.cgroupV1.has(v1) && !(pureV2 && v2 !== undefined && t.host.cgroupV2Controllers.includes(v2));
      const tries: [string, string, string | undefined, Record<string, unknown>][] = [
        ['hugepageLimits', 'hugetlb', 'hugetlb', { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }],
        ['network.classID', 'net_cls', undefined, { network: { classID: 1048577 } }],
        ['network.priorities', 'net_prio', undefined, { network: { priorities: [{ name: 'lo', priority: 1 }] } }],
      ];
      const run = tries.filter(([, v1, v2]) => missing(v1, v2));
      if (run.length === 0) t.skip('this host has hugetlb, net_cls and net_prio');
      await t.control();
      for (const [field, , , resources] of run) {
        const c = await t.tryCreate(t.bundle(['sleep'], (s) => Object.assign(s.linux!.resources!, resources)));
        t.errors(c.createResult!, `create with ${field} on a host without its controller`);
      }
    },
  },
  {
    name: 'seccomp/errno',
    section: 'config-linux.md#seccomp',
    spec: 'SCMP_ACT_ERRNO without errnoRet returns EPERM',
    async run(t) {
      const r = await t.probe(['status', 'mkdir:/tmp/blocked', 'mkdir:/tmp/no'], (s) => seccomp(s, ['mkdir', 'mkdirat'], 'SCMP_ACT_ERRNO'));
      t.equal(parseStatus(r.status).Seccomp, '2', 'the process runs in seccomp filter mode');
      t.equal(asAttempt(r['mkdir:/tmp/blocked']).errno, 1, 'mkdir fails with EPERM');
    },
  },
  {
    name: 'seccomp/errno-ret',
    section: 'config-linux.md#seccomp',
    spec: 'errnoRet is the errno return code to use',
    async run(t) {
      const r = await t.probe(['mkdir:/tmp/blocked'], (s) => seccomp(s, ['mkdir', 'mkdirat'], 'SCMP_ACT_ERRNO', { errnoRet: 95 }));
      t.equal(asAttempt(r['mkdir:/tmp/blocked']).errno, 95, 'mkdir fails with errnoRet (EOPNOTSUPP)');
    },
  },
  {
    name: 'seccomp/argument-filter',
    section: 'config-linux.md#seccomp',
    spec: 'args: match a syscall on the values of its arguments',
    async run(t) {
      const r = await t.probe(['mkdir:/tmp/filtered', 'touch:/tmp/allowed-file'], (s) => {
        s.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [
            { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 95, args: [{ index: 1, value: 0o755, op: 'SCMP_CMP_EQ' }] },
            { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95, args: [{ index: 2, value: 0o755, op: 'SCMP_CMP_EQ' }] },
          ],
        };
      });
      t.equal(asAttempt(r['mkdir:/tmp/filtered']).errno, 95, 'mkdir with mode 0755 matches the argument filter');
      t.equal(asAttempt(r['touch:/tmp/allowed-file']).ok, true, 'other syscalls are allowed');
    },
  },
  {
    name: 'seccomp/kill-process',
    section: 'config-linux.md#seccomp',
    spec: 'SCMP_ACT_KILL_PROCESS kills the process on the syscall (SIGSYS)',
    async run(t) {
      const b = t.bundle(['echo:before', 'mkdir:/tmp/killed', 'echo:after'], (s) => seccomp(s, ['mkdir', 'mkdirat'], 'SCMP_ACT_KILL_PROCESS'));
      const c = await t.startContainer(b);
      const pid = c.pid();
      await c.waitStatus('stopped');
      t.check(c.stdout().includes('before') && !c.stdout().includes('after'), `the process must die at mkdir: ${JSON.stringify(c.stdout())}`);
      t.equal(await c.exitStatus(pid), { code: null, signal: 31 }, 'killed by SIGSYS');
    },
  },
  {
    name: 'seccomp/without-no-new-privileges',
    section: 'config-linux.md#seccomp',
    spec: 'a seccomp filter applies with noNewPrivileges false and no CAP_SYS_ADMIN in the process (the runtime installs it while it still may)',
    async run(t) {
      const r = await t.probe(['status', 'mkdir:/tmp/blocked'], (s) => {
        seccomp(s, ['mkdir', 'mkdirat'], 'SCMP_ACT_ERRNO');
        s.process!.noNewPrivileges = false;
        s.process!.user = { uid: 1000, gid: 1000 };
      });
      const st = parseStatus(r.status);
      t.equal([st.Seccomp, st.NoNewPrivs], ['2', '0'], 'Seccomp filter mode without no_new_privs');
      t.equal(asAttempt(r['mkdir:/tmp/blocked']).errno, 1, 'mkdir fails with EPERM');
    },
  },
  {
    name: 'seccomp/notify-listener',
    section: 'config-linux.md#seccomp',
    spec: 'SCMP_ACT_NOTIFY with listenerPath: the runtime sends the container process state (JSON) and the seccomp fd (SCM_RIGHTS) over the AF_UNIX socket; listenerMetadata is passed as metadata',
    needs: ['seccomp-notify'],
    async run(t) {
      const rec = await t.receiver('seccomp', ['errno:18']);
      const b = t.bundle(['mkdir:/tmp/notified', 'exit:0'], (s) => {
        seccomp(s, ['mkdir', 'mkdirat'], 'SCMP_ACT_NOTIFY');
        s.linux!.seccomp!.listenerPath = rec.sock;
        s.linux!.seccomp!.listenerMetadata = 'conformance-metadata';
      });
      const c = await t.create(b);
      t.ok(await c.start(), 'start');
      await c.waitStatus('stopped');
      const r = await c.report();
      t.equal(asAttempt(r['mkdir:/tmp/notified']).errno, 18, 'mkdir answered by the agent (EXDEV)');
      const lines = await rec.finished(5000);
      const got = t.must(lines.find((l) => 'received' in l)?.received as { fds: number; payload: string } | undefined, 'the listener must receive a connection');
      t.equal(got.fds, 1, 'one fd (the seccomp notify fd)');
      let state: Record<string, unknown> = {};
      try {
        state = JSON.parse(got.payload) as Record<string, unknown>;
      } catch {
        t.fail(`the payload must be the container process state JSON, got ${JSON.stringify(got.payload.slice(0, 200))}`);
      }
      t.observe('process-state.keys', Object.keys(state).sort());
      t.equal(state.fds, ['seccompFd'], 'fds names');
      t.equal(state.metadata, 'conformance-metadata', 'metadata');
      t.check(Number.isInteger(state.pid), 'pid');
      t.equal((state.state as Record<string, unknown> | undefined)?.id, c.id, 'state.id');
      t.check(lines.some((l) => 'notif' in l), 'the agent must have received a notification');
    },
  },
  {
    name: 'seccomp/unknown-action-errors',
    section: 'config-linux.md#seccomp',
    spec: 'Runtimes MUST generate an error when invalid or unsupported values are encountered (an unknown action)',
    async run(t) {
      await t.control();
      const c = await t.tryCreate(t.bundle(['sleep'], (s) => seccomp(s, ['mkdir'], 'SCMP_ACT_NOT_AN_ACTION')));
      t.errors(c.createResult!, 'create with an unknown seccomp action');
    },
  },
];

