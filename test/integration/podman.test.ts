// hako under podman 4 and conmon, named in containers.conf's [engine.runtimes] as a user would
// install it: conmon runs `create` and `exec`, podman everything else (`start`, `kill`, `pause`,
// `update --resources FILE`, `delete --force`, `state` without any global flag). podman's storage,
// volumes and config in a temp folder, the runtime's state under its own root (a wrapper), the
// containers' cgroups under /hako-test/podman-<pid>. Every case runs against runc too. Cases that
// need a gap hako still has (tmpcopyup, runc's user setup) are expected failures on hako, checked
// by their reason (test/helpers/engines.ts OPEN_GAPS). The other cases run with
// `--security-opt seccomp=unconfined`, so that a seccomp regression shows in the default case only.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { busyboxImageArchive } from '../helpers/containerd.ts';
import { cgroupLimits, containerStates, engineCase, ok, RUNTIMES, waitUntil } from '../helpers/engines.ts';
import { hasPodman, startPodman, type Podman } from '../helpers/podman.ts';
import { inTerminal, shellQuote } from '../helpers/terminal.ts';

const isRoot = process.getuid?.() === 0;
const IMAGE = 'docker.io/library/hako-test-busybox:latest';
const UNCONFINED = ['--security-opt', 'seccomp=unconfined'];
let podman: Podman;
let workDir: string;
let n = 0;

describe.skipIf(!isRoot || !hasPodman)('under podman (conmon, containers.conf runtimes)', () => {
  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'hako-test-podman-work-'));
    podman = await startPodman(RUNTIMES, busyboxImageArchive(workDir, IMAGE));
  }, 60_000);

  afterAll(async () => {
    try {
      await podman?.stop();
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 60_000);

  describe.each(RUNTIMES)('%s', (runtime) => {
    const p = (args: string[], opts?: { input?: string }) => podman.podman(runtime, args, opts);
    const name = () => `hako-test-${runtime}-${process.pid}-${n++}`;
    /** flags every container gets: no network (no CNI/netavark setup on the host), the cgroups under /hako-test */
    const base = () => ['--network', 'none', '--cgroup-parent', podman.cgroupParent];
    const inspect = (c: string, format: string) => ok(p(['inspect', '--format', format, c]), 'podman inspect').stdout.trim();

    /** The runtime's state folder is empty again and no container cgroup is left under the parent. */
    async function expectNothingLeft(): Promise<void> {
      expect(await waitUntil(() => containerStates(podman.runtimeRoot(runtime)).length === 0)).toBe(true);
      const memory = join('/sys/fs/cgroup/memory', podman.cgroupParent);
      const cgroups = existsSync(memory) ? readdirSync(memory).filter((e) => e.startsWith('libpod-')) : [];
      expect(cgroups).toEqual([]);
    }

    engineCase(runtime, 'seccomp', 'run --rm with podman\'s defaults (its seccomp profile): output, exit status, the filter on', async () => {
      const r = p(['run', '--rm', ...base(), IMAGE, 'sh', '-c', 'echo hello from pid $$; grep ^Seccomp: /proc/self/status; exit 3']);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stdout).toBe('hello from pid 1\nSeccomp:\t2\n');
      await expectNothingLeft();
    });

    engineCase(runtime, undefined, 'run --rm -i, seccomp=unconfined: stdin, output, exit status', async () => {
      const r = p(['run', '--rm', '-i', ...base(), ...UNCONFINED, IMAGE, 'sh', '-c', 'cat; grep ^Seccomp: /proc/self/status; exit 3'], {
        input: 'from stdin\n',
      });
      expect(r.status, r.stderr).toBe(3);
      expect(r.stdout).toBe('from stdin\nSeccomp:\t0\n');
      await expectNothingLeft();
    });

    engineCase(
      runtime,
      undefined,
      'run -d with limits: cgroup files, exec, exec -it, pause/unpause, update, top, logs, stats, stop, rm',
      async () => {
        const c = name();
        const script = 'trap "exit 7" TERM; echo started; sleep 300 & wait';
        const limits = ['--memory', '100m', '--cpus', '0.5', '--pids-limit', '50'];
        ok(p(['run', '-d', '--name', c, ...base(), ...UNCONFINED, ...limits, IMAGE, 'sh', '-c', script]), 'podman run -d');
        try {
          const pid = Number(inspect(c, '{{.State.Pid}}'));
          expect(pid).toBeGreaterThan(0);
          expect(cgroupLimits(pid)).toEqual({ memory: 100 * 1024 * 1024, cpuQuota: 50_000, cpuPeriod: 100_000, pids: '50' });

          const exec = p(['exec', c, 'sh', '-c', 'echo in pid ns of $(cat /proc/1/comm); exit 5']);
          expect(exec.stderr).toBe('');
          expect(exec.stdout).toBe('in pid ns of sh\n');
          expect(exec.status).toBe(5);

          const tty = await inTerminal(`${podman.command(runtime)} exec -it ${c} sh -c 'tty; exit 2'`, podman.env).done;
          expect(tty.output).toMatch(/^\/dev\/pts\/\d+\r\n$/);
          expect(tty.status).toBe(2);

          ok(p(['pause', c]), 'podman pause');
          expect(inspect(c, '{{.State.Status}}')).toBe('paused');
          ok(p(['unpause', c]), 'podman unpause');
          expect(inspect(c, '{{.State.Status}}')).toBe('running');

          ok(p(['update', '--memory', '64m', c]), 'podman update');
          expect(cgroupLimits(pid).memory).toBe(64 * 1024 * 1024);

          expect(ok(p(['top', c]), 'podman top').stdout).toContain('sleep 300');
          expect(ok(p(['logs', c]), 'podman logs').stdout).toBe('started\n');
          expect(ok(p(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', c]), 'podman stats').stdout).toBe(`${c} 2\n`);

          ok(p(['stop', '--time', '10', c]), 'podman stop'); // SIGTERM: the trap exits 7
          expect(inspect(c, '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 7');
          ok(p(['rm', c]), 'podman rm');
          expect(p(['container', 'exists', c]).status).toBe(1);
        } finally {
          p(['rm', '--force', '--time', '0', c]);
        }
        await expectNothingLeft();
      },
      60_000,
    );

    engineCase(runtime, undefined, 'a named volume outlives its container; a read-only bind mount; --cap-drop all', async () => {
      const volume = name();
      const host = join(workDir, `bind-${volume}`);
      writeFileSync(`${host}`, 'from the host\n');
      const script = [
        'echo kept > /data/f',
        'cat /bind',
        'touch /bind 2>&1',
        'grep ^CapEff: /proc/self/status',
      ].join('; ');
      const mounts = ['-v', `${volume}:/data`, '-v', `${host}:/bind:ro`];
      const first = p(['run', '--rm', ...base(), ...UNCONFINED, ...mounts, '--cap-drop', 'all', IMAGE, 'sh', '-c', script]);
      expect(first.stderr).toBe('');
      expect(first.stdout).toBe(
        'from the host\ntouch: /bind: Read-only file system\nCapEff:\t0000000000000000\n',
      );
      expect(first.status).toBe(0);
      const second = p(['run', '--rm', ...base(), ...UNCONFINED, '-v', `${volume}:/data`, IMAGE, 'cat', '/data/f']);
      expect(second.stderr).toBe('');
      expect(second.stdout).toBe('kept\n');
      ok(p(['volume', 'rm', volume]), 'podman volume rm');
      await expectNothingLeft();
    });

    // podman's --read-only also mounts tmpfs with tmpcopyup on /run, /tmp and /var/tmp
    engineCase(runtime, 'tmpcopyup', '--read-only, --tmpfs /mnt: a read-only root with writable tmpfs', async () => {
      const script = 'touch /x 2>&1; grep -c "^tmpfs /mnt tmpfs" /proc/mounts; echo x > /mnt/f && cat /mnt/f';
      const r = p(['run', '--rm', ...base(), ...UNCONFINED, '--read-only', '--tmpfs', '/mnt', IMAGE, 'sh', '-c', script]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('touch: /x: Read-only file system\n1\nx\n');
      await expectNothingLeft();
    });

    engineCase(runtime, undefined, 'a command missing from the image (default seccomp): the runtime\'s error reaches podman, which exits 127', async () => {
      const r = p(['run', '--rm', ...base(), IMAGE, '/no/such/binary']);
      expect(r.stderr, r.stderr).toContain('/no/such/binary');
      expect(r.status).toBe(127);
      await expectNothingLeft();
    });

    engineCase(runtime, 'homeDefault', 'run --user 1000 (not in the image\'s /etc/passwd): HOME', async () => {
      const r = p(['run', '--rm', ...base(), ...UNCONFINED, '--user', '1000', IMAGE, 'sh', '-c', 'echo "$(id -u) HOME=$HOME"']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, 'HOME as runc sets it').toBe('1000 HOME=/\n');
      await expectNothingLeft();
    });

    engineCase(runtime, 'stdioOwner', 'run -t --user 1000: the terminal belongs to the user', async () => {
      const r = await inTerminal(`${podman.command(runtime)} run --rm -t ${[...base(), ...UNCONFINED].map(shellQuote).join(' ')} --user 1000 ${IMAGE} sh -c ${shellQuote('stat -c %u $(tty)')}`, podman.env).done;
      expect(r.status, r.output).toBe(0);
      expect(r.output.trim(), 'stdio owned by the process user, as runc does').toBe('1000');
      await expectNothingLeft();
    });
  });
});
