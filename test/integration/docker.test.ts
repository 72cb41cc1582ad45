// hako under docker 20.10, named in daemon.json `runtimes` as a user would install it: dockerd's
// containerd and its runc shim call hako (`create` with docker's prestart hook, `start`, `exec`,
// `ps`, `pause`, `resume`, `update --resources -`, `kill`, `delete`). A private dockerd (its data
// root, exec root, socket and config in a temp folder; no iptables, no bridge), an image built
// here, the containers' cgroups under /hako-test/docker-<pid>. Every case runs against runc too.
// Cases that need a gap hako still has (runc's user setup) are expected failures on hako, checked
// by their reason (test/helpers/engines.ts OPEN_GAPS). The other cases run with
// `--security-opt seccomp=unconfined`, so that a seccomp regression shows in the default case only.
// If dockerd cannot start, every case is reported as skipped with the reason, and the log says so
// loudly.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, type TestContext } from 'vitest';
import { busyboxDockerArchive, busyboxImageArchive } from '../helpers/containerd.ts';
import { hasDockerd, startDockerd, type Docker } from '../helpers/docker.ts';
import { cgroupLimits, containerStates, engineCase, ok, RUNTIMES, waitUntil } from '../helpers/engines.ts';
import { inTerminal, shellQuote } from '../helpers/terminal.ts';

const isRoot = process.getuid?.() === 0;
const IMAGE = 'hako-test-busybox:latest';
const UNCONFINED = ['--security-opt', 'seccomp=unconfined'];
let dockerd: Docker | undefined;
let notRun = 'dockerd was not started';
let workDir: string;
let n = 0;

if (isRoot && !hasDockerd) {
  console.error('\n*** docker tests NOT RUN: dockerd is not installed (apt-get install docker.io); they are reported as skipped ***\n');
}

describe.skipIf(!isRoot || !hasDockerd)('under docker (dockerd, daemon.json runtimes)', () => {
  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'hako-test-docker-work-'));
    busyboxImageArchive(workDir, IMAGE);
    try {
      dockerd = await startDockerd(RUNTIMES, busyboxDockerArchive(workDir, IMAGE));
    } catch (err) {
      notRun = `dockerd could not start: ${(err as Error).message}`;
      console.error(`\n*** docker tests NOT RUN (reported as skipped): ${notRun} ***\n`);
    }
  }, 60_000);

  afterAll(async () => {
    try {
      await dockerd?.stop();
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 60_000);

  describe.each(RUNTIMES)('%s', (runtime) => {
    /** the daemon, or the case is skipped (never passed) with the reason it could not start */
    const daemon = (ctx: TestContext): Docker => {
      if (!dockerd) ctx.skip(notRun);
      return dockerd!;
    };
    const name = () => `hako-test-${runtime}-${process.pid}-${n++}`;
    /** every container: this runtime, no network (no bridge on this host) */
    const base = ['--runtime', runtime, '--network', 'none'];

    /** The runtimes' state folder is empty again and no container cgroup is left under the parent. */
    async function expectNothingLeft(d: Docker): Promise<void> {
      expect(await waitUntil(() => containerStates(d.runtimeRoot).length === 0)).toBe(true);
      const memory = join('/sys/fs/cgroup/memory', d.cgroupParent);
      expect(existsSync(memory) ? readdirSync(memory, { withFileTypes: true }).filter((e) => e.isDirectory()) : []).toEqual([]);
    }

    engineCase(runtime, 'seccomp', 'run --rm with docker\'s defaults (its seccomp profile, its prestart hook): output, exit status, the filter on', async (ctx) => {
      const d = daemon(ctx);
      const r = d.docker(['run', '--rm', ...base, IMAGE, 'sh', '-c', 'echo hello from pid $$; grep ^Seccomp: /proc/self/status; exit 3']);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stdout).toBe('hello from pid 1\nSeccomp:\t2\n');
      await expectNothingLeft(d);
    });

    engineCase(runtime, undefined, 'run --rm -i, seccomp=unconfined: stdin, output, exit status', async (ctx) => {
      const d = daemon(ctx);
      const r = d.docker(['run', '--rm', '-i', ...base, ...UNCONFINED, IMAGE, 'sh', '-c', 'cat; grep ^Seccomp: /proc/self/status; exit 3'], {
        input: 'from stdin\n',
      });
      expect(r.status, r.stderr).toBe(3);
      expect(r.stdout).toBe('from stdin\nSeccomp:\t0\n');
      await expectNothingLeft(d);
    });

    engineCase(
      runtime,
      undefined,
      'run -d with limits: cgroup files, exec, exec -it, pause/unpause, update, top, logs, stats, stop, rm',
      async (ctx) => {
        const d = daemon(ctx);
        const c = name();
        const script = 'trap "exit 7" TERM; echo started; sleep 300 & wait';
        ok(d.docker(['run', '-d', '--name', c, ...base, ...UNCONFINED, '--memory', '100m', '--cpus', '.5', IMAGE, 'sh', '-c', script]), 'docker run -d');
        try {
          const inspect = (format: string) => ok(d.docker(['inspect', '--format', format, c]), 'docker inspect').stdout.trim();
          const pid = Number(inspect('{{.State.Pid}}'));
          expect(pid).toBeGreaterThan(0);
          expect(cgroupLimits(pid)).toMatchObject({ memory: 100 * 1024 * 1024, cpuQuota: 50_000, cpuPeriod: 100_000 });

          const exec = d.docker(['exec', c, 'sh', '-c', 'echo in pid ns of $(cat /proc/1/comm); exit 5']);
          expect(exec.stderr).toBe('');
          expect(exec.stdout).toBe('in pid ns of sh\n');
          expect(exec.status).toBe(5);

          const tty = await inTerminal(`${d.command} exec -it ${c} sh -c 'tty; exit 2'`, d.env).done;
          expect(tty.output).toMatch(/^\/dev\/pts\/\d+\r\n$/);
          expect(tty.status).toBe(2);

          ok(d.docker(['pause', c]), 'docker pause');
          expect(inspect('{{.State.Status}}')).toBe('paused');
          ok(d.docker(['unpause', c]), 'docker unpause');
          expect(inspect('{{.State.Status}}')).toBe('running');

          ok(d.docker(['update', '--memory', '64m', '--memory-swap', '128m', '--cpus', '.25', c]), 'docker update');
          expect(cgroupLimits(pid)).toMatchObject({ memory: 64 * 1024 * 1024, cpuQuota: 25_000, cpuPeriod: 100_000 });

          expect(ok(d.docker(['top', c]), 'docker top').stdout).toContain('sleep 300');
          expect(ok(d.docker(['logs', c]), 'docker logs').stdout).toBe('started\n');
          expect(ok(d.docker(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', c]), 'docker stats').stdout).toBe(`${c} 2\n`);

          ok(d.docker(['stop', '--time', '10', c]), 'docker stop'); // SIGTERM: the trap exits 7
          expect(inspect('{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 7');
          ok(d.docker(['rm', c]), 'docker rm');
          expect(d.docker(['inspect', c]).status).not.toBe(0);
        } finally {
          d.docker(['rm', '--force', c]);
        }
        await expectNothingLeft(d);
      },
      60_000,
    );

    engineCase(runtime, undefined, 'a named volume outlives its container; a read-only bind mount; --read-only; --tmpfs; --cap-drop all', async (ctx) => {
      const d = daemon(ctx);
      const volume = name();
      const host = join(workDir, `bind-${volume}`);
      writeFileSync(host, 'from the host\n');
      const script = [
        'echo kept > /data/f',
        'cat /bind',
        'touch /x 2>&1; touch /bind 2>&1',
        'grep -c "^tmpfs /tmp tmpfs" /proc/mounts; echo x > /tmp/f && cat /tmp/f',
        'grep ^CapEff: /proc/self/status',
      ].join('; ');
      const flags = ['-v', `${volume}:/data`, '-v', `${host}:/bind:ro`, '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'all'];
      const first = d.docker(['run', '--rm', ...base, ...UNCONFINED, ...flags, IMAGE, 'sh', '-c', script]);
      expect(first.stderr).toBe('');
      expect(first.stdout).toBe(
        'from the host\ntouch: /x: Read-only file system\ntouch: /bind: Read-only file system\n1\nx\nCapEff:\t0000000000000000\n',
      );
      expect(first.status).toBe(0);
      const second = d.docker(['run', '--rm', ...base, ...UNCONFINED, '-v', `${volume}:/data`, IMAGE, 'cat', '/data/f']);
      expect(second.stderr).toBe('');
      expect(second.stdout).toBe('kept\n');
      ok(d.docker(['volume', 'rm', volume]), 'docker volume rm');
      await expectNothingLeft(d);
    });

    engineCase(runtime, undefined, 'a command missing from the image (default seccomp): the runtime\'s error reaches docker, which exits 127', async (ctx) => {
      const d = daemon(ctx);
      const r = d.docker(['run', '--rm', ...base, IMAGE, '/no/such/binary']);
      expect(r.stderr, r.stderr).toContain('/no/such/binary');
      expect(r.status).toBe(127);
      await expectNothingLeft(d);
    });

    engineCase(runtime, 'homeDefault', 'run --user 1000 (not in the image\'s /etc/passwd): HOME', async (ctx) => {
      const d = daemon(ctx);
      const r = d.docker(['run', '--rm', ...base, ...UNCONFINED, '--user', '1000', IMAGE, 'sh', '-c', 'echo "$(id -u) HOME=$HOME"']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, 'HOME as runc sets it').toBe('1000 HOME=/\n');
      await expectNothingLeft(d);
    });

    engineCase(runtime, 'stdioOwner', 'run -t --user 1000: the terminal belongs to the user', async (ctx) => {
      const d = daemon(ctx);
      const r = await inTerminal(`${d.command} run --rm -t ${[...base, ...UNCONFINED].map(shellQuote).join(' ')} --user 1000 ${IMAGE} sh -c ${shellQuote('stat -c %u $(tty)')}`, d.env).done;
      expect(r.status, r.output).toBe(0);
      expect(r.output.trim(), 'stdio owned by the process user, as runc does').toBe('1000');
      await expectNothingLeft(d);
    });
  });
});
