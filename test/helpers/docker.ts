// dockerd for tests: its data root, exec root, socket, pid file and daemon.json in a temp folder,
// no iptables and no bridge (containers run with --network none), the containers' cgroups under
// /hako-test/docker-<pid>. dockerd starts a containerd of its own that drives containerd's runc shim,
// which calls the runtime named by `docker run --runtime NAME` (daemon.json `runtimes`).
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_RUN_DIRS } from './containerd.ts';
import { hostLeftovers, mountsUnder, processesUsing, removeCgroupParent } from './engines.ts';
import { plainEnv } from './hako.ts';
import { shellQuote } from './terminal.ts';

export const hasDockerd = spawnSync('dockerd', ['--version']).status === 0;
/** Debian's client (docker.io) when there, else whatever `docker` is on PATH. */
export const DOCKER_CLIENT = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

/**
 * The daemon.json that names each runtime (`runc` is docker's own and may not be named again).
 * docs/ENGINES.md shows this text for `{ hako: '/usr/local/bin/hako' }` (test/unit/engines-docs.test.ts checks it).
 */
export function dockerDaemonJson(runtimes: Record<string, string>): string {
  const named = Object.fromEntries(
    Object.entries(runtimes)
      .filter(([name]) => name !== 'runc')
      .map(([name, path]) => [name, { path }]),
  );
  return `${JSON.stringify({ runtimes: named }, null, 2)}\n`;
}

export interface Docker {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** the runtimes' state folder (the runc shim's --root for every runtime, in dockerd's exec root) */
  runtimeRoot: string;
  /** the cgroup parent of the containers, under /hako-test */
  cgroupParent: string;
  docker(args: string[], opts?: { timeout?: number; input?: string }): SpawnSyncReturns<string>;
  /** the docker command line for a shell (`script -c`) */
  command: string;
  /** removes every container and volume, stops dockerd and its containerd, removes the folder and the cgroup parent; throws on a leak */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts dockerd for the named runtimes and loads `imageArchive` (a docker-archive); throws with dockerd's log when it cannot. */
export async function startDockerd(runtimes: [name: string, binary: string][], imageArchive: string): Promise<Docker> {
  const leftovers = hostLeftovers(['/etc/docker/key.json', '/run/docker', '/var/lib/docker']);
  const sharedBefore = SHARED_RUN_DIRS.filter((d) => existsSync(d));
  const dir = mkdtempSync(join(tmpdir(), 'hako-test-docker-'));
  const cgroupParent = `/hako-test/docker-${process.pid}`;
  writeFileSync(join(dir, 'daemon.json'), dockerDaemonJson(Object.fromEntries(runtimes)));
  mkdirSync(join(dir, 'client'));
  const socket = join(dir, 'docker.sock');
  const log = join(dir, 'dockerd.log');
  const flags = [
    `--config-file=${dir}/daemon.json`,
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${dir}/dockerd.pid`,
    `--host=unix://${socket}`,
    '--iptables=false',
    '--ip6tables=false',
    '--ip-masq=false',
    '--bridge=none',
    '--storage-driver=overlay2',
    `--cgroup-parent=${cgroupParent}`,
  ];
  const daemon: ChildProcess = spawn('sh', ['-c', `exec dockerd ${flags.map(shellQuote).join(' ')} >${log} 2>&1`], {
    stdio: 'ignore',
    env: plainEnv,
  });
  const env = { ...plainEnv, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'client') };
  const docker: Docker['docker'] = (args, opts = {}) =>
    spawnSync(DOCKER_CLIENT, args, { encoding: 'utf8', env, timeout: opts.timeout ?? 60_000, input: opts.input ?? '' });

  const stop = async () => {
    const problems: string[] = [];
    if (daemon.exitCode === null && existsSync(socket)) {
      const ids = docker(['ps', '--all', '--quiet']).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) docker(['rm', '--force', '--volumes', ...ids]);
      docker(['volume', 'prune', '--force']);
    }
    if (daemon.exitCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (daemon.exitCode === null) {
        problems.push('dockerd did not stop on SIGTERM in 20 s');
        daemon.kill('SIGKILL');
      }
    }
    // dockerd's containerd and shims stop with it; wait for them, never leave one running
    for (let i = 0; i < 100 && processesUsing(dir).length > 0; i++) await sleep(100);
    for (const pid of processesUsing(dir)) {
      problems.push(`left running after dockerd stopped: pid ${pid}`);
      process.kill(pid, 'SIGKILL');
    }
    const mounts = mountsUnder(dir);
    if (mounts.length > 0) problems.push(`mounts left under ${dir}: ${mounts.join(', ')}`);
    else rmSync(dir, { recursive: true, force: true });
    leftovers.restore();
    for (const d of SHARED_RUN_DIRS) {
      if (sharedBefore.includes(d)) continue;
      try {
        rmdirSync(d);
      } catch {
        // not empty: something else uses it now
      }
    }
    try {
      await removeCgroupParent(cgroupParent);
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  };

  try {
    for (let i = 0; ; i++) {
      if (existsSync(socket) && docker(['version'], { timeout: 10_000 }).status === 0) break;
      if (i === 150 || daemon.exitCode !== null) {
        throw new Error(`dockerd did not start: ${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : 'no log'}`);
      }
      await sleep(100);
    }
    const r = docker(['load', '--quiet', '--input', imageArchive]);
    if (r.status !== 0) throw new Error(`docker load: ${r.stderr}`);
  } catch (err) {
    await stop().catch((e: Error) => console.error(e.message));
    throw err;
  }
  return {
    dir,
    env,
    runtimeRoot: join(dir, 'exec/runtime-runc/moby'),
    cgroupParent,
    docker,
    command: `DOCKER_HOST=${shellQuote(env.DOCKER_HOST)} DOCKER_CONFIG=${shellQuote(env.DOCKER_CONFIG)} ${DOCKER_CLIENT}`,
    stop,
  };
}
