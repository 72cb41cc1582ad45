// podman for tests: its storage, run state, volumes and containers.conf in a temp folder; each
// runtime under test named in [engine.runtimes] through a wrapper that gives it a --root of its
// own (podman calls `state` and `delete --force` without the runtime flags it passes elsewhere).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainEnv } from './hako.ts';
import { shellQuote } from './terminal.ts';
import { hostLeftovers, mountsUnder, removeCgroupParent } from './engines.ts';

export const hasPodman = ['podman', 'conmon'].every((cmd) => spawnSync(cmd, ['--version']).status === 0);

/**
 * The containers.conf podman reads: `runtimes` (name → binary) in [engine.runtimes], and each name
 * in runtime_supports_json, or podman passes no `--log-format json --log FILE` and loses the
 * runtime's errors. The rest suits a host without systemd (cgroupfs, events in a file, logs in a
 * file) whose processes may not raise their hard limits (no CAP_SYS_RESOURCE: podman's default
 * nofile/nproc limits of 1048576 would make every runtime's setrlimit fail). docs/ENGINES.md
 * shows this text for `{ hako: '/usr/local/bin/hako' }` (test/unit/engines-docs.test.ts checks it).
 */
export function podmanContainersConf(runtimes: Record<string, string>): string {
  const names = Object.keys(runtimes);
  return [
    '[containers]',
    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
    'log_driver = "k8s-file"',
    '',
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `runtime_supports_json = ["crun", "runc", ${names.filter((n) => n !== 'runc').map((n) => `"${n}"`).join(', ')}]`,
    '',
    '[engine.runtimes]',
    ...names.map((n) => `${n} = ["${runtimes[n]}"]`),
    '',
  ].join('\n');
}

/** A runtime under another --root than its default: podman runs the runtime without global flags for `state`. */
export function runtimeWrapper(binary: string, root: string): string {
  return `#!/bin/sh\nexec ${binary} --root ${root} "$@"\n`;
}

export interface Podman {
  dir: string;
  /** the environment podman runs with (CONTAINERS_CONF) */
  env: NodeJS.ProcessEnv;
  /** the runtime's state folder (its --root) */
  runtimeRoot(runtime: string): string;
  /** the cgroup parent of the containers (`--cgroup-parent`), under /hako-test */
  cgroupParent: string;
  /** runs `podman --runtime <runtime> …` with this instance's storage */
  podman(runtime: string, args: string[], opts?: { timeout?: number; input?: string }): SpawnSyncReturns<string>;
  /** the same command line for a shell (`script -c`) */
  command(runtime: string): string;
  /** removes every container and volume, then the folder, the runtimes' roots and the cgroup parent; throws on a leak */
  stop(): Promise<void>;
}

/** Sets podman up in a new temp folder for the named runtimes and loads `imageArchive` (an oci-archive). */
export async function startPodman(runtimes: [name: string, binary: string][], imageArchive: string): Promise<Podman> {
  const leftovers = hostLeftovers(['/dev/shm/libpod_lock', '/var/lib/containers', '/run/containers', '/run/libpod']);
  const dir = mkdtempSync(join(tmpdir(), 'hako-test-podman-'));
  const roots = new Map(runtimes.map(([name]) => [name, `/run/hako-test-podman-${name}-${process.pid}`]));
  const wrappers: Record<string, string> = {};
  for (const [name, binary] of runtimes) {
    const wrapper = join(dir, `${name}-runtime`);
    writeFileSync(wrapper, runtimeWrapper(binary, roots.get(name)!));
    chmodSync(wrapper, 0o755);
    wrappers[name] = wrapper;
  }
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, podmanContainersConf(wrappers));
  for (const d of ['root', 'runroot', 'tmp']) mkdirSync(join(dir, d));
  const env = { ...plainEnv, CONTAINERS_CONF: conf };
  const globals = ['--root', `${dir}/root`, '--runroot', `${dir}/runroot`, '--tmpdir', `${dir}/tmp`, '--storage-driver', 'overlay'];
  const podman: Podman['podman'] = (runtime, args, opts = {}) =>
    spawnSync('podman', [...globals, '--runtime', runtime, ...args], {
      encoding: 'utf8',
      env,
      timeout: opts.timeout ?? 60_000,
      input: opts.input ?? '',
    });
  const stop = async () => {
    const problems: string[] = [];
    for (const [name] of runtimes) {
      for (const args of [['rm', '--all', '--force', '--time', '0'], ['volume', 'rm', '--all', '--force']]) {
        const r = podman(name, args);
        if (r.status !== 0) problems.push(`podman ${args.join(' ')}: ${r.stderr.trim()}`);
      }
    }
    const mounts = mountsUnder(dir);
    if (mounts.length > 0) {
      problems.push(`mounts left under ${dir}: ${mounts.join(', ')}`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const root of roots.values()) rmSync(root, { recursive: true, force: true });
    leftovers.restore();
    try {
      await removeCgroupParent(cgroupParent);
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  };
  const cgroupParent = `/hako-test/podman-${process.pid}`;
  try {
    const r = podman(runtimes[0]![0], ['load', '--quiet', '--input', imageArchive]);
    if (r.status !== 0) throw new Error(`podman load: ${r.stderr}`);
  } catch (err) {
    await stop().catch((e: Error) => console.error(e.message));
    throw err;
  }
  return {
    dir,
    env,
    runtimeRoot: (runtime) => roots.get(runtime)!,
    cgroupParent,
    podman,
    command: (runtime) => ['podman', ...globals, '--runtime', runtime].map(shellQuote).join(' '),
    stop,
  };
}
