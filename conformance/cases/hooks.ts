// config.md#posix-platform-hooks and the hook steps of runtime.md#lifecycle. Every hook is the probe in
// `hook` mode: it appends {hook, argv, stdin, env, ns} to a log, so order, input and namespace are visible.
import { mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, Container } from '../lib/case.ts';
import { sleep } from '../lib/case.ts';
import { jsonLines, readText } from '../lib/probe.ts';
import type { Hook, Spec } from '../lib/spec.ts';

interface HookRecord {
  hook: string;
  argv: string[];
  stdin: string;
  env: string[];
  ns: Record<string, string>;
  parentMnt: string;
}

const LOG_IN_CONTAINER = '/hooklog/hooks.jsonl';

/** The hook log dir (bind-mounted at /hooklog so startContainer hooks, run inside, can write to it). */
function hookLog(t: CaseContext): { dir: string; file: string } {
  const dir = join(t.dir, 'hooklog');
  mkdirSync(dir, { recursive: true });
  return { dir, file: join(dir, 'hooks.jsonl') };
}

function records(file: string): HookRecord[] {
  return jsonLines(readText(file)) as unknown as HookRecord[];
}

/** Adds the bind mount of the hook log and returns a hook factory for each kind. */
function withHooks(t: CaseContext, s: Spec, hooks: Spec['hooks']): void {
  const { dir } = hookLog(t);
  s.mounts?.push({ destination: '/hooklog', type: 'bind', source: dir, options: ['bind'] });
  s.hooks = hooks;
}

function hostHook(t: CaseContext, name: string, actions: string[] = [], extra: Partial<Hook> = {}): Hook {
  return t.hook(name, hookLog(t).file, actions, extra);
}

/** startContainer hooks run in the container: the path resolves there, and so does the log. */
function containerHook(name: string, actions: string[] = []): Hook {
  return { path: '/bin/probe', args: ['probe', 'hook', name, LOG_IN_CONTAINER, ...actions] };
}

/** One hook of every kind, each named after its kind (startContainer runs in the container). */
function oneOfEach(t: CaseContext): Spec['hooks'] {
  return {
    prestart: [hostHook(t, 'prestart')],
    createRuntime: [hostHook(t, 'createRuntime')],
    createContainer: [hostHook(t, 'createContainer')],
    startContainer: [containerHook('startContainer')],
    poststart: [hostHook(t, 'poststart')],
    poststop: [hostHook(t, 'poststop')],
  };
}

function parseState(t: CaseContext, r: HookRecord): Record<string, unknown> | undefined {
  try {
    return JSON.parse(r.stdin) as Record<string, unknown>;
  } catch {
    t.check(false, `${r.hook}: stdin must be the state JSON, got ${JSON.stringify(r.stdin.slice(0, 200))}`);
    return undefined;
  }
}

async function waitRecords(file: string, n: number, timeoutMs = 3000): Promise<HookRecord[]> {
  const end = Date.now() + timeoutMs;
  while (records(file).length < n && Date.now() < end) await sleep(20);
  return records(file);
}

/** A hook of `kind` that fails during create: create errors and leaves no container (runtime.md, lifecycle). */
function failingCreateHookCase(kind: 'prestart' | 'createContainer', name: string): Case {
  return {
    name,
    section: 'runtime.md#lifecycle',
    spec: `If any ${kind} hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12 (destroy)`,
    async run(t) {
      await t.control();
      const b = t.bundle(['echo:user-program-ran', 'sleep'], (s) => {
        withHooks(t, s, { [kind]: [hostHook(t, kind, ['exit:1'])] });
      });
      const c = await t.tryCreate(b);
      t.errors(c.createResult!, `create with a failing ${kind} hook`);
      await noContainer(t, c);
    },
  };
}

export const hookCases: Case[] = [
  {
    name: 'hooks/create-order',
    section: 'config.md#posix-platform-hooks',
    spec: 'Hooks MUST be called in the listed order; prestart before createRuntime, createContainer after createRuntime, all as part of create',
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle(['sleep'], (s) => {
        withHooks(t, s, {
          prestart: [hostHook(t, 'prestart')],
          createRuntime: [hostHook(t, 'createRuntime-1'), hostHook(t, 'createRuntime-2')],
          createContainer: [hostHook(t, 'createContainer-1'), hostHook(t, 'createContainer-2')],
          startContainer: [containerHook('startContainer')],
        });
      });
      await t.create(b);
      const hooks = records(log).map((r) => r.hook);
      t.equal(hooks, ['prestart', 'createRuntime-1', 'createRuntime-2', 'createContainer-1', 'createContainer-2'], 'hooks run by create, in order');
    },
  },
  {
    name: 'hooks/start-container-before-process',
    section: 'config.md#posix-platform-hooks',
    spec: 'The startContainer hooks MUST be called before the user-specified process is executed as part of the start operation',
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle([], (s) => {
        withHooks(t, s, { startContainer: [containerHook('startContainer-1'), containerHook('startContainer-2')] });
        // The user process logs itself to the same file (the probe in hook mode, then it sleeps).
        s.process!.args = ['/bin/probe', 'hook', 'user-process', LOG_IN_CONTAINER, 'sleep:60000'];
      });
      const c = await t.create(b);
      t.equal(records(log).map((r) => r.hook), [], 'no startContainer hook may run during create');
      t.ok(await c.start(), 'start');
      const hooks = (await waitRecords(log, 3)).map((r) => r.hook);
      t.equal(hooks, ['startContainer-1', 'startContainer-2', 'user-process'], 'startContainer hooks in order, then the user process');
    },
  },
  {
    name: 'hooks/poststart-during-start',
    section: 'config.md#posix-platform-hooks',
    spec: 'The poststart hooks MUST be called after the user-specified process is executed but before the start operation returns',
    deviations: {
      runc: {
        spec: 'The poststart hooks MUST be called after the user-specified process is executed but before the start operation returns',
        behaviour: 'runc 1.1.5 runs poststart hooks during create (status "created"), before the user process runs',
      },
    },
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle(['sleep'], (s) => {
        withHooks(t, s, { poststart: [hostHook(t, 'poststart-1'), hostHook(t, 'poststart-2')] });
      });
      const c = await t.create(b);
      t.equal(records(log).map((r) => r.hook), [], 'no poststart hook may run during create');
      t.ok(await c.start(), 'start');
      const recs = records(log);
      t.equal(recs.map((r) => r.hook), ['poststart-1', 'poststart-2'], 'poststart hooks run by start, in order, before it returns');
      const st = recs[0] ? parseState(t, recs[0]) : undefined;
      t.equal(st?.status, 'running', 'poststart hooks see status running');
    },
  },
  {
    name: 'hooks/poststop-during-delete',
    section: 'config.md#posix-platform-hooks',
    spec: 'The poststop hooks MUST be called after the container is deleted but before the delete operation returns',
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle(['exit:0'], (s) => {
        withHooks(t, s, { poststop: [hostHook(t, 'poststop-1'), hostHook(t, 'poststop-2')] });
      });
      const c = await t.startContainer(b);
      await c.waitStatus('stopped');
      t.equal(records(log).map((r) => r.hook), [], 'no poststop hook may run before delete');
      t.ok(await c.delete(), 'delete');
      t.equal(records(log).map((r) => r.hook), ['poststop-1', 'poststop-2'], 'poststop hooks run by delete, in order, before it returns');
    },
  },
  {
    name: 'hooks/state-on-stdin',
    section: 'config.md#posix-platform-hooks',
    spec: 'The state of the container MUST be passed to hooks over stdin',
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle(['sleep'], (s) => {
        withHooks(t, s, oneOfEach(t));
        s.annotations = { 'org.example.hook-test': 'yes' };
      });
      const c = await t.startContainer(b);
      t.ok(await c.delete(true), 'delete --force');
      const all = records(log);
      t.equal(all.map((r) => r.hook).sort(), ['createContainer', 'createRuntime', 'poststart', 'poststop', 'prestart', 'startContainer'], 'every hook ran');
      const statuses: Record<string, unknown> = {};
      for (const r of all) {
        const st = parseState(t, r);
        if (!st) continue;
        statuses[r.hook] = st.status;
        t.equal(st.id, c.id, `${r.hook}: state id`);
        t.equal(st.bundle, b.dir, `${r.hook}: state bundle`);
        t.check(typeof st.ociVersion === 'string', `${r.hook}: state ociVersion`);
        t.equal((st.annotations as Record<string, string> | undefined)?.['org.example.hook-test'], 'yes', `${r.hook}: state annotations`);
        // pid is REQUIRED on Linux when status is created or running.
        if (st.status === 'created' || st.status === 'running') {
          t.check(Number.isInteger(st.pid) && (st.pid as number) > 0, `${r.hook}: state pid must be set with status ${String(st.status)}, got ${JSON.stringify(st.pid)}`);
        }
      }
      t.observe('hook.statuses', statuses);
    },
  },
  {
    name: 'hooks/namespaces',
    section: 'config.md#posix-platform-hooks',
    spec: 'prestart, createRuntime, poststart, poststop hooks MUST be executed in the runtime namespace; createContainer and startContainer hooks MUST be executed in the container namespace',
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle(['sleep'], (s) => {
        withHooks(t, s, oneOfEach(t));
      });
      const c = await t.create(b);
      const initMnt = readlinkSync(`/proc/${c.pid()}/ns/mnt`);
      const hostMnt = readlinkSync('/proc/self/ns/mnt');
      t.ok(await c.start(), 'start');
      t.ok(await c.delete(true), 'delete --force');
      const byHook = new Map(records(log).map((r) => [r.hook, r]));
      // The runtime namespace is the one the runtime itself runs in (the hook's parent): the caller's,
      // unless the runtime binary is a wrapper that unshares (e.g. crun-nohybrid).
      const sameAsCaller: Record<string, boolean> = {};
      for (const h of ['prestart', 'createRuntime', 'poststart', 'poststop']) {
        const r = byHook.get(h);
        t.check(r, `${h} must run`);
        if (!r) continue;
        t.equal(r.ns.mnt, r.parentMnt, `${h} must run in the runtime mount namespace (its parent's)`);
        t.check(r.ns.mnt !== initMnt, `${h} must not run in the container mount namespace`);
        sameAsCaller[h] = r.ns.mnt === hostMnt;
      }
      t.observe('runtime-hooks.in-caller-mnt-ns', sameAsCaller);
      for (const h of ['createContainer', 'startContainer']) {
        t.equal(byHook.get(h)?.ns.mnt, initMnt, `${h} must run in the container mount namespace`);
      }
    },
  },
  {
    name: 'hooks/args-and-env',
    section: 'config.md#posix-platform-hooks',
    spec: 'args with the same semantics as execv argv; env with the same semantics as environ',
    async run(t) {
      const log = hookLog(t).file;
      const env = ['HOOK_ONE=1', 'HOOK_TWO=two words'];
      const b = t.bundle(['sleep'], (s) => {
        withHooks(t, s, { createRuntime: [hostHook(t, 'createRuntime', ['extra-arg'], { env })] });
      });
      await t.create(b);
      const r = t.must(records(log)[0], 'the createRuntime hook must run');
      t.equal(r.argv, ['probe', 'hook', 'createRuntime', log, 'extra-arg'], 'hook argv (args as given, argv[0] included)');
      t.equal([...r.env].sort(), [...env].sort(), 'hook environment must be exactly env');
    },
  },
  failingCreateHookCase('prestart', 'hooks/prestart-failure'),
  {
    name: 'hooks/create-runtime-failure',
    section: 'runtime.md#lifecycle',
    spec: 'If any createRuntime hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12 (destroy)',
    async run(t) {
      await t.control();
      const log = hookLog(t).file;
      const b = t.bundle(['echo:user-program-ran', 'sleep'], (s) => {
        withHooks(t, s, {
          createRuntime: [hostHook(t, 'createRuntime-fails', ['exit:3']), hostHook(t, 'createRuntime-after')],
          poststop: [hostHook(t, 'poststop')],
        });
      });
      const c = await t.tryCreate(b);
      t.errors(c.createResult!, 'create with a failing createRuntime hook');
      const hooks = records(log).map((r) => r.hook);
      t.check(!hooks.includes('createRuntime-after'), `no hook may run after the failing one: ${JSON.stringify(hooks)}`);
      t.observe('hooks.after-failure', hooks);
      await noContainer(t, c);
    },
  },
  failingCreateHookCase('createContainer', 'hooks/create-container-failure'),
  {
    name: 'hooks/start-container-failure',
    section: 'runtime.md#lifecycle',
    spec: 'If any startContainer hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12',
    deviations: {
      runc: {
        spec: 'If any startContainer hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12',
        behaviour: 'runc 1.1.5 start exits 0: the hook runs in the container init, which fails and exits without running the program',
      },
    },
    async run(t) {
      const b = t.bundle(['echo:user-program-ran', 'sleep'], (s) => {
        withHooks(t, s, { startContainer: [containerHook('startContainer', ['exit:1'])] });
      });
      const c = await t.create(b);
      t.errors(await c.start(), 'start with a failing startContainer hook');
      await sleep(200);
      t.check(!c.stdout().includes('user-program-ran'), 'the user program must not run after a failing startContainer hook');
      const st = await c.state();
      t.observe('status.after-failed-start', st?.status ?? 'gone');
      t.check(st === undefined || st.status === 'stopped', `the container must be stopped (or destroyed), got ${st?.status}`);
    },
  },
  {
    name: 'hooks/poststart-failure-warns',
    section: 'runtime.md#lifecycle',
    spec: 'If any poststart hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded',
    deviations: {
      runc: {
        spec: 'If any poststart hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded',
        behaviour: 'runc 1.1.5 runs poststart hooks during create, and a failing one fails create (the remaining ones do not run)',
      },
    },
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle(['sleep'], (s) => {
        withHooks(t, s, { poststart: [hostHook(t, 'poststart-fails', ['exit:1']), hostHook(t, 'poststart-after')] });
      });
      const c = await t.create(b);
      const r = await c.start();
      t.equal(r.code, 0, 'start must succeed despite the failing poststart hook');
      const hooks = (await waitRecords(log, 2)).map((x) => x.hook);
      t.equal(hooks, ['poststart-fails', 'poststart-after'], 'the remaining poststart hooks must run');
      t.equal((await c.state())?.status, 'running', 'the container keeps running');
    },
  },
  {
    name: 'hooks/poststop-failure-warns',
    section: 'runtime.md#lifecycle',
    spec: 'If any poststop hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded',
    deviations: {
      runc: {
        spec: 'If any poststop hook fails, the runtime MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had succeeded',
        behaviour: 'runc 1.1.5 stops at the first failing poststop hook: the remaining ones do not run',
      },
    },
    async run(t) {
      const log = hookLog(t).file;
      const b = t.bundle(['exit:0'], (s) => {
        withHooks(t, s, { poststop: [hostHook(t, 'poststop-fails', ['exit:1']), hostHook(t, 'poststop-after')] });
      });
      const c = await t.startContainer(b);
      await c.waitStatus('stopped');
      const r = await c.delete();
      t.observe('delete.exit', r.code === 0 ? 0 : 'error');
      t.equal(records(log).map((x) => x.hook), ['poststop-fails', 'poststop-after'], 'the remaining poststop hooks must run');
      t.errors(await t.rt.call(['state', c.id]), 'state after delete (the container is deleted despite the hook)');
    },
  },
  {
    name: 'hooks/timeout',
    section: 'config.md#posix-platform-hooks',
    spec: 'timeout is the number of seconds before aborting the hook (a createRuntime hook that times out fails create)',
    async run(t) {
      await t.control();
      const b = t.bundle(['sleep'], (s) => {
        withHooks(t, s, { createRuntime: [hostHook(t, 'createRuntime-slow', ['sleep:20000'], { timeout: 1 })] });
      });
      const t0 = Date.now();
      const c = await t.tryCreate(b, { timeoutMs: 15_000 });
      const ms = Date.now() - t0;
      t.observe('timeout.create', c.createResult?.code === 0 ? 'succeeded' : 'failed');
      t.errors(c.createResult!, 'create with a hook that outlives its timeout');
      t.check(ms < 10_000, `create must give up on the hook after ~1 s, took ${ms} ms`);
      await noContainer(t, c);
    },
  },
];

/** After a failed create: no state, no running init. */
async function noContainer(t: CaseContext, c: Container): Promise<void> {
  t.errors(await t.rt.call(['state', c.id]), 'state after the failed create');
  await sleep(100);
  t.check(!c.stdout().includes('user-program-ran'), 'the user program must not have run');
}
