// hako under Kubernetes' CRI: containerd 1.6 with its CRI plugin and two runtime handlers (what a
// RuntimeClass names), `runc` and `hako`, each the runc shim with options BinaryName; a gRPC client
// written here does what the kubelet does: RunPodSandbox (the pause container), CreateContainer,
// StartContainer, ExecSync, ContainerStatus, StopContainer, RemoveContainer, StopPodSandbox,
// RemovePodSandbox. Images built here and imported with `ctr -n k8s.io`; pods on the host's
// network (no CNI); cgroups under /hako-test/cri-<pid>; each handler's state under its own root.
// A pod with the RuntimeDefault seccomp profile (the filter on), and one Unconfined for the rest.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { busyboxImageArchive, hasContainerd, startContainerd, type Containerd } from '../helpers/containerd.ts';
import { criClient, type ContainerStatus, type Cri } from '../helpers/cri.ts';
import { cgroupLimits, containerStates, engineCase, removeCgroupParent, RUNTIMES, waitUntil } from '../helpers/engines.ts';

const isRoot = process.getuid?.() === 0;
const IMAGE = 'docker.io/library/hako-test-busybox:latest';
const PAUSE = 'docker.io/library/hako-test-pause:latest';
const CGROUP_PARENT = `/hako-test/cri-${process.pid}`;
const rootOf = (runtime: string) => `/run/hako-test-cri-${runtime}-${process.pid}`;
let containerd: Containerd;
let cri: Cri;
let workDir: string;
let n = 0;

type Seccomp = 'RuntimeDefault' | 'Unconfined';
/** pods as the kubelet makes them for hostNetwork: true, each container in a pid namespace of its own */
const NAMESPACES = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };

describe.skipIf(!isRoot || !hasContainerd)('under Kubernetes CRI (containerd\'s CRI plugin, runtime handlers)', () => {
  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'hako-test-cri-work-'));
    const image = busyboxImageArchive(join(workDir, 'image'), IMAGE);
    const pause = busyboxImageArchive(join(workDir, 'pause'), PAUSE, ['sleep', '2147483647']);
    containerd = await startContainerd({
      cri: { runtimes: RUNTIMES.map(([name, binary]) => [name, binary, rootOf(name)]), sandboxImage: PAUSE },
    });
    for (const archive of [image, pause]) {
      const r = containerd.ctr(['-n', 'k8s.io', 'image', 'import', archive]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    cri = criClient(containerd.socket);
    const version = await cri.call<{ runtime_name: string; runtime_api_version: string }>('Version', {});
    expect(version).toMatchObject({ runtime_name: 'containerd', runtime_api_version: 'v1' });
  }, 60_000);

  afterAll(async () => {
    cri?.close();
    try {
      await containerd?.stop();
      await removeCgroupParent(CGROUP_PARENT);
    } finally {
      for (const [name] of RUNTIMES) rmSync(rootOf(name), { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 60_000);

  describe.each(RUNTIMES)('%s', (runtime) => {
    const podConfig = (name: string, seccomp: Seccomp) => ({
      metadata: { name, uid: `uid-${name}`, namespace: 'hako-test', attempt: 0 },
      log_directory: join(workDir, 'logs', name),
      linux: {
        cgroup_parent: CGROUP_PARENT,
        security_context: { namespace_options: NAMESPACES, seccomp: { profile_type: seccomp } },
      },
    });

    /** Runs a pod on this handler, hands it to `fn`, then stops and removes it whatever happened. */
    async function withPod(seccomp: Seccomp, fn: (pod: { id: string; config: ReturnType<typeof podConfig> }) => Promise<void>) {
      const config = podConfig(`${runtime}-${n++}`, seccomp);
      const { pod_sandbox_id: id } = await cri.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config, runtime_handler: runtime });
      try {
        await fn({ id, config });
      } finally {
        await cri.call('StopPodSandbox', { pod_sandbox_id: id });
        await cri.call('RemovePodSandbox', { pod_sandbox_id: id });
      }
      // the runtime's state (the shim's Root + namespace) and the pod's cgroups are gone
      const state = join(rootOf(runtime), 'k8s.io');
      expect(await waitUntil(() => containerStates(state).length === 0)).toBe(true);
      const memory = join('/sys/fs/cgroup/memory', CGROUP_PARENT);
      expect(existsSync(memory) ? readdirSync(memory, { withFileTypes: true }).filter((e) => e.isDirectory()) : []).toEqual([]);
    }

    async function createContainer(pod: { id: string; config: ReturnType<typeof podConfig> }, seccomp: Seccomp, script: string, resources = {}) {
      const { container_id: id } = await cri.call<{ container_id: string }>('CreateContainer', {
        pod_sandbox_id: pod.id,
        sandbox_config: pod.config,
        config: {
          metadata: { name: 'main', attempt: 0 },
          image: { image: IMAGE },
          command: ['sh', '-c', script],
          log_path: 'main.log',
          linux: { resources, security_context: { namespace_options: NAMESPACES, seccomp: { profile_type: seccomp } } },
        },
      });
      return id;
    }

    const status = async (id: string, verbose = false) =>
      cri.call<{ status: ContainerStatus; info: Record<string, string> }>('ContainerStatus', { container_id: id, verbose });
    const exited = async (id: string) => {
      let s = (await status(id)).status;
      for (let i = 0; i < 200 && s.state !== 'CONTAINER_EXITED'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        s = (await status(id)).status;
      }
      return s;
    };
    /** the container's log as the kubelet reads it: `stream tag text` per line, without the timestamps */
    const log = (pod: { config: ReturnType<typeof podConfig> }) =>
      readFileSync(join(pod.config.log_directory, 'main.log'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ').slice(1).join(' '));

    engineCase(runtime, 'seccomp', 'a pod with the RuntimeDefault seccomp profile: the container\'s output in its log, its exit code, the filter on', async () => {
      await withPod('RuntimeDefault', async (pod) => {
        const id = await createContainer(pod, 'RuntimeDefault', 'echo hello; grep ^Seccomp: /proc/self/status; exit 3');
        await cri.call('StartContainer', { container_id: id });
        expect(await exited(id)).toMatchObject({ state: 'CONTAINER_EXITED', exit_code: 3 });
        expect(log(pod)).toEqual(['stdout F hello', 'stdout F Seccomp:\t2']);
        await cri.call('RemoveContainer', { container_id: id });
      });
    }, 60_000);

    engineCase(runtime, undefined, 'an Unconfined pod: limits in the cgroup files, ExecSync output and exit code, log, StopContainer, RemoveContainer', async () => {
      await withPod('Unconfined', async (pod) => {
        const script = 'trap "exit 7" TERM; echo started; sleep 300 & wait';
        const resources = { memory_limit_in_bytes: 100 * 1024 * 1024, cpu_period: 100_000, cpu_quota: 50_000 };
        const id = await createContainer(pod, 'Unconfined', script, resources);
        await cri.call('StartContainer', { container_id: id });
        const running = await status(id, true);
        expect(running.status.state).toBe('CONTAINER_RUNNING');
        const pid = (JSON.parse(running.info.info ?? '{}') as { pid?: number }).pid ?? 0;
        expect(pid).toBeGreaterThan(0);
        expect(cgroupLimits(pid)).toMatchObject({ memory: 100 * 1024 * 1024, cpuQuota: 50_000, cpuPeriod: 100_000 });

        const exec = await cri.call<{ stdout: Buffer; stderr: Buffer; exit_code: number }>('ExecSync', {
          container_id: id,
          cmd: ['sh', '-c', 'echo out in pid ns of $(cat /proc/1/comm); echo err >&2; grep ^Seccomp: /proc/self/status; exit 4'],
          timeout: 30,
        });
        expect({ stdout: exec.stdout.toString(), stderr: exec.stderr.toString(), exit_code: exec.exit_code }).toEqual({
          stdout: 'out in pid ns of sh\nSeccomp:\t0\n',
          stderr: 'err\n',
          exit_code: 4,
        });

        await cri.call('StopContainer', { container_id: id, timeout: 10 }); // SIGTERM: the trap exits 7
        expect(await exited(id)).toMatchObject({ state: 'CONTAINER_EXITED', exit_code: 7 });
        expect(log(pod)).toEqual(['stdout F started']);
        await cri.call('RemoveContainer', { container_id: id });
        await expect(status(id)).rejects.toThrow(/not found|does not exist/);
      });
    }, 60_000);
  });
});
