// Set-up and clean-up of a run: probe build, subreaper, rootfs template, one --root and one cgroup
// parent per runtime; clean-up removes all of it, even after a failure or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { buildTemplate, ensureProbe } from './bundle.ts';
import type { RunEnv } from './case.ts';
import { becomeSubreaper, detectHost, orphanChildren, reapOrphans, spawnedPids, startReaper, stopReaper } from './host.ts';
import { cgroupMounts, detectKind, rmCgroupTree, unmountUnder } from './runner.ts';
import { runProcess } from './runtime.ts';
import { sleep } from './case.ts';

export interface Session {
  runDir: string;
  template: string;
  envs: RunEnv[];
  versions: Map<RunEnv, string>;
  /** HAKO_CONFORMANCE_WARM=1: a `hako daemon` per hako --root, so every call of the run takes the warm path. */
  daemons: ChildProcess[];
}

/** Whether this run drives hako through its warm daemon (HAKO_CONFORMANCE_WARM=1). */
export const WARM = process.env.HAKO_CONFORMANCE_WARM === '1';

/** Starts `bin daemon` for `root` and waits until its socket is in place (the front then goes warm). */
async function startDaemon(bin: string, root: string, log: string): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '--max-semi-space-size=1' }; // as README.md starts it
  delete env.NODE_EXTRA_CA_CERTS;
  const fd = openSync(log, 'a');
  const child = spawn(bin, ['--root', root, 'daemon', '--verbose'], { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  if (child.pid !== undefined) spawnedPids.add(child.pid);
  for (let i = 0; i < 200 && !existsSync(join(root, 'hako.sock')); i++) {
    if (child.exitCode !== null) break;
    await sleep(25);
  }
  if (!existsSync(join(root, 'hako.sock'))) throw new Error(`${bin} daemon --root ${root}: no socket after 5 s`);
  return child;
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (child.pid !== undefined) spawnedPids.delete(child.pid);
}

const sessions: Session[] = [];

export async function openSession(bins: string[], label = 'conformance'): Promise<Session> {
  ensureProbe();
  await becomeSubreaper();
  startReaper();
  const runDir = `/tmp/hako-${label}-${process.pid}`;
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const template = join(runDir, 'template', 'rootfs');
  const session: Session = { runDir, template, envs: [], versions: new Map(), daemons: [] };
  sessions.push(session);
  buildTemplate(template);
  const host = detectHost();
  const tags = ['a', 'b', 'c', 'd'];
  for (const [i, given] of bins.entries()) {
    // A path with a slash is made absolute: some calls run with another working directory.
    const bin = given.includes('/') ? resolve(given) : given;
    const { kind, version } = await detectKind(bin);
    const tag = tags[i] ?? `x${i}`;
    const name = basename(bin).replace(/[^A-Za-z0-9_.-]/g, '_');
    const env: RunEnv = {
      bin,
      kind,
      tag,
      root: `/run/hako-${label}-${name}-${process.pid}${bins.length > 1 ? `-${tag}` : ''}`,
      runDir,
      template,
      host,
      cgroupParent: `/hako-${label}-${process.pid}-${tag}`,
    };
    rmSync(env.root, { recursive: true, force: true });
    mkdirSync(env.root, { recursive: true, mode: 0o700 });
    session.envs.push(env);
    session.versions.set(env, version);
    if (WARM && kind === 'hako') session.daemons.push(await startDaemon(bin, env.root, join(runDir, `daemon-${tag}.log`)));
  }
  return session;
}

/** runc's id rule: letters, digits, `_`, `+`, `-`, `.`. */
export const CONTAINER_ID = /^[\w+.-]+$/;

/** Folders in a --root that can be containers (a runtime may keep files of its own there, like hako's seccomp cache). */
export function containerFolders(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && CONTAINER_ID.test(e.name))
    .map((e) => e.name);
}

/** Removes everything the session made. Returns what had to be removed by force (for leak reports). */
export async function closeSession(session: Session): Promise<string[]> {
  const leftovers: string[] = [];
  for (const d of session.daemons.splice(0)) await stopDaemon(d);
  for (const log of existsSync(session.runDir) ? readdirSync(session.runDir).filter((f) => f.startsWith('daemon-')) : []) {
    const lines = readFileSync(join(session.runDir, log), 'utf8').split('\n');
    const served = lines.filter((l) => l.startsWith('hako daemon: served')).length;
    const cold = lines.filter((l) => l.startsWith('hako daemon: cold')).length;
    console.error(`hako daemon (${log}): ${served} calls served warm, ${cold} sent cold`);
  }
  for (const env of session.envs) {
    if (existsSync(env.root)) {
      for (const id of containerFolders(env.root)) {
        leftovers.push(`state ${join(env.root, id)}`);
        await runProcess(env.bin, ['--root', env.root, 'delete', '--force', id], { timeoutMs: 10_000 });
      }
    }
  }
  // Orphans reparented to us (a killed runtime's children, detached exec processes).
  for (const st of orphanChildren()) {
    if (st.state === 'Z') continue;
    leftovers.push(`process ${st.pid} (${st.comm})`);
    try {
      process.kill(st.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 20 && orphanChildren().length; i++) {
    reapOrphans();
    await sleep(25);
  }
  for (const m of await unmountUnder(session.runDir)) leftovers.push(`mount ${m}`);
  // a runtime's own mounts in its --root (runc 1.1.5 leaves the bind of its binary there when killed mid-create)
  for (const env of session.envs) for (const m of await unmountUnder(env.root)) leftovers.push(`mount ${m}`);
  for (const env of session.envs) {
    for (const mount of cgroupMounts(env)) {
      const dir = join(mount, env.cgroupParent);
      if (!existsSync(dir)) continue;
      const children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
      for (const c of children) leftovers.push(`cgroup ${join(dir, c.name)}`);
      for (let i = 0; i < 10 && !rmCgroupTree(dir); i++) await sleep(50);
    }
    rmSync(env.root, { recursive: true, force: true });
  }
  rmSync(session.runDir, { recursive: true, force: true });
  const idx = sessions.indexOf(session);
  if (idx >= 0) sessions.splice(idx, 1);
  if (!sessions.length) stopReaper();
  return leftovers;
}

/** On SIGINT/SIGTERM: clean up every open session, then exit. */
export function cleanUpOnSignals(): void {
  const handler = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void Promise.all([...sessions].map((s) => closeSession(s))).finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
