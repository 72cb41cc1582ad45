// `hako demo`: what a new user runs first. Builds a bundle from the default spec (`hako spec`)
// and a busybox root filesystem in a temporary folder, runs it in the foreground, and removes it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from './context.ts';
import { defaultSpec } from '../spec/default-spec.ts';
import { makeBusyboxRootfs } from './busybox.ts';
import { runContainer } from './run.ts';

const SCRIPT = [
  'echo "hello from a hako container"',
  'echo "hostname: $(hostname)"',
  'echo "pid in its own pid namespace: $$"',
  'echo "user: $(id)"',
  'echo "mounts:"; cut -d" " -f2,3 /proc/mounts | sed "s/^/  /"',
].join('; ');

export async function runDemo(ctx: Context): Promise<number> {
  const bundle = mkdtempSync(join(tmpdir(), 'hako-demo-'));
  try {
    makeBusyboxRootfs(join(bundle, 'rootfs'));
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.process!.args = ['sh', '-c', SCRIPT];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    const id = `hako-demo-${process.pid}`;
    return await runContainer(ctx, id, {
      bundle,
      noPivot: false,
      noNewKeyring: false,
      preserveFds: 0,
      dryRun: false,
      detach: false,
      keep: false,
      noSubreaper: false,
    });
  } finally {
    rmSync(bundle, { recursive: true, force: true });
  }
}
