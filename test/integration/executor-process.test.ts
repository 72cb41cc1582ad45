// The process side for real (root): user namespace and id maps, user and groups, capabilities,
// limits, umask, cwd, oom score, a time namespace, joining another container's namespace.
import { chmodSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/plan/index.ts';
import { launchPlan } from '../../src/runtime/executor.ts';
import { alive, cleanupBundles, context, isRoot, kill, makeBundle, run } from './executor-harness.ts';

afterEach(() => {
  expect(cleanupBundles()).toEqual([]);
});

const statusField = (pid: number, field: string) => new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describe.skipIf(!isRoot)('executor: the process', () => {
  it('a user namespace: id maps written by the executor, container root is host uid 100000', async () => {
    const b = makeBundle(['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /vol/made-inside; stat -c %t:%T /dev/null']);
    // the container's root (host uid 100000) must be able to reach the rootfs, as with runc
    chmodSync(b.dir, 0o755);
    const vol = join(b.dir, 'vol');
    mkdirSync(vol);
    chmodSync(vol, 0o777);
    mkdirSync(join(b.rootfs, 'vol')); // the image's root dir belongs to host root: the container's root can't add to it
    b.spec.linux!.namespaces!.push({ type: 'user' });
    b.spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    b.spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    b.spec.mounts!.push({ destination: '/vol', source: vol, options: ['bind'] });
    let hostUid = '';
    const r = await run(b, { whileCreated: (pid) => void (hostUid = statusField(pid, 'Uid') ?? '') });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).toEqual(['0 100000 65536', '0 200000 65536', '0', '1:3']);
    expect(hostUid.split(/\s+/)[0]).toBe('100000');
    const st = statSync(join(vol, 'made-inside'));
    expect([st.uid, st.gid]).toEqual([100000, 200000]);
    // the exec fifo was handed to the container's root
    expect(r.reports.some((x) => x.label === 'linux.uidMappings' && x.errno === 0)).toBe(true);
  });

  it('user, groups, capabilities, no_new_privs, rlimits, umask, cwd, oom score', async () => {
    const b = makeBundle([
      'sh',
      '-c',
      'id; grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status; ulimit -n; ulimit -Hn; umask; pwd; cat /proc/self/oom_score_adj',
    ]);
    const p = b.spec.process!;
    p.user = { uid: 1000, gid: 1000, additionalGids: [5, 7], umask: 0o027 };
    p.cwd = '/work/here';
    p.oomScoreAdj = 500;
    p.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 200, hard: 300 }];
    p.capabilities = {
      bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL', 'CAP_CHOWN'],
      permitted: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'],
      effective: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'],
      inheritable: ['CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    };
    const r = await run(b);
    expect(r.stderr).toBe('');
    const out = r.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' '));
    expect(out[0]).toMatch(/^uid=1000 gid=1000 groups=5\(tty\),7/);
    // after execve a non-root process keeps only its ambient set (plus what file caps give)
    expect(out.slice(1, 7)).toEqual([
      'CapInh: 0000000000000400',
      'CapPrm: 0000000000000400',
      'CapEff: 0000000000000400',
      'CapBnd: 0000000000000421',
      'CapAmb: 0000000000000400',
      'NoNewPrivs: 1',
    ]);
    expect(out.slice(7)).toEqual(['200', '300', '0027', '/work/here', '500']);
  });

  it('a time namespace with boottime and monotonic offsets', async () => {
    const b = makeBundle(['sh', '-c', 'cut -d. -f1 /proc/uptime']);
    b.spec.linux!.namespaces!.push({ type: 'time' });
    b.spec.linux!.timeOffsets = { boottime: { secs: 10_000_000, nanosecs: 0 }, monotonic: { secs: 5_000_000 } };
    const r = await run(b);
    expect(r.stderr).toBe('');
    expect(Number(r.stdout.trim())).toBeGreaterThan(10_000_000);
  });

  it("joins another container's namespaces by path", async () => {
    // a: created (waiting on its fifo) with hostname alpha; b joins its uts and net namespaces
    const a = makeBundle(['true']);
    a.spec.hostname = 'alpha';
    const planA = compilePlan(a.spec, context(a, { foreground: false }));
    const la = await launchPlan(planA, { stdio: [0, 1, 2], preserveFds: 0 });
    try {
      await la.executorExit;
      const b = makeBundle(['sh', '-c', 'hostname; readlink /proc/self/ns/net']);
      delete b.spec.hostname;
      b.spec.linux!.namespaces = b.spec.linux!.namespaces!.map((ns) =>
        ns.type === 'uts' ? { type: 'uts', path: `/proc/${la.initPid}/ns/uts` } : ns.type === 'network' ? { type: 'network', path: `/proc/${la.initPid}/ns/net` } : ns,
      );
      const r = await run(b);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`alpha\n${readlinkSync(`/proc/${la.initPid}/ns/net`)}\n`);
    } finally {
      kill(la.initPid);
      for (let i = 0; i < 200 && alive(la.initPid); i++) await new Promise((res) => setTimeout(res, 5));
    }
  });
});
