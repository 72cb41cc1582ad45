// A private containerd for tests: its own root, state and sockets in a temp folder, the CRI plugin
// off, and an image built here (no registry is reachable). ctr drives it; the runtime under test is
// chosen per container with `--runc-binary`, exactly as containerd's runc shim calls runc.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../../src/runtime/busybox.ts';
import { processesUsing } from './engines.ts';
import { plainEnv } from './hako.ts';

export const hasContainerd = ['containerd', 'ctr'].every((cmd) => spawnSync(cmd, ['--version']).status === 0);

/** containerd's own folders under /run, made by the daemon and the shims whatever the config says (dockerd's containerd too). */
export const SHARED_RUN_DIRS = ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd'];

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Writes an OCI image archive (the layout of image-spec's image-layout.md, tarred) of a busybox
 * rootfs: one uncompressed layer, `cmd` as command. `name` goes into the index annotation that
 * `ctr image import` names the image after.
 */
export function busyboxImageArchive(dir: string, name: string, cmd: string[] = ['sh']): string {
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer | string) => {
    const hex = sha256(data);
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
  };
  const rootfs = join(dir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  const layerTar = join(dir, 'layer.tar');
  run('tar', ['--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const layerBytes = readFileSync(layerTar);
  const layer = blob(layerBytes);
  const architecture = { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? process.arch;
  const config = blob(
    JSON.stringify({
      architecture,
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layerBytes)}`] },
    }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          platform: { architecture, os: 'linux' },
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  const archive = join(dir, 'image.tar');
  run('tar', ['-C', layout, '-cf', archive, 'oci-layout', 'index.json', 'blobs']);
  return archive;
}

/**
 * Writes a docker-archive (`docker save`'s format: manifest.json, the config, one folder per layer)
 * of the image busyboxImageArchive(dir, …) laid out in `dir/layout`, tagged `tag`. dockerd 20.10
 * loads only this format.
 */
export function busyboxDockerArchive(dir: string, tag: string): string {
  const layout = join(dir, 'layout');
  const blobPath = (digest: string) => join(layout, 'blobs/sha256', digest.replace(/^sha256:/, ''));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blobPath(index.manifests[0]!.digest), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const tree = join(dir, 'docker-archive');
  const config = `${manifest.config.digest.replace(/^sha256:/, '')}.json`;
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, config), readFileSync(blobPath(manifest.config.digest)));
  const layers = manifest.layers.map((l) => {
    const hex = l.digest.replace(/^sha256:/, '');
    mkdirSync(join(tree, hex));
    writeFileSync(join(tree, hex, 'layer.tar'), readFileSync(blobPath(l.digest)));
    return `${hex}/layer.tar`;
  });
  writeFileSync(join(tree, 'manifest.json'), JSON.stringify([{ Config: config, RepoTags: [tag], Layers: layers }]));
  const archive = join(dir, 'docker-image.tar');
  run('tar', ['-C', tree, '-cf', archive, '.']);
  return archive;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

export interface Containerd {
  dir: string;
  socket: string;
  /** runs ctr against this daemon */
  ctr(args: string[], opts?: { timeout?: number; input?: string }): SpawnSyncReturns<string>;
  /** the ctr command line, for a shell (`script -c`) */
  ctrCommand: string;
  /** stops the daemon and removes its folder; throws when a mount under it is left */
  stop(): Promise<void>;
}

/**
 * A runtime handler of containerd's CRI plugin (what a Kubernetes RuntimeClass names): the runc
 * shim calling `binary`, with its state under `root` when given. docs/ENGINES.md shows this text
 * for ('hako', '/usr/local/bin/hako') (test/unit/engines-docs.test.ts checks it).
 */
export function criRuntimeToml(name: string, binary: string, root?: string): string {
  const table = `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}`;
  return [
    `[${table}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${table}.options]`,
    `  BinaryName = "${binary}"`,
    ...(root ? [`  Root = "${root}"`] : []),
    '',
  ].join('\n');
}

export interface CriOptions {
  /** runtime handlers: name, binary, state root */
  runtimes: [name: string, binary: string, root: string][];
  /** the pod sandbox ("pause") image, imported beforehand into the k8s.io namespace */
  sandboxImage: string;
}

/**
 * Starts containerd with everything under a new temp folder and waits until it answers. Its CRI
 * plugin is off, or on with `cri`'s runtime handlers (no CNI configuration: pods use the host's
 * network; the exec streaming server on 127.0.0.1, a free port).
 */
export async function startContainerd(opts: { cri?: CriOptions } = {}): Promise<Containerd> {
  const sharedBefore = SHARED_RUN_DIRS.filter((d) => existsSync(d));
  const dir = mkdtempSync(join(tmpdir(), 'hako-test-containerd-'));
  const socket = join(dir, 'containerd.sock');
  const cri = opts.cri;
  if (cri) mkdirSync(join(dir, 'cni'));
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      ...(cri ? [] : ['disabled_plugins = ["io.containerd.grpc.v1.cri"]']),
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      ...(cri
        ? [
            '[plugins."io.containerd.grpc.v1.cri"]',
            `  sandbox_image = "${cri.sandboxImage}"`,
            '  stream_server_address = "127.0.0.1"',
            '  stream_server_port = "0"',
            // the pause container asks for oom_score_adj -998, which needs CAP_SYS_RESOURCE (not granted on
            // this host, to runc neither): no lower than containerd's own
            '  restrict_oom_score_adj = true',
            '[plugins."io.containerd.grpc.v1.cri".cni]',
            `  conf_dir = "${dir}/cni"`,
            '[plugins."io.containerd.grpc.v1.cri".containerd]',
            `  default_runtime_name = "${cri.runtimes[0]![0]}"`,
            ...cri.runtimes.map(([name, binary, root]) => criRuntimeToml(name, binary, root)),
          ]
        : []),
      '',
    ].join('\n'),
  );
  const log = join(dir, 'containerd.log');
  // plainEnv: the runtimes containerd starts get a real host's environment (see helpers/hako.ts)
  const daemon: ChildProcess = spawn('sh', ['-c', `exec containerd --config ${dir}/config.toml >${log} 2>&1`], {
    stdio: 'ignore',
    env: plainEnv,
  });
  const ctr: Containerd['ctr'] = (args, opts = {}) =>
    spawnSync('ctr', ['--address', socket, ...args], { encoding: 'utf8', timeout: opts.timeout ?? 30_000, input: opts.input ?? '' });
  for (let i = 0; ; i++) {
    if (existsSync(socket) && ctr(['version']).status === 0) break;
    if (i === 100 || daemon.exitCode !== null) {
      daemon.kill('SIGKILL');
      throw new Error(`containerd did not start: ${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : 'no log'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dir,
    socket,
    ctr,
    ctrCommand: `ctr --address ${socket}`,
    async stop() {
      if (daemon.exitCode === null) {
        const exited = new Promise((r) => daemon.once('exit', r));
        daemon.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (daemon.exitCode === null) daemon.kill('SIGKILL');
      }
      // The shims outlive containerd a moment, and remove their sockets in /run/containerd/s as they
      // exit: wait for them (by the address in their argv), or the shared folders stay behind.
      for (let i = 0; i < 100 && processesUsing(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
      // Never rm -rf across a mount: a rootfs still mounted would be emptied.
      const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[4])
        .filter((p): p is string => p !== undefined && p.startsWith(`${dir}/`));
      if (mounted.length > 0) throw new Error(`mounts left under ${dir}: ${mounted.join(', ')}`);
      rmSync(dir, { recursive: true, force: true });
      for (const d of SHARED_RUN_DIRS) {
        if (sharedBefore.includes(d)) continue;
        try {
          rmdirSync(d);
        } catch {
          // not empty: something else uses it now
        }
      }
    },
  };
}
