// Start-up cost of hako against an empty node start (the floor), side by side, as ratios.
//   npm run bench:startup -- [--runs N]
// Target (issue 12): `hako state <missing-id>` within 1.2x of an empty node start. hako is bin/hako
// (the C front) without a daemon: HAKO_NO_DAEMON=1, the cold path, where the front execs node.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, interleave, table, timeOnce, type BenchCase } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hako = join(root, 'bin/hako');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;
const stateRoot = mkdtempSync(join(tmpdir(), 'hako-bench-startup-'));

const cold = { env: { ...benchEnv(), HAKO_NO_DAEMON: '1' } };
const cases: BenchCase[] = [
  { name: 'node -e 0 (empty node)', run: () => timeOnce([process.execPath, '-e', '0']).ms },
  { name: 'hako --version', run: () => timeOnce([hako, '--version'], cold).ms },
  { name: 'hako state <missing-id>', run: () => timeOnce([hako, '--root', stateRoot, 'state', 'missing'], cold).ms },
  { name: 'node bin/hako.cjs state <missing-id> (no front)', run: () => timeOnce([process.execPath, `${hako}.cjs`, '--root', stateRoot, 'state', 'missing']).ms },
  {
    name: 'hako --log F --log-format json state <missing-id>',
    run: () => timeOnce([hako, '--root', stateRoot, '--log', join(stateRoot, 'log.json'), '--log-format', 'json', 'state', 'missing'], cold).ms,
  },
];
const runc = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));

if (runc) {
  cases.push({ name: 'runc --version', run: () => timeOnce([runc, '--version']).ms });
  cases.push({ name: 'runc state <missing-id>', run: () => timeOnce([runc, '--root', stateRoot, 'state', 'missing']).ms });
}

try {
  const samples = interleave(cases, runs);
  console.log(`start-up, ${runs} interleaved runs each, NODE_EXTRA_CA_CERTS unset, ${new Date().toISOString()}`);
  console.log(table(samples, 'node -e 0 (empty node)'));
} finally {
  rmSync(stateRoot, { recursive: true, force: true });
}
