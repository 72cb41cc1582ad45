// Container lifecycle cost of hako against runc and crun, side by side, as ratios.
//   npm run bench:lifecycle -- [--runs N] [--also NAME=PATH ...]
// --also adds another runc-compatible binary beside hako, runc and crun (another hako build, a
// baseline checkout's bin/hako: before/after figures in one run).
// crun 1.8.1 refuses hybrid cgroup hosts, so the whole benchmark re-executes itself in a private
// mount namespace with /sys/fs/cgroup/unified detached: all three runtimes then see the same
// (pure v1) host. The host's mount table is not changed.
//
// Measured: `run` of `true` (foreground, deleted after), create + start + delete of `true`, `state`
// of a missing id (a call that does nothing but start: beside an empty node too), and the RSS of
// the init waiting after `create` (VmRSS of the pid in the pid file). hako is bin/hako without a
// daemon (HAKO_NO_DAEMON=1: the cold path, one node start per call). The ratios issue 12 aims at
// are printed last.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, callQuietly, elapsedMs, interleave, median, table, trueBundle, type BenchCase } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

if (!process.argv.includes('--inner')) {
  const r = spawnSync(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"', process.execPath, ...process.execArgv, ...process.argv.slice(1), '--inner'],
    { stdio: 'inherit', env: benchEnv() },
  );
  process.exit(r.status ?? 1);
}

interface Runtime {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
}
const findBinary = (paths: string[]) => paths.find((p) => existsSync(p));
const runtimes: Runtime[] = [{ name: 'hako', argv: [join(repo, 'bin/hako')], env: { HAKO_NO_DAEMON: '1' } }];
process.argv.forEach((a, i) => {
  const also = a === '--also' ? /^([\w.-]+)=(.+)$/.exec(process.argv[i + 1] ?? '') : null;
  if (a === '--also' && !also) throw new Error('--also NAME=PATH');
  if (also) runtimes.push({ name: also[1]!, argv: [also[2]!], env: { HAKO_NO_DAEMON: '1' } });
});
for (const [name, paths] of [['runc', ['/usr/sbin/runc', '/usr/bin/runc']], ['crun', ['/usr/bin/crun', '/usr/sbin/crun']]] as const) {
  const bin = findBinary([...paths]);
  if (bin) runtimes.push({ name, argv: [bin] });
}

const work = mkdtempSync(join(tmpdir(), 'hako-bench-lifecycle-'));
// The same busybox rootfs and default spec as `hako demo`; crun 1.8.1 refuses ociVersion 1.3.0 and
// nothing in this config needs more than 1.0.2.
const { bundle } = trueBundle(work, (spec) => (spec.ociVersion = '1.0.2'));

let seq = 0;
// The runtime's stdio becomes the container's: a pipe would be held open by the container, so
// stderr goes to a file, read back only when a call fails.
const errFile = join(work, 'stderr');
const call = (rt: Runtime, root: string, args: string[]) =>
  callQuietly(`${rt.name} ${args.join(' ')}`, [...rt.argv, '--root', root, ...args], { ...benchEnv(), ...rt.env }, errFile);
const elapsed = elapsedMs;

const cases: BenchCase[] = [];
const rss: Record<string, number> = {};
// The floor under every hako call: node starting and exiting.
cases.push({ name: 'node -e 0 (empty node) state', run: () => elapsed(() => spawnSync(process.execPath, ['-e', '0'], { env: benchEnv(), stdio: 'ignore' })) });
try {
  for (const rt of runtimes) {
    const root = join('/run', `hako-bench-${rt.name}-${process.pid}`);
    cases.push({
      name: `${rt.name} run`,
      run: () => {
        const id = `hako-bench-${rt.name}-${seq++}`;
        return elapsed(() => call(rt, root, ['run', '--bundle', bundle, id]));
      },
    });
    cases.push({
      name: `${rt.name} create+start+delete`,
      run: () => {
        const id = `hako-bench-${rt.name}-${seq++}`;
        return elapsed(() => {
          call(rt, root, ['create', '--bundle', bundle, id]);
          call(rt, root, ['start', id]);
          call(rt, root, ['delete', '--force', id]);
        });
      },
    });
    cases.push({
      name: `${rt.name} state`,
      run: () =>
        elapsed(() => {
          // a missing id: exit status 1 and one line on stderr, from every runtime
          const r = spawnSync(rt.argv[0]!, [...rt.argv.slice(1), '--root', root, 'state', 'hako-bench-missing'], { env: { ...benchEnv(), ...rt.env }, stdio: 'ignore' });
          if (r.status !== 1) throw new Error(`${rt.name} state of a missing id: exit ${r.status}`);
        }),
    });
    // RSS of the init blocked on the exec fifo
    const id = `hako-bench-${rt.name}-rss-${process.pid}`;
    const pidFile = join(work, `${rt.name}.pid`);
    call(rt, root, ['create', '--bundle', bundle, '--pid-file', pidFile, id]);
    const status = readFileSync(`/proc/${readFileSync(pidFile, 'utf8').trim()}/status`, 'utf8');
    rss[rt.name] = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
    call(rt, root, ['delete', '--force', id]);
  }
  const samples = interleave(cases, runs);
  console.log(`lifecycle of \`true\`, ${runs} interleaved runs each, private mount ns without cgroup2, ${new Date().toISOString()}`);
  for (const kind of ['run', 'create+start+delete']) {
    const part = Object.fromEntries(Object.entries(samples).filter(([k]) => k.endsWith(` ${kind}`)));
    console.log(`\n${table(part, `runc ${kind}`)}`);
  }
  const states = Object.fromEntries(Object.entries(samples).filter(([k]) => k.endsWith(' state')));
  console.log(`\n${table(states, 'node -e 0 (empty node) state')}`);
  const ratio = (a: string, b: string) => (median(samples[a]!) / median(samples[b]!)).toFixed(2);
  if (samples['runc run']) {
    console.log(
      `\ngoals (issue 12): run ${ratio('hako run', 'runc run')}x runc (goal <= 1.8x), create+start+delete ${ratio('hako create+start+delete', 'runc create+start+delete')}x runc (<= 2.5x), ` +
        `state of a missing id ${ratio('hako state', 'node -e 0 (empty node) state')}x an empty node (<= 1.2x; runc ${ratio('runc state', 'node -e 0 (empty node) state')}x)`,
    );
  }
  console.log('\n| runtime | RSS of the init waiting after create |\n|---|---|');
  for (const [name, mib] of Object.entries(rss)) console.log(`| ${name} | ${mib.toFixed(2)} MiB |`);
} finally {
  for (const rt of runtimes) {
    const root = join('/run', `hako-bench-${rt.name}-${process.pid}`);
    // Whatever a failed run left: delete it through the runtime that made it, then the root.
    const left = existsSync(root) ? spawnSync(rt.argv[0]!, [...rt.argv.slice(1), '--root', root, 'list', '-q'], { encoding: 'utf8' }).stdout : '';
    for (const id of left.split('\n').filter(Boolean)) spawnSync(rt.argv[0]!, [...rt.argv.slice(1), '--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
}
