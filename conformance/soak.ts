// Reliability run: N container lifecycles with failures injected, then a leak check.
//   npm run soak -- --runtime PATH [--count 1000] [--jobs 2] [--scenario NAME[,NAME…] | concurrency]
// Scenarios, round robin (or only NAME): a full lifecycle (create, start, exec, kill, delete); a process
// that exits at once (the start race); a bad config; the runtime, or its children (hako's executor,
// runc init), SIGKILLed at a random moment of create (then `delete --force`, as a client would; the
// fault-injection yardstick: `--scenario killed-mid-create --count 500`); two concurrent creates
// of one id; an exec that fails. Every iteration checks its own leftovers (state dir, processes, cgroups,
// mounts, via the suite's teardown); the end checks the whole run: mounts, cgroups, state dirs, fds and
// processes. Exit status is non-zero on any leak or unexpected result.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Case, CaseContext, RunEnv, RuntimeKind } from './lib/case.ts';
import { sleep } from './lib/case.ts';
import { cleanUpOnSignals, closeSession, containerFolders, openSession } from './lib/env.ts';
import { hostMounts, orphanChildren, procStat, reapOrphans } from './lib/host.ts';
import { cgroupMounts, runCase } from './lib/runner.ts';
import type { CaseResult } from './lib/runner.ts';
import { describeCall } from './lib/runtime.ts';

/** A leak a runtime is known to have in a scenario: reported, but not failing the run. */
interface KnownLeak {
  pattern: RegExp;
  behaviour: string;
}

/** optIn: not in the default round robin; chosen with --scenario (a name, a list, `concurrency` or `faults`). */
type Scenario = Case & { knownLeaks?: Partial<Record<RuntimeKind, KnownLeak>>; optIn?: 'concurrency' | 'faults' };

const scenarios: Scenario[] = [
  {
    name: 'lifecycle',
    section: 'soak',
    async run(t) {
      const c = await t.startContainer(t.bundle(['pid', 'print', 'sleep']));
      await c.report();
      const e = await t.exec(c.id, [], ['/bin/probe', 'exit:0']);
      t.ok(e, 'exec');
      t.ok(await c.kill('KILL'), 'kill');
      await c.waitStatus('stopped');
      t.ok(await c.delete(), 'delete');
    },
  },
  {
    // A process that exits at once: `start` must succeed whenever the init got the go-ahead, even if it
    // wrote its fifo byte, exec'd and exited before the runtime looked at it again (issue 10's start race).
    //   npm run soak -- --runtime PATH --scenario exit-at-once --count 3000
    name: 'exit-at-once',
    section: 'soak',
    async run(t) {
      const c = await t.create(t.bundle(['exit:0']));
      t.ok(await c.start(), 'start of a process that exits at once');
      await c.waitStatus('stopped');
      t.ok(await c.delete(), 'delete');
    },
  },
  {
    name: 'bad-config',
    section: 'soak',
    async run(t) {
      const c = await t.tryCreate(
        t.bundle(['sleep'], (s, b) => {
          s.mounts!.push({ destination: '/missing', type: 'bind', source: join(b.dir, 'no-such-dir'), options: ['bind'] });
        }),
      );
      t.check(c.createResult?.code !== 0, `create with a bad config must fail: ${describeCall(c.createResult!)}`);
      t.check((await t.rt.call(['state', c.id])).code !== 0, 'no container may exist after the failed create');
    },
  },
  killedCreate('killed-mid-create', 'runtime'),
  killedCreate('executor-killed-mid-create', 'children'),
  killedDuring('killed-mid-start', 'start'),
  killedDuring('killed-mid-exec', 'exec'),
  killedDuring('killed-mid-delete', 'delete'),
  {
    name: 'concurrent-create',
    section: 'soak',
    async run(t) {
      const id = t.newId('dup');
      const [a, b] = await Promise.all([t.tryCreate(t.bundle(['sleep']), { id }), t.tryCreate(t.bundle(['sleep']), { id })]);
      const ok = [a, b].filter((c) => c.createResult?.code === 0).length;
      t.check(ok === 1, `exactly one of two concurrent creates of one id must succeed, got ${ok}`);
      t.ok(await t.rt.call(['delete', '--force', id]), 'delete --force');
    },
  },
  {
    // the concurrency yardstick (issue 8): --scenario concurrency
    name: 'create-20-one-id',
    section: 'soak',
    optIn: 'concurrency',
    async run(t) {
      const id = t.newId('dup20');
      const all = await Promise.all(Array.from({ length: 20 }, () => t.tryCreate(t.bundle(['sleep']), { id })));
      const ok = all.filter((c) => c.createResult?.code === 0).length;
      t.check(ok === 1, `exactly one of 20 concurrent creates of one id must succeed, got ${ok}`);
      t.equal((await t.rt.call(['state', id])).code, 0, 'the winner has a readable state');
      t.ok(await t.rt.call(['delete', '--force', id]), 'delete --force');
    },
  },
  {
    name: 'create-50-delete-50',
    section: 'soak',
    optIn: 'concurrency',
    async run(t) {
      const all = await Promise.all(Array.from({ length: 50 }, () => t.tryCreate(t.bundle(['sleep']))));
      const created = all.filter((c) => c.createResult?.code === 0).length;
      t.equal(created, 50, '50 parallel creates of different ids all succeed');
      const deleted = await Promise.all(all.map((c) => t.rt.call(['delete', '--force', c.id])));
      t.equal(deleted.filter((r) => r.code === 0).length, 50, '50 parallel deletes all succeed');
    },
  },
  {
    name: 'start-delete-race',
    section: 'soak',
    optIn: 'concurrency',
    async run(t) {
      const c = await t.create(t.bundle(['sleep']));
      // either order may win; neither may hang or leave anything (the teardown checks)
      await Promise.all([t.rt.call(['start', c.id]), t.rt.call(['delete', '--force', c.id])]);
      await t.rt.call(['delete', '--force', c.id]);
      t.check((await t.rt.call(['state', c.id])).code !== 0, 'the container is gone');
    },
  },
  {
    name: 'kill-delete-race',
    section: 'soak',
    optIn: 'concurrency',
    async run(t) {
      const c = await t.startContainer(t.bundle(['sleep']));
      await Promise.all([t.rt.call(['kill', c.id, 'KILL']), t.rt.call(['delete', '--force', c.id])]);
      await t.rt.call(['delete', '--force', c.id]);
      t.check((await t.rt.call(['state', c.id])).code !== 0, 'the container is gone');
    },
  },
  {
    name: 'exec-failure',
    section: 'soak',
    async run(t) {
      const c = await t.startContainer(t.bundle(['pid', 'print', 'sleep']));
      await c.report();
      const e = await t.exec(c.id, [], ['/no/such/binary']);
      t.check(e.code !== 0, 'exec of a missing binary must fail');
      t.equal((await c.state())?.status, 'running', 'the container keeps running after a failed exec');
      t.ok(await c.delete(true), 'delete --force');
    },
  },
];

/**
 * The moments faults are injected at: uniform over [0, KILL_WINDOW_MS) after `create` is spawned,
 * which covers the whole of a create on the project's VM (node's start ~30 ms, hako's create
 * ~100-170 ms, runc's ~40 ms; a kill after the create finished is a delete --force of a created container).
 */
const KILL_WINDOW_MS = 200;

/** Faults injected into `create`, by moment: how many runs killed something, and what was left. */
export const faultStats = new Map<string, { killed: number; missed: number; delays: number[] }>();

/** How long after the runtime's first child appears its children are killed: uniform over [0, this). */
const CHILD_WINDOW_MS = 25;

/** Direct children of `pid` (hako: its executor, a hook; runc: runc init), from every thread's list. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ')) if (c) out.push(Number(c));
    }
  } catch {
    // the runtime is gone
  }
  return out;
}

/** Polls (1 ms) until `pid` has a child or has exited; true when a child appeared. */
async function firstChild(pid: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (!done() && Date.now() < deadline) {
    if (childrenOf(pid).length > 0) return true;
    await sleep(1);
  }
  return false;
}

/**
 * The runtime (`runtime`) or its children (`children`: hako's executor, runc's `runc init`)
 * SIGKILLed at a random moment of create; then what a client does when its create call died:
 * `delete --force`, which must succeed (or say "does not exist") and leave nothing (the runner's
 * teardown counts state folders, cgroup directories, mounts and processes).
 */
function killedCreate(name: string, victim: 'runtime' | 'children'): Scenario {
  return {
    name,
    section: 'soak',
    knownLeaks: {
      runc: {
        pattern: /^leak: cgroup /,
        behaviour:
          'runc 1.1.5 SIGKILLed between creating the cgroups and writing state.json leaves the cgroup dirs: delete --force only removes the state dir',
      },
    },
    async run(t) {
      const b = t.bundle(['sleep']);
      const id = t.newId('k');
      b.spec.linux!.cgroupsPath = t.cgroupsPath(id);
      b.write();
      const call = t.rt.start(['create', '--bundle', b.dir, '--pid-file', join(b.dir, 'pid'), id], { stdin: 'ignore' });
      let finished = false;
      void call.done.then(() => (finished = true));
      // The runtime: anywhere in create. Its children live a few ms only: anywhere in their life.
      const t0 = Date.now();
      if (victim === 'children' && call.pid !== undefined) await firstChild(call.pid, () => finished);
      await sleep(Math.floor(Math.random() * (victim === 'runtime' ? KILL_WINDOW_MS : CHILD_WINDOW_MS)));
      const delay = Date.now() - t0;
      const st = faultStats.get(name) ?? { killed: 0, missed: 0, delays: [] };
      faultStats.set(name, st);
      let hit = false;
      if (victim === 'runtime') {
        hit = call.pid !== undefined && procStat(call.pid) !== undefined && procStat(call.pid)!.state !== 'Z';
        call.kill('SIGKILL');
      } else if (call.pid !== undefined) {
        for (const child of childrenOf(call.pid)) {
          try {
            process.kill(child, 'SIGKILL');
            hit = true;
          } catch {
            // gone meanwhile
          }
        }
      }
      if (hit) {
        st.killed++;
        st.delays.push(delay);
      } else {
        st.missed++;
      }
      const created = await call.done;
      t.check(!created.timedOut, `create must never hang after a fault: ${describeCall(created)}`);
      const d = await t.rt.call(['delete', '--force', id]);
      t.check(d.code === 0 || /does not exist/.test(d.stderr), `delete --force after a fault in create: ${describeCall(d)}`);
      t.check((await t.rt.call(['state', id])).code !== 0, 'no container may exist after delete --force');
    },
  };
}

/**
 * The runtime SIGKILLed at a random moment of `start`, `exec` or `delete` of a container; then what a
 * client does: `delete --force`, which must work and leave nothing (the teardown checks).
 */
function killedDuring(name: string, command: 'start' | 'exec' | 'delete'): Scenario {
  return {
    name,
    section: 'soak',
    optIn: 'faults',
    async run(t) {
      const b = t.bundle(['sleep']);
      const c = command === 'start' ? await t.create(b) : await t.startContainer(b);
      const args = command === 'exec' ? ['exec', '--detach', c.id, '/bin/probe', 'sleep'] : command === 'delete' ? ['delete', '--force', c.id] : ['start', c.id];
      const call = t.rt.start(args, { stdin: 'ignore' });
      await sleep(Math.floor(Math.random() * KILL_WINDOW_MS));
      const st = faultStats.get(name) ?? { killed: 0, missed: 0, delays: [] };
      faultStats.set(name, st);
      const alive = call.pid !== undefined && procStat(call.pid) !== undefined && procStat(call.pid)!.state !== 'Z';
      call.kill('SIGKILL');
      if (alive) st.killed++;
      else st.missed++;
      const r = await call.done;
      t.check(!r.timedOut, `${command} must never hang: ${describeCall(r)}`);
      const d = await t.rt.call(['delete', '--force', c.id]);
      t.check(d.code === 0 || /does not exist/.test(d.stderr), `delete --force after ${command} was killed: ${describeCall(d)}`);
      t.check((await t.rt.call(['state', c.id])).code !== 0, 'no container may exist after delete --force');
    },
  };
}

function countFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** What the whole run left behind after every iteration cleaned up. */
function globalLeaks(env: RunEnv, runDir: string): string[] {
  const leaks: string[] = [];
  for (const m of hostMounts()) if (m.mountPoint.startsWith(runDir)) leaks.push(`mount ${m.mountPoint}`);
  for (const mount of cgroupMounts(env)) {
    try {
      for (const e of readdirSync(join(mount, env.cgroupParent), { withFileTypes: true })) {
        if (e.isDirectory()) leaks.push(`cgroup ${join(mount, env.cgroupParent, e.name)}`);
      }
    } catch {
      // the parent was never created or is gone: fine
    }
  }
  try {
    for (const e of containerFolders(env.root)) leaks.push(`state ${join(env.root, e)}`);
  } catch {
    // no root
  }
  reapOrphans();
  for (const p of orphanChildren()) if (p.state !== 'Z') leaks.push(`process ${p.pid} (${p.comm})`);
  return leaks;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runtime: { type: 'string' },
      count: { type: 'string', default: '1000' },
      jobs: { type: 'string', default: '2' },
      scenario: { type: 'string' },
    },
  });
  if (!values.runtime) {
    console.error('usage: npm run soak -- --runtime PATH [--count N] [--jobs N] [--scenario NAME[,NAME…] | concurrency]');
    return 2;
  }
  const wanted = values.scenario?.split(',');
  const chosen = wanted === undefined ? scenarios.filter((s) => !s.optIn) : scenarios.filter((s) => wanted.includes(s.name) || (s.optIn !== undefined && wanted.includes(s.optIn)));
  if (chosen.length === 0) {
    console.error(`soak: no scenario named ${values.scenario}: ${scenarios.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const count = Math.max(1, Number(values.count) || 1000);
  const jobs = Math.max(1, Number(values.jobs) || 2);
  cleanUpOnSignals();
  const session = await openSession([values.runtime], 'conformance-soak');
  const env = session.envs[0] as RunEnv;
  const stats = new Map<string, { runs: number; unexpected: number; leaks: number; known: number }>(
    chosen.map((s) => [s.name, { runs: 0, unexpected: 0, leaks: 0, known: 0 }]),
  );
  const problems: string[] = [];
  let globals: string[] = [];
  const t0 = Date.now();
  try {
    // One warm-up lifecycle so lazily opened fds (koffi, libc) are counted in the baseline.
    await runCase(env, scenarios[0] as Case, 0);
    const fdsBefore = countFds();
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const i = next++;
        const sc = chosen[i % chosen.length] as Scenario;
        const r: CaseResult = await runCase(env, sc, i + 1);
        const st = stats.get(sc.name)!;
        st.runs++;
        const known = sc.knownLeaks?.[env.kind];
        const allLeaks = r.failures.filter((f) => f.startsWith('leak: '));
        const leaks = allLeaks.filter((f) => !known?.pattern.test(f));
        const other = r.failures.filter((f) => !f.startsWith('leak: '));
        if (leaks.length) st.leaks++;
        else if (allLeaks.length) st.known++;
        if (other.length) st.unexpected++;
        for (const f of [...leaks, ...other].slice(0, 3)) if (problems.length < 50) problems.push(`#${i + 1} ${sc.name}: ${f}`);
        if (++done % 50 === 0) {
          const bad = [...stats.values()].reduce((a, s) => a + s.unexpected + s.leaks, 0);
          process.stderr.write(`soak: ${done}/${count} (${Math.round((Date.now() - t0) / 1000)} s), ${bad} unexpected or leaking so far\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));
    await sleep(200);
    globals = globalLeaks(env, session.runDir);
    const fdsAfter = countFds();
    if (fdsAfter > fdsBefore) globals.push(`fds: ${fdsBefore} open before the iterations, ${fdsAfter} after`);
  } finally {
    const left = await closeSession(session);
    for (const l of left) if (!globals.includes(l)) globals.push(`removed at close: ${l}`);
  }
  console.log(`runtime: ${env.bin}`);
  console.log('scenario            runs  unexpected  leaked  known-leak');
  for (const [name, s] of stats) {
    console.log(`${name.padEnd(18)}  ${String(s.runs).padStart(4)}  ${String(s.unexpected).padStart(10)}  ${String(s.leaks).padStart(6)}  ${String(s.known).padStart(10)}`);
  }
  for (const sc of chosen) {
    const k = sc.knownLeaks?.[env.kind];
    if (k && (stats.get(sc.name)?.known ?? 0) > 0) console.log(`known runtime leak (${sc.name}, not counted): ${k.behaviour}`);
  }
  for (const [name, f] of faultStats) {
    const d = f.delays.sort((a, b) => a - b);
    const spread = d.length ? `, at ${d[0]}-${d[d.length - 1]} ms after spawn (median ${d[Math.floor(d.length / 2)]})` : '';
    console.log(`faults (${name}): ${f.killed} SIGKILLs while it ran${spread}, ${f.missed} runs with nothing to kill at that moment`);
  }
  for (const p of problems) console.log(`problem: ${p}`);
  for (const g of globals) console.log(`leak at the end: ${g}`);
  const unexpected = [...stats.values()].reduce((a, s) => a + s.unexpected, 0);
  const leaked = [...stats.values()].reduce((a, s) => a + s.leaks, 0) + globals.length;
  console.log(`soak: ${count} iterations in ${Math.round((Date.now() - t0) / 1000)} s, ${unexpected} unexpected, ${leaked} leaks`);
  return unexpected > 0 || leaked > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(2);
  },
);

export type { CaseContext };
