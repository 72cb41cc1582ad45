// hako's warm path (`hako daemon`, issue 12) beside its cold path, runc and crun, in one run.
//   npm run bench:warm -- [--runs N] [--rss-lifecycles N] [--daemon-node-options '--max-semi-space-size=1']
//   add --run-on-tmpfs to put every --root on a tmpfs, as on a systemd host
// As bench/lifecycle.ts, the whole benchmark re-executes itself in a private mount namespace with
// /sys/fs/cgroup/unified detached (crun 1.8.1 refuses hybrid hosts), and the daemon is started in
// there too: it serves only callers that see what it sees.
//
// Measured, interleaved after a warm-up: `run` of `true` (foreground, deleted after),
// create + start + delete of `true`, and `state` of a created container. Then the daemon's RSS
// after 100 and after --rss-lifecycles (default 1000) create + start + delete lifecycles.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, callQuietly, elapsedMs, interleave, table, trueBundle, type BenchCase } from './lib.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('--runs', 20);
const rssLifecycles = arg('--rss-lifecycles', 1000);
const nodeOptionsAt = process.argv.indexOf('--daemon-node-options');
// as README.md starts it: a small young generation keeps the daemon's RSS down
const daemonNodeOptions = nodeOptionsAt > 0 ? process.argv[nodeOptionsAt + 1]! : '--max-semi-space-size=1';

// --run-on-tmpfs: every runtime's --root on a tmpfs, as /run is on a systemd host (on this VM /run is
// the root's ext4, where each state write and rename costs ~10x more)
const runOnTmpfs = process.argv.includes('--run-on-tmpfs');

if (!process.argv.includes('--inner')) {
  const setup = `umount -l /sys/fs/cgroup/unified 2>/dev/null; ${runOnTmpfs ? 'mount -t tmpfs -o mode=755 hako-bench /run || exit 1; ' : ''}exec "$0" "$@"`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', setup, process.execPath, ...process.execArgv, ...process.argv.slice(1), '--inner'], {
    stdio: 'inherit',
    env: benchEnv(),
  });
  process.exit(r.status ?? 1);
}

interface Runtime {
  name: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  root: string;
}
const HAKO = join(repo, 'bin/hako');
const findBinary = (paths: string[]) => paths.find((p) => existsSync(p));
const runtimes: Runtime[] = [
  { name: 'hako cold', bin: HAKO, env: { ...benchEnv(), HAKO_NO_DAEMON: '1' }, root: `/run/hako-bench-warm-cold-${process.pid}` },
  { name: 'hako warm', bin: HAKO, env: benchEnv(), root: `/run/hako-bench-warm-warm-${process.pid}` },
];
for (const [name, paths] of [['runc', ['/usr/sbin/runc', '/usr/bin/runc']], ['crun', ['/usr/bin/crun', '/usr/sbin/crun']]] as const) {
  const bin = findBinary([...paths]);
  if (bin) runtimes.push({ name, bin, env: benchEnv(), root: `/run/hako-bench-warm-${name}-${process.pid}` });
}
const warm = runtimes[1]!;

const work = mkdtempSync(join(tmpdir(), 'hako-bench-warm-'));
const { bundle } = trueBundle(work, (spec) => (spec.ociVersion = '1.0.2'));
const errFile = join(work, 'stderr');
const call = (rt: Runtime, args: string[]) => callQuietly(`${rt.name} ${args.join(' ')}`, [rt.bin, '--root', rt.root, ...args], rt.env, errFile);
const elapsed = elapsedMs;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

const daemon = spawn(HAKO, ['--root', warm.root, 'daemon'], { env: { ...benchEnv(), NODE_OPTIONS: daemonNodeOptions }, stdio: ['ignore', 'ignore', 'inherit'] });
let seq = 0;
try {
  for (let i = 0; i < 200 && !existsSync(join(warm.root, 'hako.sock')); i++) spawnSync('sleep', ['0.025']);
  if (!existsSync(join(warm.root, 'hako.sock'))) throw new Error('hako daemon: no socket');
  const cases: BenchCase[] = [];
  for (const rt of runtimes) {
    cases.push({ name: `${rt.name} run`, run: () => elapsed(() => call(rt, ['run', '--bundle', bundle, `hako-bench-${seq++}`])) });
    cases.push({
      name: `${rt.name} create+start+delete`,
      run: () => {
        const id = `hako-bench-${seq++}`;
        return elapsed(() => {
          call(rt, ['create', '--bundle', bundle, id]);
          call(rt, ['start', id]);
          call(rt, ['delete', '--force', id]);
        });
      },
    });
    const stateId = `hako-bench-state-${process.pid}`;
    call(rt, ['create', '--bundle', bundle, stateId]);
    cases.push({ name: `${rt.name} state`, run: () => elapsed(() => call(rt, ['state', stateId])) });
  }
  const samples = interleave(cases, runs);
  console.log(`warm path, ${runs} interleaved runs each, private mount ns without cgroup2${runOnTmpfs ? ', --root on a tmpfs' : ''}, NODE_EXTRA_CA_CERTS unset, ${new Date().toISOString()}`);
  for (const [kind, base] of [['run', 'crun'], ['create+start+delete', 'crun'], ['state', 'runc']] as const) {
    const part = Object.fromEntries(Object.entries(samples).filter(([k]) => k.endsWith(` ${kind}`)));
    console.log(`\n${table(part, `${base} ${kind}`)}`);
  }

  // the daemon's memory over many lifecycles
  const marks = [0, 100, rssLifecycles].filter((v, i, a) => a.indexOf(v) === i).sort((a, b) => a - b);
  const rss: [number, number][] = [];
  for (let done = 0; ; done++) {
    if (marks.includes(done)) rss.push([done, rssMiB(daemon.pid!)]);
    if (done >= marks[marks.length - 1]!) break;
    const id = `hako-bench-rss-${done}`;
    call(warm, ['create', '--bundle', bundle, id]);
    call(warm, ['start', id]);
    call(warm, ['delete', '--force', id]);
  }
  console.log(`\n| daemon RSS (NODE_OPTIONS=${daemonNodeOptions || '(none)'}) after N lifecycles (create + start + delete) | MiB |\n|---|---|`);
  for (const [n, mib] of rss) console.log(`| ${n} | ${mib.toFixed(1)} |`);
} finally {
  daemon.kill('SIGTERM');
  for (const rt of runtimes) {
    const left = existsSync(rt.root) ? spawnSync(rt.bin, ['--root', rt.root, 'list', '-q'], { encoding: 'utf8', env: { ...benchEnv(), HAKO_NO_DAEMON: '1' } }).stdout : '';
    for (const id of left.split('\n').filter(Boolean)) spawnSync(rt.bin, ['--root', rt.root, 'delete', '--force', id], { stdio: 'ignore', env: { ...benchEnv(), HAKO_NO_DAEMON: '1' } });
    rmSync(rt.root, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
}
