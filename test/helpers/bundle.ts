// Test bundles: the default spec over a busybox rootfs, in a temp folder, with the container's
// cgroup under /hako-test so a leak is easy to see and clean.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../../src/runtime/busybox.ts';
import { defaultSpec } from '../../src/spec/default-spec.ts';
import type { Spec } from '../../src/spec/types.ts';

export interface TestBundle {
  dir: string;
  spec: Spec;
  /** Rewrites config.json from `spec`. */
  save(): void;
  remove(): void;
}

export function makeBundle(id: string, edit: (spec: Spec) => void = () => {}): TestBundle {
  const dir = mkdtempSync(join(tmpdir(), 'hako-test-bundle-'));
  makeBusyboxRootfs(join(dir, 'rootfs'));
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = ['true'];
  spec.root!.readonly = false;
  spec.linux!.cgroupsPath = `/hako-test/${id}`;
  edit(spec);
  const bundle: TestBundle = {
    dir,
    spec,
    save: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(bundle.spec, null, 2)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  bundle.save();
  return bundle;
}
