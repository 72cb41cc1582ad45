// Start-up cost of hako against an empty node start (the floor), side by side, as ratios.
//   npm run bench:startup -- [--runs N]
// Target: `hako state <missing-id>` within 1.3x of an empty node start.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleave, table, timeOnce, type BenchCase } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hako = join(root, 'bin/hako');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;
const stateRoot = mkdtempSync(join(tmpdir(), 'hako-bench-startup-'));

const cases: BenchCase[] = [
  { name: 'node -e 0 (empty node)', run: () => timeOnce([process.execPath, '-e', '0']).ms },
  { name: 'hako --version', run: () => timeOnce([process.execPath, hako, '--version']).ms },
  { name: 'hako state <missing-id>', run: () => timeOnce([process.execPath, hako, '--root', stateRoot, 'state', 'missing']).ms },
  {
    name: 'hako --log F --log-format json state <missing-id>',
    run: () => timeOnce([process.execPath, hako, '--root', stateRoot, '--log', join(stateRoot, 'log.json'), '--log-format', 'json', 'state', 'missing']).ms,
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
