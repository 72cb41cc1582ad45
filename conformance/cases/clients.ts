// What containerd's shim, conmon and docker rely on beyond runtime.md (see /work/shared/clients/RECIPE.md):
// pid-file format, reparenting to a subreaper, stdio and fd inheritance, --console-socket, JSON log
// lines, error words, ps --format json, kill --all, delete --force, exec, pause/resume, update.
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, Container } from '../lib/case.ts';
import { errorClass, existsPath, sleep } from '../lib/case.ts';
import { procStat } from '../lib/host.ts';
import { jsonLines, readText } from '../lib/probe.ts';
import type { Report } from '../lib/probe.ts';
import { describeCall } from '../lib/runtime.ts';
import { DEFAULT_PATH_ENV } from '../lib/spec.ts';

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/** Reads a pid file written by an exec --detach. */
function pidFromFile(t: CaseContext, path: string): number {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  t.must(text !== undefined && /^\d+$/.test(text), `pid file ${path} must hold digits only, got ${JSON.stringify(text)}`);
  const pid = Number(text);
  t.pids.add(pid);
  return pid;
}

function writeProcessJson(t: CaseContext, name: string, proc: Record<string, unknown>): string {
  const p = join(t.dir, name);
  writeFileSync(p, JSON.stringify(proc));
  return p;
}

/** Error text of a call as a client sees it: stderr, and the msg of --log error lines. */
function errorText(t: CaseContext, r: { stderr: string; stdout: string }): string {
  const log = t
    .logLines()
    .filter((l) => l.level === 'error')
    .map((l) => String(l.msg ?? ''))
    .join('\n');
  return `${r.stderr}\n${r.stdout}\n${log}`;
}

/** A started probe container with `resources`, once it has reported. */
async function runningWithLimits(t: CaseContext, resources: Record<string, unknown>, items: string[]): Promise<Container> {
  const c = await t.startContainer(t.bundle(items, (s) => Object.assign(s.linux!.resources!, resources)));
  await c.report();
  return c;
}

async function running(t: CaseContext, items: string[]): Promise<{ c: Container; r: Report }> {
  const c = await t.startContainer(t.bundle(['pid', ...items, 'print', 'sleep']));
  const r = await c.report();
  return { c, r };
}

export const clientCases: Case[] = [
  {
    name: 'clients/pid-file-format',
    section: 'containerd',
    spec: 'create --pid-file: the file holds the init host pid as digits only, no newline (containerd and conmon read it right after create)',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      const raw = c.pidFileText();
      t.observe('pidfile.shape', raw === undefined ? 'missing' : raw.replace(/\d+/, 'N'));
      const text = t.must(raw, 'pid file must exist after create');
      t.check(/^\d+$/.test(text), `pid file must be digits only (no newline), got ${JSON.stringify(text)}`);
      t.equal(Number(text), (await c.state())?.pid, 'pid file must equal the state pid');
    },
  },
  {
    name: 'clients/init-reparented-to-subreaper',
    section: 'containerd',
    spec: 'create must fork and exit: the init is left as a descendant of the caller, reparented to its child subreaper (the shim, conmon)',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      const pid = c.pid();
      const ps = t.must(procStat(pid), `init ${pid} must be alive after create`);
      t.equal(ps.ppid, process.pid, `the init's parent must be the subreaper that called create (${process.pid})`);
      t.ok(await c.start(), 'start');
      await c.waitStatus('running');
      t.equal(procStat(pid)?.ppid, process.pid, "after start the init's parent is still the subreaper");
    },
  },
  {
    name: 'clients/stdio-passed-through',
    section: 'containerd',
    spec: "create gets fd 0-2 = the container's stdio: the process writes to the files the caller gave",
    async run(t) {
      const c = await t.startContainer(t.bundle(['echo:to-stdout', 'stderr:to-stderr', 'exit:0']));
      await c.waitStatus('stopped');
      t.check(c.stdout().includes('to-stdout'), `stdout must reach the caller's stdout file, got ${JSON.stringify(c.stdout())}`);
      t.check(c.stderr().includes('to-stderr'), `stderr must reach the caller's stderr file, got ${JSON.stringify(c.stderr())}`);
    },
  },
  {
    name: 'clients/stray-fds-not-inherited',
    section: 'containerd',
    spec: 'Only fds 0-2 plus --preserve-fds N reach the container; a stray fd of the caller (fd 3 under the shim) must not',
    async run(t) {
      const stray = openSync(join(t.dir, 'stray-marker'), 'w');
      let c: Container;
      try {
        c = await t.startContainer(t.bundle(['fds', 'exit:0']), { strayFds: [stray] });
      } finally {
        closeSync(stray);
      }
      await c.waitStatus('stopped');
      const fds = (await c.report()).fds as Record<string, string>;
      t.observe('fds', Object.keys(fds).sort());
      t.equal(Object.keys(fds).sort(), ['0', '1', '2'], 'open fds in the container');
      t.check(!Object.values(fds).some((p) => p.includes('stray-marker')), 'the stray fd must not be visible in the container');
    },
  },
  {
    name: 'clients/preserve-fds',
    section: 'containerd',
    spec: '--preserve-fds N passes fds 3..3+N-1 to the container; fds above that do not reach it',
    async run(t) {
      const a = openSync(join(t.dir, 'preserved-a'), 'w');
      const bfd = openSync(join(t.dir, 'preserved-b'), 'w');
      const stray = openSync(join(t.dir, 'not-preserved'), 'w');
      let c: Container;
      try {
        c = await t.startContainer(t.bundle(['fds', 'write-fd:3:via-fd-3', 'exit:0']), { preserveFds: [a, bfd], strayFds: [stray] });
      } finally {
        [a, bfd, stray].forEach((fd) => closeSync(fd));
      }
      await c.waitStatus('stopped');
      const r = await c.report();
      const fds = r.fds as Record<string, string>;
      t.equal(Object.keys(fds).sort(), ['0', '1', '2', '3', '4'], 'open fds in the container');
      t.check((fds['3'] ?? '').endsWith('preserved-a'), `fd 3 must be the first preserved fd, got ${fds['3']}`);
      t.check((fds['4'] ?? '').endsWith('preserved-b'), `fd 4 must be the second preserved fd, got ${fds['4']}`);
      t.equal(readText(join(t.dir, 'preserved-a')), 'via-fd-3', 'what the container writes to fd 3 reaches the caller');
    },
  },
  {
    name: 'clients/log-json-error-line',
    section: 'containerd',
    spec: 'On failure the runtime writes {"level":"error","msg":...,"time":...} to --log with --log-format json; the shim shows the last error msg',
    async run(t) {
      await t.control();
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s, d) => {
          s.mounts?.push({ destination: '/missing', type: 'bind', source: join(d.dir, 'no-such-source'), options: ['bind'] });
        }),
      );
      t.errors(c.createResult!, 'create with a missing bind source');
      const lines = t.logLines();
      t.check(!lines.some((l) => 'unparsable' in l), `every --log line must be JSON: ${JSON.stringify(lines.find((l) => 'unparsable' in l))}`);
      const errs = lines.filter((l) => l.level === 'error');
      t.must(errs.length > 0, `--log must hold a line with "level":"error", got ${JSON.stringify(lines).slice(0, 400)}`);
      const last = errs[errs.length - 1] as Record<string, unknown>;
      t.observe('log.error.keys', Object.keys(last).sort());
      t.check(typeof last.msg === 'string' && last.msg.length > 0, 'msg must be a non-empty string');
      t.check(typeof last.time === 'string' && !Number.isNaN(Date.parse(last.time)), `time must be a timestamp, got ${JSON.stringify(last.time)}`);
    },
  },
  {
    name: 'clients/error-words-does-not-exist',
    section: 'containerd',
    spec: 'state/kill/delete/start of an unknown container fail with text containing "does not exist" (the shim ignores it on delete, podman treats it as gone)',
    async run(t) {
      await t.control();
      for (const cmd of [['state'], ['kill'], ['delete'], ['start']]) {
        const id = t.newId('none');
        const args = cmd[0] === 'kill' ? ['kill', id, '9'] : [...cmd, id];
        const r = await t.rt.call(args);
        t.errors(r, `${cmd[0]} of an unknown container`);
        t.check(/does not exist/.test(errorText(t, r)), `${cmd[0]}: error text must contain "does not exist", got ${JSON.stringify(r.stderr.trim())}`);
      }
    },
  },
  {
    name: 'clients/error-words-not-running',
    section: 'containerd',
    spec: 'kill of a stopped container fails with "container not running" (or "process already finished"/"no such process"): the shim then treats the process as exited',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:0']));
      await c.waitStatus('stopped');
      const r = await c.kill('9');
      t.errors(r, 'kill of a stopped container');
      t.check(/not running|process already finished|no such process/.test(errorText(t, r)), `error text must say the container is not running, got ${JSON.stringify(r.stderr.trim())}`);
    },
  },
  {
    name: 'clients/error-words-exists',
    section: 'containerd',
    spec: 'create with an id in use fails with text naming the conflict ("container with id exists")',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      const again = await t.tryCreate(t.bundle(['sleep']), { id: c.id });
      t.errors(again.createResult!, 'duplicate create');
      t.check(/exists/.test(errorText(t, again.createResult!)), `error text must say the id exists, got ${JSON.stringify(again.createResult?.stderr.trim())}`);
    },
  },
  {
    name: 'clients/ps-json',
    section: 'containerd',
    spec: 'ps --format json ID prints a JSON array of the host pids of every process in the container',
    async run(t) {
      const { c } = await running(t, ['child']);
      const init = c.pid();
      const r = t.ok(await t.rt.call(['ps', '--format', 'json', c.id]), 'ps');
      let pids: unknown;
      try {
        pids = JSON.parse(r.stdout);
      } catch {
        t.fail(`ps --format json must print JSON, got ${JSON.stringify(r.stdout.slice(0, 200))}`);
      }
      t.must(Array.isArray(pids) && pids.every((p) => Number.isInteger(p)), `ps output must be an array of integers, got ${r.stdout}`);
      const list = pids as number[];
      t.observe('ps.count', list.length);
      t.check(list.includes(init), `ps must list the init (${init}): ${r.stdout}`);
      t.equal(list.length, 2, 'ps must list the init and its child');
      for (const p of list) {
        t.pids.add(p);
        t.check(procStat(p) !== undefined, `ps pid ${p} must be a live host process`);
      }
    },
  },
  {
    name: 'clients/kill-all',
    section: 'containerd',
    spec: 'kill --all ID 9 signals every process in the container',
    async run(t) {
      const { c } = await running(t, ['child']);
      const r = t.ok(await t.rt.call(['ps', '--format', 'json', c.id]), 'ps');
      const pids = JSON.parse(r.stdout) as number[];
      pids.forEach((p) => t.pids.add(p));
      t.ok(await c.kill('9', true), 'kill --all');
      await c.waitStatus('stopped');
      const alive = await waitFor(() => pids.every((p) => !procStat(p) || procStat(p)?.state === 'Z'));
      t.check(alive, `every process must be gone after kill --all: ${pids.map((p) => `${p}:${procStat(p)?.state ?? 'gone'}`).join(' ')}`);
    },
  },
  {
    name: 'clients/kill-all-after-init-exited',
    section: 'containerd',
    spec: 'kill --all ID 9 after the init exited signals what is still in the cgroup and succeeds (runc; containerd\'s shim runs it on every stop)',
    async run(t) {
      // No pid namespace: the init's child outlives it, still in the container's cgroup.
      const b = t.bundle(['child', 'print', 'exit:0'], (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      });
      const c = await t.startContainer(b);
      const child = Number(t.must((await c.report()).child, 'the probe must report its child'));
      t.pids.add(child);
      await c.waitStatus('stopped');
      t.check(procStat(child) !== undefined && procStat(child)?.state !== 'Z', `the child ${child} must outlive the init`);
      t.ok(await c.kill('9', true), 'kill --all after the init exited');
      t.check(await waitFor(() => !procStat(child) || procStat(child)?.state === 'Z'), `the child ${child} must be killed by kill --all`);
      t.ok(await c.kill('9', true), 'kill --all of an empty cgroup');
    },
  },
  {
    name: 'clients/kill-signal-zero',
    section: 'containerd',
    spec: 'kill ID 0 checks that the init exists: it succeeds on a running container and signals nothing',
    async run(t) {
      const c = await t.startContainer(t.bundle(['sleep']));
      await c.waitStatus('running');
      t.ok(await c.kill('0'), 'kill 0');
      t.ok(await c.kill('0', true), 'kill --all 0');
      t.equal((await c.state())?.status, 'running', 'status after kill 0');
    },
  },
  {
    name: 'clients/delete-force-running',
    section: 'containerd',
    spec: 'delete --force of a running container kills it and deletes it (docker rm -f, podman cleanup)',
    async run(t) {
      const c = await t.startContainer(t.bundle(['sleep']));
      const pid = c.pid();
      await c.waitStatus('running');
      t.ok(await c.delete(true), 'delete --force');
      t.errors(await t.rt.call(['state', c.id]), 'state after delete --force');
      t.check(await waitFor(() => !procStat(pid) || procStat(pid)?.state === 'Z'), `the init ${pid} must be dead`);
    },
  },
  {
    name: 'clients/delete-force-created',
    section: 'containerd',
    spec: 'delete --force of a created container deletes it',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      const pid = c.pid();
      t.ok(await c.delete(true), 'delete --force');
      t.errors(await t.rt.call(['state', c.id]), 'state after delete --force');
      t.check(await waitFor(() => !procStat(pid) || procStat(pid)?.state === 'Z'), `the init ${pid} must be dead`);
    },
  },
  {
    name: 'clients/delete-force-stopped',
    section: 'podman',
    spec: 'delete --force must succeed (exit 0) on a stopped container',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:0']));
      await c.waitStatus('stopped');
      t.ok(await c.delete(true), 'delete --force of a stopped container');
      t.errors(await t.rt.call(['state', c.id]), 'state after delete --force');
    },
  },
  {
    name: 'clients/exec-detach-pid-file',
    section: 'containerd',
    spec: 'exec --detach --pid-file: the process runs in the container, the pid file holds its host pid, and it is reparented to the subreaper',
    async run(t) {
      const { c, r: initReport } = await running(t, ['ns']);
      const pidFile = join(t.dir, 'exec.pid');
      const r = await t.exec(c.id, ['--detach', '--pid-file', pidFile], ['/bin/probe', 'ns', 'pid', 'print', 'sleep']);
      t.ok(r, 'exec --detach');
      const pid = pidFromFile(t, pidFile);
      t.equal(procStat(pid)?.ppid, process.pid, 'the exec process must be reparented to the subreaper');
      const initNs = initReport.ns as Record<string, string>;
      for (const n of ['pid', 'mnt', 'net', 'ipc', 'uts']) {
        const link = readLink(`/proc/${pid}/ns/${n}`);
        t.equal(link, initNs[n], `exec process ${n} namespace must be the container's`);
      }
    },
  },
  {
    name: 'clients/exec-process-json',
    section: 'containerd',
    spec: 'exec --process FILE runs the process described by the JSON (args, env, cwd, user), as the shim does',
    async run(t) {
      const { c } = await running(t, []);
      const p = writeProcessJson(t, 'process.json', {
        terminal: false,
        user: { uid: 1000, gid: 1000 },
        args: ['/bin/probe', 'env', 'cwd', 'ids', 'exit:0'],
        env: [DEFAULT_PATH_ENV, 'FROM_PROCESS_JSON=yes'],
        cwd: '/tmp',
      });
      const r = t.ok(await t.exec(c.id, ['--process', p], []), 'exec --process');
      const rep = t.must(jsonLines(r.stdout)[0], `exec output must hold the probe report, got ${JSON.stringify(r.stdout)}`);
      t.check((rep.env as string[]).includes('FROM_PROCESS_JSON=yes'), 'env from process.json');
      t.equal(rep.cwd, '/tmp', 'cwd from process.json');
      const ids = rep.ids as { uid: number; gid: number };
      t.equal([ids.uid, ids.gid], [1000, 1000], 'user from process.json');
    },
  },
  {
    name: 'clients/exec-flags',
    section: 'runc-cli',
    spec: 'exec --env, --cwd, --user UID:GID, --additional-gids apply to the new process',
    async run(t) {
      const { c } = await running(t, []);
      const r = t.ok(
        await t.exec(c.id, ['--env', 'EXTRA=1', '--cwd', '/tmp', '--user', '1000:1000', '--additional-gids', '2000'], ['/bin/probe', 'env', 'cwd', 'ids', 'exit:0']),
        'exec with flags',
      );
      const rep = t.must(jsonLines(r.stdout)[0], `exec output must hold the probe report, got ${JSON.stringify(r.stdout)}`);
      t.check((rep.env as string[]).includes('EXTRA=1'), '--env');
      t.equal(rep.cwd, '/tmp', '--cwd');
      const ids = rep.ids as { uid: number; gid: number; groups: number[] };
      t.equal([ids.uid, ids.gid], [1000, 1000], '--user');
      t.check(ids.groups.includes(2000), `--additional-gids: groups ${JSON.stringify(ids.groups)}`);
    },
  },
  {
    name: 'clients/exec-exit-code',
    section: 'runc-cli',
    spec: 'exec without --detach waits and exits with the process exit code',
    async run(t) {
      const { c } = await running(t, []);
      const r = await t.exec(c.id, [], ['/bin/probe', 'exit:5']);
      t.equal(r.code, 5, `exec exit code (${describeCall(r)})`);
    },
  },
  {
    name: 'clients/exec-stopped-errors',
    section: 'runc-cli',
    spec: 'exec in a stopped container fails',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:0']));
      await c.waitStatus('stopped');
      t.errors(await t.exec(c.id, [], ['/bin/probe', 'exit:0']), 'exec in a stopped container');
    },
  },
  {
    name: 'clients/exec-cgroup-join-fails',
    section: 'runc-cli',
    spec: 'exec --cgroup into a sub-cgroup the process cannot join (an empty v1 cpuset) fails, saying "adding pid" as runc does',
    async run(t) {
      const mount = t.host.cgroupV1.get('cpuset') ?? t.skip('no cgroup v1 cpuset hierarchy on this host');
      const c = await t.startContainer(t.bundle(['sleep']));
      await c.waitStatus('running');
      const sub = join(mount, t.cgroupsPath(c.id), 'empty');
      mkdirSync(sub);
      t.defer(() => {
        try {
          rmdirSync(sub);
        } catch {
          // removed with the container's cgroup
        }
      });
      if (readFileSync(join(sub, 'cpuset.cpus'), 'utf8').trim() !== '') t.skip('a new cpuset cgroup is not empty here (cgroup.clone_children)');
      const r = await t.exec(c.id, ['--cgroup', 'cpuset:empty'], ['/bin/probe', 'exit:0']);
      t.errors(r, 'exec into an empty cpuset sub-cgroup');
      t.check(/adding pid/.test(r.stderr), `the error must say "adding pid": ${r.stderr.trim()}`);
    },
  },
  {
    name: 'clients/console-socket-create',
    section: 'containerd',
    spec: 'terminal: true + --console-socket: the runtime sends the pty master over the AF_UNIX socket (SCM_RIGHTS); the process has the pty as stdio and controlling terminal; /dev/console is the pty',
    async run(t) {
      const rec = await t.receiver('console');
      const b = t.bundle(['tty', 'stat:/dev/console', 'exit:0'], (s) => {
        if (s.process) s.process.terminal = true;
      });
      const c = await t.create(b, { consoleSocket: rec.sock });
      t.ok(await c.start(), 'start');
      await c.waitStatus('stopped');
      const lines = await rec.finished();
      const got = t.must(
        lines.find((l) => 'received' in l)?.received as { fds: number; isatty: boolean } | undefined,
        `the console socket must receive a connection, got ${rec.raw().slice(0, 300)}`,
      );
      t.equal(got.fds, 1, 'exactly one fd is sent');
      t.equal(got.isatty, true, 'the fd is a terminal (the pty master)');
      const output = String(lines.find((l) => 'output' in l)?.output ?? '');
      const rep = t.must(jsonLines(output)[0], `the process output must come through the pty, got ${JSON.stringify(output.slice(0, 300))}`);
      const tty = rep.tty as Record<string, { isatty: boolean; name: string | null }> & { ctty: boolean };
      for (const fd of ['0', '1', '2']) t.equal(tty[fd]?.isatty, true, `fd ${fd} must be the terminal`);
      t.check(/^\/dev\/pts\/\d+$/.test(tty['0']?.name ?? ''), `the terminal must be a /dev/pts entry, got ${tty['0']?.name}`);
      t.equal(tty.ctty, true, 'the process must have a controlling terminal');
      const con = rep['stat:/dev/console'] as { type?: string; major?: number };
      t.equal([con.type, con.major], ['c', 136], '/dev/console must be the pty (char major 136)');
    },
  },
  {
    name: 'clients/console-socket-exec',
    section: 'containerd',
    spec: 'exec with terminal: true in process.json and --console-socket sends a new pty master for the exec process',
    async run(t) {
      const { c } = await running(t, []);
      const rec = await t.receiver('console');
      const p = writeProcessJson(t, 'process.json', {
        terminal: true,
        user: { uid: 0, gid: 0 },
        args: ['/bin/probe', 'tty', 'exit:0'],
        env: [DEFAULT_PATH_ENV],
        cwd: '/',
      });
      const pidFile = join(t.dir, 'exec.pid');
      t.ok(await t.exec(c.id, ['--process', p, '--console-socket', rec.sock, '--detach', '--pid-file', pidFile], []), 'exec -t');
      pidFromFile(t, pidFile);
      const lines = await rec.finished();
      const rep = t.must(jsonLines(String(lines.find((l) => 'output' in l)?.output ?? ''))[0], `exec output must come through the pty, got ${rec.raw().slice(0, 300)}`);
      const tty = rep.tty as Record<string, { isatty: boolean }>;
      for (const fd of ['0', '1', '2']) t.equal(tty[fd]?.isatty, true, `exec fd ${fd} must be the terminal`);
    },
  },
  {
    name: 'clients/console-size',
    section: 'config.md#process',
    spec: 'consoleSize (object, OPTIONAL) specifies the console size in characters of the terminal',
    async run(t) {
      const rec = await t.receiver('console');
      const b = t.bundle(['tty', 'exit:0'], (s) => {
        if (s.process) {
          s.process.terminal = true;
          s.process.consoleSize = { height: 33, width: 111 };
        }
      });
      const c = await t.create(b, { consoleSocket: rec.sock });
      t.ok(await c.start(), 'start');
      await c.waitStatus('stopped');
      const lines = await rec.finished();
      const rep = t.must(jsonLines(String(lines.find((l) => 'output' in l)?.output ?? ''))[0], `the process output must come through the pty, got ${rec.raw().slice(0, 300)}`);
      const tty0 = (rep.tty as Record<string, { rows?: number; cols?: number }>)['0'];
      t.equal([tty0?.rows, tty0?.cols], [33, 111], 'terminal rows/cols');
    },
  },
  {
    name: 'clients/console-size-ignored-without-terminal',
    section: 'config.md#process',
    spec: 'Runtimes MUST ignore consoleSize if terminal is false or unset',
    async run(t) {
      const c = await t.startContainer(
        t.bundle(['tty', 'exit:0'], (s) => {
          s.process!.terminal = false;
          s.process!.consoleSize = { height: 10, width: 20 };
        }),
      );
      await c.waitStatus('stopped');
      const tty = (await c.report()).tty as Record<string, { isatty: boolean }>;
      t.equal(tty['1']?.isatty, false, 'no terminal is set up');
    },
  },
  {
    name: 'clients/pause-resume',
    section: 'containerd',
    needs: ['cgroup-v1:freezer'],
    spec: 'pause freezes the container (status paused), resume thaws it (status running)',
    async run(t) {
      const { c } = await running(t, []);
      t.ok(await t.rt.call(['pause', c.id]), 'pause');
      const st = await c.state();
      t.equal(st?.status, 'paused', 'status after pause');
      const ps = procStat(c.pid());
      t.observe('paused.procstate', ps?.state);
      t.ok(await t.rt.call(['resume', c.id]), 'resume');
      t.equal((await c.state())?.status, 'running', 'status after resume');
    },
  },
  {
    name: 'clients/update-memory',
    section: 'containerd',
    needs: ['cgroup-v1:memory'],
    spec: 'update --resources - ID with LinuxResources JSON on stdin changes the cgroup (docker update)',
    async run(t) {
      const { c } = await running(t, []);
      const r = await t.rt.call(['update', '--resources', '-', c.id], { input: JSON.stringify({ memory: { limit: 67108864 } }) });
      t.ok(r, 'update');
      const mount = t.host.cgroupV1.get('memory') as string;
      const v = readText(join(mount, t.cgroupsPath(c.id), 'memory.limit_in_bytes')).trim();
      t.equal(v, '67108864', 'memory.limit_in_bytes after update');
    },
  },
  {
    name: 'clients/run-foreground',
    section: 'runc-cli',
    spec: 'run (without --detach) runs the container to its end, exits with its exit status and deletes it',
    async run(t) {
      const b = t.bundle(['echo:hello-from-run', 'exit:3']);
      const id = t.newId('fg');
      b.spec.linux!.cgroupsPath = t.cgroupsPath(id);
      b.write();
      const out = openSync(join(t.dir, 'run.out'), 'w');
      const r = await t.rt.call(['run', '--bundle', b.dir, id], { stdout: out, stderr: out });
      closeSync(out);
      t.equal(r.code, 3, `run exit status must be the process exit status (${describeCall(r)})`);
      t.check(readText(join(t.dir, 'run.out')).includes('hello-from-run'), 'run output');
      t.errors(await t.rt.call(['state', id]), 'state after run finished (the container is deleted)');
    },
  },
  {
    name: 'clients/run-detach',
    section: 'runc-cli',
    spec: 'run --detach creates and starts the container and returns',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']), { command: 'run' });
      t.equal((await c.waitStatus('running')).status, 'running', 'status after run --detach');
      t.equal(procStat(c.pid())?.ppid, process.pid, 'the init is reparented to the subreaper');
    },
  },
  {
    name: 'clients/state-status-values',
    section: 'podman',
    spec: 'state prints one JSON object whose status is one of created, running, paused, stopped',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      const r = t.ok(await t.rt.call(['state', c.id]), 'state');
      let v: unknown;
      try {
        v = JSON.parse(r.stdout);
      } catch {
        t.fail(`state must print JSON, got ${JSON.stringify(r.stdout.slice(0, 200))}`);
      }
      t.must(v && typeof v === 'object' && !Array.isArray(v), 'state must print a JSON object');
      const st = v as Record<string, unknown>;
      t.check(['created', 'running', 'paused', 'stopped'].includes(String(st.status)), `status ${JSON.stringify(st.status)}`);
      t.observe('errorClass.state-ok', errorClass(r));
    },
  },
  {
    name: 'clients/unknown-command-errors',
    section: 'runc CLI',
    spec: 'an unknown command exits non-zero, also with -h (runc: "No help topic", exit 3)',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['no-such-command']), 'an unknown command');
      t.errors(await t.rt.call(['no-such-command', '-h']), 'an unknown command with -h');
    },
  },
  {
    name: 'clients/spec-cgroup-namespace',
    section: 'runc CLI',
    spec: 'spec writes a cgroup namespace only on a pure cgroup v2 host, as runc (v1 and hybrid hosts: none)',
    async run(t) {
      const dir = join(t.dir, 'spec');
      mkdirSync(dir);
      t.ok(await t.rt.call(['spec', '--bundle', dir]), 'spec');
      const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { linux?: { namespaces?: { type: string }[] } };
      const types = (spec.linux?.namespaces ?? []).map((n) => n.type);
      t.observe('spec.namespaces', types);
      const pureV2 = t.host.cgroupV1.size === 0 && t.host.cgroupV2 !== undefined;
      t.equal(types.includes('cgroup'), pureV2, `a cgroup namespace in the default spec on a ${pureV2 ? 'pure v2' : 'v1 or hybrid'} host`);
    },
  },
  {
    name: 'clients/events-stats',
    section: 'runc CLI',
    spec: 'events --stats ID prints one stats event in runc\'s shape: {type: stats, id, data: {cpu, memory (usage: limit, usage, max, failcnt), pids, blkio, hugetlb}}',
    async run(t) {
      const c = await runningWithLimits(t, { memory: { limit: 67108864 }, pids: { limit: 64 } }, ['pid', 'print', 'sleep']);
      const r = t.ok(await t.rt.call(['events', '--stats', c.id]), 'events --stats');
      const lines = r.stdout.trim().split('\n');
      t.equal(lines.length, 1, 'one line');
      let ev: { type?: string; id?: string; data?: Record<string, Record<string, unknown>> } = {};
      try {
        ev = JSON.parse(lines[0]!) as typeof ev;
      } catch {
        t.fail(`events --stats must print JSON, got ${JSON.stringify(r.stdout.slice(0, 200))}`);
      }
      t.equal([ev.type, ev.id], ['stats', c.id], 'type and id');
      const data = t.must(ev.data, 'stats data');
      t.observe('events.keys', Object.keys(data).sort());
      for (const k of ['cpu', 'memory', 'pids', 'blkio', 'hugetlb']) t.check(k in data, `data.${k}`);
      const usage = (data.memory?.usage ?? {}) as Record<string, number | undefined>;
      t.equal(usage.limit, 67108864, 'memory.usage.limit');
      const used = usage.usage ?? 0;
      t.check(used > 0 && (usage.max ?? 0) >= used && usage.failcnt === 0, `memory.usage: ${JSON.stringify(usage)}`);
      t.equal(data.pids, { current: 1, limit: 64 }, 'pids');
      t.check(Number((data.cpu?.usage as Record<string, number> | undefined)?.total) > 0, 'cpu.usage.total');
    },
  },
  {
    name: 'clients/events-oom',
    section: 'runc CLI',
    spec: 'events ID streams {"type":"oom","id":ID} when the OOM killer runs in the container, and ends once the container is gone',
    async run(t) {
      const swapAccounting = existsPath('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') || t.host.cgroupV1.size === 0;
      const limit = 16 * 1024 * 1024;
      const b = t.bundle([], (s) => {
        s.linux!.resources!.memory = swapAccounting ? { limit, swap: limit } : { limit };
        // The hog waits for the go-ahead, given once `events` is listening.
        s.process!.args = ['/bin/sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; exec /bin/busybox tail /dev/zero'];
      });
      const c = await t.startContainer(b);
      const outFile = join(t.dir, 'events.out');
      const out = openSync(outFile, 'w');
      const events = t.rt.start(['events', '--interval', '500ms', c.id], { stdout: out });
      closeSync(out);
      const listening = await waitFor(() => readFileSync(outFile, 'utf8').includes('"stats"'), 10_000);
      t.check(listening, 'events must print a stats event first');
      writeFileSync(join(b.rootfs, 'tmp/go'), '');
      await c.waitStatus('stopped', 15_000);
      // runc ends its stream when the cgroup goes away; hako when the container stops.
      t.ok(await c.delete(), 'delete');
      const timer = setTimeout(() => events.kill('SIGKILL'), 10_000);
      const r = await events.done;
      clearTimeout(timer);
      t.check(r.signal === null, `events must end by itself once the container is gone: ${describeCall(r)}`);
      const lines = readFileSync(outFile, 'utf8').trim().split('\n').filter(Boolean);
      const parsed = lines.map((l) => {
        try {
          return JSON.parse(l) as { type?: string; id?: string };
        } catch {
          return { type: `unparsable: ${l.slice(0, 80)}` };
        }
      });
      t.observe('events.types', [...new Set(parsed.map((e) => e.type))].sort());
      t.check(parsed.some((e) => e.type === 'oom' && e.id === c.id), `an oom event for ${c.id}: ${lines.map((l) => l.slice(0, 60)).join(' | ')} (${describeCall(r)})`);
    },
  },
  {
    name: 'clients/features-json',
    section: 'features.md',
    spec: 'features prints a JSON document with ociVersionMin and ociVersionMax',
    async run(t) {
      const r = t.ok(await t.rt.call(['features']), 'features');
      let v: Record<string, unknown> = {};
      try {
        v = JSON.parse(r.stdout) as Record<string, unknown>;
      } catch {
        t.fail(`features must print JSON, got ${JSON.stringify(r.stdout.slice(0, 200))}`);
      }
      t.observe('features.keys', Object.keys(v).sort());
      t.check(typeof v.ociVersionMin === 'string', 'ociVersionMin must be a string');
      t.check(typeof v.ociVersionMax === 'string', 'ociVersionMax must be a string');
      const linux = v.linux as Record<string, unknown> | undefined;
      if (linux?.namespaces) t.check(Array.isArray(linux.namespaces), 'linux.namespaces must be an array');
    },
  },
  {
    name: 'clients/delete-force-unknown-succeeds',
    section: 'podman',
    spec: '`delete --force` of an id that does not exist exits 0 (podman runs it after every failed create; an error there hides the real one)',
    async run(t) {
      await t.control();
      const r = await t.rt.call(['delete', '--force', t.newId('none')]);
      t.check(r.code === 0, `delete --force of an unknown id must exit 0: ${describeCall(r)}`);
    },
  },
  {
    name: 'clients/shared-cgroup',
    section: 'config-linux.md#control-groups',
    spec: 'a container whose cgroup already holds another container\'s processes is created (runc warns and goes on); deleting it leaves the other running',
    async run(t) {
      const first = await t.startContainer(t.bundle(['sleep']));
      // tryCreate gave the first bundle its cgroupsPath (under the suite's parent, with the id)
      const path = first.bundle.spec.linux?.cgroupsPath || t.cgroupsPath(first.id);
      const second = await t.startContainer(
        t.bundle(['sleep'], (s) => {
          s.linux!.cgroupsPath = path;
        }),
      );
      t.ok(await second.delete(true), 'delete --force of the second container');
      t.equal((await first.state())?.status, 'running', 'the first container keeps running');
      t.ok(await first.delete(true), 'delete --force of the first container');
    },
  },
];


function readLink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}
