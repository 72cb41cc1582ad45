// docs/ENGINES.md shows the configuration the engine tests write (test/helpers/): each snippet on
// the page must be exactly what the helper produces for hako at /opt/hako/bin/hako.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { criRuntimeToml } from '../helpers/containerd.ts';
import { dockerDaemonJson } from '../helpers/docker.ts';
import { podmanContainersConf, runtimeWrapper } from '../helpers/podman.ts';

const HAKO = '/opt/hako/bin/hako';
const page = readFileSync(join(import.meta.dirname, '../../docs/ENGINES.md'), 'utf8');
const block = (lang: string, text: string) => `\`\`\`${lang}\n${text.trimEnd()}\n\`\`\``;

describe('docs/ENGINES.md', () => {
  it('containerd CRI: the runtime handler of the CRI test', () => {
    expect(page).toContain(block('toml', criRuntimeToml('hako', HAKO)));
  });
  it('podman: the containers.conf and the --root wrapper of the podman test', () => {
    expect(page).toContain(block('toml', podmanContainersConf({ hako: HAKO })));
    expect(page).toContain(block('sh', runtimeWrapper(HAKO, '/run/hako-podman')));
  });
  it('docker: the daemon.json of the docker test', () => {
    expect(page).toContain(block('json', dockerDaemonJson({ hako: HAKO, runc: '/usr/sbin/runc' })));
  });
});
