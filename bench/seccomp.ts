// The cost of linux.seccomp on create, with and without hako's cache of built filters, side by side:
//   npm run bench:seccomp -- [--runs N]
// `hako create --dry-run` of one bundle with podman's default profile (/usr/share/containers/seccomp.json,
// turned into what podman writes into config.json), with an empty --root each time (no cache: libseccomp
// loaded and the filter built) and with a --root whose cache holds it; the same bundle without seccomp
// is the baseline. Each run is a fresh node process, as an engine calls hako.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleave, table, timeOnce, type BenchCase } from './lib.ts';
import { makeBundle } from '../test/helpers/bundle.ts';
import { ociProfile, PODMAN_PROFILE } from '../test/helpers/seccomp-profile.ts';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 30;
const hako = join(import.meta.dirname, '../bin/hako');
const withProfile = makeBundle('bench-seccomp', (s) => (s.linux!.seccomp = ociProfile(PODMAN_PROFILE, s.process!.capabilities!.bounding!)));
const without = makeBundle('bench-seccomp-none');
const warmRoot = mkdtempSync(join(tmpdir(), 'hako-bench-seccomp-'));
const dryRun = (bundle: string, root: string) => timeOnce([hako, '--root', root, 'create', '--dry-run', '-b', bundle, 'c']);

const cases: BenchCase[] = [
  { name: 'create --dry-run, no seccomp', run: () => dryRun(without.dir, warmRoot).ms },
  {
    name: "podman's profile, no cache (libseccomp loaded, filter built)",
    run: () => {
      const root = mkdtempSync(join(tmpdir(), 'hako-bench-seccomp-cold-'));
      try {
        return dryRun(withProfile.dir, root).ms;
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  },
  { name: "podman's profile, cached", run: () => dryRun(withProfile.dir, warmRoot).ms },
];

try {
  const samples = interleave(cases, runs);
  console.log(`seccomp on create, ${runs} interleaved runs each, NODE_EXTRA_CA_CERTS unset, ${new Date().toISOString()}`);
  console.log(table(samples, 'create --dry-run, no seccomp'));
} finally {
  for (const b of [withProfile, without]) b.remove();
  rmSync(warmRoot, { recursive: true, force: true });
}
