// Tests run the real bin/hako, so build it first (incremental for the C, ~100 ms for the bundle).
// After all tests: the test containers' shared parent cgroup (/hako-test in every hierarchy). hako,
// like runc, removes only the cgroup folders a container created, so the parent outlives whichever
// container happened to create it. rmdir only succeeds on an empty folder: a real leak still shows.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

function removeTestParentCgroups(): void {
  if (!existsSync(CGROUP_ROOT)) return;
  for (const h of readdirSync(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, h, 'hako-test');
    if (!existsSync(dir)) continue;
    try {
      rmdirSync(dir);
    } catch (err) {
      console.error(`test teardown: ${dir} is not empty (${(err as Error).message}): a test leaked a cgroup`);
    }
  }
}

export default function setup(): () => void {
  execFileSync(process.execPath, [join(import.meta.dirname, '../../scripts/build.mjs')], { stdio: 'inherit' });
  return removeTestParentCgroups;
}
