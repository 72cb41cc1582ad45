// The start race (issue 10): many short `run`s (or create + start) of a container whose process
// exits at once (`true`). `start` must succeed whenever the init got the go-ahead, even when the
// init wrote its fifo byte, exec'd and exited before the runtime looked at it again.
//   npm run bench:start-race -- [--runtime PATH] [--runs 3000] [--mode run|create-start]
// Not a timing benchmark: it counts failures, prints them by message, and exits 1 if there was any.
// Containers live under --root /run/hako-test-race-<pid> and cgroups /hako-test-race-<pid>/<id>;
// everything is removed at the end, also when interrupted.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchEnv, trueBundle } from './lib.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: join(repo, 'bin/hako') },
    runs: { type: 'string', default: '3000' },
    mode: { type: 'string', default: 'run' },
  },
});
const runtime = values.runtime!;
const runs = Math.max(1, Number(values.runs) || 3000);
const mode = values.mode === 'create-start' ? 'create-start' : 'run';

const tag = `hako-test-race-${process.pid}`;
const root = join('/run', tag);
const work = mkdtempSync(join(tmpdir(), `${tag}-`));
const { bundle, spec } = trueBundle(work, (s) => (s.linux!.cgroupsPath = `/${tag}/c`));
const errFile = join(work, 'stderr');

function call(args: string[]): { code: number | null; stderr: string } {
  // The runtime's stdio becomes the container's: stderr goes to a file, never a pipe it could hold open.
  const errFd = openSync(errFile, 'w');
  try {
    const r = spawnSync(runtime, ['--root', root, ...args], { env: benchEnv(), stdio: ['ignore', 'ignore', errFd] });
    return { code: r.status, stderr: readFileSync(errFile, 'utf8').trim() };
  } finally {
    closeSync(errFd);
  }
}

function cleanUp(): void {
  const left = existsSync(root) ? spawnSync(runtime, ['--root', root, 'list', '-q'], { encoding: 'utf8' }).stdout : '';
  for (const id of left.split('\n').filter(Boolean)) call(['delete', '--force', id]);
  rmSync(root, { recursive: true, force: true });
  for (const mount of readdirSync('/sys/fs/cgroup').map((d) => join('/sys/fs/cgroup', d))) {
    const dir = join(mount, tag);
    if (!existsSync(dir)) continue;
    try {
      for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) rmdirSync(join(dir, sub.name));
      rmdirSync(dir);
    } catch (err) {
      console.error(`start-race: could not remove ${dir}: ${(err as Error).message}`);
    }
  }
  rmSync(work, { recursive: true, force: true });
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanUp();
    process.exit(130);
  });
}

const failures = new Map<string, number>();
const t0 = Date.now();
let failed = 0;
try {
  for (let i = 0; i < runs; i++) {
    const id = `race-${i}`;
    // One cgroup per container, below the run's own parent.
    spec.linux!.cgroupsPath = `/${tag}/${id}`;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    let r: { code: number | null; stderr: string };
    if (mode === 'run') {
      r = call(['run', '--bundle', bundle, id]);
    } else {
      r = call(['create', '--bundle', bundle, id]);
      if (r.code === 0) r = call(['start', id]);
    }
    if (r.code !== 0) {
      failed++;
      const msg = r.stderr.replace(/race-\d+/g, 'ID').replace(/\d{3,}/g, 'N').split('\n').pop() || `exit ${r.code}`;
      failures.set(msg, (failures.get(msg) ?? 0) + 1);
    }
    // run deletes its container; create + start leaves it stopped (or failed): delete it either way.
    if (mode === 'create-start' || r.code !== 0) call(['delete', '--force', id]);
    if ((i + 1) % 250 === 0) process.stderr.write(`start-race: ${i + 1}/${runs} (${Math.round((Date.now() - t0) / 1000)} s), ${failed} failed\n`);
  }
} finally {
  cleanUp();
}
console.log(`start-race: ${runtime} ${mode} of \`true\`: ${runs} runs in ${Math.round((Date.now() - t0) / 1000)} s, ${failed} failed`);
for (const [msg, n] of failures) console.log(`  ${n}x ${msg}`);
process.exit(failed > 0 ? 1 : 0);
