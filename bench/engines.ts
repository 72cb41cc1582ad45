// What hako costs through the container engines, runc beside it, as ratios.
//   npm run bench:engines -- [--runs N] [--only ctr,podman,docker,cri] [--warm]
// --warm: hako through its warm path, a `hako daemon` on each --root the engine gives hako (ctr, podman).
// The engines are started exactly as the engine tests start them (test/helpers/: private state in
// temp folders, an image built here, everything removed at the end), with their default settings
// (seccomp profiles included). Measured, interleaved (hako, runc, hako, runc, …) after one warm-up:
//   ctr run --rm IMAGE true                              (containerd's runc shim, --runc-binary)
//   podman run --rm --network none IMAGE true            (conmon; containers.conf runtimes)
//   docker run --rm --network none IMAGE true            (dockerd, daemon.json runtimes)
//   CRI: RunPodSandbox + CreateContainer + StartContainer until running (a gRPC client, as the kubelet);
//        the pod's removal is not timed
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxDockerArchive, busyboxImageArchive, startContainerd, type Containerd } from '../test/helpers/containerd.ts';
import { criClient } from '../test/helpers/cri.ts';
import { hasDockerd, startDockerd, type Docker } from '../test/helpers/docker.ts';
import { removeCgroupParent, RUNTIMES } from '../test/helpers/engines.ts';
import { hasPodman, startPodman, type Podman } from '../test/helpers/podman.ts';
import { startDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { median, percentile } from './lib.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 10);
const only = new Set((arg('--only') ?? 'ctr,podman,docker,cri').split(','));
const warm = process.argv.includes('--warm');
const daemons: TestDaemon[] = [];
const IMAGE = 'docker.io/library/hako-test-busybox:latest';
const PAUSE = 'docker.io/library/hako-test-pause:latest';
const CGROUP_PARENT = `/hako-test/bench-${process.pid}`;

interface Case {
  engine: string;
  runtime: string;
  run: () => Promise<number>;
}

const elapsed = async (fn: () => unknown): Promise<number> => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const check = (r: { status: number | null; stderr: string }, what: string) => {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr}`);
};

const work = mkdtempSync(join(tmpdir(), 'hako-bench-engines-'));
const cleanups: (() => Promise<void> | void)[] = [];
const cases: Case[] = [];
let seq = 0;
try {
  const ociArchive = busyboxImageArchive(join(work, 'image'), IMAGE);

  if (only.has('ctr') || only.has('cri')) {
    const pause = busyboxImageArchive(join(work, 'pause'), PAUSE, ['sleep', '2147483647']);
    const roots = (name: string) => `/run/hako-bench-engines-${name}-${process.pid}`;
    const containerd: Containerd = await startContainerd({
      cri: { runtimes: RUNTIMES.map(([name, binary]) => [name, binary, roots(name)]), sandboxImage: PAUSE },
    });
    cleanups.push(async () => {
      await containerd.stop();
      for (const [name] of RUNTIMES) rmSync(roots(name), { recursive: true, force: true });
    });
    for (const ns of ['default', 'k8s.io']) for (const a of [ociArchive, pause]) check(containerd.ctr(['-n', ns, 'image', 'import', a]), 'ctr import');
    if (only.has('ctr')) {
      for (const [runtime, binary] of RUNTIMES) {
        cases.push({
          engine: 'ctr run --rm',
          runtime,
          run: () =>
            elapsed(() => {
              const id = `bench-${seq++}`;
              const flags = ['--runc-binary', binary, '--runc-root', roots(`ctr-${runtime}`), '--cgroup', `${CGROUP_PARENT}/${id}`];
              check(containerd.ctr(['run', '--rm', ...flags, IMAGE, id, 'true']), 'ctr run');
            }),
        });
        cleanups.push(() => rmSync(roots(`ctr-${runtime}`), { recursive: true, force: true }));
        // the runc shim gives the runtime --root <runc-root>/<namespace>
        if (warm && runtime === 'hako') daemons.push(await startDaemon(join(roots('ctr-hako'), 'default'), join(work, 'daemon-ctr.log')));
      }
    }
    if (only.has('cri')) {
      const cri = criClient(containerd.socket);
      cleanups.unshift(() => cri.close());
      const ns = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };
      for (const [runtime] of RUNTIMES) {
        cases.push({
          engine: 'CRI pod + container start',
          runtime,
          run: async () => {
            const name = `bench-${seq++}`;
            const config = {
              metadata: { name, uid: name, namespace: 'hako-bench' },
              log_directory: join(work, 'logs', name),
              linux: { cgroup_parent: CGROUP_PARENT, security_context: { namespace_options: ns } },
            };
            let pod = '';
            const ms = await elapsed(async () => {
              pod = (await cri.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config, runtime_handler: runtime })).pod_sandbox_id;
              const { container_id } = await cri.call<{ container_id: string }>('CreateContainer', {
                pod_sandbox_id: pod,
                sandbox_config: config,
                config: {
                  metadata: { name: 'main' },
                  image: { image: IMAGE },
                  command: ['sleep', '60'],
                  log_path: 'main.log',
                  linux: { security_context: { namespace_options: ns } },
                },
              });
              await cri.call('StartContainer', { container_id });
            });
            await cri.call('StopPodSandbox', { pod_sandbox_id: pod });
            await cri.call('RemovePodSandbox', { pod_sandbox_id: pod });
            return ms;
          },
        });
      }
    }
  }

  if (only.has('podman') && hasPodman) {
    const podman: Podman = await startPodman(RUNTIMES, ociArchive);
    cleanups.push(() => podman.stop());
    if (warm) daemons.push(await startDaemon(podman.runtimeRoot('hako'), join(work, 'daemon-podman.log')));
    for (const [runtime] of RUNTIMES) {
      cases.push({
        engine: 'podman run --rm',
        runtime,
        run: () =>
          elapsed(() => check(podman.podman(runtime, ['run', '--rm', '--network', 'none', '--cgroup-parent', podman.cgroupParent, IMAGE, 'true']), 'podman run')),
      });
    }
  }

  if (only.has('docker') && hasDockerd) {
    const docker: Docker = await startDockerd(RUNTIMES, busyboxDockerArchive(join(work, 'image'), 'hako-test-busybox:latest'));
    cleanups.push(() => docker.stop());
    for (const [runtime] of RUNTIMES) {
      cases.push({
        engine: 'docker run --rm',
        runtime,
        run: () =>
          elapsed(() => check(docker.docker(['run', '--rm', '--runtime', runtime, '--network', 'none', 'hako-test-busybox:latest', 'true']), 'docker run')),
      });
    }
  }

  const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (const c of cases) await c.run(); // warm-up
  for (let i = 0; i < runs; i++) for (const c of cases) samples.get(c)!.push(await c.run());

  console.log(`through the engines, default settings, ${runs} interleaved runs each after a warm-up, hako ${warm ? 'warm (hako daemon)' : 'cold'}, ${new Date().toISOString()}\n`);
  console.log('| what | hako median ms | hako p90 | runc median ms | runc p90 | hako / runc |');
  console.log('|---|---|---|---|---|---|');
  for (const engine of [...new Set(cases.map((c) => c.engine))]) {
    const of = (runtime: string) => samples.get(cases.find((c) => c.engine === engine && c.runtime === runtime)!) ?? [];
    const [h, r] = [of('hako'), of('runc')];
    const ratio = r.length ? (median(h) / median(r)).toFixed(2) + 'x' : '-';
    const cell = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} | ${percentile(xs, 90).toFixed(0)}` : '- | -');
    console.log(`| ${engine} | ${cell(h)} | ${cell(r)} | ${ratio} |`);
  }
} finally {
  // the daemons first: the engines' cleanup then runs hako cold
  for (const d of daemons) {
    const served = d.log().split('\n').filter((l) => l.includes('served')).length;
    const cold = d.log().split('\n').filter((l) => l.includes(': cold (')).length;
    console.log(`hako daemon: ${served} calls served warm, ${cold} sent cold`);
    await d.stop();
  }
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (err) {
      console.error(`cleanup: ${(err as Error).message}`);
    }
  }
  await removeCgroupParent(CGROUP_PARENT).catch((err: Error) => console.error(`cleanup: ${err.message}`));
  rmSync(work, { recursive: true, force: true });
}
