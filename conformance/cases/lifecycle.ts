// runtime.md: state, lifecycle and operations, sentence by sentence.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, Container, State } from '../lib/case.ts';
import { sleep } from '../lib/case.ts';
import { procStat } from '../lib/host.ts';
import { jsonLines } from '../lib/probe.ts';

/** A container stays unchanged: same status, same pid. */
async function unchanged(t: CaseContext, c: Container, before: State, what: string): Promise<void> {
  const after = await c.state();
  t.equal(after?.status, before.status, `${what} must have no effect on the container: status`);
  t.equal(after?.pid, before.pid, `${what} must have no effect on the container: pid`);
}

/** Entries of --root that belong to this case, or to no case at all (other cases run concurrently). */
function stateDirEntries(t: CaseContext): string[] {
  const mine = `hc-${t.env.tag}${t.index}-`;
  try {
    return readdirSync(t.env.root).filter((e) => e.startsWith(mine) || !/^hc-[a-z]+\d+-/.test(e));
  } catch {
    return [];
  }
}

export const lifecycleCases: Case[] = [
  {
    name: 'state/fields-after-create',
    section: 'runtime.md#state',
    spec: 'The state of a container includes ociVersion, id, status, pid (required on Linux when created or running), bundle (absolute path), annotations',
    async run(t) {
      const b = t.bundle(['sleep']);
      const c = await t.create(b);
      const st = t.must(await c.state(), 'state after create must succeed and print JSON');
      t.observe('state.keys', Object.keys(st).sort());
      t.check(typeof st.ociVersion === 'string' && st.ociVersion.length > 0, `ociVersion must be a non-empty string, got ${JSON.stringify(st.ociVersion)}`);
      t.equal(st.id, c.id, 'id');
      t.equal(st.status, 'created', 'status after create');
      t.check(Number.isInteger(st.pid) && (st.pid ?? 0) > 0, `pid must be a positive integer while created, got ${JSON.stringify(st.pid)}`);
      t.equal(st.bundle, b.dir, 'bundle must be the absolute path of the bundle directory');
      t.check(st.annotations === undefined || (typeof st.annotations === 'object' && !Array.isArray(st.annotations)), 'annotations must be absent or a map');
    },
  },
  {
    name: 'state/annotations',
    section: 'runtime.md#state',
    spec: 'annotations (map, OPTIONAL) contains the list of annotations associated with the container',
    async run(t) {
      const b = t.bundle(['sleep'], (s) => {
        s.annotations = { 'org.example.key': 'value', 'com.example.other': 'x y z' };
      });
      const c = await t.create(b);
      const st = await c.state();
      t.equal(st?.annotations, { 'org.example.key': 'value', 'com.example.other': 'x y z' }, 'state annotations must be the config annotations');
    },
  },
  {
    name: 'state/pid-is-host-pid',
    section: 'runtime.md#state',
    spec: 'pid is the ID of the container process, as seen by the host',
    async run(t) {
      const c = await t.startContainer(t.bundle(['pid', 'sleep']));
      const st = await c.waitStatus('running');
      const r = await c.report();
      const hostPid = st.pid ?? -1;
      t.equal(hostPid, c.pid(), 'state pid must equal the --pid-file pid');
      const ps = procStat(hostPid);
      t.check(ps !== undefined, `state pid ${hostPid} must be a live process on the host`);
      t.observe('probe.pid', r.pid);
      t.equal((r.pid as { pid: number }).pid, 1, 'the container process is pid 1 of its pid namespace');
      t.equal(ps?.comm, 'probe', 'the host pid must be the user process after start');
    },
  },
  {
    name: 'state/unknown-id-error',
    section: 'runtime.md#query-state',
    spec: 'Attempting to query a container that does not exist MUST generate an error',
    async run(t) {
      await t.control();
      const r = await t.rt.call(['state', t.newId('none')]);
      t.errors(r, 'state of an unknown container');
    },
  },
  {
    name: 'state/no-id-error',
    section: 'runtime.md#query-state',
    spec: 'This operation MUST generate an error if it is not provided the ID of a container',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['state']), 'state without an id');
    },
  },
  {
    name: 'state/status-transitions',
    section: 'runtime.md#lifecycle',
    spec: 'status: created after create, running after start, stopped once the process exited',
    async run(t) {
      const c = await t.create(t.bundle(['sleep:300', 'exit:0']));
      const seen: string[] = [];
      seen.push((await c.state())?.status ?? 'none');
      t.ok(await c.start(), 'start');
      seen.push((await c.state())?.status ?? 'none');
      await c.waitStatus('stopped');
      seen.push((await c.state())?.status ?? 'none');
      t.observe('statuses', seen);
      t.equal(seen, ['created', 'running', 'stopped'], 'status sequence');
    },
  },
  {
    name: 'state/stopped-has-no-running-pid',
    section: 'runtime.md#state',
    spec: 'stopped: the container process has exited',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:0']));
      const st = await c.waitStatus('stopped');
      t.observe('stopped.keys', Object.keys(st).sort());
      const pid = c.pid();
      const ps = procStat(pid);
      t.check(ps === undefined || ps.state === 'Z' || ps.state === 'X', `the init (${pid}) must have exited when status is stopped (state ${ps?.state})`);
    },
  },
  {
    name: 'lifecycle/create-does-not-run-process',
    section: 'runtime.md#create',
    spec: 'While the resources requested in the config.json MUST be created, the user-specified program (from process) MUST NOT be run at this time',
    async run(t) {
      const c = await t.create(t.bundle(['echo:user-program-ran', 'sleep']));
      await sleep(300);
      t.check(!c.stdout().includes('user-program-ran'), 'the user program ran before start');
      t.equal((await c.state())?.status, 'created', 'status after create');
      t.ok(await c.start(), 'start');
      const end = Date.now() + 3000;
      while (!c.stdout().includes('user-program-ran') && Date.now() < end) await sleep(20);
      t.check(c.stdout().includes('user-program-ran'), 'start MUST run the user-specified program');
    },
  },
  {
    name: 'lifecycle/start-runs-process-args',
    section: 'runtime.md#start',
    spec: 'This operation MUST run the user-specified program as specified by process',
    async run(t) {
      const c = await t.startContainer(t.bundle(['args', 'print', 'sleep']));
      const r = await c.report();
      t.equal(r.args, ['/bin/probe', 'args', 'print', 'sleep'], 'argv seen by the process');
      t.equal((await c.state())?.status, 'running', 'status after start');
    },
  },
  {
    name: 'lifecycle/config-changes-after-create-ignored',
    section: 'runtime.md#lifecycle',
    spec: 'Any updates to config.json after this step MUST NOT affect the container',
    async run(t) {
      const b = t.bundle(['args', 'env', 'exit:0'], (s) => {
        s.process?.env?.push('MARK=original');
      });
      const c = await t.create(b);
      b.spec.process = { ...b.spec.process, args: ['/bin/probe', 'echo:changed', 'exit:0'], env: ['MARK=changed'], user: { uid: 0, gid: 0 }, cwd: '/' };
      b.write();
      t.ok(await c.start(), 'start');
      await c.waitStatus('stopped');
      const r = await c.report();
      t.equal(r.args, ['/bin/probe', 'args', 'env', 'exit:0'], 'args must be those of config.json at create time');
      t.check(Array.isArray(r.env) && (r.env as string[]).includes('MARK=original'), 'env must be that of config.json at create time');
    },
  },
  {
    name: 'lifecycle/create-without-id-errors',
    section: 'runtime.md#create',
    spec: 'This operation MUST generate an error if it is not provided a path to the bundle and the container ID',
    async run(t) {
      await t.control();
      const b = t.bundle(['sleep']);
      const before = stateDirEntries(t);
      t.errors(await t.rt.call(['create', '--bundle', b.dir], { timeoutMs: 10_000 }), 'create without an id');
      t.equal(stateDirEntries(t), before, 'no container state must be created');
    },
  },
  {
    name: 'lifecycle/create-without-bundle-errors',
    section: 'runtime.md#create',
    spec: 'This operation MUST generate an error if it is not provided a path to the bundle (the CLI default is the working directory: here one without config.json)',
    async run(t) {
      await t.control();
      const id = t.newId();
      t.errors(await t.rt.call(['create', id], { cwd: t.dir, timeoutMs: 10_000 }), 'create without a bundle');
      t.check(!existsSync(join(t.env.root, id)), 'no container state must be created');
      t.errors(await t.rt.call(['state', id]), 'state of the container that was not created');
    },
  },
  {
    name: 'lifecycle/duplicate-id-errors',
    section: 'runtime.md#create',
    spec: 'If the ID provided is not unique across all containers within the scope of the runtime, the implementation MUST generate an error and a new container MUST NOT be created',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      const before = t.must(await c.state(), 'state of the first container');
      const second = await t.tryCreate(t.bundle(['sleep']), { id: c.id });
      t.errors(second.createResult!, 'create with an id in use');
      await unchanged(t, c, before, 'a duplicate create');
      t.equal(before.bundle, c.bundle.dir, 'the first container keeps its bundle');
      t.equal((await c.state())?.bundle, c.bundle.dir, 'the first container keeps its bundle after the duplicate create');
    },
  },
  {
    name: 'lifecycle/invalid-id-errors',
    section: 'runtime.md#create',
    spec: 'If the ID provided is not valid in any other way, the implementation MUST generate an error and a new container MUST NOT be created',
    async run(t) {
      await t.control();
      for (const bad of ['../escape', 'a/b', '..', '']) {
        const before = stateDirEntries(t);
        const r = await t.rt.call(['create', '--bundle', t.bundle(['sleep']).dir, bad], { timeoutMs: 10_000 });
        t.errors(r, `create with id ${JSON.stringify(bad)}`);
        t.equal(stateDirEntries(t), before, `no state may be created for id ${JSON.stringify(bad)}`);
      }
      t.check(!existsSync(join(t.env.root, '..', 'escape')), 'an id with ../ must not create anything outside --root');
    },
  },
  {
    name: 'lifecycle/start-running-errors',
    section: 'runtime.md#start',
    spec: 'Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error',
    async run(t) {
      const c = await t.startContainer(t.bundle(['sleep']));
      const before = await c.waitStatus('running');
      t.errors(await c.start(), 'start of a running container');
      await unchanged(t, c, before, 'start of a running container');
    },
  },
  {
    name: 'lifecycle/start-stopped-errors',
    section: 'runtime.md#start',
    spec: 'Attempting to start a container that is not created MUST have no effect on the container and MUST generate an error',
    async run(t) {
      const c = await t.startContainer(t.bundle(['echo:once', 'exit:0']));
      const before = await c.waitStatus('stopped');
      t.errors(await c.start(), 'start of a stopped container');
      await sleep(100);
      t.equal((await c.state())?.status, 'stopped', 'status after start of a stopped container');
      t.equal(c.stdout().split('once').length - 1, 1, 'the process must not run again');
      void before;
    },
  },
  {
    name: 'lifecycle/start-unknown-errors',
    section: 'runtime.md#start',
    spec: 'Attempting to start a container that does not exist MUST generate an error',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['start', t.newId('none')]), 'start of an unknown container');
    },
  },
  {
    name: 'lifecycle/start-no-id-errors',
    section: 'runtime.md#start',
    spec: 'This operation MUST generate an error if it is not provided the container ID',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['start']), 'start without an id');
    },
  },
  {
    name: 'lifecycle/start-without-process-errors',
    section: 'runtime.md#start',
    spec: 'start operation MUST generate an error if process was not set',
    async run(t) {
      await t.control();
      const b = t.bundle(['sleep'], (s) => {
        delete s.process;
      });
      const c = await t.tryCreate(b);
      t.observe('create-without-process', c.createResult?.code === 0 ? 'accepted' : 'refused');
      if (c.createResult?.code === 0) t.errors(await c.start(), 'start of a container without process');
      else t.errors(await c.start(), 'start of a container whose create failed');
    },
  },
  {
    name: 'lifecycle/kill-delivers-signal',
    section: 'runtime.md#kill',
    spec: 'kill operation MUST send the specified signal to the container process',
    async run(t) {
      const c = await t.startContainer(t.bundle(['trap:USR1', 'echo:ready', 'sleep']));
      const end = Date.now() + 3000;
      while (!c.stdout().includes('ready') && Date.now() < end) await sleep(20);
      t.ok(await c.kill('USR1'), 'kill USR1');
      await c.waitStatus('stopped');
      const sigs = jsonLines(c.stdout()).filter((l) => 'signal' in l);
      t.equal(sigs[0]?.signal, 10, 'the process must receive SIGUSR1');
    },
  },
  {
    name: 'lifecycle/kill-numeric-signal',
    section: 'runtime.md#kill',
    spec: 'kill with a numeric signal (containerd always passes numbers: 9, 15, 10)',
    async run(t) {
      const c = await t.startContainer(t.bundle(['trap:USR2', 'echo:ready', 'sleep']));
      const end = Date.now() + 3000;
      while (!c.stdout().includes('ready') && Date.now() < end) await sleep(20);
      t.ok(await c.kill('12'), 'kill 12');
      await c.waitStatus('stopped');
      const sigs = jsonLines(c.stdout()).filter((l) => 'signal' in l);
      t.equal(sigs[0]?.signal, 12, 'the process must receive signal 12 (SIGUSR2)');
    },
  },
  {
    name: 'lifecycle/kill-created',
    section: 'runtime.md#kill',
    spec: 'kill is allowed on a created container; when the process is stopped the status MUST be stopped',
    async run(t) {
      const c = await t.create(t.bundle(['echo:ran', 'sleep']));
      t.ok(await c.kill('KILL'), 'kill KILL of a created container');
      await c.waitStatus('stopped');
      t.check(!c.stdout().includes('ran'), 'the user program must not have run');
    },
  },
  {
    name: 'lifecycle/kill-stopped-errors',
    section: 'runtime.md#kill',
    spec: 'Attempting to send a signal to a container that is neither created nor running MUST have no effect on the container and MUST generate an error',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:0']));
      await c.waitStatus('stopped');
      t.errors(await c.kill('KILL'), 'kill of a stopped container');
      t.equal((await c.state())?.status, 'stopped', 'status after kill of a stopped container');
    },
  },
  {
    name: 'lifecycle/kill-unknown-errors',
    section: 'runtime.md#kill',
    spec: 'kill of a container that does not exist generates an error',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['kill', t.newId('none'), 'KILL']), 'kill of an unknown container');
    },
  },
  {
    name: 'lifecycle/kill-no-id-errors',
    section: 'runtime.md#kill',
    spec: 'kill operation MUST generate an error if it is not provided the container ID',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['kill']), 'kill without an id');
    },
  },
  {
    name: 'lifecycle/kill-stops-running',
    section: 'runtime.md#kill',
    spec: 'When the process in the container is stopped, irrespective of it being as a result of a kill operation or any other reason, the status property MUST be stopped',
    async run(t) {
      const c = await t.startContainer(t.bundle(['sleep']));
      await c.waitStatus('running');
      t.ok(await c.kill('KILL'), 'kill KILL');
      await c.waitStatus('stopped');
    },
  },
  {
    name: 'lifecycle/process-exit-stops-container',
    section: 'runtime.md#lifecycle',
    spec: 'The container process exits (step 10): status becomes stopped; the subreaper collects the exit status',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:7']));
      const pid = c.pid();
      await c.waitStatus('stopped');
      const st = await c.exitStatus(pid);
      t.equal(st, { code: 7, signal: null }, 'exit status of the init as collected by the subreaper');
    },
  },
  {
    name: 'lifecycle/delete-stopped',
    section: 'runtime.md#delete',
    spec: 'Deleting a container MUST delete the resources that were created during the create step',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:0']));
      await c.waitStatus('stopped');
      t.ok(await c.delete(), 'delete of a stopped container');
      t.errors(await t.rt.call(['state', c.id]), 'state after delete');
      t.check(!existsSync(join(t.env.root, c.id)), `state dir ${join(t.env.root, c.id)} must be gone after delete`);
      for (const [ctrl, mount] of t.host.cgroupV1) {
        const dir = join(mount, t.cgroupsPath(c.id));
        t.check(!existsSync(dir), `cgroup ${ctrl} ${dir} must be gone after delete`);
      }
      if (t.host.cgroupV2) {
        const dir = join(t.host.cgroupV2, t.cgroupsPath(c.id));
        t.check(!existsSync(dir), `cgroup2 ${dir} must be gone after delete`);
      }
    },
  },
  {
    name: 'lifecycle/delete-running-errors',
    section: 'runtime.md#delete',
    spec: 'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error',
    async run(t) {
      const c = await t.startContainer(t.bundle(['sleep']));
      const before = await c.waitStatus('running');
      t.errors(await c.delete(), 'delete of a running container');
      await unchanged(t, c, before, 'delete of a running container');
      const ps = procStat(before.pid ?? -1);
      t.check(ps && ps.state !== 'Z', 'the process must still run after the refused delete');
    },
  },
  {
    name: 'lifecycle/delete-created-errors',
    section: 'runtime.md#delete',
    spec: 'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error',
    deviations: {
      runc: {
        spec: 'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error',
        behaviour: 'runc delete (without --force) of a created container kills and deletes it, exit 0',
      },
      hako: {
        spec: 'Attempting to delete a container that is not stopped MUST have no effect on the container and MUST generate an error',
        behaviour: 'hako does as runc and crun: delete of a created container kills and deletes it, because containerd relies on it',
      },
    },
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      const before = t.must(await c.state(), 'state after create');
      t.errors(await c.delete(), 'delete of a created container');
      await unchanged(t, c, before, 'delete of a created container');
    },
  },
  {
    name: 'lifecycle/delete-unknown-errors',
    section: 'runtime.md#delete',
    spec: 'Attempting to delete a container that does not exist MUST generate an error',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['delete', t.newId('none')]), 'delete of an unknown container');
    },
  },
  {
    name: 'lifecycle/delete-no-id-errors',
    section: 'runtime.md#delete',
    spec: 'delete operation MUST generate an error if it is not provided the container ID',
    async run(t) {
      await t.control();
      t.errors(await t.rt.call(['delete']), 'delete without an id');
    },
  },
  {
    name: 'lifecycle/id-reusable-after-delete',
    section: 'runtime.md#delete',
    spec: 'Once a container is deleted its ID MAY be used by a subsequent container (runc-compatible runtimes allow it)',
    async run(t) {
      const c = await t.startContainer(t.bundle(['exit:0']));
      await c.waitStatus('stopped');
      t.ok(await c.delete(), 'delete');
      const again = await t.create(t.bundle(['sleep']), { id: c.id });
      t.equal((await again.state())?.status, 'created', 'status of the new container with the reused id');
    },
  },
  {
    name: 'lifecycle/delete-keeps-foreign-resources',
    section: 'runtime.md#delete',
    spec: 'Note that resources associated with the container, but not created by this container, MUST NOT be deleted',
    async run(t) {
      const shared = join(t.dir, 'shared');
      writeFileSync(join(t.dir, 'marker'), 'x');
      const b = t.bundle(['exit:0'], (s) => {
        s.mounts?.push({ destination: '/shared', type: 'bind', source: shared, options: ['bind'] });
      });
      (await import('node:fs')).mkdirSync(shared);
      writeFileSync(join(shared, 'keep'), 'keep');
      const c = await t.startContainer(b);
      await c.waitStatus('stopped');
      t.ok(await c.delete(), 'delete');
      t.check(existsSync(join(shared, 'keep')), 'a bind-mount source and its files must survive delete');
      t.check(existsSync(b.rootfs) && existsSync(join(b.rootfs, 'bin/probe')), 'the rootfs must survive delete');
      t.check(existsSync(join(b.dir, 'config.json')), 'the bundle config must survive delete');
    },
  },
  {
    name: 'lifecycle/failed-create-leaves-nothing',
    section: 'runtime.md#errors',
    spec: 'Unless otherwise stated, generating an error MUST leave the state of the environment as if the operation were never attempted',
    async run(t) {
      await t.control();
      const b = t.bundle(['sleep'], (s, d) => {
        s.mounts?.push({ destination: '/missing', type: 'bind', source: join(d.dir, 'does-not-exist'), options: ['bind'] });
      });
      const c = await t.tryCreate(b);
      t.errors(c.createResult!, 'create with a bind mount of a missing source');
      t.errors(await t.rt.call(['state', c.id]), 'state of the container whose create failed');
      t.check(!existsSync(join(t.env.root, c.id)), 'no state dir may remain after a failed create');
      for (const [ctrl, mount] of t.host.cgroupV1) {
        t.check(!existsSync(join(mount, t.cgroupsPath(c.id))), `no ${ctrl} cgroup may remain after a failed create`);
      }
      const text = c.pidFileText();
      if (text && /^\d+$/.test(text)) {
        const ps = procStat(Number(text));
        t.check(!ps || ps.state === 'Z', 'no process may remain after a failed create');
      }
    },
  },
];
