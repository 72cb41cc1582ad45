// The executor for real (root): a busybox container in new namespaces, its exit status, the exec
// fifo, fds, the footprint of the waiting init, and failures that leave nothing behind.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { libcFunction } from '../../src/linux/libc.ts';
import { compilePlan } from '../../src/plan/index.ts';
import { launchPlan } from '../../src/runtime/executor.ts';
import { alive, cleanupBundles, context, hostMountsUnder, isRoot, makeBundle, run } from './executor-harness.ts';

afterEach(() => {
  expect(cleanupBundles()).toEqual([]);
});

/** Polls until the init is blocked in open(2) on the exec fifo. */
async function waitBlockedOnFifo(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const syscall = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
    if (syscall === '257' || syscall === '2') return; // openat / open
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('the init never blocked on the exec fifo');
}

describe.skipIf(!isRoot)('executor: running a container', () => {
  it('runs the process in new namespaces: stdout, hostname, pid 1, exit status', async () => {
    const b = makeBundle(['sh', '-c', 'echo hello; hostname; echo pid $$; exit 7']);
    const r = await run(b);
    expect(r.stdout).toBe('hello\nhako\npid 1\n');
    expect(r.exit).toEqual({ code: 7, signal: null });
    expect(alive(r.initPid)).toBe(false);
    // every step was reported, in order, without an error
    const steps = r.reports.map((x) => x.step);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    expect(r.reports.filter((x) => x.errno !== 0)).toEqual([]);
  });

  it('a container killed by a signal exits with 128+signal', async () => {
    // (pid 1 ignores SIGKILL sent from inside its own pid namespace: kill it from the host)
    const b = makeBundle(['sleep', '30']);
    const r = await run(b, { whileRunning: (pid) => void process.kill(pid, 'SIGKILL') });
    expect(r.exit).toEqual({ code: 128 + 9, signal: null });
  });

  it('the init waits on the exec fifo before exec, and is small while it waits', async () => {
    const b = makeBundle(['sh', '-c', 'echo started']);
    let rssKiB = 0;
    const r = await run(b, {
      whileCreated: async (pid) => {
        await waitBlockedOnFifo(pid);
        expect(readFileSync(join(b.dir, 'stdout'), 'utf8')).toBe('');
        // still our executor image, not yet the container's process
        expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('hako-executor');
        rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      },
    });
    expect(r.stdout).toBe('started\n');
    console.log(`VmRSS of the init waiting on the exec fifo: ${rssKiB} kB`);
    expect(rssKiB).toBeGreaterThan(0);
    expect(rssKiB).toBeLessThan(512);
  });

  it('detached: the executor exits at READY and the init keeps waiting', async () => {
    const b = makeBundle(['sh', '-c', 'echo detached']);
    const out = join(b.dir, 'out');
    const fd = openSync(out, 'w');
    try {
      const plan = compilePlan(b.spec, context(b, { foreground: false }));
      const l = await launchPlan(plan, { stdio: [fd, fd, fd], preserveFds: 0 });
      expect(await l.executorExit).toEqual({ code: 0, signal: null });
      expect(alive(l.initPid)).toBe(true);
      // releasing the fifo by hand: open for reading, read the init's byte
      const r = openSync(b.fifo, 'r');
      expect(readFileSync(r).length).toBeGreaterThanOrEqual(0);
      closeSync(r);
      for (let i = 0; i < 500 && alive(l.initPid); i++) await new Promise((res) => setTimeout(res, 5));
      expect(alive(l.initPid)).toBe(false);
      expect(readFileSync(out, 'utf8')).toBe('detached\n');
    } finally {
      closeSync(fd);
    }
  });

  it('preserved fds reach the container as 3..; a stray inherited fd does not', async () => {
    const b = makeBundle(['sh', '-c', 'cat <&3; cat <&4; ls /proc/$$/fd; true']);
    writeFileSync(join(b.dir, 'a'), 'from fd 3\n');
    writeFileSync(join(b.dir, 'b'), 'from fd 4\n');
    const a = openSync(join(b.dir, 'a'), 'r');
    const c = openSync(join(b.dir, 'b'), 'r');
    // An fd without O_CLOEXEC, as a caller may leak into hako: the executor inherits it, the container must not.
    const open = await libcFunction('int open(const char *path, int flags)');
    const fcntl = await libcFunction('int fcntl(int fd, int cmd, int arg)');
    const stray = open(join(b.dir, 'a'), 0) as number;
    expect(stray).toBeGreaterThan(2);
    expect((fcntl(stray, 1 /* F_GETFD */, 0) as number) & 1).toBe(0);
    try {
      const r = await run(b, { ctx: { preserveFds: 2 }, launch: { preservedFds: [a, c] } });
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, 2)).toEqual(['from fd 3', 'from fd 4']);
      expect(lines.slice(2).map(Number).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      closeSync(a);
      closeSync(c);
      closeSync(stray);
    }
  });

  it('sync: the init waits for node at the sync point; a failing handler fails the step with its errno', async () => {
    const b = makeBundle(['sh', '-c', 'echo after-sync']);
    b.spec.hooks = { createRuntime: [{ path: '/bin/true' }] };
    const seen: [string, number, boolean][] = [];
    const r = await run(b, {
      launch: {
        onSync: async (name, pid) => {
          // the init is stopped at the sync point: its mounts are made, it has not pivoted yet
          seen.push([name, pid, readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'hako-executor']);
          await new Promise((res) => setTimeout(res, 20));
        },
      },
    });
    expect(r.stdout).toBe('after-sync\n');
    expect(seen).toEqual([['createRuntime', r.initPid, true]]);

    const c = makeBundle(['true']);
    c.spec.hooks = { createRuntime: [{ path: '/bin/false' }] };
    const plan = compilePlan(c.spec, context(c));
    const failing = Object.assign(new Error('hook failed'), { errno: 1 });
    const err = await launchPlan(plan, { stdio: [0, 1, 2], preserveFds: 0, onSync: () => Promise.reject(failing) }).catch((e: Error) => e);
    expect((err as Error).message).toBe('hooks.createRuntime: sync: operation not permitted');
    rmSync(c.fifo); // the executor made it; on a failed create the lifecycle removes it
    const none = await launchPlan(compilePlan(c.spec, context(c)), { stdio: [0, 1, 2], preserveFds: 0 }).catch((e: Error) => e);
    expect((none as Error).message).toBe('hooks.createRuntime: sync: function not implemented');
  });

  it.each([
    ['no user namespace', false],
    // setresuid/setresgid clear the parent-death signal: the executor must re-arm it
    ['a user namespace (credentials changed first)', true],
  ])('a killed executor takes the half-made init with it, and node gets EOF, not a hang: %s', async (_name, userns) => {
    const b = makeBundle(['true']);
    b.spec.hooks = { createRuntime: [{ path: '/bin/true' }] };
    if (userns) {
      chmodSync(b.dir, 0o755);
      b.spec.linux!.namespaces!.push({ type: 'user' });
      b.spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      b.spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }
    const plan = compilePlan(b.spec, context(b));
    let init = 0;
    let executor = 0;
    const err = await launchPlan(plan, {
      stdio: [0, 1, 2],
      preserveFds: 0,
      onSpawned: (pid) => void (executor = pid),
      onSync: async (_name, pid) => {
        init = pid;
        process.kill(executor, 'SIGKILL');
        for (let i = 0; i < 400 && alive(pid); i++) await new Promise((res) => setTimeout(res, 5));
      },
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe('executor exited before the container was ready (signal SIGKILL)');
    expect(init).toBeGreaterThan(0);
    expect(alive(init)).toBe(false);
    expect(hostMountsUnder(b.dir)).toEqual([]);
  });

  it('node stays alive until the executor exits, with nothing else pending (exit status reaches the caller)', () => {
    const b = makeBundle(['sh', '-c', 'exit 5']);
    const root = join(import.meta.dirname, '../..');
    const script = join(b.dir, 'launch.mts');
    writeFileSync(
      script,
      [
        `import { compilePlan } from '${root}/src/plan/index.ts';`,
        `import { launchPlan } from '${root}/src/runtime/executor.ts';`,
        `import { openSync, readSync } from 'node:fs';`,
        `const spec = JSON.parse(process.argv[2]);`,
        `const plan = compilePlan(spec, ${JSON.stringify(context(b))});`,
        `const l = await launchPlan(plan, { stdio: [0, 1, 2], preserveFds: 0 });`,
        `readSync(openSync(${JSON.stringify(b.fifo)}, 'r'), Buffer.alloc(1));`,
        `const exit = await l.executorExit;`,
        `process.exitCode = 40 + exit.code;`,
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, JSON.stringify(b.spec)], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(45);
  });

  it('a missing executable fails at create with the field named, before the fifo', async () => {
    const b = makeBundle(['nope-not-here']);
    const plan = compilePlan(b.spec, context(b));
    const err = await launchPlan(plan, { stdio: [0, 1, 2], preserveFds: 0 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('process.args[0] "nope-not-here": exec: no such file or directory');
  });

  it('a failing mount names mounts[N] and its destination, and leaves no process and no mount', async () => {
    const b = makeBundle(['true']);
    b.spec.mounts!.push({ destination: '/data', type: 'nonexistentfs', source: 'none' });
    const n = b.spec.mounts!.length - 1;
    const before = readFileSync('/proc/self/mountinfo', 'utf8');
    const plan = compilePlan(b.spec, context(b));
    let pids: number[] = [];
    const err = await launchPlan(plan, {
      stdio: [0, 1, 2],
      preserveFds: 0,
      onSpawned: (pid) => {
        pids.push(pid);
      },
      onReport: () => {},
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe(`mounts[${n}] /data: mount: no such device`);
    // the executor is reaped (launchPlan waited for it) and so is the init it killed
    pids = pids.filter(alive);
    expect(pids).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(before);
    expect(hostMountsUnder(b.dir)).toEqual([]);
    // the init's pid (from the PID message) is gone too: no process under the bundle's rootfs
    for (const p of readdirPids()) {
      let root: string;
      try {
        root = readlinkSync(`/proc/${p}/root`);
      } catch {
        continue;
      }
      expect(root.startsWith(b.rootfs)).toBe(false);
    }
    expect(existsSync(b.fifo)).toBe(true); // the executor made it; removing it is the lifecycle's job
  });
});

function readdirPids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number);
}
